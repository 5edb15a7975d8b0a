/**
 * One JSON line per request — id, method, route, status, error code, milliseconds and what the
 * handlers put on `c.var.log` — for Workers Logs (`[observability]` in wrangler.toml) or any log
 * collector. Never image bytes or tokens: only the fields below and {@linkcode LogFields} are written.
 *
 * @example
 * ```ts ignore
 * app.use(requestLog());
 * // {"id":"8f1e2d3c4b5a6978-LHR","method":"POST","route":"/classify","status":200,"ms":12.3,…}
 * ```
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { findTargetHandler, isMiddleware } from "hono/utils/handler";
import type { AppEnv, LogFields } from "../env.ts";

/** Options for {@linkcode requestLog}. */
export interface RequestLogOptions {
  /** Where each line goes. Default `console.log` (Workers Logs keeps what a Worker logs). */
  write?: (line: string) => void;
}

/** One request's log line. */
export interface RequestLogLine extends LogFields {
  /** The request id, as echoed in `X-Request-Id`. */
  id: string;
  method: string;
  /** The pattern of the route that answered, e.g. `/v2/models/:name/infer`; null when none matched. */
  route: string | null;
  status: number;
  /** Milliseconds from this middleware to the response, to 0.1 ms. */
  ms: number;
}

// A Cloudflare Ray ID: 16 hex digits, a dash and the data centre's code, e.g. 8f1e2d3c4b5a6978-LHR.
const RAY_ID = /^[0-9a-f]{16}-[A-Z]{3,4}$/i;

/**
 * Gives each request an id (Cloudflare's `cf-ray` when it is well formed, else a random UUID; a
 * client's own `X-Request-Id` is not taken, so no client writes into the log), answers it as
 * `X-Request-Id`, sets `c.var.log` for the handlers, and writes one JSON line once the response is
 * ready. Mount it first, so it sees every request and every answer, refusals included.
 *
 * Hono's `requestId` middleware is not used: it prefers the client's `X-Request-Id` over anything a
 * generator offers, and the id here must be Cloudflare's when there is one.
 *
 * In a Worker, clocks only move at I/O (a Spectre mitigation), so `ms` there is time spent waiting,
 * not CPU time; under Deno it is wall-clock time.
 *
 * @param options `write` takes each line instead of `console.log`.
 * @returns The middleware.
 */
export function requestLog(options: RequestLogOptions = {}): MiddlewareHandler<AppEnv> {
  const write = options.write ?? ((line: string) => console.log(line));
  return async function requestLog(c, next) {
    const started = performance.now();
    const ray = c.req.header("cf-ray");
    const id = ray && RAY_ID.test(ray) ? ray : crypto.randomUUID();
    c.set("requestId", id);
    c.set("log", {});
    c.header("X-Request-Id", id);
    let status = 500;
    try {
      await next();
      status = c.res.status;
    } finally {
      const { error, ...fields } = c.var.log;
      const line: RequestLogLine = {
        id,
        method: c.req.method,
        route: routeOf(c),
        status,
        error,
        ms: Math.round((performance.now() - started) * 10) / 10,
        ...fields,
      };
      write(JSON.stringify(line));
    }
  };
}

/**
 * The pattern of the first route handler (not middleware) that matched: the one that answers, or
 * would have, had middleware not refused first. Null when only middleware matched (a 404).
 */
function routeOf(c: Context<AppEnv>): string | null {
  const route = matchedRoutes(c).find((r) => !isMiddleware(findTargetHandler(r.handler)));
  return route?.path ?? null;
}
