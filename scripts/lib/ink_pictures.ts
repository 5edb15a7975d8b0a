/**
 * How a piece of ink — a glyph, a doodle — reaches the server in the reading evaluation's sets
 * (font_digits.ts, non_digits.ts): a canvas export (PNG, transparent or opaque), a scan (JPEG: paper
 * grain, uneven light, a slight blur, noise), a screenshot of a note app (PNG, dark mode or a sticky
 * note) or a phone photo (JPEG: phone_photos.ts' scene of paper, some with an EXIF orientation), each
 * of its own size, with the ink anywhere on it. The picture's size and the ink's height are chosen
 * first ({@linkcode frameFor}) so fonts are drawn at the size they are shown.
 *
 * Coordinates: x right, y down, in pixels of the upright picture.
 */
import { encode as encodePng } from "fast-png";
import type { Rng } from "../../src/model/random.ts";
import type { Glyph } from "./glyphs.ts";
import {
  encodePhotoJpeg,
  exifOrientationSegment,
  type Orientation,
  photoScene,
  type Picture,
  storeForOrientation,
  withSegmentAfterSoi,
} from "./phone_photos.ts";

/** How a picture was made. */
export type PictureForm = "canvas" | "scan" | "screen" | "photo";
export const PICTURE_FORMS: readonly PictureForm[] = ["canvas", "scan", "screen", "photo"];

/** A picture's form and size, and how tall the ink on it is. */
export interface Frame {
  form: PictureForm;
  width: number;
  height: number;
  inkHeight: number;
}

/** A picture as a client sends it. */
export interface Encoded {
  bytes: Uint8Array<ArrayBuffer>;
  type: "image/png" | "image/jpeg";
  /** Its upright size (after EXIF orientation). */
  width: number;
  height: number;
  /** Finer than the form: "canvas PNG, transparent", "photo JPEG, orientation 6". */
  kind: string;
}

export const between = (rng: Rng, low: number, high: number) => low + rng.next() * (high - low);
export const pick = <T>(rng: Rng, items: readonly T[]): T =>
  items[Math.floor(rng.next() * items.length)]!;

type Rgb = readonly [number, number, number];
const CANVAS_INKS: readonly Rgb[] = [
  [0, 0, 0],
  [20, 30, 110],
  [30, 90, 210],
  [200, 30, 30],
  [20, 120, 50],
  [110, 40, 150],
  [60, 60, 60],
];
const CANVAS_PAPERS: readonly Rgb[] = [[255, 255, 255], [250, 247, 238], [238, 243, 250]];
const PEN_INKS: readonly Rgb[] = [[25, 35, 110], [24, 24, 28], [95, 95, 100]];
/** Note apps: background and ink. */
const SCREENS: readonly [Rgb, Rgb][] = [
  [[22, 24, 30], [245, 245, 245]],
  [[40, 44, 52], [250, 220, 90]],
  [[18, 18, 18], [120, 220, 250]],
  [[252, 236, 128], [30, 30, 40]],
  [[236, 236, 236], [20, 70, 200]],
];
const PHOTO_SIZES: readonly [number, number][] = [[800, 600], [1024, 768], [1280, 960]];
const PHOTO_ORIENTATIONS: readonly Orientation[] = [1, 1, 1, 1, 1, 1, 6, 6, 8, 3];

/**
 * A picture of `form` with its size and the ink's height: canvases 240–900 px a side with ink
 * 20–80 % of the short side tall, scans 300–1100 px (12–60 %), screenshots 300–1100 px (15–75 %),
 * photos 800×600 to 1280×960 (as a page sends them), landscape or portrait (8–30 %).
 */
export function frameFor(form: PictureForm, rng: Rng): Frame {
  const sized = (low: number, high: number, share: [number, number]) => {
    const width = Math.round(between(rng, low, high));
    const height = Math.round(Math.min(high, Math.max(low * 0.8, width * between(rng, 0.6, 1.4))));
    return { form, width, height, inkHeight: Math.min(width, height) * between(rng, ...share) };
  };
  if (form === "canvas") return sized(240, 900, [0.2, 0.8]);
  if (form === "scan") return sized(300, 1100, [0.12, 0.6]);
  if (form === "screen") return sized(300, 1100, [0.15, 0.75]);
  const [long, short] = pick(rng, PHOTO_SIZES), portrait = rng.next() < 0.3;
  const [width, height] = portrait ? [short, long] : [long, short];
  return { form, width, height, inkHeight: short * between(rng, 0.08, 0.3) };
}

/** The glyph shrunk by `factor` (< 1) by averaging the pixels each output pixel covers. */
function shrink(glyph: Glyph, factor: number): Glyph {
  const width = Math.max(1, Math.floor(glyph.width * factor));
  const height = Math.max(1, Math.floor(glyph.height * factor));
  const ink = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor(y / factor), y1 = Math.max(y0 + 1, Math.floor((y + 1) / factor));
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor(x / factor), x1 = Math.max(x0 + 1, Math.floor((x + 1) / factor));
      let sum = 0, n = 0;
      for (let v = y0; v < Math.min(y1, glyph.height); v++) {
        for (let u = x0; u < Math.min(x1, glyph.width); u++) {
          sum += glyph.ink[v * glyph.width + u]!, n++;
        }
      }
      ink[y * width + x] = n ? Math.round(sum / n) : 0;
    }
  }
  return { width, height, ink };
}

/** Where the glyph goes: anywhere `margin` px or more inside the picture (shrunk if it must be). */
function place(glyph: Glyph, width: number, height: number, margin: number, rng: Rng) {
  const room = Math.min((width - 2 * margin) / glyph.width, (height - 2 * margin) / glyph.height);
  const fitted = room < 1 ? shrink(glyph, room) : glyph;
  const x = Math.round(margin + rng.next() * (width - 2 * margin - fitted.width));
  const y = Math.round(margin + rng.next() * (height - 2 * margin - fitted.height));
  return { glyph: fitted, x, y };
}

/** A 3×3 box blur of one `width`-wide plane (edges repeated), in place: a scanner's softness. */
function blurPlane(plane: Float32Array, width: number): void {
  const height = plane.length / width, rows = new Float32Array(plane.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      rows[row + x] = plane[row + Math.max(0, x - 1)]! + plane[row + x]! +
        plane[row + Math.min(width - 1, x + 1)]!;
    }
  }
  for (let y = 0; y < height; y++) {
    const up = Math.max(0, y - 1) * width,
      row = y * width,
      down = Math.min(height - 1, y + 1) * width;
    for (let x = 0; x < width; x++) {
      plane[row + x] = (rows[up + x]! + rows[row + x]! + rows[down + x]!) / 9;
    }
  }
}

/** RGB planes 0–255 as an 8-bit RGB PNG. */
function rgbPng(planes: Float32Array[], width: number, height: number): Uint8Array<ArrayBuffer> {
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) data[p * 3 + c] = Math.min(255, Math.max(0, planes[c]![p]!));
  }
  return new Uint8Array(encodePng({ width, height, data, channels: 3 }));
}

/** RGB planes 0–255 as a baseline JPEG of `quality` (mozjpeg). */
async function rgbJpeg(
  planes: Float32Array[],
  width: number,
  height: number,
  quality: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) data[p * 4 + c] = planes[c]![p]!;
    data[p * 4 + 3] = 255;
  }
  return new Uint8Array(await encodePhotoJpeg({ width, height, data }, quality, true));
}

/** Planes of one colour. */
const flat = (colour: Rgb, pixels: number) => colour.map((c) => new Float32Array(pixels).fill(c));

/** Lays `glyph`'s ink over the planes in `colour`, at `opacity`. */
function inkOver(
  planes: Float32Array[],
  width: number,
  placed: { glyph: Glyph; x: number; y: number },
  colour: Rgb,
  opacity = 1,
): void {
  const { glyph, x, y } = placed;
  for (let v = 0; v < glyph.height; v++) {
    for (let u = 0; u < glyph.width; u++) {
      const a = glyph.ink[v * glyph.width + u]! / 255 * opacity;
      if (a === 0) continue;
      const p = (y + v) * width + x + u;
      for (let c = 0; c < 3; c++) planes[c]![p] = planes[c]![p]! * (1 - a) + colour[c]! * a;
    }
  }
}

/**
 * A scan's paper: a tint of white, light falling off across the page by up to 8 %, and grain.
 * @returns RGB planes 0–255.
 */
export function scanPaper(width: number, height: number, rng: Rng): Float32Array[] {
  const white = between(rng, 212, 250), warmth = between(rng, -4, 10);
  const paper: Rgb = [white, white - warmth * 0.4, white - warmth];
  const angle = between(rng, 0, 2 * Math.PI), fall = between(rng, 0, 0.08);
  const gx = Math.cos(angle) / width, gy = Math.sin(angle) / height;
  const planes = flat(paper, width * height);
  const [r, g, b] = planes as [Float32Array, Float32Array, Float32Array];
  for (let y = 0; y < height; y++) {
    for (let x = 0, p = y * width; x < width; x++, p++) {
      const light = 1 - fall * (0.5 + ((x - width / 2) * gx + (y - height / 2) * gy));
      r[p] = r[p]! * light, g[p] = g[p]! * light, b[p] = b[p]! * light;
    }
  }
  return planes;
}

/**
 * Adds noise of standard deviation ~`sigma`, the same to each channel (sensor or paper grain): a
 * table of 64 Ki roughly normal samples walked with a random stride per row.
 */
export function addGrain(planes: Float32Array[], width: number, sigma: number, rng: Rng): void {
  const table = new Float32Array(1 << 16);
  for (let i = 0; i < table.length; i++) {
    table[i] = (rng.next() + rng.next() + rng.next() - 1.5) * 2 * sigma;
  }
  const [r, g, b] = planes as [Float32Array, Float32Array, Float32Array];
  for (let row = 0; row < r.length; row += width) {
    let at = Math.floor(rng.next() * 0x10000);
    const stride = 2 * Math.floor(rng.next() * 0x8000) + 1;
    for (let p = row; p < row + width; p++) {
      at = (at + stride) & 0xffff;
      const n = table[at]!;
      r[p] = r[p]! + n, g[p] = g[p]! + n, b[p] = b[p]! + n;
    }
  }
}

/** Phone photo of blank paper (phone_photos.ts' scene), as RGB planes of the upright picture. */
export function photoPaper(width: number, height: number, seed: number): Float32Array[] {
  const scene: Picture = photoScene(new Uint8Array(784), { width, height, seed });
  const planes = [0, 1, 2].map(() => new Float32Array(width * height));
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) planes[c]![p] = scene.data[p * 4 + c]!;
  }
  return planes;
}

/**
 * A photo's upright RGB planes as a phone stores them: turned for `orientation`, JPEG, tagged.
 */
export async function photoJpeg(
  planes: Float32Array[],
  width: number,
  height: number,
  options: { orientation: Orientation; seed: number },
): Promise<Uint8Array<ArrayBuffer>> {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) data[p * 4 + c] = planes[c]![p]!;
    data[p * 4 + 3] = 255;
  }
  const stored = storeForOrientation({ width, height, data }, options.orientation);
  const jpeg = await encodePhotoJpeg(stored, 84 + (options.seed % 8), true);
  if (options.orientation === 1) return new Uint8Array(jpeg);
  const exif = exifOrientationSegment(options.orientation, options.seed % 2 === 0);
  return withSegmentAfterSoi(jpeg, exif);
}

/**
 * `glyph` shown as `frame` says, its colours, position, blur, noise and encoding drawn from `rng`.
 * A glyph larger than the picture allows is shrunk to fit.
 */
export async function inkPicture(frame: Frame, glyph: Glyph, rng: Rng): Promise<Encoded> {
  const { width, height } = frame, pixels = width * height;
  if (frame.form === "canvas") {
    const placed = place(glyph, width, height, 2, rng), colour = pick(rng, CANVAS_INKS);
    if (rng.next() < 0.5) {
      // A canvas' toDataURL: the strokes' colour with the ink as alpha, transparent elsewhere.
      const data = new Uint8Array(pixels * 4);
      for (let v = 0; v < placed.glyph.height; v++) {
        for (let u = 0; u < placed.glyph.width; u++) {
          const p = (placed.y + v) * width + placed.x + u;
          data.set(colour, p * 4);
          data[p * 4 + 3] = placed.glyph.ink[v * placed.glyph.width + u]!;
        }
      }
      const bytes = new Uint8Array(encodePng({ width, height, data, channels: 4 }));
      return { bytes, type: "image/png", width, height, kind: "canvas PNG, transparent" };
    }
    const planes = flat(pick(rng, CANVAS_PAPERS), pixels);
    inkOver(planes, width, placed, colour);
    const bytes = rgbPng(planes, width, height);
    return { bytes, type: "image/png", width, height, kind: "canvas PNG, opaque" };
  }
  if (frame.form === "screen") {
    const [background, colour] = pick(rng, SCREENS);
    const planes = flat(background, pixels);
    inkOver(planes, width, place(glyph, width, height, 2, rng), colour);
    const bytes = rgbPng(planes, width, height);
    const dark = background[0] < 128;
    return {
      bytes,
      type: "image/png",
      width,
      height,
      kind: `screen PNG, ${dark ? "dark" : "light"}`,
    };
  }
  if (frame.form === "scan") {
    const planes = scanPaper(width, height, rng);
    inkOver(
      planes,
      width,
      place(glyph, width, height, 4, rng),
      pick(rng, PEN_INKS),
      between(rng, 0.6, 0.95),
    );
    const blurred = rng.next() < 0.6;
    if (blurred) { for (const plane of planes) blurPlane(plane, width); }
    addGrain(planes, width, between(rng, 1, 5), rng);
    const bytes = await rgbJpeg(planes, width, height, Math.round(between(rng, 70, 92)));
    return {
      bytes,
      type: "image/jpeg",
      width,
      height,
      kind: `scan JPEG${blurred ? ", blurred" : ""}`,
    };
  }
  // A photo: ink absorbs the light the paper reflects, clear of the frame where a desk may show.
  const seed = Math.floor(rng.next() * 0x7fffffff);
  const planes = photoPaper(width, height, seed);
  const placed = place(glyph, width, height, 0.1 * Math.min(width, height), rng);
  const keep = pick(rng, PEN_INKS).map((c) => c / 240), opacity = between(rng, 0.85, 0.96);
  for (let v = 0; v < placed.glyph.height; v++) {
    for (let u = 0; u < placed.glyph.width; u++) {
      const a = placed.glyph.ink[v * placed.glyph.width + u]! / 255 * opacity;
      const p = (placed.y + v) * width + placed.x + u;
      for (let c = 0; c < 3; c++) planes[c]![p] = planes[c]![p]! * (1 - a * (1 - keep[c]!));
    }
  }
  const orientation = pick(rng, PHOTO_ORIENTATIONS);
  const bytes = await photoJpeg(planes, width, height, { orientation, seed });
  const kind = `photo JPEG${orientation === 1 ? "" : ", EXIF-turned"}`;
  return { bytes, type: "image/jpeg", width, height, kind };
}
