/**
 * The models committed in models/ are the ones the README promises: the seed's ≥ 98.0% on all 10,000
 * test images; the served cnn2 ≥ 99.3% by its likeliest digit, ≤ 1% refused as not a digit; the
 * reader (what POST /read uses) ≥ 98.8%, ≤ 1% refused.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { startBackend } from "../src/deno.ts";
import { loadDataset } from "../src/data/mnist.ts";
import { toTensors } from "../src/model/model.ts";
import { loadModel } from "../src/model/model_file.ts";
import { evaluate } from "../src/train/loop.ts";

/** Committed model `name`, loaded as the Worker loads it and scored on all 10,000 test images. */
async function scoreCommitted(name: string) {
  await startBackend("wasm");
  const dir = new URL("../models/", import.meta.url);
  const { arch, params, manifest } = await loadModel(
    await Deno.readFile(new URL(`${name}.safetensors`, dir)),
    JSON.parse(await Deno.readTextFile(new URL(`${name}.json`, dir))),
  );
  const tensors = toTensors(arch, params);
  const test = evaluate(arch, tensors, (await loadDataset()).test);
  tf.dispose(Object.values(tensors));
  assert.equal(test.total, 10_000);
  assert.equal(test.correct, manifest.test.correct, "re-evaluation agrees with the manifest");
  assert.equal(test.refused, manifest.test.refused ?? 0);
  return { arch, manifest, test };
}

Deno.test("the committed model scores ≥ 98.0% on the 10,000 MNIST test images, as its manifest says", async () => {
  const { test } = await scoreCommitted("mnist-cnn");
  assert.ok(test.accuracy >= 0.98, `accuracy ${test.accuracy}`);
});

Deno.test("the served mnist-cnn2 reads ≥ 99.3% of the test digits and refuses ≤ 1%, as its manifest says", async () => {
  const { arch, test } = await scoreCommitted("mnist-cnn2");
  assert.equal(arch, "cnn2");
  assert.ok(test.digitCorrect >= 9_930, `the likeliest digit is right for ${test.digitCorrect}`);
  assert.ok(test.refused <= 100, `${test.refused} refused as not a digit`);
});

Deno.test("the reader mnist-cnn2-read, stored as I8, reads ≥ 98.8% of the test digits and refuses ≤ 1%, as its manifest says", async () => {
  const { arch, manifest, test } = await scoreCommitted("mnist-cnn2-read");
  assert.equal(arch, "cnn2");
  assert.equal(manifest.weights.dtype, "I8");
  assert.ok(test.digitCorrect >= 9_880, `the likeliest digit is right for ${test.digitCorrect}`);
  assert.ok(test.refused <= 100, `${test.refused} refused as not a digit`);
});
