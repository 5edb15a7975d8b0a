/**
 * From RGBA to an ink map: grayscale over white, polarity, background removal, speck removal.
 * Shapes: a "map" is a Float32Array [height, width] row-major; ink maps hold 0 (paper) … 255 (ink).
 */
import { ImageError } from "./errors.ts";
import type { RgbaImage } from "./types.ts";

/** A single-channel float image, [height, width] row-major. */
export interface FloatMap {
  width: number;
  height: number;
  data: Float32Array;
}

/** Larger uploads are box-averaged down first: detail beyond this is lost in a 20-pixel digit anyway. */
const WORKING_MAX_SIDE = 1024;
/** Ink must stand out from its local background by this much (of 255) to count at all. */
const MIN_CONTRAST = 48;
/** Background tiles per long side; the estimate is a low percentile, eroded over 5×5 tiles. */
const TILES_PER_SIDE = 16;
const BACKGROUND_PERCENTILE = 0.25;
const EROSION_RADIUS_TILES = 2;
/** Anti-aliased edges up to this far from solid ink are kept. */
const EDGE_RADIUS = 2;

/**
 * Luma (Rec. 601) with transparency composited over white — a canvas export is dark ink on
 * transparent — box-averaged down to at most {@linkcode WORKING_MAX_SIDE} a side.
 */
export function lumaOverWhite(image: RgbaImage): FloatMap {
  const factor = Math.ceil(Math.max(image.width, image.height) / WORKING_MAX_SIDE);
  const width = Math.ceil(image.width / factor);
  const height = Math.ceil(image.height / factor);
  const sum = new Float32Array(width * height);
  const count = new Float32Array(width * height);
  const rgba = image.data;
  for (let y = 0; y < image.height; y++) {
    const row = Math.floor(y / factor) * width;
    for (let x = 0; x < image.width; x++) {
      const i = (y * image.width + x) * 4;
      const alpha = (rgba[i + 3] ?? 255) / 255;
      const luma = 0.299 * (rgba[i] ?? 0) + 0.587 * (rgba[i + 1] ?? 0) + 0.114 * (rgba[i + 2] ?? 0);
      const t = row + Math.floor(x / factor);
      sum[t] = (sum[t] ?? 0) + luma * alpha + 255 * (1 - alpha);
      count[t] = (count[t] ?? 0) + 1;
    }
  }
  for (let t = 0; t < sum.length; t++) sum[t] = (sum[t] ?? 0) / (count[t] || 1);
  return { width, height, data: sum };
}

/**
 * Ink as bright: dark-on-light is inverted, light-on-dark kept. The background is what most pixels
 * are, so the median decides (more robust than the border when a photo shows a desk around paper).
 */
export function inkPolarity(gray: FloatMap): FloatMap {
  const lightPaper = percentile(gray.data, 0.5) >= 128;
  const data = lightPaper ? gray.data.map((v) => 255 - v) : gray.data.slice();
  return { ...gray, data };
}

/**
 * Subtracts a smooth local background (uneven lighting, off-white paper): per tile a low percentile,
 * eroded so tiles inside thick strokes borrow from nearby paper, then bilinearly interpolated.
 */
export function subtractBackground(ink: FloatMap): FloatMap {
  const { width, height } = ink;
  const tile = Math.max(4, Math.ceil(Math.max(width, height) / TILES_PER_SIDE));
  const tilesX = Math.ceil(width / tile);
  const tilesY = Math.ceil(height / tile);
  const levels = erodeTiles(tileLevels(ink, tile, tilesX, tilesY), tilesX, tilesY);
  const level = (tx: number, ty: number) =>
    levels[clamp(ty, 0, tilesY - 1) * tilesX + clamp(tx, 0, tilesX - 1)] ?? 0;
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const fy = (y + 0.5) / tile - 0.5; // position between tile centres
    const ty = Math.floor(fy);
    const wy = fy - ty;
    for (let x = 0; x < width; x++) {
      const fx = (x + 0.5) / tile - 0.5;
      const tx = Math.floor(fx);
      const wx = fx - tx;
      const background = (1 - wy) * ((1 - wx) * level(tx, ty) + wx * level(tx + 1, ty)) +
        wy * ((1 - wx) * level(tx, ty + 1) + wx * level(tx + 1, ty + 1));
      data[y * width + x] = Math.max(0, (ink.data[y * width + x] ?? 0) - background);
    }
  }
  return { width, height, data };
}

function tileLevels(ink: FloatMap, tile: number, tilesX: number, tilesY: number): Float32Array {
  const levels = new Float32Array(tilesX * tilesY);
  for (let ty = 0; ty < tilesY; ty++) {
    for (let tx = 0; tx < tilesX; tx++) {
      const values: number[] = [];
      for (let y = ty * tile; y < Math.min(ink.height, (ty + 1) * tile); y++) {
        for (let x = tx * tile; x < Math.min(ink.width, (tx + 1) * tile); x++) {
          values.push(ink.data[y * ink.width + x] ?? 0);
        }
      }
      levels[ty * tilesX + tx] = percentile(values, BACKGROUND_PERCENTILE);
    }
  }
  return levels;
}

/** Min over a (2r+1)² neighbourhood of tiles: the cleanest paper nearby. */
function erodeTiles(levels: Float32Array, tilesX: number, tilesY: number): Float32Array {
  const r = EROSION_RADIUS_TILES;
  const out = new Float32Array(levels.length);
  for (let ty = 0; ty < tilesY; ty++) {
    for (let tx = 0; tx < tilesX; tx++) {
      let min = Infinity;
      for (let y = Math.max(0, ty - r); y <= Math.min(tilesY - 1, ty + r); y++) {
        for (let x = Math.max(0, tx - r); x <= Math.min(tilesX - 1, tx + r); x++) {
          min = Math.min(min, levels[y * tilesX + x] ?? 0);
        }
      }
      out[ty * tilesX + tx] = min;
    }
  }
  return out;
}

/**
 * Separates the digit from what is left of the background: Otsu's threshold finds solid ink,
 * components too small to be writing are dropped as specks, and anti-aliased edges next to kept
 * ink are ramped in. Solid ink maps to 255.
 *
 * @throws {ImageError} `no_ink` when nothing that looks like writing remains.
 */
export function isolateInk(flat: FloatMap): FloatMap {
  const { width, height, data } = flat;
  const strongest = data.reduce((max, v) => Math.max(max, v), 0);
  if (strongest < MIN_CONTRAST) throw blank("nothing stands out from the background");
  const threshold = Math.max(otsuThreshold(data), MIN_CONTRAST / 2);
  const core = keepWritingComponents(data.map((v) => (v >= threshold ? 1 : 0)), width, height);
  const solid = percentile(data.filter((_, i) => core[i] === 1), 0.5);
  const low = threshold / 2;
  const near = dilate(core, width, height, EDGE_RADIUS);
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) {
    if (near[i] !== 1) continue;
    out[i] = 255 * clamp(((data[i] ?? 0) - low) / Math.max(1, solid - low), 0, 1);
  }
  return { width, height, data: out };
}

/** Connected components (8-neighbour) of the mask; returns the mask with specks removed. */
function keepWritingComponents(mask: Float32Array, width: number, height: number): Uint8Array {
  const labels = new Int32Array(width * height).fill(-1);
  const areas: number[] = [];
  const boxes: number[][] = []; // [minX, minY, maxX, maxY] per component
  for (let start = 0; start < mask.length; start++) {
    if (mask[start] !== 1 || labels[start] !== -1) continue;
    const { area, box } = floodFill(mask, labels, width, height, start, areas.length);
    areas.push(area);
    boxes.push(box);
  }
  const largest = Math.max(0, ...areas);
  // A speck is tiny next to the image and next to the largest stroke.
  const minArea = Math.max(3, (width * height) / 4000, 0.02 * largest);
  const kept = areas.map((area) => area >= minArea);
  const keptBoxes = boxes.filter((_, i) => kept[i]);
  if (keptBoxes.length === 0) throw blank("only specks of noise were found");
  const span = Math.max(
    ...keptBoxes.map(([x0 = 0, y0 = 0, x1 = 0, y1 = 0]) => Math.max(x1 - x0, y1 - y0) + 1),
  );
  if (span < Math.max(3, 0.04 * Math.max(width, height))) throw blank("the only mark is a dot");
  return Uint8Array.from(labels, (label) => (label >= 0 && kept[label] ? 1 : 0));
}

function floodFill(
  mask: Float32Array,
  labels: Int32Array,
  width: number,
  height: number,
  start: number,
  label: number,
): { area: number; box: number[] } {
  const queue = [start];
  labels[start] = label;
  const box = [width, height, 0, 0];
  let area = 0;
  for (let head = 0; head < queue.length; head++) {
    const i = queue[head] ?? 0;
    const x = i % width;
    const y = (i - x) / width;
    area++;
    box[0] = Math.min(box[0] ?? 0, x);
    box[1] = Math.min(box[1] ?? 0, y);
    box[2] = Math.max(box[2] ?? 0, x);
    box[3] = Math.max(box[3] ?? 0, y);
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const nx = x + dx;
        const ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const n = ny * width + nx;
        if (mask[n] === 1 && labels[n] === -1) {
          labels[n] = label;
          queue.push(n);
        }
      }
    }
  }
  return { area, box };
}

/** Square binary dilation by `radius`, separable (rows then columns). */
function dilate(mask: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  const rows = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let d = -radius; d <= radius; d++) {
        if (mask[y * width + clamp(x + d, 0, width - 1)] === 1) {
          rows[y * width + x] = 1;
          break;
        }
      }
    }
  }
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let d = -radius; d <= radius; d++) {
        if (rows[clamp(y + d, 0, height - 1) * width + x] === 1) {
          out[y * width + x] = 1;
          break;
        }
      }
    }
  }
  return out;
}

/** Otsu's method on a 256-bin histogram: the level that best splits background from ink. */
function otsuThreshold(data: Float32Array): number {
  const histogram = new Float64Array(256);
  for (const v of data) histogram[clamp(Math.round(v), 0, 255)]! += 1;
  const total = data.length;
  const sumAll = histogram.reduce((sum, count, level) => sum + count * level, 0);
  let best = 0;
  let bestVariance = -1;
  let countBelow = 0;
  let sumBelow = 0;
  for (let level = 0; level < 256; level++) {
    countBelow += histogram[level] ?? 0;
    sumBelow += level * (histogram[level] ?? 0);
    const countAbove = total - countBelow;
    if (countBelow === 0 || countAbove === 0) continue;
    const meanBelow = sumBelow / countBelow;
    const meanAbove = (sumAll - sumBelow) / countAbove;
    const variance = countBelow * countAbove * (meanBelow - meanAbove) ** 2;
    if (variance > bestVariance) {
      bestVariance = variance;
      best = level + 1; // ink is strictly above the split level
    }
  }
  return best;
}

/** The `q` quantile (0…1) of the values; copies, so the input is left as is. */
export function percentile(values: ArrayLike<number>, q: number): number {
  const sorted = Float32Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function blank(detail: string): ImageError {
  return new ImageError("no_ink", `No digit found (${detail}): draw a larger, darker digit`);
}
