/**
 * `deno task bench:vs-pytorch [--model cnn|cnn2] [--rounds N] [--threads N]`: PyTorch and our
 * `deno task train --model <name>`, whole processes, run alternately, N rounds each, with the same
 * network and recipe. For the seed's Net (cnn, the default) PyTorch runs the seed's program
 * (bench/pytorch_mnist.py, the seed's torchvision pipeline over the same IDX files); for cnn2,
 * bench/pytorch_cnn2.py, fed the same rendered negatives. Prints each run, then one JSON line:
 * medians of the training-loop and whole-process times and their ratios, accuracies, our peak RSS
 * and test time. (Reading another process's /proc/PID/status needs Deno's --allow-all.)
 */
import { epochNegative } from "../src/data/batches.ts";
import { loadDataset, mnistPackageDir } from "../src/data/mnist.ts";
import { ARCHITECTURES, PIXELS } from "../src/model/model.ts";
import { trainCli } from "./lib/train_cli.ts";
import { testScore } from "./lib/train_faults.ts";
import { parseFlags } from "./lib/flags.ts";

const values = parseFlags("bench:vs-pytorch", {
  rounds: { type: "string", default: "3" },
  threads: { type: "string", default: "2" },
  loader: { type: "string", default: "torchvision" },
  model: { type: "string", default: "cnn" },
});
if (values.model !== "cnn" && values.model !== "cnn2") {
  console.error(`--model must be cnn or cnn2: got "${values.model}"`);
  Deno.exit(2);
}
const cnn2 = values.model === "cnn2";
const rounds = Number(values.rounds);
const python = "/usr/bin/python3";
const root = new URL("..", import.meta.url).pathname;
const data = mnistPackageDir();

const probe = await new Deno.Command(python, {
  args: ["-c", "import torch, torchvision"],
  stderr: "null",
})
  .output().catch(() => ({ code: 127 }));
if (probe.code !== 0) {
  console.error(
    "PyTorch is missing: apt-get install -y python3-torch python3-torchvision python3-numpy",
  );
  Deno.exit(3);
}

const decoder = new TextDecoder();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

/** cnn2's negatives as our trainer renders them, epoch by epoch, for PyTorch to read. */
async function negativesFile(): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".u8" });
  const { epochs, valSplit, negativeShare } = ARCHITECTURES.cnn2.recipe;
  // the recipe's share of the trained digits, as the trainer draws them (it holds out valSplit)
  const perEpoch = Math.round(((await loadDataset()).train.count - valSplit) * negativeShare);
  const bytes = new Uint8Array(epochs * perEpoch * PIXELS);
  for (let e = 1; e <= epochs; e++) {
    for (let k = 0; k < perEpoch; k++) {
      const at = ((e - 1) * perEpoch + k) * PIXELS;
      epochNegative(1, e, k, bytes.subarray(at, at + PIXELS));
    }
  }
  await Deno.writeFile(path, bytes);
  return path;
}
const negatives = cnn2 ? await negativesFile() : undefined;

async function pytorch(): Promise<{ train_s: number; test_acc: number; process_s: number }> {
  const started = performance.now();
  const out = await new Deno.Command(python, {
    args: cnn2
      ? [
        `${root}bench/pytorch_cnn2.py`,
        "--data",
        data,
        "--negatives",
        negatives!,
        "--threads",
        values.threads!,
      ]
      : [
        `${root}bench/pytorch_mnist.py`,
        "--data",
        data,
        "--threads",
        values.threads!,
        "--loader",
        values.loader!,
      ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const process_s = (performance.now() - started) / 1000;
  if (out.code !== 0) throw new Error(`PyTorch exited ${out.code}`);
  return { ...JSON.parse(decoder.decode(out.stdout).trim().split("\n").at(-1)!), process_s };
}

/** Runs our trainer in a child process, sampling its peak RSS (VmHWM) while it runs. */
async function ours(): Promise<
  { train_s: number; test_acc: number; peak_rss_mb: number; test_ms: number; process_s: number }
> {
  const out = await Deno.makeTempDir();
  const started = performance.now();
  const child = trainCli(["--out", out, "--model", values.model!]).spawn();
  let peakKb = 0;
  const sampler = setInterval(() => {
    try {
      const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e; // exited between samples
    }
  }, 50);
  const result = await child.output();
  const process_s = (performance.now() - started) / 1000;
  clearInterval(sampler);
  await Deno.remove(out, { recursive: true });
  const text = decoder.decode(result.stdout);
  if (result.code !== 0) {
    throw new Error(`train.ts exited ${result.code}: ${decoder.decode(result.stderr).trim()}`);
  }
  const trained = /Trained in ([\d.]+) s; tested \d+ images in (\d+) ms/.exec(text)!;

  const score = testScore(text);
  return {
    train_s: Number(trained[1]),
    test_ms: Number(trained[2]),
    test_acc: score.correct / score.total,
    peak_rss_mb: Math.round(peakKb / 1024),
    process_s,
  };
}

const runs = {
  pytorch: [] as Awaited<ReturnType<typeof pytorch>>[],
  ours: [] as Awaited<ReturnType<typeof ours>>[],
};
for (let round = 1; round <= rounds; round++) {
  const p = await pytorch();
  console.log(
    `round ${round}: PyTorch ${p.train_s.toFixed(1)} s training, ${
      p.process_s.toFixed(1)
    } s in all, ${(100 * p.test_acc).toFixed(2)}%`,
  );
  runs.pytorch.push(p);
  const o = await ours();
  console.log(
    `round ${round}: ours    ${o.train_s.toFixed(1)} s training, ${
      o.process_s.toFixed(1)
    } s in all, ${
      (100 * o.test_acc).toFixed(2)
    }%, peak RSS ${o.peak_rss_mb} MB, test ${o.test_ms} ms`,
  );
  runs.ours.push(o);
}
const [pytorchS, oursS] = [
  median(runs.pytorch.map((r) => r.train_s)),
  median(runs.ours.map((r) => r.train_s)),
];
const [pytorchProcess, oursProcess] = [
  median(runs.pytorch.map((r) => r.process_s)),
  median(runs.ours.map((r) => r.process_s)),
];
if (negatives) await Deno.remove(negatives);
console.log(JSON.stringify({
  model: values.model,
  pytorch_s: pytorchS,
  ours_s: oursS,
  ratio: +(oursS / pytorchS).toFixed(3),
  pytorch_process_s: +pytorchProcess.toFixed(2),
  ours_process_s: +oursProcess.toFixed(2),
  process_ratio: +(oursProcess / pytorchProcess).toFixed(3),
  ours_acc: runs.ours.at(-1)!.test_acc,
  pytorch_acc: runs.pytorch.at(-1)!.test_acc,
  ours_peak_rss_mb: Math.max(...runs.ours.map((r) => r.peak_rss_mb)),
  ours_test_10k_ms: Math.max(...runs.ours.map((r) => r.test_ms)),
  pytorch_threads: Number(values.threads),
  pytorch_loader: values.loader,
  rounds,
}));
