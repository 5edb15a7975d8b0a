/** Errors raised while decoding or preprocessing an uploaded image, with the HTTP status each maps to. */

/**
 * Why an image was refused:
 * - `unsupported_media_type`: the bytes are not a format we decode (judged by magic bytes).
 * - `image_too_large`: the header declares more pixels, or more decoding work, than allowed.
 * - `request_over_budget`: the request's images together cost more decoding work than allowed.
 * - `invalid_image`: corrupt or truncated data, a zero side, a header that disagrees with the data, too
 *   many JPEG scans, or the wrong size for `?preprocess=none`.
 * - `no_ink`: the image decoded but holds no digit (blank canvas, paper with specks).
 * - `not_a_digit`: there is writing, but the model finds it too likely not a digit (a letter, a
 *   symbol, a doodle, a scribble): `isRefused` and `isNotADigit` in src/model/classifier.ts.
 */
export type ImageErrorCode =
  | "unsupported_media_type"
  | "image_too_large"
  | "request_over_budget"
  | "invalid_image"
  | "no_ink"
  | "not_a_digit";

/**
 * A refusal the client can act on; `message` is safe to show (never a decoder's stack).
 *
 * @example
 * ```ts
 * import { ImageError, statusOf } from "./errors.ts";
 * const error = new ImageError("no_ink", "The image is blank: draw a digit");
 * statusOf(error.code); // 422
 * ```
 */
export class ImageError extends Error {
  override name = "ImageError";

  /**
   * @param code Machine-readable reason, see {@linkcode ImageErrorCode}.
   * @param message Human-readable explanation for the client.
   * @param options `cause` keeps the underlying decoder error for server-side logs.
   */
  constructor(readonly code: ImageErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

const STATUS_BY_CODE = {
  unsupported_media_type: 415,
  image_too_large: 413,
  request_over_budget: 413,
  invalid_image: 400,
  no_ink: 422,
  not_a_digit: 422,
} as const satisfies Record<ImageErrorCode, number>;

/**
 * The HTTP status for an {@linkcode ImageErrorCode}: 415, 413, 400 or 422.
 *
 * @param code The error's code.
 * @returns The status the HTTP layer should answer with.
 */
export function statusOf(code: ImageErrorCode): 415 | 413 | 400 | 422 {
  return STATUS_BY_CODE[code];
}

/** Bytes as MiB with one decimal, for messages: `mib(83886080)` is "80.0 MiB". */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
