/**
 * Decoded image → MNIST digit, following the MNIST authors' recipe: the digit is size-normalised to
 * fit a 20×20 box (aspect kept, anti-aliased) and centred by its centre of mass in a 28×28 field,
 * light ink (255) on a black background (0): the format of the images the model was trained on.
 */
import { inkPolarity, isolateInk, lumaOverWhite, subtractBackground } from "./_ink.ts";
import { centreByMass, fitDigitBox, MNIST_SIDE, thickenThinStrokes } from "./_resample.ts";
import { ImageError } from "./errors.ts";
import type { RgbaImage } from "./types.ts";

/**
 * Turns a photo, scan or canvas drawing of one digit into MNIST's format.
 *
 * Steps: composite transparency over white → luma, box-averaged to ≤ 112 px a side → make ink bright
 * (dark-on-light is inverted) → subtract the local background (uneven lighting) → keep
 * Otsu-thresholded ink minus specks, with anti-aliased edges → widen pen-thin strokes → crop → fit
 * 20×20 by area averaging → centre by mass.
 *
 * @example
 * ```ts ignore
 * const pixels = toMnistDigit(await decodeImage(bytes, { maxPixels: DEFAULT_LIMITS.maxPixels }));
 * pixels.length; // 784
 * ```
 *
 * @param image Any size, RGBA.
 * @returns 784 bytes, [28, 28] row-major, 0 = background … 255 = ink.
 * @throws {ImageError} `no_ink` when the image is blank or holds only specks.
 */
export function toMnistDigit(image: RgbaImage): Uint8ClampedArray {
  const gray = lumaOverWhite(image);
  const ink = isolateInk(subtractBackground(inkPolarity(gray)));
  return centreByMass(fitDigitBox(thickenThinStrokes(ink)));
}

/**
 * For `?preprocess=none`: an image already in MNIST's format (28×28, light digit on black) is
 * passed through as its luma bytes, unchanged. Transparency is composited over black, since a
 * transparent pixel there means "no ink" (MNIST's background is 0).
 *
 * @param image Must be exactly 28×28.
 * @returns 784 bytes, [28, 28] row-major.
 * @throws {ImageError} `invalid_image` for any other size.
 */
export function fromMnistGrayscale(image: RgbaImage): Uint8ClampedArray {
  if (image.width !== MNIST_SIDE || image.height !== MNIST_SIDE) {
    throw new ImageError(
      "invalid_image",
      `With preprocess=none the image must be exactly ${MNIST_SIDE}×${MNIST_SIDE} pixels: got ${image.width}×${image.height}`,
    );
  }
  const out = new Uint8ClampedArray(MNIST_SIDE * MNIST_SIDE);
  for (let p = 0; p < out.length; p++) {
    const [r = 0, g = 0, b = 0, a = 255] = image.data.subarray(p * 4, p * 4 + 4);
    out[p] = Math.round(((0.299 * r + 0.587 * g + 0.114 * b) * a) / 255);
  }
  return out;
}
