/**
 * Uploaded bytes → 8-bit RGBA. The format comes from magic bytes; the declared size is checked
 * against `maxPixels` before any decoder allocates; every decoder failure becomes an ImageError.
 */
import { decodeBmp } from "./_bmp.ts";
import { decodeGif } from "./_gif.ts";
import { type ImageFormat, readDimensions, sniffFormat } from "./_header.ts";
import { decodePng } from "./_png.ts";
import { ImageError } from "./errors.ts";
import { decodeJpeg } from "./jpeg.ts";
import type { RgbaImage } from "./types.ts";
import { decodeWebp } from "./webp.ts";

export { type Dimensions, type ImageFormat, readDimensions, sniffFormat } from "./_header.ts";
export type { RgbaImage } from "./types.ts";
export { initJpegDecoder, JPEG_WASM_SPECIFIER } from "./jpeg.ts";
export { initWebpDecoder, WEBP_WASM_SPECIFIER } from "./webp.ts";

/** Options for {@linkcode decodeImage}. */
export interface DecodeOptions {
  /** Largest width × height accepted; RGBA output costs 4 bytes a pixel. */
  maxPixels: number;
}

const ACCEPTED = "PNG, JPEG, GIF, WebP or BMP";

/**
 * Decodes an uploaded image to 8-bit RGBA.
 *
 * @example
 * ```ts ignore
 * const image = await decodeImage(bytes, { maxPixels: DEFAULT_LIMITS.maxPixels });
 * image.data.length === image.width * image.height * 4; // true
 * ```
 *
 * @param bytes The file as uploaded.
 * @param options `maxPixels`: the most width × height to accept.
 * @returns The image as RGBA, 4 bytes a pixel, rows top to bottom.
 * @throws {ImageError} `unsupported_media_type` for an unknown format, `image_too_large` when the
 * header declares more than `maxPixels` (or a zero side), `invalid_image` for corrupt data.
 */
export async function decodeImage(bytes: Uint8Array, options: DecodeOptions): Promise<RgbaImage> {
  const { maxPixels } = options;
  if (!Number.isInteger(maxPixels) || maxPixels <= 0) {
    throw new RangeError(`'maxPixels' must be a positive integer: current value is ${maxPixels}`);
  }
  const format = sniffFormat(bytes);
  if (!format) {
    throw new ImageError("unsupported_media_type", `Not a supported image: send ${ACCEPTED}`);
  }
  checkDeclaredSize(bytes, format, maxPixels);
  try {
    const image = await decodeByFormat(bytes, format);
    checkDecodedShape(image, format);
    return image;
  } catch (error) {
    throw asImageError(error, format);
  }
}

function checkDeclaredSize(bytes: Uint8Array, format: ImageFormat, maxPixels: number): void {
  const { width, height } = readDimensions(bytes, format);
  if (width === 0 || height === 0) {
    throw new ImageError(
      "invalid_image",
      `The ${format} declares a size of ${width}×${height}: no pixels`,
    );
  }
  if (width * height > maxPixels) {
    throw new ImageError(
      "image_too_large",
      `The image is ${width}×${height} pixels; the limit is ${maxPixels} pixels in all`,
    );
  }
}

function decodeByFormat(bytes: Uint8Array, format: ImageFormat): RgbaImage | Promise<RgbaImage> {
  switch (format) {
    case "png":
      return decodePng(bytes);
    case "jpeg":
      return decodeJpeg(bytes);
    case "gif":
      return decodeGif(bytes);
    case "webp":
      return decodeWebp(bytes);
    case "bmp":
      return decodeBmp(bytes);
  }
}

/** Guards against decoders that return short buffers instead of throwing on bad input. */
function checkDecodedShape(image: RgbaImage, format: ImageFormat): void {
  if (image.data.length !== image.width * image.height * 4) {
    throw new ImageError("invalid_image", `The ${format} decoded to an inconsistent pixel buffer`);
  }
}

/** Keeps our own ImageErrors; any decoder exception becomes `invalid_image` (cause kept for logs). */
function asImageError(error: unknown, format: ImageFormat): ImageError {
  if (error instanceof ImageError) return error;
  return new ImageError("invalid_image", `The ${format} file is corrupt or truncated`, {
    cause: error,
  });
}
