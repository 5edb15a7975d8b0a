/**
 * Fuzzing the inference routes, short: a few hundred seeded hostile requests against `wrangler dev`
 * (real workerd), in turn to POST /classify, POST /read and POST /v2/models/mnist-cnn/infer, judged
 * by the same oracle as `deno task fuzz`, and every input that ever broke the server replayed as a
 * regression. Passing proves that none of them gets a 5xx, a non-JSON refusal or one in the wrong
 * shape, a hang, or leaves the Worker unhealthy. The oracle itself is tested first, without a
 * server: it must refuse the answers a broken route would give.
 */
import assert from "node:assert/strict";
import { decodeImage } from "../src/image/decode.ts";
import { DEFAULT_LIMITS } from "../src/server/limits.ts";
import { ImageError } from "../src/image/errors.ts";
import {
  type Answer,
  ANY_ANSWER,
  buildCorpus,
  type FuzzCase,
  fuzzCase,
  gifWithFrameOf,
  judge,
  ROUTES,
  runFuzz,
  sendCase,
  V2_INFER,
} from "../scripts/lib/fuzz.ts";
import { loadTestDigits } from "../scripts/lib/mnist_test_set.ts";
import { startWranglerDev } from "../scripts/lib/wrangler.ts";

const SEED = 20261126;
/** 200 a route: /classify, /read and /v2 in turn. */
const REQUESTS = 600;
const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;

/**
 * Inputs that once broke /classify; each was found by `deno task fuzz`. `refusedBy` is the message of
 * the check that now refuses it before omggif decodes a pixel: the costly loop never starts.
 */
const REGRESSIONS: {
  name: string;
  bytes: () => Promise<Uint8Array<ArrayBuffer>>;
  refusedBy: RegExp;
}[] = [
  {
    // omggif loops over the frame's pixels: 4 G iterations behind a 28×28 screen that passed the size check.
    name: "a GIF whose first frame claims 65535×65535 inside a 28×28 screen",
    bytes: () => Promise.resolve(gifWithFrameOf(65535, 65535)),
    refusedBy: /65535×65535 .*does not fit/,
  },
  {
    // Seed 1, case 291: flipped bits make an LZW code name an entry not made yet; omggif's code table
    // then holds a cycle and its chase never ends (one workerd core at 100%, /health silent).
    name: "a bit-flipped GIF whose LZW codes link omggif's table into a cycle",
    bytes: () => Deno.readFile(`${FIXTURES}gif_lzw_cycle.gif`),
    refusedBy: /LZW data is corrupt/,
  },
];

Deno.test("decodeImage() refuses every past regression as invalid_image before decoding", async () => {
  for (const { name, bytes, refusedBy } of REGRESSIONS) {
    await assert.rejects(
      decodeImage(await bytes(), {
        background: 255,
        limits: { maxPixels: 2048 * 2048, maxDecodeWork: DEFAULT_LIMITS.maxDecodeWork },
      }),
      (e: Error) =>
        e instanceof ImageError && e.code === "invalid_image" && refusedBy.test(e.message),
      name,
    );
  }
});

const json = (status: number, body: unknown): Answer => ({
  status,
  contentType: "application/json",
  body: JSON.stringify(body),
});
const reading = {
  text: "27",
  digits: [
    { digit: 2, confidence: 0.99, box: { x: 0, y: 0, width: 10, height: 20 } },
    { digit: 7, confidence: 0.98, box: { x: 12, y: 1, width: 9, height: 19 } },
  ],
  model: { name: "mnist-cnn", sha256: "0" },
};
const caseOf = (route: FuzzCase["route"], allowed = [200, 400]): FuzzCase => ({
  name: "a test",
  route,
  path: route === "v2" ? V2_INFER : `/${route}`,
  init: { method: "POST" },
  allowed,
});

Deno.test("judge() accepts a /read reading and refuses one whose digits do not spell its text", () => {
  assert.equal(judge(caseOf("read"), json(200, reading)), undefined);
  assert.equal(judge(caseOf("read"), json(200, { results: [reading, reading] })), undefined);
  const wrong = { ...reading, text: "21" };
  assert.match(judge(caseOf("read"), json(200, wrong))!, /digit 1 7 where the text has 1/);
  const noBox = { ...reading, digits: [reading.digits[0], { digit: 7, confidence: 0.9 }] };
  assert.match(judge(caseOf("read"), json(200, noBox))!, /box/);
  // A /classify prediction is not a reading.
  const prediction = {
    digit: 0,
    confidence: 0.9,
    probabilities: [0.9, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    not_a_digit: 0.1,
  };
  assert.match(judge(caseOf("read"), json(200, prediction))!, /text/);
  assert.equal(judge(caseOf("classify"), json(200, prediction)), undefined);
  // the digits and not_a_digit sum to 1, and a 200 is never for what is likelier not a digit
  const short = { ...prediction, not_a_digit: 0 };
  assert.match(judge(caseOf("classify"), json(200, short))!, /summing to 0.9/);
  const notDigit = {
    ...prediction,
    probabilities: [0.05, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    confidence: 0.05,
    not_a_digit: 0.95,
  };
  assert.match(judge(caseOf("classify"), json(200, notDigit))!, /not a digit/);
  // nor for a digit short of the odds /classify wants: 1.25 times, and a 1 five times
  const close = {
    ...prediction,
    probabilities: [0.54, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    confidence: 0.54,
  };
  assert.match(
    judge(caseOf("classify"), json(200, { ...close, not_a_digit: 0.46 }))!,
    /not a digit/,
  );
  const one = { ...prediction, digit: 1, probabilities: [0, 0.8, 0, 0, 0, 0, 0, 0, 0, 0] };
  assert.match(
    judge(caseOf("classify"), json(200, { ...one, confidence: 0.8, not_a_digit: 0.2 }))!,
    /not a digit/,
  );
});

Deno.test("judge() wants each route's own error shape", () => {
  const classifyError = { error: { code: "invalid_image", message: "corrupt" } };
  assert.equal(judge(caseOf("read"), json(400, classifyError)), undefined);
  assert.match(judge(caseOf("v2"), json(400, classifyError))!, /without \{"error": "…"\}/);
  assert.equal(judge(caseOf("v2"), json(400, { error: "corrupt" })), undefined);
  assert.match(judge(caseOf("read"), json(400, { error: "corrupt" }))!, /code/);
  assert.match(judge(caseOf("v2"), json(500, { error: "boom" }))!, /status 500/);
  const text = { status: 400, contentType: "text/plain", body: "Bad Request" };
  assert.match(judge(caseOf("v2"), text)!, /content-type text\/plain/);
});

Deno.test("judge() accepts a /v2 inference response only with ten probabilities a digit", () => {
  const row = [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1];
  const answer = (shape: number[], data: number[]) => ({
    model_name: "mnist-cnn",
    outputs: [{ name: "probabilities", datatype: "FP32", shape, data }],
  });
  assert.equal(judge(caseOf("v2"), json(200, answer([2, 10], [...row, ...row]))), undefined);
  assert.match(judge(caseOf("v2"), json(200, answer([2, 10], row)))!, /10 values for shape/);
  const skewed = row.map((p, i) => i === 0 ? 0.5 : p);
  assert.match(judge(caseOf("v2"), json(200, answer([1, 10], skewed)))!, /summing to/);
});

Deno.test("fuzzCase() sends case i to routes[i mod n], the same request every time", async () => {
  const { digits } = await loadTestDigits();
  const corpus = await buildCorpus([3].map((i) => digits[i]!));
  const cases = Array.from({ length: 30 }, (_, i) => fuzzCase(corpus, SEED, i, ROUTES));
  assert.deepEqual(cases.map((c) => c.route), Array.from({ length: 30 }, (_, i) => ROUTES[i % 3]));
  for (const c of cases) {
    assert.ok(c.route === "v2" ? c.path.startsWith("/v2/") : c.path.startsWith(`/${c.route}`));
  }
  const again = fuzzCase(corpus, SEED, 7, ROUTES);
  assert.equal(again.name, cases[7]!.name);
  // The image cases are the same generators whichever image route they go to.
  assert.equal(
    fuzzCase(corpus, SEED, 4, ["read"]).name,
    fuzzCase(corpus, SEED, 4, ["classify"]).name,
  );
});

Deno.test(`workerd answers ${REQUESTS} seeded hostile requests to three routes with JSON 4xx or valid 200s`, async (t) => {
  const { digits } = await loadTestDigits();
  const corpus = await buildCorpus([3, 2].map((i) => digits[i]!));
  await using worker = await startWranglerDev({ vars: { RATE_LIMIT: "off" } });

  await t.step("every past regression gets a JSON 400", async () => {
    for (const { name, bytes } of REGRESSIONS) {
      const fuzz: FuzzCase = {
        name,
        route: "classify",
        path: "/classify",
        init: { method: "POST", body: await bytes(), headers: { "content-type": "image/gif" } },
        allowed: [400],
      };
      const problem = judge(fuzz, await sendCase(worker.url, fuzz));
      assert.equal(problem, undefined, `${name}: ${problem}`);
    }
  });

  await t.step(`seed ${SEED}: ${REQUESTS} requests, /health after every 100`, async () => {
    const report = await runFuzz(worker.url, corpus, {
      seed: SEED,
      requests: REQUESTS,
      concurrency: 4,
      batch: 100,
      routes: ROUTES,
    });
    const failures = report.failures.map((f) => `case ${f.index} (${f.name}): ${f.problem}`);
    assert.deepEqual(failures, []);
    assert.equal(report.unhealthy, undefined);
    assert.equal(report.requests, REQUESTS);
    for (const route of ROUTES) {
      const seen = report.routes[route];
      assert.equal(seen?.requests, REQUESTS / ROUTES.length, route);
      // Each route answered some requests and refused others: the sample reached past the refusals.
      assert.ok(
        seen.statuses[200]! > 0 && seen.statuses[400]! > 0,
        `${route}: ${JSON.stringify(seen.statuses)}`,
      );
    }
    const statuses = Object.keys(report.statuses).map(Number);
    // 404: a /v2 path naming no model served.
    const fair = [...ANY_ANSWER, 404] as number[];
    assert.ok(statuses.every((s) => fair.includes(s)), `${statuses}`);
    console.log(
      `  ${report.requests} requests in ${report.seconds} s: ${JSON.stringify(report.statuses)}`,
    );
  });
});
