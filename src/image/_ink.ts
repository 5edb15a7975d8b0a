/**
 * From a grey working map to an ink map: polarity, background removal, speck removal.
 * Shapes: a "map" is a Float32Array [height, width] row-major; ink maps hold 0 (paper) … 255 (ink).
 *
 * Everything here runs on the small working map the decoders produce (long side ≤ 112 for one digit,
 * ≤ 512 for a number, see _grey.ts), so its cost does not grow with the upload.
 */
import { ImageError } from "./errors.ts";
import type { FloatMap } from "./types.ts";

/** Ink must stand out from its local background by this much (of 255) to count at all. */
const MIN_CONTRAST = 48;
/** Background tiles per long side; the estimate is the median of each tile, opened over 5×5 tiles. */
const TILES_PER_SIDE = 16;
const BACKGROUND_PERCENTILE = 0.5;
const EROSION_RADIUS_TILES = 2;
/** Ink up to 9×9 tiles across (over half a digit's map) is told from background by this opening. */
const WIDE_INK_RADIUS_TILES = 4;
/**
 * A mark whose strongest pixel is below this share of the strongest ink's is not writing. What the
 * background leaves of a shadow's edge peaks at 0.35–0.5 of a digit's ink in a phone photo, and can
 * outweigh a small digit in area (docs/training.md, "Shadows in photos").
 */
const FAINT = 0.5;
/** Writing spans at least this share of the map's long side: anything shorter is a dot. */
const MIN_SPAN_SHARE = 0.04;
/** Anti-aliased edges up to this far from solid ink are kept. */
const EDGE_RADIUS = 2;
/**
 * Fainter ink joined to solid ink is traced down to this share of Otsu's threshold: the hairlines of
 * a calligraphic digit and pen-thin strokes shrunk into the working map stand out less than the
 * thick strokes that set the threshold.
 */
const FAINT_STROKE = 0.3;
/** Tracing is given up when the faint pixels outnumber solid ink's this many times (a faint wash). */
const MAX_FAINT_SHARE = 2;

/**
 * Ink as bright: dark-on-light is inverted, light-on-dark kept. The background is what most pixels
 * are, so the median decides (more robust than the border when a photo shows a desk around paper).
 */
export function inkPolarity(gray: FloatMap): FloatMap {
  const data = gray.data.slice();
  // The median is ≥ 128 exactly when no more than ⌊n/2⌋ values lie below 128: counted, not sorted.
  let below = 0;
  for (let i = 0; i < data.length; i++) if (data[i]! < 128) below++;
  if (below <= Math.floor(data.length / 2)) {
    for (let i = 0; i < data.length; i++) data[i] = 255 - data[i]!;
  }
  return { ...gray, data };
}

/**
 * Subtracts a smooth local background (uneven lighting, off-white paper): per tile the median, opened
 * so tiles inside thick strokes borrow from nearby paper, then bilinearly interpolated. Ink too wide
 * for the opening (a bold marker close up) is found and given the paper around it too, so it is not
 * hollowed into an outline.
 */
export function subtractBackground(ink: FloatMap): FloatMap {
  const { width, height } = ink;
  const tile = Math.max(4, Math.ceil(Math.max(width, height) / TILES_PER_SIDE));
  const tilesX = Math.ceil(width / tile);
  const tilesY = Math.ceil(height / tile);
  const levels = backgroundLevels(ink, tile, tilesX, tilesY);
  // Per column: the two tiles whose centres enclose it and the weight of the right one.
  const left = new Int32Array(width), right = new Int32Array(width), wx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const fx = (x + 0.5) / tile - 0.5; // position between tile centres
    const tx = Math.floor(fx);
    left[x] = clamp(tx, 0, tilesX - 1);
    right[x] = clamp(tx + 1, 0, tilesX - 1);
    wx[x] = fx - tx;
  }
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const fy = (y + 0.5) / tile - 0.5;
    const ty = Math.floor(fy);
    const wy = fy - ty;
    const top = clamp(ty, 0, tilesY - 1) * tilesX;
    const bottom = clamp(ty + 1, 0, tilesY - 1) * tilesX;
    for (let x = 0; x < width; x++) {
      const l = left[x]!, r = right[x]!, w = wx[x]!;
      const upper = (1 - w) * levels[top + l]! + w * levels[top + r]!;
      const lower = (1 - w) * levels[bottom + l]! + w * levels[bottom + r]!;
      const v = ink.data[y * width + x]! - ((1 - wy) * upper + wy * lower);
      data[y * width + x] = v > 0 ? v : 0;
    }
  }
  return { width, height, data };
}

function tileLevels(ink: FloatMap, tile: number, tilesX: number, tilesY: number): Float32Array {
  const levels = new Float32Array(tilesX * tilesY);
  const values = new Float32Array(tile * tile);
  for (let ty = 0; ty < tilesY; ty++) {
    const y1 = Math.min(ink.height, (ty + 1) * tile);
    for (let tx = 0; tx < tilesX; tx++) {
      const x1 = Math.min(ink.width, (tx + 1) * tile);
      let n = 0;
      for (let y = ty * tile; y < y1; y++) {
        for (let x = tx * tile; x < x1; x++) values[n++] = ink.data[y * ink.width + x]!;
      }
      levels[ty * tilesX + tx] = quantileInPlace(values.subarray(0, n), BACKGROUND_PERCENTILE);
    }
  }
  return levels;
}

/**
 * The background level of each tile: its median, opened over 5×5 tiles; where the opening took ink
 * wider than its window for background, the level of the paper around that ink instead.
 */
function backgroundLevels(
  ink: FloatMap,
  tile: number,
  tilesX: number,
  tilesY: number,
): Float32Array {
  const medians = tileLevels(ink, tile, tilesX, tilesY);
  const levels = openTiles(medians, tilesX, tilesY, EROSION_RADIUS_TILES);
  let lowest = Infinity, highest = -Infinity;
  for (const v of levels) {
    if (v < lowest) lowest = v;
    if (v > highest) highest = v;
  }
  // No tile stands out from the paper by ink's contrast: nothing is wide enough to be hollowed.
  if (highest - lowest < MIN_CONTRAST) return levels;
  const wider = openTiles(medians, tilesX, tilesY, WIDE_INK_RADIUS_TILES);
  const inked = surroundedInk(levels, wider, frameLevels(ink, tile, tilesX, tilesY), tilesX);
  for (let t = 0; t < levels.length; t++) if (inked[t] === 1) levels[t] = wider[t]!;
  return levels;
}

/**
 * Tiles that the wider opening lowers by ink's contrast, in regions of them that paper surrounds.
 * Standing out by that much is what ink does; paper all round is what ink has and what a strip of
 * desk, a shaded side or a vignette, which come in from the frame, do not. A region reaches the
 * frame through a tile whose pixels on the frame stand out too (ink that comes near the frame, as a
 * digit filling a close-up does, leaves a line of paper there).
 *
 * @param frame Per tile on the frame, the median of its pixels on the frame; NaN elsewhere.
 * @returns Per tile, 1 where it is ink, 0 elsewhere.
 */
function surroundedInk(
  levels: Float32Array,
  wider: Float32Array,
  frame: Float32Array,
  tilesX: number,
): Uint8Array {
  // 1: raised; 2: raised and reached from the frame (a flood through raised tiles).
  const state = new Uint8Array(levels.length);
  const queue: number[] = [];
  for (let t = 0; t < levels.length; t++) {
    if (levels[t]! - wider[t]! < MIN_CONTRAST) continue;
    state[t] = 1;
    if (frame[t]! - wider[t]! >= MIN_CONTRAST) { // false for NaN: not on the frame
      state[t] = 2;
      queue.push(t);
    }
  }
  while (queue.length > 0) {
    const t = queue.pop()!;
    const x = t % tilesX;
    for (const n of [t - tilesX, t + tilesX, x > 0 ? t - 1 : -1, x < tilesX - 1 ? t + 1 : -1]) {
      if (n >= 0 && n < levels.length && state[n] === 1) {
        state[n] = 2;
        queue.push(n);
      }
    }
  }
  for (let t = 0; t < state.length; t++) if (state[t] === 2) state[t] = 0;
  return state;
}

/** Per tile on the frame, the median of its pixels on the frame (both edges for a corner); NaN elsewhere. */
function frameLevels(ink: FloatMap, tile: number, tilesX: number, tilesY: number): Float32Array {
  const { width, height, data } = ink;
  const levels = new Float32Array(tilesX * tilesY).fill(NaN);
  const values = new Float32Array(2 * tile);
  for (let ty = 0; ty < tilesY; ty++) {
    for (let tx = 0; tx < tilesX; tx++) {
      const x0 = tx * tile, x1 = Math.min(width, x0 + tile);
      const y0 = ty * tile, y1 = Math.min(height, y0 + tile);
      let n = 0;
      const row = (y: number) => {
        for (let x = x0; x < x1; x++) values[n++] = data[y * width + x]!;
      };
      const column = (x: number) => {
        for (let y = y0; y < y1; y++) values[n++] = data[y * width + x]!;
      };
      if (ty === 0) row(0);
      else if (ty === tilesY - 1) row(height - 1);
      if (tx === 0) column(0);
      else if (tx === tilesX - 1) column(width - 1);
      if (n > 0) levels[ty * tilesX + tx] = quantileInPlace(values.subarray(0, n), 0.5);
    }
  }
  return levels;
}

/**
 * A grey opening of the tile levels over (2r+1)² tiles: the min takes the cleanest paper nearby, so
 * tiles inside thick strokes borrow from it; the max after it gives back the level of any lit or
 * shaded area larger than the window, so the edge of a shadow is not left behind as a band of "ink".
 */
function openTiles(levels: Float32Array, tilesX: number, tilesY: number, r: number): Float32Array {
  return tileFilter(tileFilter(levels, tilesX, tilesY, r, false), tilesX, tilesY, r, true);
}

/**
 * The min (or, with `max`, the max) over each tile's (2r+1)² neighbourhood (clipped at the frame):
 * along rows, then along columns, which a square window allows.
 */
function tileFilter(
  levels: Float32Array,
  tilesX: number,
  tilesY: number,
  r: number,
  max: boolean,
): Float32Array {
  const rows = new Float32Array(levels.length), out = new Float32Array(levels.length);
  const pass = (
    from: Float32Array,
    to: Float32Array,
    along: number,
    lines: number,
    step: number,
  ) => {
    const stride = step === 1 ? along : 1;
    for (let l = 0; l < lines; l++) {
      for (let i = 0; i < along; i++) {
        let best = from[l * stride + i * step]!;
        for (let j = Math.max(0, i - r); j <= Math.min(along - 1, i + r); j++) {
          const v = from[l * stride + j * step]!;
          if (max ? v > best : v < best) best = v;
        }
        to[l * stride + i * step] = best;
      }
    }
  };
  pass(levels, rows, tilesX, tilesY, 1);
  pass(rows, out, tilesY, tilesX, tilesX);
  return out;
}

/**
 * Separates the digit from what is left of the background: Otsu's threshold finds solid ink,
 * components too small to be writing are dropped as specks, anti-aliased edges next to kept ink
 * are ramped in, and fainter strokes joined to it (hairlines, pen lines a pixel wide) are traced.
 * Solid ink maps to 255.
 *
 * @throws {ImageError} `no_ink` when nothing that looks like writing remains.
 */
export function isolateInk(flat: FloatMap): FloatMap {
  return findWriting(flat).ink;
}

/** The writing on an ink map, as {@linkcode findWriting} finds it. */
export interface Writing {
  /**
   * The writing's ink, 0 … 255 (solid ink 255), anti-aliased edges and faint strokes joined to it
   * included; 0 elsewhere.
   */
  ink: FloatMap;
  /** Per pixel, [height, width]: the index in `components` of the solid ink it belongs to, or -1. */
  labels: Int32Array;
  /** Every connected component of solid ink, specks included. */
  components: InkComponent[];
  /**
   * Per component: 1 when it is writing (kept in `ink`), 0 when a speck or a mark on the frame (a
   * faint stroke traced from writing may still cross one).
   */
  writing: Uint8Array;
  /** The bounding box of all writing, faint strokes included. */
  box: Box;
}

/**
 * The writing on a flattened ink map, with its components kept apart: what {@linkcode isolateInk}
 * returns merged, the reader of numbers needs labelled, so both come from here.
 *
 * @param flat An ink map after {@linkcode subtractBackground}.
 * @param options `solidShare`: solid ink is also at least this share of the strongest pixel (0
 * unless given). A row of small digits in a photo leaves more of a shadow behind than one large
 * digit does, and its faint residue must not join the digits into one component.
 * `minSpanShare`: the longest mark kept must span this share of the map's long side, or the map
 * holds only a dot ({@linkcode MIN_SPAN_SHARE} unless given: one digit fills much of its map, a
 * number's digits in a photo may be far smaller). `faintStrokes`: false to leave fainter strokes
 * joined to solid ink untraced (traced unless given).
 * @throws {ImageError} `no_ink` when nothing that looks like writing remains.
 */
export function findWriting(
  flat: FloatMap,
  options: { solidShare?: number; minSpanShare?: number; faintStrokes?: boolean } = {},
): Writing {
  const { width, height, data } = flat;
  let strongest = 0;
  for (let i = 0; i < data.length; i++) if (data[i]! > strongest) strongest = data[i]!;
  if (strongest < MIN_CONTRAST) throw blank("nothing stands out from the background");
  const threshold = Math.max(
    otsuThreshold(data),
    MIN_CONTRAST / 2,
    (options.solidShare ?? 0) * strongest,
  );
  const cleared = withoutEdgeStrips(flat, threshold);
  const { mask: core, box, labels, components, kept } = keepWritingComponents(
    cleared,
    threshold,
    width,
    height,
    options.minSpanShare ?? MIN_SPAN_SHARE,
  );
  const faint = options.faintStrokes === false ? undefined : traceFaintStrokes(
    { width, height, data: cleared },
    data,
    core,
    Math.max(FAINT_STROKE * threshold, MIN_CONTRAST / 4),
    box,
  );
  const solid = median(data, core);
  const low = threshold / 2;
  const scale = 255 / Math.max(1, solid - low);
  // Only the writing's box, widened by the edge radius, can hold anything from here on.
  const near = {
    x0: Math.max(0, box.x0 - EDGE_RADIUS),
    y0: Math.max(0, box.y0 - EDGE_RADIUS),
    x1: Math.min(width - 1, box.x1 + EDGE_RADIUS),
    y1: Math.min(height - 1, box.y1 + EDGE_RADIUS),
  };
  const edges = dilate(core, width, near, EDGE_RADIUS);
  const out = new Float32Array(width * height);
  for (let y = near.y0; y <= near.y1; y++) {
    for (let i = y * width + near.x0; i <= y * width + near.x1; i++) {
      let v = edges[i] === 1 ? (data[i]! - low) * scale : 0;
      // A faint stroke: as strong as ink along its ridge, where it peaks, up to the solid ink it
      // grew from (the ramp of solid ink's edge would cut it off there).
      if (faint?.[i] === 1) {
        v = Math.max(v, (255 * cleared[i]!) / localPeak(cleared, width, height, i));
      }
      out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { ink: { width, height, data: out }, labels, components, writing: kept, box };
}

/**
 * The pixels of at least `level` joined to solid ink through such pixels (8-neighbour), not solid
 * ink themselves: hysteresis, as Canny's edge detector links weak edges to strong ones. Widens `box`
 * over them. `undefined` when they reach the frame away from solid ink, or a strip of desk that was
 * cleared (`original` still holds it): then they are a shadow's edge, not writing; and when they
 * outnumber solid ink {@linkcode MAX_FAINT_SHARE} times: a faint wash, not strokes.
 */
function traceFaintStrokes(
  cleared: FloatMap,
  original: Float32Array,
  core: Uint8Array,
  level: number,
  box: Box,
): Uint8Array | undefined {
  const { width, height, data } = cleared;
  const faint = new Uint8Array(data.length);
  const queue = new Int32Array(data.length); // each pixel is queued at most once
  let tail = 0;
  for (let i = 0; i < core.length; i++) if (core[i] === 1) queue[tail++] = i;
  const solidArea = tail;
  // A stroke cut by the frame has its own faint edge on the frame: that is not a way out.
  const besideSolid = (n: number) => localPeak(core, width, height, n) === 1;
  let { x0, y0, x1, y1 } = box;
  for (let head = 0; head < tail; head++) {
    const i = queue[head]!;
    const x = i % width;
    const y = (i - x) / width;
    for (let ny = Math.max(0, y - 1); ny <= Math.min(height - 1, y + 1); ny++) {
      for (let nx = Math.max(0, x - 1); nx <= Math.min(width - 1, x + 1); nx++) {
        const n = ny * width + nx;
        if (core[n] === 1 || faint[n] === 1) continue;
        if (data[n]! < level) {
          if (original[n]! >= level) return undefined; // into a cleared strip of desk
          continue;
        }
        const onFrame = nx === 0 || ny === 0 || nx === width - 1 || ny === height - 1;
        if (onFrame && !besideSolid(n)) return undefined;
        faint[n] = 1;
        queue[tail++] = n;
        if (nx < x0) x0 = nx;
        if (nx > x1) x1 = nx;
        if (ny < y0) y0 = ny;
        if (ny > y1) y1 = ny;
      }
    }
  }
  if (tail - solidArea > MAX_FAINT_SHARE * solidArea) return undefined;
  Object.assign(box, { x0, y0, x1, y1 });
  return faint;
}

/** The largest value of pixel `i` and its eight neighbours. */
function localPeak(
  data: Float32Array | Uint8Array,
  width: number,
  height: number,
  i: number,
): number {
  const x = i % width;
  const y = (i - x) / width;
  let peak = 0;
  for (let ny = Math.max(0, y - 1); ny <= Math.min(height - 1, y + 1); ny++) {
    for (let nx = Math.max(0, x - 1); nx <= Math.min(width - 1, x + 1); nx++) {
      if (data[ny * width + nx]! > peak) peak = data[ny * width + nx]!;
    }
  }
  return peak;
}

/** How far in from the frame a strip of desk or table may reach, as a share of the short side. */
const EDGE_BAND = 0.08;
/** A line of the band that is at least this much ink belongs to a strip, not to writing. */
const STRIP_FILL = 0.5;

/**
 * A photo often shows a strip of desk along one edge: a band of lines parallel to the frame that are
 * mostly "ink". Those lines, and the ones between them and the frame, are cleared (in a copy; the map
 * itself when there is none), so writing that comes close to the strip is not joined to it.
 */
function withoutEdgeStrips(flat: FloatMap, threshold: number): Float32Array {
  const { width, height, data: source } = flat;
  const band = Math.ceil(EDGE_BAND * Math.min(width, height));
  const inked = (count: number, at: (i: number) => number) => {
    let n = 0;
    for (let i = 0; i < count; i++) if (source[at(i)]! >= threshold) n++;
    return n >= STRIP_FILL * count;
  };
  const rowInked = (y: number) => inked(width, (x) => y * width + x);
  const columnInked = (x: number) => inked(height, (y) => y * width + x);
  // The innermost strip line within the band from each side, then everything outside it cleared.
  const innermost = (inkedAt: (line: number) => boolean, line: (k: number) => number) => {
    let last = -1;
    for (let k = 0; k < band; k++) if (inkedAt(line(k))) last = k;
    return last;
  };
  const top = innermost(rowInked, (k) => k);
  const bottom = innermost(rowInked, (k) => height - 1 - k);
  const left = innermost(columnInked, (k) => k);
  const right = innermost(columnInked, (k) => width - 1 - k);
  if (top < 0 && bottom < 0 && left < 0 && right < 0) return source;
  const data = source.slice();
  // One line more than the strip itself: its soft edge.
  const clear = (x0: number, y0: number, x1: number, y1: number) => {
    for (let y = Math.max(0, y0); y < Math.min(height, y1); y++) {
      data.fill(0, y * width + Math.max(0, x0), y * width + Math.min(width, x1));
    }
  };
  if (top >= 0) clear(0, 0, width, top + 2);
  if (bottom >= 0) clear(0, height - bottom - 2, width, height);
  if (left >= 0) clear(0, 0, left + 2, height);
  if (right >= 0) clear(width - right - 2, 0, width, height);
  return data;
}

/** One connected component: its pixel count, strongest pixel and inclusive bounding box. */
export interface InkComponent {
  area: number;
  peak: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Connected components (8-neighbour) of the pixels at or above `threshold`; returns the writing among
 * them as a mask of 1s, and its bounding box: specks removed, and marks along the frame's edge (a strip of desk, the edge of
 * a shadow) removed when they are away from the writing inside it.
 */
function keepWritingComponents(
  data: Float32Array,
  threshold: number,
  width: number,
  height: number,
  minSpanShare: number,
): {
  mask: Uint8Array;
  box: Box;
  labels: Int32Array;
  components: InkComponent[];
  kept: Uint8Array;
} {
  const { labels, components } = labelComponents(data, threshold, width, height);
  const kept = chooseWriting(components, width, height, minSpanShare);
  const mask = new Uint8Array(width * height);
  for (let i = 0; i < mask.length; i++) {
    const label = labels[i]!;
    if (label >= 0) mask[i] = kept[label]!;
  }
  const box = { x0: width, y0: height, x1: -1, y1: -1 };
  components.forEach((c, label) => {
    if (kept[label] !== 1) return;
    box.x0 = Math.min(box.x0, c.x0);
    box.y0 = Math.min(box.y0, c.y0);
    box.x1 = Math.max(box.x1, c.x1);
    box.y1 = Math.max(box.y1, c.y1);
  });
  return { mask, box, labels, components, kept };
}

/** Whether `box` reaches the edge of a `width` × `height` map. */
export function touchesFrame(box: Box, width: number, height: number): boolean {
  return box.x0 === 0 || box.y0 === 0 || box.x1 === width - 1 || box.y1 === height - 1;
}

/** Inclusive pixel bounds. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

function labelComponents(
  data: Float32Array,
  threshold: number,
  width: number,
  height: number,
): { labels: Int32Array; components: InkComponent[] } {
  const labels = new Int32Array(width * height).fill(-1);
  const queue = new Int32Array(width * height); // each pixel is labelled, so queued, at most once
  const components: InkComponent[] = [];
  for (let start = 0; start < data.length; start++) {
    if (data[start]! < threshold || labels[start] !== -1) continue;
    const label = components.length;
    labels[start] = label;
    queue[0] = start;
    let tail = 1;
    let x0 = width, y0 = height, x1 = -1, y1 = -1, peak = 0;
    for (let head = 0; head < tail; head++) {
      const i = queue[head]!;
      if (data[i]! > peak) peak = data[i]!;
      const x = i % width;
      const y = (i - x) / width;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      for (let ny = Math.max(0, y - 1); ny <= Math.min(height - 1, y + 1); ny++) {
        for (let nx = Math.max(0, x - 1); nx <= Math.min(width - 1, x + 1); nx++) {
          const n = ny * width + nx;
          if (labels[n] === -1 && data[n]! >= threshold) {
            labels[n] = label;
            queue[tail++] = n;
          }
        }
      }
    }
    components.push({ area: tail, peak, x0, y0, x1, y1 });
  }
  return { labels, components };
}

/**
 * Which components are writing (1) or not (0). A speck is tiny next to the image and next to the
 * largest stroke; a faint mark (what is left of a shadow's edge) is far weaker than the ink. When
 * writing-sized marks lie inside the frame, marks touching its edge count only where they come close
 * to the largest of those (a stroke cut by the frame), not elsewhere.
 *
 * @throws {ImageError} `no_ink` when only specks or a dot remain.
 */
function chooseWriting(
  components: InkComponent[],
  width: number,
  height: number,
  minSpanShare: number,
): Uint8Array {
  // Loops, not Math.max(...spread): a noisy map may hold more components than a call has arguments.
  let largest = 0, strongest = 0;
  for (const c of components) {
    if (c.area > largest) largest = c.area;
    if (c.peak > strongest) strongest = c.peak;
  }
  const minArea = Math.max(3, (width * height) / 4000, 0.02 * largest);
  const minSpan = Math.max(3, minSpanShare * Math.max(width, height));
  const span = (c: InkComponent) => Math.max(c.x1 - c.x0, c.y1 - c.y0) + 1;
  const onEdge = (c: InkComponent) => touchesFrame(c, width, height);
  const candidates = components.map((c) => c.area >= minArea && c.peak >= FAINT * strongest);
  const inside = components.filter((c, i) => candidates[i] && !onEdge(c) && span(c) >= minSpan);
  const anchor = inside.reduce<InkComponent | undefined>(
    (a, c) => (!a || c.area > a.area ? c : a),
    undefined,
  );
  const near = (c: InkComponent) => {
    if (!anchor) return true;
    const mx = (anchor.x1 - anchor.x0 + 1) / 2, my = (anchor.y1 - anchor.y0 + 1) / 2;
    return c.x0 <= anchor.x1 + mx && c.x1 >= anchor.x0 - mx && c.y0 <= anchor.y1 + my &&
      c.y1 >= anchor.y0 - my;
  };
  const kept = new Uint8Array(components.length);
  let widest = 0;
  components.forEach((c, label) => {
    if (!candidates[label] || (onEdge(c) && !near(c))) return;
    kept[label] = 1;
    widest = Math.max(widest, span(c));
  });
  if (widest === 0) throw blank("only specks of noise were found");
  if (widest < minSpan) throw blank("the only mark is a dot");
  return kept;
}

/**
 * Square binary dilation by `radius`, separable (rows then columns), within `within`: the mask's 1s
 * must lie at least `radius` inside it (or at the image's edge), so nothing outside can change.
 */
function dilate(mask: Uint8Array, width: number, within: Box, radius: number): Uint8Array {
  const { x0, y0, x1, y1 } = within;
  // Rows: a running count of 1s in the window [x − radius, x + radius].
  const rows = new Uint8Array(mask.length);
  for (let y = y0; y <= y1; y++) {
    const row = y * width;
    let count = 0;
    for (let x = x0; x < Math.min(x0 + radius, x1 + 1); x++) count += mask[row + x]!;
    for (let x = x0; x <= x1; x++) {
      if (x + radius <= x1) count += mask[row + x + radius]!;
      if (x - radius - 1 >= x0) count -= mask[row + x - radius - 1]!;
      rows[row + x] = count > 0 ? 1 : 0;
    }
  }
  // Columns: each output row is the OR of the dilated rows within `radius` of it.
  const out = new Uint8Array(mask.length);
  for (let y = y0; y <= y1; y++) {
    const to = y * width;
    for (let d = Math.max(y0, y - radius); d <= Math.min(y1, y + radius); d++) {
      const from = d * width;
      for (let x = x0; x <= x1; x++) out[to + x]! |= rows[from + x]!;
    }
  }
  return out;
}

/** Otsu's method on a 256-bin histogram: the level that best splits background from ink. */
function otsuThreshold(data: Float32Array): number {
  const histogram = new Float64Array(256);
  // Most of a flattened map is exactly 0: counted in a register, not in the histogram's memory.
  let zeros = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!; // rounded half up, as Math.round does for these non-negative levels
    if (v < 0.5) zeros++;
    else histogram[v >= 255 ? 255 : (v + 0.5) | 0]! += 1;
  }
  histogram[0]! += zeros;
  const total = data.length;
  let sumAll = 0;
  for (let level = 0; level < 256; level++) sumAll += level * histogram[level]!;
  let best = 0;
  let bestVariance = -1;
  let countBelow = 0;
  let sumBelow = 0;
  for (let level = 0; level < 256; level++) {
    countBelow += histogram[level]!;
    sumBelow += level * histogram[level]!;
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

/** The median of `data` where `mask` is 1. */
function median(data: Float32Array, mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i]!;
  const values = new Float32Array(n);
  for (let i = 0, k = 0; i < data.length; i++) if (mask[i] === 1) values[k++] = data[i]!;
  return quantileInPlace(values, 0.5);
}

/**
 * The element a sort would put at ⌊q·n⌋, found by quickselect (linear on average; sorting was a third
 * of the preprocessing). Reorders `a`.
 */
function quantileInPlace(a: Float32Array, q: number): number {
  const n = a.length;
  if (n === 0) return 0;
  const k = Math.min(n - 1, Math.floor(q * n));
  let lo = 0, hi = n - 1;
  while (lo < hi) {
    // Median of three as the pivot keeps sorted and constant runs linear.
    const mid = (lo + hi) >> 1;
    const x = a[lo]!, y = a[mid]!, z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i++] = a[j]!;
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function blank(detail: string): ImageError {
  return new ImageError("no_ink", `No digit found (${detail}): draw a larger, darker digit`);
}
