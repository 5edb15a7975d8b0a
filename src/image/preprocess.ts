/**
 * Grey working map → MNIST digit, following the MNIST authors' recipe: the digit is size-normalised to
 * fit a 20×20 box (aspect kept, anti-aliased) and centred by its centre of mass in a 28×28 field,
 * light ink (255) on a black background (0): the format of the images the model was trained on.
 */
import {
  findWriting,
  inkPolarity,
  isolateInk,
  subtractBackground,
  touchesFrame,
  type Writing,
} from "./_ink.ts";
import { halve } from "./_grey.ts";
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
 * — at half size first, when the digit is large and clear of the frame there → all of the writing
 * as one box → {@linkcode toMnist}. It is the one-box path through the stages that read a number
 * (read.ts), which leaves faint strokes untraced.
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
  const ink = largeInkAtHalf(grey) ?? isolateInk(subtractBackground(inkPolarity(grey)));
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

/** Maps this large or larger are first tried at half their size. */
const HALVE_FROM = 80;
/**
 * At half size, a digit whose longest mark is this long (64 px at full size, over half of a 112-px
 * map) keeps every stroke: on the sets never reported, 28 (MNIST's field) read 3 of 2,100 font
 * digits fewer than the full size, 32 one (docs/performance.md).
 */
const MIN_HALF_INK = 32;
/**
 * At half size, the longest mark's strongest pixel is at least this share of the strongest mark's: a
 * band left by a shadow's edge can be the longest mark there, beside a small digit that is the
 * strongest.
 */
const MIN_HALF_PEAK = 0.8;

/**
 * A drawing, scan or screenshot usually fills its frame, and its ink holds more pixels than the 20×20
 * box needs: found at half size, it costs a quarter of the work. The half size is trusted only when
 * what it finds is large and clear of the frame: a small digit (a photo of a page) is isolated again
 * at full size, and so is writing with a mark on the frame, since a shadow's edge or a strip of desk
 * found at half size can outweigh the digit there. `undefined` when the full size is needed.
 */
function largeInkAtHalf(grey: FloatMap): FloatMap | undefined {
  if (Math.max(grey.width, grey.height) < HALVE_FROM) return undefined;
  let writing: Writing;
  try {
    writing = findWriting(subtractBackground(inkPolarity(halve(grey))));
  } catch (error) {
    if (error instanceof ImageError) return undefined; // faint or thin ink: look again at full size
    throw error;
  }
  return isLargeAndClear(writing) ? writing.ink : undefined;
}

/**
 * Whether writing found on a half-size map can stand for the digit: its longest mark spans
 * {@linkcode MIN_HALF_INK}, is about as strong as the strongest ({@linkcode MIN_HALF_PEAK}), and no
 * mark touches the frame.
 */
export function isLargeAndClear({ ink, components, writing: kept }: Writing): boolean {
  let longest = 0, longestPeak = 0, strongest = 0;
  for (const [label, c] of components.entries()) {
    if (kept[label] !== 1) continue;
    if (touchesFrame(c, ink.width, ink.height)) return false;
    const span = Math.max(c.x1 - c.x0 + 1, c.y1 - c.y0 + 1);
    // of marks equally long, the strongest: which came first must not decide
    if (span > longest || (span === longest && c.peak > longestPeak)) {
      [longest, longestPeak] = [span, c.peak];
    }
    strongest = Math.max(strongest, c.peak);
  }
  return longest >= MIN_HALF_INK && longestPeak >= MIN_HALF_PEAK * strongest;
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
