/**
 * `deno task bench:edge`: how fast /classify answers, for a 280×280 PNG and a 640×480 JPEG.
 *
 * 1. The whole handler (decode → preprocess → forward → JSON) timed in Deno through `app.fetch`:
 *    Workers' clocks stand still while code runs, so this is the stand-in for a request's CPU time
 *    (the Workers Free plan allows 10 ms).
 * 2. Over HTTP against `wrangler dev` (real workerd) on loopback with N concurrent clients for a
 *    bounded time: req/s and p50/p99 latency; and the first request of a fresh isolate.
 *
 * The last line printed is one JSON object with every figure.
 *
 *   deno task bench:edge [--iterations 300] [--clients 4] [--seconds 5]
 */
import { parseArgs } from "node:util";
import { createApp } from "../src/app.ts";
import { startLocalClassifier } from "../src/classifier_deno.ts";
import {
  blackOnWhitePng,
  type ClientImage,
  offCentreJpeg,
} from "../tests/support/client_images.ts";
import { loadTestDigits } from "../tests/support/mnist_test_set.ts";
import { type LoadResult, measureLoad } from "../tests/support/load.ts";
import { startWranglerDev } from "../tests/support/wrangler.ts";

const TARGET_P99_MS = 10;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    iterations: { type: "string", default: "300" },
    clients: { type: "string", default: "4" },
    seconds: { type: "string", default: "5" },
  },
});
const iterations = positive("iterations"), clients = positive("clients");
const seconds = positive("seconds");

function positive(name: keyof typeof values): number {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(
      `'--${name}' must be a positive integer: current value is ${values[name]}`,
    );
  }
  return value;
}

const { digits } = await loadTestDigits();
const uploads: Record<string, ClientImage> = {
  "png_280x280": blackOnWhitePng(digits[0]!),
  "jpeg_640x480": offCentreJpeg(digits[0]!, 1),
};
const request = (image: ClientImage): RequestInit => ({
  method: "POST",
  body: image.bytes,
  headers: { "content-type": image.type },
});

const quantiles = (ms: number[]) => {
  const sorted = ms.toSorted((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50_ms: round(at(0.5)), p99_ms: round(at(0.99)) };
};
const round = (x: number) => Math.round(x * 100) / 100;

// 1. The handler alone, in Deno.
const classifier = await startLocalClassifier();
const app = createApp({ classifier: () => Promise.resolve(classifier) });
const handler: Record<string, { p50_ms: number; p99_ms: number }> = {};
for (const [name, image] of Object.entries(uploads)) {
  const times: number[] = [];
  for (let i = 0; i < iterations + 20; i++) {
    const started = performance.now();
    const res = await app.fetch(new Request("http://bench/classify", request(image)));
    await res.text();
    if (res.status !== 200) throw new Error(`${name}: ${res.status}`);
    if (i >= 20) times.push(performance.now() - started); // the first 20 warm up the JIT
  }
  handler[name] = quantiles(times);
  console.log(`handler ${name}: p50 ${handler[name].p50_ms} ms, p99 ${handler[name].p99_ms} ms`);
}

// 2. Over HTTP, against workerd.
const http: Record<string, LoadResult> = {};
let firstRequestMs: number;
{
  await using worker = await startWranglerDev();
  firstRequestMs = round(worker.firstRequestMs);
  console.log(`first request of a fresh isolate: ${firstRequestMs} ms`);
  for (const [name, image] of Object.entries(uploads)) {
    http[name] = await measureLoad(`${worker.url}/classify`, () => request(image), {
      clients,
      seconds,
    });
    console.log(`http ${name} × ${clients} clients: ${JSON.stringify(http[name])}`);
  }
}

const worstP99 = Math.max(...Object.values(handler).map((h) => h.p99_ms));
console.log(JSON.stringify({
  handler_ms: handler,
  http: { clients, seconds, ...http },
  first_request_ms: firstRequestMs,
  target_p99_ms: TARGET_P99_MS,
  meets_target: worstP99 <= TARGET_P99_MS,
  cpus: navigator.hardwareConcurrency,
}));
