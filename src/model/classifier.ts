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

export interface Classifier {
  readonly info: ModelInfo;
  /** Softmax probabilities [10] for each digit (784 bytes, MNIST format: 0 background, 255 ink). */
  predict(digits: Uint8Array[]): Float32Array[];
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
  return {
    info,
    predict(digits) {
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
        return digits.map((_, i) => flat.slice(i * classes, (i + 1) * classes));
      } finally {
        probs?.dispose();
        disposeBatch(batch);
      }
    },
  };
}
