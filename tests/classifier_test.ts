/**
 * The served classifier, on the committed model and the cpu backend. Passing proves that a forward
 * pass or read back that throws leaves no tensor behind (an isolate answers many requests), and how
 * /classify reads an image on its own: the model says whether it is a digit, the model and its
 * partner which, and a lone 1 needs five times the odds of "not a digit" (other digits 1.25).
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { startBackend } from "../src/deno.ts";
import {
  isNotADigit,
  isRefused,
  loadClassifier,
  readTogether,
  type Scores,
} from "../src/model/classifier.ts";
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

const scores = (digits: number[], notDigit: number): Scores => ({
  digits: Float32Array.from(digits),
  notDigit,
});
const oneHot = (digit: number, p: number) =>
  Array.from({ length: 10 }, (_, d) => (d === digit ? p : 0));

Deno.test("isRefused(): a digit 1.25 times likelier than not a digit is answered; a lone 1 needs 5 times", () => {
  assert.equal(isRefused(scores(oneHot(7, 0.6), 0.4)), false);
  assert.equal(isRefused(scores(oneHot(7, 0.54), 0.46)), true, "likelier, but not 1.25 times");
  assert.equal(isRefused(scores(oneHot(1, 0.8), 0.2)), true, "0.8 is not five times 0.2");
  assert.equal(isRefused(scores(oneHot(1, 0.85), 0.15)), false);
  assert.equal(isNotADigit(scores(oneHot(1, 0.8), 0.2)), false, "in a number, /read keeps it");
});

Deno.test("readTogether(): the model says whether it is a digit, both networks which", () => {
  const own = scores([0.5, 0.3, 0, 0, 0, 0, 0, 0, 0, 0], 0.2);
  const partner = scores([0.1, 0.8, 0, 0, 0, 0, 0, 0, 0, 0.1], 0);
  const both = readTogether(own, partner);
  assert.equal(both.notDigit, 0.2, "the model's own");
  const [zero, one] = [Math.sqrt(0.05), Math.sqrt(0.24)];
  assert.ok(Math.abs(both.digits[1]! - (0.8 * one) / (zero + one)) < 1e-6, "the geometric mean");
  assert.ok(Math.abs(both.digits[0]! - (0.8 * zero) / (zero + one)) < 1e-6);
  assert.equal(both.digits[9], 0, "a digit the model gives 0 stays 0");
  // networks each sure of a digit the other rules out share none: the model's reading stands
  const sure = scores(oneHot(3, 0.9), 0.1);
  assert.deepEqual(readTogether(sure, scores(oneHot(5, 1), 0)), sure);
});
