/**
 * The network: shapes, parameter count, the hand-written backward pass against tfjs autodiff of an
 * independent formulation (tf.conv2d + tf.maxPool), wasm against cpu, and PyTorch's own outputs.
 */
import assert from "node:assert/strict";
// The umbrella package registers tfjs's gradients; only this test needs them (for the reference).
import * as tfRef from "@tensorflow/tfjs";
import * as tf from "@tensorflow/tfjs-core";
import { startBackend } from "../src/deno.ts";
import { decodeModel } from "../src/model/model_file.ts";
import {
  type Arch,
  backward,
  countParams,
  disposeBatch,
  dropoutMask,
  forward,
  type HostParams,
  initParams,
  nllLoss,
  NORMALIZATION,
  PARAM_SPECS,
  toBatch,
  toTensors,
} from "../src/model/model.ts";
import { createRng } from "../src/model/random.ts";

const N = 6;
const rng = createRng(7);
const images = Uint8Array.from(
  { length: N * 784 },
  (_, i) => (i % 7 === 0 ? 0 : Math.floor(rng.next() * 256)),
);
// Blank rows make ties in the max-pool windows, where PyTorch routes the gradient to the first max.
images.fill(0, 0, 28 * 10);
const labels = [3, 1, 4, 1, 5, 9];

interface Result {
  logits: Float32Array;
  loss: number;
  grads: Record<string, Float32Array>;
}

/** Our forward + backward on the active backend, with a given dropout mask. */
function ours(arch: Arch, host: HostParams, mask: Float32Array): Result {
  const params = toTensors(arch, host);
  const batch = toBatch(images, N);
  const dropout = arch === "cnn" ? tf.tensor2d(mask, [N, 32]) : undefined;
  const target = tf.tensor1d(labels, "int32");
  const { logits, loss, grads } = tf.tidy(() => {
    const { logits, cache } = forward(arch, params, batch, dropout);
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
    ...(dropout ? [dropout] : []),
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
const mask = (() => {
  const m = dropoutMask(createRng(3), N);
  const data = m.dataSync() as Float32Array;
  m.dispose();
  return data;
})();

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
  assertSameResult(ours("cnn", host, mask), reference(host, mask), 1e-4, "cpu");
});

Deno.test("cnn forward and backward on wasm match the cpu backend", async () => {
  await startBackend("cpu");
  const cpu = ours("cnn", host, mask);
  await startBackend("wasm");
  assertSameResult(ours("cnn", host, mask), cpu, 1e-4, "wasm vs cpu");
});

Deno.test("mlp forward and backward on wasm match the cpu backend", async () => {
  const mlp = initParams("mlp", createRng(2));
  await startBackend("cpu");
  const cpu = ours("mlp", mlp, mask);
  await startBackend("wasm");
  assertSameResult(ours("mlp", mlp, mask), cpu, 1e-4, "mlp wasm vs cpu");
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
