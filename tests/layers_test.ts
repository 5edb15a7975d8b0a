/**
 * layers.wasm (general per-layer kernels) against tfjs' own ops, against the TypeScript the cpu
 * backend runs, and against a fresh build of its C source.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { LAYERS_WASM, startBackend } from "../src/deno.ts";
import { adamUpdate, im2col3x3, maxPool2x2, maxPool2x2Grad } from "../src/model/kernels/layers.ts";
import { createRng } from "../src/model/random.ts";
import { ADAM_DEFAULTS, adamConstants } from "../src/train/adam.ts";
import { buildLayers } from "../scripts/build_kernels.ts";

const SHAPE: [number, number, number, number] = [3, 6, 8, 8]; // N, H, W, C

/** A ReLU's output: non-negative, with zeros and exact ties in the pool windows. */
function activations(seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from(
    { length: SHAPE.reduce((a, b) => a * b, 1) },
    () => rng.next() < 0.3 ? 0 : Math.round(rng.next() * 8) / 4,
  );
}

interface Results {
  cols: Float32Array;
  pooled: Float32Array;
  argmax: Int32Array;
  grad: Float32Array;
  inference: Float32Array;
}

function run(values: Float32Array): Results {
  return tf.tidy(() => {
    const x = tf.tensor4d(values, SHAPE);
    const { out, argmax } = maxPool2x2(x, true);
    const dout = tf.tensor4d(
      Float32Array.from({ length: out.size }, (_, i) => (i % 7) - 3),
      out.shape,
    );
    return {
      cols: im2col3x3(x).dataSync() as Float32Array,
      pooled: out.dataSync() as Float32Array,
      argmax: argmax!.dataSync() as Int32Array,
      grad: maxPool2x2Grad(dout, out, argmax!, SHAPE).dataSync() as Float32Array,
      inference: maxPool2x2(x).out.dataSync() as Float32Array,
    };
  });
}

Deno.test("im2col3x3 times a filter is tfjs' conv2d with 'same' padding, and its last row is ones", async () => {
  await startBackend("wasm");
  const x = tf.tensor4d(activations(1), SHAPE);
  const rng = createRng(2);
  const filter = tf.tensor4d(Float32Array.from({ length: 9 * 8 * 4 }, () => rng.next() - 0.5), [
    3,
    3,
    8,
    4,
  ]);
  const cols = im2col3x3(x); // [9·C + 1, N·H·W]
  assert.deepEqual(cols.shape, [9 * 8 + 1, 3 * 6 * 8]);
  const ours = tf.matMul(tf.slice(cols, [0, 0], [72, 144]), tf.reshape(filter, [72, 4]), true);
  const theirs = tf.reshape(tf.conv2d(x, filter, 1, "same"), [-1, 4]);
  const diff = tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0]!;
  assert.ok(diff < 1e-5, `largest difference ${diff}`);
  assert.ok(tf.slice(cols, [72, 0], [1, 144]).dataSync().every((v) => v === 1));
  tf.dispose([x, filter, cols, ours, theirs]);
});

Deno.test("maxPool2x2 is tfjs' maxPool, and its gradient goes to the first maximum when positive", async () => {
  await startBackend("wasm");
  const values = activations(3);
  const r = run(values);
  const reference = tf.tidy(() =>
    tf.maxPool(tf.tensor4d(values, SHAPE), 2, 2, "valid").dataSync() as Float32Array
  );
  assert.deepEqual(r.pooled, reference);
  assert.deepEqual(r.inference, reference);
  for (let i = 0; i < r.pooled.length; i++) {
    assert.equal(values[r.argmax[i]!], r.pooled[i], `argmax ${i} points at its maximum`);
  }
  // each window's gradient sits at one place, and only where its maximum is positive
  const dout = Float32Array.from({ length: r.pooled.length }, (_, i) => (i % 7) - 3);
  let routed = 0;
  for (let i = 0; i < dout.length; i++) {
    const expected = r.pooled[i]! > 0 ? dout[i]! : 0;
    assert.equal(r.grad[r.argmax[i]!], expected);
    routed += expected !== 0 ? 1 : 0;
  }
  assert.equal(r.grad.filter((g) => g !== 0).length, routed);
});

Deno.test("layers.wasm and the cpu backend's TypeScript agree bit for bit", async () => {
  const values = activations(4);
  await startBackend("cpu");
  const cpu = run(values);
  await startBackend("wasm");
  assert.deepEqual(run(values), cpu);
});

/** Adam's update as the eleven tfjs operations adamUpdate replaces, in their order. */
function adamByOps(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, t: number) {
  const { beta1, beta2, eps } = ADAM_DEFAULTS, lr = 2e-3;
  return tf.tidy(() => {
    const m2 = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
    const v2 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
    const denom = tf.add(tf.sqrt(tf.div(v2, 1 - beta2 ** t)), eps);
    const p2 = tf.sub(p, tf.mul(tf.div(m2, denom), lr / (1 - beta1 ** t)));
    return [p2, m2, v2].map((x) => Array.from(x.dataSync()));
  });
}

Deno.test("adamUpdate gives the bits of the tfjs operations it replaces, on wasm and cpu", async () => {
  const rng = createRng(5);
  // 4·k + 3 values: the SIMD loop and the scalar tail; gradients of very different sizes
  const values = (scale: number) =>
    Float32Array.from({ length: 4 * 50 + 3 }, () => (rng.next() - 0.5) * scale);
  const [p, g, m] = [values(1), values(1e-3), values(1e-2)];
  const v = values(1e-4).map(Math.abs);
  for (const backend of ["wasm", "cpu"] as const) {
    await startBackend(backend);
    for (const t of [1, 2, 37]) {
      const inputs = [p, g, m, v].map((x) => tf.tensor1d(x));
      const [pi, gi, mi, vi] = inputs as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const ours = adamUpdate(pi, gi, mi, vi, adamConstants({ ...ADAM_DEFAULTS, lr: 2e-3 }, t));
      assert.deepEqual(ours.map((x) => Array.from(x.dataSync())), adamByOps(pi, gi, mi, vi, t));
      tf.dispose([...inputs, ...ours]);
    }
  }
});

Deno.test("maxPool2x2 refuses odd sides and channel counts that are not a multiple of 4", async () => {
  await startBackend("wasm");
  const odd = tf.zeros([1, 5, 4, 4]) as tf.Tensor4D,
    channels = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
  assert.throws(() => maxPool2x2(odd), RangeError);
  assert.throws(() => maxPool2x2(channels), RangeError);
  tf.dispose([odd, channels]);
});

Deno.test("a fresh build of layers.c is byte for byte the committed layers.wasm", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await buildLayers(`${dir}/layers.wasm`);
    assert.deepEqual(await Deno.readFile(`${dir}/layers.wasm`), await Deno.readFile(LAYERS_WASM));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
