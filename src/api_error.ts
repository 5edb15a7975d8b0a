/** The one error type routes throw; `onError` in app.ts turns it into `{"error":{"code","message"}}`. */
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** An HTTP error with a machine-readable `code` and a message safe to show the client. */
export class ApiError extends HTTPException {
  /**
   * @param status The HTTP status to answer with.
   * @param code Machine-readable reason, e.g. `invalid_json`.
   * @param message What went wrong and, where it helps, what to send instead.
   * @param options `cause` keeps the underlying error for server-side logs.
   */
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(status, { message, cause: options?.cause });
  }
}
