/**
 * The networks, one module each in archs/ (parameters, description, forward, backward, default
 * recipe), in one table checked against `Architecture`; and what every network shares: the batch,
 * the loss, initialisation, inference. One forward pass for training and inference; the backward
 * passes are written by hand (llm.c style), because tfjs-core registers no gradients on its own (only
 * the umbrella @tensorflow/tfjs does, with layers, converter and webgl in tow) and tfjs-backend-wasm
 * has no Conv2DBackpropFilter. tests/model_test.ts checks every gradient against tfjs autodiff on the
 * cpu backend, and the outputs against PyTorch's.
 *
 * Parameters are kept in PyTorch's names and layouts, in memory as in the file.
 *
 * Shape letters: N images, L classes, D = 784 pixels.
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  type Architecture,
  type Batch,
  type Cache,
  type ForwardResult,
  type HostParams,
  type Noise,
  NORMALIZATION,
  type Params,
  PIXELS,
} from "./architecture.ts";
import { cnn } from "./archs/cnn.ts";
import { cnn2 } from "./archs/cnn2.ts";
import { mlp } from "./archs/mlp.ts";
import { fillUniform, type Rng } from "./random.ts";

export {
  type Architecture,
  type Batch,
  type Cache,
  type ForwardResult,
  type HostParams,
  IMAGE_SIDE,
  type Noise,
  NORMALIZATION,
  NUM_CLASSES,
  type Params,
  type ParamSpec,
  PIXELS,
} from "./architecture.ts";

/** Every network, by the name `--model` and a manifest's `architecture.arch` give it. */
export const ARCHITECTURES = { cnn, mlp, cnn2 } satisfies Record<string, Architecture>;

export type Arch = keyof typeof ARCHITECTURES;
export const ARCHS = Object.keys(ARCHITECTURES) as Arch[];

/** Whether `name` is a network of the table. */
export function isArch(name: unknown): name is Arch {
  return typeof name === "string" && Object.hasOwn(ARCHITECTURES, name);
}

/** Counts the parameters of `arch` (54,410 for the cnn). */
export function countParams(arch: Arch): number {
  return ARCHITECTURES[arch].params.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
}

/** PyTorch's default initialisation for Conv2d and Linear: weights and biases ~ U(±1/√fan_in). */
export function initParams(arch: Arch, rng: Rng): HostParams {
  const params: HostParams = {};
  for (const spec of ARCHITECTURES[arch].params) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    params[spec.name] = fillUniform(rng, new Float32Array(size), 1 / Math.sqrt(spec.fanIn));
  }
  return params;
}

/** Uploads host parameters to the active backend, shaped as their specs say. */
export function toTensors(arch: Arch, host: HostParams): Params {
  const params: Params = {};
  for (const spec of ARCHITECTURES[arch].params) {
    params[spec.name] = tf.tensor(host[spec.name]!, spec.shape);
  }
  return params;
}

// Normalised value of each pixel byte: (x / 255 − mean) / std, as transforms.Normalize does.
const NORMALIZED = Float32Array.from(
  { length: 256 },
  (_, b) => (b / 255 - NORMALIZATION.mean) / NORMALIZATION.std,
);

/** Builds the batch of `n` MNIST images (bytes [N, 28, 28] from image `offset`). */
export function toBatch(images: Uint8Array, n: number, offset = 0): Batch {
  const pixels = images.subarray(offset * PIXELS, (offset + n) * PIXELS);
  if (pixels.length !== n * PIXELS) throw new RangeError(`expected ${n} images of ${PIXELS} bytes`);
  const x = new Float32Array(pixels.length); // a plain loop: Float32Array.from(…, fn) took 2.3 ms
  for (let i = 0; i < x.length; i++) x[i] = NORMALIZED[pixels[i]!]!;
  return { x: tf.tensor2d(x, [n, PIXELS]) };
}

/**
 * Runs `arch` on a batch. With `noise` (where dropout draws from) it is a training pass and fills
 * `cache`. Returns logits; log-softmax is taken by the loss or by `predict`.
 */
export function forward(arch: Arch, params: Params, batch: Batch, noise?: Noise): ForwardResult {
  return ARCHITECTURES[arch].forward(params, batch, noise);
}

/**
 * Class probabilities [N, L] for a batch (inference: no dropout): softmax(logits / temperature),
 * the temperature a model's calibration found (1: as trained).
 */
export function predict(arch: Arch, params: Params, batch: Batch, temperature = 1): tf.Tensor2D {
  return tf.tidy(() => {
    const logits = forward(arch, params, batch).logits;
    return tf.softmax(temperature === 1 ? logits : tf.div(logits, temperature));
  });
}

/** Marks `params` as fixed for inference (a served model): see `freezeLayout` in layers.ts. */
export function freezeForInference(arch: Arch, params: Params): void {
  (ARCHITECTURES[arch] as Architecture).freeze?.(params);
}

/**
 * Mean negative log-likelihood of log-softmax(logits), as F.nll_loss(F.log_softmax(…)) in the seed,
 * and its gradient with respect to the logits: (softmax − one-hot) / N.
 */
export function nllLoss(logits: tf.Tensor2D, labels: tf.Tensor1D) {
  const [n, classes] = logits.shape;
  const logp = tf.logSoftmax(logits);
  const onehot = tf.oneHot(labels, classes);
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
  return ARCHITECTURES[arch].backward(params, batch, cache, dlogits);
}

/** Frees a batch's tensors. */
export function disposeBatch(batch: Batch): void {
  batch.x.dispose();
}
