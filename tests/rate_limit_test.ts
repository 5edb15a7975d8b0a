/**
 * rateLimit() on a tiny app through `app.request()`, no server. Passing proves that a burst from one
 * client meets 429 `rate_limited` with `Retry-After` after exactly its budget, that clients (by
 * address, by token) have budgets of their own, that the Workers binding is asked when present with
 * a hashed key, that `RATE_LIMIT = "off"` lets everything through, and that the in-isolate fallback
 * stays bounded however many clients a spray invents.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { ApiError } from "../src/server/api_error.ts";
import type { AppEnv, Env, RateLimitBinding } from "../src/server/env.ts";
import { apiTokens } from "../src/server/middleware/api_tokens.ts";
import {
  clientKey,
  DEFAULT_MAX_KEYS,
  DEFAULT_RATE_LIMIT,
  FixedWindowLimiter,
  rateLimit,
} from "../src/server/middleware/rate_limit.ts";

const { limit, periodSeconds } = DEFAULT_RATE_LIMIT;

/** A tiny app guarded like the main one: the limit, then tokens; errors in the API's shape. */
function appWith(fallback: FixedWindowLimiter) {
  const app = new Hono<AppEnv>();
  app.use("/classify", rateLimit({ fallback }), apiTokens());
  app.post("/classify", (c) => c.json({ digit: 7 }));
  app.onError((error, c) => {
    if (!(error instanceof ApiError)) throw error;
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    return c.json({ error: { code: error.code, message: error.message } }, error.status);
  });
  return app;
}

/** A fallback on a clock the test moves. */
function manualClock() {
  const clock = { now: 1_000_000 };
  const fallback = new FixedWindowLimiter({ limit, periodSeconds, now: () => clock.now });
  return { clock, fallback, app: appWith(fallback) };
}

/** Sends `count` requests; the statuses in order and the last response. */
async function burst(
  app: Hono<AppEnv>,
  count: number,
  headers: Record<string, string> = {},
  env: Env = {},
) {
  const statuses: number[] = [];
  let last!: Response;
  for (let i = 0; i < count; i++) {
    last = await app.request("/classify", { method: "POST", headers }, env);
    statuses.push(last.status);
  }
  return { statuses, last };
}

Deno.test("rateLimit() defaults to the budget wrangler.toml gives the binding", async () => {
  const toml = await Deno.readTextFile(new URL("../wrangler.toml", import.meta.url));
  const block = /^\[\[ratelimits\]\]\n[^[]*/m.exec(toml)?.[0] ?? "";
  assert.match(block, /name = "RATE_LIMITER"/);
  assert.match(block, new RegExp(`simple = \\{ limit = ${limit}, period = ${periodSeconds} \\}`));
  assert.doesNotMatch(
    toml,
    /^RATE_LIMIT\s*=/m,
    "RATE_LIMIT must stay unset in [vars]: on by default",
  );
});

Deno.test("rateLimit() answers 429 rate_limited with Retry-After after exactly `limit` requests", async () => {
  const { clock, app } = manualClock();
  const headers = { "cf-connecting-ip": "203.0.113.7" };
  const { statuses } = await burst(app, limit, headers);
  assert.deepEqual(new Set(statuses), new Set([200]));
  clock.now += 15_000;
  const { last } = await burst(app, 1, headers);
  const body = await last.json();
  assert.equal(last.status, 429);
  assert.equal(body.error.code, "rate_limited");
  assert.equal(last.headers.get("retry-after"), String(periodSeconds - 15));
  assert.match(body.error.message, new RegExp(`retry in ${periodSeconds - 15} s`));
});

Deno.test("rateLimit() gives the client a fresh budget once its window has passed", async () => {
  const { clock, app } = manualClock();
  const headers = { "cf-connecting-ip": "203.0.113.7" };
  await burst(app, limit + 5, headers);
  clock.now += periodSeconds * 1000;
  const { statuses } = await burst(app, limit + 1, headers);
  assert.equal(statuses.filter((s) => s === 200).length, limit);
  assert.equal(statuses.at(-1), 429);
});

Deno.test("rateLimit() gives each client address its own budget", async () => {
  const { app } = manualClock();
  await burst(app, limit, { "cf-connecting-ip": "203.0.113.7" });
  assert.equal((await burst(app, 1, { "cf-connecting-ip": "203.0.113.7" })).last.status, 429);
  assert.equal((await burst(app, 1, { "cf-connecting-ip": "203.0.113.8" })).last.status, 200);
  // Without an address (workerd serve, deno task serve) everyone shares one local budget.
  assert.equal((await burst(app, limit + 1)).last.status, 429);
});

Deno.test("rateLimit() counts an IPv6 client by its /64, however it writes the address", async () => {
  const { app } = manualClock();
  await burst(app, limit / 2, { "cf-connecting-ip": "2001:db8:0:1::1" });
  await burst(app, limit / 2, { "cf-connecting-ip": "2001:0DB8:0000:0001:ffff:1:2:3" });
  assert.equal((await burst(app, 1, { "cf-connecting-ip": "2001:db8:0:1::9" })).last.status, 429);
  assert.equal((await burst(app, 1, { "cf-connecting-ip": "2001:db8:0:2::1" })).last.status, 200);
});

Deno.test("rateLimit() gives each API token its own budget, even from one address", async () => {
  const { app } = manualClock();
  const env = { API_TOKENS: "alpha,beta" };
  const from = (token: string) => ({
    "cf-connecting-ip": "203.0.113.7",
    authorization: `Bearer ${token}`,
  });
  const alpha = await burst(app, limit + 1, from("alpha"), env);
  assert.equal(alpha.statuses.filter((s) => s === 200).length, limit);
  assert.equal(alpha.last.status, 429);
  assert.equal((await burst(app, 1, from("beta"), env)).last.status, 200);
});

Deno.test("rateLimit() keys by address, not by made-up tokens, when no tokens are configured", async () => {
  const { app } = manualClock();
  const headers = (i: number) => ({
    "cf-connecting-ip": "203.0.113.7",
    authorization: `Bearer t${i}`,
  });
  const statuses: number[] = [];
  for (let i = 0; i <= limit; i++) {
    statuses.push((await app.request("/classify", { method: "POST", headers: headers(i) })).status);
  }
  assert.equal(statuses.at(-1), 429);
});

Deno.test("rateLimit() asks the RATE_LIMITER binding when present, keyed by a hash of the token", async () => {
  const fallback = new FixedWindowLimiter({ limit, periodSeconds });
  const app = appWith(fallback);
  const keys: string[] = [];
  const RATE_LIMITER: RateLimitBinding = {
    limit({ key }) {
      keys.push(key);
      return Promise.resolve({ success: keys.length <= 2 });
    },
  };
  const env = { RATE_LIMITER, API_TOKENS: "s3cret-token" };
  const headers = { authorization: "Bearer s3cret-token", "cf-connecting-ip": "203.0.113.7" };
  const { statuses, last } = await burst(app, 3, headers, env);
  assert.deepEqual(statuses, [200, 200, 429]);
  assert.equal(last.headers.get("retry-after"), String(periodSeconds));
  assert.equal(keys.length, 3);
  assert.equal(new Set(keys).size, 1);
  assert.match(keys[0]!, /^token:[0-9a-f]{16}$/);
  assert.ok(!keys[0]!.includes("s3cret"));
  assert.equal(fallback.size, 0, "the fallback is not counted while the binding answers");

  keys.length = 0;
  await burst(app, 1, { "cf-connecting-ip": "203.0.113.7" }, { RATE_LIMITER });
  assert.deepEqual(keys, ["ip:203.0.113.7"]);
});

Deno.test("rateLimit() falls back to the isolate's count when the binding fails", async () => {
  const fallback = new FixedWindowLimiter({ limit: 1, periodSeconds });
  const app = appWith(fallback);
  const RATE_LIMITER: RateLimitBinding = { limit: () => Promise.reject(new Error("unreachable")) };
  const { statuses } = await burst(app, 2, {}, { RATE_LIMITER });
  assert.deepEqual(statuses, [200, 429]);
  assert.equal(fallback.size, 1);
});

Deno.test("rateLimit() counts refused tokens against the sender's address: guessing is limited", async () => {
  const { app } = manualClock();
  const env = { API_TOKENS: "right-token" };
  const from = { "cf-connecting-ip": "203.0.113.9" };
  const guesses = Array.from({ length: limit + 1 }, (_, i) => `guess-${i}`);
  const statuses: number[] = [];
  for (const guess of guesses) {
    const res = await app.request("/classify", {
      method: "POST",
      headers: { ...from, authorization: `Bearer ${guess}` },
    }, env);
    statuses.push(res.status);
  }
  assert.deepEqual(statuses.slice(0, limit), new Array(limit).fill(401));
  assert.equal(statuses[limit], 429, "the address's budget is spent by its wrong guesses");
  const right = await app.request("/classify", {
    method: "POST",
    headers: { ...from, authorization: "Bearer right-token" },
  }, env);
  assert.equal(right.status, 200, "the real token keeps a budget of its own");
});

Deno.test("rateLimit() keys only a well-formed CF-Connecting-IP, in at most 42 characters", async () => {
  const { fallback, app } = manualClock();
  for (const ip of ["x".repeat(16_384), "1.2.3.4.5", "::1::2", "999.1.1.1", "<script>"]) {
    await app.request("/classify", { method: "POST", headers: { "cf-connecting-ip": ip } });
  }
  assert.equal(fallback.size, 1, "every malformed address is the one shared local client");
  const { statuses } = await burst(app, limit, { "cf-connecting-ip": "not an address" });
  assert.equal(statuses.at(-1), 429, "and they share its budget");
  const { last } = await burst(app, 1, { "cf-connecting-ip": "198.51.100.4" });
  assert.equal(last.status, 200);
  const keys = await Promise.all(
    ["2001:db8:85a3:8d3:1319:8a2e:370:7348", "255.255.255.255"].map((ip) =>
      new Promise<string>((resolve) => {
        const probe = new Hono<AppEnv>();
        probe.get("/", async (c) => {
          resolve(await clientKey(c));
          return c.text("");
        });
        void probe.request("/", { headers: { "cf-connecting-ip": ip } });
      })
    ),
  );
  assert.deepEqual(keys, ["ip:2001:db8:85a3:8d3::/64", "ip:255.255.255.255"]);
  for (const key of keys) assert.ok(key.length <= 42);
});

Deno.test('rateLimit() lets every request through when RATE_LIMIT is "off"', async () => {
  const { app, fallback } = manualClock();
  let asked = 0;
  const RATE_LIMITER: RateLimitBinding = {
    limit: () => Promise.resolve({ success: ++asked < 0 }),
  };
  const { statuses } = await burst(app, limit * 2, {}, { RATE_LIMIT: "off", RATE_LIMITER });
  assert.deepEqual(new Set(statuses), new Set([200]));
  assert.equal(asked, 0);
  assert.equal(fallback.size, 0);
});

Deno.test("FixedWindowLimiter stays within maxKeys under a spray of 100,000 keys", () => {
  const clock = { now: 0 };
  const limiter = new FixedWindowLimiter({ limit, periodSeconds, now: () => clock.now });
  let largest = 0;
  for (let i = 0; i < 100_000; i++) {
    limiter.hit(`ip:spray-${i}`);
    largest = Math.max(largest, limiter.size);
    clock.now += 1; // all within one period: nothing expires, so the bound alone holds memory
  }
  assert.equal(largest, DEFAULT_MAX_KEYS);
  assert.equal(limiter.size, DEFAULT_MAX_KEYS);
  // Expired windows are swept as soon as anyone is counted.
  clock.now += periodSeconds * 1000;
  limiter.hit("ip:late");
  assert.equal(limiter.size, 1);
});

Deno.test("FixedWindowLimiter keeps counting the keys a spray has not pushed out", () => {
  const clock = { now: 0 };
  const limiter = new FixedWindowLimiter({
    limit: 2,
    periodSeconds,
    maxKeys: 3,
    now: () => clock.now,
  });
  limiter.hit("a");
  limiter.hit("b");
  limiter.hit("b");
  assert.equal(limiter.hit("b").success, false);
  limiter.hit("c");
  limiter.hit("d"); // pushes out "a", the oldest window
  assert.equal(limiter.size, 3);
  assert.equal(limiter.hit("b").success, false, "b is still counted");
  assert.equal(limiter.hit("a").success, true, "a starts afresh");
});

Deno.test("rateLimit() refuses a budget the binding could not keep", () => {
  assert.throws(() => rateLimit({ limit: 0 }), RangeError);
  assert.throws(() => rateLimit({ periodSeconds: 30 as 60 }), /'periodSeconds' must be 10 or 60/);
});
