/**
 * A small single-stroke font (in the manner of Hershey's) of letters and symbols, for the "not a
 * digit" class (negatives.ts). Glyphs are paths, drawn once into polylines.
 *
 * Left out, because a reader could fairly take them for a digit or they are not writing at all:
 * - O o Q @-less circles: 0.
 * - I l i | / \ ( ) [ ]: a bare upright stroke or bracket is a 1.
 * - Z z Σ: 2. S s $: 5. B ∞: 8. G b: 6. g q: 9 (or a 6 turned round).
 * - - _ . , : ; ' " `: one short line or dots, specks, not writing.
 *
 * Drawn although they share a part with a digit (D J d f j p y ! { } & ~ ^ £), since people write
 * them and the network otherwise reads them as 0, 1, 4 or 9: with them, the second forms below and
 * 192 hidden units to learn them, the network refused 4.5 more non-digits in a hundred on the sets
 * never reported, over two training seeds (docs/training.md, "Letters with a digit's part").
 *
 * Coordinates: x right, y down, the glyph between y = 0 and y = 1 (lowercase letters between their
 * x-height, 0.45, and the baseline, 1; ascenders from 0). Only the aspect matters: every glyph is
 * fitted to MNIST's 20-px box.
 */

/** One stroke, as [x0, y0, x1, y1, …]; a single point is a dot. */
export type Polyline = number[];

/**
 * Path syntax, one command letter then its numbers:
 * `M x y` starts a stroke; `L x y` a line; `Q cx cy x y` a quadratic curve;
 * `A cx cy rx ry a0 a1` an elliptical arc from angle a0 to a1 (degrees, counter-clockwise as seen,
 * 0 = right), joined to the stroke by a line; `O …` the same arc starting a stroke of its own.
 */
export function parsePath(path: string): Polyline[] {
  const tokens = path.match(/[A-Z]|-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/g) ?? [];
  const strokes: Polyline[] = [];
  let stroke: Polyline = [];
  let i = 0;
  const num = () => Number(tokens[i++]);
  while (i < tokens.length) {
    const command = tokens[i++];
    if (command === "M") {
      stroke = [num(), num()];
      strokes.push(stroke);
    } else if (command === "L") {
      stroke.push(num(), num());
    } else if (command === "Q") {
      const x0 = stroke.at(-2)!, y0 = stroke.at(-1)!;
      const cx = num(), cy = num(), x1 = num(), y1 = num();
      for (let k = 1; k <= 8; k++) {
        const t = k / 8, u = 1 - t;
        stroke.push(
          u * u * x0 + 2 * u * t * cx + t * t * x1,
          u * u * y0 + 2 * u * t * cy + t * t * y1,
        );
      }
    } else if (command === "A" || command === "O") {
      if (command === "O") strokes.push(stroke = []);
      const cx = num(), cy = num(), rx = num(), ry = num(), a0 = num(), a1 = num();
      const steps = Math.max(2, Math.ceil(Math.abs(a1 - a0) / 12));
      for (let k = 0; k <= steps; k++) {
        const a = ((a0 + ((a1 - a0) * k) / steps) * Math.PI) / 180;
        stroke.push(cx + rx * Math.cos(a), cy - ry * Math.sin(a));
      }
    } else {
      throw new SyntaxError(`Stroke path command must be M, L, Q, A or O: got "${command}"`);
    }
  }
  return strokes;
}

/** Letters, as paths: capitals and the lowercase letters that differ from them. */
export const LETTER_PATHS: Readonly<Record<string, string>> = {
  A: "M0 1 L0.35 0 L0.7 1 M0.14 0.62 L0.56 0.62",
  C: "O0.4 0.5 0.4 0.5 45 315",
  D: "M0 0 L0 1 M0 0 L0.25 0 A0.25 0.5 0.4 0.5 90 -90 L0 1",
  E: "M0.6 0 L0 0 L0 1 L0.62 1 M0 0.5 L0.45 0.5",
  F: "M0.62 0 L0 0 L0 1 M0 0.48 L0.45 0.48",
  H: "M0 0 L0 1 M0.65 0 L0.65 1 M0 0.5 L0.65 0.5",
  J: "M0.15 0 L0.75 0 M0.5 0 L0.5 0.75 A0.25 0.75 0.25 0.25 0 -150",
  K: "M0 0 L0 1 M0.6 0 L0 0.6 M0.2 0.42 L0.62 1",
  L: "M0 0 L0 1 L0.6 1",
  M: "M0 1 L0.05 0 L0.4 0.7 L0.75 0 L0.8 1",
  N: "M0 1 L0 0 L0.65 1 L0.65 0",
  P: "M0 1 L0 0 L0.3 0 A0.3 0.27 0.3 0.27 90 -90 L0 0.54",
  R: "M0 1 L0 0 L0.3 0 A0.3 0.27 0.3 0.27 90 -90 L0 0.54 M0.28 0.54 L0.65 1",
  T: "M0 0 L0.75 0 M0.37 0 L0.37 1",
  U: "M0 0 L0 0.65 A0.3 0.65 0.3 0.35 180 360 L0.6 0",
  V: "M0 0 L0.35 1 L0.7 0",
  W: "M0 0 L0.22 1 L0.45 0.3 L0.68 1 L0.9 0",
  X: "M0 0 L0.65 1 M0.65 0 L0 1",
  Y: "M0 0 L0.35 0.5 L0.7 0 M0.35 0.5 L0.35 1",
  a: "O0.27 0.725 0.27 0.275 40 390 M0.54 0.45 L0.54 0.92 Q0.55 1 0.64 0.98",
  c: "O0.27 0.725 0.27 0.275 50 310",
  d: "O0.27 0.725 0.27 0.275 0 360 M0.54 0 L0.54 1",
  e: "M0.02 0.73 L0.54 0.73 A0.27 0.725 0.27 0.275 0 320",
  f: "M0.55 0.08 Q0.45 0 0.35 0.02 Q0.22 0.06 0.22 0.25 L0.22 1 M0 0.45 L0.48 0.45",
  h: "M0 0 L0 1 M0 0.62 Q0.05 0.45 0.25 0.45 Q0.47 0.45 0.47 0.62 L0.47 1",
  j: "M0.35 0.1 M0.35 0.35 L0.35 0.82 A0.2 0.82 0.15 0.18 0 -170",
  k: "M0 0 L0 1 M0.45 0.45 L0 0.8 M0.16 0.7 L0.5 1",
  m: "M0 0.45 L0 1 M0 0.6 Q0.05 0.45 0.19 0.45 Q0.35 0.45 0.35 0.6 L0.35 1 " +
    "M0.35 0.6 Q0.4 0.45 0.54 0.45 Q0.7 0.45 0.7 0.6 L0.7 1",
  n: "M0 0.45 L0 1 M0 0.6 Q0.05 0.45 0.25 0.45 Q0.46 0.45 0.46 0.62 L0.46 1",
  p: "M0 0.02 L0 1 O0.26 0.27 0.26 0.25 0 360",
  r: "M0 0.45 L0 1 M0 0.66 Q0.08 0.45 0.4 0.47",
  t: "M0.16 0.05 L0.16 0.88 Q0.17 1 0.3 1 Q0.4 1 0.46 0.92 M0 0.4 L0.42 0.4",
  u: "M0 0.45 L0 0.78 A0.22 0.78 0.22 0.22 180 360 M0.44 0.45 L0.44 1",
  v: "M0 0.45 L0.25 1 L0.5 0.45",
  w: "M0 0.45 L0.17 1 L0.35 0.62 L0.53 1 L0.7 0.45",
  x: "M0 0.45 L0.48 1 M0.48 0.45 L0 1",
  y: "M0 0 L0.3 0.55 M0.6 0 L0.2 1",
};

/** Second forms of letters written two ways: print's double-storey a, the cursive capital E. */
export const LETTER_FORMS: Readonly<Record<string, string>> = {
  a: "M0.05 0.55 Q0.2 0.42 0.35 0.45 Q0.5 0.48 0.5 0.6 L0.5 0.92 Q0.52 1 0.6 0.98 " +
    "M0.5 0.66 Q0.2 0.66 0.08 0.76 Q0 0.86 0.08 0.95 Q0.2 1.03 0.35 0.95 L0.5 0.84",
  E: "O0.35 0.27 0.3 0.25 45 270 A0.38 0.76 0.36 0.24 90 315",
};

/** Symbols, as paths. */
export const SYMBOL_PATHS: Readonly<Record<string, string>> = {
  "#": "M0.32 0 L0.2 1 M0.66 0 L0.54 1 M0 0.33 L0.85 0.33 M0 0.67 L0.8 0.67",
  "+": "M0.4 0.1 L0.4 0.9 M0 0.5 L0.8 0.5",
  "=": "M0 0.38 L0.8 0.38 M0 0.66 L0.8 0.66",
  "≠": "M0 0.38 L0.8 0.38 M0 0.66 L0.8 0.66 M0.6 0.1 L0.2 0.95",
  "÷": "M0 0.5 L0.8 0.5 M0.4 0.18 M0.4 0.82",
  "?": "M0.02 0.28 Q0.02 0 0.32 0 Q0.62 0 0.62 0.25 Q0.62 0.42 0.32 0.52 L0.32 0.72 M0.32 0.97",
  "%": "M0.7 0 L0.05 1 O0.16 0.17 0.14 0.16 0 360 O0.6 0.83 0.14 0.16 0 360",
  "*": "M0.35 0.05 L0.35 0.95 M0 0.28 L0.7 0.72 M0 0.72 L0.7 0.28",
  "@": "O0.45 0.52 0.16 0.19 0 360 M0.62 0.3 L0.62 0.66 Q0.63 0.8 0.76 0.79 Q0.9 0.75 0.9 0.5 " +
    "A0.45 0.5 0.45 0.5 0 320",
  "<": "M0.62 0.1 L0 0.5 L0.62 0.9",
  ">": "M0 0.1 L0.62 0.5 L0 0.9",
  "π": "M0 0.15 Q0.08 0.02 0.3 0.04 L0.9 0.03 M0.3 0.04 L0.24 1 M0.66 0.04 Q0.62 0.9 0.82 1",
  "€": "O0.5 0.5 0.4 0.5 50 310 M0 0.4 L0.58 0.4 M0 0.6 L0.52 0.6",
  "✓": "M0 0.45 L0.3 1 L0.8 0",
  "!": "M0.1 0 L0.1 0.7 M0.1 0.95",
  "{": "M0.4 0 Q0.2 0 0.2 0.15 L0.2 0.38 Q0.2 0.5 0 0.5 Q0.2 0.5 0.2 0.62 L0.2 0.85 Q0.2 1 0.4 1",
  "}": "M0 0 Q0.2 0 0.2 0.15 L0.2 0.38 Q0.2 0.5 0.4 0.5 Q0.2 0.5 0.2 0.62 L0.2 0.85 Q0.2 1 0 1",
  "&":
    "M0.7 1 L0.15 0.35 Q0.05 0.2 0.15 0.08 Q0.25 0 0.35 0.08 Q0.45 0.2 0.3 0.38 L0.1 0.6 Q0 0.75 0.1 0.9 Q0.25 1.02 0.45 0.9 L0.75 0.55",
  "~": "M0 0.55 Q0.15 0.35 0.35 0.5 Q0.55 0.65 0.7 0.45",
  "^": "M0 0.6 L0.3 0 L0.6 0.6",
  "£": "M0.6 0.12 Q0.5 0 0.38 0 Q0.2 0 0.2 0.2 L0.2 0.9 Q0.15 1 0 1 L0.7 1 M0 0.5 L0.5 0.5",
};

/**
 * The glyphs above that share a part with a digit (the file's comment): the served network learns
 * them, and LETTER_FORMS' second forms too; the reader learns neither (negatives.ts,
 * `NegativeGlyphs`).
 */
export const DIGIT_PART_GLYPHS: readonly string[] = [..."DJdfjpy!{}&~^£"];

/** Glyphs that must never be drawn: read as a digit, or not writing (see the file's comment). */
export const EXCLUDED_GLYPHS: readonly string[] = [
  ..."OoQIli|/\\()[]ZzΣSs$B∞Gbgq-_.,:;'\"`0123456789",
];
