/**
 * The served classifier, on the committed model and the cpu backend. Passing proves that a forward
 * pass or read back that throws leaves no tensor behind: an isolate answers many requests.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { startBackend } from "../src/deno.ts";
import { loadClassifier } from "../src/model/classifier.ts";
import { PIXELS } from "../src/model/model.ts";

const MODELS = new URL("../models/", import.meta.url);

Deno.test("Classifier.predict() disposes its tensors when reading the answer throws", async () => {
  await startBackend("cpu");
  const classifier = await loadClassifier(
    await Deno.readFile(new URL("mnist-cnn.safetensors", MODELS)),
    JSON.parse(await Deno.readTextFile(new URL("mnist-cnn.json", MODELS))),
  );
  const digits = [new Uint8Array(PIXELS), new Uint8Array(PIXELS).fill(255)];
  const before = tf.memory().numTensors;
  assert.equal(classifier.predict(digits).length, 2);
  assert.equal(tf.memory().numTensors, before, "a normal answer keeps nothing");

  const dataSync = tf.Tensor.prototype.dataSync;
  tf.Tensor.prototype.dataSync = () => {
    throw new Error("the backend lost its memory");
  };
  try {
    assert.throws(() => classifier.predict(digits), /lost its memory/);
  } finally {
    tf.Tensor.prototype.dataSync = dataSync;
  }
  assert.equal(tf.memory().numTensors, before, "the batch and probabilities were disposed");
});
