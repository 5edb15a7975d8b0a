/**
 * Grey working map → MNIST digit, following the MNIST authors' recipe: the digit is size-normalised to
 * fit a 20×20 box (aspect kept, anti-aliased) and centred by its centre of mass in a 28×28 field,
 * light ink (255) on a black background (0): the format of the images the model was trained on.
 */
import { inkPolarity, isolateInk, subtractBackground } from "./_ink.ts";
import {
  centreByMass,
  fitDigitBox,
  inkBox,
  marginWindow,
  MNIST_SIDE,
  thickenThinStrokes,
} from "./_resample.ts";
import { ImageError } from "./errors.ts";
import type { FloatMap, MapBox } from "./types.ts";

/**
 * Turns a photo, scan or canvas drawing of one digit into MNIST's format.
 *
 * Steps (the decoder already composited transparency over white and box-averaged to ≤ 112 px a side):
 * make ink bright (dark-on-light is inverted) → subtract the local background (uneven lighting) →
 * keep Otsu-thresholded ink minus specks, with anti-aliased edges and the faint strokes joined to it
 * → all of the writing as one box → {@linkcode toMnist}. It is the one-box path through the stages
 * that read a number (read.ts). The whole working map is searched: isolating a large digit at half
 * size first saved ~0.2 ms a request, but let a shadow's edge outweigh a small digit in a photo
 * (docs/performance.md).
 *
 * @example
 * ```ts ignore
 * const { map } = await decodeImage(bytes, { background: 255, limits: DEFAULT_LIMITS });
 * toMnistDigit(map).length; // 784
 * ```
 *
 * @param grey The grey working map over white, [height, width] 0…255.
 * @returns 784 bytes, [28, 28] row-major, 0 = background … 255 = ink.
 * @throws {ImageError} `no_ink` when the image is blank or holds only specks.
 */
export function toMnistDigit(grey: FloatMap): Uint8ClampedArray {
  const ink = isolateInk(subtractBackground(inkPolarity(grey)));
  const { x0, y0, x1, y1 } = inkBox(ink);
  return toMnist(ink, { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 });
}

/**
 * One digit's ink in MNIST's format: widen pen-thin strokes → crop → fit 20×20 by area averaging →
 * centre by mass. Only `box` and the margin strokes may be widened into are read, so the map may be
 * a whole page: what lies further away does not change the answer.
 *
 * @param ink An ink map (0 paper … 255 ink) holding this digit's ink and, within
 * the margin strokes may be widened into ({@linkcode marginWindow}), nothing else.
 * @param box The digit's ink, in the map's pixels; it must hold some ink.
 * @returns 784 bytes, [28, 28] row-major, 0 = background … 255 = ink.
 */
export function toMnist(ink: FloatMap, box: MapBox): Uint8ClampedArray {
  const { x0, y0, width, height } = marginWindow(box, ink);
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const from = (y0 + y) * ink.width + x0;
    data.set(ink.data.subarray(from, from + width), y * width);
  }
  return centreByMass(fitDigitBox(thickenThinStrokes({ width, height, data })));
}

/**
 * For `?preprocess=none`: an image already in MNIST's format (28×28, light digit on black) is
 * passed through as its luma bytes, unchanged. The decoder composited transparency over black,
 * since a transparent pixel there means "no ink" (MNIST's background is 0).
 *
 * @param grey The grey map over black; must be exactly 28×28.
 * @param image The uploaded image's size, when the map is a shrunk copy of it.
 * @returns 784 bytes, [28, 28] row-major.
 * @throws {ImageError} `invalid_image` for any other size.
 */
export function fromMnistGrayscale(
  grey: FloatMap,
  image: { width: number; height: number } = grey,
): Uint8ClampedArray {
  const sides = [grey.width, grey.height, image.width, image.height];
  if (sides.some((side) => side !== MNIST_SIDE)) {
    throw new ImageError(
      "invalid_image",
      `With preprocess=none the image must be exactly ${MNIST_SIDE}×${MNIST_SIDE} pixels: got ${image.width}×${image.height}`,
    );
  }
  return Uint8ClampedArray.from(grey.data, Math.round);
}
