/** The JSON answer for one classified digit. */
import type { ModelInfo } from "../model/classifier.ts";

/** What POST /classify answers for one digit. */
export interface Prediction {
  digit: number;
  confidence: number;
  /** Softmax probabilities of the digits 0–9. */
  probabilities: number[];
  model: { name: string; sha256: string };
  /** With `?debug=1`: the 28×28 image the model saw, row-major, 0 background and 255 ink. */
  debug?: { width: 28; height: 28; pixels: number[] };
}

/**
 * Builds the answer for one digit from the model's probabilities.
 *
 * @param probabilities The ten softmax outputs.
 * @param model The model that produced them.
 * @param seen With `?debug=1`, the 28×28 input the model saw.
 */
export function toPrediction(
  probabilities: Float32Array,
  model: ModelInfo,
  seen?: Uint8ClampedArray,
): Prediction {
  let digit = 0;
  for (let i = 1; i < probabilities.length; i++) {
    if (probabilities[i]! > probabilities[digit]!) digit = i;
  }
  const prediction: Prediction = {
    digit,
    confidence: probabilities[digit]!,
    probabilities: Array.from(probabilities),
    model: { name: model.name, sha256: model.sha256 },
  };
  if (seen) prediction.debug = { width: 28, height: 28, pixels: Array.from(seen) };
  return prediction;
}
