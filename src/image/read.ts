/**
 * Reading a written number, the image side: the grey working map → candidate digits and the ways
 * they may be combined; then, given the model's probabilities for every candidate, the best reading.
 *
 * Stages (each in its own function, tested directly in tests/segment_test.ts):
 * find the writing (_ink.ts, as /classify) → group its components into lines (_lines.ts) → within a
 * line, merge the pieces of one digit and cut components too wide to be one digit (_pieces.ts) → a
 * lattice of candidates, each a run of consecutive pieces (_lattice.ts) → each candidate in MNIST's
 * format by {@linkcode toMnist}, the geometry /classify uses → the model scores every candidate in
 * one batch (the caller) → {@linkcode chooseReading}: the path through each line's lattice with the
 * highest sum of log-probabilities, as the segmentation-based entries of the ICFHR 2014 handwritten
 * digit string competition do.
 *
 * Order: lines top to bottom, digits left to right within a line.
 */
import { findWriting, inkPolarity, subtractBackground } from "./_ink.ts";
import { findLines } from "./_lines.ts";
import { cutPieces } from "./_pieces.ts";
import { buildLattice, type LineLattice, scorePath } from "./_lattice.ts";
import type { FloatMap, MapBox } from "./types.ts";

export type { MapBox } from "./types.ts";
export type { LineLattice } from "./_lattice.ts";

/**
 * The working map's long side for /read (decodeImage's `maxSide`): a 1200×400 canvas of 4–6 digits
 * maps to 400×134 (digits 60–100 px tall), a 12 MP phone photo to 504×378 (a number across a third
 * of the frame: digits ~40 px), while finding and cutting the digits stays a few milliseconds.
 */
export const READ_MAX_SIDE = 512;

/** Solid ink is at least this share of the strongest: what a shadow leaves behind is fainter. */
const SOLID_SHARE = 0.35;
/**
 * Writing spans at least this share of the map's long side (10 px of 512). /classify's 4 % (20 px)
 * refused a small digit in a 3 MP photo as "the only mark is a dot"; half of it read one more number
 * in 150 and in 300 written numbers from MNIST training digits, and no speck as a digit.
 */
const MIN_SPAN_SHARE = 0.02;

/** One piece of writing that may be read as one digit. */
export interface DigitCandidate {
  /** Where it is on the working map. */
  box: MapBox;
  /** Its 28×28 MNIST-format image: 784 bytes, 0 background, 255 ink. */
  pixels: Uint8ClampedArray;
}

/** Everything the model must score to read a number: candidates and how they may be combined. */
export interface Segmentation {
  /** Every candidate digit of every line; the model scores each. */
  candidates: DigitCandidate[];
  /** Lines top to bottom, each the lattice of its pieces (for {@linkcode chooseReading}). */
  lines: LineLattice[];
}

/** What the model says of one candidate: as the classifier's `Scores` (src/model/classifier.ts). */
export interface CandidateScores {
  /** The ten digits' probabilities, summing to 1 − `notDigit`. */
  digits: ArrayLike<number> & Iterable<number>;
  /** The probability that it is no digit (0 for a model without that class). */
  notDigit: number;
}

/** A chosen reading: candidate indices in reading order, lines top to bottom, left to right in each. */
export interface Reading {
  lines: number[][];
}

/**
 * Finds the digits a grey working map may hold and every plausible way to cut it into digits.
 *
 * @example
 * ```ts ignore
 * const { map } = await decodeImage(bytes, { background: 255, limits, maxSide: READ_MAX_SIDE });
 * const segmentation = segmentNumber(map);
 * const reading = chooseReading(segmentation, classifier.predict(segmentation.candidates.map((c) => c.pixels)));
 * ```
 *
 * @param grey The grey working map over white, [height, width] 0…255.
 * @returns Candidates (at most {@linkcode MAX_CANDIDATES}) and the lattice of each line.
 * @throws {ImageError} `no_ink` when the image is blank or holds only specks.
 */
export function segmentNumber(grey: FloatMap): Segmentation {
  const writing = findWriting(subtractBackground(inkPolarity(grey)), {
    solidShare: SOLID_SHARE,
    minSpanShare: MIN_SPAN_SHARE,
    // Pieces are cut from solid ink's components, which own no traced pixel: tracing would cost
    // and change nothing here.
    faintStrokes: false,
  });
  const lines = findLines(writing);
  const pieces = cutPieces(writing, lines);
  return buildLattice(writing.ink, pieces);
}

/**
 * The most probable reading: per line, the path through its lattice that maximises the sum of each
 * chosen candidate's log-probability of its best digit and of its being a digit at all, less the
 * penalties for cutting through ink, for merging pieces apart and for a shape unlike its line's
 * digits (much shorter or wider), plus a bonus per digit that keeps a whole digit from being read
 * as a run of "1"-like slivers or two digits as one.
 *
 * @param segmentation From {@linkcode segmentNumber}.
 * @param scores What the model says of each candidate, in the candidates' order: its ten digits'
 *   probabilities and the probability that it is no digit (the classifier's `Scores`).
 * @returns Candidate indices, lines top to bottom, left to right; a line with nothing read is left out.
 * @throws {RangeError} when there is not one score with ten digits per candidate.
 */
export function chooseReading(
  segmentation: Segmentation,
  scores: readonly CandidateScores[],
): Reading {
  const { candidates, lines } = segmentation;
  if (scores.length !== candidates.length) {
    throw new RangeError(
      `'scores' must hold one score per candidate: expected ${candidates.length}, got ${scores.length}`,
    );
  }
  const odds = scores.map(({ digits, notDigit }, i) => {
    if (digits.length !== 10) {
      throw new RangeError(`'scores[${i}].digits' must hold 10 values: got ${digits.length}`);
    }
    return { digit: Math.max(...digits), notDigit };
  });
  return {
    lines: lines.map((line) => scorePath(line, odds)).filter((path) => path.length > 0),
  };
}

export { MAX_CANDIDATES } from "./_lattice.ts";
