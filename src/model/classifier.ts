/**
 * A loaded model ready to answer: what the Worker (and `deno task serve`) hold once per isolate.
 * It runs the same `toBatch` and `predict` as the trainer's evaluation, so they cannot drift.
 */
import {
  type Arch,
  ARCHITECTURES,
  countParams,
  disposeBatch,
  freezeForInference,
  NUM_CLASSES,
  type Params,
  PIXELS,
  predict,
  toBatch,
  toTensors,
} from "./model.ts";
import { loadModel } from "./model_file.ts";
import type { Tensor } from "@tensorflow/tfjs-core";

/** The public facts about the served model. */
export interface ModelInfo {
  name: string;
  sha256: string;
  format: string;
  version: number;
  architecture: string;
  parameters: number;
  normalization: { mean: number; std: number };
  test: { accuracy: number; loss: number };
  trained_at: string;
}

/** What the model says of one image. */
export interface Scores {
  /**
   * The probability of each digit 0–9: the model's (calibrated) softmax outputs, which sum to
   * 1 − `notDigit`.
   */
  digits: Float32Array;
  /** The probability that the image is not a digit (0 for a model without that class). */
  notDigit: number;
}

export interface Classifier {
  readonly info: ModelInfo;
  /** Scores of each image (784 bytes, MNIST format: 0 background, 255 ink), in one forward pass. */
  score(images: Uint8Array[]): Scores[];
  /** The digits' probabilities [10] of each image: `score(images)[i].digits`. */
  predict(images: Uint8Array[]): Float32Array[];
}

/** Whether the model finds "not a digit" likelier than any digit: what /read leaves out of a number. */
export function isNotADigit(scores: Scores): boolean {
  return scores.notDigit > Math.max(...scores.digits);
}

/**
 * How many times likelier than "not a digit" each digit must be for /classify to answer it: 1.25,
 * and 5 for a 1. A 1 is a single stroke, as l, I, J, ! and | are: sent on its own, it needs the
 * stronger case. In a number (/read) its neighbours say it is a digit, and
 * {@linkcode isNotADigit} decides. Chosen on the sets never reported (docs/training.md, "One digit,
 * two networks").
 */
export const ODDS_TO_ANSWER: readonly number[] = Array.from(
  { length: NUM_CLASSES },
  (_, digit) => (digit === 1 ? 5 : 1.25),
);

/** Why /classify refuses an image: its likeliest digit, that digit's probability and the odds it missed. */
export interface Refusal {
  digit: number;
  confidence: number;
  odds: number;
}

/**
 * Whether /classify refuses an image sent on its own, and why: its likeliest digit is not
 * {@linkcode ODDS_TO_ANSWER} times likelier than "not a digit". `undefined` when it is answered.
 */
export function refusal(scores: Scores): Refusal | undefined {
  const { digit, confidence } = bestDigit(scores.digits);
  const odds = ODDS_TO_ANSWER[digit]!;
  return scores.notDigit * odds > confidence ? { digit, confidence, odds } : undefined;
}

/** Whether /classify refuses an image sent on its own ({@linkcode refusal}). */
export function isRefused(scores: Scores): boolean {
  return refusal(scores) !== undefined;
}

/**
 * One image's scores from a model and its partner (models/index.json): whether it is a digit is the
 * model's call, its "not a digit" kept as it is; which digit, both networks': the geometric mean of
 * their digit probabilities, scaled to sum to 1 − "not a digit". Two networks trained two ways miss
 * different digits (docs/training.md, "One digit, two networks").
 */
export function readTogether(own: Scores, partner: Scores): Scores {
  const mean = own.digits.map((p, d) => Math.sqrt(p * partner.digits[d]!));
  const sum = mean.reduce((a, b) => a + b, 0);
  // Two networks each sure of a digit the other rules out share none: the model's own reading.
  if (!(sum > 0)) return own;
  return { digits: mean.map((p) => (p * (1 - own.notDigit)) / sum), notDigit: own.notDigit };
}

/** The digit an image reads as, and how sure the model is: the largest of its probabilities. */
export function bestDigit(probabilities: Float32Array): { digit: number; confidence: number } {
  let digit = 0;
  for (let d = 1; d < probabilities.length; d++) {
    if (probabilities[d]! > probabilities[digit]!) digit = d;
  }
  return { digit, confidence: probabilities[digit] ?? 0 };
}

/**
 * Checks and uploads a model (weights + manifest) to the active tfjs backend.
 * @throws ModelFileError when the files are not a valid, matching pair.
 */
export async function loadClassifier(weights: Uint8Array, manifest: unknown): Promise<Classifier> {
  const model = await loadModel(weights, manifest);
  const m = model.manifest;
  const info: ModelInfo = {
    name: m.name,
    sha256: m.weights.sha256,
    format: m.format,
    version: m.version,
    architecture: m.architecture.description,
    parameters: countParams(model.arch),
    normalization: m.architecture.normalization,
    test: { accuracy: m.test.accuracy, loss: m.test.loss },
    trained_at: m.created_at,
  };
  const params = toTensors(model.arch, model.params);
  freezeForInference(model.arch, params);
  return createClassifier(model.arch, params, info, m.calibration?.temperature ?? 1);
}

function createClassifier(
  arch: Arch,
  params: Params,
  info: ModelInfo,
  temperature: number,
): Classifier {
  const classifier: Classifier = {
    info,
    predict: (images) => classifier.score(images).map((s) => s.digits),
    score(digits) {
      const images = new Uint8Array(digits.length * PIXELS);
      digits.forEach((d, i) => {
        if (d.length !== PIXELS) {
          throw new RangeError(`a digit is ${PIXELS} bytes, got ${d.length}`);
        }
        images.set(d, i * PIXELS);
      });
      const batch = toBatch(images, digits.length);
      // Disposed even when the forward pass or the read back throws: an isolate serves many requests.
      let probs: Tensor | undefined;
      try {
        probs = predict(arch, params, batch, temperature);
        const flat = probs.dataSync() as Float32Array;
        const classes = ARCHITECTURES[arch].classes;
        return digits.map((_, i) => ({
          digits: flat.slice(i * classes, i * classes + NUM_CLASSES),
          notDigit: classes > NUM_CLASSES ? flat[i * classes + NUM_CLASSES]! : 0,
        }));
      } finally {
        probs?.dispose();
        disposeBatch(batch);
      }
    },
  };
  return classifier;
}

/**
 * What /classify answers for each image sent on its own: `model`'s scores, and, with a `partner`,
 * which digit read together with the partner's ({@linkcode readTogether}); {@linkcode isRefused}
 * then decides.
 */
export function scoreAlone(
  model: Classifier,
  digits: Uint8Array[],
  partner?: Classifier,
): Scores[] {
  const own = model.score(digits);
  if (!partner) return own;
  const second = partner.score(digits);
  return own.map((scores, i) => readTogether(scores, second[i]!));
}
