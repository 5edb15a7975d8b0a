/**
 * The seed's closing exercise: Flatten(784) → Linear(784, 256) → ReLU → Linear(256, 10).
 *
 * Shape letters: N images, D = 784 pixels, H = 256 hidden units, L = 10 classes.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Architecture, Batch, Cache, ForwardResult, Params } from "../architecture.ts";
import { NUM_CLASSES, PIXELS, SEED_RECIPE } from "../architecture.ts";
import { denseBackward, denseForward, freezeLayout, linearLayout } from "../layers.ts";

const H = 256;

export const mlp = {
  description: "Flatten(784) → Linear(784→256) → ReLU → Linear(256→10) → LogSoftmax",
  params: [
    { name: "fc1.weight", shape: [H, PIXELS], fanIn: PIXELS },
    { name: "fc1.bias", shape: [H], fanIn: PIXELS },
    { name: "fc2.weight", shape: [NUM_CLASSES, H], fanIn: H },
    { name: "fc2.bias", shape: [NUM_CLASSES], fanIn: H },
  ],
  classes: NUM_CLASSES,
  recipe: SEED_RECIPE,

  forward(params: Params, batch: Batch): ForwardResult {
    const x = batch.x; // [N, D]
    const h = tf.relu(denseForward(x, params["fc1.weight"]!, params["fc1.bias"]!)); // [N, H]
    const logits = denseForward(h, params["fc2.weight"]!, params["fc2.bias"]!); // [N, L]
    return { logits, cache: { x, h } };
  },

  backward(params: Params, _batch: Batch, cache: Cache, dlogits: tf.Tensor2D) {
    const { x, h } = cache as Record<string, tf.Tensor2D>;
    const fc2 = denseBackward(h!, params["fc2.weight"]!, dlogits);
    const dh = tf.mul(fc2.dx, tf.step(h!)) as tf.Tensor2D;
    const fc1 = denseBackward(x!, params["fc1.weight"]!, dh);
    return { "fc1.weight": fc1.dw, "fc1.bias": fc1.db, "fc2.weight": fc2.dw, "fc2.bias": fc2.db };
  },

  freeze(params: Params) {
    freezeLayout(params["fc1.weight"]!, linearLayout);
    freezeLayout(params["fc2.weight"]!, linearLayout);
  },
} satisfies Architecture;
