/** The model committed in models/ is the one the README promises: ≥ 98.0% on all 10,000 test images. */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { startBackend } from "../src/deno.ts";
import { loadDataset } from "../src/data/mnist.ts";
import { toTensors } from "../src/model/model.ts";
import { loadModel } from "../src/model/model_file.ts";
import { evaluate } from "../src/train/loop.ts";

Deno.test("the committed model scores ≥ 98.0% on the 10,000 MNIST test images, as its manifest says", async () => {
  await startBackend("wasm");
  const dir = new URL("../models/", import.meta.url);
  const { arch, params, manifest } = await loadModel(
    await Deno.readFile(new URL("mnist-cnn.safetensors", dir)),
    JSON.parse(await Deno.readTextFile(new URL("mnist-cnn.json", dir))),
  );
  const tensors = toTensors(arch, params);
  const test = evaluate(arch, tensors, (await loadDataset()).test);
  tf.dispose(Object.values(tensors));
  assert.equal(test.total, 10_000);
  assert.ok(test.accuracy >= 0.98, `accuracy ${test.accuracy}`);
  assert.equal(test.correct, manifest.test.correct, "re-evaluation agrees with the manifest");
});
