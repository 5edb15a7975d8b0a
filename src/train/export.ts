/**
 * Export, as the seed does it: save the weights, load the saved file back, test the re-loaded model,
 * then write the manifest (the report) and the figures beside it. All of them are staged under
 * temporary names and renamed into place together, so a failed run leaves the previous model whole.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Dataset, Split } from "../data/mnist.ts";
import {
  type Arch,
  ARCHITECTURES,
  countParams,
  type HostParams,
  NORMALIZATION,
  NUM_CLASSES,
  type Params,
  PIXELS,
  toTensors,
} from "../model/model.ts";
import {
  encodeModel,
  loadModel,
  type Manifest,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
} from "../model/model_file.ts";
import type { Dtype } from "../model/safetensors.ts";
import { sha256Hex } from "../model/sha256.ts";
import { epochNegative, NOT_A_DIGIT } from "../data/batches.ts";
import type { NegativeGlyphs } from "../data/negatives.ts";
import { accuracySvg, errorsSvg, lossCurveSvg } from "./figures.ts";
import { stageFiles } from "./files.ts";
import { expectedCalibrationError, fitTemperature } from "./calibrate.ts";
import { evaluate, type Evaluation, logitsOf, type Progress } from "./loop.ts";

export interface ExportResult {
  weightsPath: string;
  manifestPath: string;
  manifest: Manifest;
  test: Evaluation;
  /** Time to evaluate the test set. */
  testMs: number;
}

/** Copies parameters from the backend to the host. */
export function readParams(arch: Arch, params: Params): HostParams {
  const copy = (name: string) => params[name]!.dataSync().slice() as Float32Array;
  return Object.fromEntries(ARCHITECTURES[arch].params.map(({ name }) => [name, copy(name)]));
}

/** What {@linkcode exportModel} writes and records. */
export interface ExportOptions {
  outDir: string;
  /** The stem of the files written: `mnist-<arch>`, or another name. */
  name: string;
  arch: Arch;
  /** How the weights are stored. */
  dtype: Dtype;
  params: Params;
  data: Dataset;
  validation: number;
  /** The held-out training images, if any: the confidence is calibrated on them. */
  val?: Split;
  /** The run's seed (held-out negatives are drawn from it). */
  seed: number;
  /** Which letters and symbols the held-out negatives may be, as in training (default "all"). */
  negativeGlyphs?: NegativeGlyphs;
  progress: Progress;
  stepsPerEpoch: number;
  training: Record<string, unknown>;
}

/** Saves, re-loads, tests and reports; returns the test of the re-loaded weights. */
export async function exportModel(options: ExportOptions): Promise<ExportResult> {
  const { outDir, name, arch, dtype, data } = options;
  // Weights stored in fewer bits are tested as stored; the float32 ones are tested first here.
  const before = dtype === "F32" ? undefined : evaluate(arch, options.params, data.test);
  const weightsPath = `${outDir}/${name}.safetensors`, manifestPath = `${outDir}/${name}.json`;
  const staged = await stageFiles({
    [weightsPath]: encodeModel(arch, readParams(arch, options.params), dtype),
  });

  try {
    // Load the saved file back, as the seed does, and test what was loaded.
    const saved = await Deno.readFile(staged.temp[weightsPath]!);
    const draft = await draftManifest(options, name, saved);
    const { test, testMs, calibration } = await testSaved(
      arch,
      saved,
      draft,
      data.test,
      options.val,
      options.seed,
      options.negativeGlyphs,
    );
    draft.test = testReport(test);
    if (calibration) draft.calibration = calibration;
    if (before) {
      draft.test.before_quantization = {
        loss: before.loss,
        accuracy: before.accuracy,
        ...(ARCHITECTURES[arch].classes > NUM_CLASSES
          ? { digit_accuracy: before.digitCorrect / before.total }
          : {}),
      };
    }

    await staged.add({
      [manifestPath]: JSON.stringify(draft, null, 2) + "\n",
      [`${outDir}/${name}.loss.svg`]: lossCurveSvg(options.progress.losses, options.stepsPerEpoch),
      [`${outDir}/${name}.accuracy.svg`]: accuracySvg(options.progress.epochs),
      [`${outDir}/${name}.errors.svg`]: errorsSvg(data.test as Split, test.predictions),
    });
    await staged.commit();
    return { weightsPath, manifestPath, manifest: draft, test, testMs };
  } catch (error) {
    await staged.abort(); // nothing half-done stays behind
    throw error;
  }
}

/** The manifest of the `saved` weights, its test still empty. */
async function draftManifest(
  options: ExportOptions,
  name: string,
  saved: Uint8Array,
): Promise<Manifest> {
  const { arch, data } = options;
  return {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    name,
    weights: {
      file: `${name}.safetensors`,
      sha256: await sha256Hex(saved),
      bytes: saved.length,
      ...(options.dtype === "F32" ? {} : { dtype: options.dtype }),
    },
    architecture: {
      arch,
      description: ARCHITECTURES[arch].description,
      parameters: countParams(arch),
      input: [1, 28, 28],
      normalization: { ...NORMALIZATION },
    },
    training: options.training,
    dataset: {
      source: data.source,
      sha256: data.sha256,
      train: data.train.count - options.validation,
      validation: options.validation,
      test: data.test.count,
    },
    test: {
      loss: 0,
      accuracy: 0,
      correct: 0,
      total: 0,
      per_class_accuracy: [],
      confusion_matrix: [],
    },
    created_at: new Date().toISOString(),
    runtime: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      tfjs: tf.version_core,
      backend: tf.getBackend(),
    },
  };
}

/**
 * Loads the `saved` weights as a Worker would (checked against `draft`) and tests them; with `val`,
 * fits their temperature on it and measures the calibration error on the test set before and after.
 */
async function testSaved(
  arch: Arch,
  saved: Uint8Array,
  draft: Manifest,
  testSet: Dataset["test"],
  val: Split | undefined,
  seed: number,
  glyphs: NegativeGlyphs = "all",
): Promise<{ test: Evaluation; testMs: number; calibration?: Manifest["calibration"] }> {
  const loaded = await loadModel(saved, draft);
  const reloaded = toTensors(arch, loaded.params);
  try {
    const testStarted = performance.now();
    const test = evaluate(arch, reloaded, testSet);
    const testMs = performance.now() - testStarted;
    if (!val) return { test, testMs };
    const classes = ARCHITECTURES[arch].classes;
    const held = classes > NUM_CLASSES ? withNegatives(val, seed, glyphs) : val;
    const temperature = fitTemperature(logitsOf(arch, reloaded, held), held.labels, classes);
    const testLogits = logitsOf(arch, reloaded, testSet);
    const ece = (t: number) =>
      Math.round(expectedCalibrationError(testLogits, testSet.labels, classes, t) * 1e5) / 1e5;
    const calibration = {
      method: "temperature scaling",
      temperature: Math.round(temperature * 1e4) / 1e4,
      fitted_on: `the ${val.count} held-out training images` +
        (held === val ? "" : ` and ${held.count - val.count} negatives never trained on`),
      test_ece_before: ece(1),
      test_ece_after: ece(temperature),
    };
    return { test, testMs, calibration };
  } finally {
    tf.dispose(Object.values(reloaded));
  }
}

/**
 * `val` and one rendered negative for every ten of its digits, from epoch 0: training epochs count
 * from 1, so the trainer never saw them.
 */
function withNegatives(val: Split, seed: number, glyphs: NegativeGlyphs): Split {
  const extra = Math.round(val.count / 10);
  const images = new Uint8Array((val.count + extra) * PIXELS);
  const labels = new Uint8Array(val.count + extra);
  images.set(val.images.subarray(0, val.count * PIXELS));
  labels.set(val.labels.subarray(0, val.count));
  for (let k = 0; k < extra; k++) {
    const at = (val.count + k) * PIXELS;
    epochNegative(seed, 0, k, images.subarray(at, at + PIXELS), glyphs);
    labels[val.count + k] = NOT_A_DIGIT;
  }
  return { count: val.count + extra, images, labels };
}

function testReport(test: Evaluation): Manifest["test"] {
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  return {
    loss: round(test.loss),
    accuracy: round(test.accuracy),
    correct: test.correct,
    total: test.total,
    per_class_accuracy: test.confusion.map((row, digit) =>
      round(row[digit]! / row.reduce((a, b) => a + b, 0))
    ),
    confusion_matrix: test.confusion,
    ...(test.confusion[0]!.length > NUM_CLASSES
      ? { digit_accuracy: round(test.digitCorrect / test.total), refused: test.refused }
      : {}),
  };
}

/**
 * The seed's closing line, with two decimals: `Test set: Average loss: 0.0xxx, Accuracy: …`; for a
 * network with a "not a digit" class, then how it reads the digits and how many it refused.
 */
export function testLine(test: Evaluation): string {
  const percent = (n: number) => `${(100 * n / test.total).toFixed(2)}%`;
  const line = `Test set: Average loss: ${
    test.loss.toFixed(4)
  }, Accuracy: ${test.correct}/${test.total} (${percent(test.correct)})`;
  if (!test.refused && test.digitCorrect === test.correct) return line;
  return `${line}\nReading the ten digits only: ${test.digitCorrect}/${test.total} (${
    percent(test.digitCorrect)
  }); answered "not a digit": ${test.refused} (${percent(test.refused)})`;
}
