/**
 * The seed's networks as tfjs ops: one forward pass for training and inference, and a hand-written
 * backward pass (llm.c style, `*Forward` / `*Backward` pairs).
 *
 * Why by hand: tfjs-core registers no gradients on its own (only the umbrella @tensorflow/tfjs does,
 * with layers, converter and webgl in tow), and tfjs-backend-wasm has no Conv2DBackpropFilter kernel.
 * The network is four tensors deep and its backward pass is a few dozen lines. Writing it lets us
 * keep to the kernels that tfjs-backend-wasm runs fast (XNNPACK matmuls without transpose flags,
 * SIMD element-wise ops) and away from its slow ones (reductions over small windows, MaxPoolGrad,
 * transposed matmul operands): see "Performance" in the README. tests/model_test.ts checks the
 * gradients against tfjs autodiff on the cpu backend, and the outputs against PyTorch's.
 *
 * Parameters are kept in PyTorch's names and layouts, in memory as in the file (a Linear's weight is
 * [out, in]; the conv's is [C, 1, 3, 3]), and the flatten is PyTorch's channel-first order.
 *
 * Shape letters: N images, L = 10 classes, C = 32 conv channels, K = 9 taps of a 3×3 kernel,
 * P = 169 pooled positions (13×13), Q = 4 positions in a 2×2 pool window, D = 784 pixels, H = 256.
 */
import * as tf from "@tensorflow/tfjs-core";
import { fillUniform, type Rng } from "./random.ts";

export const IMAGE_SIDE = 28;
export const PIXELS = IMAGE_SIDE * IMAGE_SIDE;
export const NUM_CLASSES = 10;
/** The MNIST training set's mean and standard deviation, as in the seed's transforms.Normalize. */
export const NORMALIZATION = { mean: 0.1307, std: 0.3081 } as const;

const C = 32, K = 9, POOLED_SIDE = 13, P = POOLED_SIDE * POOLED_SIDE, Q = 4, H = 256;

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

/**
 * A batch as the first layer reads it. For the mlp, `x` is the normalised pixels [N, D]. For the cnn,
 * `x` holds the 3×3 patches under the conv outputs (im2col), one [N·P, K] matrix for each of the Q
 * positions of a 2×2 pool window, so that pooling is an element-wise max of four matrices. Images
 * need no gradient, so this layout is built once per batch on the host.
 */
export interface Batch {
  n: number;
  x: tf.Tensor2D[];
}

/** Builds the batch of `n` MNIST images (bytes [N, 28, 28] from image `offset`). */
export function toBatch(arch: Arch, images: Uint8Array, n: number, offset = 0): Batch {
  const pixels = images.subarray(offset * PIXELS, (offset + n) * PIXELS);
  if (pixels.length !== n * PIXELS) throw new RangeError(`expected ${n} images of ${PIXELS} bytes`);
  if (arch === "mlp") {
    return {
      n,
      x: [tf.tensor2d(pixels.map((b) => NORMALIZED[b]!), [n, PIXELS])],
    };
  }
  const x: tf.Tensor2D[] = [];
  for (let q = 0; q < Q; q++) {
    const rows = new Float32Array(n * P * K); // [N·P, K]
    let at = 0;
    for (let img = 0; img < n; img++) {
      for (let py = 0; py < POOLED_SIDE; py++) {
        for (let px = 0; px < POOLED_SIDE; px++) {
          // top-left pixel of the patch under conv output (2py + q/2, 2px + q%2)
          const corner = img * PIXELS + (2 * py + (q >> 1)) * IMAGE_SIDE + 2 * px + (q & 1);
          for (let ky = 0; ky < 3; ky++) {
            for (let kx = 0; kx < 3; kx++) {
              rows[at++] = NORMALIZED[pixels[corner + ky * IMAGE_SIDE + kx]!]!;
            }
          }
        }
      }
    }
    x.push(tf.tensor2d(rows, [n * P, K]));
  }
  return { n, x };
}

/** Dropout2d's mask for one batch: [N, C] of 0 or 1/(1−p), one draw per image and channel. */
export function dropoutMask(rng: Rng, n: number): tf.Tensor2D {
  const keep = 1 / (1 - DROPOUT_P);
  return tf.tensor2d(
    Float32Array.from({ length: n * C }, () => (rng.next() < DROPOUT_P ? 0 : keep)),
    [n, C],
  );
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
  const n = batch.n;
  const w = tf.transpose(tf.reshape(params["conv.weight"]!, [C, K])); // [K, C]
  // conv at the four positions of each pool window: [N·P, C] each, that is [N, 13, 13, C]
  const [y0, y1, y2, y3] = batch.x.map((x) => tf.matMul(x, w));
  // max_pool2d(2) as three pairwise maxima. Pooling before the bias and ReLU gives the same result
  // (both are monotonic) on a quarter of the values.
  const training = dropout !== undefined;
  const top = maxPairForward(y0!, y1!, training), bottom = maxPairForward(y2!, y3!, training);
  const pool = maxPairForward(top.max, bottom.max, training);
  const a = tf.relu(tf.add(pool.max, params["conv.bias"]!)); // [N·P, C]
  // PyTorch flattens channel-first: [N, P, C] → [N, C, P] → [N, C·P]
  let f = tf.transpose(tf.reshape(a, [n, P, C]), [0, 2, 1]);
  if (dropout) f = tf.mul(f, tf.reshape(dropout, [n, C, 1]));
  const flat = tf.reshape(f, [n, C * P]) as tf.Tensor2D;
  const logits = denseForward(flat, params["fc.weight"]!, params["fc.bias"]!);
  const cache: Cache = training
    ? { a, flat, dropout, topPick: top.pick!, bottomPick: bottom.pick!, poolPick: pool.pick! }
    : {};
  return { logits, cache };
}

function mlpForward(params: Params, batch: Batch): ForwardResult {
  const x = batch.x[0]!;
  const h = tf.relu(denseForward(x, params["fc1.weight"]!, params["fc1.bias"]!));
  const logits = denseForward(h, params["fc2.weight"]!, params["fc2.bias"]!);
  return { logits, cache: { x, h } };
}

/**
 * max(a, b) = a + relu(b − a), and for training `pick` = 1 where b won. On a tie a wins, which makes
 * the pool route its gradient to the window's first maximum, as PyTorch's max_pool2d does.
 */
function maxPairForward(a: tf.Tensor, b: tf.Tensor, training: boolean) {
  const diff = tf.sub(b, a);
  return { max: tf.add(a, tf.relu(diff)), pick: training ? tf.step(diff) : undefined };
}

/** Splits the gradient of max(a, b) between a and b. */
function maxPairBackward(dmax: tf.Tensor, pick: tf.Tensor) {
  const db = tf.mul(dmax, pick);
  return { da: tf.sub(dmax, db), db };
}

/** Linear: x [N, in] · wᵀ [in, out] + b. */
function denseForward(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return tf.add(tf.matMul(x, tf.transpose(w) as tf.Tensor2D), b);
}

/** Gradients of a Linear layer given its input x and the gradient of its output. */
function denseBackward(x: tf.Tensor2D, w: tf.Tensor, dout: tf.Tensor2D) {
  return {
    dx: tf.matMul(dout, w as tf.Tensor2D), // [N, in]
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
  const { a, flat, dropout, topPick, bottomPick, poolPick } = cache;
  const n = batch.n;
  const fc = denseBackward(flat as tf.Tensor2D, params["fc.weight"]!, dlogits);
  const df = tf.mul(tf.reshape(fc.dx, [n, C, P]), tf.reshape(dropout!, [n, C, 1]));
  const da = tf.reshape(tf.transpose(df, [0, 2, 1]), [n * P, C]);
  const dpool = tf.mul(da, tf.step(a!)); // ReLU passes the gradient where it was open
  const pool = maxPairBackward(dpool, poolPick!);
  const top = maxPairBackward(pool.da, topPick!), bottom = maxPairBackward(pool.db, bottomPick!);
  // Weight and bias gradients, summed over the four pool positions: Σ dyᵀ [C, N·P] · x [N·P, K].
  // Transposing dy first is cheaper than a matmul whose right operand is a fresh large matrix:
  // XNNPACK packs that operand on every call (see README, "Performance").
  const dyT = [top.da, top.db, bottom.da, bottom.db].map((dy) => tf.transpose(dy) as tf.Tensor2D);
  const dw = dyT.map((d, q) => tf.matMul(d, batch.x[q]!)).reduce((sum, d) => tf.add(sum, d));
  const db = dyT.map((d) => tf.sum(d, 1)).reduce((sum, d) => tf.add(sum, d));
  return {
    "conv.weight": tf.reshape(dw, [C, 1, 3, 3]),
    "conv.bias": db,
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
  tf.dispose(batch.x);
}
