/** The JSON answer for one classified digit. */
import { bestDigit, type ModelInfo, type Scores } from "../model/classifier.ts";

/** What POST /classify answers for one digit. */
export interface Prediction {
  digit: number;
  confidence: number;
  /** The model's probabilities of the digits 0–9 (with `not_a_digit` they sum to 1). */
  probabilities: number[];
  /** The probability that the image is not a digit (0 from a model without that class). */
  not_a_digit: number;
  model: { name: string; sha256: string };
  /** The model's partner (models/index.json), when it was asked which digit too. */
  partner?: { name: string; sha256: string };
  /** With `?debug=1`: the 28×28 image the model saw, row-major, 0 background and 255 ink. */
  debug?: { width: 28; height: 28; pixels: number[] };
}

/**
 * Builds the answer for one digit from the model's probabilities.
 *
 * @param scores The probabilities of the ten digits and of "not a digit": the model's, or the model's
 *   and its partner's read together.
 * @param model The model that produced them.
 * @param seen With `?debug=1`, the 28×28 input the model saw.
 * @param partner The model's partner, when it was asked which digit too.
 */
export function toPrediction(
  scores: Scores,
  model: ModelInfo,
  seen?: Uint8ClampedArray,
  partner?: ModelInfo,
): Prediction {
  const { digit, confidence } = bestDigit(scores.digits);
  const prediction: Prediction = {
    digit,
    confidence,
    probabilities: Array.from(scores.digits),
    not_a_digit: scores.notDigit,
    model: { name: model.name, sha256: model.sha256 },
  };
  if (partner) prediction.partner = { name: partner.name, sha256: partner.sha256 };
  if (seen) prediction.debug = { width: 28, height: 28, pixels: Array.from(seen) };
  return prediction;
}
