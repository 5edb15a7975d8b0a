/**
 * layers.ts's kernels for tfjs' pure-JS cpu backend: layers.c's loops in TypeScript. Deno only (parity
 * tests, `--backend cpu`); the Worker never imports it. Layouts: see layers.c.
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { register } from "./conv_pool.ts";
import { ADAM, type AdamConstants, IM2COL, MAX_POOL, MAX_POOL_GRAD } from "./layers.ts";

/** x [N, H, W, C] → cols [9·C + 1, N·H·W], as layers.c's im2col_3x3. */
export function im2col3x3Cpu(x: Float32Array, [n, h, w, c]: number[]): Float32Array {
  const m = n! * h! * w!;
  const cols = new Float32Array((9 * c! + 1) * m);
  cols.fill(1, 9 * c! * m);
  for (let k = 0; k < 9; k++) {
    const ky = Math.floor(k / 3), kx = k % 3;
    for (let ch = 0; ch < c!; ch++) {
      const row = (k * c! + ch) * m;
      for (let img = 0; img < n!; img++) {
        for (let y = 0; y < h!; y++) {
          const sy = y + ky - 1;
          if (sy < 0 || sy >= h!) continue;
          for (let xx = 0; xx < w!; xx++) {
            const sx = xx + kx - 1;
            if (sx < 0 || sx >= w!) continue;
            cols[row + (img * h! + y) * w! + xx] = x[((img * h! + sy) * w! + sx) * c! + ch]!;
          }
        }
      }
    }
  }
  return cols;
}

/** One Adam step, as layers.c's adam_step: every operation rounded to float32 in its order. */
export function adamStepCpu(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  [beta1, oneMinusBeta1, beta2, oneMinusBeta2, c2, eps, step]: AdamConstants,
): { p2: Float32Array; m2: Float32Array; v2: Float32Array } {
  const f = Math.fround;
  const p2 = new Float32Array(p.length), m2 = new Float32Array(p.length);
  const v2 = new Float32Array(p.length);
  for (let i = 0; i < p.length; i++) {
    m2[i] = f(f(m[i]! * beta1) + f(g[i]! * oneMinusBeta1));
    v2[i] = f(f(v[i]! * beta2) + f(f(g[i]! * g[i]!) * oneMinusBeta2));
    const denom = f(f(Math.sqrt(f(v2[i]! / c2))) + eps);
    p2[i] = f(p[i]! - f(f(m2[i]! / denom) * step));
  }
  return { p2, m2, v2 };
}

/** 2×2 max-pooling with the first maximum's index, as layers.c's max_pool_2x2_forward. */
export function maxPool2x2Cpu(
  x: Float32Array,
  [n, h, w, c]: number[],
): { out: Float32Array; argmax: Int32Array } {
  const ph = h! / 2, pw = w! / 2;
  const out = new Float32Array(n! * ph * pw * c!), argmax = new Int32Array(out.length);
  for (let img = 0; img < n!; img++) {
    for (let y = 0; y < ph; y++) {
      for (let xx = 0; xx < pw; xx++) {
        const at = ((img * h! + 2 * y) * w! + 2 * xx) * c!;
        const o = ((img * ph + y) * pw + xx) * c!;
        const window = [at, at + c!, at + w! * c!, at + w! * c! + c!];
        for (let ch = 0; ch < c!; ch++) {
          let best = window[0]! + ch;
          for (let q = 1; q < 4; q++) if (x[window[q]! + ch]! > x[best]!) best = window[q]! + ch;
          out[o + ch] = x[best]!;
          argmax[o + ch] = best;
        }
      }
    }
  }
  return { out, argmax };
}

/** The scatter of max_pool_2x2_backward. */
export function maxPool2x2GradCpu(
  dout: Float32Array,
  out: Float32Array,
  argmax: Int32Array,
  inSize: number,
): Float32Array {
  const din = new Float32Array(inSize);
  for (let i = 0; i < dout.length; i++) {
    if (out[i]! > 0) din[argmax[i]!] = din[argmax[i]!]! + dout[i]!;
  }
  return din;
}

/** Registers the kernels for tfjs' cpu backend; safe to call again. */
export function registerCpuLayers(): void {
  const values = <T extends Float32Array | Int32Array>(backend: unknown, t: tf.TensorInfo) =>
    (backend as MathBackendCPU).data.get(t.dataId).values as T;
  register(ADAM, "cpu", ({ inputs, attrs, backend }) => {
    const { p, g, m, v } = inputs;
    const r = adamStepCpu(
      values<Float32Array>(backend, p!),
      values<Float32Array>(backend, g!),
      values<Float32Array>(backend, m!),
      values<Float32Array>(backend, v!),
      attrs!.constants as AdamConstants,
    );
    const cpu = backend as MathBackendCPU;
    return [r.p2, r.m2, r.v2].map((data) => cpu.makeTensorInfo(p!.shape, "float32", data));
  });
  register(IM2COL, "cpu", ({ inputs, backend }) => {
    const x = inputs.x!;
    const [n, h, w, c] = x.shape;
    const cols = im2col3x3Cpu(values<Float32Array>(backend, x), x.shape);
    return (backend as MathBackendCPU).makeTensorInfo([9 * c! + 1, n! * h! * w!], "float32", cols);
  });
  register(MAX_POOL, "cpu", ({ inputs, attrs, backend }) => {
    const x = inputs.x!;
    const [n, h, w, c] = x.shape;
    const shape = [n!, h! / 2, w! / 2, c!];
    const r = maxPool2x2Cpu(values<Float32Array>(backend, x), x.shape);
    const cpu = backend as MathBackendCPU;
    const out = cpu.makeTensorInfo(shape, "float32", r.out);
    return attrs!.withArgmax ? [out, cpu.makeTensorInfo(shape, "int32", r.argmax)] : out;
  });
  register(MAX_POOL_GRAD, "cpu", ({ inputs, attrs, backend }) => {
    const { dout, out, argmax } = inputs;
    const shape = attrs!.inputShape as number[];
    const din = maxPool2x2GradCpu(
      values<Float32Array>(backend, dout!),
      values<Float32Array>(backend, out!),
      values<Int32Array>(backend, argmax!),
      shape.reduce((a, b) => a * b, 1),
    );
    return (backend as MathBackendCPU).makeTensorInfo(shape, "float32", din);
  });
}
