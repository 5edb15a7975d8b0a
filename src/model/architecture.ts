/**
 * What every network in src/model/archs/ is: its parameters in PyTorch's names and layouts, a line
 * describing it, a forward pass and the matching hand-written backward pass (llm.c style), and how it
 * is trained by default. The table of them is src/model/model.ts.
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { Rng } from "./random.ts";
import type { Dtype } from "./safetensors.ts";

export const IMAGE_SIDE = 28;
export const PIXELS = IMAGE_SIDE * IMAGE_SIDE;
/** The ten digits; a network with a "not a digit" class has one more output. */
export const NUM_CLASSES = 10;
/** The MNIST training set's mean and standard deviation, as in the seed's transforms.Normalize. */
export const NORMALIZATION = { mean: 0.1307, std: 0.3081 } as const;

/** A parameter as PyTorch names and shapes it; `fanIn` sets PyTorch's default init bound. */
export interface ParamSpec {
  name: string;
  shape: number[];
  fanIn: number;
}

export type Params = Record<string, tf.Tensor>;
export type HostParams = Record<string, Float32Array>;

/** A batch as the first layer reads it: `x` holds the normalised pixels [N, D]. */
export interface Batch {
  x: tf.Tensor2D;
}

/**
 * Where a training pass's random numbers (dropout) come from: the generator for batch image `i`.
 * The seed's Net draws from one stream in batch order (its loop returns the same generator for
 * every image); newer networks get a generator per (seed, epoch, sample), so that a batch split
 * over two workers, or resumed, draws the same numbers.
 */
export type Noise = (image: number) => Rng;

/** What a training forward pass keeps for its backward pass. */
export type Cache = Record<string, tf.Tensor>;

export interface ForwardResult {
  logits: tf.Tensor2D; // [N, L]
  cache: Cache;
}

/** How `deno task train --model <name>` trains a network unless flags say otherwise. */
export interface Recipe {
  epochs: number;
  batchSize: number;
  lr: number;
  /** Augment the training images (src/data/augment.ts). */
  augment: boolean;
  /** "stream": one dropout generator in batch order (the seed's); "sample": one per sample. */
  noise: "stream" | "sample";
  /** How the weights are stored in the model file (F16: half the bytes in the Worker's bundle). */
  weights: Dtype;
  /**
   * Training images held out (the last ones): each epoch is scored on them, and the served
   * confidence is calibrated on them (src/train/calibrate.ts). 0: the test set scores the epochs.
   */
  valSplit: number;
  /**
   * Rendered negatives (src/data/negatives.ts) trained on per training digit, new ones every epoch:
   * 0 for a network without a "not a digit" class.
   */
  negativeShare: number;
}

/**
 * The seed's recipe, as `deno task train` runs it: 2 epochs of 64, Adam at 2e-3 (annealed along a
 * cosine by default), no augmentation, dropout from one stream, F32 weights, nothing held out.
 */
export const SEED_RECIPE: Readonly<Recipe> = {
  epochs: 2,
  batchSize: 64,
  lr: 2e-3,
  augment: false,
  noise: "stream",
  weights: "F32",
  valSplit: 0,
  negativeShare: 0,
};

export interface Architecture {
  /** One line, as the manifest and `GET /model` show it. */
  description: string;
  /** The parameters in PyTorch's state_dict order. */
  params: readonly ParamSpec[];
  /** Outputs: 10 digits, or 11 with a last "not a digit" class. */
  classes: number;
  recipe: Recipe;
  /** Logits for a batch; with `noise` it is a training pass (dropout on) and fills the cache. */
  forward(params: Params, batch: Batch, noise?: Noise): ForwardResult;
  /** Gradients of the loss with respect to every parameter, by name. */
  backward(params: Params, batch: Batch, cache: Cache, dlogits: tf.Tensor2D): Params;
  /** Prepares fixed parameters for many inference passes (a served model). */
  freeze?(params: Params): void;
}
