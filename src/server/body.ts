/**
 * Reads a request body once, as a stream, within two budgets: the body's own cap (413
 * `body_too_large`) and the bytes all bodies in flight in this isolate may have received together
 * (503 `overloaded`), counted as they arrive. A body cut short by its client is a 400
 * `body_incomplete`, never a 500.
 */
import { ApiError } from "./api_error.ts";
import type { Limits } from "./limits.ts";

/** The limits {@linkcode readBody} enforces. */
export type BodyLimits = Pick<Limits, "maxBodyBytes" | "maxInflightBodyBytes">;

/** Seconds a shed client is asked to wait before trying again. */
export const RETRY_AFTER_SECONDS = 1;

/** Bytes received so far by the bodies being read in this isolate, counted as they arrive. */
let inflightBytes = 0;

/**
 * Bytes received so far by request bodies in flight in this isolate; 0 when none is being read.
 *
 * @returns The bytes received so far by unfinished {@linkcode readBody} calls.
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
 * @param use Works on the bytes (the chunks read, joined in one buffer).
 * @returns What `use` returns.
 * @throws ApiError 413 `body_too_large` when Content-Length or the bytes streamed pass `maxBodyBytes`
 *   (reading stops there); 503 `overloaded` (with Retry-After) at the first chunk whose bytes, with
 *   those its Content-Length says are still to come, would take the bytes received in the isolate past
 *   `maxInflightBodyBytes` (a declared length alone holds nothing); 400 `body_incomplete` when the
 *   client ends the body early; 400 `invalid_content_length` for a Content-Length that is not a byte
 *   count.
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
  try {
    // Chunks are kept as they came and joined once at the end: no buffer is reserved ahead of the
    // bytes, and none is outgrown and left behind.
    const chunks: Uint8Array[] = [];
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
      // Shed as soon as the bytes still to come cannot fit beside what the others have received, so
      // a body that will be refused stops being read early; only bytes received are counted.
      const toCome = Math.max(chunk.length, (declared ?? 0) - size);
      if (inflightBytes + toCome > limits.maxInflightBodyBytes) {
        void reader.cancel().catch(() => {});
        throw overloaded();
      }
      inflightBytes += chunk.length;
      held += chunk.length;
      chunks.push(chunk);
      size += chunk.length;
    }
    if (declared !== undefined && size < declared) {
      throw incomplete(`the body ended after ${size} of its ${declared} bytes`);
    }
    return await use(joined(chunks, size));
  } finally {
    inflightBytes -= held;
  }
}

/** The chunks in one buffer; a lone chunk as it is, when it owns its whole buffer. */
function joined(chunks: Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  const only = chunks[0];
  if (
    chunks.length === 1 && only instanceof Uint8Array && only.buffer instanceof ArrayBuffer &&
    only.byteOffset === 0 && only.byteLength === only.buffer.byteLength
  ) {
    return only as Uint8Array<ArrayBuffer>;
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
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

function overloaded(): ApiError {
  return new ApiError(
    503,
    "overloaded",
    `too many uploads in progress: try again in ${RETRY_AFTER_SECONDS} s`,
    { headers: { "retry-after": String(RETRY_AFTER_SECONDS) } },
  );
}

function tooLarge(maxBodyBytes: number): ApiError {
  return new ApiError(413, "body_too_large", `the body is over ${maxBodyBytes} bytes`);
}

function incomplete(detail: string, cause?: unknown): ApiError {
  return new ApiError(400, "body_incomplete", `${detail}: send the whole body again`, { cause });
}
