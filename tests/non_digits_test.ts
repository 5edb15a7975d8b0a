/**
 * The non-digits `deno task eval:reading` expects to be refused are what they claim to be. Passing
 * proves that no letter or symbol of the set is one written like a digit, that every doodle is drawn
 * within the box asked with ink on it, that kinds come in their stated turns as PNGs and JPEGs of the
 * size they say, that blank pictures hold nothing and paper no dark ink, and that the same seed gives
 * the same bytes (and item k whatever the count). The tests that draw letters are skipped, with the
 * packages to install, on a machine without the fonts or Pillow.
 */
import assert from "node:assert/strict";
import { decode as decodePng } from "fast-png";
import jpeg from "jpeg-js";
import { createRng } from "../src/model/random.ts";
import { missingPackages } from "../scripts/lib/glyphs.ts";
import {
  DOODLES,
  drawInk,
  KIND_TURNS,
  LOWER,
  type NonDigit,
  nonDigits,
  SYMBOLS,
  UPPER,
} from "../scripts/lib/non_digits.ts";

const missing = await missingPackages();
if (missing.length) {
  console.warn(`non_digits_test: letters skipped; install ${missing.join(" ")} to draw them`);
}
const ignore = missing.length > 0;

/** Greys (0 black … 255 white, transparency as white) and the stored size. */
function greys(item: NonDigit): { width: number; height: number; values: Float32Array } {
  if (item.type === "image/png") {
    const png = decodePng(item.bytes), data = png.data as Uint8Array, c = png.channels;
    const values = new Float32Array(png.width * png.height).map((_, p) => {
      const grey = c >= 3
        ? 0.299 * data[p * c]! + 0.587 * data[p * c + 1]! + 0.114 * data[p * c + 2]!
        : data[p * c]!;
      return c === 4 ? 255 - data[p * 4 + 3]! * (255 - grey) / 255 : grey;
    });
    return { width: png.width, height: png.height, values };
  }
  const image = jpeg.decode(item.bytes, { useTArray: true });
  const values = new Float32Array(image.width * image.height).map((_, p) =>
    0.299 * image.data[p * 4]! + 0.587 * image.data[p * 4 + 1]! + 0.114 * image.data[p * 4 + 2]!
  );
  return { width: image.width, height: image.height, values };
}

Deno.test("the letters and symbols leave out those written like a digit", () => {
  const lookAlikes = [..."OoIli|/\\()[]ZzSs$BGbgq.,'`-_"];
  for (const c of [...UPPER, ...LOWER, ...SYMBOLS]) assert.ok(!lookAlikes.includes(c), c);
  assert.ok(!/[0-9]/.test([...UPPER, ...LOWER, ...SYMBOLS].join("")));
});

Deno.test("drawInk() draws every doodle within the box asked, with ink on it", () => {
  for (const [name, doodle] of Object.entries(DOODLES)) {
    const glyph = drawInk(doodle(), { height: 100, pen: 4, angle: 0 }, createRng(1));
    assert.ok(glyph.height >= 50 && glyph.height <= 112, `${name}: ${glyph.height} px tall`);
    const inked = glyph.ink.filter((v) => v > 128).length;
    assert.ok(inked > 200 && inked < glyph.ink.length / 2, `${name}: ${inked} inked pixels`);
  }
});

Deno.test({
  name:
    "nonDigits() gives kinds in turn, of the size they say; blanks hold nothing and paper no ink",
  ignore,
  fn: async () => {
    const count = KIND_TURNS.length * 2, items = await Array.fromAsync(nonDigits({ count }));
    assert.deepEqual(items.map((item) => item.kind), [...KIND_TURNS, ...KIND_TURNS]);
    for (const item of items) {
      const { width, height, values } = greys(item);
      const turned = item.form.includes("EXIF") && width !== item.width;
      assert.deepEqual(turned ? [height, width] : [width, height], [item.width, item.height]);
      const sorted = values.slice().sort(), median = sorted[sorted.length >> 1]!;
      const spread = Math.max(
        median - sorted[Math.floor(sorted.length * 0.001)]!,
        sorted[Math.floor(sorted.length * 0.999)]! - median,
      );
      if (item.kind === "blank") {
        assert.ok(spread <= 6, `${item.name}: greys ${spread} from the median`);
      } else if (item.kind === "paper") {
        // Lines, grain, shadows and desk edges, but nothing as dark as ink.
        assert.ok(sorted[Math.floor(sorted.length * 0.001)]! > 40, item.name);
      } else if (item.kind !== "noise") {
        assert.ok(spread >= 40, `${item.name}: ink ${spread} from the paper`);
      }
    }
  },
});

Deno.test({
  name: "nonDigits() writes the same bytes for the same seed, and item k whatever the count",
  ignore,
  fn: async () => {
    const six = await Array.fromAsync(nonDigits({ count: 6 }));
    const four = await Array.fromAsync(nonDigits({ count: 4 }));
    assert.deepEqual(four, six.slice(0, 4));
    const other = await Array.fromAsync(nonDigits({ count: 1, seed: 5 }));
    assert.notDeepEqual(other[0]!.bytes, six[0]!.bytes);
    await assert.rejects(nonDigits({ count: 100_001 }).next(), RangeError);
  },
});
