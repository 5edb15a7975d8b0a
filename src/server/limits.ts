/** How much a client may send to /classify; wrangler.toml's [vars] (or the environment) can lower or raise them. */

/** The limits POST /classify enforces before any image is decoded. */
export interface Limits {
  /** Largest request body, in bytes (413 above it). */
  maxBodyBytes: number;
  /**
   * Largest image a header may declare, width × height (413 above it, checked before decoding).
   * JPEG and PNG decode shrunk, so this is what a photo may be; GIF, WebP and BMP decode whole, so
   * they stop at 2048 × 1024 (2 Mpx) whatever this says.
   */
  maxPixels: number;
  /**
   * Work one request may ask of the decoders, summed over its images and judged from their headers
   * before any is decoded (413 above it): a PNG's inflated scanlines, a JPEG's DCT coefficients
   * (one byte each here), 4 bytes a pixel for the formats decoded whole.
   */
  maxDecodeBytes: number;
  /** Most images in one multipart batch (413 above it). */
  maxBatch: number;
  /** Bytes all request bodies being received may hold together in one isolate (503 above it). */
  maxInflightBodyBytes: number;
}

/**
 * 5 MiB bodies; 50 Mpx images (a 48 MP phone photo; decoded shrunk, so memory stays small); 80 MiB of
 * decoding work a request (a 48 MP 4:2:0 JPEG is 72 M coefficients, a 5120×2880 RGBA screenshot 59 MB
 * of scanlines; either costs tens of milliseconds); batches of 64, whose forward pass stays within a
 * few milliseconds; 32 MiB of bodies in flight per isolate (six full-size uploads at once), a quarter
 * of a Worker's 128 MB.
 */
export const DEFAULT_LIMITS: Readonly<Limits> = {
  maxBodyBytes: 5 * 1024 * 1024,
  maxPixels: 8192 * 6144,
  maxDecodeBytes: 80 * 1024 * 1024,
  maxBatch: 64,
  maxInflightBodyBytes: 32 * 1024 * 1024,
};

const VARIABLES = {
  maxBodyBytes: "MAX_BODY_BYTES",
  maxPixels: "MAX_PIXELS",
  maxDecodeBytes: "MAX_DECODE_BYTES",
  maxBatch: "MAX_BATCH",
  maxInflightBodyBytes: "MAX_INFLIGHT_BODY_BYTES",
} as const satisfies Record<keyof Limits, string>;

/**
 * Reads the limits from Worker vars or environment variables, falling back to {@linkcode DEFAULT_LIMITS}.
 *
 * @param vars Worker `env` bindings or `Deno.env.toObject()`; values may be numbers or numeric strings.
 * @returns The limits, each a positive integer.
 * @throws RangeError when a variable is set but is not a positive integer.
 *
 * @example
 * ```ts
 * limitsFrom({ MAX_BODY_BYTES: "1048576" }).maxBodyBytes; // 1048576
 * ```
 */
export function limitsFrom(vars: Record<string, unknown>): Limits {
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(VARIABLES) as (keyof Limits)[]) {
    const name = VARIABLES[key];
    const raw = vars[name];
    if (raw === undefined || raw === "") continue;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`'${name}' must be a positive integer: current value is ${String(raw)}`);
    }
    limits[key] = value;
  }
  return limits;
}
