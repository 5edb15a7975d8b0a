/**
 * Two 3×3 conv blocks with early pooling, then a hidden Linear layer, and an eleventh output for
 * "not a digit":
 *
 *   Conv2d(1→16, 3×3, pad 1) → ReLU → MaxPool 2×2 → Conv2d(16→32, 3×3, pad 1) → ReLU → MaxPool 2×2 →
 *   Dropout(0.25) → Flatten(1568) → Linear(1568→192) → ReLU → Linear(192→11)
 *
 * Each conv block is one pass of ours, convolution, ReLU and max-pooling; its gradients are ours too
 * (kernels/layers.c); the Linear layers are tfjs' matmuls (XNNPACK). The flatten is PyTorch's
 * channel-first order, so the file loads into the equivalent nn.Module. Why this shape: docs/training.md, "A second architecture".
 *
 * Shape letters: N images, C1 = 16 and C2 = 32 channels, S = 7×7 pooled positions, F = C2·S = 1568
 * features, H = 192 hidden units, L = 11 classes (the ten digits, then "not a digit").
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Architecture, Batch, Cache, ForwardResult, Noise, Params } from "../architecture.ts";
import { IMAGE_SIDE, NUM_CLASSES } from "../architecture.ts";
import {
  convBackward,
  convLayout,
  convReluPoolForward,
  denseBackward,
  denseForward,
  dropoutMask,
  freezeLayout,
  linearLayout,
  poolBackward,
} from "../layers.ts";

const C1 = 16, C2 = 32, S = 7 * 7, F = C2 * S, H = 192, L = NUM_CLASSES + 1;
const DROPOUT_P = 0.25;

export const cnn2 = {
  description:
    `Conv2d(1→${C1}, 3×3, pad 1) → ReLU → MaxPool 2×2 → Conv2d(${C1}→${C2}, 3×3, pad 1) → ReLU → ` +
    `MaxPool 2×2 → Dropout(0.25) → Flatten(${F}) → Linear(${F}→${H}) → ReLU → ` +
    `Linear(${H}→${L}: ten digits and "not a digit") → LogSoftmax`,
  params: [
    { name: "conv1.weight", shape: [C1, 1, 3, 3], fanIn: 9 },
    { name: "conv1.bias", shape: [C1], fanIn: 9 },
    { name: "conv2.weight", shape: [C2, C1, 3, 3], fanIn: 9 * C1 },
    { name: "conv2.bias", shape: [C2], fanIn: 9 * C1 },
    { name: "fc1.weight", shape: [H, F], fanIn: F },
    { name: "fc1.bias", shape: [H], fanIn: F },
    { name: "fc2.weight", shape: [L, H], fanIn: H },
    { name: "fc2.bias", shape: [L], fanIn: H },
  ],
  classes: L,
  recipe: {
    epochs: 6,
    batchSize: 64,
    lr: 2e-3,
    augment: true,
    noise: "sample",
    weights: "I8",
    valSplit: 5000,
    negativeShare: 0.2,
  },

  forward(params: Params, batch: Batch, noise?: Noise): ForwardResult {
    const n = batch.x.shape[0];
    const x = tf.reshape(batch.x, [n, IMAGE_SIDE, IMAGE_SIDE, 1]) as tf.Tensor4D; // [N, 28, 28, 1]
    const p1 = convReluPoolForward(x, params["conv1.weight"]!, params["conv1.bias"]!, !!noise); // [N, 14, 14, C1]
    const p2 = convReluPoolForward(p1.out, params["conv2.weight"]!, params["conv2.bias"]!, !!noise); // [N, 7, 7, C2]
    let flat = tf.reshape(tf.transpose(p2.out, [0, 3, 1, 2]), [n, F]) as tf.Tensor2D; // channel-first
    const drop1 = noise && dropoutMask(noise, n, F, DROPOUT_P); // [N, F]
    if (drop1) flat = tf.mul(flat, drop1);
    const h = tf.relu(denseForward(flat, params["fc1.weight"]!, params["fc1.bias"]!)); // [N, H]
    const logits = denseForward(h, params["fc2.weight"]!, params["fc2.bias"]!); // [N, L]
    if (!noise) return { logits, cache: {} };
    const cache = { x, p1: p1.out, a1: p1.argmax!, p2: p2.out, a2: p2.argmax!, flat, h };
    return { logits, cache: { ...cache, drop1: drop1! } };
  },

  backward(params: Params, _batch: Batch, cache: Cache, dlogits: tf.Tensor2D): Params {
    const t2 = (name: string) => cache[name] as tf.Tensor2D;
    const t4 = (name: string) => cache[name] as tf.Tensor4D;
    const n = dlogits.shape[0];
    const fc2 = denseBackward(t2("h"), params["fc2.weight"]!, dlogits);
    const dz = tf.mul(fc2.dx, tf.step(t2("h"))) as tf.Tensor2D; // h = relu(z): ∂z = ∂h where h > 0
    const fc1 = denseBackward(t2("flat"), params["fc1.weight"]!, dz);
    const dflat = tf.mul(fc1.dx, t2("drop1")); // [N, F]
    const dp2 = tf.transpose(tf.reshape(dflat, [n, C2, 7, 7]), [0, 2, 3, 1]) as tf.Tensor4D;
    const dy2 = poolBackward(dp2, t4("p2"), t4("a2"), [n, IMAGE_SIDE / 2, IMAGE_SIDE / 2, C2]);
    const conv2 = convBackward(t4("p1"), params["conv2.weight"]!, dy2, true);
    const dy1 = poolBackward(conv2.dx!, t4("p1"), t4("a1"), [n, IMAGE_SIDE, IMAGE_SIDE, C1]);
    const conv1 = convBackward(t4("x"), params["conv1.weight"]!, dy1, false);
    return {
      "conv1.weight": conv1.dw,
      "conv1.bias": conv1.db,
      "conv2.weight": conv2.dw,
      "conv2.bias": conv2.db,
      "fc1.weight": fc1.dw,
      "fc1.bias": fc1.db,
      "fc2.weight": fc2.dw,
      "fc2.bias": fc2.db,
    };
  },

  freeze(params: Params) {
    freezeLayout(params["conv1.weight"]!, convLayout);
    freezeLayout(params["conv2.weight"]!, convLayout);
    freezeLayout(params["fc1.weight"]!, linearLayout);
    freezeLayout(params["fc2.weight"]!, linearLayout);
  },
} satisfies Architecture;
