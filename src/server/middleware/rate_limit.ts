/**
 * Per-client rate limiting: Cloudflare's Workers Rate Limiting binding (`[[ratelimits]]` in
 * wrangler.toml, emulated by `wrangler dev`) where it exists, else an in-isolate fixed window with
 * the same numbers (`workerd serve`, `deno task serve`).
 *
 * @example
 * ```ts ignore
 * app.use("/classify", rateLimit(), apiTokens());
 * ```
 */
import type { Context, MiddlewareHandler } from "hono";
import { ApiError } from "../api_error.ts";
import type { AppEnv, RateLimitBinding } from "../env.ts";
import { tokensFrom } from "./api_tokens.ts";

/**
 * The default budget: 120 requests per client per 60 s, the numbers wrangler.toml's `[[ratelimits]]`
 * gives the binding (keep them equal).
 *
 * The page sends one request per pen-up: a fast person writes a digit in one to three strokes, a second
 * or more each, so even a burst of quick strokes stays under 2 a second and a minute of steady
 * drawing near 40; a script sending as fast as it can meets the limit within a second or two. A 60 s
 * period (the binding allows 10 or 60) lets a person's short bursts borrow from the quiet moments
 * around them. One client can then spend the Workers Free plan's 100,000 requests a day in no less
 * than 14 hours (counted per Cloudflare location), not in minutes.
 */
export const DEFAULT_RATE_LIMIT = { limit: 120, periodSeconds: 60 } as const;

/**
 * Most clients the in-isolate fallback remembers at once. At ~150 bytes a client (key and window)
 * that is under 2 MB of the isolate's 128 MB, however many keys a spray of requests invents. Past
 * it the oldest window is forgotten (its client starts afresh): one isolate meeting more than 10,000
 * clients a minute is facing a distributed flood no per-isolate count can stop anyway.
 */
export const DEFAULT_MAX_KEYS = 10_000;

/** Options for {@linkcode rateLimit}. */
export interface RateLimitOptions {
  /** Requests one client may send per period. Default {@linkcode DEFAULT_RATE_LIMIT}.limit. */
  limit?: number;
  /** The period in seconds: 10 or 60, as the binding allows. Default 60. */
  periodSeconds?: 10 | 60;
  /**
   * The fallback's memory, for tests. By default one per isolate for each budget, shared by every
   * `rateLimit()` with the same numbers, as the binding's namespace is.
   */
  fallback?: FixedWindowLimiter;
}

const fallbacks = new Map<string, FixedWindowLimiter>();

/**
 * Refuses a client's requests past `limit` per `periodSeconds`. A client is one of the configured API
 * tokens (keyed by its SHA-256, never the token), else its `CF-Connecting-IP` (an IPv6 address by its
 * /64, what one subscriber holds), else one shared local budget (see {@linkcode clientKey}). Mount it
 * before {@linkcode apiTokens}, so refused tokens are counted too. `RATE_LIMIT = "off"` turns it off.
 *
 * `CF-Connecting-IP` is Cloudflare's to set: on a Worker behind Cloudflare it is the client's
 * address, but on `workerd serve` exposed directly a client could send any, so the in-isolate
 * fallback is a courtesy there, not a defence (`deno task serve` sets it from the connection).
 *
 * @param options The budget; the defaults match wrangler.toml's `[[ratelimits]]`.
 * @returns The middleware.
 * @throws ApiError 429 `rate_limited` with `Retry-After` (seconds) once the budget is spent.
 * @throws RangeError when `limit` is not a positive integer or `periodSeconds` is not 10 or 60.
 */
export function rateLimit(options: RateLimitOptions = {}): MiddlewareHandler<AppEnv> {
  const { limit = DEFAULT_RATE_LIMIT.limit, periodSeconds = DEFAULT_RATE_LIMIT.periodSeconds } =
    options;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`'limit' must be a positive integer: current value is ${limit}`);
  }
  if (periodSeconds !== 10 && periodSeconds !== 60) {
    throw new RangeError(`'periodSeconds' must be 10 or 60: current value is ${periodSeconds}`);
  }
  const budget = `${limit}/${periodSeconds}`;
  if (!options.fallback && !fallbacks.has(budget)) {
    fallbacks.set(budget, new FixedWindowLimiter({ limit, periodSeconds }));
  }
  const fallback = options.fallback ?? fallbacks.get(budget)!;

  return async function rateLimit(c, next) {
    if (c.env?.RATE_LIMIT === "off") return await next();
    const key = await clientKey(c);
    const binding: RateLimitBinding | undefined = c.env?.RATE_LIMITER;
    // The binding does not say when its window ends: a whole period is the honest upper bound. Should
    // it fail, the isolate's own count stands in rather than refusing everyone.
    const { success, retryAfterSeconds } = binding
      ? await Promise.resolve().then(() => binding.limit({ key })).then(
        ({ success }) => ({ success, retryAfterSeconds: periodSeconds }),
        () => fallback.hit(key),
      )
      : fallback.hit(key);
    if (!success) {
      throw new ApiError(
        429,
        "rate_limited",
        `too many requests from this client (at most ${limit} every ${periodSeconds} s): ` +
          `retry in ${retryAfterSeconds} s`,
        { headers: { "retry-after": String(retryAfterSeconds) } },
      );
    }
    await next();
  };
}

/**
 * Who is asking: `token:<SHA-256 prefix>` for one of the configured API tokens, else
 * `ip:<address or /64>` from a well-formed `CF-Connecting-IP`, else `local`. A token that is not
 * one of `API_TOKENS` (or any token while none is configured) counts against its sender's address,
 * so made-up tokens earn no budget and guessing tokens is limited like any other request. Keys are
 * at most 42 characters, whatever a client sends.
 *
 * @param c The request's context.
 * @returns The key the client's budget is counted under.
 */
export async function clientKey(c: Context<AppEnv>): Promise<string> {
  const token = /^bearer +(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
  const tokens = tokensFrom(c.env);
  if (token && tokens.length) {
    const hash = await sha256Hex(token, 16);
    if ((await tokenHashes(tokens)).has(hash)) return `token:${hash}`;
  }
  const ip = c.req.header("cf-connecting-ip")?.trim() ?? "";
  if (IPV4.test(ip)) return `ip:${ip}`;
  const prefix = ip.includes(":") && ip.length <= 45 ? ipv6Prefix64(ip) : undefined;
  return prefix ? `ip:${prefix}` : "local";
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

// The configured tokens' hashes, for the deployment's one API_TOKENS string.
let hashed: { tokens: string[]; hashes: Promise<Set<string>> } | undefined;

function tokenHashes(tokens: string[]): Promise<Set<string>> {
  if (hashed?.tokens !== tokens) {
    hashed = {
      tokens,
      hashes: Promise.all(tokens.map((token) => sha256Hex(token, 16))).then((h) => new Set(h)),
    };
  }
  return hashed.hashes;
}

/** What one call of {@linkcode FixedWindowLimiter.hit} decided. */
export interface HitResult {
  success: boolean;
  /** Whole seconds until the key's window ends (at least 1). */
  retryAfterSeconds: number;
}

/**
 * Counts hits per key in fixed windows that start at a key's first hit, holding at most `maxKeys`
 * keys. The windows sit in a ring in the order they started, so the expired ones are always at its
 * head: sweeping them, or pushing out the oldest when the ring is full, costs O(1) a hit, and the
 * memory is fixed when it is built.
 */
export class FixedWindowLimiter {
  readonly #limit: number;
  readonly #periodMs: number;
  readonly #now: () => number;
  /** key → its slot in the ring. */
  readonly #slots = new Map<string, number>();
  readonly #keys: (string | undefined)[];
  readonly #starts: Float64Array;
  readonly #counts: Uint32Array;
  #head = 0;

  /**
   * @param options `limit` hits per `periodSeconds`; `maxKeys` (default {@linkcode DEFAULT_MAX_KEYS})
   *   bounds the memory; `now` (ms) is the clock, for tests.
   * @throws RangeError when `maxKeys` is not a positive integer.
   */
  constructor(options: {
    limit: number;
    periodSeconds: number;
    maxKeys?: number;
    now?: () => number;
  }) {
    const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) {
      throw new RangeError(`'maxKeys' must be a positive integer: current value is ${maxKeys}`);
    }
    this.#limit = options.limit;
    this.#periodMs = options.periodSeconds * 1000;
    this.#now = options.now ?? Date.now;
    this.#keys = new Array(maxKeys).fill(undefined);
    this.#starts = new Float64Array(maxKeys);
    this.#counts = new Uint32Array(maxKeys);
  }

  /** How many keys it holds now (never more than `maxKeys`). */
  get size(): number {
    return this.#slots.size;
  }

  /**
   * Counts one hit for `key`.
   *
   * @param key The client.
   * @returns Whether the hit is within the key's budget, and when its window ends.
   */
  hit(key: string): HitResult {
    const now = this.#now();
    const capacity = this.#keys.length;
    while (this.#slots.size && now - this.#starts[this.#head]! >= this.#periodMs) this.#dropHead();
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      if (this.#slots.size === capacity) this.#dropHead();
      slot = (this.#head + this.#slots.size) % capacity;
      this.#slots.set(key, slot);
      this.#keys[slot] = key;
      this.#starts[slot] = now;
      this.#counts[slot] = 0;
    }
    const count = ++this.#counts[slot]!;
    return {
      success: count <= this.#limit,
      retryAfterSeconds: Math.max(
        1,
        Math.ceil((this.#starts[slot]! + this.#periodMs - now) / 1000),
      ),
    };
  }

  #dropHead(): void {
    this.#slots.delete(this.#keys[this.#head]!);
    this.#keys[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#keys.length;
  }
}

/** The first `chars` hex digits of SHA-256(`text`). */
async function sha256Hex(text: string, chars: number): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("")
    .slice(0, chars);
}

/** The first four groups of an IPv6 address (its /64), e.g. `2001:db8:0:1::/64`; else undefined. */
function ipv6Prefix64(address: string): string | undefined {
  const [head = "", tail, ...more] = address.toLowerCase().split("::");
  const groups = (text: string | undefined) => text ? text.split(":") : [];
  const [left, right] = [groups(head), groups(tail)];
  if (more.length || (tail === undefined && left.length !== 8) || left.length + right.length > 8) {
    return undefined;
  }
  const full = [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  if (!full.every((group) => /^[0-9a-f]{1,4}$/.test(group))) return undefined;
  return `${full.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}
