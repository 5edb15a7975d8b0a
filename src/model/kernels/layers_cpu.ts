/**
 * layers.ts's kernels for tfjs' pure-JS cpu backend: layers.c's loops in TypeScript. Deno only (parity
 * tests, `--backend cpu`); the Worker never imports it. Layouts: see layers.c.
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { register } from "./conv_pool.ts";
import { ADAM, type AdamConstants, CONV, CONV_POOL, FILTER_GRAD, MAX_POOL_GRAD } from "./layers.ts";

/**
 * conv3x3(x) + bias, then a ReLU if `relu` → [N, H, W, F], as layers.c's conv3x3_forward: the taps
 * summed in (ky, kx, c) order, those outside the image left out, then the bias, rounded to float32 as
 * it goes.
 */
export function conv3x3Cpu(
  x: Float32Array,
  filter: Float32Array,
  bias: Float32Array | undefined,
  relu: boolean,
  [n, h, w, c]: number[],
  f: number,
): Float32Array {
  const fr = Math.fround;
  const out = new Float32Array(n! * h! * w! * f);
  const acc = new Float32Array(f);
  for (let p = 0; p < n! * h! * w!; p++) {
    const img = Math.floor(p / (h! * w!)), y = Math.floor(p / w!) % h!, xx = p % w!;
    acc.fill(0);
    for (let ky = 0; ky < 3; ky++) {
      const sy = y + ky - 1;
      if (sy < 0 || sy >= h!) continue;
      for (let kx = 0; kx < 3; kx++) {
        const sx = xx + kx - 1;
        if (sx < 0 || sx >= w!) continue;
        const src = ((img * h! + sy) * w! + sx) * c!;
        for (let ch = 0; ch < c!; ch++) {
          const s = x[src + ch]!, k = ((ky * 3 + kx) * c! + ch) * f;
          for (let j = 0; j < f; j++) acc[j] = fr(acc[j]! + fr(s * filter[k + j]!));
        }
      }
    }
    for (let j = 0; j < f; j++) {
      const v = bias ? fr(acc[j]! + bias[j]!) : acc[j]!;
      out[p * f + j] = relu ? Math.max(v, 0) : v;
    }
  }
  return out;
}

/**
 * A 3×3 "same" convolution's dw [3, 3, C, F] and db [F] from x [N, H, W, C] and dy [N, H, W, F], as
 * layers.c's conv3x3_filter_grad: each sum over the positions in order, rounded to float32 as it goes.
 */
export function conv3x3FilterGradCpu(
  x: Float32Array,
  dy: Float32Array,
  [n, h, w, c]: number[],
  f: number,
): { dw: Float32Array; db: Float32Array } {
  const fr = Math.fround;
  const dw = new Float32Array(9 * c! * f), db = new Float32Array(f);
  for (let img = 0; img < n!; img++) {
    for (let y = 0; y < h!; y++) {
      const dyRow = (img * h! + y) * w! * f;
      for (let ky = 0; ky < 3; ky++) {
        const sy = y + ky - 1;
        if (sy < 0 || sy >= h!) continue;
        const xRow = (img * h! + sy) * w! * c!;
        for (let kx = 0; kx < 3; kx++) {
          const from = kx === 0 ? 1 : 0, to = kx === 2 ? w! - 1 : w!;
          for (let ch = 0; ch < c!; ch++) {
            const a = ((ky * 3 + kx) * c! + ch) * f;
            for (let xx = from; xx < to; xx++) {
              const s = x[xRow + (xx + kx - 1) * c! + ch]!;
              const d = dyRow + xx * f;
              for (let j = 0; j < f; j++) dw[a + j] = fr(dw[a + j]! + fr(s * dy[d + j]!));
            }
          }
        }
      }
      for (let xx = 0; xx < w!; xx++) {
        for (let j = 0; j < f; j++) db[j] = fr(db[j]! + dy[dyRow + xx * f + j]!);
      }
    }
  }
  return { dw, db };
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

/** 2×2 max-pooling with the first maximum's index, as layers.c's pool_row. */
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

/** max_pool_2x2_backward: each input gets its window's gradient if it is where the positive maximum
 * came from, else 0. */
export function maxPool2x2GradCpu(
  dout: Float32Array,
  out: Float32Array,
  argmax: Int32Array,
  [n, h, w, c]: number[],
): Float32Array {
  const din = new Float32Array(n! * h! * w! * c!);
  for (let i = 0; i < dout.length; i++) {
    const img = Math.floor(i / (c! * (h! / 2) * (w! / 2))),
      y = Math.floor(i / (c! * (w! / 2))) % (h! / 2);
    const xx = Math.floor(i / c!) % (w! / 2), ch = i % c!;
    const at = ((img * h! + 2 * y) * w! + 2 * xx) * c! + ch;
    for (const j of [at, at + c!, at + w! * c!, at + w! * c! + c!]) {
      din[j] = out[i]! > 0 && argmax[i] === j ? dout[i]! : 0;
    }
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
  register(CONV, "cpu", ({ inputs, attrs, backend }) => {
    const { x, filter, bias } = inputs;
    const [n, h, w] = x!.shape, f = filter!.shape[3]!;
    const out = conv3x3Cpu(
      values<Float32Array>(backend, x!),
      values<Float32Array>(backend, filter!),
      bias && values<Float32Array>(backend, bias),
      !!attrs!.relu,
      x!.shape,
      f,
    );
    return (backend as MathBackendCPU).makeTensorInfo([n!, h!, w!, f], "float32", out);
  });
  register(CONV_POOL, "cpu", ({ inputs, attrs, backend }) => {
    const { x, filter, bias } = inputs;
    const [n, h, w] = x!.shape, f = filter!.shape[3]!;
    const conv = conv3x3Cpu(
      values<Float32Array>(backend, x!),
      values<Float32Array>(backend, filter!),
      values<Float32Array>(backend, bias!),
      true,
      x!.shape,
      f,
    );
    const r = maxPool2x2Cpu(conv, [n!, h!, w!, f]);
    const cpu = backend as MathBackendCPU, shape = [n!, h! / 2, w! / 2, f];
    const out = cpu.makeTensorInfo(shape, "float32", r.out);
    return attrs!.withArgmax ? [out, cpu.makeTensorInfo(shape, "int32", r.argmax)] : out;
  });
  register(FILTER_GRAD, "cpu", ({ inputs, backend }) => {
    const { x, dy } = inputs;
    const c = x!.shape[3]!, f = dy!.shape[3]!;
    const r = conv3x3FilterGradCpu(
      values<Float32Array>(backend, x!),
      values<Float32Array>(backend, dy!),
      x!.shape,
      f,
    );
    const cpu = backend as MathBackendCPU;
    return [
      cpu.makeTensorInfo([3, 3, c, f], "float32", r.dw),
      cpu.makeTensorInfo([f], "float32", r.db),
    ];
  });
  register(MAX_POOL_GRAD, "cpu", ({ inputs, attrs, backend }) => {
    const { dout, out, argmax } = inputs;
    const shape = attrs!.inputShape as number[];
    const din = maxPool2x2GradCpu(
      values<Float32Array>(backend, dout!),
      values<Float32Array>(backend, out!),
      values<Int32Array>(backend, argmax!),
      shape,
    );
    return (backend as MathBackendCPU).makeTensorInfo(shape, "float32", din);
  });
}
