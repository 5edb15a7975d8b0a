/**
 * The networks: shapes, parameter counts, the hand-written backward passes against tfjs autodiff of
 * an independent formulation (tf.conv2d + tf.maxPool), wasm against cpu, and PyTorch's own outputs.
 */
import assert from "node:assert/strict";
// The umbrella package registers tfjs's gradients; only this test needs them (for the reference).
import * as tfRef from "@tensorflow/tfjs";
import * as tf from "@tensorflow/tfjs-core";
import { startBackend } from "../src/deno.ts";
import { decodeModel } from "../src/model/model_file.ts";
import {
  type Arch,
  ARCHITECTURES,
  backward,
  countParams,
  disposeBatch,
  forward,
  type HostParams,
  initParams,
  nllLoss,
  type Noise,
  NORMALIZATION,
  toBatch,
  toTensors,
} from "../src/model/model.ts";
import { createRng, type Rng } from "../src/model/random.ts";

const PARAM_SPECS = Object.fromEntries(
  Object.entries(ARCHITECTURES).map(([name, a]) => [name, a.params]),
) as Record<Arch, (typeof ARCHITECTURES)[Arch]["params"]>;

const N = 6;
const rng = createRng(7);
const images = Uint8Array.from(
  { length: N * 784 },
  (_, i) => (i % 7 === 0 ? 0 : Math.floor(rng.next() * 256)),
);
// Blank rows make ties in the max-pool windows, where PyTorch routes the gradient to the first max.
images.fill(0, 0, 28 * 10);
const labels = [3, 1, 4, 1, 5, 9];
const labels11 = [3, 10, 4, 1, 10, 9]; // with "not a digit" (10) for cnn2

/** The noise a training step draws dropout from: the seed's one stream, or one generator per image. */
function seedNoise(): Noise {
  const stream = createRng(3);
  return () => stream;
}
function sampleNoise(): Noise {
  const generators: Rng[] = [];
  return (i) => (generators[i] ??= createRng(100 + i));
}

interface Result {
  logits: Float32Array;
  loss: number;
  grads: Record<string, Float32Array>;
}

/** Our forward + backward on the active backend, dropout drawn from `noise`. */
function ours(arch: Arch, host: HostParams, noise: Noise): Result {
  const params = toTensors(arch, host);
  const batch = toBatch(images, N);
  const target = tf.tensor1d(arch === "cnn2" ? labels11 : labels, "int32");
  const { logits, loss, grads } = tf.tidy(() => {
    const { logits, cache } = forward(arch, params, batch, noise);
    const { loss, dlogits } = nllLoss(logits, target);
    return { logits, loss, grads: backward(arch, params, batch, cache, dlogits) };
  });
  const result = {
    logits: logits.dataSync() as Float32Array,
    loss: loss.dataSync()[0]!,
    grads: Object.fromEntries(
      Object.entries(grads).map(([k, g]) => [k, g.dataSync() as Float32Array]),
    ),
  };
  disposeBatch(batch);
  tf.dispose([
    logits,
    loss,
    target,
    ...Object.values(grads),
    ...Object.values(params),
  ]);
  return result;
}

/** The seed's Net written the obvious way (NHWC conv2d, maxPool), differentiated by tfjs autodiff. */
function reference(host: HostParams, mask: Float32Array): Result {
  const x = tfRef.tensor4d(
    Array.from(images, (b) => (b / 255 - NORMALIZATION.mean) / NORMALIZATION.std),
    [N, 28, 28, 1],
  );
  const names = PARAM_SPECS.cnn.map((s) => s.name);
  const vars = PARAM_SPECS.cnn.map((s) => tfRef.tensor(host[s.name]!, s.shape));
  const onehot = tfRef.oneHot(tfRef.tensor1d(labels, "int32"), 10);
  const net = (w: tfRef.Tensor, b: tfRef.Tensor, fw: tfRef.Tensor, fb: tfRef.Tensor) => {
    const filter = tfRef.transpose(w, [2, 3, 1, 0]) as tfRef.Tensor4D; // [C,1,3,3] → [3,3,1,C]
    const conv = tfRef.relu(tfRef.add(tfRef.conv2d(x, filter, 1, "valid"), b));
    const pooled = tfRef.maxPool(conv as tfRef.Tensor4D, 2, 2, "valid"); // [N,13,13,C]
    const dropped = tfRef.mul(pooled, tfRef.reshape(tfRef.tensor2d(mask, [N, 32]), [N, 1, 1, 32]));
    const flat = tfRef.reshape(tfRef.transpose(dropped, [0, 3, 1, 2]), [N, 5408]); // channel-first
    return tfRef.add(tfRef.matMul(flat, fw, false, true), fb);
  };
  const lossOf = (...p: tfRef.Tensor[]) =>
    tfRef.neg(
      tfRef.mean(
        tfRef.sum(tfRef.mul(tfRef.logSoftmax(net(p[0]!, p[1]!, p[2]!, p[3]!)), onehot), 1),
      ),
    );
  const { value, grads } = tfRef.valueAndGrads(lossOf)(vars);
  return {
    logits: net(vars[0]!, vars[1]!, vars[2]!, vars[3]!).dataSync() as Float32Array,
    loss: value.dataSync()[0]!,
    grads: Object.fromEntries(names.map((n, i) => [n, grads[i]!.dataSync() as Float32Array])),
  };
}

function assertClose(actual: Float32Array, expected: Float32Array, tol: number, what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / (1 + Math.abs(expected[i]!)));
  }
  assert.ok(worst <= tol, `${what}: max relative difference ${worst} > ${tol}`);
}

function assertSameResult(a: Result, b: Result, tol: number, label: string) {
  assertClose(a.logits, b.logits, tol, `${label} logits`);
  assertClose(Float32Array.of(a.loss), Float32Array.of(b.loss), tol, `${label} loss`);
  for (const name of Object.keys(b.grads)) {
    assertClose(a.grads[name]!, b.grads[name]!, tol, `${label} d${name}`);
  }
}

await startBackend("cpu");
const host = initParams("cnn", createRng(1));
/** Dropout masks [N, size] as layers.ts draws them: image by image, `size` numbers each. */
function masks(noise: Noise, sizes: number[]): Float32Array[] {
  return sizes.map((size) =>
    Float32Array.from({ length: N * size }, (_, k) => {
      const rng = noise(Math.floor(k / size));
      return rng.next() < 0.25 ? 0 : 1 / 0.75;
    })
  );
}
const mask = masks(seedNoise(), [32])[0]!;

/** cnn2 written the obvious way (NHWC conv2d "same", maxPool), differentiated by tfjs autodiff. */
function reference2(host: HostParams, [drop1]: Float32Array[]): Result {
  const x = tfRef.tensor4d(
    Array.from(images, (b) => (b / 255 - NORMALIZATION.mean) / NORMALIZATION.std),
    [N, 28, 28, 1],
  );
  const specs = PARAM_SPECS.cnn2;
  const vars = specs.map((s) => tfRef.tensor(host[s.name]!, s.shape));
  const onehot = tfRef.oneHot(tfRef.tensor1d(labels11, "int32"), 11);
  const net = (p: tfRef.Tensor[]) => {
    const conv = (x: tfRef.Tensor4D, w: tfRef.Tensor, b: tfRef.Tensor) =>
      tfRef.maxPool(
        tfRef.relu(
          tfRef.add(
            tfRef.conv2d(x, tfRef.transpose(w, [2, 3, 1, 0]) as tfRef.Tensor4D, 1, "same"),
            b,
          ),
        ) as tfRef.Tensor4D,
        2,
        2,
        "valid",
      );
    const p2 = conv(conv(x, p[0]!, p[1]!), p[2]!, p[3]!); // [N, 7, 7, 32]
    const flat = tfRef.mul(
      tfRef.reshape(tfRef.transpose(p2, [0, 3, 1, 2]), [N, 1568]),
      tfRef.tensor2d(drop1!, [N, 1568]),
    );
    const h = tfRef.relu(tfRef.add(tfRef.matMul(flat, p[4]!, false, true), p[5]!));
    return tfRef.add(tfRef.matMul(h, p[6]!, false, true), p[7]!);
  };
  const lossOf = (...p: tfRef.Tensor[]) =>
    tfRef.neg(tfRef.mean(tfRef.sum(tfRef.mul(tfRef.logSoftmax(net(p)), onehot), 1)));
  const { value, grads } = tfRef.valueAndGrads(lossOf)(vars);
  return {
    logits: net(vars).dataSync() as Float32Array,
    loss: value.dataSync()[0]!,
    grads: Object.fromEntries(specs.map((s, i) => [s.name, grads[i]!.dataSync() as Float32Array])),
  };
}

Deno.test("cnn2 forward and backward match tfjs autodiff of tf.conv2d + tf.maxPool (cpu and wasm)", async () => {
  const host2 = initParams("cnn2", createRng(4));
  const expected = reference2(host2, masks(sampleNoise(), [1568]));
  await startBackend("cpu");
  assertSameResult(ours("cnn2", host2, sampleNoise()), expected, 1e-4, "cnn2 cpu");
  await startBackend("wasm");
  assertSameResult(ours("cnn2", host2, sampleNoise()), expected, 1e-4, "cnn2 wasm");
});

Deno.test("the cnn has the seed's 54,410 parameters in PyTorch's shapes", () => {
  assert.equal(countParams("cnn"), 54_410);
  assert.deepEqual(PARAM_SPECS.cnn.map((s) => [s.name, s.shape]), [
    ["conv.weight", [32, 1, 3, 3]],
    ["conv.bias", [32]],
    ["fc.weight", [10, 5408]],
    ["fc.bias", [10]],
  ]);
  assert.equal(countParams("mlp"), 784 * 256 + 256 + 256 * 10 + 10);
});

Deno.test("initParams() draws PyTorch's default U(±1/√fan_in)", () => {
  const p = initParams("cnn", createRng(1));
  const bound = (name: string) => Math.max(...p[name]!.map(Math.abs));
  assert.ok(bound("conv.weight") <= 1 / 3 && bound("conv.weight") > 0.3);
  assert.ok(
    bound("fc.weight") <= 1 / Math.sqrt(5408) && bound("fc.weight") > 0.9 / Math.sqrt(5408),
  );
});

Deno.test("toBatch() normalises pixels as the seed's transforms.Normalize does", async () => {
  await startBackend("cpu");
  const batch = toBatch(Uint8Array.from({ length: 2 * 784 }, (_, i) => i % 256), 1, 1);
  const x = batch.x.dataSync();
  assert.deepEqual(batch.x.shape, [1, 784]);
  for (const i of [0, 1, 127, 255, 300]) {
    const byte = (784 + i) % 256;
    const expected = (byte / 255 - NORMALIZATION.mean) / NORMALIZATION.std;
    assert.ok(Math.abs(x[i]! - expected) < 1e-6, `pixel ${i}: ${x[i]} ≠ ${expected}`);
  }
  disposeBatch(batch);
});

Deno.test("cnn forward and backward match tfjs autodiff of tf.conv2d + tf.maxPool (cpu)", async () => {
  await startBackend("cpu");
  assertSameResult(ours("cnn", host, seedNoise()), reference(host, mask), 1e-4, "cpu");
});

Deno.test("cnn forward and backward on wasm match the cpu backend", async () => {
  await startBackend("cpu");
  const cpu = ours("cnn", host, seedNoise());
  await startBackend("wasm");
  assertSameResult(ours("cnn", host, seedNoise()), cpu, 1e-4, "wasm vs cpu");
});

Deno.test("mlp forward and backward on wasm match the cpu backend", async () => {
  const mlp = initParams("mlp", createRng(2));
  await startBackend("cpu");
  const cpu = ours("mlp", mlp, seedNoise());
  await startBackend("wasm");
  assertSameResult(ours("mlp", mlp, seedNoise()), cpu, 1e-4, "mlp wasm vs cpu");
});

Deno.test("a model saved by PyTorch from the seed's Net gives PyTorch's log-probabilities within 1e-4", async () => {
  const fixture = JSON.parse(
    await Deno.readTextFile(new URL("fixtures/torch_net_logits.json", import.meta.url)),
  ) as {
    images: number[][];
    log_probs: number[][];
  };
  const { arch, params } = decodeModel(
    await Deno.readFile(new URL("fixtures/torch_net.safetensors", import.meta.url)),
  );
  assert.equal(arch, "cnn");
  await startBackend("wasm");
  const tensors = toTensors(arch, params);
  const batch = toBatch(Uint8Array.from(fixture.images.flat()), fixture.images.length);
  const logp = tf.logSoftmax(forward(arch, tensors, batch).logits);
  assertClose(
    logp.dataSync() as Float32Array,
    Float32Array.from(fixture.log_probs.flat()),
    1e-4,
    "log-probs",
  );
  disposeBatch(batch);
  tf.dispose([logp, ...Object.values(tensors)]);
});
