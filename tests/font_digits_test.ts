/**
 * The handwriting-font digits `deno task eval:reading` reports are what they claim to be. Passing
 * proves that every handwriting font draws ten distinct digits (and a glyph a font lacks is told
 * apart, not drawn as its empty box), that the same seed gives the same bytes (and digit k whatever
 * the count), that fonts and digits come in turn with the labels they were drawn with, and that each
 * upload is a PNG or JPEG of the size it says with its ink on it. Skipped, with the packages to
 * install, on a machine without the fonts or Pillow.
 */
import assert from "node:assert/strict";
import { decode as decodePng } from "fast-png";
import jpeg from "jpeg-js";
import { HANDWRITING_FONTS, missingPackages, renderGlyphs } from "../scripts/lib/glyphs.ts";
import { type FontDigit, fontDigits } from "../scripts/lib/font_digits.ts";

const missing = await missingPackages(HANDWRITING_FONTS);
if (missing.length) {
  console.warn(`font_digits_test: skipped; install ${missing.join(" ")} to run it`);
}
const ignore = missing.length > 0;
const FONTS = HANDWRITING_FONTS.length;

/** The upright picture's size, and how far its extreme greys (or alphas) stand from its median. */
function look(digit: FontDigit) {
  const grey = (data: ArrayLike<number>, at: number) =>
    0.299 * data[at]! + 0.587 * data[at + 1]! + 0.114 * data[at + 2]!;
  let width: number, height: number, values: number[];
  if (digit.type === "image/png") {
    const png = decodePng(digit.bytes), data = png.data as Uint8Array, channels = png.channels;
    [width, height] = [png.width, png.height];
    values = Array.from(
      { length: width * height },
      (_, p) => channels === 4 ? 255 - data[p * 4 + 3]! : grey(data, p * channels),
    );
  } else {
    const image = jpeg.decode(digit.bytes, { useTArray: true });
    // 5–8 store a portrait picture landscape (phone_photos' storeForOrientation).
    const turned = digit.kind.includes("EXIF") && image.width !== digit.width;
    [width, height] = turned ? [image.height, image.width] : [image.width, image.height];
    values = Array.from({ length: image.width * image.height }, (_, p) => grey(image.data, p * 4));
  }
  values.sort((a, b) => a - b);
  const median = values[values.length >> 1]!;
  const spread = Math.max(
    median - values[Math.floor(values.length * 0.001)]!,
    values[Math.floor(values.length * 0.999)]! - median,
  );
  return { width, height, spread };
}

Deno.test({
  name:
    "renderGlyphs() draws ten distinct digits in every handwriting font, and no glyph a font lacks",
  ignore,
  fn: async () => {
    const jobs = HANDWRITING_FONTS.flatMap((font) =>
      [..."0123456789"].map((text) => ({ font, text, height: 40 }))
    );
    const glyphs = await renderGlyphs(jobs);
    for (const [f, font] of HANDWRITING_FONTS.entries()) {
      const own = glyphs.slice(f * 10, f * 10 + 10);
      assert.ok(own.every((g) => g && g.height >= 38 && g.height <= 42), font.name);
      const distinct = new Set(own.map((g) => `${g!.width}×${g!.height}:${g!.ink.join()}`));
      assert.equal(distinct.size, 10, `${font.name} draws two digits alike`);
    }
    const [absent] = await renderGlyphs([{
      font: HANDWRITING_FONTS[0]!,
      text: "\u{10FFFC}",
      height: 40,
    }]);
    assert.equal(absent, undefined);
  },
});

Deno.test({
  name: "fontDigits() writes the same bytes for the same seed, and digit k whatever the count",
  ignore,
  fn: async () => {
    const five = await Array.fromAsync(fontDigits({ count: 5 }));
    const three = await Array.fromAsync(fontDigits({ count: 3 }));
    assert.deepEqual(three, five.slice(0, 3));
    const other = await Array.fromAsync(fontDigits({ count: 1, seed: 7 }));
    assert.notDeepEqual(other[0]!.bytes, five[0]!.bytes);
    await assert.rejects(fontDigits({ count: 0 }).next(), RangeError);
  },
});

Deno.test({
  name:
    "fontDigits() gives each font its digits in turn, as PNGs and JPEGs of their size with ink on them",
  ignore,
  fn: async () => {
    const count = FONTS + 12, digits = await Array.fromAsync(fontDigits({ count }));
    assert.equal(digits.length, count);
    for (const [k, digit] of digits.entries()) {
      assert.equal(digit.font, HANDWRITING_FONTS[k % FONTS]!.name, digit.name);
      assert.equal(digit.label, Math.floor(k / FONTS) % 10, digit.name);
      const seen = look(digit);
      assert.equal(`${seen.width}×${seen.height}`, `${digit.width}×${digit.height}`, digit.name);
      assert.equal(
        digit.type,
        digit.form === "scan" || digit.form === "photo" ? "image/jpeg" : "image/png",
      );
      // Ink stands out from the paper: dark on light, or light on a dark screen.
      assert.ok(seen.spread >= 40, `${digit.name}: ink ${seen.spread} from the paper`);
    }
    assert.ok(new Set(digits.map((d) => d.form)).size >= 3);
    assert.ok(digits.some((d) => d.bold) && digits.some((d) => !d.bold));
  },
});
