/**
 * General per-layer kernels, NHWC, with every size an argument, registered with tfjs: a 3×3 "same"
 * convolution (`conv3x3`), a conv block of convolution, ReLU and 2×2 max-pooling that remembers where
 * each maximum came from (`conv3x3ReluPool`), their gradients (`conv3x3FilterGrad`,
 * `maxPool2x2Grad`), and Adam's update of one parameter in one pass (`adamUpdate`). Why, and the C:
 * layers.c.
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
export const CONV = "MnistConv3x3",
  CONV_POOL = "MnistConv3x3ReluPool",
  FILTER_GRAD = "MnistConv3x3FilterGrad",
  ADAM = "MnistAdam",
  MAX_POOL_GRAD = "MnistMaxPool2x2Grad";

/** layers.c's exports: pointers are byte offsets into the memory it imports (tfjs'). */
export interface LayersExports {
  conv3x3_forward(
    n: number,
    h: number,
    w: number,
    c: number,
    f: number,
    x: number,
    filter: number,
    bias: number,
    relu: number,
    out: number,
  ): void;
  conv3x3_relu_pool_forward(
    n: number,
    h: number,
    w: number,
    c: number,
    f: number,
    x: number,
    filter: number,
    bias: number,
    rows: number,
    out: number,
    argmax: number,
  ): void;
  conv3x3_filter_grad(
    n: number,
    h: number,
    w: number,
    c: number,
    f: number,
    x: number,
    dy: number,
    dw: number,
    db: number,
  ): void;
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
  max_pool_2x2_backward(
    n: number,
    h: number,
    w: number,
    c: number,
    dout: number,
    out: number,
    argmax: number,
    din: number,
  ): void;
}

/**
 * A 3×3 "same" convolution, conv3x3(x) + b, then a ReLU if `relu`: x [N, H, W, C], filter [3, 3, C, F]
 * (HWIO, F a multiple of 16), b [F] or none → [N, H, W, F].
 */
export function conv3x3(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  { bias, relu }: { bias?: tf.Tensor; relu: boolean },
): tf.Tensor4D {
  expectConv(x, filter, bias);
  const inputs: tf.NamedTensorMap = bias ? { x, filter, bias } : { x, filter };
  return tf.engine().runKernel(CONV, inputs, { relu }) as tf.Tensor4D;
}

/**
 * maxPool2x2(relu(conv3x3(x) + bias)) in one pass, without the convolution's output: x [N, H, W, C]
 * (H, W even), filter [3, 3, C, F] (F a multiple of 16), bias [F] → [N, H/2, W/2, F], and with
 * `withArgmax` (training) where each maximum came from, as an index into that [N, H, W, F] output.
 */
export function conv3x3ReluPool(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor,
  withArgmax = false,
): { out: tf.Tensor4D; argmax?: tf.Tensor4D } {
  expectConv(x, filter, bias);
  if (x.shape[1] % 2 || x.shape[2] % 2) {
    throw new RangeError(`conv3x3ReluPool needs an even height and width: got ${x.shape}`);
  }
  const outputs = tf.engine().runKernel(CONV_POOL, { x, filter, bias }, { withArgmax }) as
    | tf.Tensor4D
    | tf.Tensor4D[];
  if (!Array.isArray(outputs)) return { out: outputs };
  return { out: outputs[0]!, argmax: outputs[1]! };
}

/**
 * The gradients of a 3×3 "same" convolution's filter and bias, given its input x [N, H, W, C] and the
 * gradient of its output dy [N, H, W, F] (F a multiple of 16): dw [3, 3, C, F] (HWIO), db [F].
 */
export function conv3x3FilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
): { dw: tf.Tensor4D; db: tf.Tensor1D } {
  expectFloat(x, "x");
  expectFloat(dy, "dy");
  const [n, h, w] = x.shape, f = dy.shape[3];
  if (
    x.rank !== 4 || dy.rank !== 4 || dy.shape[0] !== n || dy.shape[1] !== h || dy.shape[2] !== w ||
    f % 16
  ) {
    throw new RangeError(
      `conv3x3FilterGrad needs dy [N, H, W, F] over x's positions, F % 16 = 0: x ${x.shape}, dy ${dy.shape}`,
    );
  }
  const [dw, db] = tf.engine().runKernel(FILTER_GRAD, { x, dy }) as unknown as [
    tf.Tensor4D,
    tf.Tensor1D,
  ];
  return { dw, db };
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
 * The gradient of a conv block's convolution output [N, H, W, C] (`inputShape`), before its ReLU and
 * pooling into `out` (with `argmax`), given dout = ∂loss/∂out: dout goes where each positive maximum
 * came from, 0 elsewhere.
 */
export function maxPool2x2Grad(
  dout: tf.Tensor4D,
  out: tf.Tensor4D,
  argmax: tf.Tensor4D,
  inputShape: [number, number, number, number],
): tf.Tensor4D {
  expectFloat(dout, "dout");
  expectFloat(out, "out");
  if (dout.size !== out.size || argmax.size !== out.size || argmax.dtype !== "int32") {
    throw new RangeError("maxPool2x2Grad needs dout, out and an int32 argmax of one size");
  }
  const [n, h, w, c] = inputShape;
  if (
    inputShape.length !== 4 || h % 2 || w % 2 || c % 4 ||
    !tf.util.arraysEqual(out.shape, [n, h / 2, w / 2, c])
  ) {
    throw new RangeError(`maxPool2x2Grad needs out [N, H/2, W/2, C] of an input ${inputShape}`);
  }
  return tf.engine().runKernel(MAX_POOL_GRAD, { dout, out, argmax }, { inputShape }) as tf.Tensor4D;
}

/** A 3×3 filter [3, 3, C, F] over x's C channels, F a multiple of 16, and F biases if any. */
function expectConv(x: tf.Tensor4D, filter: tf.Tensor4D, bias?: tf.Tensor): void {
  expectFloat(x, "x");
  expectFloat(filter, "filter");
  if (bias) expectFloat(bias, "bias");
  const [kh, kw, c, f] = filter.shape;
  if (kh !== 3 || kw !== 3 || c !== x.shape[3] || f % 16 || (bias && bias.size !== f)) {
    throw new RangeError(
      `a 3×3 convolution needs a [3, 3, C, F] filter over x's C channels, F % 16 = 0 and F biases: x ${x.shape}, filter ${filter.shape}, bias ${bias?.shape}`,
    );
  }
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
  register(CONV, "wasm", ({ inputs, attrs }) => {
    const { x, filter, bias } = inputs;
    const [n, h, w, c] = x!.shape as number[];
    const f = filter!.shape[3]!;
    const out = backend.makeOutput([n!, h!, w!, f], "float32");
    const relu = attrs!.relu ? 1 : 0;
    k.conv3x3_forward(n!, h!, w!, c!, f, at(x), at(filter), at(bias), relu, at(out));
    return out;
  });
  register(CONV_POOL, "wasm", ({ inputs, attrs }) => {
    const { x, filter, bias } = inputs;
    const [n, h, w, c] = x!.shape as number[];
    const f = filter!.shape[3]!;
    const shape = [n!, h! / 2, w! / 2, f];
    const out = backend.makeOutput(shape, "float32");
    const argmax = attrs!.withArgmax ? backend.makeOutput(shape, "int32") : undefined;
    const rows = backend.makeOutput([2, w!, f], "float32"); // scratch
    k.conv3x3_relu_pool_forward(
      n!,
      h!,
      w!,
      c!,
      f,
      at(x),
      at(filter),
      at(bias),
      at(rows),
      at(out),
      at(argmax),
    );
    backend.disposeData(rows.dataId);
    return argmax ? [out, argmax] : out;
  });
  register(FILTER_GRAD, "wasm", ({ inputs }) => {
    const { x, dy } = inputs;
    const [n, h, w, c] = x!.shape as number[];
    const f = dy!.shape[3]!;
    const dw = backend.makeOutput([3, 3, c!, f], "float32");
    const db = backend.makeOutput([f], "float32");
    k.conv3x3_filter_grad(n!, h!, w!, c!, f, at(x), at(dy), at(dw), at(db));
    return [dw, db];
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
  register(MAX_POOL_GRAD, "wasm", ({ inputs, attrs }) => {
    const { dout, out, argmax } = inputs;
    const shape = attrs!.inputShape as number[];
    const din = backend.makeOutput(shape, "float32");
    const [n, h, w, c] = shape as [number, number, number, number];
    k.max_pool_2x2_backward(
      n,
      h,
      w,
      c,
      at(dout),
      at(out),
      at(argmax),
      at(din),
    );
    return din;
  });
}
