/**
 * The seed's Net: Conv2d(1, 32, 3) → ReLU → max_pool2d(2) → Dropout2d(0.25) → flatten → Linear(5408, 10).
 * Its first block is one fused kernel of our own, forward and backward (kernels/conv_pool.ts: WebAssembly
 * SIMD on wasm, TypeScript on cpu); the Linear layer is a tfjs matmul. The flatten is PyTorch's
 * channel-first order.
 *
 * Shape letters: N images, L = 10 classes, C = 32 channels, K = 9 taps of a 3×3 kernel,
 * P = 169 pooled positions (13×13).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Architecture, Batch, Cache, ForwardResult, Noise, Params } from "../architecture.ts";
import { NUM_CLASSES, SEED_RECIPE } from "../architecture.ts";
import { convPool, convPoolGrad } from "../kernels/conv_pool.ts";
import { denseBackward, denseForward, dropoutMask, freezeLayout, linearLayout } from "../layers.ts";

const C = 32, K = 9, P = 13 * 13;

/** Dropout2d's probability of zeroing a whole channel, as in the seed. */
export const DROPOUT_P = 0.25;

export const cnn = {
  description:
    "Conv2d(1→32, 3×3) → ReLU → MaxPool 2×2 → Dropout2d(0.25) → Flatten(5408) → Linear(5408→10) → LogSoftmax",
  params: [
    { name: "conv.weight", shape: [C, 1, 3, 3], fanIn: K },
    { name: "conv.bias", shape: [C], fanIn: K },
    { name: "fc.weight", shape: [NUM_CLASSES, C * P], fanIn: C * P },
    { name: "fc.bias", shape: [NUM_CLASSES], fanIn: C * P },
  ],
  classes: NUM_CLASSES,
  recipe: SEED_RECIPE,

  forward(params: Params, batch: Batch, noise?: Noise): ForwardResult {
    const n = batch.x.shape[0];
    const dropout = noise && dropoutMask(noise, n, C, DROPOUT_P); // [N, C]
    // conv → ReLU → max-pool → dropout, flattened channel-first: [N, C·P]
    const { out: flat, argmax } = convPool(
      batch.x,
      tf.reshape(params["conv.weight"]!, [C, K]),
      params["conv.bias"]!,
      dropout,
    );
    const logits = denseForward(flat, params["fc.weight"]!, params["fc.bias"]!); // [N, L]
    return { logits, cache: dropout ? { flat, argmax: argmax!, dropout } : {} };
  },

  backward(params: Params, batch: Batch, cache: Cache, dlogits: tf.Tensor2D) {
    const { flat, argmax, dropout } = cache as Record<string, tf.Tensor2D>;
    const fc = denseBackward(flat!, params["fc.weight"]!, dlogits);
    const conv = convPoolGrad(batch.x, fc.dx, flat!, argmax!, dropout!);
    return {
      "conv.weight": tf.reshape(conv.dweight, [C, 1, 3, 3]),
      "conv.bias": conv.dbias,
      "fc.weight": fc.dw,
      "fc.bias": fc.db,
    };
  },

  freeze(params: Params) {
    freezeLayout(params["fc.weight"]!, linearLayout);
  },
} satisfies Architecture;
