/** The one error type routes throw; `onError` in app.ts turns it into `{"error":{"code","message"}}`. */
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ImageError, statusOf } from "../image/errors.ts";

/** Options for {@linkcode ApiError}. */
export interface ApiErrorOptions extends ErrorOptions {
  /** Headers the error response carries, e.g. Retry-After on a 503. */
  headers?: Record<string, string>;
}

/** An HTTP error with a machine-readable `code` and a message safe to show the client. */
export class ApiError extends HTTPException {
  /** Headers the error response carries. */
  readonly headers: Readonly<Record<string, string>>;

  /**
   * @param status The HTTP status to answer with.
   * @param code Machine-readable reason, e.g. `invalid_json`.
   * @param message What went wrong and, where it helps, what to send instead.
   * @param options `cause` keeps the underlying error for server-side logs; `headers` go on the response.
   */
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    options?: ApiErrorOptions,
  ) {
    super(status, { message, cause: options?.cause });
    this.headers = options?.headers ?? {};
  }
}

/**
 * A client's value as an error message may show it: arrays and objects by their kind, anything else
 * as JSON cut to 40 characters, so no message echoes a client's megabytes back.
 *
 * @param value What the client sent.
 * @returns At most 41 characters.
 */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value !== null && typeof value === "object") return "an object";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * Any error as the ApiError it is answered as: an ImageError by its code's status, one of Hono's
 * HTTPExceptions under 500 as `bad_request`, anything else as 500 `internal_error`, which says
 * nothing of its cause (logged here instead).
 *
 * @param error What a handler or middleware threw.
 * @returns The error to answer with.
 */
export function toApiError(error: Error): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ImageError) {
    return new ApiError(statusOf(error.code), error.code, error.message);
  }
  if (error instanceof HTTPException && error.status < 500) {
    return new ApiError(error.status, "bad_request", error.message || "bad request");
  }
  console.error(error);
  return new ApiError(500, "internal_error", "the server failed to answer this request");
}
