/** How much a client may send to /classify; wrangler.toml's [vars] (or the environment) can lower or raise them. */

/** The limits POST /classify enforces before any image is decoded. */
export interface Limits {
  /** Largest request body, in bytes (413 above it). */
  maxBodyBytes: number;
  /** Largest image a header may declare, width × height (413 above it, checked before decoding). */
  maxPixels: number;
  /** Most images in one multipart batch (413 above it). */
  maxBatch: number;
  /** Bytes all request bodies being received may hold together in one isolate (503 above it). */
  maxInflightBodyBytes: number;
}

/**
 * 5 MiB bodies; 4 Mpx images (16 MiB as RGBA, well inside a Worker's 128 MB alongside tfjs' wasm heap);
 * batches of 64, whose forward pass stays within a few milliseconds; 32 MiB of bodies in flight per
 * isolate (six full-size uploads at once), a quarter of a Worker's 128 MB.
 */
export const DEFAULT_LIMITS: Readonly<Limits> = {
  maxBodyBytes: 5 * 1024 * 1024,
  maxPixels: 2048 * 2048,
  maxBatch: 64,
  maxInflightBodyBytes: 32 * 1024 * 1024,
};

const VARIABLES = {
  maxBodyBytes: "MAX_BODY_BYTES",
  maxPixels: "MAX_PIXELS",
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
