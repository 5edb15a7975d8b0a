/**
 * Images of no digit, for the classifier's "not a digit" class: letters, symbols, shapes, scribbles,
 * scattered strokes and noise, rendered here in MNIST's format so that nothing is downloaded. Each is
 * drawn as pen strokes with a random width, slant, turn and wobble, as handwriting, then made
 * MNIST-like by the very step uploads go through ({@linkcode toMnist}: the ink fitted to 20×20,
 * centred by mass in 28×28).
 *
 * Nothing written like a digit is drawn: the font leaves out look-alikes (see _stroke_font.ts; it
 * draws letters that share a digit's part, for the served network only); no shape is a bare ring or
 * tall box (0), a lone arc (a bracket, 1), an upright zigzag (3) or an arrow
 * whose head makes a 7; scribbles and stroke clutter have too many turns or pieces to be one.
 *
 * Cost: about 45 µs an image on one core, half of it in toMnist (60,000 in 2.6–2.9 s, measured with
 * `renderNegatives` on a 2-core machine shared with other work).
 *
 * Coordinates: x right, y down; drawings in a unit box, then wobbled, turned, slanted and scaled.
 */
import { createRng, type Rng, shuffle } from "../model/random.ts";
import { toMnist } from "../image/preprocess.ts";
import {
  DIGIT_PART_GLYPHS,
  LETTER_FORMS,
  LETTER_PATHS,
  parsePath,
  type Polyline,
  SYMBOL_PATHS,
} from "./_stroke_font.ts";

/** Pixels in one image: [28, 28]. */
const PIXELS = 784;
/** MNIST's box for the ink's longer side. */
const DIGIT_BOX = 20;

/** What a negative shows. */
export const NEGATIVE_KINDS = [
  "letter",
  "symbol",
  "shape",
  "scribble",
  "strokes",
  "noise",
] as const;
/** One of {@linkcode NEGATIVE_KINDS}. */
export type NegativeKind = typeof NEGATIVE_KINDS[number];

/**
 * The share of each kind: written characters most, since those are what people upload instead of a
 * digit; noise least, since the preprocessing already drops most specks.
 */
export const NEGATIVE_SHARES: Readonly<Record<NegativeKind, number>> = {
  letter: 0.35,
  symbol: 0.15,
  shape: 0.2,
  scribble: 0.15,
  strokes: 0.1,
  noise: 0.05,
};

/** The font's letters, capitals and lowercase (with "all", a and E in a second form too). */
export const LETTERS: readonly string[] = Object.keys(LETTER_PATHS);
/** The font's symbols. */
export const SYMBOLS: readonly string[] = Object.keys(SYMBOL_PATHS);

/**
 * Which letters and symbols negatives are drawn from: "all", or "no digit parts", leaving out those
 * that share a part with a digit and the second forms (DIGIT_PART_GLYPHS, LETTER_FORMS). The
 * reader (src/train/run.ts, READER) draws "no digit parts": its candidates are digits, pieces of
 * digits and pairs, and to it a J is a 5 drawn with its bar apart.
 */
export type NegativeGlyphs = "all" | "no digit parts";

const apart = ([name]: readonly [string, string]) => !DIGIT_PART_GLYPHS.includes(name);

/** A set's letters and symbols as [name, path], in drawing order (a second form: its letter). */
function glyphPaths(glyphs: NegativeGlyphs) {
  const letter = LETTERS.map((c) => [c, LETTER_PATHS[c]!] as const);
  const symbol = SYMBOLS.map((c) => [c, SYMBOL_PATHS[c]!] as const);
  return glyphs === "all"
    ? { letter: [...letter, ...Object.entries(LETTER_FORMS)], symbol }
    : { letter: letter.filter(apart), symbol: symbol.filter(apart) };
}

/** The letters and symbols `glyphs` draws, by name. */
export function negativeGlyphNames(
  glyphs: NegativeGlyphs,
): { letters: string[]; symbols: string[] } {
  const { letter, symbol } = glyphPaths(glyphs);
  return { letters: letter.map(([name]) => name), symbols: symbol.map(([name]) => name) };
}

/** Each set's letters and symbols, drawn once into polylines. */
function glyphStrokes(glyphs: NegativeGlyphs): { letter: Polyline[][]; symbol: Polyline[][] } {
  const { letter, symbol } = glyphPaths(glyphs);
  return {
    letter: letter.map(([, path]) => parsePath(path)),
    symbol: symbol.map(([, path]) => parsePath(path)),
  };
}
const GLYPH_STROKES: Record<NegativeGlyphs, ReturnType<typeof glyphStrokes>> = {
  all: glyphStrokes("all"),
  "no digit parts": glyphStrokes("no digit parts"),
};

/**
 * Renders negative `index` of the set with `seed` into `out`: the same bytes for the same pair,
 * whatever else is rendered.
 *
 * @example
 * ```ts
 * const image = new Uint8Array(784);
 * const kind = renderNegative(1, 0, image); // e.g. "letter"; image is [28, 28], 0 … 255 ink
 * ```
 *
 * @param seed Any 32-bit integer.
 * @param index A non-negative integer.
 * @param out 784 bytes, [28, 28] row-major; overwritten with 0 = background … 255 = ink.
 * @param glyphs Which letters and symbols may be drawn (default "all").
 * @returns What was drawn.
 * @throws {RangeError} When `out` is not 784 bytes, `seed`, `index` are not integers or `glyphs`
 * names no set.
 */
export function renderNegative(
  seed: number,
  index: number,
  out: Uint8Array,
  glyphs: NegativeGlyphs = "all",
): NegativeKind {
  if (out.length !== PIXELS) {
    throw new RangeError(`'out' must hold ${PIXELS} bytes: current length is ${out.length}`);
  }
  if (!Number.isInteger(seed)) {
    throw new RangeError(`'seed' must be an integer: current value is ${seed}`);
  }
  if (!Number.isInteger(index) || index < 0) {
    throw new RangeError(`'index' must be a non-negative integer: current value is ${index}`);
  }
  if (!Object.hasOwn(GLYPH_STROKES, glyphs)) {
    throw new RangeError(`'glyphs' must be "all" or "no digit parts": current value is ${glyphs}`);
  }
  return drawNegative(negativeRng(seed, index), out, glyphs);
}

/**
 * Negatives `start` … `start + count - 1` of the set with `seed`.
 *
 * @returns [count, 28, 28] bytes.
 * @throws {RangeError} When `count` or `start` is not a non-negative integer.
 */
export function renderNegatives(seed: number, start: number, count: number): Uint8Array {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`'count' must be a non-negative integer: current value is ${count}`);
  }
  const images = new Uint8Array(count * PIXELS);
  for (let i = 0; i < count; i++) {
    renderNegative(seed, start + i, images.subarray(i * PIXELS, (i + 1) * PIXELS));
  }
  return images;
}

/**
 * Draws one negative from `rng`'s numbers into `out` (784 bytes), for a caller with its own
 * per-sample generator.
 */
export function drawNegative(
  rng: Rng,
  out: Uint8Array,
  glyphs: NegativeGlyphs = "all",
): NegativeKind {
  const kind = pickKind(rng);
  const drawing = kind === "letter" || kind === "symbol"
    ? strokes(pick(rng, GLYPH_STROKES[glyphs][kind]), 0.25)
    : DRAW[kind](rng);
  const pen = between(rng, 1.5, 3.3); // width in MNIST pixels
  const lines = handwrite(rng, drawing);
  out.set(renderInk(lines, drawing.widths, pen));
  return kind;
}

/** Strokes in a unit box, each with its width relative to the pen; `turn`: largest rotation. */
interface Drawing {
  lines: Polyline[];
  widths: number[];
  turn: number;
}

const DRAW: Record<Exclude<NegativeKind, "letter" | "symbol">, (rng: Rng) => Drawing> = {
  shape: (rng) => pick(rng, SHAPES)(rng),
  scribble: (rng) => pick(rng, SCRIBBLES)(rng),
  strokes: clutter,
  noise: (rng) => rng.next() < 0.5 ? speckles(rng) : blotches(rng),
};

/** The seed and index mixed by murmur3's 32-bit finaliser, so neighbouring indices are unrelated. */
function negativeRng(seed: number, index: number): Rng {
  let h = 0x6a09e667;
  for (const v of [seed, index]) {
    h = Math.imul(h ^ (v >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return createRng(h);
}

function pickKind(rng: Rng): NegativeKind {
  let u = rng.next();
  for (const kind of NEGATIVE_KINDS) {
    u -= NEGATIVE_SHARES[kind];
    if (u < 0) return kind;
  }
  return NEGATIVE_KINDS[0];
}

const between = (rng: Rng, low: number, high: number) => low + (high - low) * rng.next();
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng.next() * items.length)]!;
const strokes = (lines: Polyline[], turn: number, width = 1): Drawing => ({
  lines,
  widths: lines.map(() => width),
  turn,
});

// ---- shapes: no bare ring or tall box (0), no lone arc (a bracket, 1), no arrow up or down (1, 7) ----

const fixed = (path: string, turn = 0.3) => {
  const lines = parsePath(path);
  return () => strokes(lines, turn);
};

/** A closed polygon through `corners`, the pen running on a little past the start as hands do. */
function closed(rng: Rng, corners: number[]): Polyline {
  const over = between(rng, 0, 0.25);
  const [x0, y0, x1, y1] = corners as [number, number, number, number];
  return [...corners, x0, y0, x0 + (x1 - x0) * over, y0 + (y1 - y0) * over];
}

function regular(sides: number, step: number, phase: number): number[] {
  const corners: number[] = [];
  for (let k = 0; k < sides; k++) {
    const a = phase + (2 * Math.PI * k * step) / sides;
    corners.push(0.5 + 0.5 * Math.cos(a), 0.5 - 0.5 * Math.sin(a));
  }
  return corners;
}

const SHAPES: ((rng: Rng) => Drawing)[] = [
  (rng) => strokes([closed(rng, regular(3, 1, Math.PI / 2 + between(rng, -0.3, 0.3)))], 0.3),
  (rng) => {
    const w = between(rng, 1.2, 1.6); // never taller than wide: a tall box reads as a 0
    return strokes([closed(rng, [0, 0, w, 0, w, 1, 0, 1])], 0.2);
  },
  (rng) => strokes([closed(rng, regular(4, 1, Math.PI / 2))], 0.15), // diamond
  (rng) => strokes([closed(rng, regular(5, 2, Math.PI / 2))], 0.3), // pentagram
  fixed("M0 0 L1 0 L1 1 L0 1 L0 0 L1 1 M1 0 L0 1", 0.2), // boxed cross
  fixed("M0 0 L1 0 L1 0.7 L0 0.7 L0 0 L0.5 0.4 L1 0", 0.2), // envelope
  fixed(
    "M0.1 0.4 L0.1 1 L0.9 1 L0.9 0.4 L0.5 0 L0.1 0.4 L0.9 0.4 M0.4 1 L0.4 0.7 L0.58 0.7 L0.58 1",
  ), // house
  fixed("M0 0.25 L1 0.25 M0.78 0.05 L1 0.25 L0.78 0.45", 0.25), // →
  fixed("M1 0.25 L0 0.25 M0.22 0.05 L0 0.25 L0.22 0.45", 0.25), // ←
  fixed("M0 0.25 L1 0.25 M0.8 0.07 L1 0.25 L0.8 0.43 M0.2 0.07 L0 0.25 L0.2 0.43", 0.25), // ↔
  fixed("M0.5 1 L0.08 0.41 A0.27 0.28 0.23 0.23 215 0 A0.73 0.28 0.23 0.23 180 -35 L0.5 1"), // heart
  fixed("O0.5 0.5 0.5 0.5 0 360 M0.33 0.3 L0.33 0.4 M0.67 0.3 L0.67 0.4 O0.5 0.5 0.3 0.28 205 335"), // smiley
  fixed("O0.5 0.5 0.17 0.17 0 360 " + rays(8)), // sun
  spiral,
  wave,
  zigzag,
];

function rays(count: number): string {
  let path = "";
  for (let k = 0; k < count; k++) {
    const a = (2 * Math.PI * k) / count, c = Math.cos(a), s = Math.sin(a);
    path += `M${0.5 + 0.28 * c} ${0.5 - 0.28 * s} L${0.5 + 0.5 * c} ${0.5 - 0.5 * s} `;
  }
  return path;
}

/** At least two and a half turns, so it reads as a coil rather than a 6 or a 0. */
function spiral(rng: Rng): Drawing {
  const end = 2 * Math.PI * between(rng, 2.5, 3.2);
  const line: Polyline = [];
  for (let a = 0; a <= end; a += 0.25) {
    const r = 0.5 * (0.08 + 0.92 * (a / end));
    line.push(0.5 + r * Math.cos(a), 0.5 - r * Math.sin(a));
  }
  return strokes([line], Math.PI);
}

function wave(rng: Rng): Drawing {
  const periods = between(rng, 2.5, 4), height = between(rng, 0.12, 0.3);
  const line: Polyline = [];
  for (let k = 0; k <= 64; k++) {
    line.push(k / 64, height * Math.sin((2 * Math.PI * periods * k) / 64));
  }
  return strokes([line], 0.25);
}

/** Horizontal teeth only: a zigzag stood up reads as a 3. */
function zigzag(rng: Rng): Drawing {
  const teeth = 4 + Math.floor(rng.next() * 4), height = between(rng, 0.25, 0.5);
  const line: Polyline = [];
  for (let k = 0; k <= 2 * teeth; k++) line.push(k / (2 * teeth), k % 2 ? height : 0);
  return strokes([line], 0.2);
}

// ---- scribbles and clutter ----

const SCRIBBLES: ((rng: Rng) => Drawing)[] = [
  (rng) => strokes(walk(rng), Math.PI, 0.75), // a thinner pen: a thick tangle clots into a bold 6
  (rng) => strokes(hatching(rng), 0.6), // the passes upright: lying down they stack like a 3
  coil,
];

/**
 * A pen wandering with sharp turns, bouncing off the box's sides, smoothed by a Catmull-Rom spline
 * through its stops. It goes on until it has crossed most of the box both ways and its path is six
 * times the box's longer side: a digit's path is at most four times (an 8), so the tangle cannot be
 * one, nor a small knot with a tail (a bold 6 or 9).
 */
function walk(rng: Rng): Polyline[] {
  const xs = [rng.next()], ys = [rng.next()];
  let heading = rng.next() * 2 * Math.PI, length = 0;
  let x0 = xs[0]!, x1 = x0, y0 = ys[0]!, y1 = y0;
  const tangled = () =>
    length >= 6 * Math.max(x1 - x0, y1 - y0) && Math.min(x1 - x0, y1 - y0) >= 0.6;
  while (xs.length < 10 || (!tangled() && xs.length < 40)) {
    heading += between(rng, -2.4, 2.4);
    const step = between(rng, 0.3, 0.6);
    const x = bounce(xs.at(-1)! + step * Math.cos(heading));
    const y = bounce(ys.at(-1)! + step * Math.sin(heading));
    length += Math.hypot(x - xs.at(-1)!, y - ys.at(-1)!);
    xs.push(x), ys.push(y);
    x0 = Math.min(x0, x), x1 = Math.max(x1, x), y0 = Math.min(y0, y), y1 = Math.max(y1, y);
  }
  const stops = xs.length, line: Polyline = [];
  for (let k = 0; k < stops - 1; k++) {
    const p0 = Math.max(0, k - 1), p3 = Math.min(stops - 1, k + 2);
    for (let s = 0; s < 5; s++) {
      const t = s / 5;
      line.push(
        catmullRom(xs[p0]!, xs[k]!, xs[k + 1]!, xs[p3]!, t),
        catmullRom(ys[p0]!, ys[k]!, ys[k + 1]!, ys[p3]!, t),
      );
    }
  }
  line.push(xs[stops - 1]!, ys[stops - 1]!);
  return [line];
}

/** A coordinate reflected back into [0, 1]. */
const bounce = (v: number) => v < 0 ? -v : v > 1 ? 2 - v : v;

function catmullRom(p0: number, p1: number, p2: number, p3: number, t: number): number {
  return 0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t * t +
    (3 * p1 - p0 - 3 * p2 + p3) * t * t * t);
}

/**
 * Shading: the pen going back and forth over a squarish patch, so it never thins to a bar (a bold 1),
 * its passes as far apart as the 20-px box allows.
 */
function hatching(rng: Rng): Polyline[] {
  const passes = 5 + Math.floor(rng.next() * 3), height = between(rng, 0.7, 1.2);
  const line: Polyline = [];
  for (let k = 0; k <= passes; k++) {
    line.push(k / passes + between(rng, -0.03, 0.03), k % 2 ? height : between(rng, 0, 0.15));
  }
  return [line];
}

/**
 * Joined loops along a line, as a row of cursive e's: three or more, so never a sideways 8, and
 * kept lying down, since a standing chain of loops reads as an 8 or a bold 1.
 */
function coil(rng: Rng): Drawing {
  const loops = 3 + Math.floor(rng.next() * 2), advance = between(rng, 0.07, 0.1);
  const line: Polyline = [];
  for (let a = 0; a <= 2 * Math.PI * loops; a += 0.3) {
    line.push(advance * a - 0.3 * Math.sin(a), -0.6 * Math.cos(a));
  }
  return strokes([line], 0.4);
}

/**
 * Three to six short strokes, straight or bent, one to a cell of a 3×3 grid, in at least two rows
 * and two columns, each shorter than a cell: spread out, rarely touching, never a dashed line or
 * strokes that join into a 7, a 4 or a 5.
 */
function clutter(rng: Rng): Drawing {
  const count = 3 + Math.floor(rng.next() * 4);
  const cells = shuffle(rng, new Uint32Array(9).map((_, i) => i));
  while (
    new Set(cells.slice(0, count).map((c) => c % 3)).size < 2 ||
    new Set(cells.slice(0, count).map((c) => Math.floor(c / 3))).size < 2
  ) {
    shuffle(rng, cells);
  }
  const lines: Polyline[] = [];
  for (let k = 0; k < count; k++) {
    const x = ((cells[k]! % 3) + rng.next()) / 3, y = (Math.floor(cells[k]! / 3) + rng.next()) / 3;
    const a = rng.next() * Math.PI, length = between(rng, 0.15, 0.32);
    const dx = (Math.cos(a) * length) / 2, dy = (Math.sin(a) * length) / 2;
    const bend = between(rng, -0.3, 0.3) * length;
    lines.push(bent(x - dx, y - dy, x - dy * bend, y + dx * bend, x + dx, y + dy));
  }
  return strokes(lines, Math.PI);
}

/** A quadratic curve from (x0, y0) to (x1, y1) pulled towards (cx, cy), as a polyline. */
function bent(x0: number, y0: number, cx: number, cy: number, x1: number, y1: number): Polyline {
  const line: Polyline = [];
  for (let k = 0; k <= 6; k++) {
    const t = k / 6, u = 1 - t;
    line.push(u * u * x0 + 2 * u * t * cx + t * t * x1, u * u * y0 + 2 * u * t * cy + t * t * y1);
  }
  return line;
}

function speckles(rng: Rng): Drawing {
  const count = 20 + Math.floor(rng.next() * 60),
    w = between(rng, 0.4, 1),
    h = between(rng, 0.4, 1);
  const lines: Polyline[] = [], widths: number[] = [];
  for (let k = 0; k < count; k++) {
    lines.push([rng.next() * w, rng.next() * h]);
    widths.push(between(rng, 0.3, 0.9));
  }
  return { lines, widths, turn: 0 };
}

/** Round blots among specks; small enough that a few together do not make an 8 or a bold 1. */
function blotches(rng: Rng): Drawing {
  const count = 3 + Math.floor(rng.next() * 4);
  const lines: Polyline[] = [], widths: number[] = [];
  for (let k = 0; k < count; k++) {
    lines.push([rng.next(), rng.next()]);
    widths.push(between(rng, 1, 2.2));
  }
  for (let k = 0; k < 8 + rng.next() * 12; k++) {
    lines.push([rng.next(), rng.next()]);
    widths.push(between(rng, 0.3, 0.8));
  }
  return { lines, widths, turn: 0 };
}

// ---- handwriting and rendering ----

/**
 * A hand's version of the drawing: a smooth wobble of the whole, each stroke a little off where the
 * pen was lifted, then turned, slanted and stretched.
 */
function handwrite(rng: Rng, { lines, turn }: Drawing): Polyline[] {
  const amplitude = between(rng, 0.01, 0.045);
  // a wave of about half a cycle or less across the box, in a random direction, for each axis
  const fx = between(rng, -2, 2), fy = between(rng, -2, 2), p = rng.next() * 2 * Math.PI;
  const gx = between(rng, -2, 2), gy = between(rng, -2, 2), q = rng.next() * 2 * Math.PI;
  const angle = between(rng, -turn, turn), shear = between(rng, -0.35, 0.35);
  const stretch = Math.exp(between(rng, -0.2, 0.2));
  const c = Math.cos(angle), s = Math.sin(angle);
  return lines.map((line) => {
    const ox = between(rng, -0.02, 0.02), oy = between(rng, -0.02, 0.02);
    const out: Polyline = new Array(line.length);
    for (let i = 0; i < line.length; i += 2) {
      const x0 = line[i]!, y0 = line[i + 1]!;
      const x = x0 + ox + amplitude * Math.sin(fx * x0 + fy * y0 + p);
      const y = y0 + oy + amplitude * Math.sin(gx * x0 + gy * y0 + q);
      const sx = (x + shear * y) * stretch, sy = y / stretch;
      out[i] = c * sx - s * sy;
      out[i + 1] = s * sx + c * sy;
    }
    return out;
  });
}

/**
 * Draws the strokes, anti-aliased by distance to each segment, at the scale at which their longer
 * side plus the pen is 20 px (drawing finer and letting the fit average it down looks the same and
 * costs twice as much), then makes the ink MNIST-like as uploads are.
 */
function renderInk(lines: Polyline[], widths: number[], pen: number): Uint8ClampedArray {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const line of lines) {
    for (let i = 0; i < line.length; i += 2) {
      x0 = Math.min(x0, line[i]!), x1 = Math.max(x1, line[i]!);
      y0 = Math.min(y0, line[i + 1]!), y1 = Math.max(y1, line[i + 1]!);
    }
  }
  const long = Math.max(x1 - x0, y1 - y0, 1e-3);
  const scale = Math.max(DIGIT_BOX - pen, DIGIT_BOX / 2) / long;
  const radius = pen / 2;
  const pad = radius * Math.max(...widths) + 2;
  const width = Math.ceil((x1 - x0) * scale + 2 * pad);
  const height = Math.ceil((y1 - y0) * scale + 2 * pad);
  const data = new Float32Array(width * height);
  const map = { width, height, data };
  lines.forEach((line, k) => {
    const r = radius * widths[k]!;
    let ax = (line[0]! - x0) * scale + pad, ay = (line[1]! - y0) * scale + pad;
    if (line.length === 2) drawSegment(map, ax, ay, ax, ay, r);
    for (let i = 2; i < line.length; i += 2) {
      const bx = (line[i]! - x0) * scale + pad, by = (line[i + 1]! - y0) * scale + pad;
      drawSegment(map, ax, ay, bx, by, r);
      ax = bx, ay = by;
    }
  });
  return toMnist(map, inkBounds(map));
}

/**
 * Coverage of a round-capped pen of radius `r` along a→b, kept where it is darker than before. Each
 * row visits only the columns near the part of the segment within reach of it.
 */
function drawSegment(
  map: { width: number; height: number; data: Float32Array },
  ax: number,
  ay: number,
  bx: number,
  by: number,
  r: number,
): void {
  const { width, height, data } = map;
  const reach = r + 0.5; // coverage is 0 beyond this distance
  const top = Math.max(0, Math.floor(Math.min(ay, by) - reach));
  const bottom = Math.min(height - 1, Math.ceil(Math.max(ay, by) + reach));
  const dx = bx - ax, dy = by - ay, length2 = dx * dx + dy * dy;
  for (let y = top; y <= bottom; y++) {
    const qy = y + 0.5 - ay;
    // the stretch of the segment within `reach` of this row, in t
    let from = 0, to = 1;
    if (Math.abs(dy) > 1e-9) {
      const t0 = (qy - reach) / dy, t1 = (qy + reach) / dy;
      from = Math.max(0, Math.min(t0, t1)), to = Math.min(1, Math.max(t0, t1));
      if (from > to) continue;
    }
    const xa = ax + from * dx, xb = ax + to * dx;
    const x0 = Math.max(0, Math.floor(Math.min(xa, xb) - reach));
    const x1 = Math.min(width - 1, Math.ceil(Math.max(xa, xb) + reach));
    for (let x = x0; x <= x1; x++) {
      const qx = x + 0.5 - ax;
      const t = length2 > 0 ? Math.min(1, Math.max(0, (qx * dx + qy * dy) / length2)) : 0;
      const ex = qx - t * dx, ey = qy - t * dy;
      const cover = reach - Math.sqrt(ex * ex + ey * ey);
      if (cover <= 0) continue;
      const v = cover >= 1 ? 255 : 255 * cover;
      if (v > data[y * width + x]!) data[y * width + x] = v;
    }
  }
}

function inkBounds({ width, height, data }: { width: number; height: number; data: Float32Array }) {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[y * width + x]! <= 0) continue;
      x0 = Math.min(x0, x), x1 = Math.max(x1, x), y0 = Math.min(y0, y), y1 = Math.max(y1, y);
    }
  }
  return { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}
