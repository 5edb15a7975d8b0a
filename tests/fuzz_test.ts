/**
 * Fuzzing /classify, short: a few hundred seeded hostile requests against `wrangler dev` (real
 * workerd), judged by the same oracle as `deno task fuzz`, and every input that ever broke the server
 * replayed as a regression. Passing proves that none of them gets a 5xx, a non-JSON refusal, a hang,
 * or leaves the Worker unhealthy.
 */
import assert from "node:assert/strict";
import { decodeImage } from "../src/image/decode.ts";
import { DEFAULT_LIMITS } from "../src/server/limits.ts";
import { ImageError } from "../src/image/errors.ts";
import {
  ANY_ANSWER,
  buildCorpus,
  type FuzzCase,
  gifWithFrameOf,
  judge,
  runFuzz,
  sendCase,
} from "../scripts/lib/fuzz.ts";
import { loadTestDigits } from "../scripts/lib/mnist_test_set.ts";
import { startWranglerDev } from "../scripts/lib/wrangler.ts";

const SEED = 20261126;
const REQUESTS = 300;
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

Deno.test(`workerd answers ${REQUESTS} seeded hostile requests with JSON 4xx or valid 200s`, async (t) => {
  const { digits } = await loadTestDigits();
  const corpus = await buildCorpus([3, 2].map((i) => digits[i]!));
  await using worker = await startWranglerDev({ vars: { RATE_LIMIT: "off" } });

  await t.step("every past regression gets a JSON 400", async () => {
    for (const { name, bytes } of REGRESSIONS) {
      const fuzz: FuzzCase = {
        name,
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
    });
    const failures = report.failures.map((f) => `case ${f.index} (${f.name}): ${f.problem}`);
    assert.deepEqual(failures, []);
    assert.equal(report.unhealthy, undefined);
    assert.equal(report.requests, REQUESTS);
    const statuses = Object.keys(report.statuses).map(Number);
    assert.ok(statuses.every((s) => (ANY_ANSWER as readonly number[]).includes(s)), `${statuses}`);
    console.log(
      `  ${report.requests} requests in ${report.seconds} s: ${JSON.stringify(report.statuses)}`,
    );
  });
});
