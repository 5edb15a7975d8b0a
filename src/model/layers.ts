/**
 * The layers the networks in src/model/archs/ are made of, as `*Forward` / `*Backward` pairs on tfjs
 * tensors, with every size taken from the tensors. Parameters stay in PyTorch's layouts (a Linear's
 * weight [out, in], a conv's [F, C, 3, 3]); activations are NHWC, as tfjs' convolutions want them.
 *
 * Shape letters: N images, H×W pixels, C input channels, F output channels (filters).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Noise } from "./architecture.ts";
import { conv3x3, conv3x3FilterGrad, conv3x3ReluPool, maxPool2x2Grad } from "./kernels/layers.ts";

/**
 * Weights in the layout a layer multiplies with, made once for a served model: XNNPACK repacks a
 * matmul's right operand (and a convolution's filter) whenever it is a new tensor, so transposing
 * the [10, 5408] Linear weights on every call cost 0.14 ms of a one-image forward pass, and the
 * product with a kept transpose 0.008 ms — with the same arithmetic, so the same result bit for bit.
 * Training changes its weights every step and lays them out afresh.
 */
const frozen = new WeakMap<tf.Tensor, tf.Tensor>();

/** Keeps `w`'s layout for inference (`layout` of it) as long as `w` lives. */
export function freezeLayout(w: tf.Tensor, layout: (w: tf.Tensor) => tf.Tensor): void {
  if (!frozen.has(w)) frozen.set(w, tf.keep(layout(w)));
}

/** A Linear weight [out, in] as the matmul's right operand [in, out]. */
export const linearLayout = (w: tf.Tensor) => tf.transpose(w);
/** A conv weight [F, C, 3, 3] (PyTorch) as tfjs' filter [3, 3, C, F] (HWIO). */
export const convLayout = (w: tf.Tensor) => tf.transpose(w, [2, 3, 1, 0]);

/**
 * Linear: x [N, in] · wᵀ [in, out] + b. With weights that change every step (training) it is
 * (w · xᵀ)ᵀ instead, the same sums in the same order (so the same bits): XNNPACK then packs xᵀ
 * [in, N] rather than wᵀ [in, out], which for cnn2's hidden layer (then [128, 1568]) and a share of
 * 32 images took 0.5 ms instead of 2.5 ms.
 */
export function denseForward(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  const kept = frozen.get(w) as tf.Tensor2D | undefined;
  const product = kept
    ? tf.matMul(x, kept)
    : tf.transpose(tf.matMul(w as tf.Tensor2D, tf.transpose(x)));
  return tf.add(product, b);
}

/** Gradients of a Linear layer given its input x and the gradient of its output. */
export function denseBackward(x: tf.Tensor2D, w: tf.Tensor, dout: tf.Tensor2D) {
  return {
    dx: tf.matMul(dout, w as tf.Tensor2D) as tf.Tensor2D, // [N, in]
    // doutᵀ · x: [out, in] at once; XNNPACK packs x [N, in], cheap since N is small (0.7 ms for
    // cnn2's fc1 and 32 images, against 1.0 ms for (xᵀ · dout)ᵀ, the same bits)
    dw: tf.matMul(tf.transpose(dout), x),
    db: tf.sum(dout, 0), // [out]
  };
}

/**
 * A dropout mask [N, size]: each value 0 with probability p, else 1/(1−p), drawn image by image from
 * `noise(i)`, `size` numbers each. With size = C it is Dropout2d's (one draw per channel).
 */
export function dropoutMask(noise: Noise, n: number, size: number, p: number): tf.Tensor2D {
  const keep = 1 / (1 - p);
  const mask = new Float32Array(n * size);
  for (let i = 0; i < n; i++) {
    const rng = noise(i);
    for (let j = 0; j < size; j++) mask[i * size + j] = rng.next() < p ? 0 : keep;
  }
  return tf.tensor2d(mask, [n, size]);
}

/**
 * maxPool2x2(relu(conv3x3(x) + b)), "same" padding: x [N, H, W, C], w [F, C, 3, 3], b [F] →
 * [N, H/2, W/2, F] in one pass (kernels/layers.c); `argmax` (training only) is what the backward
 * needs.
 */
export function convReluPoolForward(
  x: tf.Tensor4D,
  w: tf.Tensor,
  b: tf.Tensor,
  training: boolean,
): { out: tf.Tensor4D; argmax?: tf.Tensor4D } {
  const filter = (frozen.get(w) ?? convLayout(w)) as tf.Tensor4D;
  return conv3x3ReluPool(x, filter, b, training);
}

/**
 * Gradients of a 3×3 "same" convolution given its input x [N, H, W, C] and the gradient of its
 * pre-activation output dy [N, H, W, F]: dw [F, C, 3, 3] and db [F] (kernels/layers.c); and, with
 * `wantDx`, dx [N, H, W, C] as the convolution of dy with the filter turned 180° and its channels
 * swapped.
 */
export function convBackward(
  x: tf.Tensor4D,
  w: tf.Tensor,
  dy: tf.Tensor4D,
  wantDx: boolean,
): { dx?: tf.Tensor4D; dw: tf.Tensor; db: tf.Tensor } {
  const grads = conv3x3FilterGrad(x, dy);
  const dw = tf.transpose(grads.dw, [3, 2, 0, 1]); // HWIO → [F, C, 3, 3]
  if (!wantDx) return { dw, db: grads.db };
  // ∂x[p][c] = Σ over taps k and filters f of dy[p − k][f]·w[f][c][k]: a "same" convolution of dy
  // with filter'[ky][kx][f][c] = w[f][c][2 − ky][2 − kx]
  const turned = tf.reverse(tf.transpose(w, [2, 3, 0, 1]), [0, 1]) as tf.Tensor4D;
  return { dx: conv3x3(dy, turned, { relu: false }), dw, db: grads.db };
}

/**
 * The gradient of the convolution's output before `convReluPoolForward`'s ReLU and pooling
 * [N, H, W, F], given the gradient of the pooled output.
 */
export function poolBackward(
  dout: tf.Tensor4D,
  out: tf.Tensor4D,
  argmax: tf.Tensor4D,
  inputShape: [number, number, number, number],
): tf.Tensor4D {
  return maxPool2x2Grad(dout, out, argmax, inputShape);
}
