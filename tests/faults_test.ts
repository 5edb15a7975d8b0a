/**
 * Faults in training and building. Passing proves that a run killed with SIGKILL mid-epoch resumes
 * from its last checkpoint to the same weights as an uninterrupted run; that a full --out disk is one
 * clear error with the previous model intact; and that a corrupted or truncated model file is refused,
 * with a message saying how to fix it, by the loader the trainer uses and by `deno task build`, so a
 * Worker serving garbage cannot be built. (`deno task faults` is the full-MNIST kill -9 version.)
 */
import assert from "node:assert/strict";
import { loadDataset } from "../src/data/mnist.ts";
import { loadModel, ModelFileError } from "../src/model/model_file.ts";
import { idxFolder, text, trainCli } from "../scripts/lib/train_cli.ts";
import { killDuringEpoch, testScore, trainToEnd } from "../scripts/lib/train_faults.ts";

const MODEL = new URL("../models/mnist-cnn", import.meta.url).pathname;
const BUILD = new URL("../scripts/build.ts", import.meta.url).pathname;

const mnist = await loadDataset();
const sameBytes = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((byte, i) => byte === b[i]);

Deno.test("deno task train: kill -9 during epoch 2, then --resume, ends where an uninterrupted run does", async () => {
  const data = await idxFolder(mnist, 6_400, 1_000);
  const args = (
    out: string,
  ) => ["--data", data, "--out", out, "--epochs", "2", "--log-interval", "10"];
  const [whole, killed] = [await Deno.makeTempDir(), await Deno.makeTempDir()];

  const wholeScore = testScore(await trainToEnd(args(whole)));
  await killDuringEpoch(args(killed), 2, 30); // of 100 batches
  await Deno.stat(`${killed}/mnist-cnn.checkpoint.safetensors`); // epoch 1's, written atomically
  const resumed = await trainToEnd([...args(killed), "--resume"]);
  assert.match(resumed, /Resuming from .*: epoch 2, batch 0/);

  const gap = Math.abs(testScore(resumed).percent - wholeScore.percent);
  assert.ok(gap <= 0.2, `resumed run is ${gap} points from the uninterrupted one`);
  assert.ok(
    sameBytes(
      await Deno.readFile(`${killed}/mnist-cnn.safetensors`),
      await Deno.readFile(`${whole}/mnist-cnn.safetensors`),
    ),
    "resume is deterministic: the weights are bit-identical",
  );
});

/** Mounts a 300 KiB tmpfs: room for a model (213 KiB) but not for a run's checkpoint (640 KiB). */
async function smallDisk(): Promise<string> {
  const dir = await Deno.makeTempDir();
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", "size=300k", "tmpfs", dir],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!mount.success) throw new Error(`mount -t tmpfs failed: ${text(mount.stderr).trim()}`);
  return dir;
}

Deno.test({
  name: "deno task train: a full --out disk is one clear error, the previous model intact",
  ignore: Deno.uid() !== 0, // mounting a tmpfs needs root (CI runs as root)
  async fn() {
    const out = await smallDisk();
    try {
      for (const ext of ["safetensors", "json"]) {
        await Deno.copyFile(`${MODEL}.${ext}`, `${out}/mnist-cnn.${ext}`);
      }
      const before = await Deno.readFile(`${out}/mnist-cnn.safetensors`);
      const data = await idxFolder(mnist, 64, 10);
      const { code, stderr } = await trainCli(["--data", data, "--out", out, "--epochs", "1"])
        .output();
      assert.equal(code, 1);
      assert.match(
        text(stderr),
        /^error: cannot write .*: No space left on device.*; the previous files are unchanged\n$/,
      );
      assert.ok(sameBytes(await Deno.readFile(`${out}/mnist-cnn.safetensors`), before));
      await loadModel(before, JSON.parse(await Deno.readTextFile(`${out}/mnist-cnn.json`)));
      const left = [...Deno.readDirSync(out)].map((e) => e.name).filter((n) => n.endsWith(".tmp"));
      assert.deepEqual(left, [], "no temporary files left behind");
    } finally {
      await new Deno.Command("umount", { args: [out] }).output();
      await Deno.remove(out, { recursive: true });
    }
  },
});

/** A copy of the committed model in a folder of its own, its weights passed through `damage`. */
async function damagedModel(damage: (weights: Uint8Array) => Uint8Array): Promise<string> {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(
    `${dir}/mnist-cnn.safetensors`,
    damage(await Deno.readFile(`${MODEL}.safetensors`)),
  );
  await Deno.copyFile(`${MODEL}.json`, `${dir}/mnist-cnn.json`);
  await Deno.writeTextFile(
    `${dir}/index.json`,
    JSON.stringify({ default: "mnist-cnn", models: ["mnist-cnn"] }),
  );
  return dir;
}

const DAMAGE: [string, (w: Uint8Array) => Uint8Array][] = [
  ["corrupted (one weight's byte flipped)", (w) => {
    const out = w.slice();
    out[out.length - 100]! ^= 0x40;
    return out;
  }],
  ["truncated (cut in half)", (w) => w.slice(0, w.length >> 1)],
];

for (const [name, damage] of DAMAGE) {
  Deno.test(`a ${name} model file is refused by the loader and by deno task build`, async () => {
    const dir = await damagedModel(damage);
    const weights = await Deno.readFile(`${dir}/mnist-cnn.safetensors`);
    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/mnist-cnn.json`));
    await assert.rejects(
      loadModel(weights, manifest),
      (e: Error) =>
        e instanceof ModelFileError &&
        /does not match the manifest's .*HINT: re-run/.test(e.message),
    );

    const outdir = await Deno.makeTempDir();
    const build = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", BUILD, "--models", dir, "--outdir", `${outdir}/dist`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(build.code, 1, text(build.stdout));
    assert.match(
      text(build.stderr),
      /^build refused: the model mnist-cnn in .* does not load: weights sha256 \w+ does not match the manifest's \w+: the file is corrupt or from another run\. HINT: /,
    );
    assert.deepEqual([...Deno.readDirSync(outdir)], [], "nothing was bundled");
  });
}

Deno.test("deno task train --resume refuses a truncated checkpoint with one clear line", async () => {
  const data = await idxFolder(mnist, 64, 10), out = await Deno.makeTempDir();
  const args = ["--data", data, "--out", out, "--epochs", "2"];
  await trainToEnd(args);
  const path = `${out}/mnist-cnn.checkpoint.safetensors`;
  const bytes = await Deno.readFile(path);
  await Deno.writeFile(path, bytes.slice(0, bytes.length - 1000));
  const { code, stderr } = await trainCli([...args, "--resume"]).output();
  assert.equal(code, 1);
  assert.match(
    text(stderr),
    /^error: cannot resume: .*checkpoint\.safetensors: .*HINT: train without --resume/,
  );
  assert.equal(text(stderr).trim().split("\n").length, 1, text(stderr));
});
