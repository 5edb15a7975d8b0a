/**
 * conv_pool.ts's two kernels for tfjs' pure-JS cpu backend: conv_pool.c's arithmetic in TypeScript,
 * in float32 and in the same order, written as plainly as the arithmetic allows. Deno only (parity
 * tests, `--backend cpu`); the Worker never imports it. Layouts: see conv_pool.ts.
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import {
  C,
  CONV_POOL,
  CONV_POOL_GRAD,
  CONV_SIDE,
  K,
  P,
  POOLED_SIDE,
  register,
  SIDE,
} from "./conv_pool.ts";

const f32 = Math.fround;

/** The forward pass on plain arrays (see the layouts above); `dropout` (and so `argmax`) absent at
 * inference. */
export function convPoolForward(
  images: Float32Array,
  weight: Float32Array,
  bias: Float32Array,
  dropout?: Float32Array,
): { out: Float32Array; argmax: Int32Array } {
  const n = images.length / (SIDE * SIDE);
  const out = new Float32Array(n * C * P), argmax = new Int32Array(dropout ? n * C * P : 0);
  for (let img = 0; img < n; img++) {
    for (let c = 0; c < C; c++) {
      const scale = dropout ? dropout[img * C + c]! : 1;
      for (let p = 0; p < P; p++) {
        const py = Math.floor(p / POOLED_SIDE), px = p % POOLED_SIDE;
        let best = 0, where = 0;
        for (let q = 0; q < 4; q++) {
          const y = 2 * py + (q >> 1), x = 2 * px + (q & 1);
          let s = 0;
          for (let k = 0; k < K; k++) {
            const pixel = images[img * SIDE * SIDE + (y + Math.floor(k / 3)) * SIDE + x + (k % 3)]!;
            const term = f32(weight[c * K + k]! * pixel);
            s = k === 0 ? term : f32(s + term);
          }
          s = f32(s + bias[c]!);
          if (q === 0 || s > best) [best, where] = [s, y * CONV_SIDE + x];
        }
        const i = (img * C + c) * P + p;
        out[i] = f32(Math.max(best, 0) * scale);
        if (dropout) argmax[i] = where;
      }
    }
  }
  return { out, argmax };
}

/** The backward pass on plain arrays: gradients of weight [32·9] and bias [32]. */
export function convPoolBackward(
  images: Float32Array,
  dout: Float32Array,
  out: Float32Array,
  argmax: Int32Array,
  dropout: Float32Array,
): { dweight: Float32Array; dbias: Float32Array } {
  const n = images.length / (SIDE * SIDE);
  const dweight = new Float32Array(C * K), dbias = new Float32Array(C);
  for (let img = 0; img < n; img++) {
    for (let c = 0; c < C; c++) {
      const sums = new Float32Array(K); // one per vector lane in the C
      let sumBias = 0;
      for (let p = 0; p < P; p++) {
        const i = (img * C + c) * P + p;
        // ReLU passes the gradient where the output is positive (a dropped channel's is 0)
        const g = out[i]! > 0 ? f32(dout[i]! * dropout[img * C + c]!) : 0;
        const y = Math.floor(argmax[i]! / CONV_SIDE), x = argmax[i]! % CONV_SIDE;
        for (let k = 0; k < K; k++) {
          const pixel = images[img * SIDE * SIDE + (y + Math.floor(k / 3)) * SIDE + x + (k % 3)]!;
          sums[k] = f32(sums[k]! + f32(g * pixel));
        }
        sumBias = f32(sumBias + g);
      }
      for (let k = 0; k < K; k++) dweight[c * K + k] = f32(dweight[c * K + k]! + sums[k]!);
      dbias[c] = f32(dbias[c]! + sumBias);
    }
  }
  return { dweight, dbias };
}

/** A cpu-backend tensor's values, as the typed array it holds. */
function valuesOf<T extends Float32Array | Int32Array>(
  backend: tf.KernelBackend,
  t: tf.TensorInfo,
) {
  return (backend as MathBackendCPU).data.get(t.dataId).values as T;
}

/** Registers the kernels for tfjs' cpu backend; safe to call again. */
export function registerCpuConvPool(): void {
  register(CONV_POOL, "cpu", ({ inputs, backend }) => {
    const cpu = backend as MathBackendCPU;
    const values = (t: tf.TensorInfo) => valuesOf<Float32Array>(cpu, t);
    const { images, weight, bias, dropout } = inputs;
    const n = images!.shape[0]!;
    const r = convPoolForward(
      values(images!),
      values(weight!),
      values(bias!),
      dropout && values(dropout),
    );
    const out = cpu.makeTensorInfo([n, C * P], "float32", r.out);
    return dropout ? [out, cpu.makeTensorInfo([n, C * P], "int32", r.argmax)] : out;
  });
  register(CONV_POOL_GRAD, "cpu", ({ inputs, backend }) => {
    const cpu = backend as MathBackendCPU;
    const values = (t: tf.TensorInfo) => valuesOf<Float32Array>(cpu, t);
    const { images, dout, out, argmax, dropout } = inputs;
    const r = convPoolBackward(
      values(images!),
      values(dout!),
      values(out!),
      valuesOf<Int32Array>(cpu, argmax!),
      values(dropout!),
    );
    return [
      cpu.makeTensorInfo([C, K], "float32", r.dweight),
      cpu.makeTensorInfo([C], "float32", r.dbias),
    ];
  });
}
