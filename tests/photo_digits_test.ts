/**
 * The phone photos and screenshots `deno task eval:reading` reports are what they claim to be.
 * Passing proves that a scene drawn from a digit's ink field is the very scene drawn from its MNIST
 * grid, that thickening widens strokes and never thins them, and that the set takes a photo, a
 * photo and a screenshot in turn — EXIF-tagged JPEGs of the camera's size and PNGs of the screen's —
 * with test digits labelled as in the test set, the same bytes for the same seed. Skipped, with the
 * packages to install, on a machine without the fonts or Pillow (the set holds font digits).
 */
import assert from "node:assert/strict";
import { decode as decodePng } from "fast-png";
import { loadTestDigits } from "../scripts/lib/mnist_test_set.ts";
import { HANDWRITING_FONTS, missingPackages } from "../scripts/lib/glyphs.ts";
import { FIELD_SIDE, inkField, photoScene, SCREENS } from "../scripts/lib/phone_photos.ts";
import { photoDigits, thicken } from "../scripts/lib/photo_digits.ts";

const missing = await missingPackages(HANDWRITING_FONTS);
if (missing.length) {
  console.warn(`photo_digits_test: the set skipped; install ${missing.join(" ")} to make it`);
}
const { digits, labels } = await loadTestDigits();

Deno.test("photoScene() draws an ink field as it draws the MNIST grid it was made from", () => {
  const options = { width: 320, height: 240, seed: 3 };
  assert.deepEqual(photoScene(inkField(digits[0]!), options), photoScene(digits[0]!, options));
  assert.throws(() => photoScene(new Float32Array(100), options), RangeError);
});

Deno.test("thicken() widens every stroke and thins none", () => {
  const field = inkField(digits[1]!), thick = thicken(field, 6);
  assert.equal(thick.length, FIELD_SIDE * FIELD_SIDE);
  assert.ok(field.every((v, i) => thick[i]! >= v));
  const inked = (f: Float32Array) => f.filter((v) => v >= 0.5).length;
  assert.ok(inked(thick) > 1.5 * inked(field), `${inked(field)} → ${inked(thick)} cells`);
});

Deno.test({
  name:
    "photoDigits() takes a photo, a photo and a screenshot in turn, labelled, the same for a seed",
  ignore: missing.length > 0,
  fn: async () => {
    const items = await Array.fromAsync(photoDigits({ count: 3 }));
    assert.deepEqual(items.map((item) => item.medium), ["photo", "photo", "screenshot"]);
    assert.deepEqual(items.map((item) => item.source), ["test digit", "font digit", "test digit"]);
    for (const item of items) {
      const index = /test digit (\d+)/.exec(item.name)?.[1];
      if (index) assert.equal(item.label, labels[Number(index)], item.name);
      assert.ok(item.label >= 0 && item.label <= 9);
    }
    for (const photo of items.slice(0, 2)) {
      // SOI, then the APP1 Exif segment a phone writes first.
      assert.deepEqual([...photo.bytes.subarray(0, 4)], [0xff, 0xd8, 0xff, 0xe1]);
      assert.equal(new TextDecoder().decode(photo.bytes.subarray(6, 10)), "Exif");
      assert.equal(photo.kind, "12 MP photo");
    }
    const png = decodePng(items[2]!.bytes);
    assert.deepEqual([png.width, png.height], [SCREENS[0]!.width, SCREENS[0]!.height]);
    const again = await Array.fromAsync(photoDigits({ count: 3 }));
    assert.deepEqual(again, items);
  },
});
