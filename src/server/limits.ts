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
   * before any is decoded (413 above it), in byte-equivalents of about 0.5 ns each (inflating and
   * summing a byte of 8-bit grey PNG): a PNG's scanlines, rows and pixels by how they are read (a
   * 1-bit pixel costs 20), a JPEG's blocks, data bytes and scans, GIF/WebP/BMP pixels; see
   * src/image/decode.ts. It is what bounds a request's CPU.
   */
  maxDecodeWork: number;
  /** Most images in one multipart batch (413 above it). */
  maxBatch: number;
  /** Bytes all request bodies being received may hold together in one isolate (503 above it). */
  maxInflightBodyBytes: number;
}

/**
 * 5 MiB bodies; 50 Mpx images (a 48 MP phone photo; decoded shrunk, so memory stays small); 128 Mi
 * units of decoding work a request, about 67 ms of CPU, so that with receiving and parsing the body
 * no request passes 100 ms (a 48 MP JPEG photo is ~64 Mi, a 12 MP one ~40 Mi, 64 photos of 640×480
 * 81 Mi; a 1-bit 2048×2048 PNG 81 Mi, so a batch holds one); batches of 64, whose forward pass stays
 * within a few milliseconds; 32 MiB of bodies in flight per isolate (six full-size uploads at once), a
 * quarter of a Worker's 128 MB.
 */
export const DEFAULT_LIMITS: Readonly<Limits> = {
  maxBodyBytes: 5 * 1024 * 1024,
  maxPixels: 8192 * 6144,
  maxDecodeWork: 128 * 1024 * 1024,
  maxBatch: 64,
  maxInflightBodyBytes: 32 * 1024 * 1024,
};

const VARIABLES = {
  maxBodyBytes: "MAX_BODY_BYTES",
  maxPixels: "MAX_PIXELS",
  maxDecodeWork: "MAX_DECODE_WORK",
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
