/**
 * Digits written in handwriting fonts (glyphs.ts' HANDWRITING_FONTS, drawn by Pillow) and sent as
 * people send them (ink_pictures.ts): canvas exports, scans, dark- and light-mode screenshots and
 * phone photos, of every size, anywhere on the picture. Each font writes each digit in turn (digit
 * ⌊k / fonts⌋ mod 10), so 100 digits a font hold each digit 10 times; the rest — faux-bold stroke
 * (half of them, 1–6 % of the height), rotation (±15°), size, position, colours, form — comes from
 * digit k's own random stream. Never used in training. The same seed gives the same bytes, and
 * digit k does not depend on `count`.
 *
 * @example
 * ```ts ignore
 * for await (const digit of fontDigits({ count: 42 })) console.log(digit.name, digit.label);
 * ```
 */
import { createRng, type Rng } from "../../src/model/random.ts";
import { type Font, type GlyphJob, HANDWRITING_FONTS, renderGlyphs } from "./glyphs.ts";
import {
  between,
  type Frame,
  frameFor,
  inkPicture,
  pick,
  type PictureForm,
} from "./ink_pictures.ts";

/** The seed of the reported set. */
export const DEFAULT_SEED = 31;
/** 100 digits a font. */
export const DEFAULT_COUNT = 100 * HANDWRITING_FONTS.length;
/** Forms in the proportions drawn: 7 : 6 : 4 : 3. */
const FORM_DRAW: readonly PictureForm[] = [
  ...Array<PictureForm>(7).fill("canvas"),
  ...Array<PictureForm>(6).fill("scan"),
  ...Array<PictureForm>(4).fill("screen"),
  ...Array<PictureForm>(3).fill("photo"),
];
/** Glyphs drawn per Python process. */
const CHUNK = 100;

/** One digit of the set, as a client sends it. */
export interface FontDigit {
  /** For reports: `17: 7 in Kristi, bold, 12°, scan JPEG, 640×480`. */
  name: string;
  label: number;
  font: string;
  form: PictureForm;
  /** Finer than `form`: "canvas PNG, transparent", "photo JPEG, EXIF-turned". */
  kind: string;
  /** Drawn with a faux-bold stroke. */
  bold: boolean;
  bytes: Uint8Array<ArrayBuffer>;
  type: "image/png" | "image/jpeg";
  width: number;
  height: number;
}

/** Options for {@linkcode fontDigits}. */
export interface FontDigitsOptions {
  /** Default {@linkcode DEFAULT_COUNT}. */
  count?: number;
  /** Default {@linkcode DEFAULT_SEED}. */
  seed?: number;
  /** Default HANDWRITING_FONTS. */
  fonts?: readonly Font[];
}

/** Item k's own random stream, independent of every other item's. */
export const itemRng = (seed: number, k: number) =>
  createRng((Math.imul(seed, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca6b)) >>> 0);

/** What digit k is to be, before it is drawn. */
interface Plan {
  k: number;
  label: number;
  font: Font;
  frame: Frame;
  job: GlyphJob;
  rng: Rng;
}

function plan(k: number, seed: number, fonts: readonly Font[]): Plan {
  const rng = itemRng(seed, k), font = fonts[k % fonts.length]!;
  const label = Math.floor(k / fonts.length) % 10;
  const frame = frameFor(pick(rng, FORM_DRAW), rng);
  const stroke = rng.next() < 0.5
    ? 0
    : Math.max(1, Math.round(frame.inkHeight * between(rng, 0.01, 0.06)));
  const job = {
    font,
    text: String(label),
    height: frame.inkHeight,
    stroke,
    angle: between(rng, -15, 15),
  };
  return { k, label, font, frame, job, rng };
}

/**
 * The set of font digits, one at a time (glyphs drawn a hundred at a time).
 *
 * @returns An async generator of digits 0…count−1, in order.
 * @throws {RangeError} when `count` is not an integer from 1 to 100,000, `seed` not a 32-bit
 * unsigned integer, or `fonts` empty.
 * @throws Error when a font lacks a digit, or Pillow fails (glyphs.ts' missingPackages says why).
 */
export async function* fontDigits(options: FontDigitsOptions = {}): AsyncGenerator<FontDigit> {
  const { count = DEFAULT_COUNT, seed = DEFAULT_SEED, fonts = HANDWRITING_FONTS } = options;
  if (!Number.isSafeInteger(count) || count < 1 || count > 100_000) {
    throw new RangeError(`'count' must be an integer from 1 to 100000: current value is ${count}`);
  }
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(
      `'seed' must be an integer from 0 to 4294967295: current value is ${seed}`,
    );
  }
  if (fonts.length === 0) throw new RangeError("'fonts' must name at least one font: it is empty");
  for (let start = 0; start < count; start += CHUNK) {
    const plans = Array.from(
      { length: Math.min(CHUNK, count - start) },
      (_, i) => plan(start + i, seed, fonts),
    );
    const glyphs = await renderGlyphs(plans.map((p) => p.job));
    for (const [i, p] of plans.entries()) {
      const glyph = glyphs[i];
      if (!glyph) throw new Error(`${p.font.name} (${p.font.path}) has no glyph for ${p.label}`);
      const picture = await inkPicture(p.frame, glyph, p.rng);
      const bold = (p.job.stroke ?? 0) > 0, angle = Math.round(p.job.angle ?? 0);
      yield {
        name:
          `${p.k}: ${p.label} in ${p.font.name}${
            bold ? ", bold" : ""
          }, ${angle}°, ${picture.kind}, ` +
          `${picture.width}×${picture.height}`,
        label: p.label,
        font: p.font.name,
        form: p.frame.form,
        kind: picture.kind,
        bold,
        bytes: picture.bytes,
        type: picture.type,
        width: picture.width,
        height: picture.height,
      };
    }
  }
}
