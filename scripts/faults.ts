/**
 * `deno task faults`: kill -9 a full default training run during epoch 2, `--resume` it, and compare
 * with an uninterrupted run of the same seed: the accuracies must be within 0.2 points (the run is
 * deterministic, so the weights are checked for bit-identity too). Two full trainings: about a minute.
 * The small-subset version, with the full-disk and corrupt-model faults, is tests/faults_test.ts.
 *
 * The last line printed is one JSON object. Exit 1 when the resumed run is more than 0.2 points off.
 *
 *   deno task faults [--seed 1] [--kill-at 375]   (kill once epoch 2 has done this many of its
 *                                                  938 batches)
 */
import { killDuringEpoch, testScore, trainToEnd } from "./lib/train_faults.ts";
import { parseFlags } from "./lib/flags.ts";

const TOLERANCE_POINTS = 0.2;
/** Batches in an epoch of the default run: 60,000 images in batches of 64. */
const BATCHES = 938;

const values = parseFlags("faults", {
  seed: { type: "string", default: "1" },
  "kill-at": { type: "string", default: "375" }, // 40% of epoch 2
});
const killAt = Number(values["kill-at"]);
if (!Number.isInteger(killAt) || killAt < 1 || killAt > BATCHES - 1) {
  throw new RangeError(
    `'--kill-at' must be a batch from 1 to ${BATCHES - 1}: current value is ${values["kill-at"]}`,
  );
}

const [whole, killed] = [await Deno.makeTempDir(), await Deno.makeTempDir()];
const args = (out: string) => ["--out", out, "--seed", values.seed];
try {
  let started = performance.now();
  const wholeScore = testScore(await trainToEnd(args(whole)));
  const wholeSeconds = (performance.now() - started) / 1000;
  console.log(`uninterrupted: ${wholeScore.percent.toFixed(2)}% in ${wholeSeconds.toFixed(1)} s`);

  started = performance.now();
  const line = await killDuringEpoch(args(killed), 2, killAt);
  console.log(`kill -9 after: ${line}`);
  const resumedOut = await trainToEnd([...args(killed), "--resume"]);
  const resumedScore = testScore(resumedOut);
  const resumedFrom = /Resuming from .*/.exec(resumedOut)?.[0] ?? "(no resume line)";
  console.log(`${resumedFrom}\nresumed: ${resumedScore.percent.toFixed(2)}%`);

  const [a, b] = [
    await Deno.readFile(`${whole}/mnist-cnn.safetensors`),
    await Deno.readFile(`${killed}/mnist-cnn.safetensors`),
  ];
  const identical = a.length === b.length && a.every((byte, i) => byte === b[i]);
  const gap = Math.abs(resumedScore.percent - wholeScore.percent);
  console.log(
    `difference ${gap.toFixed(2)} points; weights ${identical ? "bit-identical" : "differ"}`,
  );
  console.log(JSON.stringify({
    seed: Number(values.seed),
    killed_after: line,
    uninterrupted_accuracy: wholeScore.percent,
    resumed_accuracy: resumedScore.percent,
    difference_points: Math.round(gap * 100) / 100,
    tolerance_points: TOLERANCE_POINTS,
    weights_bit_identical: identical,
  }));
  if (gap > TOLERANCE_POINTS) Deno.exitCode = 1;
} finally {
  for (const dir of [whole, killed]) await Deno.remove(dir, { recursive: true });
}
