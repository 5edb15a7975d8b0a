/**
 * The seed's networks as tfjs ops: one forward pass for training and inference, and a hand-written
 * backward pass (llm.c style, `*Forward` / `*Backward` pairs).
 *
 * Why by hand: tfjs-core registers no gradients on its own (only the umbrella @tensorflow/tfjs does,
 * with layers, converter and webgl in tow), and tfjs-backend-wasm has no Conv2DBackpropFilter kernel.
 * The cnn's first block (conv → ReLU → max-pool → dropout) is one fused kernel of our own, forward
 * and backward (src/model/kernels/conv_pool.ts: WebAssembly SIMD on wasm, TypeScript on cpu); the
 * Linear layers are tfjs matmuls. tests/model_test.ts checks the gradients against tfjs autodiff of
 * tf.conv2d + tf.maxPool on the cpu backend, and the outputs against PyTorch's.
 *
 * Parameters are kept in PyTorch's names and layouts, in memory as in the file (a Linear's weight is
 * [out, in]; the conv's is [C, 1, 3, 3]), and the flatten is PyTorch's channel-first order.
 *
 * Shape letters: N images, L = 10 classes, C = 32 conv channels, K = 9 taps of a 3×3 kernel,
 * P = 169 pooled positions (13×13), D = 784 pixels, H = 256.
 */
import * as tf from "@tensorflow/tfjs-core";
import { convPool, convPoolGrad } from "./kernels/conv_pool.ts";
import { fillUniform, type Rng } from "./random.ts";

export const IMAGE_SIDE = 28;
export const PIXELS = IMAGE_SIDE * IMAGE_SIDE;
export const NUM_CLASSES = 10;
/** The MNIST training set's mean and standard deviation, as in the seed's transforms.Normalize. */
export const NORMALIZATION = { mean: 0.1307, std: 0.3081 } as const;

const C = 32, K = 9, P = 13 * 13, H = 256;

export type Arch = "cnn" | "mlp";
export const ARCHS: readonly Arch[] = ["cnn", "mlp"];

/** A parameter as PyTorch names and shapes it; `fanIn` sets PyTorch's default init bound. */
export interface ParamSpec {
  name: string;
  shape: number[];
  fanIn: number;
}

/** The parameters of each network, in PyTorch's state_dict order. */
export const PARAM_SPECS: Record<Arch, readonly ParamSpec[]> = {
  // Net: Conv2d(1, 32, 3) → ReLU → max_pool2d(2) → Dropout2d(0.25) → flatten → Linear(5408, 10)
  cnn: [
    { name: "conv.weight", shape: [C, 1, 3, 3], fanIn: K },
    { name: "conv.bias", shape: [C], fanIn: K },
    { name: "fc.weight", shape: [NUM_CLASSES, C * P], fanIn: C * P },
    { name: "fc.bias", shape: [NUM_CLASSES], fanIn: C * P },
  ],
  // The seed's closing exercise: input → Linear(784, 256) + ReLU → Linear(256, 10)
  mlp: [
    { name: "fc1.weight", shape: [H, PIXELS], fanIn: PIXELS },
    { name: "fc1.bias", shape: [H], fanIn: PIXELS },
    { name: "fc2.weight", shape: [NUM_CLASSES, H], fanIn: H },
    { name: "fc2.bias", shape: [NUM_CLASSES], fanIn: H },
  ],
};

/** Dropout2d's probability of zeroing a whole channel, as in the seed. */
export const DROPOUT_P = 0.25;

export type Params = Record<string, tf.Tensor>;
export type HostParams = Record<string, Float32Array>;

/** Counts the parameters of `arch` (54,410 for the cnn). */
export function countParams(arch: Arch): number {
  return PARAM_SPECS[arch].reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
}

/** PyTorch's default initialisation for Conv2d and Linear: weights and biases ~ U(±1/√fan_in). */
export function initParams(arch: Arch, rng: Rng): HostParams {
  const params: HostParams = {};
  for (const spec of PARAM_SPECS[arch]) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    params[spec.name] = fillUniform(rng, new Float32Array(size), 1 / Math.sqrt(spec.fanIn));
  }
  return params;
}

/** Uploads host parameters to the active backend, shaped as their specs say. */
export function toTensors(arch: Arch, host: HostParams): Params {
  const params: Params = {};
  for (const spec of PARAM_SPECS[arch]) params[spec.name] = tf.tensor(host[spec.name]!, spec.shape);
  return params;
}

// Normalised value of each pixel byte: (x / 255 − mean) / std, as transforms.Normalize does.
const NORMALIZED = Float32Array.from(
  { length: 256 },
  (_, b) => (b / 255 - NORMALIZATION.mean) / NORMALIZATION.std,
);

/** A batch as the first layer reads it: `x` holds the normalised pixels [N, D]. */
export interface Batch {
  x: tf.Tensor2D;
}

/** Builds the batch of `n` MNIST images (bytes [N, 28, 28] from image `offset`). */
export function toBatch(images: Uint8Array, n: number, offset = 0): Batch {
  const pixels = images.subarray(offset * PIXELS, (offset + n) * PIXELS);
  if (pixels.length !== n * PIXELS) throw new RangeError(`expected ${n} images of ${PIXELS} bytes`);
  const x = new Float32Array(pixels.length); // a plain loop: Float32Array.from(…, fn) took 2.3 ms
  for (let i = 0; i < x.length; i++) x[i] = NORMALIZED[pixels[i]!]!;
  return { x: tf.tensor2d(x, [n, PIXELS]) };
}

/** Dropout2d's mask for one batch: [N, C] of 0 or 1/(1−p), one draw per image and channel. */
export function dropoutMask(rng: Rng, n: number): tf.Tensor2D {
  const keep = 1 / (1 - DROPOUT_P);
  const mask = new Float32Array(n * C);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < DROPOUT_P ? 0 : keep;
  return tf.tensor2d(mask, [n, C]);
}

/** What a training forward pass keeps for its backward pass. */
export type Cache = Record<string, tf.Tensor>;

export interface ForwardResult {
  logits: tf.Tensor2D; // [N, L]
  cache: Cache;
}

/**
 * Runs `arch` on a batch. With `dropout` (the cnn's [N, C] mask) it is a training pass and fills
 * `cache`. Returns logits; log-softmax is taken by the loss or by `predict`.
 */
export function forward(
  arch: Arch,
  params: Params,
  batch: Batch,
  dropout?: tf.Tensor2D,
): ForwardResult {
  return arch === "cnn" ? cnnForward(params, batch, dropout) : mlpForward(params, batch);
}

/** Class probabilities [N, L] for a batch (inference: no dropout). */
export function predict(arch: Arch, params: Params, batch: Batch): tf.Tensor2D {
  return tf.tidy(() => tf.softmax(forward(arch, params, batch).logits));
}

function cnnForward(params: Params, batch: Batch, dropout?: tf.Tensor2D): ForwardResult {
  // conv → ReLU → max-pool → dropout, flattened channel-first: [N, C·P]
  const { out: flat, argmax } = convPool(
    batch.x,
    tf.reshape(params["conv.weight"]!, [C, K]),
    params["conv.bias"]!,
    dropout,
  );
  const logits = denseForward(flat, params["fc.weight"]!, params["fc.bias"]!);
  return { logits, cache: dropout ? { flat, argmax: argmax!, dropout } : {} };
}

function mlpForward(params: Params, batch: Batch): ForwardResult {
  const x = batch.x;
  const h = tf.relu(denseForward(x, params["fc1.weight"]!, params["fc1.bias"]!));
  const logits = denseForward(h, params["fc2.weight"]!, params["fc2.bias"]!);
  return { logits, cache: { x, h } };
}

/**
 * The transposes of frozen Linear weights, made once: XNNPACK repacks a matmul's right operand whenever
 * it is a new tensor, so transposing the [10, 5408] weights on every call cost 0.14 ms of a one-image
 * forward pass, and the product with a kept transpose 0.008 ms — with the same arithmetic, so the
 * same result bit for bit. Training changes its weights every step and transposes them afresh.
 */
const frozenTransposes = new WeakMap<tf.Tensor, tf.Tensor2D>();

/**
 * Marks `params` as fixed for inference (a served model): their Linear weights' transposes are made
 * now and kept as long as the weights are.
 */
export function freezeForInference(params: Params): void {
  for (const [name, w] of Object.entries(params)) {
    if (/^fc\d?\.weight$/.test(name) && !frozenTransposes.has(w)) {
      frozenTransposes.set(w, tf.keep(tf.transpose(w) as tf.Tensor2D));
    }
  }
}

/** Linear: x [N, in] · wᵀ [in, out] + b. */
function denseForward(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  const transposed = frozenTransposes.get(w) ?? (tf.transpose(w) as tf.Tensor2D);
  return tf.add(tf.matMul(x, transposed), b);
}

/** Gradients of a Linear layer given its input x and the gradient of its output. */
function denseBackward(x: tf.Tensor2D, w: tf.Tensor, dout: tf.Tensor2D) {
  return {
    dx: tf.matMul(dout, w as tf.Tensor2D) as tf.Tensor2D, // [N, in]
    dw: tf.transpose(tf.matMul(tf.transpose(x), dout)), // (xᵀ · dout)ᵀ: [out, in], a small right operand
    db: tf.sum(dout, 0), // [out]
  };
}

/**
 * Mean negative log-likelihood of log-softmax(logits), as F.nll_loss(F.log_softmax(…)) in the seed,
 * and its gradient with respect to the logits: (softmax − one-hot) / N.
 */
export function nllLoss(logits: tf.Tensor2D, labels: tf.Tensor1D) {
  const n = logits.shape[0];
  const logp = tf.logSoftmax(logits);
  const onehot = tf.oneHot(labels, NUM_CLASSES);
  const loss = tf.div(tf.neg(tf.sum(tf.mul(logp, onehot))), n) as tf.Scalar;
  const dlogits = tf.div(tf.sub(tf.exp(logp), onehot), n) as tf.Tensor2D;
  return { loss, dlogits };
}

/** Gradients of the loss with respect to every parameter, by name. */
export function backward(
  arch: Arch,
  params: Params,
  batch: Batch,
  cache: Cache,
  dlogits: tf.Tensor2D,
): Params {
  return arch === "cnn"
    ? cnnBackward(params, batch, cache, dlogits)
    : mlpBackward(params, cache, dlogits);
}

function cnnBackward(params: Params, batch: Batch, cache: Cache, dlogits: tf.Tensor2D): Params {
  const { flat, argmax, dropout } = cache as Record<string, tf.Tensor2D>;
  const fc = denseBackward(flat!, params["fc.weight"]!, dlogits);
  const conv = convPoolGrad(batch.x, fc.dx, flat!, argmax!, dropout!);
  return {
    "conv.weight": tf.reshape(conv.dweight, [C, 1, 3, 3]),
    "conv.bias": conv.dbias,
    "fc.weight": fc.dw,
    "fc.bias": fc.db,
  };
}

function mlpBackward(params: Params, cache: Cache, dlogits: tf.Tensor2D): Params {
  const { x, h } = cache as Record<string, tf.Tensor2D>;
  const fc2 = denseBackward(h!, params["fc2.weight"]!, dlogits);
  const dh = tf.mul(fc2.dx, tf.step(h!));
  const fc1 = denseBackward(x!, params["fc1.weight"]!, dh as tf.Tensor2D);
  return { "fc1.weight": fc1.dw, "fc1.bias": fc1.db, "fc2.weight": fc2.dw, "fc2.bias": fc2.db };
}

/** Frees a batch's tensors. */
export function disposeBatch(batch: Batch): void {
  batch.x.dispose();
}
