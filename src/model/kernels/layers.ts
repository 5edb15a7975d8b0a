/**
 * General per-layer kernels, NHWC, with every size an argument, registered with tfjs: the patches of a
 * 3×3 "same" convolution (`im2col3x3`, for its weight gradient as one matmul), 2×2 max-pooling that
 * remembers where each maximum came from (`maxPool2x2`, `maxPool2x2Grad`), and Adam's update of one
 * parameter in one pass (`adamUpdate`). Why, and the C: layers.c.
 *
 * On the wasm backend they run layers.c in tfjs' own memory; on the cpu backend (Deno only, for
 * comparison) the TypeScript in layers_cpu.ts, which this file leaves out so that the Worker bundle
 * carries no cpu code. They only move and compare floats, so the two agree bit for bit.
 *
 * Shape letters: N images, H×W pixels, C channels.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { register } from "./conv_pool.ts";

/** The kernels' names, as registered with tfjs for each backend. */
export const IM2COL = "MnistIm2col3x3",
  ADAM = "MnistAdam",
  MAX_POOL = "MnistMaxPool2x2",
  MAX_POOL_GRAD = "MnistMaxPool2x2Grad";

/** layers.c's exports: pointers are byte offsets into the memory it imports (tfjs'). */
export interface LayersExports {
  im2col_3x3(n: number, h: number, w: number, c: number, x: number, cols: number): void;
  adam_step(
    n: number,
    p: number,
    g: number,
    m: number,
    v: number,
    p2: number,
    m2: number,
    v2: number,
    ...constants: AdamConstants
  ): void;
  max_pool_2x2_forward(
    n: number,
    h: number,
    w: number,
    c: number,
    input: number,
    out: number,
    argmax: number,
  ): void;
  max_pool_2x2_backward(
    size: number,
    inSize: number,
    dout: number,
    out: number,
    argmax: number,
    din: number,
  ): void;
}

/**
 * x [N, H, W, C] → cols [9·C + 1, N·H·W]: row (ky·3 + kx)·C + c holds that tap of every position,
 * and the last row ones.
 */
export function im2col3x3(x: tf.Tensor4D): tf.Tensor2D {
  expectFloat(x, "x");
  return tf.engine().runKernel(IM2COL, { x }) as tf.Tensor2D;
}

/**
 * Adam's constants for one step, each rounded to float32 as tfjs rounds a scalar: β1, 1 − β1, β2,
 * 1 − β2, 1 − β2^t, ε, lr / (1 − β1^t).
 */
export type AdamConstants = [number, number, number, number, number, number, number];

/**
 * One Adam step of a parameter p with gradient g and moments m, v (all one shape) → [p2, m2, v2]:
 * m2 = m·β1 + g·(1 − β1), v2 = v·β2 + g²·(1 − β2), p2 = p − m2 / (√(v2 / (1 − β2^t)) + ε) · step,
 * each operation rounded to float32 in that order — the same bits as those eleven tfjs operations.
 */
export function adamUpdate(
  p: tf.Tensor,
  g: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  constants: AdamConstants,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  for (const [t, name] of [[p, "p"], [g, "g"], [m, "m"], [v, "v"]] as const) {
    expectFloat(t, name);
    if (t.size !== p.size) throw new RangeError(`adamUpdate needs one size: ${name} is ${t.shape}`);
  }
  return tf.engine().runKernel(ADAM, { p, g, m, v }, {
    constants: constants.map(Math.fround),
  }) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
}

/**
 * 2×2 max-pooling of x [N, H, W, C] (H, W even; C a multiple of 4) → [N, H/2, W/2, C], and with
 * `withArgmax` (training) where each maximum came from, as an index into x.
 */
export function maxPool2x2(
  x: tf.Tensor4D,
  withArgmax = false,
): { out: tf.Tensor4D; argmax?: tf.Tensor4D } {
  const [, h, w, c] = x.shape;
  expectFloat(x, "x");
  if (h % 2 || w % 2 || c % 4) {
    throw new RangeError(`maxPool2x2 needs an even height and width and C % 4 = 0: got ${x.shape}`);
  }
  const outputs = tf.engine().runKernel(MAX_POOL, { x }, { withArgmax }) as
    | tf.Tensor4D
    | tf.Tensor4D[];
  if (!Array.isArray(outputs)) return { out: outputs };
  return { out: outputs[0]!, argmax: outputs[1]! };
}

/**
 * The gradient of a ReLU's output x [N, H, W, C] that was max-pooled into `out` (with `argmax`),
 * given dout = ∂loss/∂out: dout goes where each positive maximum came from, 0 elsewhere.
 */
export function maxPool2x2Grad(
  dout: tf.Tensor4D,
  out: tf.Tensor4D,
  argmax: tf.Tensor4D,
  inputShape: [number, number, number, number],
): tf.Tensor4D {
  expectFloat(dout, "dout");
  if (dout.size !== out.size || argmax.size !== out.size || argmax.dtype !== "int32") {
    throw new RangeError("maxPool2x2Grad needs dout, out and an int32 argmax of one size");
  }
  return tf.engine().runKernel(MAX_POOL_GRAD, { dout, out, argmax }, { inputShape }) as tf.Tensor4D;
}

function expectFloat(t: tf.Tensor, name: string): void {
  if (t.dtype !== "float32") throw new TypeError(`${name} must be float32: got ${t.dtype}`);
}

/** Registers the kernels on the wasm backend, instantiating layers.wasm on tfjs' memory. */
export function registerWasmLayers(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  backend: BackendWasm,
): void {
  const k = new WebAssembly.Instance(module, { env: { memory } })
    .exports as unknown as LayersExports;
  const at = (t: tf.TensorInfo | undefined) => (t ? backend.getMemoryOffset(t.dataId) : 0);
  register(IM2COL, "wasm", ({ inputs }) => {
    const x = inputs.x!;
    const [n, h, w, c] = x.shape as number[];
    const cols = backend.makeOutput([9 * c! + 1, n! * h! * w!], "float32");
    k.im2col_3x3(n!, h!, w!, c!, at(x), at(cols));
    return cols;
  });
  register(ADAM, "wasm", ({ inputs, attrs }) => {
    const { p, g, m, v } = inputs;
    const out = [p!, m!, v!].map((t) => backend.makeOutput(t.shape, "float32"));
    const [p2, m2, v2] = out as [tf.TensorInfo, tf.TensorInfo, tf.TensorInfo];
    const constants = attrs!.constants as AdamConstants;
    k.adam_step(
      tf.util.sizeFromShape(p!.shape),
      at(p),
      at(g),
      at(m),
      at(v),
      at(p2),
      at(m2),
      at(v2),
      ...constants,
    );
    return out;
  });
  register(MAX_POOL, "wasm", ({ inputs, attrs }) => {
    const x = inputs.x!;
    const [n, h, w, c] = x.shape as number[];
    const shape = [n!, h! / 2, w! / 2, c!];
    const out = backend.makeOutput(shape, "float32");
    const argmax = attrs!.withArgmax ? backend.makeOutput(shape, "int32") : undefined;
    k.max_pool_2x2_forward(n!, h!, w!, c!, at(x), at(out), at(argmax));
    return argmax ? [out, argmax] : out;
  });
  register(MAX_POOL_GRAD, "wasm", ({ inputs, attrs }) => {
    const { dout, out, argmax } = inputs;
    const shape = attrs!.inputShape as number[];
    const din = backend.makeOutput(shape, "float32");
    const size = tf.util.sizeFromShape(dout!.shape);
    k.max_pool_2x2_backward(
      size,
      tf.util.sizeFromShape(shape),
      at(dout),
      at(out),
      at(argmax),
      at(din),
    );
    return din;
  });
}
