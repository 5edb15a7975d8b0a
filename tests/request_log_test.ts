/**
 * requestLog() on a tiny app through `app.request()`, no server, its lines captured. Passing proves
 * that every request — answered, refused, unrouted or failed — writes exactly one JSON line with its
 * id, method, route pattern, status, error code, time and the handlers' fields; that the id is
 * Cloudflare's Ray ID when well formed and is echoed as X-Request-Id; and that neither a client's
 * headers nor its token reach the log.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { ApiError } from "../src/server/api_error.ts";
import type { AppEnv } from "../src/server/env.ts";
import { apiTokens } from "../src/server/middleware/api_tokens.ts";
import { requestLog, type RequestLogLine } from "../src/server/middleware/request_log.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A tiny app like the main one, its log lines kept in `lines`. */
function loggedApp() {
  const lines: string[] = [];
  const app = new Hono<AppEnv>();
  app.use(requestLog({ write: (line) => lines.push(line) }));
  app.use("/v2/models/*", apiTokens());
  app.post("/v2/models/:name/infer", (c) => {
    c.var.log.body_bytes = 3136;
    c.var.log.digits = [{ digit: 7, confidence: 0.99 }];
    c.var.log.model = { name: c.req.param("name"), sha256: "ab12" };
    return c.json({ model_name: c.req.param("name") });
  });
  app.get("/health", (c) => c.json({ ok: true }));
  app.post("/classify", () => {
    throw new ApiError(400, "empty_body", "send an image");
  });
  app.get("/boom", () => {
    throw new Error("a bug");
  });
  app.onError((error, c) => {
    const [status, code, headers] = error instanceof ApiError
      ? [error.status, error.code, error.headers]
      : [500 as const, "internal_error", {}];
    c.var.log.error = code;
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
    return c.json({ error: { code, message: "…" } }, status);
  });
  const parsed = () => lines.map((line) => JSON.parse(line) as RequestLogLine);
  return { app, lines, parsed };
}

Deno.test("requestLog() writes one JSON line per request: id, method, route pattern, status, ms, fields", async () => {
  const { app, lines, parsed } = loggedApp();
  const res = await app.request("/v2/models/mnist-cnn/infer", { method: "POST" });
  assert.equal(res.status, 200);
  assert.equal(lines.length, 1);
  const [line] = parsed();
  assert.equal(line!.method, "POST");
  assert.equal(line!.route, "/v2/models/:name/infer");
  assert.equal(line!.status, 200);
  assert.equal(line!.error, undefined);
  assert.equal(typeof line!.ms, "number");
  assert.equal(Math.round(line!.ms * 10) / 10, line!.ms, "ms is rounded to 0.1");
  assert.equal(line!.body_bytes, 3136);
  assert.deepEqual(line!.digits, [{ digit: 7, confidence: 0.99 }]);
  assert.deepEqual(line!.model, { name: "mnist-cnn", sha256: "ab12" });
  assert.deepEqual(
    Object.keys(line!).slice(0, 5),
    ["id", "method", "route", "status", "ms"],
    "the fixed fields come first, in order",
  );
});

Deno.test("requestLog() generates an id, echoes it as X-Request-Id, and hands it to the handlers", async () => {
  const { app, parsed } = loggedApp();
  let seen = "";
  app.get("/id", (c) => {
    seen = c.var.requestId;
    return c.text("ok");
  });
  const res = await app.request("/id");
  const id = res.headers.get("x-request-id");
  assert.match(id ?? "", UUID);
  assert.equal(seen, id);
  assert.equal(parsed()[0]!.id, id);
  const again = await app.request("/id");
  assert.notEqual(again.headers.get("x-request-id"), id, "each request gets its own id");
});

Deno.test("requestLog() takes Cloudflare's cf-ray as the id when it is well formed", async () => {
  const { app, parsed } = loggedApp();
  const res = await app.request("/health", { headers: { "cf-ray": "8f1e2d3c4b5a6978-LHR" } });
  assert.equal(res.headers.get("x-request-id"), "8f1e2d3c4b5a6978-LHR");
  assert.equal(parsed()[0]!.id, "8f1e2d3c4b5a6978-LHR");
});

Deno.test("requestLog() puts no client-chosen cf-ray or X-Request-Id into the log or the answer", async () => {
  const { app, lines, parsed } = loggedApp();
  const hostile: Record<string, string>[] = [
    { "cf-ray": 'x","status":200,"admin":"yes' },
    { "cf-ray": "8f1e2d3c4b5a6978-LHR\tforged\u00ff" },
    { "cf-ray": "a".repeat(10_000) },
    { "x-request-id": "forged-id-123" },
    { "x-request-id": "forged <script>" },
  ];
  for (const headers of hostile) {
    const res = await app.request("/health", { headers });
    const id = res.headers.get("x-request-id")!;
    assert.match(id, UUID, JSON.stringify(headers));
  }
  assert.equal(lines.length, hostile.length);
  for (const line of parsed()) assert.match(line.id, UUID);
  assert.doesNotMatch(lines.join("\n"), /forged|admin|aaaa/);
});

Deno.test("requestLog() logs a refusal with its error code, and never the token", async () => {
  const { app, lines, parsed } = loggedApp();
  const res = await app.request(
    "/v2/models/mnist-cnn/infer",
    { method: "POST", headers: { authorization: "Bearer wrong-t0ken" } },
    { API_TOKENS: "right-t0ken" },
  );
  assert.equal(res.status, 401);
  assert.ok(res.headers.get("x-request-id"), "error answers carry the id too");
  const [line] = parsed();
  assert.equal(line!.status, 401);
  assert.equal(line!.error, "unauthorized");
  assert.equal(
    line!.route,
    "/v2/models/:name/infer",
    "the route asked for, though middleware refused",
  );
  assert.doesNotMatch(lines[0]!, /t0ken|authorization|bearer/i);
});

Deno.test("requestLog() logs a handler's ApiError and an unexpected failure with their codes", async () => {
  const { app, parsed } = loggedApp();
  assert.equal((await app.request("/classify", { method: "POST" })).status, 400);
  assert.equal((await app.request("/boom")).status, 500);
  const [refused, failed] = parsed();
  assert.deepEqual([refused!.route, refused!.status, refused!.error], [
    "/classify",
    400,
    "empty_body",
  ]);
  assert.deepEqual([failed!.route, failed!.status, failed!.error], [
    "/boom",
    500,
    "internal_error",
  ]);
});

Deno.test("requestLog() logs a request no route matched as route null, 404", async () => {
  const { app, lines, parsed } = loggedApp();
  const res = await app.request("/no/such/path?secret=1");
  assert.equal(res.status, 404);
  assert.ok(res.headers.get("x-request-id"));
  const [line] = parsed();
  assert.equal(line!.route, null);
  assert.equal(line!.status, 404);
  assert.doesNotMatch(lines[0]!, /such|secret/, "the raw path and query are not logged");
});

Deno.test("requestLog() writes to console.log by default", async () => {
  const app = new Hono<AppEnv>();
  app.use(requestLog());
  app.get("/health", (c) => c.text("ok"));
  const printed: unknown[][] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void printed.push(args);
  try {
    await app.request("/health");
  } finally {
    console.log = original;
  }
  assert.equal(printed.length, 1);
  assert.equal(JSON.parse(String(printed[0]![0])).route, "/health");
});
