/**
 * What the app reads from its runtime per request: Workers bindings (wrangler.toml's [vars], secrets,
 * the rate-limiting binding) or, on Deno, the environment; and what its middleware leaves on the
 * context for the handlers and the request log.
 */

/** Cloudflare's Workers Rate Limiting binding (`[[ratelimits]]` in wrangler.toml). */
export interface RateLimitBinding {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

/** wrangler.toml's [vars], the secrets and the bindings; on Deno, environment variables. */
export interface Env {
  MAX_BODY_BYTES?: number | string;
  MAX_PIXELS?: number | string;
  MAX_DECODE_WORK?: number | string;
  MAX_BATCH?: number | string;
  MAX_INFLIGHT_BODY_BYTES?: number | string;
  /** "off" turns per-client rate limiting off (load tests and benches). */
  RATE_LIMIT?: string;
  /** A secret: comma-separated API tokens. When set, the inference routes require one. */
  API_TOKENS?: string;
  /** The rate-limiting binding; absent on `workerd serve` and Deno, where an in-isolate limiter stands in. */
  RATE_LIMITER?: RateLimitBinding;
}

/** What one request's log line says beyond method, route, status and time (never image bytes or tokens). */
export interface LogFields {
  /** The error code of a 4xx/5xx answer. */
  error?: string;
  body_bytes?: number;
  /** Per image: its format and decoded (upright) size. */
  images?: { format: string; width: number; height: number }[];
  /** Per digit read: the digit and the model's confidence. */
  digits?: { digit: number; confidence: number }[];
  model?: { name: string; sha256: string };
  /** On /classify, the model's partner, when it was asked too (models/index.json). */
  partner?: { name: string; sha256: string };
}

/** The app's Hono environment: `Hono<AppEnv>`. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** `cf-ray` when Cloudflare sent one, else generated; echoed as `X-Request-Id`. */
    requestId: string;
    /** Filled in by handlers and `onError` for the request log (src/server/middleware/request_log.ts). */
    log: LogFields;
  };
}
