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
