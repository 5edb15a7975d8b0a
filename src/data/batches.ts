/**
 * What a training epoch feeds the network: the order of its samples, and each batch's images and
 * labels — MNIST training digits, augmented or not, and for a network with a "not a digit" class,
 * negatives the trainer renders itself (src/data/negatives.ts), labelled 10. For the network that
 * reads numbers, some digits are shown cut from a touching neighbour and some negatives are two
 * digits taken for one (src/data/neighbours.ts). Every random choice is a function of (seed, epoch,
 * sample), so a batch is the same whoever builds it, in whatever order.
 */
import { PIXELS } from "../model/architecture.ts";
import { createRng, shuffle } from "../model/random.ts";
import { augmentBatch } from "./augment.ts";
import type { Split } from "./mnist.ts";
import { type NegativeGlyphs, renderNegative } from "./negatives.ts";
import { isCutDigit, renderCutDigit, renderPair } from "./neighbours.ts";

/** The label of a rendered negative: the class after the ten digits. */
export const NOT_A_DIGIT = 10;

/** The samples of an epoch: sample i < digits.count is that training digit, the rest negatives. */
export interface TrainingSet {
  digits: Split;
  /** Negatives per epoch (0 for a network of ten classes): new ones every epoch. */
  negatives: number;
  /** Whether digits are augmented (src/data/augment.ts). */
  augment: boolean;
  /** The share of digits (0–1) shown cut from a touching neighbour, each epoch anew (default 0). */
  cutShare?: number;
  /** Of the negatives, how many are two digits taken for one: the last ones (default 0). */
  pairs?: number;
  /** Which letters and symbols the drawn negatives may be (default "all"). */
  glyphs?: NegativeGlyphs;
}

/** A training set but its digits: what the gradient worker rebuilds the same set from. */
export type SetRecipe = Omit<TrainingSet, "digits">;

/** `set` without its digits. */
export function recipeOf({ digits: _digits, ...recipe }: TrainingSet): SetRecipe {
  return recipe;
}

/** Samples per epoch. */
export function epochSize(set: TrainingSet): number {
  return set.digits.count + set.negatives;
}

/** The order of the samples in `epoch` (1-based): the same for the same seed, on resume too. */
export function epochOrder(count: number, seed: number, epoch: number): Uint32Array {
  const order = Uint32Array.from({ length: count }, (_, i) => i);
  return shuffle(createRng(Math.imul(seed, 0x9e3779b1) ^ epoch), order);
}

/** A batch's bytes and labels, in buffers reused from batch to batch. */
export interface BatchBuffers {
  images: Uint8Array; // [N, 28, 28]
  labels: Int32Array; // [N]
}

/** Renders negative `k` of `epoch` (each epoch has new ones) into `out` (784 bytes). */
export function epochNegative(
  seed: number,
  epoch: number,
  k: number,
  out: Uint8Array,
  glyphs: NegativeGlyphs = "all",
): void {
  renderNegative(seed ^ Math.imul(epoch, 0x2545f491), k, out, glyphs);
}

/** Renders negative `k` of `set` in `stream`'s epoch into `out`: drawn, or two digits as one. */
function setNegative(
  set: TrainingSet,
  stream: { seed: number; epoch: number },
  k: number,
  out: Uint8Array,
): void {
  const drawn = set.negatives - (set.pairs ?? 0);
  if (k < drawn) epochNegative(stream.seed, stream.epoch, k, out, set.glyphs);
  else renderPair(set.digits, stream, k - drawn, out);
}

/** Buffers for batches of up to `size` samples. */
export function batchBuffers(size: number): BatchBuffers {
  return { images: new Uint8Array(size * PIXELS), labels: new Int32Array(size) };
}

/**
 * Fills `out` with `samples` (ids from `epochOrder`) of `epoch` in a run with `seed`, and returns
 * how many it filled.
 */
export function fillBatch(
  set: TrainingSet,
  samples: Uint32Array,
  stream: { seed: number; epoch: number },
  out: BatchBuffers,
): number {
  const { digits } = set;
  const n = samples.length;
  if ((set.pairs ?? 0) > set.negatives) {
    throw new RangeError(`pairs (${set.pairs}) must not exceed negatives (${set.negatives})`);
  }
  if (out.labels.length < n) {
    throw new RangeError(`a batch of ${n} does not fit ${out.labels.length}`);
  }
  const digitIds: number[] = [], digitSlots: number[] = [];
  const negativeIds: number[] = [], negativeSlots: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = samples[i]!;
    if (id < digits.count) {
      digitIds.push(id);
      digitSlots.push(i);
      out.labels[i] = digits.labels[id]!;
    } else {
      negativeIds.push(id);
      negativeSlots.push(i);
      out.labels[i] = NOT_A_DIGIT;
    }
  }
  const negatives = new Uint8Array(negativeIds.length * PIXELS);
  negativeIds.forEach((id, k) => {
    const image = negatives.subarray(k * PIXELS, (k + 1) * PIXELS);
    setNegative(set, stream, id - digits.count, image);
  });
  // The digits as drawn, or cut from a neighbour.
  const shown = new Uint8Array(digitIds.length * PIXELS);
  digitIds.forEach((id, k) => {
    const image = shown.subarray(k * PIXELS, (k + 1) * PIXELS);
    if (isCutDigit(stream.seed, stream.epoch, id, set.cutShare ?? 0)) {
      renderCutDigit(digits, stream, id, image);
    } else image.set(digits.images.subarray(id * PIXELS, (id + 1) * PIXELS));
  });
  if (!set.augment) {
    place(shown, digitSlots, out.images);
    place(negatives, negativeSlots, out.images);
    return n;
  }
  // Negatives are augmented as digits are, so that resampling alone never tells the two apart;
  // each image's draws are keyed by its sample id.
  const augmented = new Uint8Array(digitIds.length * PIXELS);
  augmentBatch(shown, digitIds.map((_, k) => k), augmented, stream, undefined, digitIds);
  place(augmented, digitSlots, out.images);
  const augmentedNegatives = new Uint8Array(negatives.length);
  const order = negativeIds.map((_, k) => k);
  augmentBatch(negatives, order, augmentedNegatives, stream, undefined, negativeIds);
  place(augmentedNegatives, negativeSlots, out.images);
  return n;
}

/** Copies image k of `images` to slot `slots[k]` of `out`. */
function place(images: Uint8Array, slots: number[], out: Uint8Array): void {
  slots.forEach((slot, k) => {
    out.set(images.subarray(k * PIXELS, (k + 1) * PIXELS), slot * PIXELS);
  });
}
