/** Geometry of the MNIST recipe: crop, fit in 20×20 by area averaging, centre by mass in 28×28. */
import { clamp } from "./_ink.ts";
import type { FloatMap } from "./types.ts";

export const MNIST_SIDE = 28;
export const DIGIT_BOX = 20;
/** MNIST strokes are about 2 px wide inside the 20-px box; thinner pen strokes are widened to this. */
const MIN_STROKE_PX = 1.8;
/** Strokes are widened by at most this much, so a digit never reaches further from its ink. */
export const MAX_THICKEN_RADIUS = 8;

/**
 * `box` widened by {@linkcode MAX_THICKEN_RADIUS} (the margin strokes may be widened into) and
 * clamped to a `width`×`height` map: the only pixels a digit's 28×28 depends on.
 */
export function marginWindow(
  box: { x: number; y: number; width: number; height: number },
  map: { width: number; height: number },
): { x0: number; y0: number; width: number; height: number } {
  const m = MAX_THICKEN_RADIUS;
  const x0 = Math.max(0, box.x - m), y0 = Math.max(0, box.y - m);
  const x1 = Math.min(map.width, box.x + box.width + m);
  const y1 = Math.min(map.height, box.y + box.height + m);
  return { x0, y0, width: x1 - x0, height: y1 - y0 };
}

/** Inclusive pixel bounds of the ink. */
interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Bounding box of non-zero pixels; the caller guarantees there is ink. */
export function inkBox(map: FloatMap): Box {
  const box = { x0: map.width, y0: map.height, x1: -1, y1: -1 };
  for (let y = 0; y < map.height; y++) {
    for (let x = 0; x < map.width; x++) {
      if ((map.data[y * map.width + x] ?? 0) <= 0) continue;
      box.x0 = Math.min(box.x0, x);
      box.y0 = Math.min(box.y0, y);
      box.x1 = Math.max(box.x1, x);
      box.y1 = Math.max(box.y1, y);
    }
  }
  return box;
}

/**
 * Widens strokes that would come out thinner than MNIST's (a pen photo, a thin brush): grayscale
 * dilation with a radius chosen from the stroke width estimated as 2·area / perimeter.
 */
export function thickenThinStrokes(ink: FloatMap): FloatMap {
  const box = inkBox(ink);
  const scale = DIGIT_BOX / Math.max(box.x1 - box.x0 + 1, box.y1 - box.y0 + 1);
  const stroke = strokeWidth(ink);
  const radius = Math.min(MAX_THICKEN_RADIUS, Math.round((MIN_STROKE_PX / scale - stroke) / 2));
  return radius >= 1 ? maxFilter(ink, radius) : ink;
}

function strokeWidth({ width, height, data }: FloatMap): number {
  let area = 0;
  let perimeter = 0;
  const solid = (x: number, y: number) =>
    x >= 0 && y >= 0 && x < width && y < height && (data[y * width + x] ?? 0) >= 128;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!solid(x, y)) continue;
      area++;
      if (!solid(x - 1, y) || !solid(x + 1, y) || !solid(x, y - 1) || !solid(x, y + 1)) perimeter++;
    }
  }
  return perimeter === 0 ? 0 : (2 * area) / perimeter;
}

/** Grayscale dilation over a square of side 2r+1; separable, so rows then columns. */
function maxFilter(map: FloatMap, radius: number): FloatMap {
  const { width, height } = map;
  const pass = (src: Float32Array, horizontal: boolean) => {
    const out = new Float32Array(src.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let max = 0;
        for (let d = -radius; d <= radius; d++) {
          const i = horizontal
            ? y * width + clamp(x + d, 0, width - 1)
            : clamp(y + d, 0, height - 1) * width + x;
          max = Math.max(max, src[i] ?? 0);
        }
        out[y * width + x] = max;
      }
    }
    return out;
  };
  return { width, height, data: pass(pass(map.data, true), false) };
}

/** Crops to the ink and scales so the longer side is 20 px, by area averaging (box filter). */
export function fitDigitBox(ink: FloatMap): FloatMap {
  const box = inkBox(ink);
  const cropWidth = box.x1 - box.x0 + 1;
  const cropHeight = box.y1 - box.y0 + 1;
  const scale = DIGIT_BOX / Math.max(cropWidth, cropHeight);
  const width = clamp(Math.round(cropWidth * scale), 1, DIGIT_BOX);
  const height = clamp(Math.round(cropHeight * scale), 1, DIGIT_BOX);
  // rows: [cropHeight, width], then columns: [height, width]
  const rows = new Float32Array(cropHeight * width);
  for (let y = 0; y < cropHeight; y++) {
    const start = (box.y0 + y) * ink.width + box.x0;
    const line = ink.data.subarray(start, start + cropWidth);
    resampleLine((i) => line[i] ?? 0, cropWidth, width, (i, v) => (rows[y * width + i] = v));
  }
  const data = new Float32Array(height * width);
  for (let x = 0; x < width; x++) {
    resampleLine((i) => rows[i * width + x] ?? 0, cropHeight, height, (i, v) => {
      data[i * width + x] = v;
    });
  }
  return { width, height, data: stretchToFullInk(data) };
}

/** Output sample i averages source span [i·n/m, (i+1)·n/m), weighting partly covered pixels. */
function resampleLine(
  at: (i: number) => number,
  sourceLength: number,
  targetLength: number,
  put: (i: number, v: number) => void,
): void {
  const step = sourceLength / targetLength;
  for (let i = 0; i < targetLength; i++) {
    const from = i * step;
    const to = from + step;
    let sum = 0;
    for (let j = Math.floor(from); j < Math.min(sourceLength, Math.ceil(to)); j++) {
      sum += at(j) * (Math.min(to, j + 1) - Math.max(from, j));
    }
    put(i, sum / step);
  }
}

/** Faint, thin strokes average down to grey; MNIST digits reach full ink, so rescale the peak to 255. */
function stretchToFullInk(data: Float32Array): Float32Array {
  const peak = data.reduce((max, v) => Math.max(max, v), 0);
  return peak > 0 && peak < 255 ? data.map((v) => (v * 255) / peak) : data;
}

/**
 * Places the digit in a 28×28 field so its centre of mass lands on pixel (14, 14), where MNIST's
 * digits have theirs, shifting by whole pixels to keep values exact.
 *
 * @returns 784 bytes, [28, 28] row-major, 0 background … 255 ink.
 */
export function centreByMass(digit: FloatMap): Uint8ClampedArray {
  const { x: cx, y: cy } = centreOfMass(digit);
  const dx = Math.round(MNIST_SIDE / 2 - cx);
  const dy = Math.round(MNIST_SIDE / 2 - cy);
  const out = new Uint8ClampedArray(MNIST_SIDE * MNIST_SIDE);
  for (let y = 0; y < digit.height; y++) {
    for (let x = 0; x < digit.width; x++) {
      const tx = x + dx;
      const ty = y + dy;
      if (tx < 0 || ty < 0 || tx >= MNIST_SIDE || ty >= MNIST_SIDE) continue; // as MNIST: clip
      out[ty * MNIST_SIDE + tx] = Math.round(digit.data[y * digit.width + x] ?? 0);
    }
  }
  return out;
}

/**
 * The centre of mass in pixel-index coordinates (pixel (0, 0) is at 0, not 0.5): the convention by
 * which MNIST's digits are centred, their mean centre of mass being (14.0, 14.0).
 */
export function centreOfMass({ width, height, data }: ArrayLikeMap): { x: number; y: number } {
  let total = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = data[y * width + x] ?? 0;
      total += v;
      sx += v * x;
      sy += v * y;
    }
  }
  return total === 0
    ? { x: (width - 1) / 2, y: (height - 1) / 2 }
    : { x: sx / total, y: sy / total };
}

/** Any [height, width] single-channel image. */
interface ArrayLikeMap {
  width: number;
  height: number;
  data: ArrayLike<number>;
}
