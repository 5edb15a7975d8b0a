/**
 * Training: a short real run learns, nothing leaks, the same seed gives the same weights, a stopped
 * and resumed run equals an uninterrupted one, and the CLI behaves (outputs, errors, Ctrl-C, resume).
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { startBackend } from "../src/deno.ts";
import { FILES, loadDataset, type Split } from "../src/data/mnist.ts";
import { initParams, type Params, toTensors } from "../src/model/model.ts";
import { loadModel } from "../src/model/model_file.ts";
import { createRng } from "../src/model/random.ts";
import { ADAM_DEFAULTS, createAdamState } from "../src/train/adam.ts";
import { loadCheckpoint, type RunIdentity, saveCheckpoint } from "../src/train/checkpoint.ts";
import { evaluate, type Progress, trainEpoch, type TrainOptions } from "../src/train/loop.ts";
import { createGradientPool } from "../src/train/parallel.ts";
import { recipeOf, type TrainingSet } from "../src/data/batches.ts";
import { idxFolder as idxFolderOf, startPaused, text, trainCli } from "../scripts/lib/train_cli.ts";

await startBackend("wasm");
const mnist = await loadDataset();
const subset = (split: Split, n: number): Split => ({
  count: n,
  images: split.images.subarray(0, n * 784),
  labels: split.labels.subarray(0, n),
});
/** The seed's Net's training set: digits only, as they are. */
const digitsOf = (split: Split, n: number): TrainingSet => ({
  digits: subset(split, n),
  negatives: 0,
  augment: false,
});
const options: TrainOptions = {
  arch: "cnn",
  epochs: 1,
  schedule: "constant",
  batchSize: 64,
  seed: 1,
  adam: ADAM_DEFAULTS,
};

function fresh(seed = 1) {
  const rng = createRng(seed);
  const params = toTensors("cnn", initParams("cnn", rng));
  const progress: Progress = { epoch: 0, batch: 0, rngState: rng.state(), losses: [], epochs: [] };
  return { model: { params, adam: createAdamState(params) }, progress };
}
const bytesOf = (params: Params) =>
  Object.values(params).map((p) => new Uint8Array((p.dataSync() as Float32Array).buffer));
const free = (m: { params: Params; adam: { m: Params; v: Params } }) =>
  tf.dispose([...Object.values(m.params), ...Object.values(m.adam.m), ...Object.values(m.adam.v)]);

Deno.test("a short real training run reaches ≥ 90% on 1,000 test images, without leaking tensors", async () => {
  const { model, progress } = fresh();
  const train = digitsOf(mnist.train, 6_400);
  await trainEpoch(model, train, progress, { ...options, epochs: 2 }, () => {}, () => false);
  const live = tf.memory().numTensors;
  await trainEpoch(model, train, progress, { ...options, epochs: 2 }, () => {}, () => false);
  assert.equal(tf.memory().numTensors, live, "live tensors stay flat from epoch to epoch");
  const score = evaluate("cnn", model.params, subset(mnist.test, 1_000));
  assert.ok(score.accuracy >= 0.9, `accuracy ${score.accuracy}`);
  free(model);
});

Deno.test("the same seed gives bit-identical weights", async () => {
  const train = digitsOf(mnist.train, 1_280);
  const runs = [];
  for (const seed of [1, 1, 2]) {
    const { model, progress } = fresh(seed);
    await trainEpoch(model, train, progress, { ...options, seed }, () => {}, () => false);
    runs.push(bytesOf(model.params));
    free(model);
  }
  assert.deepEqual(runs[0], runs[1]);
  assert.notDeepEqual(runs[0], runs[2]);
});

Deno.test("stopping mid-epoch, checkpointing and resuming equals an uninterrupted run", async () => {
  const train = digitsOf(mnist.train, 1_280);
  const whole = fresh();
  await trainEpoch(whole.model, train, whole.progress, options, () => {}, () => false);

  const first = fresh();
  let steps = 0;
  const finished = await trainEpoch(
    first.model,
    train,
    first.progress,
    options,
    () => steps++,
    () => steps >= 7,
  );
  assert.equal(finished, false);
  assert.equal(first.progress.batch, 7);
  const path = `${await Deno.makeTempDir()}/ckpt.safetensors`;
  const identity: RunIdentity = {
    arch: "cnn",
    seed: 1,
    batchSize: 64,
    lr: 1e-3,
    schedule: "constant",
    epochs: 1,
    valSplit: 0,
    data: "test",
  };
  await saveCheckpoint(path, { identity, progress: first.progress, ...first.model });
  free(first.model);

  const resumed = await loadCheckpoint(path, identity);
  await trainEpoch(resumed, train, resumed.progress, options, () => {}, () => false);
  assert.deepEqual(bytesOf(resumed.params), bytesOf(whole.model.params));
  await assert.rejects(
    loadCheckpoint(path, { ...identity, seed: 2 }),
    /made with seed=1, this run has 2/,
  );
  const flipped = await Deno.readFile(path);
  flipped[flipped.length - 100]! ^= 0x10; // one bit of Adam's moments
  await Deno.writeFile(path, flipped);
  await assert.rejects(
    loadCheckpoint(path, identity),
    /is corrupt \(it fails its sha256\)/,
  );
  free(resumed);
  free(whole.model);
});

/** cnn2 for one epoch of `set` through a pool on `cores` cores, optionally stopped after 5 steps. */
async function trainCnn2(cores: number, set: TrainingSet, data: string, stopAt?: number) {
  const rng = createRng(3);
  const params = toTensors("cnn2", initParams("cnn2", rng));
  const model = { params, adam: createAdamState(params) };
  const progress: Progress = { epoch: 0, batch: 0, rngState: rng.state(), losses: [], epochs: [] };
  const pool = await createGradientPool(cores, {
    arch: "cnn2",
    backend: "wasm",
    data,
    valSplit: 0,
    set: recipeOf(set),
    batchSize: 64,
  }, set);
  const cnn2Options: TrainOptions = { ...options, arch: "cnn2", seed: 3, adam: ADAM_DEFAULTS };
  let steps = 0;
  const stop = () => stopAt !== undefined && steps >= stopAt;
  await trainEpoch(model, set, progress, cnn2Options, () => steps++, stop, pool);
  pool.close();
  return { model, progress, pool };
}

Deno.test("a share the gradient worker cannot compute is an error for the trainer, not a hang", async () => {
  await startBackend("wasm");
  const data = await idxFolder(256, 100);
  const set: TrainingSet = { digits: subset(mnist.train, 256), negatives: 0, augment: false };
  // the worker is told a share of cut digits no set can have; the trainer's own set is sound
  const pool = await createGradientPool(2, {
    arch: "cnn2",
    backend: "wasm",
    data,
    valSplit: 0,
    set: { ...recipeOf(set), cutShare: 2 },
    batchSize: 8,
  }, set);
  const params = toTensors("cnn2", initParams("cnn2", createRng(4)));
  try {
    const samples = Uint32Array.from({ length: 8 }, (_, i) => i);
    for (let attempt = 0; attempt < 2; attempt++) {
      assert.throws(
        () => pool.step(params, samples, { seed: 1, epoch: 1 }),
        /^Error: the gradient worker failed: share must be in \[0, 1\]: got 2$/,
      );
    }
    // a share the worker has no part in is the trainer's alone, and works
    const one = pool.step(params, Uint32Array.of(3), { seed: 1, epoch: 1 });
    assert.ok(Number.isFinite(one.loss));
    tf.dispose(Object.values(one.grads));
  } finally {
    pool.close();
    tf.dispose(Object.values(params));
  }
});

Deno.test("cnn2 learns on one core and on two, with the same weights bit for bit, and resumes exactly", async () => {
  const data = await idxFolder(1_280, 100);
  // the reader's set: its digits cut from neighbours, its pairs and its glyphs are drawn per sample
  // too, on the worker as on the trainer's thread
  const set: TrainingSet = {
    digits: subset(mnist.train, 1_280),
    negatives: 192,
    augment: true,
    cutShare: 0.15,
    pairs: 64,
    glyphs: "no digit parts",
  };
  const one = await trainCnn2(1, set, data);
  const two = await trainCnn2(2, set, data);
  assert.equal(one.pool.cores, 1);
  assert.equal(two.pool.cores, 2);
  assert.deepEqual(bytesOf(two.model.params), bytesOf(one.model.params));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const losses = one.progress.losses, quarter = Math.floor(losses.length / 4);
  assert.ok(
    mean(losses.slice(-quarter)) < 0.75 * mean(losses.slice(0, quarter)),
    `the loss falls: ${losses.map((l) => l.toFixed(2)).join(" ")}`,
  );

  // stopped after 5 steps, checkpointed by the caller (here: kept in memory), resumed on 2 cores
  const first = await trainCnn2(1, set, data, 5);
  assert.equal(first.progress.batch, 5);
  const pool = await createGradientPool(2, {
    arch: "cnn2",
    backend: "wasm",
    data,
    valSplit: 0,
    set: recipeOf(set),
    batchSize: 64,
  }, set);
  await trainEpoch(
    first.model,
    set,
    first.progress,
    { ...options, arch: "cnn2", seed: 3 },
    () => {},
    () => false,
    pool,
  );
  pool.close();
  assert.deepEqual(bytesOf(first.model.params), bytesOf(one.model.params));
  for (const run of [one, two, first]) free(run.model);
});

// --- the CLI, on a small MNIST subset written as IDX files ---

const idxFolder = (trainCount: number, testCount: number) =>
  idxFolderOf(mnist, trainCount, testCount);

Deno.test("deno task train: exports a model it re-loaded and tested, with report and figures", async () => {
  const data = await idxFolder(640, 500), out = await Deno.makeTempDir();
  const { code, stdout } = await trainCli([
    "--data",
    data,
    "--out",
    out,
    "--epochs",
    "1",
    "--log-interval",
    "5",
  ]).output();
  const lines = text(stdout).trim().split("\n");
  assert.equal(code, 0, text(stdout));
  assert.ok(
    lines.some((l) => /^Train Epoch: 1 \[0\/640 \(0%\)\]\tLoss: \d\.\d{6}$/.test(l)),
    text(stdout),
  );
  assert.match(
    lines.at(-1)!,
    /^Test set: Average loss: \d\.\d{4}, Accuracy: \d+\/500 \(\d+\.\d\d%\)$/,
  );
  const manifest = JSON.parse(await Deno.readTextFile(`${out}/mnist-cnn.json`));
  await loadModel(await Deno.readFile(`${out}/mnist-cnn.safetensors`), manifest);
  assert.equal(manifest.dataset.source, data);
  assert.equal(manifest.test.confusion_matrix.flat().reduce((a: number, b: number) => a + b), 500);
  for (const fig of ["loss", "accuracy", "errors"]) {
    const svg = await Deno.readTextFile(`${out}/mnist-cnn.${fig}.svg`);
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" [^>]*>.*<\/svg>\n$/s);
    // well-formed XML allows no attribute twice in one element
    for (const tag of svg.match(/<[a-z]+ [^>]*>/g)!) {
      const names = [...tag.matchAll(/ ([a-z-]+)=/g)].map((m) => m[1]);
      assert.equal(new Set(names).size, names.length, `${fig}: ${tag.slice(0, 80)}`);
    }
  }
});

Deno.test("deno task train --model cnn2 --reader: the reader's files, I8 weights that load, its training recorded", async () => {
  const data = await idxFolder(640, 200), out = await Deno.makeTempDir();
  const { code, stdout } = await trainCli([
    ...["--model", "cnn2", "--reader", "--data", data, "--out", out],
    ...["--epochs", "1", "--val-split", "64"],
  ]).output();
  assert.equal(code, 0, text(stdout));
  assert.match(text(stdout), /^Training mnist-cnn2-read on /m);
  const bytes = await Deno.readFile(`${out}/mnist-cnn2-read.safetensors`);
  const manifest = JSON.parse(await Deno.readTextFile(`${out}/mnist-cnn2-read.json`));
  const { arch } = await loadModel(bytes, manifest);
  assert.equal(arch, "cnn2");
  assert.equal(manifest.name, "mnist-cnn2-read");
  assert.equal(manifest.weights.dtype, "I8");
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  assert.equal(header["fc1.weight"].dtype, "I8");
  assert.deepEqual(header["fc1.weight.scale"].shape, [192]);
  assert.equal(header["fc1.bias"].dtype, "F32");
  // 576 digits: 58 drawn negatives, and half as many again of pairs
  assert.equal(manifest.training.negatives_per_epoch, 58 + 29);
  assert.equal(manifest.training.pairs_per_epoch, 29);
  assert.equal(manifest.training.negative_glyphs, "no digit parts");
  assert.match(manifest.training.cut_digits, /^15% of the digits/);
  assert.ok(manifest.test.before_quantization.accuracy > 0);
  const served = await Deno.stat(`${out}/mnist-cnn2.json`).then(() => true, () => false);
  assert.ok(!served, "the reader is written under its own name");
});

Deno.test("deno task train: bad flags are one line and exit 2", async () => {
  for (
    const [args, message] of [
      [["--bogus"], /Unknown option '--bogus'/],
      [["--epochs", "two"], /--epochs must be a whole number ≥ 1: got "two"/],
      [["--model", "resnet"], /--model must be cnn, mlp, cnn2/],
      [["--lr=-1"], /--lr must be a number/],
      [["--seed", "4294967296"], /--seed must be a whole number from 0 to 4294967295/],
      [["--val-split", "60000"], /--val-split must be a whole number from 0 to 59999: got 60000/],
      [
        ["--reader"],
        /--reader needs a network with a "not a digit" class \(cnn2\): got --model cnn/,
      ],
    ] as [string[], RegExp][]
  ) {
    const { code, stderr } = await trainCli(args).output();
    assert.equal(code, 2);
    assert.equal(text(stderr).trim().split("\n").length, 1, text(stderr));
    assert.match(text(stderr), message);
  }
});

Deno.test("deno task train: bad data or an unwritable --out is one clear line, previous model intact", async () => {
  const data = await idxFolder(64, 10);
  await Deno.writeFile(
    `${data}/${FILES.testLabels}`,
    new Uint8Array([0, 0, 8, 1, 0, 0, 0, 10, 1, 2]),
  );
  let result = await trainCli(["--data", data, "--out", await Deno.makeTempDir()]).output();
  assert.equal(result.code, 1);
  assert.match(
    text(result.stderr),
    /^error: .*t10k-labels-idx1-ubyte: truncated: 10 bytes, its header promises 18\n$/,
  );

  const good = await idxFolder(64, 10), out = await Deno.makeTempDir();
  assert.equal((await trainCli(["--data", good, "--out", out, "--epochs", "1"]).output()).code, 0);
  const before = await Deno.readFile(`${out}/mnist-cnn.safetensors`);
  const retrain = (dir: string) =>
    trainCli(["--data", good, "--out", dir, "--epochs", "1", "--seed", "9"]).output();

  result = await retrain(`${out}/mnist-cnn.json/models`); // a folder inside a file: fails even for root
  assert.equal(result.code, 1);
  assert.match(text(result.stderr), /^error: cannot create output folder .*\n$/);

  if (Deno.uid() !== 0) { // root ignores a folder's read-only bit
    await Deno.chmod(out, 0o555);
    try {
      result = await retrain(out);
    } finally {
      await Deno.chmod(out, 0o755);
    }
    assert.equal(result.code, 1);
    assert.match(
      text(result.stderr),
      /^error: cannot write .*; the previous files are unchanged\n$/,
    );
  }
  const after = await Deno.readFile(`${out}/mnist-cnn.safetensors`);
  assert.ok(
    after.length === before.length && after.every((b, i) => b === before[i]),
    "the previous model is intact",
  );
});

Deno.test("deno task train: Ctrl-C stops after the batch with a checkpoint, and --resume finishes", async () => {
  const data = await idxFolder(640, 200), out = await Deno.makeTempDir();
  const args = [
    "--data",
    data,
    "--out",
    out,
    "--epochs",
    "1",
    "--batch-size",
    "8",
    "--log-interval",
    "20",
  ];
  // The trainer pauses after batch 20 and waits: the interrupt lands there on any machine.
  const run = await startPaused(args, { epoch: 1, batch: 20 });
  const { code, stdout } = await run.signal("SIGINT");
  assert.equal(code, 130, stdout);
  assert.match(stdout, /Stopped after batch 20 of epoch 1; saved .*checkpoint\.safetensors/);
  const resumed = await trainCli([...args, "--resume"]).output();
  assert.equal(resumed.code, 0, text(resumed.stderr));
  assert.match(text(resumed.stdout), /Resuming from .*: epoch 1, batch 20\n/);
  assert.match(text(resumed.stdout), /Test set: Average loss/);
});
