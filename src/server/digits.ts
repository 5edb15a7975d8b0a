/**
 * Turns what a client sent into the 784 bytes the model reads: decode → preprocess, or take a ready
 * grid. The whole request's decoding work is judged from its images' headers before any is decoded.
 */
import { decodeImage, type DecodeLimits, type ImageFormat, planImage } from "../image/decode.ts";
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
 * @throws ImageError `request_over_budget`, or what {@linkcode planImage} throws for one image.
 */
export function checkRequestBudget(inputs: DigitInput[], limits: DecodeLimits): void {
  if (inputs.length < 2) return;
  let total = 0;
  for (const input of inputs) {
    if (input.kind === "image") total += planImage(input.bytes, limits).cost;
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
  // decodeImage turns every fault of the file into an ImageError; anything else is a server fault.
  const image = await decodeImage(input.bytes, {
    background: none ? 0 : 255,
    limits: options.limits,
  });
  images.push({ format: image.format, width: image.width, height: image.height });
  return none ? requireInk(fromMnistGrayscale(image.map, image)) : toMnistDigit(image.map);
}

function requireInk(digit: Uint8ClampedArray): Uint8ClampedArray {
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
