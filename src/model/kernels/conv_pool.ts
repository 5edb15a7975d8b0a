/**
 * The cnn's first block, fused into two tfjs kernels: Conv2d(1, 32, 3) → ReLU → max_pool2d(2) →
 * Dropout2d forward (`convPool`), and its weight and bias gradients (`convPoolGrad`).
 *
 * On the wasm backend they run conv_pool.c, our WebAssembly SIMD build, in tfjs' own memory; on
 * the cpu backend (Deno only, for comparison) the TypeScript in conv_pool_cpu.ts, which this file
 * leaves out so that the Worker bundle carries no cpu code. The two agree bit for bit, and
 * tests/kernels_test.ts holds them to it. Why a kernel of our own: see "Performance" in the README.
 *
 * Layouts: images [N, 784] (normalised pixels of 28×28 images); weight [32, 9] (PyTorch's
 * [32, 1, 3, 3]); bias [32]; dropout [N, 32] (0 or 1/(1−p)); out [N, 32·169] in PyTorch's
 * channel-first flatten order; argmax int32 [N, 32·169]: the conv output (y·26 + x) each pooled
 * value came from, the first maximum of conv + bias in its window in row-major order — where
 * PyTorch's max_pool2d routes the gradient whenever it is not zero (ReLU open).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

/** Image side, conv output side, pooled side, pooled values per channel, channels, taps per filter. */
export const SIDE = 28,
  CONV_SIDE = 26,
  POOLED_SIDE = 13,
  P = POOLED_SIDE * POOLED_SIDE,
  C = 32,
  K = 9;

/** The two kernels' names, as registered with tfjs for each backend. */
export const CONV_POOL = "MnistConvPool", CONV_POOL_GRAD = "MnistConvPoolGrad";

/** conv_pool.c's exports: pointers are byte offsets into the memory it imports (tfjs'). */
export interface ConvPoolExports {
  /** Bytes of scratch memory either pass needs (one image's patches). */
  conv_pool_scratch_bytes(): number;
  conv_pool_forward(
    n: number,
    images: number,
    weight: number,
    bias: number,
    dropout: number,
    out: number,
    argmax: number,
    scratch: number,
  ): void;
  conv_pool_backward(
    n: number,
    images: number,
    dout: number,
    out: number,
    argmax: number,
    dropout: number,
    dweight: number,
    dbias: number,
    scratch: number,
  ): void;
}

export interface ConvPoolResult {
  /** dropout · max-pool(relu(conv(images) + bias)), [N, 32·169] */
  out: tf.Tensor2D;
  /** Where each pooled value came from; only for training (when given a dropout mask). */
  argmax?: tf.Tensor2D;
}

/** The block's forward pass; with `dropout` (training) it also returns `argmax` for the backward. */
export function convPool(
  images: tf.Tensor2D,
  weight: tf.Tensor,
  bias: tf.Tensor,
  dropout?: tf.Tensor2D,
): ConvPoolResult {
  const n = images.shape[0];
  expectShape(images, [n, SIDE * SIDE], "float32", "images");
  expectShape(weight, [C, K], "float32", "weight");
  expectShape(bias, [C], "float32", "bias");
  const inputs: tf.NamedTensorMap = { images, weight, bias };
  if (dropout) inputs.dropout = expectShape(dropout, [n, C], "float32", "dropout");
  const outputs = tf.engine().runKernel(CONV_POOL, inputs) as tf.Tensor2D | tf.Tensor2D[];
  if (!Array.isArray(outputs)) return { out: outputs };
  return { out: outputs[0]!, argmax: outputs[1]! };
}

/** Gradients of the block's weight [32, 9] and bias [32], given ∂loss/∂out and the forward's results. */
export function convPoolGrad(
  images: tf.Tensor2D,
  dout: tf.Tensor2D,
  out: tf.Tensor2D,
  argmax: tf.Tensor2D,
  dropout: tf.Tensor2D,
): { dweight: tf.Tensor2D; dbias: tf.Tensor1D } {
  const n = images.shape[0];
  expectShape(images, [n, SIDE * SIDE], "float32", "images");
  for (const [t, name] of [[dout, "dout"], [out, "out"]] as const) {
    expectShape(t, [n, C * P], "float32", name);
  }
  expectShape(argmax, [n, C * P], "int32", "argmax");
  expectShape(dropout, [n, C], "float32", "dropout");
  const [dweight, dbias] = tf.engine().runKernel(
    CONV_POOL_GRAD,
    { images, dout, out, argmax, dropout },
  ) as [tf.Tensor2D, tf.Tensor1D];
  return { dweight, dbias };
}

/** The kernels read raw memory: a tensor of another shape or type must never reach them. */
function expectShape<T extends tf.Tensor>(t: T, shape: number[], dtype: string, name: string): T {
  if (
    t.dtype !== dtype || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])
  ) {
    throw new TypeError(
      `convPool: ${name} must be ${dtype} [${shape}], got ${t.dtype} [${t.shape}]`,
    );
  }
  return t;
}

/**
 * Registers the wasm kernels: `module` is conv_pool.wasm, instantiated on `memory`, the memory of
 * the tfjs-backend-wasm instance that `backend` wraps. Call once per wasm backend.
 */
export function registerWasmConvPool(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  backend: BackendWasm,
): void {
  const c = new WebAssembly.Instance(module, { env: { memory } })
    .exports as unknown as ConvPoolExports;
  // The Emscripten glue exports malloc; tfjs' typings leave it out. Held for the backend's lifetime.
  const malloc = (backend.wasm as unknown as { _malloc(bytes: number): number })._malloc;
  const scratch = malloc(c.conv_pool_scratch_bytes());
  const at = (t: tf.TensorInfo | undefined) => (t ? backend.getMemoryOffset(t.dataId) : 0);
  register(CONV_POOL, "wasm", ({ inputs }) => {
    const { images, weight, bias, dropout } = inputs;
    const n = images!.shape[0]!;
    const out = backend.makeOutput([n, C * P], "float32");
    const argmax = dropout ? backend.makeOutput([n, C * P], "int32") : undefined;
    c.conv_pool_forward(
      n,
      at(images),
      at(weight),
      at(bias),
      at(dropout),
      at(out),
      at(argmax),
      scratch,
    );
    return argmax ? [out, argmax] : out;
  });
  register(CONV_POOL_GRAD, "wasm", ({ inputs }) => {
    const { images, dout, out, argmax, dropout } = inputs;
    const n = images!.shape[0]!;
    const dweight = backend.makeOutput([C, K], "float32");
    const dbias = backend.makeOutput([C], "float32");
    c.conv_pool_backward(
      n,
      at(images),
      at(dout),
      at(out),
      at(argmax),
      at(dropout),
      at(dweight),
      at(dbias),
      scratch,
    );
    return [dweight, dbias];
  });
}

/** Registers `kernelFunc` as `kernelName` for `backendName`, replacing an earlier registration. */
export function register(
  kernelName: string,
  backendName: string,
  kernelFunc: tf.KernelFunc,
): void {
  // a new wasm backend replaces the last one's kernels
  if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ kernelName, backendName, kernelFunc });
}
