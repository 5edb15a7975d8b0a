/**
 * Phone photos and retina screenshots of digits (phone_photos.ts' scenes), half of them MNIST test
 * digits (never training digits) and half handwriting-font digits (glyphs.ts), half of each in thick
 * strokes: a bold marker on paper, a wide brush in a drawing app. Photos are 12, 8, 3 and 2 MP JPEGs
 * in every EXIF orientation; screenshots 2880×1800 and 5120×2880 PNGs, RGB and RGBA. Item k is a
 * screenshot when k mod 3 = 2, else a photo; within each, the j-th alternates test digit and font
 * digit, and every other pair is bold. The same seed gives the same bytes, and item k does not
 * depend on `count`.
 *
 * Coordinates: an ink field is phone_photos.ts' FIELD_SIDE² grid (a 28×28 field, 8× finer).
 */
import { createRng, type Rng } from "../../src/model/random.ts";
import { type Font, HANDWRITING_FONTS, renderGlyphs } from "./glyphs.ts";
import { loadTestDigits, type TestDigits } from "./mnist_test_set.ts";
import {
  CAMERAS,
  encodePhotoJpeg,
  exifOrientationSegment,
  FIELD_SIDE,
  inkField,
  ORIENTATIONS,
  photoScene,
  retinaScreenshot,
  SCREENS,
  storeForOrientation,
  withSegmentAfterSoi,
} from "./phone_photos.ts";

/** The seed of the reported set. */
export const DEFAULT_SEED = 59;
export const DEFAULT_COUNT = 126;
/** A field's ink is this tall, as MNIST's 20 of 28. */
const FIELD_INK = FIELD_SIDE * 20 / 28;

/** One photo or screenshot, as a client sends it. */
export interface PhotoDigit {
  /** For reports: `4: 12 MP photo, orientation 6, bold, test digit 1234 (7)`. */
  name: string;
  label: number;
  medium: "photo" | "screenshot";
  /** "12 MP photo", "5120×2880 RGBA screenshot". */
  kind: string;
  source: "test digit" | "font digit";
  bold: boolean;
  bytes: Uint8Array<ArrayBuffer>;
  type: "image/jpeg" | "image/png";
}

/** Options for {@linkcode photoDigits}. */
export interface PhotoDigitsOptions {
  /** Default {@linkcode DEFAULT_COUNT}. */
  count?: number;
  /** Default {@linkcode DEFAULT_SEED}. */
  seed?: number;
}

const itemRng = (seed: number, k: number) =>
  createRng((Math.imul(seed ^ 0x27d4eb2f, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca6b)) >>> 0);

/** The field's ink thickened by a round pen of `radius` field cells: a marker's stroke. */
export function thicken(field: Float32Array, radius: number): Float32Array {
  const out = field.slice(), offsets: [number, number][] = [];
  for (let dy = -radius; dy <= radius; dy++) {
    for (let dx = -radius; dx <= radius; dx++) {
      if (dx * dx + dy * dy <= radius * radius) offsets.push([dx, dy]);
    }
  }
  for (let y = 0; y < FIELD_SIDE; y++) {
    for (let x = 0; x < FIELD_SIDE; x++) {
      const v = field[y * FIELD_SIDE + x]!;
      if (v <= 0.02) continue;
      for (const [dx, dy] of offsets) {
        const u = x + dx, w = y + dy;
        if (u < 0 || w < 0 || u >= FIELD_SIDE || w >= FIELD_SIDE) continue;
        const i = w * FIELD_SIDE + u;
        if (out[i]! < v) out[i] = v;
      }
    }
  }
  return out;
}

/** A glyph's ink (0–255) centred in a field, shrunk if wider than the field's ink box. */
function glyphField(glyph: { width: number; height: number; ink: Uint8Array }): Float32Array {
  const field = new Float32Array(FIELD_SIDE * FIELD_SIDE);
  const scale = Math.min(1, FIELD_INK * 1.1 / glyph.width, FIELD_INK * 1.1 / glyph.height);
  const width = glyph.width * scale, height = glyph.height * scale;
  const left = (FIELD_SIDE - width) / 2, top = (FIELD_SIDE - height) / 2;
  for (let y = 0; y < FIELD_SIDE; y++) {
    for (let x = 0; x < FIELD_SIDE; x++) {
      // Nearest source pixel: glyphs are drawn at the field's size, so this is a copy or a shrink.
      const u = Math.floor((x + 0.5 - left) / scale), v = Math.floor((y + 0.5 - top) / scale);
      if (u < 0 || v < 0 || u >= glyph.width || v >= glyph.height) continue;
      field[y * FIELD_SIDE + x] = glyph.ink[v * glyph.width + u]! / 255;
    }
  }
  return field;
}

let testDigits: Promise<TestDigits> | undefined;

/** The ink field, label and making of the j-th item of its medium. */
async function digitOf(j: number, rng: Rng) {
  const bold = Math.floor(j / 2) % 2 === 1;
  if (j % 2 === 0) {
    const { digits, labels } = await (testDigits ??= loadTestDigits());
    const index = Math.floor(rng.next() * digits.length);
    const smooth = inkField(digits[index]!);
    // A marker: 0.5–1 MNIST pixel more ink on each side of every stroke.
    const field = bold ? thicken(smooth, Math.round(4 + rng.next() * 4)) : smooth;
    return {
      field,
      label: labels[index]!,
      bold,
      source: "test digit" as const,
      what: `test digit ${index}`,
    };
  }
  const font: Font = HANDWRITING_FONTS[Math.floor(rng.next() * HANDWRITING_FONTS.length)]!;
  const label = Math.floor(rng.next() * 10);
  const stroke = bold ? Math.round(8 + rng.next() * 6) : 0;
  const [glyph] = await renderGlyphs([{ font, text: String(label), height: FIELD_INK, stroke }]);
  if (!glyph) throw new Error(`${font.name} (${font.path}) has no glyph for ${label}`);
  return {
    field: glyphField(glyph),
    label,
    bold,
    source: "font digit" as const,
    what: `${label} in ${font.name}`,
  };
}

/**
 * The set of photos and screenshots, one at a time (a 12 MP picture holds ~100 MB while it is made).
 *
 * @returns An async generator of items 0…count−1, in order.
 * @throws {RangeError} when `count` is not an integer from 1 to 10,000 or `seed` not a 32-bit
 * unsigned integer.
 */
export async function* photoDigits(options: PhotoDigitsOptions = {}): AsyncGenerator<PhotoDigit> {
  const { count = DEFAULT_COUNT, seed = DEFAULT_SEED } = options;
  if (!Number.isSafeInteger(count) || count < 1 || count > 10_000) {
    throw new RangeError(`'count' must be an integer from 1 to 10000: current value is ${count}`);
  }
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(
      `'seed' must be an integer from 0 to 4294967295: current value is ${seed}`,
    );
  }
  for (let k = 0; k < count; k++) {
    const rng = itemRng(seed, k), screenshot = k % 3 === 2;
    // j: the item's place among those of its medium.
    const j = screenshot ? Math.floor(k / 3) : k - Math.floor(k / 3);
    const digit = await digitOf(j, rng);
    const sceneSeed = Math.floor(rng.next() * 0x7fffffff);
    const bold = digit.bold ? ", bold" : "";
    if (screenshot) {
      const screen = SCREENS[Math.floor(j / 4) % SCREENS.length]!,
        alpha = Math.floor(j / 8) % 2 === 1;
      const upload = retinaScreenshot(digit.field, {
        label: digit.label,
        ...screen,
        alpha,
        seed: sceneSeed,
      });
      yield {
        name: `${k}: ${upload.kind}${bold}, ${digit.what}`,
        label: digit.label,
        medium: "screenshot",
        kind: upload.kind,
        source: digit.source,
        bold: digit.bold,
        bytes: upload.bytes,
        type: "image/png",
      };
      continue;
    }
    const camera = CAMERAS[Math.floor(j / 4) % CAMERAS.length]!;
    const orientation = ORIENTATIONS[Math.floor(rng.next() * ORIENTATIONS.length)]!;
    const portrait = orientation >= 5;
    const upright = photoScene(digit.field, {
      width: portrait ? camera.height : camera.width,
      height: portrait ? camera.width : camera.height,
      seed: sceneSeed,
    });
    const stored = storeForOrientation(upright, orientation);
    const jpeg = await encodePhotoJpeg(stored, 86 + (sceneSeed % 6), true);
    const exif = exifOrientationSegment(orientation, sceneSeed % 2 === 0);
    yield {
      name: `${k}: ${camera.name} photo, orientation ${orientation}${bold}, ${digit.what}`,
      label: digit.label,
      medium: "photo",
      kind: `${camera.name} photo`,
      source: digit.source,
      bold: digit.bold,
      bytes: withSegmentAfterSoi(jpeg, exif),
      type: "image/jpeg",
    };
  }
}
