/**
 * The Worker as deployed in public, in the real runtime: `wrangler dev` (local workerd, which
 * emulates the `[[ratelimits]]` binding) with the secret `API_TOKENS` set and rate limiting on.
 * Passing proves that the inference routes (/classify, /read, /v2/models/…/infer) answer 401 with
 * `WWW-Authenticate` without a token and 200 with one, while the page, health and the OpenAPI document stay open; that a burst from one
 * client meets 429 with `Retry-After` while another token keeps its own budget; that 50 MNIST test
 * digits sent to the Open Inference Protocol route as one `[50,28,28]` UINT8 tensor come back as the
 * model reads them in Deno; that workerd's answers match the served OpenAPI document; and that every
 * request leaves one JSON log line with its id, and no token.
 */
import assert from "node:assert/strict";
import { startLocalClassifier } from "../src/deno.ts";
import { DEFAULT_RATE_LIMIT } from "../src/server/middleware/rate_limit.ts";
import { blackOnWhitePng } from "../scripts/lib/client_images.ts";
import { loadTestDigits } from "../scripts/lib/mnist_test_set.ts";
import { answerChecker, type OpenApiDocument } from "../scripts/lib/openapi_check.ts";
import { startWranglerDev } from "../scripts/lib/wrangler.ts";

// Fresh tokens each run: wrangler dev keeps its rate-limit counters in .wrangler/state across runs.
const TOKENS = [`alpha-${crypto.randomUUID()}`, `beta-${crypto.randomUUID()}`] as const;
const DIGITS = 50;
const TOLERANCE = 1e-5;

Deno.test("in public: tokens, per-client limits, v2 inference and logs in wrangler dev", async (t) => {
  await using worker = await startWranglerDev({ vars: { API_TOKENS: TOKENS.join(",") } });
  const { digits, labels } = await loadTestDigits();
  const png = blackOnWhitePng(digits[0]!).bytes;
  const post = (path: string, init: RequestInit = {}, token?: string) =>
    fetch(`${worker.url}${path}`, {
      method: "POST",
      ...init,
      headers: { ...init.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
  const document = await (await fetch(`${worker.url}/openapi.json`)).json() as OpenApiDocument;
  const check = answerChecker(document);

  await t.step("the page, health and the document stay open", async () => {
    for (const path of ["/", "/health", "/openapi.json", "/v2/health/ready"]) {
      const res = await fetch(`${worker.url}${path}`);
      await res.body?.cancel();
      assert.equal(res.status, 200, path);
    }
  });

  await t.step(
    "/classify: 401 without a token or with a wrong one, 200 with each token",
    async () => {
      const missing = await post("/classify", { body: png });
      assert.equal(missing.status, 401);
      assert.equal(missing.headers.get("www-authenticate"), 'Bearer realm="mnist-edge"');
      assert.deepEqual(await check("POST", "/classify", missing), []);
      const wrong = await post("/classify", { body: png }, "gamma");
      assert.equal(wrong.status, 401);
      assert.match(wrong.headers.get("www-authenticate")!, /error="invalid_token"/);
      await wrong.body?.cancel();
      for (const token of TOKENS) {
        const res = await post("/classify", { body: png }, token);
        assert.equal(res.status, 200);
        assert.deepEqual(await check("POST", "/classify", res), []);
      }
    },
  );

  await t.step("/read: 401 without a token, 200 with one", async () => {
    const missing = await post("/read", { body: png });
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get("www-authenticate"), 'Bearer realm="mnist-edge"');
    assert.deepEqual(await check("POST", "/read", missing), []);
    const res = await post("/read", { body: png }, TOKENS[1]);
    assert.equal(res.status, 200);
    assert.equal((await res.clone().json()).text, String(labels[0]));
    assert.deepEqual(await check("POST", "/read", res), []);
  });

  await t.step("/v2: 50 test digits as one [50,28,28] UINT8 tensor, read as in Deno", async () => {
    const batch = digits.slice(0, DIGITS);
    const body = JSON.stringify({
      id: "e2e-1",
      inputs: [{
        name: "image",
        shape: [DIGITS, 28, 28],
        datatype: "UINT8",
        data: batch.flatMap((d) => Array.from(d)),
      }],
    });
    const init = { body, headers: { "content-type": "application/json" } };
    const refused = await post("/v2/models/mnist-cnn/infer", init);
    assert.equal(refused.status, 401);
    assert.equal(typeof (await refused.json()).error, "string", "the protocol's error shape");
    const res = await post("/v2/models/mnist-cnn/infer", init, TOKENS[0]);
    assert.equal(res.status, 200);
    const answer = await res.clone().json();
    assert.deepEqual(await check("POST", "/v2/models/{name}/infer", res), []);
    assert.equal(answer.id, "e2e-1");
    const [output] = answer.outputs;
    assert.deepEqual(output.shape, [DIGITS, 10]);
    const expected = (await startLocalClassifier(undefined, "mnist-cnn")).predict(batch);
    let right = 0;
    for (let i = 0; i < DIGITS; i++) {
      const got = output.data.slice(i * 10, i * 10 + 10) as number[];
      got.forEach((p, k) => assert.ok(Math.abs(p - expected[i]![k]!) <= TOLERANCE));
      if (got.indexOf(Math.max(...got)) === labels[i]) right++;
    }
    assert.ok(right >= 48, `${right}/${DIGITS} read right`);
  });

  await t.step(
    "a burst from one client meets 429 with Retry-After; another keeps its budget",
    async () => {
      // Cheap requests: refused at the body (400), after the limiter has counted them. The binding
      // counts in fixed windows: a burst that straddles a window's end starts again at zero, so
      // up to three budgets' worth are sent.
      let statuses: number[] = [];
      for (let i = 0; i <= 3 * DEFAULT_RATE_LIMIT.limit; i++) {
        const res = await post("/classify", {}, TOKENS[0]);
        statuses.push(res.status);
        if (res.status === 429) {
          assert.ok(Number(res.headers.get("retry-after")) > 0);
          const body = await res.json();
          assert.equal(body.error.code, "rate_limited");
          break;
        }
        await res.body?.cancel();
      }
      assert.equal(statuses.at(-1), 429, `statuses: ${statuses.join(",")}`);
      statuses = [];
      const other = await post("/classify", { body: png }, TOKENS[1]);
      assert.equal(other.status, 200, "the other token's budget is its own");
      await other.body?.cancel();
    },
  );

  await t.step("every request left one JSON log line with its id, and no token", async () => {
    const res = await fetch(`${worker.url}/health`);
    await res.body?.cancel();
    const id = res.headers.get("x-request-id");
    assert.ok(id);
    // Workers Logs keeps what the Worker logs; wrangler dev prints it.
    let line: Record<string, unknown> | undefined;
    for (let tries = 0; tries < 40 && !line; tries++) {
      line = worker.output().split("\n").filter((l) => l.includes(`"id":"${id}"`))
        .map((l) => JSON.parse(l.slice(l.indexOf("{"))))[0];
      if (!line) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.deepEqual(
      { method: line?.method, route: line?.route, status: line?.status },
      { method: "GET", route: "/health", status: 200 },
    );
    const output = worker.output();
    for (const token of TOKENS) assert.ok(!output.includes(token), "no token in the logs");
    const inference = output.split("\n").filter((l) =>
      l.includes('"route":"/v2/models/:name/infer"')
    );
    assert.match(inference.join("\n"), /"status":200,.*"body_bytes":\d+.*"digits":\[\{"digit"/);
  });
});
