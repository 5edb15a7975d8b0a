/**
 * The evaluation set of written numbers for POST /read: numbers of 1–6 MNIST digits as people send
 * them — canvas exports (transparent RGBA PNG), paper scans (grey paper with texture and noise,
 * slightly rotated; PNG or JPEG) and phone photos (3 and 12 MP JPEGs with every EXIF orientation) —
 * each with its text and the true box of every digit's ink in pixels of the upright original. Digits
 * vary in size, sit on a gently sloping baseline with varying spacing, and in about one number in six
 * two neighbours touch or overlap. The reported set is built from MNIST **test** digits; tuning uses
 * `source: "train"` only. The same seed gives the same numbers, and number k does not depend on
 * `count`.
 *
 * Coordinates: x right, y down, in pixels of the picture named. "Layout" pixels are those of a
 * number written with digits 100 px tall, before it is scaled, rotated and placed; `u`, `v` are a
 * digit's own 28×28 grid.
 *
 * @example
 * ```ts ignore
 * for await (const number of writtenNumbers({ source: "train", count: 30 })) {
 *   console.log(number.name, number.text, number.boxes);
 * }
 * ```
 */
import { encode as encodePng } from "fast-png";
import { loadDataset } from "../../src/data/mnist.ts";
import { PIXELS } from "../../src/model/model.ts";
import { createRng, type Rng } from "../../src/model/random.ts";
import { loadTestDigits } from "./mnist_test_set.ts";
import {
  CAMERAS,
  encodePhotoJpeg,
  exifOrientationSegment,
  type Orientation,
  ORIENTATIONS,
  photoScene,
  type Picture,
  storeForOrientation,
  withSegmentAfterSoi,
} from "./phone_photos.ts";

/** How a number reaches the server. */
export type NumberForm = "canvas" | "scan" | "photo";
/** The forms, in the order numbers take them (number k has form k mod 3). */
export const NUMBER_FORMS: readonly NumberForm[] = ["canvas", "scan", "photo"];
/** The seed of the reported set. */
export const DEFAULT_SEED = 16;
/** Longest number written. */
export const MAX_LENGTH = 6;

/** A rectangle: x, y of the top-left corner, width, height, in pixels of the upright original. */
export interface DigitBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One written number: the bytes a client sends and the truth about them. */
export interface WrittenNumber {
  /** Says what it is, for reports: `17: "4021", 12 MP photo, orientation 6, touching`. */
  name: string;
  /** The digits, left to right. */
  text: string;
  bytes: Uint8Array<ArrayBuffer>;
  type: "image/png" | "image/jpeg";
  /** The EXIF Orientation a viewer applies (1 for PNGs). */
  orientation: Orientation;
  /** The upright original's size (after EXIF orientation). */
  width: number;
  height: number;
  /** The box of each digit's ink (coverage ≥ {@linkcode INK_COVERAGE}), in `text`'s order. */
  boxes: DigitBox[];
  form: NumberForm;
  /** Finer than `form`: "canvas PNG", "scan PNG", "scan JPEG", "3 MP photo", "12 MP photo". */
  kind: string;
  /** Two neighbouring digits' inks share pixels (measured on the picture, not intended). */
  touching: boolean;
  source: "test" | "train";
  /** Index of each digit in its MNIST split, in `text`'s order. */
  indices: number[];
}

/** Options for {@linkcode writtenNumbers}. */
export interface WrittenNumbersOptions {
  /** MNIST split the digits come from: "test" for the reported set, "train" for tuning. */
  source: "test" | "train";
  /** How many numbers (before `only` filters them). */
  count: number;
  /** Default {@linkcode DEFAULT_SEED}. */
  seed?: number;
  /** Only the numbers of this form among the `count` (the same numbers the full set holds). */
  only?: NumberForm;
}

/** A pixel is a digit's ink, for its box and for touching, from this coverage (0–1) up. */
export const INK_COVERAGE = 0.25;

const MNIST_SIDE = 28;
/** MNIST digits are normalised to 20 px in their longer side. */
const MNIST_INK_SIDE = 20;
/** Layout digits are this tall (before per-digit size changes). */
const LAYOUT_HEIGHT = 100;
const CAMERA_3MP = CAMERAS.find((camera) => camera.name === "3 MP")!;
const CAMERA_12MP = CAMERAS.find((camera) => camera.name === "12 MP")!;
const CANVASES: readonly [number, number][] = [[1200, 400], [1600, 500], [900, 300]];

const between = (rng: Rng, low: number, high: number) => low + rng.next() * (high - low);
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng.next() * items.length)]!;
const smoothstep = (from: number, to: number, x: number) => {
  const t = Math.min(1, Math.max(0, (x - from) / (to - from)));
  return t * t * (3 - 2 * t);
};

/** A digit split: 28×28 grids and labels. */
interface Digits {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

const splits = new Map<"test" | "train", Promise<Digits>>();

/** The split's digits, loaded once (the test set through the same loader as every test-set user). */
function digitsOf(source: "test" | "train"): Promise<Digits> {
  let split = splits.get(source);
  if (!split) {
    split = source === "test"
      ? loadTestDigits().then(({ digits, labels }) => {
        const images = new Uint8Array(digits.length * PIXELS);
        digits.forEach((digit, i) => images.set(digit, i * PIXELS));
        return { images, labels, count: labels.length };
      })
      : loadDataset().then(({ train }) => train);
    splits.set(source, split);
  }
  return split;
}

/**
 * A digit placed on a picture: its ink box's centre at (`cx`, `cy`), `scale` pixels per grid cell,
 * turned by `angle` radians (clockwise, y down).
 */
interface Placed {
  digit: Uint8Array;
  /** The ink box in the digit's grid: u0…u1 × v0…v1 (cell edges). */
  u0: number;
  u1: number;
  v0: number;
  v1: number;
  cx: number;
  cy: number;
  scale: number;
  angle: number;
}

/** A digit's ink coverage 0–1 over a rectangle of the picture. */
interface Coverage {
  x: number;
  y: number;
  width: number;
  height: number;
  ink: Float32Array;
}

/** The digit's ink box in its own grid: the cells of intensity ≥ 64. */
function gridInkBox(digit: Uint8Array): { u0: number; u1: number; v0: number; v1: number } {
  let u0 = MNIST_SIDE, u1 = 0, v0 = MNIST_SIDE, v1 = 0;
  for (let v = 0; v < MNIST_SIDE; v++) {
    for (let u = 0; u < MNIST_SIDE; u++) {
      if (digit[v * MNIST_SIDE + u]! < 64) continue;
      u0 = Math.min(u0, u),
        u1 = Math.max(u1, u + 1),
        v0 = Math.min(v0, v),
        v1 = Math.max(v1, v + 1);
    }
  }
  return u1 > u0 ? { u0, u1, v0, v1 } : { u0: 4, u1: 24, v0: 4, v1: 24 };
}

/** The corners of a placed digit's ink box on the picture. */
function corners(p: Placed): [number, number][] {
  const w = (p.u1 - p.u0) * p.scale / 2, h = (p.v1 - p.v0) * p.scale / 2;
  const cos = Math.cos(p.angle), sin = Math.sin(p.angle);
  return [[-w, -h], [w, -h], [w, h], [-w, h]].map(([x, y]) => [
    p.cx + x! * cos - y! * sin,
    p.cy + x! * sin + y! * cos,
  ]);
}

/**
 * Renders a placed digit: MNIST's grid sampled bilinearly, its edges sharpened by `edge` (the
 * intensities where a pen's stroke starts and is full), clipped to a `width`×`height` picture.
 */
function render(p: Placed, edge: [number, number], clip: { width: number; height: number }) {
  const xs = corners(p).map(([x]) => x), ys = corners(p).map(([, y]) => y);
  const pad = p.scale * 1.5; // the grid's cells beyond the ink box can hold faint ink
  const x = Math.max(0, Math.floor(Math.min(...xs) - pad));
  const y = Math.max(0, Math.floor(Math.min(...ys) - pad));
  const width = Math.max(0, Math.min(clip.width, Math.ceil(Math.max(...xs) + pad)) - x);
  const height = Math.max(0, Math.min(clip.height, Math.ceil(Math.max(...ys) + pad)) - y);
  const ink = new Float32Array(width * height);
  const cos = Math.cos(p.angle), sin = Math.sin(p.angle), step = 1 / p.scale;
  const uc = (p.u0 + p.u1) / 2, vc = (p.v0 + p.v1) / 2, digit = p.digit;
  for (let j = 0; j < height; j++) {
    const dy = y + j + 0.5 - p.cy;
    for (let i = 0; i < width; i++) {
      const dx = x + i + 0.5 - p.cx;
      // Grid coordinates of the pixel's centre, shifted so cell centres are whole numbers.
      const u = uc + (dx * cos + dy * sin) * step - 0.5;
      const v = vc + (-dx * sin + dy * cos) * step - 0.5;
      const u0 = Math.floor(u), v0 = Math.floor(v);
      if (u0 < -1 || v0 < -1 || u0 >= MNIST_SIDE || v0 >= MNIST_SIDE) continue;
      const fu = u - u0, fv = v - v0;
      const at = (uu: number, vv: number) =>
        uu < 0 || vv < 0 || uu >= MNIST_SIDE || vv >= MNIST_SIDE ? 0 : digit[vv * MNIST_SIDE + uu]!;
      const value = ((at(u0, v0) * (1 - fu) + at(u0 + 1, v0) * fu) * (1 - fv) +
        (at(u0, v0 + 1) * (1 - fu) + at(u0 + 1, v0 + 1) * fu) * fv) / 255;
      if (value > 0) ink[j * width + i] = smoothstep(edge[0], edge[1], value);
    }
  }
  return { x, y, width, height, ink };
}

/** The box of a coverage's ink pixels, undefined when it has none. */
function inkBox(c: Coverage): DigitBox | undefined {
  let x0 = Infinity, x1 = -1, y0 = Infinity, y1 = -1;
  for (let j = 0; j < c.height; j++) {
    for (let i = 0; i < c.width; i++) {
      if (c.ink[j * c.width + i]! < INK_COVERAGE) continue;
      x0 = Math.min(x0, i), x1 = Math.max(x1, i), y0 = Math.min(y0, j), y1 = Math.max(y1, j);
    }
  }
  return x1 < 0 ? undefined : { x: c.x + x0, y: c.y + y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/** Whether two coverages have an ink pixel in common. */
function inksMeet(a: Coverage, b: Coverage): boolean {
  const x0 = Math.max(a.x, b.x), x1 = Math.min(a.x + a.width, b.x + b.width);
  const y0 = Math.max(a.y, b.y), y1 = Math.min(a.y + a.height, b.y + b.height);
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      if (
        a.ink[(y - a.y) * a.width + x - a.x]! >= INK_COVERAGE &&
        b.ink[(y - b.y) * b.width + x - b.x]! >= INK_COVERAGE
      ) return true;
    }
  }
  return false;
}

/**
 * How far right of `a`'s ink `b`'s ink starts, at its closest row (negative when they already
 * overlap); undefined when no row holds ink of both.
 */
function rowGap(a: Coverage, b: Coverage): number | undefined {
  let gap: number | undefined;
  const y0 = Math.max(a.y, b.y), y1 = Math.min(a.y + a.height, b.y + b.height);
  for (let y = y0; y < y1; y++) {
    let right = -Infinity, left = Infinity;
    for (let i = a.width - 1; i >= 0 && right === -Infinity; i--) {
      if (a.ink[(y - a.y) * a.width + i]! >= 0.5) right = a.x + i;
    }
    for (let i = 0; i < b.width && left === Infinity; i++) {
      if (b.ink[(y - b.y) * b.width + i]! >= 0.5) left = b.x + i;
    }
    if (right > -Infinity && left < Infinity) gap = Math.min(gap ?? Infinity, left - right);
  }
  return gap;
}

/**
 * Writes the digits in layout pixels: each 100 px tall ±15 %, tilted up to ±0.1 rad, its ink's
 * bottom on a baseline sloping by up to ±0.06 rad (±3 px of jitter), 12–45 % of its height from the
 * last one. With `touch` (a neighbour index), that neighbour is pushed into its left one until
 * their inks overlap by 2–10 % of the height.
 */
function layOut(digits: Uint8Array[], rng: Rng, edge: [number, number], touch?: number) {
  const slope = Math.tan(between(rng, -0.06, 0.06));
  const placed: Placed[] = [];
  let cursor = 0;
  for (const [i, digit] of digits.entries()) {
    const box = gridInkBox(digit), height = LAYOUT_HEIGHT * between(rng, 0.85, 1.15);
    const scale = height / MNIST_INK_SIDE;
    const width = (box.u1 - box.u0) * scale, inkHeight = (box.v1 - box.v0) * scale;
    const gap = i === 0 ? 0 : LAYOUT_HEIGHT * between(rng, 0.12, 0.45);
    const cx = cursor + gap + width / 2;
    const baseline = cx * slope + between(rng, -3, 3);
    const p: Placed = {
      digit,
      ...box,
      cx,
      cy: baseline - inkHeight / 2,
      scale,
      angle: between(rng, -0.1, 0.1),
    };
    if (i === touch) {
      const clip = { width: Infinity, height: Infinity };
      const shifted = { ...p, cx: p.cx + 400, cy: p.cy + 400 };
      const left = placed[i - 1]!, before = { ...left, cx: left.cx + 400, cy: left.cy + 400 };
      const gapNow = rowGap(render(before, edge, clip), render(shifted, edge, clip));
      if (gapNow !== undefined) p.cx -= gapNow + LAYOUT_HEIGHT * between(rng, 0.02, 0.1);
    }
    placed.push(p);
    cursor = Math.max(cursor, ...corners(p).map(([x]) => x));
  }
  return placed;
}

/** The placed digits scaled by `factor`, turned by `angle` about the origin, then moved by (dx, dy). */
function transform(placed: Placed[], factor: number, angle: number, dx = 0, dy = 0): Placed[] {
  const cos = Math.cos(angle), sin = Math.sin(angle);
  return placed.map((p) => ({
    ...p,
    cx: (p.cx * cos - p.cy * sin) * factor + dx,
    cy: (p.cx * sin + p.cy * cos) * factor + dy,
    scale: p.scale * factor,
    angle: p.angle + angle,
  }));
}

/** The box around every placed digit's ink box. */
function extent(placed: Placed[]) {
  const points = placed.flatMap(corners);
  const x0 = Math.min(...points.map(([x]) => x)), x1 = Math.max(...points.map(([x]) => x));
  const y0 = Math.min(...points.map(([, y]) => y)), y1 = Math.max(...points.map(([, y]) => y));
  return { x0, y0, width: x1 - x0, height: y1 - y0 };
}

/**
 * Scales the layout so digits are `height` px tall (or less, to fit `room`), turns it by `angle`
 * and puts it at a random place of `room` (x, y, width, height).
 */
function place(
  layout: Placed[],
  rng: Rng,
  options: { height: number; angle: number; room: DigitBox },
): Placed[] {
  const turned = extent(transform(layout, 1, options.angle));
  const { room } = options;
  const factor = Math.min(
    options.height / LAYOUT_HEIGHT,
    room.width / turned.width,
    room.height / turned.height,
  );
  const x = room.x + rng.next() * Math.max(0, room.width - turned.width * factor);
  const y = room.y + rng.next() * Math.max(0, room.height - turned.height * factor);
  return transform(layout, factor, options.angle, x - turned.x0 * factor, y - turned.y0 * factor);
}

/** Each digit's coverage on a `width`×`height` picture, its ink box, and whether neighbours touch. */
function inkOf(placed: Placed[], edge: [number, number], size: { width: number; height: number }) {
  const coverages = placed.map((p) => render(p, edge, size));
  const boxes = coverages.map((c) => inkBox(c) ?? { x: c.x, y: c.y, width: 1, height: 1 });
  const touching = coverages.some((c, i) => i > 0 && inksMeet(coverages[i - 1]!, c));
  return { coverages, boxes, touching };
}

/** 64 Ki samples of noise, roughly normal with σ 1, and a per-row walk through them. */
function noiseTable(rng: Rng): Float32Array {
  const table = new Float32Array(1 << 16);
  for (let i = 0; i < table.length; i++) {
    table[i] = (rng.next() + rng.next() + rng.next() - 1.5) * 2;
  }
  return table;
}

/** A canvas export: black or dark-blue strokes whose alpha is the ink, transparent elsewhere. */
function canvasNumber(placed: Placed[], rng: Rng, edge: [number, number], size: [number, number]) {
  const [width, height] = size,
    { coverages, boxes, touching } = inkOf(placed, edge, { width, height });
  const colour = pick(rng, [[0, 0, 0], [20, 24, 80], [34, 34, 34]]);
  const data = new Uint8Array(width * height * 4);
  const alpha = new Float32Array(width * height);
  for (const c of coverages) {
    for (let j = 0; j < c.height; j++) {
      for (let i = 0; i < c.width; i++) {
        const a = c.ink[j * c.width + i]!, k = (c.y + j) * width + c.x + i;
        if (a > 0) alpha[k] = alpha[k]! + a * (1 - alpha[k]!);
      }
    }
  }
  for (let k = 0; k < width * height; k++) {
    if (alpha[k]! === 0) continue;
    data.set(colour, k * 4);
    data[k * 4 + 3] = Math.round(alpha[k]! * 255);
  }
  const bytes = new Uint8Array(encodePng({ width, height, data, channels: 4 }));
  return { bytes, type: "image/png" as const, kind: "canvas PNG", width, height, boxes, touching };
}

/**
 * A scan: grey paper with a blotchy texture (a coarse random grid, bilinear) and per-pixel noise,
 * dark-grey ink; a grey PNG or an RGB JPEG by turns.
 */
async function scanNumber(
  placed: Placed[],
  rng: Rng,
  edge: [number, number],
  size: { width: number; height: number; jpeg: boolean },
) {
  const { width, height } = size, { coverages, boxes, touching } = inkOf(placed, edge, size);
  const paper = between(rng, 200, 238), texture = between(rng, 3, 9), grain = between(rng, 2, 5);
  const ink = between(rng, 20, 60), opacity = between(rng, 0.85, 0.97);
  const cell = Math.round(between(rng, 24, 64));
  const gw = Math.ceil(width / cell) + 2, gh = Math.ceil(height / cell) + 2;
  const grid = Float32Array.from({ length: gw * gh }, () => rng.next() * 2 - 1);
  const table = noiseTable(rng);
  const grey = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const gy = y / cell, y0 = Math.floor(gy), fy = gy - y0;
    let n = (y * 40503) & 0xffff;
    const step = 2 * ((y * 2654435761) >>> 17) + 1;
    for (let x = 0; x < width; x++) {
      const gx = x / cell, x0 = Math.floor(gx), fx = gx - x0, g = y0 * gw + x0;
      const blotch = (grid[g]! * (1 - fx) + grid[g + 1]! * fx) * (1 - fy) +
        (grid[g + gw]! * (1 - fx) + grid[g + gw + 1]! * fx) * fy;
      n = (n + step) & 0xffff;
      grey[y * width + x] = paper + blotch * texture + table[n]! * grain;
    }
  }
  for (const c of coverages) {
    for (let j = 0; j < c.height; j++) {
      for (let i = 0; i < c.width; i++) {
        const a = c.ink[j * c.width + i]! * opacity, k = (c.y + j) * width + c.x + i;
        if (a > 0) grey[k] = grey[k]! * (1 - a) + ink * a;
      }
    }
  }
  let bytes: Uint8Array<ArrayBuffer>;
  if (size.jpeg) {
    const data = new Uint8ClampedArray(width * height * 4);
    for (let k = 0; k < width * height; k++) {
      data[k * 4] = data[k * 4 + 1] = data[k * 4 + 2] = grey[k]!;
      data[k * 4 + 3] = 255;
    }
    bytes = new Uint8Array(await encodePhotoJpeg({ width, height, data }, 85));
  } else {
    const data = Uint8Array.from(grey, (v) => Math.min(255, Math.max(0, Math.round(v))));
    bytes = new Uint8Array(encodePng({ width, height, data, channels: 1 }));
  }
  const type = size.jpeg ? "image/jpeg" as const : "image/png" as const;
  const kind = size.jpeg ? "scan JPEG" : "scan PNG";
  return { bytes, type, kind, width, height, boxes, touching };
}

/**
 * A phone photo: phone_photos.ts' scene of paper (light fall-off, vignette, shadow, grain, maybe
 * desk), the number's ink darkening it, stored for `orientation` and tagged with it.
 */
async function photoNumber(
  placed: Placed[],
  rng: Rng,
  edge: [number, number],
  options: { width: number; height: number; orientation: Orientation; seed: number },
) {
  const { width, height } = options;
  const scene: Picture = photoScene(new Uint8Array(PIXELS), { width, height, seed: options.seed });
  const { coverages, boxes, touching } = inkOf(placed, edge, options);
  const colour = pick(rng, [[22, 28, 70], [20, 20, 24]]), opacity = between(rng, 0.86, 0.96);
  // Ink absorbs: each channel keeps the share of light the ink's colour reflects from white paper.
  const keep = colour.map((c) => c / 240);
  for (const c of coverages) {
    for (let j = 0; j < c.height; j++) {
      for (let i = 0; i < c.width; i++) {
        const a = c.ink[j * c.width + i]! * opacity, k = ((c.y + j) * width + c.x + i) * 4;
        if (a === 0) continue;
        for (let ch = 0; ch < 3; ch++) {
          scene.data[k + ch] = scene.data[k + ch]! * (1 - a * (1 - keep[ch]!));
        }
      }
    }
  }
  const stored = storeForOrientation(scene, options.orientation);
  const jpeg = await encodePhotoJpeg(stored, 86 + (options.seed % 6));
  const exif = exifOrientationSegment(options.orientation, options.seed % 2 === 0);
  return {
    bytes: withSegmentAfterSoi(jpeg, exif),
    type: "image/jpeg" as const,
    kind: `${width * height > 6e6 ? "12 MP" : "3 MP"} photo`,
    width,
    height,
    boxes,
    touching,
  };
}

/** Number k's form and length: every 18 numbers hold each form × length once. */
export function shapeOf(k: number): { form: NumberForm; length: number } {
  return { form: NUMBER_FORMS[k % 3]!, length: 1 + Math.floor(k / 3) % MAX_LENGTH };
}

/** Number k's own random stream, independent of every other number's. */
const numberRng = (seed: number, k: number) =>
  createRng((Math.imul(seed, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca6b)) >>> 0);

/**
 * Writes number `k` of the set: its digits drawn from `split`, then laid out and rendered in its form.
 * The k-th scan is a PNG when ⌊k/3⌋ is even; the j-th photo (j = ⌊k/3⌋) is 3 MP for even j and
 * 12 MP for odd j, with orientation ORIENTATIONS[(j + ⌊j/2⌋) mod 8], so 16 photos cover every
 * camera × orientation.
 */
async function writeNumber(
  k: number,
  seed: number,
  split: Digits,
  source: "test" | "train",
): Promise<WrittenNumber> {
  const { form, length } = shapeOf(k), rng = numberRng(seed, k), j = Math.floor(k / 3);
  const indices = Array.from({ length }, () => Math.floor(rng.next() * split.count));
  const digits = indices.map((i) => split.images.subarray(i * PIXELS, (i + 1) * PIXELS));
  const text = indices.map((i) => split.labels[i]!).join("");
  const touch = length >= 2 && rng.next() < 0.2
    ? 1 + Math.floor(rng.next() * (length - 1))
    : undefined;
  const edge: [number, number] = rng.next() < 0.5 ? [0.3, 0.55] : [0.15, 0.4];
  const layout = layOut(digits, rng, edge, touch);
  let orientation: Orientation = 1;
  let written;
  if (form === "canvas") {
    const [width, height] = pick(rng, CANVASES);
    const room = { x: width * 0.04, y: height * 0.12, width: width * 0.92, height: height * 0.76 };
    const placed = place(layout, rng, { height: between(rng, 60, 160), angle: 0, room });
    written = canvasNumber(placed, rng, edge, [width, height]);
  } else if (form === "scan") {
    const angle = between(rng, -0.05, 0.05), digitHeight = between(rng, 60, 160);
    const turned = extent(transform(layout, digitHeight / LAYOUT_HEIGHT, angle));
    const mx = Math.round(between(rng, 40, 200)), my = Math.round(between(rng, 40, 160));
    const width = Math.ceil(turned.width) + 2 * mx, height = Math.ceil(turned.height) + 2 * my;
    const room = { x: mx, y: my, width: width - 2 * mx, height: height - 2 * my };
    const placed = place(layout, rng, { height: digitHeight, angle, room });
    written = await scanNumber(placed, rng, edge, { width, height, jpeg: j % 2 === 1 });
  } else {
    const camera = j % 2 === 0 ? CAMERA_3MP : CAMERA_12MP;
    orientation = ORIENTATIONS[(j + Math.floor(j / 2)) % ORIENTATIONS.length]!;
    const portrait = orientation >= 5;
    const width = portrait ? camera.height : camera.width;
    const height = portrait ? camera.width : camera.height;
    // Clear of the frame's edges, where phone_photos' scene may show a strip of desk.
    const short = Math.min(width, height), margin = 0.1 * short;
    const room = { x: margin, y: margin, width: width - 2 * margin, height: height - 2 * margin };
    const placed = place(layout, rng, {
      height: short * between(rng, 0.05, 0.11),
      angle: between(rng, -0.04, 0.04),
      room,
    });
    written = await photoNumber(placed, rng, edge, {
      width,
      height,
      orientation,
      seed: 5000 + k,
    });
  }
  const { kind, touching } = written;
  const name = `${k}: "${text}", ${kind}${orientation === 1 ? "" : `, orientation ${orientation}`}${
    touching ? ", touching" : ""
  }`;
  return {
    name,
    text,
    bytes: written.bytes,
    type: written.type,
    orientation,
    width: written.width,
    height: written.height,
    boxes: written.boxes,
    form,
    kind,
    touching,
    source,
    indices,
  };
}

/**
 * Number `k` of the set of `source` digits and `seed`: what {@linkcode writtenNumbers} yields k-th
 * (counting those `only` skips), written on its own — to look again at one number of a run.
 *
 * @param options The split and the seed (default {@linkcode DEFAULT_SEED}).
 * @param k The number's place in the set, from 0.
 * @returns The number, its bytes and its truth.
 * @throws {RangeError} when `k` is not an integer from 0, or the options are out of range.
 */
export async function writtenNumber(
  options: Pick<WrittenNumbersOptions, "source" | "seed">,
  k: number,
): Promise<WrittenNumber> {
  if (!Number.isSafeInteger(k) || k < 0) {
    throw new RangeError(`'k' must be an integer from 0: current value is ${k}`);
  }
  const { source, seed } = checked({ ...options, count: k + 1 });
  return await writeNumber(k, seed, await digitsOf(source), source);
}

/** The options with their defaults, checked. */
function checked(options: WrittenNumbersOptions): Required<Omit<WrittenNumbersOptions, "only">> {
  const { source, count, seed = DEFAULT_SEED, only } = options;
  if (!Number.isSafeInteger(count) || count < 1 || count > 100_000) {
    throw new RangeError(`'count' must be an integer from 1 to 100000: current value is ${count}`);
  }
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(
      `'seed' must be an integer from 0 to 4294967295: current value is ${seed}`,
    );
  }
  if (source !== "test" && source !== "train") {
    throw new RangeError(`'source' must be "test" or "train": current value is ${source}`);
  }
  if (only !== undefined && !NUMBER_FORMS.includes(only)) {
    throw new RangeError(
      `'only' must be one of ${NUMBER_FORMS.join(", ")}: current value is ${only}`,
    );
  }
  return { source, count, seed };
}

/**
 * The set of written numbers, one at a time (a 12 MP photo holds ~150 MB while it is made).
 *
 * @param options The split, how many numbers, the seed, and optionally one form only.
 * @returns An async generator of numbers 0…count−1 (those of form `only`, when given), in order.
 * @throws {RangeError} when `count` is not an integer from 1 to 100,000, `seed` not a 32-bit
 * unsigned integer, `source` or `only` not one of theirs.
 */
export async function* writtenNumbers(
  options: WrittenNumbersOptions,
): AsyncGenerator<WrittenNumber> {
  const { source, count, seed } = checked(options);
  const split = await digitsOf(source);
  for (let k = 0; k < count; k++) {
    if (options.only && shapeOf(k).form !== options.only) continue;
    yield await writeNumber(k, seed, split, source);
  }
}
