/**
 * `deno task bench:load`: 1, 8 and 64 concurrent clients against `wrangler dev` (real workerd) on
 * loopback, each for a bounded time, sending real client uploads in turn (a 280×280 PNG, a 640×480
 * JPEG, a 280×280 WebP). Passing means zero errors and nothing dropped at every level; the figures are
 * req/s and p50/p99 latency. Exit 1 otherwise.
 *
 * The last line printed is one JSON object with every figure.
 *
 *   deno task bench:load [--clients 1,8,64] [--seconds 10]
 */
import {
  blackOnWhitePng,
  blackOnWhiteWebp,
  type ClientImage,
  offCentreJpeg,
} from "./lib/client_images.ts";
import { type LoadResult, measureLoad } from "./lib/load.ts";
import { loadTestDigits } from "./lib/mnist_test_set.ts";
import { startWranglerDev } from "./lib/wrangler.ts";
import { parseFlags } from "./lib/flags.ts";

const values = parseFlags("bench:load", {
  clients: { type: "string", default: "1,8,64" },
  seconds: { type: "string", default: "10" },
});
const levels = values.clients.split(",").map(Number);
const seconds = Number(values.seconds);
if (!levels.every((n) => Number.isInteger(n) && n > 0)) {
  throw new RangeError(
    `'--clients' must be positive integers separated by commas: current value is ${values.clients}`,
  );
}
if (!Number.isInteger(seconds) || seconds <= 0) {
  throw new RangeError(
    `'--seconds' must be a positive integer: current value is ${values.seconds}`,
  );
}

const { digits } = await loadTestDigits();
const uploads: ClientImage[] = [
  blackOnWhitePng(digits[0]!),
  offCentreJpeg(digits[1]!, 1),
  await blackOnWhiteWebp(digits[2]!),
];
let turn = 0;
const nextUpload = (): RequestInit => {
  const image = uploads[turn++ % uploads.length]!;
  return { method: "POST", body: image.bytes, headers: { "content-type": image.type } };
};

const results: LoadResult[] = [];
let rssMib: number[] = [];
{
  await using worker = await startWranglerDev({ vars: { RATE_LIMIT: "off" } });
  const rss = [await worker.workerdRssBytes()];
  for (const clients of levels) {
    const result = await measureLoad(`${worker.url}/classify`, nextUpload, { clients, seconds });
    rss.push(await worker.workerdRssBytes());
    results.push(result);
    console.log(
      `${
        String(clients).padStart(3)
      } clients: ${result.req_per_s} req/s, p50 ${result.p50_ms} ms,` +
        ` p99 ${result.p99_ms} ms, max ${result.max_ms} ms; ${result.ok}/${result.sent} ok,` +
        ` ${result.errors} errors, ${result.dropped} dropped`,
    );
  }
  const health = await fetch(`${worker.url}/health`, { signal: AbortSignal.timeout(10_000) });
  await health.body?.cancel();
  if (health.status !== 200) {
    throw new Error(`GET /health answered ${health.status} after the load`);
  }
  rssMib = rss.map((b) => Math.round(b / 1024 / 1024 * 10) / 10);
}

const clean = results.every((r) => r.errors === 0 && r.dropped === 0 && r.ok === r.sent);
console.log(JSON.stringify({
  seconds_per_level: seconds,
  uploads: ["png_280x280", "jpeg_640x480", "webp_280x280"],
  levels: results,
  workerd_rss_mib: { min: Math.min(...rssMib), max: Math.max(...rssMib) },
  zero_errors_nothing_dropped: clean,
  cpus: navigator.hardwareConcurrency,
}));
if (!clean) Deno.exitCode = 1;
