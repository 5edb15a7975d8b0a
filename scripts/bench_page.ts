/**
 * `deno task bench:page`: pen-up → answer on the drawing page, as a person sees it. Starts
 * `wrangler dev` (local workerd) and headless Chromium, draws digits with the mouse (the strokes of
 * scripts/lib/drawn_digits.ts, round after round, each alone in the middle of the wide pad, read by
 * POST /read), and times each from the last pointerup to the prediction being written, inside the
 * page with performance.now(). Prints one line a digit, then the p50 and max against the targets
 * (≤ 150 ms p50, ≤ 300 ms max) as one JSON object, the last line.
 *
 *   deno task bench:page [--digits 30]
 */
import { DRAWN_DIGITS } from "./lib/drawn_digits.ts";
import {
  bytesSent,
  clear,
  drawWithMouse,
  installProbe,
  launchChromium,
  medianAndMax,
  penUpToAnswerMs,
  settled,
} from "./lib/page_driver.ts";
import { startWranglerDev } from "./lib/wrangler.ts";
import { parseFlags } from "./lib/flags.ts";

const TARGET = { p50Ms: 150, maxMs: 300 };

const values = parseFlags("bench:page", { digits: { type: "string" } });
const count = Number(values.digits ?? 30);
if (!Number.isInteger(count) || count < 1) {
  console.error(`--digits must be a positive integer: current value is ${values.digits}`);
  Deno.exit(2);
}

await using worker = await startWranglerDev({ vars: { RATE_LIMIT: "off" } });
const browser = await launchChromium();
await using _closed = { [Symbol.asyncDispose]: () => browser.close() };
const page = await browser.newPage({ viewport: { width: 960, height: 760 } });
await installProbe(page);
await page.goto(worker.url);

// One digit first, unmeasured: the isolate's first /read starts tfjs and loads the model.
await drawWithMouse(page, DRAWN_DIGITS[0]!);
await settled(page);

const latencies: number[] = [], bytes: number[] = [];
let right = 0;
for (let i = 0; i < count; i++) {
  const drawn = DRAWN_DIGITS[i % DRAWN_DIGITS.length]!;
  await clear(page);
  await drawWithMouse(page, drawn);
  const shown = await settled(page);
  const ms = await penUpToAnswerMs(page);
  latencies.push(ms);
  bytes.push(await bytesSent(page));
  if (shown.prediction === String(drawn.digit)) right++;
  console.log(
    `drew ${drawn.digit} → ${shown.prediction || "–"} (${shown.message}): pen-up → answer ${
      ms.toFixed(1)
    } ms, ` +
      `${bytes.at(-1)} bytes sent`,
  );
}

const { p50, max } = medianAndMax(latencies);
const round = (n: number) => Math.round(n * 10) / 10;
console.log(JSON.stringify({
  bench: "page",
  digits: count,
  read_right: right,
  pen_up_to_answer_p50_ms: round(p50),
  pen_up_to_answer_max_ms: round(max),
  target_p50_ms: TARGET.p50Ms,
  target_max_ms: TARGET.maxMs,
  meets_target: p50 <= TARGET.p50Ms && max <= TARGET.maxMs,
  bytes_sent_p50: medianAndMax(bytes).p50,
}));
