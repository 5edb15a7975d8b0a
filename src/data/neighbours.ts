/**
 * What a number's reader cuts out of digits written close together, for training the network
 * `POST /read` uses (docs/training.md, "A network for reading numbers"):
 *
 * - **a digit cut from a touching neighbour** ({@linkcode renderCutDigit}): a training digit drawn
 *   beside another, their inks sharing 1–3 columns at their closest row, cut apart by a straight
 *   line at the column of least ink between them (±1 px), and the digit's side kept: with what of
 *   the neighbour crosses the cut, without what of the digit does. Its label stays the digit's.
 * - **two digits taken for one** ({@linkcode renderPair}): two training digits side by side, from a
 *   third of a digit overlapping to a little apart, sometimes one of them cut part way through.
 *   Labelled "not a digit".
 *
 * Both are fitted by the very step uploads go through ({@linkcode toMnist}), and draw only from the
 * training digits given, so held-out and test figures stay unseen. About 70 µs an image on one core.
 *
 * Coordinates: x right, y down, on a canvas two digits wide with room for a vertical offset.
 */
import { toMnist } from "../image/preprocess.ts";
import type { MapBox } from "../image/types.ts";
import { IMAGE_SIDE as SIDE, PIXELS } from "../model/architecture.ts";
import { type Rng, sampleRng, STREAMS } from "../model/random.ts";
import type { Split } from "./mnist.ts";

/** How far two digits of a pair may overlap, in pixels: about a third of a digit's ~20-px ink. */
const PAIR_MOST_OVERLAP = 0.35 * SIDE * 0.7;
const CANVAS_W = 2 * SIDE + 8;
const CANVAS_H = SIDE + 8;
/** Where the first digit's frame is drawn: 4 px down, so the second may sit higher. */
const TOP = 4;

/**
 * Whether training digit `id` is shown cut from a neighbour in `epoch`, for `share` of the digits:
 * the first draw of the digit's own stream, so the answer needs nothing else.
 */
export function isCutDigit(seed: number, epoch: number, id: number, share: number): boolean {
  if (!(share >= 0 && share <= 1)) throw new RangeError(`share must be in [0, 1]: got ${share}`);
  return share > 0 && sampleRng(seed, epoch, id, STREAMS.neighbour).next() < share;
}

/**
 * Renders training digit `id` of `digits` as cut from a touching neighbour (another training digit,
 * on its left or right) into `out` (784 bytes, 0 = background … 255 = ink). The same bytes for the
 * same (seed, epoch, id).
 */
export function renderCutDigit(
  digits: Split,
  stream: { seed: number; epoch: number },
  id: number,
  out: Uint8Array,
): void {
  checkOut(out);
  const rng = sampleRng(stream.seed, stream.epoch, id, STREAMS.neighbour);
  rng.next(); // isCutDigit's draw
  const other = Math.floor(rng.next() * digits.count);
  const digitOnLeft = rng.next() < 0.5;
  const [a, b] = digitOnLeft ? [id, other] : [other, id];
  const dy = Math.round((rng.next() - 0.5) * 5);
  // b's first ink column at the closest row goes `overlap` columns left of a's last: 1–3 shared
  const overlap = Math.floor(rng.next() * 3);
  const gap = rowGap(digits.images, a, b, dy);
  const bx = gap === undefined ? SIDE - 6 : -gap - overlap;
  const canvas = new Float32Array(CANVAS_W * CANVAS_H);
  draw(canvas, digits.images, a, 0, TOP);
  draw(canvas, digits.images, b, bx, TOP + dy);
  // the cut: the column of least ink from where b's ink starts to where a's ends, then ±1 px
  const from = Math.max(0, bx + inkColumns(digits.images, b).x0 - 1);
  const to = Math.min(CANVAS_W - 1, inkColumns(digits.images, a).x1 + 1);
  let cut = from, least = Infinity;
  for (let x = from; x <= to; x++) {
    let sum = 0;
    for (let y = 0; y < CANVAS_H; y++) sum += canvas[y * CANVAS_W + x]!;
    if (sum < least) [least, cut] = [sum, x];
  }
  cut += Math.floor(rng.next() * 3) - 1;
  const [x0, x1] = digitOnLeft ? [0, cut - 1] : [cut, CANVAS_W - 1];
  // nothing left on the digit's side (the cut past all its ink): the digit as it is
  if (!fitted(canvas, x0, x1, out)) out.set(digits.images.subarray(id * PIXELS, (id + 1) * PIXELS));
}

/**
 * Renders pair `index` of `epoch`'s pairs from `digits` into `out` (784 bytes): two training digits
 * side by side, touching, overlapping or a little apart, sometimes with the second cut part way
 * through, or the first. The same bytes for the same arguments.
 */
export function renderPair(
  digits: Split,
  stream: { seed: number; epoch: number },
  index: number,
  out: Uint8Array,
): void {
  checkOut(out);
  // keyed past the training digits' ids, so no pair shares a stream with a cut digit
  const rng = sampleRng(stream.seed, stream.epoch, digits.count + index, STREAMS.neighbour);
  const a = pick(rng, digits), b = pick(rng, digits);
  const left = inkColumns(digits.images, a), right = inkColumns(digits.images, b);
  // the gap between the two inks, in pixels: from a third of a digit overlapping to a little apart
  const gap = Math.round(-PAIR_MOST_OVERLAP + rng.next() * (PAIR_MOST_OVERLAP + 3));
  const dy = Math.round((rng.next() - 0.5) * 6);
  const bx = left.x1 + 1 + gap - right.x0;
  const canvas = new Float32Array(CANVAS_W * CANVAS_H);
  draw(canvas, digits.images, a, 0, TOP);
  draw(canvas, digits.images, b, bx, TOP + dy);
  // most pairs whole; some with the second digit, or the first, cut part way through
  let x0 = 0, x1 = CANVAS_W - 1;
  const u = rng.next(), cutAt = 0.35 + 0.45 * rng.next();
  if (u < 0.3) x1 = Math.round(bx + right.x0 + cutAt * (right.x1 - right.x0));
  else if (u < 0.45) x0 = Math.round(left.x1 - cutAt * (left.x1 - left.x0));
  if (!fitted(canvas, Math.max(0, x0), Math.min(CANVAS_W - 1, x1), out)) out.fill(0);
}

function checkOut(out: Uint8Array): void {
  if (out.length !== PIXELS) {
    throw new RangeError(`out must hold ${PIXELS} bytes: got ${out.length}`);
  }
}

function pick(rng: Rng, digits: Split): number {
  return Math.floor(rng.next() * digits.count);
}

/**
 * Clears the canvas outside columns x0 … x1, as a reader's cut leaves that ink out, and fits what is
 * left into `out`; false when nothing is left.
 */
function fitted(canvas: Float32Array, x0: number, x1: number, out: Uint8Array): boolean {
  let bx0 = CANVAS_W, bx1 = -1, by0 = CANVAS_H, by1 = -1;
  for (let y = 0; y < CANVAS_H; y++) {
    for (let x = 0; x < CANVAS_W; x++) {
      const i = y * CANVAS_W + x;
      if (x < x0 || x > x1) canvas[i] = 0;
      else if (canvas[i]! > 0) {
        bx0 = Math.min(bx0, x), bx1 = Math.max(bx1, x);
        by0 = Math.min(by0, y), by1 = Math.max(by1, y);
      }
    }
  }
  if (bx1 < 0) return false;
  const box: MapBox = { x: bx0, y: by0, width: bx1 - bx0 + 1, height: by1 - by0 + 1 };
  out.set(toMnist({ width: CANVAS_W, height: CANVAS_H, data: canvas }, box));
  return true;
}

/**
 * How far right of digit a's ink digit b's starts at their closest row, both drawn at x = 0 and b
 * `dy` lower; undefined when no row holds ink of both. Ink is half coverage or more.
 */
function rowGap(images: Uint8Array, a: number, b: number, dy: number): number | undefined {
  let gap: number | undefined;
  for (let y = Math.max(0, dy); y < Math.min(SIDE, SIDE + dy); y++) {
    const rowA = a * PIXELS + y * SIDE, rowB = b * PIXELS + (y - dy) * SIDE;
    let right = SIDE - 1;
    while (right >= 0 && images[rowA + right]! < 128) right--;
    let left = 0;
    while (left < SIDE && images[rowB + left]! < 128) left++;
    if (right >= 0 && left < SIDE) gap = Math.min(gap ?? Infinity, left - right);
  }
  return gap;
}

/** The first and last columns of digit `id` holding any ink (the whole frame if none does). */
function inkColumns(images: Uint8Array, id: number): { x0: number; x1: number } {
  let x0 = SIDE, x1 = -1;
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      if (images[id * PIXELS + y * SIDE + x]! > 0) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
      }
    }
  }
  return x1 < 0 ? { x0: 0, x1: SIDE - 1 } : { x0, x1 };
}

/** Draws digit `id` with its frame's corner at (dx, dy), keeping the darker ink where two meet. */
function draw(canvas: Float32Array, images: Uint8Array, id: number, dx: number, dy: number): void {
  for (let y = 0; y < SIDE; y++) {
    const cy = y + dy;
    if (cy < 0 || cy >= CANVAS_H) continue;
    for (let x = 0; x < SIDE; x++) {
      const cx = x + dx;
      if (cx < 0 || cx >= CANVAS_W) continue;
      const v = images[id * PIXELS + y * SIDE + x]!, i = cy * CANVAS_W + cx;
      if (v > canvas[i]!) canvas[i] = v;
    }
  }
}
