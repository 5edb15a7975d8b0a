/**
 * GET /openapi.json through `app.request()`, no server. Passing proves that the document is valid
 * OpenAPI 3.1 by a maintained validator (@readme/openapi-parser), that it lists every route the app
 * answers (so it cannot drift from the code), and that real answers of every route — successes and
 * refusals — have a status the document gives that operation and a body its schema accepts.
 */
import assert from "node:assert/strict";
import { validate } from "@readme/openapi-parser";
import { createApp } from "../src/server/app.ts";
import { openLocalModels } from "../src/deno.ts";
import { createModelRegistry } from "../src/model/registry.ts";
import { blackOnWhitePng, canvasPng, dataUrl } from "../scripts/lib/client_images.ts";
import { loadTestDigits } from "../scripts/lib/mnist_test_set.ts";
import { numberPng, writeNumber } from "../scripts/lib/number_images.ts";
import { answerChecker, type OpenApiDocument } from "../scripts/lib/openapi_check.ts";

const models = await openLocalModels();
const quiet = () => {};
const app = createApp({
  models,
  limits: { maxBatch: 2 },
  log: quiet,
});
const document = await (await app.request("/openapi.json")).json() as OpenApiDocument & {
  openapi: string;
};
const check = answerChecker(document);
const { digits } = await loadTestDigits();
const png = blackOnWhitePng(digits[0]!).bytes;
const number = numberPng(
  writeNumber(digits.slice(0, 3), {
    width: 600,
    height: 200,
    left: 40,
    top: 30,
    side: 140,
    gap: 10,
  }),
).bytes;

/** Hono's `/v2/models/:name` as the document writes it: `/v2/models/{name}`. */
const templateOf = (path: string) => path.replaceAll(/:([^/]+)/g, "{$1}");

Deno.test("GET /openapi.json is a valid OpenAPI 3.1 document", async () => {
  assert.equal(document.openapi, "3.1.0");
  const result = await validate(structuredClone(document) as never);
  assert.deepEqual(result, { valid: true, warnings: [], specification: "OpenAPI" });
});

Deno.test("GET /openapi.json documents every route the app answers, and only those", () => {
  const answered = new Set(
    app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${templateOf(r.path)}`),
  );
  const documented = new Set(
    Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`)
    ),
  );
  assert.deepEqual([...documented].sort(), [...answered].sort());
});

Deno.test("every route's real answers match the document", async (t) => {
  const json = (value: unknown): RequestInit => ({
    method: "POST",
    body: JSON.stringify(value),
    headers: { "content-type": "application/json" },
  });
  const form = (...images: Uint8Array<ArrayBuffer>[]) => {
    const body = new FormData();
    for (const image of images) body.append("image", new Blob([image]), "d.png");
    return { method: "POST", body };
  };
  const cases: [string, string, string, RequestInit | undefined, number][] = [
    ["GET", "/", "/", { headers: { accept: "text/html" } }, 200],
    ["GET", "/", "/", undefined, 200],
    ["GET", "/health", "/health", undefined, 200],
    ["GET", "/model", "/model", undefined, 200],
    ["GET", "/model/{name}", `/model/${models.defaultModel}`, undefined, 200],
    ["GET", "/model/{name}", "/model/nope", undefined, 404],
    ["POST", "/classify", "/classify?model=nope", { method: "POST", body: png }, 404],
    ["POST", "/classify", "/classify?model=Not_A_Name", { method: "POST", body: png }, 400],
    ["POST", "/read", `/read?model=${models.defaultModel}`, { method: "POST", body: number }, 200],
    ["POST", "/read", "/read?model=nope", { method: "POST", body: number }, 404],
    ["GET", "/openapi.json", "/openapi.json", undefined, 200],
    ["POST", "/classify", "/classify", { method: "POST", body: png }, 200],
    [
      "POST",
      "/classify",
      "/classify?debug=1",
      json({ image: dataUrl(canvasPng(digits[1]!)) }),
      200,
    ],
    ["POST", "/classify", "/classify", form(png, png), 200],
    ["POST", "/classify", "/classify", json({ pixels: Array.from(digits[2]!) }), 200],
    ["POST", "/classify", "/classify?debug=yes", { method: "POST", body: png }, 400],
    ["POST", "/classify", "/classify", json({ pixels: [1, 2] }), 400],
    ["POST", "/classify", "/classify", { method: "POST", body: "" }, 400],
    ["POST", "/classify", "/classify", form(png, png, png), 413],
    ["POST", "/classify", "/classify", { method: "POST", body: "%PDF-1.7" }, 415],
    ["POST", "/classify", "/classify", json({ pixels: new Array(784).fill(0) }), 422],
    ["POST", "/read", "/read", { method: "POST", body: number }, 200],
    ["POST", "/read", "/read?debug=1", json({ image: dataUrl(canvasPng(digits[1]!)) }), 200],
    ["POST", "/read", "/read", form(number, png), 200],
    ["POST", "/read", "/read?debug=1", json({ pixels: Array.from(digits[2]!) }), 200],
    ["POST", "/read", "/read?debug=yes", { method: "POST", body: number }, 400],
    ["POST", "/read", "/read", json({ pixels: [1, 2] }), 400],
    ["POST", "/read", "/read", form(png, png, png), 413],
    ["POST", "/read", "/read", { method: "POST", body: "%PDF-1.7" }, 415],
    ["POST", "/read", "/read", json({ pixels: new Array(784).fill(0) }), 422],
  ];
  for (const [method, path, url, init, status] of cases) {
    await t.step(`${method} ${url} → ${status}`, async () => {
      const res = await app.request(url, { method, ...init });
      assert.equal(res.status, status);
      assert.deepEqual(await check(method, path, res), []);
    });
  }
  const infer = (data: number[], shape = [1, 784]) =>
    json({ inputs: [{ name: "image", shape, datatype: "UINT8", data }] });
  const v2: [string, string, string, RequestInit | undefined, number][] = [
    ["GET", "/v2", "/v2", undefined, 200],
    ["GET", "/v2/health/live", "/v2/health/live", undefined, 200],
    ["GET", "/v2/health/ready", "/v2/health/ready", undefined, 200],
    ["GET", "/v2/models/{name}", "/v2/models/mnist-cnn", undefined, 200],
    ["GET", "/v2/models/{name}", "/v2/models/other", undefined, 404],
    ["GET", "/v2/models/{name}/ready", "/v2/models/mnist-cnn/ready", undefined, 200],
    ["POST", "/v2/models/{name}/infer", "/v2/models/mnist-cnn/infer", infer([...digits[3]!]), 200],
    ["POST", "/v2/models/{name}/infer", "/v2/models/mnist-cnn/infer", infer([1, 2]), 400],
  ];
  for (const [method, path, url, init, status] of v2) {
    await t.step(`${method} ${url} → ${status}`, async () => {
      const res = await app.request(url, { method, ...init });
      assert.equal(res.status, status);
      assert.deepEqual(await check(method, path, res), []);
    });
  }
  await t.step("with API_TOKENS set, the guarded routes' 401 is documented", async () => {
    const env = { API_TOKENS: "secret" };
    const guarded = [
      ["/classify", "/classify"],
      ["/read", "/read"],
      ["/v2/models/{name}/infer", "/v2/models/mnist-cnn/infer"],
    ] as const;
    for (const [path, url] of guarded) {
      const res = await app.request(url, { method: "POST", body: png }, env);
      assert.equal(res.status, 401);
      assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer realm=/);
      assert.deepEqual(await check("POST", path, res), []);
    }
  });
  await t.step("a client over its rate limit gets the documented 429", async () => {
    const client = { headers: { "cf-connecting-ip": "192.0.2.7" }, method: "POST", body: "" };
    let res: Response | undefined;
    for (let i = 0; i < 1000 && res?.status !== 429; i++) {
      res = await app.request("/classify", client);
    }
    assert.equal(res?.status, 429);
    assert.ok(Number(res!.headers.get("retry-after")) > 0);
    assert.deepEqual(await check("POST", "/classify", res!), []);
  });
  await t.step("a model that fails to load: 503 model_unavailable, as documented", async () => {
    const broken = createApp({
      models: createModelRegistry(
        { default: "mnist-cnn", models: ["mnist-cnn"] },
        () => Promise.reject(new Error("bad file")),
      ),
      log: quiet,
    });
    for (
      const [path, url] of [
        ["/health", "/health"],
        ["/model", "/model"],
        ["/model/{name}", "/model/mnist-cnn"],
      ]
    ) {
      const res = await broken.request(url!);
      assert.equal(res.status, 503);
      assert.deepEqual(await check("GET", path!, res), []);
    }
  });
  await t.step("a body that breaks the schema fails the check (the check can fail)", async () => {
    const wrong = Response.json({ digit: 11, confidence: 2 });
    assert.notDeepEqual(await check("POST", "/classify", wrong), []);
    const undocumented = Response.json({ error: { code: "no_ink", message: "x" } }, {
      status: 418,
    });
    assert.notDeepEqual(await check("POST", "/classify", undocumented), []);
    const noRetryAfter = Response.json({ error: { code: "rate_limited", message: "x" } }, {
      status: 429,
    });
    assert.notDeepEqual(await check("POST", "/classify", noRetryAfter), []);
    const prediction = Response.json({ digit: 7, confidence: 0.9, probabilities: [], model: {} });
    assert.notDeepEqual(await check("POST", "/read", prediction), [], "/read is no /classify");
  });
});
