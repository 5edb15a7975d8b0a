/**
 * Reads a request body once, as a stream, within two budgets: the body's own cap (413 `body_too_large`) and
 * the bytes all bodies in flight in this isolate may hold together (503 `overloaded`). A body cut short by
 * its client is a 400 `body_incomplete`, never a 500.
 */
import { ApiError } from "./api_error.ts";
import type { Limits } from "./limits.ts";

/** The limits {@linkcode readBody} enforces. */
export type BodyLimits = Pick<Limits, "maxBodyBytes" | "maxInflightBodyBytes">;

/** Seconds a shed client is asked to wait before trying again. */
export const RETRY_AFTER_SECONDS = 1;

const FIRST_CAPACITY = 64 * 1024;

/** Bytes held right now by bodies being received in this isolate: their buffers' capacity. */
let inflightBytes = 0;

/**
 * Bytes currently held by request bodies in flight in this isolate; 0 when none is being read.
 *
 * @returns The sum of the buffers held by unfinished {@linkcode readBody} calls.
 */
export function inflightBodyBytes(): number {
  return inflightBytes;
}

/**
 * A body's bytes, read once from its stream. `use` runs while the bytes still count against the isolate's
 * in-flight budget; they are released when it settles, whatever happens.
 *
 * @param request The request; its body is consumed.
 * @param limits The body cap and the isolate's in-flight ceiling.
 * @param use Works on the bytes (a view of the one buffer read).
 * @returns What `use` returns.
 * @throws ApiError 413 `body_too_large` when Content-Length or the bytes streamed pass `maxBodyBytes`
 *   (reading stops there); 503 `overloaded` (with Retry-After) when holding the body would take the
 *   isolate past `maxInflightBodyBytes`; 400 `body_incomplete` when the client ends the body early;
 *   400 `invalid_content_length` for a Content-Length that is not a byte count.
 *
 * @example
 * ```ts ignore
 * const size = await readBody(request, DEFAULT_LIMITS, (bytes) => bytes.length);
 * ```
 */
export async function readBody<T>(
  request: Request,
  limits: BodyLimits,
  use: (bytes: Uint8Array<ArrayBuffer>) => T | Promise<T>,
): Promise<T> {
  const declared = declaredLength(request, limits.maxBodyBytes);
  let held = 0;
  const hold = (bytes: number) => {
    if (inflightBytes + bytes > limits.maxInflightBodyBytes) {
      throw new ApiError(
        503,
        "overloaded",
        `too many uploads in progress: try again in ${RETRY_AFTER_SECONDS} s`,
        { headers: { "retry-after": String(RETRY_AFTER_SECONDS) } },
      );
    }
    inflightBytes += bytes;
    held += bytes;
  };
  try {
    // With a Content-Length the whole body is accounted before a byte is read.
    hold(declared ?? Math.min(FIRST_CAPACITY, limits.maxBodyBytes));
    let buffer = new Uint8Array(held);
    let size = 0;
    const reader = (request.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() }))
      .getReader();
    for (;;) {
      const chunk = await readChunk(reader);
      if (!chunk) break;
      if (size + chunk.length > limits.maxBodyBytes) {
        void reader.cancel().catch(() => {});
        throw tooLarge(limits.maxBodyBytes);
      }
      if (size + chunk.length > buffer.length) {
        const capacity = Math.min(
          limits.maxBodyBytes,
          Math.max(size + chunk.length, buffer.length * 2),
        );
        try {
          hold(capacity - buffer.length);
        } catch (error) {
          void reader.cancel().catch(() => {});
          throw error;
        }
        const grown = new Uint8Array(capacity);
        grown.set(buffer.subarray(0, size));
        buffer = grown;
      }
      buffer.set(chunk, size);
      size += chunk.length;
    }
    if (declared !== undefined && size < declared) {
      throw incomplete(`the body ended after ${size} of its ${declared} bytes`);
    }
    return await use(buffer.subarray(0, size));
  } finally {
    inflightBytes -= held;
  }
}

/** Content-Length as a number, checked against the cap before anything is read; undefined when absent. */
function declaredLength(request: Request, maxBodyBytes: number): number | undefined {
  const header = request.headers.get("content-length");
  // A chunked body's length is only known as it streams.
  if (header === null || request.headers.has("transfer-encoding")) return undefined;
  if (!/^\d{1,16}$/.test(header.trim())) {
    throw new ApiError(
      400,
      "invalid_content_length",
      `Content-Length must be a byte count: got '${header}'`,
    );
  }
  const length = Number(header);
  if (length > maxBodyBytes) throw tooLarge(maxBodyBytes);
  return length;
}

/** The next chunk, or undefined at the end; a connection lost mid-body becomes `body_incomplete`. */
async function readChunk(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<Uint8Array | undefined> {
  try {
    const { done, value } = await reader.read();
    return done ? undefined : value;
  } catch (error) {
    if (isBodyCutShort(error)) {
      throw incomplete("the connection closed before the body was complete", error);
    }
    throw error;
  }
}

const DenoErrors = (globalThis as { Deno?: { errors?: typeof Deno.errors } }).Deno?.errors;

/**
 * What each runtime throws from a body read when the client stops sending (a body shorter than its
 * Content-Length, a chunked body without its last chunk, a client that disconnects):
 * workerd: `Error: Network connection lost.` (with `retryable: true`);
 * Deno.serve: `Deno.errors.BadResource: Cannot read request body as underlying resource unavailable`.
 */
function isBodyCutShort(error: unknown): boolean {
  if (DenoErrors && error instanceof DenoErrors.BadResource) return true;
  return error instanceof Error && error.message === "Network connection lost.";
}

function tooLarge(maxBodyBytes: number): ApiError {
  return new ApiError(413, "body_too_large", `the body is over ${maxBodyBytes} bytes`);
}

function incomplete(detail: string, cause?: unknown): ApiError {
  return new ApiError(400, "body_incomplete", `${detail}: send the whole body again`, { cause });
}
