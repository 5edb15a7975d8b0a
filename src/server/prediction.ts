/** The JSON answer for one classified digit. */
import type { ModelInfo, Scores } from "../model/classifier.ts";

/** What POST /classify answers for one digit. */
export interface Prediction {
  digit: number;
  confidence: number;
  /** The model's probabilities of the digits 0–9 (with `not_a_digit` they sum to 1). */
  probabilities: number[];
  /** The probability that the image is not a digit (0 from a model without that class). */
  not_a_digit: number;
  model: { name: string; sha256: string };
  /** With `?debug=1`: the 28×28 image the model saw, row-major, 0 background and 255 ink. */
  debug?: { width: 28; height: 28; pixels: number[] };
}

/**
 * Builds the answer for one digit from the model's probabilities.
 *
 * @param scores The model's probabilities of the ten digits and of "not a digit".
 * @param model The model that produced them.
 * @param seen With `?debug=1`, the 28×28 input the model saw.
 */
export function toPrediction(
  scores: Scores,
  model: ModelInfo,
  seen?: Uint8ClampedArray,
): Prediction {
  const probabilities = scores.digits;
  let digit = 0;
  for (let i = 1; i < probabilities.length; i++) {
    if (probabilities[i]! > probabilities[digit]!) digit = i;
  }
  const prediction: Prediction = {
    digit,
    confidence: probabilities[digit]!,
    probabilities: Array.from(probabilities),
    not_a_digit: scores.notDigit,
    model: { name: model.name, sha256: model.sha256 },
  };
  if (seen) prediction.debug = { width: 28, height: 28, pixels: Array.from(seen) };
  return prediction;
}
