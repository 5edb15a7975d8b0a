/**
 * apiTokens() on a tiny app through `app.request()`, no server. Passing proves that the inference
 * routes stay open while `API_TOKENS` is unset, and once it is set answer only a listed token (401
 * with an RFC 6750 challenge otherwise), in the API's JSON error shape, without echoing any token.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { ApiError } from "../src/server/api_error.ts";
import type { AppEnv, Env } from "../src/server/env.ts";
import { apiTokens, tokensFrom } from "../src/server/middleware/api_tokens.ts";

const app = new Hono<AppEnv>();
app.use("/classify", apiTokens());
app.post("/classify", (c) => c.json({ digit: 7 }));
app.get("/health", (c) => c.json({ ok: true }));
app.onError((error, c) => {
  if (!(error instanceof ApiError)) throw error;
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
  return c.json({ error: { code: error.code, message: error.message } }, error.status);
});

function classify(env: Env, authorization?: string): Promise<Response> {
  const headers: Record<string, string> = authorization ? { authorization } : {};
  return Promise.resolve(app.request("/classify", { method: "POST", headers }, env));
}

async function refusal(res: Response) {
  const body = await res.json();
  return { status: res.status, challenge: res.headers.get("www-authenticate"), body };
}

Deno.test("apiTokens() leaves the route open when API_TOKENS is unset, empty or only commas", async () => {
  for (const env of [{}, { API_TOKENS: "" }, { API_TOKENS: " , ," }]) {
    const res = await classify(env);
    assert.equal(res.status, 200, JSON.stringify(env));
    assert.deepEqual(await res.json(), { digit: 7 });
  }
});

Deno.test("apiTokens() answers 401 unauthorized with a Bearer challenge when no token is sent", async () => {
  const { status, challenge, body } = await refusal(await classify({ API_TOKENS: "s3cret" }));
  assert.equal(status, 401);
  assert.equal(challenge, 'Bearer realm="mnist-edge"');
  assert.equal(body.error.code, "unauthorized");
  assert.match(body.error.message, /Authorization: Bearer/);
});

Deno.test("apiTokens() answers 401 with error=invalid_token to a wrong token and never echoes it", async () => {
  const res = await classify({ API_TOKENS: "s3cret" }, "Bearer guessed-token");
  const { status, challenge, body } = await refusal(res);
  assert.equal(status, 401);
  assert.equal(challenge, 'Bearer realm="mnist-edge", error="invalid_token"');
  assert.equal(body.error.code, "unauthorized");
  assert.doesNotMatch(JSON.stringify(body), /guessed-token|s3cret/);
});

Deno.test("apiTokens() answers 200 to each listed token, the list's whitespace ignored", async () => {
  const env = { API_TOKENS: " alpha.1 ,beta_2,\n gamma-3== , " };
  for (const token of ["alpha.1", "beta_2", "gamma-3=="]) {
    assert.equal((await classify(env, `Bearer ${token}`)).status, 200, token);
  }
  // The scheme is case-insensitive (RFC 7235); the token is not.
  assert.equal((await classify(env, "bearer beta_2")).status, 200);
  assert.equal((await classify(env, "Bearer BETA_2")).status, 401);
  assert.equal((await classify(env, "Bearer alpha.1 ,beta_2")).status, 400);
});

Deno.test("apiTokens() answers 400 invalid_authorization to a Bearer header that is not one token", async () => {
  const { status, challenge, body } = await refusal(
    await classify({ API_TOKENS: "s3cret" }, "Bearer s3cret!"),
  );
  assert.equal(status, 400);
  assert.equal(challenge, 'Bearer realm="mnist-edge", error="invalid_request"');
  assert.equal(body.error.code, "invalid_authorization");
  assert.doesNotMatch(JSON.stringify(body), /s3cret/);
});

Deno.test("apiTokens() answers another scheme as no token at all: 401 and the bare challenge", async () => {
  const { status, challenge, body } = await refusal(
    await classify({ API_TOKENS: "s3cret" }, "Basic czNjcmV0Og=="),
  );
  assert.equal(status, 401);
  assert.equal(challenge, 'Bearer realm="mnist-edge"');
  assert.equal(body.error.code, "unauthorized");
});

Deno.test("apiTokens() reads API_TOKENS per request: a new secret applies at once", async () => {
  assert.equal((await classify({ API_TOKENS: "old" }, "Bearer old")).status, 200);
  assert.equal((await classify({ API_TOKENS: "new" }, "Bearer old")).status, 401);
  assert.equal((await classify({}, "Bearer old")).status, 200);
});

Deno.test("apiTokens() answers 503 misconfigured when a listed token no Bearer header can carry", async () => {
  const res = await classify({ API_TOKENS: "fine,has space" }, "Bearer fine");
  const body = await res.json();
  assert.equal(res.status, 503);
  assert.equal(body.error.code, "misconfigured");
  assert.match(body.error.message, /entry 2/);
  assert.doesNotMatch(body.error.message, /has space/);
});

Deno.test("apiTokens() guards only the routes it is mounted on", async () => {
  const res = await app.request("/health", {}, { API_TOKENS: "s3cret" });
  assert.equal(res.status, 200);
});

Deno.test("tokensFrom() splits on commas, trims, and drops empty entries", () => {
  assert.deepEqual(tokensFrom({ API_TOKENS: " a, b ,,c ,\t" }), ["a", "b", "c"]);
  assert.deepEqual(tokensFrom({}), []);
  assert.deepEqual(tokensFrom(undefined), []);
});
