/**
 * Progress output. Not on a terminal: the seed's lines, every `logInterval` batches. On a terminal: one
 * live bar with samples/s and ETA instead of a flood of lines.
 */
import type { StepEvent } from "./loop.ts";

/** The seed's line: `Train Epoch: 1 [640/60000 (1%)]\tLoss: 0.123456`. */
export function seedLine(e: StepEvent, batchSize: number): string {
  const pct = Math.round((100 * e.batch) / e.batches);
  return `Train Epoch: ${e.epoch} [${e.batch * batchSize}/${e.total} (${pct}%)]\tLoss: ${
    e.loss.toFixed(6)
  }`;
}

function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/** Returns the step callback for one epoch and a function that ends its bar. */
export function createReporter(
  batchSize: number,
  logInterval: number,
  tty = Deno.stdout.isTerminal(),
): { onStep: (e: StepEvent) => void; end: () => void } {
  const started = performance.now();
  let firstSeen = -1, lastDraw = 0, drew = false;
  const encoder = new TextEncoder();
  return {
    onStep(e) {
      if (firstSeen < 0) firstSeen = e.seen - Math.min(batchSize, e.seen);
      if (!tty) {
        if (e.batch % logInterval === 0) console.log(seedLine(e, batchSize));
        return;
      }
      const now = performance.now();
      if (now - lastDraw < 100 && e.seen < e.total) return;
      lastDraw = now;
      const rate = (e.seen - firstSeen) / ((now - started) / 1000);
      const width = 30, done = Math.round((width * e.seen) / e.total);
      const bar = "█".repeat(done) + "░".repeat(width - done);
      const line = `Epoch ${e.epoch} ${bar} ${e.seen}/${e.total}  loss ${e.loss.toFixed(4)}  ` +
        `${Math.round(rate)} samples/s  ETA ${duration((e.total - e.seen) / rate)}`;
      Deno.stdout.writeSync(encoder.encode(`\r\x1b[2K${line}`));
      drew = true;
    },
    end() {
      if (drew) Deno.stdout.writeSync(encoder.encode("\n"));
    },
  };
}
