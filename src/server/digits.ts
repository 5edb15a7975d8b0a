/**
 * Turns what a client sent into the 784 bytes the model reads: decode → preprocess, or take a ready
 * grid. The whole request's decoding work is judged from its images' headers before any is decoded.
 * POST /read (read.ts) shares the budget, the decoding and the ink check.
 */
import {
  type DecodedImage,
  decodeImage,
  type DecodeLimits,
  type DecodeOptions,
  type ImageFormat,
  planImage,
} from "../image/decode.ts";
import { ImageError, mib } from "../image/errors.ts";
import { fromMnistGrayscale, toMnistDigit } from "../image/preprocess.ts";
import type { DigitInput } from "./request.ts";

/** `mnist`: the MNIST authors' recipe (polarity, crop, 20×20 box, centre of mass); `none`: already MNIST. */
export type Preprocess = "mnist" | "none";

/** What an image input was, for the request log: its format and its upright decoded size. */
export interface DecodedImageInfo {
  format: ImageFormat;
  width: number;
  height: number;
}

/** {@linkcode toDigits}' answer: the digits in input order; `images` for the image inputs, in order. */
export interface Digits {
  digits: Uint8ClampedArray[];
  images: DecodedImageInfo[];
}

// A grid whose brightest pixel is this dim holds no stroke (a blank or nearly blank canvas).
const MIN_INK = 64;

/**
 * The 28×28 MNIST-format digits (0 background, 255 ink, row-major) for a request's inputs, in order.
 *
 * @param inputs Image bytes or ready grids, from {@linkcode readClassifyRequest}.
 * @param options `preprocess` for images; `limits` price each image and, summed, the request.
 * @returns 784 bytes per input, and each image input's format and upright size.
 * @throws ImageError with the code the HTTP layer maps to 400/413/415/422 (`request_over_budget`
 * when the images together cost more decoding work than `maxDecodeWork`).
 */
export async function toDigits(
  inputs: DigitInput[],
  options: { preprocess: Preprocess; limits: DecodeLimits },
): Promise<Digits> {
  checkRequestBudget(inputs, options.limits);
  const digits: Uint8ClampedArray[] = [];
  const images: DecodedImageInfo[] = [];
  for (const input of inputs) digits.push(await toDigit(input, options, images));
  return { digits, images };
}

/**
 * Every image's header is read and priced first: a batch over budget costs no decoding at all. (One
 * image is priced by its own decode against the same limit.)
 *
 * @param inputs The request's inputs.
 * @param limits `maxDecodeWork` for the request, `maxPixels` for each image.
 * @param options `maxSide`: the working map's long side the images will be decoded to (a larger
 *   map costs more: see {@linkcode planImage}), 112 (/classify's) unless given; `imageWork`: work
 *   each image costs after its decoding beyond what {@linkcode planImage} counts (/read's cutting
 *   into digits), 0 unless given.
 * @throws ImageError `request_over_budget`, or what {@linkcode planImage} throws for one image.
 */
export function checkRequestBudget(
  inputs: DigitInput[],
  limits: DecodeLimits,
  options: { maxSide?: number; imageWork?: number } = {},
): void {
  if (inputs.length < 2) return;
  let total = 0;
  for (const input of inputs) {
    if (input.kind !== "image") continue;
    total += planImage(input.bytes, limits, options.maxSide).cost + (options.imageWork ?? 0);
  }
  if (total > limits.maxDecodeWork) {
    throw new ImageError(
      "request_over_budget",
      `Decoding these ${inputs.length} images is ${mib(total)} of work; one request may ask for ` +
        `${mib(limits.maxDecodeWork)}: send fewer or smaller images`,
    );
  }
}

async function toDigit(
  input: DigitInput,
  options: { preprocess: Preprocess; limits: DecodeLimits },
  images: DecodedImageInfo[],
): Promise<Uint8ClampedArray> {
  if (input.kind === "pixels") return requireInk(input.pixels);
  const none = options.preprocess === "none";
  const image = await decodeInput(input.bytes, {
    background: none ? 0 : 255,
    limits: options.limits,
  }, images);
  return none ? fromMnistInput(image) : toMnistDigit(image.map);
}

/**
 * Decodes one image input and notes its format and upright size for the request log.
 *
 * @param bytes The image as uploaded.
 * @param options What {@linkcode decodeImage} takes: the background, the limits, the working size.
 * @param images Where the image's {@linkcode DecodedImageInfo} is appended.
 * @returns The decoded image.
 * @throws ImageError for every fault of the file (anything else is a server fault).
 */
export async function decodeInput(
  bytes: Uint8Array,
  options: DecodeOptions,
  images: DecodedImageInfo[],
): Promise<DecodedImage> {
  const image = await decodeImage(bytes, options);
  images.push({ format: image.format, width: image.width, height: image.height });
  return image;
}

/**
 * For `?preprocess=none`: an image decoded over black that is already an MNIST-format digit.
 *
 * @throws ImageError `invalid_image` unless it is 28×28, `no_ink` when it is blank.
 */
export function fromMnistInput(image: DecodedImage): Uint8ClampedArray {
  return requireInk(fromMnistGrayscale(image.map, image));
}

/**
 * A ready 28×28 grid, refused when blank.
 *
 * @throws ImageError `no_ink` when its brightest pixel is too dim to be a stroke.
 */
export function requireInk(digit: Uint8ClampedArray): Uint8ClampedArray {
  let brightest = 0;
  for (const value of digit) if (value > brightest) brightest = value;
  if (brightest < MIN_INK) {
    throw new ImageError(
      "no_ink",
      "the 28×28 image is blank: MNIST digits are bright ink on black",
    );
  }
  return digit;
}
