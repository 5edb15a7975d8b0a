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

/** Whether the model finds "not a digit" likelier than any digit: what the API refuses. */
export function isNotADigit(scores: Scores): boolean {
  return scores.notDigit > Math.max(...scores.digits);
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
