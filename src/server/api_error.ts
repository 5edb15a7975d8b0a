/** The one error type routes throw; `onError` in app.ts turns it into `{"error":{"code","message"}}`. */
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

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
