/**
 * The Open Inference Protocol v2 routes through `app.request()`, no server, mounted at /v2 on a
 * small parent as the main app mounts them. Every request sent and every answer is checked
 * against the protocol's own schemas (tests/fixtures/open_inference_rest.yaml, compiled with ajv;
 * the health answers, which the YAML leaves out, from inference_rest.md). Passing proves that clients of the
 * protocol get the shapes they expect, that a batch of MNIST test digits comes back as the
 * classifier reads them, and that every client fault is a 4xx `{"error": "…"}`.
 */
import assert from "node:assert/strict";
import { OpenAPIHono } from "@hono/zod-openapi";
import { validate } from "@readme/openapi-parser";
import { Ajv, type ValidateFunction } from "ajv";
import { parse } from "yaml";
import { ApiError } from "../src/server/api_error.ts";
import type { AppEnv, LogFields } from "../src/server/env.ts";
import { DEFAULT_LIMITS, type Limits } from "../src/server/limits.ts";
import { createV2App, type V2Options } from "../src/server/v2/app.ts";
import { openLocalModels } from "../src/deno.ts";
import { createModelRegistry } from "../src/model/registry.ts";
import { loadTestDigits } from "../scripts/lib/mnist_test_set.ts";

const models = await openLocalModels();
const classifier = await models.classifier();
const { name: MODEL, sha256 } = classifier.info;
const { digits } = await loadTestDigits();
const fifty = digits.slice(0, 50);

const spec = parse(
  await Deno.readTextFile(new URL("./fixtures/open_inference_rest.yaml", import.meta.url)),
);
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addSchema({ $id: "oip.json", components: spec.components });
// The health answers have no schema in the YAML; these are inference_rest.md's, field for field.
ajv.addSchema({
  $id: "live.json",
  type: "object",
  properties: { live: { type: "boolean" } },
  required: ["live"],
});
ajv.addSchema({
  $id: "model_ready.json",
  type: "object",
  properties: { name: { type: "string" }, ready: { type: "boolean" } },
  required: ["name", "ready"],
});

/** Asserts `value` matches the protocol's schema `name` (a YAML component, or a .json above). */
function assertMatches(name: string, value: unknown): void {
  const id = name.endsWith(".json") ? name : `oip.json#/components/schemas/${name}`;
  const check: ValidateFunction | undefined = ajv.getSchema(id);
  assert.ok(check, `no schema ${id}`);
  assert.ok(check(value), `${name}: ${ajv.errorsText(check.errors)} in ${JSON.stringify(value)}`);
}

/** The sub-app under /v2 of a parent that, like the main app, gives each request its log fields. */
function mount(options: Partial<V2Options> = {}, limits: Partial<Limits> = {}) {
  const logs: LogFields[] = [];
  const app = new OpenAPIHono<AppEnv>();
  app.use(async (c, next) => {
    const log: LogFields = {};
    logs.push(log);
    c.set("log", log);
    await next();
  });
  app.route(
    "/v2",
    createV2App({
      models,
      limits: { ...DEFAULT_LIMITS, ...limits },
      ...options,
    }),
  );
  return { app, logs };
}

const { app, logs } = mount();

interface Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
  parameters?: Record<string, unknown>;
}

/** An inference request for `input`, checked against the protocol's `inference_request` first. */
function inferRequest(input: Partial<Tensor>, extra: Record<string, unknown> = {}): RequestInit {
  const body = {
    inputs: [{ name: "image", shape: [1, 28, 28], datatype: "UINT8", data: [], ...input }],
    ...extra,
  };
  assertMatches("inference_request", body);
  return jsonBody(body);
}

function jsonBody(body: unknown): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}

const nested = (batch: Uint8Array[], scale = 1) =>
  batch.map((d) =>
    Array.from(
      { length: 28 },
      (_, y) => Array.from(d.subarray(y * 28, y * 28 + 28), (v) => v * scale),
    )
  );
const flat = (batch: Uint8Array[], scale = 1) =>
  batch.flatMap((d) => Array.from(d, (v) => v * scale));

interface Output {
  name: string;
  shape: number[];
  datatype: string;
  data: number[];
}

async function infer(init: RequestInit, path = `/v2/models/${MODEL}/infer`) {
  const res = await app.request(path, init);
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assertMatches("inference_response", body);
  return body as { model_name: string; model_version?: string; id?: string; outputs: Output[] };
}

/** The classifier's own probabilities for `batch`, as the JSON answer carries them. */
const expected = (batch: Uint8Array[]) => classifier.predict(batch).flatMap((p) => Array.from(p));

/** Asserts a 4xx/5xx `{"error": string}` that matches the protocol's error schemas. */
async function assertError(res: Response, status: number, pattern?: RegExp): Promise<string> {
  const body = await res.json();
  assert.equal(res.status, status, JSON.stringify(body));
  assert.deepEqual(Object.keys(body), ["error"]);
  assert.equal(typeof body.error, "string");
  assertMatches("inference_error_response", body);
  assertMatches("metadata_model_error_response", body);
  if (pattern) assert.match(body.error, pattern);
  return body.error;
}

Deno.test("GET /v2 answers the server's metadata", async () => {
  const res = await app.request("/v2");
  const body = await res.json();
  assert.equal(res.status, 200);
  assertMatches("metadata_server_response", body);
  assert.deepEqual(body, { name: "mnist-edge", version: "1", extensions: [] });
});

Deno.test("GET /v2/health/live and /ready answer the protocol's probes", async () => {
  const live = await app.request("/v2/health/live");
  assert.equal(live.status, 200);
  const liveBody = await live.json();
  assertMatches("live.json", liveBody);
  assert.deepEqual(liveBody, { live: true });

  const ready = await app.request("/v2/health/ready");
  assert.equal(ready.status, 200);
  const readyBody = await ready.json();
  // inference_rest.md's $ready_server_response names the field "live"; KServe's servers "ready".
  assertMatches("live.json", readyBody);
  assert.deepEqual(readyBody, { live: true, ready: true });
});

Deno.test("GET /v2/health/ready is 503 while the model cannot load; /live stays 200", async () => {
  const { app } = mount({
    models: createModelRegistry(
      { default: MODEL, models: [MODEL] },
      () => Promise.reject(new Error("weights missing")),
    ),
  });
  await assertError(await app.request("/v2/health/ready"), 503, /weights missing/);
  assert.equal((await app.request("/v2/health/live")).status, 200);
});

Deno.test("GET /v2/models/{name} describes the input digits and output probabilities", async () => {
  const res = await app.request(`/v2/models/${MODEL}`);
  const body = await res.json();
  assert.equal(res.status, 200);
  assertMatches("metadata_model_response", body);
  assert.deepEqual(body, {
    name: MODEL,
    versions: [sha256],
    platform: "tfjs_safetensors",
    inputs: [{ name: "image", datatype: "UINT8", shape: [-1, 28, 28] }],
    outputs: [{ name: "probabilities", datatype: "FP32", shape: [-1, 10] }],
  });
  const versioned = await app.request(`/v2/models/${MODEL}/versions/${sha256}`);
  assert.equal(versioned.status, 200);
  assert.deepEqual(await versioned.json(), body);
});

Deno.test("GET /v2/models/{name}/ready says the model is ready", async () => {
  for (
    const path of [`/v2/models/${MODEL}/ready`, `/v2/models/${MODEL}/versions/${sha256}/ready`]
  ) {
    const res = await app.request(path);
    const body = await res.json();
    assert.equal(res.status, 200, path);
    assertMatches("model_ready.json", body);
    assert.deepEqual(body, { name: MODEL, ready: true });
  }
});

Deno.test("an unknown model or version is 404 {error} on every model route", async () => {
  for (
    const [path, init] of [
      ["/v2/models/resnet50", undefined],
      ["/v2/models/resnet50/ready", undefined],
      ["/v2/models/resnet50/infer", inferRequest({ data: flat(fifty.slice(0, 1)) })],
      [`/v2/models/${MODEL}/versions/2`, undefined],
      [`/v2/models/${MODEL}/versions/2/infer`, inferRequest({ data: flat(fifty.slice(0, 1)) })],
    ] as const
  ) {
    await assertError(await app.request(path, init), 404, /resnet50|version '2'/);
  }
});

Deno.test("50 MNIST digits sent as a [50,28,28] UINT8 tensor come back as the model reads them", async () => {
  const body = await infer(
    inferRequest({ shape: [50, 28, 28], data: nested(fifty) }, { id: "batch-1" }),
  );
  assert.equal(body.model_name, MODEL);
  assert.equal(body.id, "batch-1");
  assert.equal(body.model_version, undefined);
  assert.equal(body.outputs.length, 1);
  const [output] = body.outputs;
  assert.deepEqual(
    { name: output!.name, shape: output!.shape, datatype: output!.datatype },
    { name: "probabilities", shape: [50, 10], datatype: "FP32" },
  );
  // Exactly the classifier's numbers, so the same argmax: no pixel was lost or moved on the way.
  assert.deepEqual(output!.data, expected(fifty));
});

Deno.test("the same digits as FP32 0–1, flat, or [N,784] give the same probabilities", async () => {
  const want = expected(fifty);
  const bodies = [
    inferRequest({ shape: [50, 28, 28], datatype: "FP32", data: nested(fifty, 1 / 255) }),
    inferRequest({ shape: [50, 784], datatype: "FP32", data: flat(fifty, 1 / 255) }),
    inferRequest({ shape: [50, 28, 28], data: flat(fifty) }),
    inferRequest({ shape: [50, 784], data: flat(fifty) }),
    inferRequest({ shape: [50, 784], data: fifty.map((d) => Array.from(d)) }),
  ];
  for (const init of bodies) {
    const body = await infer(init);
    assert.deepEqual(body.outputs[0]!.data, want);
  }
});

Deno.test("a versioned inference names its version; outputs come as asked by name", async () => {
  const one = fifty.slice(0, 1);
  const versioned = await infer(
    inferRequest({ data: flat(one) }),
    `/v2/models/${MODEL}/versions/${sha256}/infer`,
  );
  assert.equal(versioned.model_version, sha256);
  const named = await infer(
    inferRequest({ data: flat(one) }, {
      outputs: [{ name: "probabilities" }],
      parameters: { content_type: "np" },
    }),
  );
  assert.deepEqual(named.outputs[0]!.data, expected(one));
  const none = await infer(inferRequest({ data: flat(one) }, { outputs: [] }));
  assert.deepEqual(none.outputs, []);
  await assertError(
    await app.request(
      `/v2/models/${MODEL}/infer`,
      inferRequest({ data: flat(one) }, { outputs: [{ name: "logits" }] }),
    ),
    400,
    /outputs\[0\]\.name/,
  );
});

Deno.test("an inference puts the model and each digit read on the request log", async () => {
  const before = logs.length;
  await infer(inferRequest({ shape: [3, 784], data: flat(fifty.slice(0, 3)) }));
  const log = logs[before]!;
  assert.deepEqual(log.model, { name: MODEL, sha256 });
  const probabilities = classifier.predict(fifty.slice(0, 3));
  assert.deepEqual(
    log.digits,
    probabilities.map((p) => {
      const digit = p.indexOf(Math.max(...p));
      return { digit, confidence: p[digit] };
    }),
  );
  assert.ok(log.body_bytes! > 3 * 784);
  assert.equal(log.error, undefined);
});

const ONE = flat(fifty.slice(0, 1));
/** Bodies the protocol's schema allows (or nearly) that this model must refuse, with the status. */
const REFUSED: [string, RequestInit, number, RegExp][] = [
  ["a shape not of 28×28 digits", inferRequest({ shape: [1, 28, 27], data: ONE }), 400, /shape/],
  ["a 1-D shape", inferRequest({ shape: [784], data: ONE }), 400, /shape/],
  ["an empty batch", inferRequest({ shape: [0, 784], data: [] }), 400, /empty/],
  ["another datatype", inferRequest({ datatype: "INT32", data: ONE }), 400, /datatype/],
  ["another input name", inferRequest({ name: "input0", data: ONE }), 400, /name/],
  ["data shorter than the shape", inferRequest({ data: ONE.slice(1) }), 400, /783 values/],
  ["data longer than the shape", inferRequest({ data: [...ONE, 0] }), 400, /785 values/],
  ["a batch over maxBatch", inferRequest({ shape: [65, 784], data: ONE }), 413, /at most 64/],
  ["a string value", inferRequest({ data: ["7", ...ONE.slice(1)] }), 400, /data\[0\] is "7"/],
  ["a boolean value", inferRequest({ data: [...ONE.slice(1), true] }), 400, /data\[783\]/],
  ["a UINT8 over 255", inferRequest({ data: [256, ...ONE.slice(1)] }), 400, /0 to 255/],
  ["a UINT8 fraction", inferRequest({ data: [0.5, ...ONE.slice(1)] }), 400, /integers/],
  [
    "an FP32 over 1",
    inferRequest({ datatype: "FP32", data: [2, ...ONE.slice(1)] }),
    400,
    /0 to 1/,
  ],
  [
    "nesting unlike the shape",
    inferRequest({ shape: [1, 28, 28], data: [[ONE.slice(0, 392), ONE.slice(392)]] }),
    400,
    /needs 28/,
  ],
  [
    "a value where a row belongs",
    inferRequest({ shape: [2, 784], data: [ONE, 3] }),
    400,
    /data\[1\] is 3/,
  ],
  [
    "50,000 parameters (counted before any value is checked)",
    inferRequest({ data: ONE }, {
      parameters: Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i])),
    }),
    400,
    /'parameters' holds more than 32 parameters/,
  ],
  [
    "an input's 33 parameters",
    inferRequest({
      data: ONE,
      parameters: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])),
    }),
    400,
    /'inputs\[0\]\.parameters' holds more than 32/,
  ],
  [
    "25,000 requested outputs",
    jsonBody({
      inputs: [{ name: "image", shape: [1, 784], datatype: "UINT8", data: ONE }],
      outputs: Array.from({ length: 25_000 }, () => ({ name: "probabilities" })),
    }),
    400,
    /'outputs' is invalid: Too big/,
  ],
  [
    "a 100 KB value, not echoed whole",
    inferRequest({ data: ["x".repeat(100_000), ...ONE.slice(1)] }),
    400,
    /data\[0\] is "x{39}…/,
  ],
  ["two inputs", jsonBody({ inputs: [{}, {}] }), 400, /inputs/],
  ["no inputs", jsonBody({ id: "1" }), 400, /'inputs'/],
  ["a number id", jsonBody({ id: 7, inputs: [] }), 400, /'id'/],
  ["an array body", jsonBody([1, 2]), 400, /request/],
  ["malformed JSON", jsonBody('{"inputs": ['), 400, /not valid JSON/],
  ["an empty body", jsonBody(""), 400, /no body/],
  [
    "JSON nested deeper than the shapes need",
    jsonBody(`{"inputs":[{"data":[[[[1]]]]}]}`),
    400,
    /deeper than 6/,
  ],
  [
    "a body not declared JSON",
    {
      method: "POST",
      body: JSON.stringify({ inputs: [] }),
      headers: { "content-type": "text/plain" },
    },
    415,
    /application\/json/,
  ],
];

for (const [what, init, status, pattern] of REFUSED) {
  Deno.test(`POST /v2/models/{name}/infer refuses ${what}: ${status} {error}`, async () => {
    const before = logs.length;
    await assertError(await app.request(`/v2/models/${MODEL}/infer`, init), status, pattern);
    assert.ok(logs[before]!.error, "the error code is on the request log");
  });
}

Deno.test("the JSON bound holds maxBatch × 784 values and refuses more unparsed", async () => {
  const { app } = mount({}, { maxBatch: 2 });
  const two = flat(fifty.slice(0, 2));
  assert.equal(
    (await app.request(`/v2/models/${MODEL}/infer`, inferRequest({ shape: [2, 784], data: two })))
      .status,
    200,
  );
  // Within the body cap: as many commas as two flat digits and the margin for keys may hold reach
  // the schema; one more is refused before JSON.parse.
  const values = (commas: number) => jsonBody(`{"inputs":[{"data":[${"0,".repeat(commas)}0]}]}`);
  const most = 2 * 784 + 1024;
  await assertError(await app.request(`/v2/models/${MODEL}/infer`, values(most)), 400, /'inputs/);
  await assertError(
    await app.request(`/v2/models/${MODEL}/infer`, values(most + 1)),
    400,
    /more than 2593 values/,
  );
});

Deno.test("a body over maxBodyBytes is 413 {error}, declared or streamed", async () => {
  const { app } = mount({}, { maxBodyBytes: 1000 });
  const declared = inferRequest({ data: ONE });
  await assertError(await app.request(`/v2/models/${MODEL}/infer`, declared), 413, /1000 bytes/);
  const bytes = new TextEncoder().encode(JSON.stringify({ inputs: [{ data: ONE }] }));
  const streamed = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  await assertError(
    await app.request(`/v2/models/${MODEL}/infer`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: streamed,
    }),
    413,
    /1000 bytes/,
  );
});

Deno.test("a wrong method is 405 {error} with Allow; an unknown v2 path 404 {error}", async () => {
  const get = await app.request(`/v2/models/${MODEL}/infer`);
  await assertError(get, 405);
  assert.equal(get.headers.get("allow"), "POST");
  const post = await app.request("/v2/health/ready", { method: "POST" });
  await assertError(post, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  await assertError(await app.request("/v2/repository/index", { method: "POST" }), 404);
});

Deno.test("the guard runs on every model route; its ApiErrors keep their headers", async () => {
  const guarded: string[] = [];
  const { app } = mount({
    guard: (c) => {
      guarded.push(c.req.path);
      if (c.req.header("authorization") !== "Bearer x") {
        throw new ApiError(401, "unauthorized", "send Authorization: Bearer <token>", {
          headers: { "www-authenticate": 'Bearer realm="mnist-edge"' },
        });
      }
      throw new ApiError(429, "rate_limited", "too many requests: try again in 3 s", {
        headers: { "retry-after": "3" },
      });
    },
  });
  const limited = await app.request(`/v2/models/${MODEL}/infer`, {
    ...inferRequest({ data: ONE }),
    headers: { "content-type": "application/json", authorization: "Bearer x" },
  });
  await assertError(limited, 429, /3 s/);
  assert.equal(limited.headers.get("retry-after"), "3");

  const refused = await app.request(`/v2/models/${MODEL}`);
  await assertError(refused, 401, /Bearer/);
  assert.equal(refused.headers.get("www-authenticate"), 'Bearer realm="mnist-edge"');
  await assertError(await app.request(`/v2/models/${MODEL}/versions/${sha256}/ready`), 401);
  await assertError(await app.request("/v2/models/resnet50/infer", { method: "POST" }), 401);

  for (const open of ["/v2", "/v2/health/live", "/v2/health/ready"]) {
    assert.equal((await app.request(open)).status, 200, open);
  }
  assert.deepEqual(guarded, [
    `/v2/models/${MODEL}/infer`,
    `/v2/models/${MODEL}`,
    `/v2/models/${MODEL}/versions/${sha256}/ready`,
    "/v2/models/resnet50/infer",
  ]);
});

Deno.test("mounted at /v2, the routes join the parent's OpenAPI 3.1 document, valid", async () => {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
  });
  const document = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: { title: "v2", version: "1" },
  });
  assert.deepEqual(Object.keys(document.paths ?? {}).sort(), [
    "/v2",
    "/v2/health/live",
    "/v2/health/ready",
    "/v2/models/{name}",
    "/v2/models/{name}/infer",
    "/v2/models/{name}/ready",
    "/v2/models/{name}/versions/{version}",
    "/v2/models/{name}/versions/{version}/infer",
    "/v2/models/{name}/versions/{version}/ready",
  ]);
  const infer = document.paths?.["/v2/models/{name}/infer"]?.post;
  assert.ok(infer?.requestBody, "the inference request body is documented");
  assert.ok(infer?.responses?.["413"], "the batch limit's answer is documented");
  const result = await validate(structuredClone(document) as never);
  assert.ok(result.valid, JSON.stringify(result));
});
