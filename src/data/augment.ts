/**
 * Training-time augmentation of MNIST digits, so that a network which learns from MNIST alone reads
 * other hands, phone photos and thick markers: a random affine per image (rotation, scale, aspect,
 * shear, translation, about the image centre, sampled bilinearly), an optional smooth elastic warp,
 * then thicker or thinner strokes (grey dilation or erosion).
 *
 * Every random number an image uses comes from `sampleRng(seed, epoch, index, STREAMS.augment)`
 * (src/model/random.ts: the four numbers mixed by murmur3's 32-bit finaliser, then mulberry32), so
 * an image's augmentation depends only on the run's seed, the epoch and the image's index: the same
 * whatever the batch, its order, the worker that computes it, or a resume.
 *
 * Plain loops over typed arrays, scratch buffers reused from image to image and tables built once:
 * ~8.5 µs per image with the defaults (~118,000 images/s over the 60,000 training digits, one
 * core of a 2-core machine), ~13 µs with the elastic warp on every image; a training step
 * costs ~300 µs per image.
 *
 * Coordinates: x to the right, y down, pixel centres at 0…27, the image centre at (13.5, 13.5).
 */
import { IMAGE_SIDE, PIXELS } from "../model/architecture.ts";
import { type Rng, sampleRng, STREAMS } from "../model/random.ts";

/** A closed interval [min, max] a value is drawn from, uniformly; min = max fixes it. */
export type Interval = readonly [min: number, max: number];

/** What `augmentBatch` draws for each image. */
export interface AugmentConfig {
  /** Chance that an image is passed through unchanged. */
  untouched: number;
  /** Rotation in degrees; positive turns the digit anticlockwise as seen on screen. */
  rotation: Interval;
  /** Scale about the centre (1: as it is). */
  scale: Interval;
  /** Width-to-height factor on top of `scale`: x is scaled by √aspect, y by 1/√aspect. */
  aspect: Interval;
  /** Shear along x in degrees; positive leans the top of the digit to the right. */
  shear: Interval;
  /**
   * Translation in pixels, drawn for each axis, then narrowed so that the transformed box of the ink
   * stays inside the frame, 2 px clear of its edges (a box too big for that is centred).
   */
  translation: Interval;
  /** Chance of a smooth elastic warp (Simard et al. 2003) after the affine. */
  elasticProbability: number;
  /** Largest displacement of the warp's control points, in pixels. */
  elasticPixels: number;
  /** Chance of thicker strokes: grey dilation with a 3×3 square (max of the neighbourhood). */
  dilationProbability: number;
  /**
   * Chance of thinner strokes: grey erosion with a 3×3 cross (min of the pixel and its four
   * neighbours), softer than the square, which wipes out MNIST's thinnest strokes.
   * `dilationProbability + erosionProbability` must not exceed 1.
   */
  erosionProbability: number;
  /**
   * How much of a dilation or erosion is kept: the result is blended with the image before it by a
   * factor drawn from this interval, so that stroke width varies by fractions of a pixel too. An
   * erosion is weakened further if it would take more than half of the digit's ink.
   */
  strokeStrength: Interval;
}

/**
 * Defaults for handwritten digits: ±12° rotation, scale 0.88–1.12, aspect 0.92–1.08, ±12° shear,
 * ±2.5 px translation, thicker strokes for one image in five, thinner for one in ten, half the
 * images untouched: in cnn2's 4 epochs, leaving one in ten untouched scored 99.20% on the held-out
 * training images, and half of them 99.30% (docs/training.md). The elastic warp is off: cheap (a few
 * µs per image), but for half the images it moved neither the held-out digits nor the font digits,
 * photos or written numbers beyond what another training seed moves them (docs/training.md, "Other
 * hands"); `elasticProbability` turns it on.
 */
export const AUGMENT_DEFAULTS: Readonly<AugmentConfig> = Object.freeze<AugmentConfig>({
  untouched: 0.5,
  rotation: [-12, 12],
  scale: [0.88, 1.12],
  aspect: [0.92, 1.08],
  shear: [-12, 12],
  translation: [-2.5, 2.5],
  elasticProbability: 0,
  elasticPixels: 1.5,
  dilationProbability: 0.2,
  erosionProbability: 0.1,
  strokeStrength: [0.5, 1],
});

/**
 * Augments `source` images `indices[i]` into image i of `out`. Image i depends only on
 * (`stream.seed`, `stream.epoch`, `keys[i]`) and `config`; the keys are the indices unless given
 * (the trainer's sample ids, for images that are not in a source of their own).
 *
 * @param source [count, 28, 28] bytes, 0 = background, 255 = ink (`Split.images`).
 * @param indices Which source images, one per output image.
 * @param out [indices.length, 28, 28] bytes, written in full.
 * @param stream The run's seed and the epoch (1-based as the trainer counts, but any integer works).
 * @param config What is drawn.
 * @param keys What each image's random draws are keyed by, one per index (default: the indices).
 * @throws RangeError if the buffers' sizes do not match or an index is not a source image.
 * @example
 * ```ts
 * const batch = new Uint8Array(ids.length * 784);
 * augmentBatch(train.images, ids, batch, { seed: 1, epoch: 3 });
 * ```
 */
export function augmentBatch(
  source: Uint8Array,
  indices: ArrayLike<number>,
  out: Uint8Array,
  stream: { seed: number; epoch: number },
  config: Readonly<AugmentConfig> = AUGMENT_DEFAULTS,
  keys: ArrayLike<number> = indices,
): void {
  if (keys.length !== indices.length) {
    throw new RangeError(
      `keys must hold one key per index: got ${keys.length} for ${indices.length}`,
    );
  }
  if (source.length % PIXELS !== 0) {
    throw new RangeError(
      `source must hold whole ${IMAGE_SIDE}×${IMAGE_SIDE} images (a multiple of ${PIXELS} bytes): got ${source.length} bytes`,
    );
  }
  const count = source.length / PIXELS;
  if (out.length !== indices.length * PIXELS) {
    throw new RangeError(
      `out must hold ${indices.length} images (${
        indices.length * PIXELS
      } bytes), one per index: got ${out.length} bytes`,
    );
  }
  for (let i = 0; i < indices.length; i++) {
    const id = indices[i]!;
    if (!Number.isInteger(id) || id < 0 || id >= count) {
      throw new RangeError(
        `indices[${i}] must be an image of source, a whole number from 0 to ${
          count - 1
        }: got ${id}`,
      );
    }
  }
  if (config.dilationProbability + config.erosionProbability > 1) {
    throw new RangeError(
      `dilationProbability + erosionProbability must not exceed 1: got ${config.dilationProbability} + ${config.erosionProbability}`,
    );
  }
  for (let i = 0; i < indices.length; i++) {
    const id = indices[i]!;
    augmentImage(
      source,
      id * PIXELS,
      out,
      i * PIXELS,
      sampleRng(stream.seed, stream.epoch, keys[i]!, STREAMS.augment),
      config,
    );
  }
}

const SIDE = IMAGE_SIDE;
const CENTRE = (SIDE - 1) / 2;
const MAX = SIDE - 1;
/** Side of the scratch images with a border of one background pixel all round. */
const PADDED = SIDE + 2;
const RADIANS = Math.PI / 180;
/** Pixels kept clear between the ink's box and the frame, for the bilinear spread and a dilation. */
const MARGIN = 2;
/** The least share of its ink an erosion leaves a digit, so that thin strokes fade but stay. */
const ERODED_INK_KEPT = 0.5;

// Scratch, reused by every image (one module instance per worker, and no image is in flight at once).
const padded = new Uint8Array(PADDED * PADDED);
const warped = new Uint8Array(PIXELS);
/** A 3×3 filter's result, in padded coordinates. */
const filtered = new Uint8Array(PADDED * PADDED);
const fieldX = new Float32Array(PIXELS);
const fieldY = new Float32Array(PIXELS);

/** Control points of the elastic warp on each axis, evenly spread from edge to edge. */
const GRID = 5;
const gridX = new Float32Array(GRID * GRID);
const gridY = new Float32Array(GRID * GRID);
/** For each pixel coordinate, the grid cell it falls in and its smoothstep weight within it. */
const CELL = new Uint8Array(SIDE);
const WEIGHT = new Float32Array(SIDE);
for (let x = 0; x < SIDE; x++) {
  const g = x * (GRID - 1) / MAX;
  const cell = Math.min(Math.floor(g), GRID - 2);
  const t = g - cell;
  CELL[x] = cell;
  WEIGHT[x] = t * t * (3 - 2 * t); // smoothstep: no kinks in the field along grid lines
}

function draw(rng: Rng, [min, max]: Interval): number {
  return min + rng.next() * (max - min);
}

/** One image: `source` at `from` into `out` at `to`. */
function augmentImage(
  source: Uint8Array,
  from: number,
  out: Uint8Array,
  to: number,
  rng: Rng,
  config: Readonly<AugmentConfig>,
): void {
  // Every number is drawn in the same order whatever is chosen, so that one setting does not
  // reshuffle the others; the warp's grid, drawn only when used, comes last.
  const keep = rng.next() < config.untouched;
  const angle = draw(rng, config.rotation) * RADIANS;
  const scale = draw(rng, config.scale);
  const aspect = Math.sqrt(draw(rng, config.aspect));
  const lean = Math.tan(draw(rng, config.shear) * RADIANS);
  const shiftX = rng.next(), shiftY = rng.next();
  const strokeChoice = rng.next();
  const strength = draw(rng, config.strokeStrength);
  const elastic = rng.next() < config.elasticProbability && config.elasticPixels > 0;
  if (keep) {
    out.set(source.subarray(from, from + PIXELS), to);
    return;
  }

  // Forward map about the centre: p' = c + t + M (p − c), M = rotation · shear · scale.
  const sx = scale * aspect, sy = scale / aspect;
  const cos = Math.cos(angle), sin = Math.sin(angle);
  const m00 = cos * sx, m01 = (sin - cos * lean) * sy;
  const m10 = -sin * sx, m11 = (cos + sin * lean) * sy;

  // Copy into the padded scratch and find the ink's box on the way.
  let left = SIDE, right = -1, top = SIDE, bottom = -1;
  for (let y = 0; y < SIDE; y++) {
    const row = from + y * SIDE, prow = (y + 1) * PADDED + 1;
    for (let x = 0; x < SIDE; x++) {
      const v = source[row + x]!;
      padded[prow + x] = v;
      if (v !== 0) {
        if (x < left) left = x;
        if (x > right) right = x;
        if (y < top) top = y;
        if (y > bottom) bottom = y;
      }
    }
  }
  let tx: number, ty: number;
  if (right < 0) { // a blank image: nothing to keep in the frame
    tx = shiftWithin(shiftX, config.translation, -Infinity, Infinity);
    ty = shiftWithin(shiftY, config.translation, -Infinity, Infinity);
  } else {
    // Where the box's corners land before translation, relative to the centre.
    const l = left - CENTRE, r = right - CENTRE, t = top - CENTRE, b = bottom - CENTRE;
    const xa = m00 * l + m01 * t, xb = m00 * r + m01 * t, xc = m00 * l + m01 * b;
    const xd = m00 * r + m01 * b;
    const ya = m10 * l + m11 * t, yb = m10 * r + m11 * t, yc = m10 * l + m11 * b;
    const yd = m10 * r + m11 * b;
    tx = shiftWithin(
      shiftX,
      config.translation,
      MARGIN - CENTRE - Math.min(xa, xb, xc, xd),
      CENTRE - MARGIN - Math.max(xa, xb, xc, xd),
    );
    ty = shiftWithin(
      shiftY,
      config.translation,
      MARGIN - CENTRE - Math.min(ya, yb, yc, yd),
      CENTRE - MARGIN - Math.max(ya, yb, yc, yd),
    );
  }

  if (elastic) drawElasticField(rng, config.elasticPixels);

  // Inverse map, p = c + M⁻¹ (p' − c − t), stepped along each output row.
  const det = m00 * m11 - m01 * m10;
  const i00 = m11 / det, i01 = -m01 / det, i10 = -m10 / det, i11 = m00 / det;
  const morph = strokeChoice < config.dilationProbability
    ? 1
    : strokeChoice < config.dilationProbability + config.erosionProbability
    ? -1
    : 0;
  const dest = morph === 0 ? out : warped;
  const base = morph === 0 ? to : 0;
  for (let y = 0; y < SIDE; y++) {
    const dy = y - CENTRE - ty, dx = -CENTRE - tx;
    let u = CENTRE + i00 * dx + i01 * dy;
    let v = CENTRE + i10 * dx + i11 * dy;
    for (let x = 0; x < SIDE; x++, u += i00, v += i10) {
      const p = y * SIDE + x;
      let su = u, sv = v;
      if (elastic) {
        su += fieldX[p]!;
        sv += fieldY[p]!;
      }
      if (!(su > -1 && su < SIDE && sv > -1 && sv < SIDE)) {
        dest[base + p] = 0;
        continue;
      }
      // In padded coordinates, which are positive here, so truncation is floor.
      const pu = su + 1, pv = sv + 1;
      const x0 = pu | 0, y0 = pv | 0;
      const ax = pu - x0, ay = pv - y0;
      const k = y0 * PADDED + x0;
      const a = padded[k]!, b = padded[k + 1]!;
      const c = padded[k + PADDED]!, d = padded[k + PADDED + 1]!;
      const upper = a + ax * (b - a), lower = c + ax * (d - c);
      dest[base + p] = (upper + ay * (lower - upper) + 0.5) | 0;
    }
  }
  if (morph !== 0) changeStrokes(out, to, morph > 0, strength);
}

/**
 * A translation drawn from `range` by `u` ∈ [0, 1), narrowed to [low, high] (the shifts that keep
 * the ink's box in the frame); if the two do not meet, the point of `range` nearest the middle of
 * [low, high], which also centres a box too big for the frame.
 */
function shiftWithin(u: number, [min, max]: Interval, low: number, high: number): number {
  const lo = Math.max(min, low), hi = Math.min(max, high);
  if (lo <= hi) return lo + u * (hi - lo);
  return Math.min(max, Math.max(min, (low + high) / 2));
}

/**
 * A smooth random displacement field in `fieldX`/`fieldY`: uniform displacements of up to
 * ±`pixels` at a 5×5 grid of control points, interpolated with smoothstep weights. The same kind
 * of warp as Simard et al.'s Gaussian-smoothed per-pixel noise (control points ~7 px apart, about
 * their σ = 4 correlation length), for a fraction of the work.
 */
function drawElasticField(rng: Rng, pixels: number): void {
  for (let g = 0; g < GRID * GRID; g++) {
    gridX[g] = (rng.next() * 2 - 1) * pixels;
    gridY[g] = (rng.next() * 2 - 1) * pixels;
  }
  for (let y = 0; y < SIDE; y++) {
    const gy = CELL[y]!, wy = WEIGHT[y]!;
    for (let x = 0; x < SIDE; x++) {
      const gx = CELL[x]!, wx = WEIGHT[x]!;
      const k = gy * GRID + gx;
      const w00 = (1 - wx) * (1 - wy), w01 = wx * (1 - wy), w10 = (1 - wx) * wy, w11 = wx * wy;
      const p = y * SIDE + x;
      fieldX[p] = w00 * gridX[k]! + w01 * gridX[k + 1]! + w10 * gridX[k + GRID]! +
        w11 * gridX[k + GRID + 1]!;
      fieldY[p] = w00 * gridY[k]! + w01 * gridY[k + 1]! + w10 * gridY[k + GRID]! +
        w11 * gridY[k + GRID + 1]!;
    }
  }
}

/**
 * `warped` with thicker (3×3 max) or thinner (cross-shaped min) strokes into `out` at `to`, blended
 * with `warped` by `strength` (less for an erosion that would halve the ink). Outside the frame
 * counts as background.
 */
function changeStrokes(out: Uint8Array, to: number, thicker: boolean, strength: number): void {
  for (let y = 0; y < SIDE; y++) {
    const row = y * SIDE, prow = (y + 1) * PADDED + 1;
    for (let x = 0; x < SIDE; x++) padded[prow + x] = warped[row + x]!;
  }
  if (thicker) {
    // The 3×3 max as a max along rows (every padded row, borders too), then down columns.
    for (let y = 0; y < PADDED; y++) {
      const row = y * PADDED;
      for (let x = 1; x <= SIDE; x++) {
        const a = padded[row + x - 1]!, b = padded[row + x]!, c = padded[row + x + 1]!;
        const ab = a > b ? a : b;
        filtered[row + x] = ab > c ? ab : c;
      }
    }
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) {
        const k = (y + 1) * PADDED + x + 1;
        const a = filtered[k - PADDED]!, b = filtered[k]!, c = filtered[k + PADDED]!;
        const ab = a > b ? a : b, m = ab > c ? ab : c, v = padded[k]!;
        out[to + y * SIDE + x] = (v + strength * (m - v) + 0.5) | 0;
      }
    }
    return;
  }
  // The cross-shaped min, and the ink before and after.
  let before = 0, after = 0;
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const k = (y + 1) * PADDED + x + 1;
      const v = padded[k]!, l = padded[k - 1]!, r = padded[k + 1]!;
      const u = padded[k - PADDED]!, d = padded[k + PADDED]!;
      let m = v < l ? v : l;
      if (r < m) m = r;
      if (u < m) m = u;
      if (d < m) m = d;
      filtered[k] = m;
      before += v;
      after += m;
    }
  }
  // A thin digit keeps at least ERODED_INK_KEPT of its ink.
  const lost = before - after;
  const most = lost > 0 ? (1 - ERODED_INK_KEPT) * before / lost : 1;
  const s = strength < most ? strength : most;
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const k = (y + 1) * PADDED + x + 1;
      const v = padded[k]!;
      out[to + y * SIDE + x] = (v + s * (filtered[k]! - v) + 0.5) | 0;
    }
  }
}
