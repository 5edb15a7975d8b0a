/** Turns what a client sent into the 784 bytes the model reads: decode → preprocess, or take a ready grid. */
import { decodeImage } from "./image/decode.ts";
import { ImageError } from "./image/errors.ts";
import { fromMnistGrayscale, toMnistDigit } from "./image/preprocess.ts";
import type { DigitInput } from "./request.ts";

/** `mnist`: the MNIST authors' recipe (polarity, crop, 20×20 box, centre of mass); `none`: already MNIST. */
export type Preprocess = "mnist" | "none";

// A grid whose brightest pixel is this dim holds no stroke (a blank or nearly blank canvas).
const MIN_INK = 64;

/**
 * The 28×28 MNIST-format digit (0 background, 255 ink, row-major) for one input.
 *
 * @param input Image bytes or a ready grid, from {@linkcode readClassifyRequest}.
 * @param options `preprocess` for images; `maxPixels` caps the size an image header may declare.
 * @returns 784 bytes.
 * @throws ImageError with the code the HTTP layer maps to 400/413/415/422; never a decoder's raw error.
 */
export async function toDigit(
  input: DigitInput,
  options: { preprocess: Preprocess; maxPixels: number },
): Promise<Uint8ClampedArray> {
  if (input.kind === "pixels") return requireInk(input.pixels);
  try {
    const image = await decodeImage(input.bytes, { maxPixels: options.maxPixels });
    return options.preprocess === "none"
      ? requireInk(fromMnistGrayscale(image))
      : toMnistDigit(image);
  } catch (error) {
    if (error instanceof ImageError) throw error;
    // A decoder that throws something else on hostile bytes is still the client's bad image, not a 500.
    throw new ImageError("invalid_image", "the image could not be decoded", { cause: error });
  }
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
