/**
 * `deno task bench:train [--backend wasm|cpu] [--steps N] [--batch N] [--model cnn|mlp|cnn2]
 * [--cores 1|2]`: time of one training step (batch → forward → backward → Adam) on real MNIST,
 * after a warm-up, then where one step's time goes per tfjs kernel (tf.profile). cnn2 steps go
 * through its gradient pool, on `--cores` cores (default 1). Last line: one JSON object.
 */
import * as tf from "@tensorflow/tfjs-core";
import { startBackend } from "../src/deno.ts";
import { loadDataset } from "../src/data/mnist.ts";
import { recipeOf } from "../src/data/batches.ts";
import {
  type Arch,
  ARCHITECTURES,
  backward,
  disposeBatch,
  forward,
  initParams,
  nllLoss,
  toBatch,
  toTensors,
} from "../src/model/model.ts";
import { createRng } from "../src/model/random.ts";
import { createGradientPool } from "../src/train/parallel.ts";
import { ADAM_DEFAULTS, createAdamState } from "../src/train/adam.ts";
import { evaluate, type Progress, trainEpoch } from "../src/train/loop.ts";
import { parseFlags } from "./lib/flags.ts";

const values = parseFlags("bench:train", {
  backend: { type: "string", default: "wasm" },
  steps: { type: "string", default: "300" },
  warmup: { type: "string", default: "30" },
  batch: { type: "string", default: "64" },
  model: { type: "string", default: "cnn" },
  cores: { type: "string", default: "1" },
});
const backend = values.backend === "cpu" ? "cpu" : "wasm";
const arch = values.model as Arch;
const [steps, warmup, batchSize] = [
  Number(values.steps),
  Number(values.warmup),
  Number(values.batch),
];

const data = await loadDataset();
await startBackend(backend);
const rng = createRng(1);
const params = toTensors(arch, initParams(arch, rng));
const model = { params, adam: createAdamState(params) };
const options = {
  arch,
  epochs: 1,
  schedule: "constant" as const,
  batchSize,
  seed: 1,
  adam: ADAM_DEFAULTS,
};
// Each run trains on the first n batches of the training set, as they are.
const set = { digits: data.train, negatives: 0, augment: false };
const pool = ARCHITECTURES[arch].recipe.noise === "sample"
  ? await createGradientPool(
    Number(values.cores),
    { arch, backend, valSplit: 0, set: recipeOf(set), batchSize },
    set,
  )
  : undefined;
const run = async (n: number, progress: Progress) => {
  const digits = { count: n * batchSize, images: data.train.images, labels: data.train.labels };
  await trainEpoch(model, { ...set, digits }, progress, options, () => {}, () => false, pool);
};
const progress = (): Progress => ({
  epoch: 0,
  batch: 0,
  rngState: rng.state(),
  losses: [],
  epochs: [],
});

await run(warmup, progress());
const started = performance.now();
await run(steps, progress());
const msPerStep = (performance.now() - started) / steps;

// Where one step's time goes, per kernel.
const labels = tf.tensor1d(Array.from(data.train.labels.subarray(0, batchSize)), "int32");
const profile = await tf.profile(() => {
  const batch = toBatch(data.train.images, batchSize);
  const { logits, cache } = forward(arch, model.params, batch, () => rng);
  const grads = backward(arch, model.params, batch, cache, nllLoss(logits, labels).dlogits);
  disposeBatch(batch);
  return Object.values(grads);
});
const byKernel = new Map<string, number>();
for (const k of profile.kernels) {
  byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number));
}
console.log(`Kernels of one forward + backward (batch ${batchSize}, ${backend}):`);
for (const [name, ms] of [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 10)) {
  console.log(`  ${name.padEnd(16)} ${ms.toFixed(2)} ms`);
}

pool?.close();
const evalStart = performance.now();
const test = evaluate(arch, model.params, data.test);
const evalMs = performance.now() - evalStart;
console.log(`Evaluating the 10,000 test images: ${evalMs.toFixed(0)} ms`);
console.log(JSON.stringify({
  backend,
  model: arch,
  cores: pool?.cores ?? 1,
  batch: batchSize,
  steps,
  ms_per_step: +msPerStep.toFixed(2),
  samples_per_s: Math.round((batchSize * 1000) / msPerStep),
  eval_10k_ms: Math.round(evalMs),
  test_accuracy_after_bench: test.accuracy,
}));
