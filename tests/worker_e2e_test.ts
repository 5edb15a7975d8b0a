/**
 * The Worker end to end in the real runtime: `wrangler dev` (local workerd) on a free loopback port,
 * real images over HTTP. Passing proves that tfjs' WASM SIMD backend runs inside workerd from the
 * bundled module, that the bundled model answers ≥ 97% of MNIST test digits right when they arrive as
 * real clients send them, that its probabilities equal Deno's on all 10,000 test digits, and that
 * workerd refuses bad input exactly as the app does in Deno.
 */
import assert from "node:assert/strict";
import { startBackend } from "../src/deno.ts";
import { loadClassifier, scoreAlone } from "../src/model/classifier.ts";
import { badInputs } from "../scripts/lib/bad_inputs.ts";
import { blackOnWhitePng, CLIENT_KINDS, nativePng } from "../scripts/lib/client_images.ts";
import { loadTestDigits } from "../scripts/lib/mnist_test_set.ts";
import { startWranglerDev } from "../scripts/lib/wrangler.ts";

const MODEL = new URL("../models/mnist-cnn", import.meta.url).pathname;
const PER_KIND = 80;
const CONCURRENCY = 4;
const PARITY_BATCH = 64; // wrangler.toml's MAX_BATCH
const TOLERANCE = 1e-5;

const { digits, labels } = await loadTestDigits();

/** Runs `task` over `items` with at most `limit` in flight, keeping the order of results. */
async function pool<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

const percentile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

Deno.test("the Worker in workerd classifies real client images and refuses bad ones", async (t) => {
  await using worker = await startWranglerDev({ vars: { RATE_LIMIT: "off" } });
  const post = async (path: string, init: RequestInit) => {
    const res = await fetch(`${worker.url}${path}`, {
      ...init,
      signal: AbortSignal.timeout(30_000),
    });
    return { status: res.status, headers: res.headers, body: await res.text() };
  };

  await t.step(
    `≥ 97% of ${PER_KIND * CLIENT_KINDS.length} MNIST test digits sent as clients do`,
    async () => {
      // Digits spread over the test set; every kind gets its own.
      const jobs = Array.from({ length: PER_KIND * CLIENT_KINDS.length }, (_, k) => ({
        index: (k * 17) % digits.length,
        kind: CLIENT_KINDS[k % CLIENT_KINDS.length]!,
        seed: k,
      }));
      const outcomes = await pool(jobs, CONCURRENCY, async ({ index, kind, seed }) => {
        const image = await kind.encode(digits[index]!, seed);
        const started = performance.now();
        const res = await post("/classify", kind.send(image));
        const ms = performance.now() - started;
        // a digit the model finds likelier not a digit is refused, and counts as read wrong
        const refused = res.status === 422 && JSON.parse(res.body).error.code === "not_a_digit";
        if (!refused) {
          assert.equal(res.status, 200, `${kind.name}, test digit ${index}: ${res.body}`);
        }
        return {
          kind: kind.name,
          right: !refused && JSON.parse(res.body).digit === labels[index],
          ms,
        };
      });
      for (const kind of CLIENT_KINDS) {
        const mine = outcomes.filter((o) => o.kind === kind.name);
        const ms = mine.map((o) => o.ms).sort((a, b) => a - b);
        console.log(
          `  ${kind.name}: ${mine.filter((o) => o.right).length}/${mine.length} right,` +
            ` p50 ${percentile(ms, 0.5).toFixed(1)} ms, p99 ${percentile(ms, 0.99).toFixed(1)} ms`,
        );
      }
      const accuracy = outcomes.filter((o) => o.right).length / outcomes.length;
      console.log(
        `  accuracy over ${outcomes.length} images through workerd: ${
          (accuracy * 100).toFixed(2)
        }%`,
      );
      assert.ok(accuracy >= 0.97, `accuracy ${accuracy} is under 0.97`);
    },
  );

  await t.step(
    "workerd's probabilities equal Deno's within 1e-5 on all 10,000 test digits",
    async () => {
      await startBackend("wasm");
      const classifier = await loadClassifier(
        await Deno.readFile(`${MODEL}.safetensors`),
        JSON.parse(await Deno.readTextFile(`${MODEL}.json`)),
      );
      const batches = Array.from(
        { length: Math.ceil(digits.length / PARITY_BATCH) },
        (_, b) => digits.slice(b * PARITY_BATCH, (b + 1) * PARITY_BATCH),
      );
      let worst = 0;
      await pool(batches, CONCURRENCY, async (batch) => {
        const form = new FormData();
        for (const digit of batch) {
          form.append("image", new Blob([nativePng(digit).bytes]), "d.png");
        }
        // The seed's model by name: the one whose files are compared, whatever the default.
        const res = await post("/classify?preprocess=none&model=mnist-cnn", {
          method: "POST",
          body: form,
        });
        assert.equal(res.status, 200, res.body);
        const { results } = JSON.parse(res.body) as { results: { probabilities: number[] }[] };
        // the seed's model has no partner: it reads alone
        const expected = scoreAlone(classifier, batch);
        results.forEach((r, i) =>
          r.probabilities.forEach((p, d) => {
            worst = Math.max(worst, Math.abs(p - expected[i]!.digits[d]!));
          })
        );
      });
      console.log(
        `  largest |workerd − Deno| over 10,000 digits × 10 classes: ${worst.toExponential(2)}`,
      );
      assert.ok(worst <= TOLERANCE, `probabilities differ by ${worst}`);
    },
  );

  await t.step("every bad input gets its status and error code", async () => {
    for (const bad of badInputs(blackOnWhitePng(digits[0]!).bytes)) {
      const res = await post(bad.path, bad.init);
      assert.equal(res.status, bad.status, `${bad.name}: ${res.body}`);
      assert.equal(JSON.parse(res.body).error.code, bad.code, `${bad.name}: ${res.body}`);
    }
    assert.equal((await post("/health", {})).status, 200, "still healthy afterwards");
  });

  await t.step("GET /model and GET / answer", async () => {
    const model = JSON.parse((await post("/model", {})).body);
    assert.equal(model.name, model.default);
    assert.ok(model.models.some((card: { name: string }) => card.name === "mnist-cnn"));
    const seed = JSON.parse((await post("/model/mnist-cnn", {})).body);
    assert.equal(seed.manifest.architecture.arch, "cnn");
    assert.match((await post("/", {})).body, /POST \/classify/);
  });
});
