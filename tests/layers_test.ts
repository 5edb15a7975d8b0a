/**
 * layers.wasm (general per-layer kernels) against tfjs' own ops, against the TypeScript the cpu
 * backend runs, and against a fresh build of its C source.
 */
import assert from "node:assert/strict";
import * as tfRef from "@tensorflow/tfjs"; // the gradients of tfjs' ops, for the references
import * as tf from "@tensorflow/tfjs-core";
import { CONV_POOL_WASM, LAYERS_WASM, startBackend } from "../src/deno.ts";
import {
  adamUpdate,
  conv3x3,
  conv3x3FilterGrad,
  conv3x3ReluPool,
  maxPool2x2Grad,
} from "../src/model/kernels/layers.ts";
import { createRng } from "../src/model/random.ts";
import { ADAM_DEFAULTS, adamConstants } from "../src/train/adam.ts";
import { buildLayers, mayUseStack } from "../scripts/build_kernels.ts";

const SHAPE: [number, number, number, number] = [3, 6, 8, 16]; // N, H, W, C

/** A ReLU's output: non-negative, with zeros and exact ties in the pool windows. */
function activations(seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from(
    { length: SHAPE.reduce((a, b) => a * b, 1) },
    () => rng.next() < 0.3 ? 0 : Math.round(rng.next() * 8) / 4,
  );
}

/** Uniform values in [−scale, scale), from `seed`. */
function uniform(seed: number, length: number, scale = 1): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length }, () => (rng.next() * 2 - 1) * scale);
}

/** Two layers' shapes: [N, H, W, C] and F, with one input channel (cnn2's first) and with 16. */
const CONVS: [[number, number, number, number], number][] = [[[2, 6, 8, 1], 16], [SHAPE, 32]];

/** The filter [3, 3, C, C] whose convolution is its input: with a zero bias, a conv block whose
 * input is a ReLU's output is max-pooling alone. */
function identity(c: number): tf.Tensor4D {
  const w = new Float32Array(9 * c * c);
  for (let ch = 0; ch < c; ch++) w[(4 * c + ch) * c + ch] = 1; // the centre tap
  return tf.tensor4d(w, [3, 3, c, c]);
}

interface Results {
  conv: Float32Array[];
  filterGrad: Float32Array[];
  block: (Float32Array | Int32Array)[];
  pooled: Float32Array;
  argmax: Int32Array;
  grad: Float32Array;
  inference: Float32Array;
}

function run(values: Float32Array): Results {
  return tf.tidy(() => {
    const x = tf.tensor4d(values, SHAPE), zero = tf.zeros([SHAPE[3]]);
    const { out, argmax } = conv3x3ReluPool(x, identity(SHAPE[3]), zero, true);
    const dout = tf.tensor4d(
      Float32Array.from({ length: out.size }, (_, i) => (i % 7) - 3),
      out.shape,
    );
    const conv: Float32Array[] = [],
      filterGrad: Float32Array[] = [],
      block: (Float32Array | Int32Array)[] = [];
    CONVS.forEach(([shape, f], i) => {
      const c = shape[3], size = shape.reduce((a, b) => a * b, 1);
      const input = tf.tensor4d(i ? values : uniform(6, size), shape);
      const filter = tf.tensor4d(uniform(7, 9 * c * f, 0.5), [3, 3, c, f]);
      const bias = tf.tensor1d(uniform(8, f, 0.1));
      conv.push(conv3x3(input, filter, { bias, relu: true }).dataSync() as Float32Array);
      conv.push(conv3x3(input, filter, { relu: false }).dataSync() as Float32Array);
      const pooled = conv3x3ReluPool(input, filter, bias, true);
      block.push(pooled.out.dataSync() as Float32Array, pooled.argmax!.dataSync() as Int32Array);
      const dy = tf.tensor4d(uniform(9, size / c * f), [...shape.slice(0, 3), f] as typeof shape);
      const grads = conv3x3FilterGrad(input, dy);
      filterGrad.push(grads.dw.dataSync() as Float32Array, grads.db.dataSync() as Float32Array);
    });
    return {
      conv,
      filterGrad,
      block,
      pooled: out.dataSync() as Float32Array,
      argmax: argmax!.dataSync() as Int32Array,
      grad: maxPool2x2Grad(dout, out, argmax!, SHAPE).dataSync() as Float32Array,
      inference: conv3x3ReluPool(x, identity(SHAPE[3]), zero).out.dataSync() as Float32Array,
    };
  });
}

Deno.test("conv3x3 is tfjs' conv2d with 'same' padding (with a bias and ReLU, and without)", async () => {
  await startBackend("wasm");
  for (const [shape, f] of CONVS) {
    const c = shape[3], size = shape.reduce((a, b) => a * b, 1);
    tf.tidy(() => {
      const x = tf.tensor4d(uniform(10, size), shape);
      const filter = tf.tensor4d(uniform(11, 9 * c * f, 0.5), [3, 3, c, f]);
      const bias = tf.tensor1d(uniform(12, f, 0.1));
      const pairs = [
        [conv3x3(x, filter, { relu: false }), tf.conv2d(x, filter, 1, "same")],
        [
          conv3x3(x, filter, { bias, relu: true }),
          tf.relu(tf.add(tf.conv2d(x, filter, 1, "same"), bias)) as tf.Tensor4D,
        ],
      ];
      for (const [ours, theirs] of pairs) {
        assert.deepEqual(ours!.shape, [...shape.slice(0, 3), f]);
        const diff = tf.max(tf.abs(tf.sub(ours!, theirs!))).dataSync()[0]!;
        assert.ok(diff < 1e-5, `${shape} → ${f}: largest difference ${diff}`);
      }
    });
  }
});

Deno.test("conv3x3FilterGrad is tfjs autodiff's gradient of conv2d's filter and bias", async () => {
  for (const [shape, f] of CONVS) {
    const c = shape[3], size = shape.reduce((a, b) => a * b, 1);
    const inputs = () => ({
      x: tf.tensor4d(uniform(13, size), shape),
      filter: tf.tensor4d(uniform(14, 9 * c * f, 0.5), [3, 3, c, f]),
      bias: tf.tensor1d(uniform(15, f, 0.1)),
      dy: tf.tensor4d(uniform(16, size / c * f), [...shape.slice(0, 3), f] as typeof shape),
    });
    // the gradient of Σ dy · (conv2d(x, filter) + bias) with respect to filter and bias, on the cpu
    // backend (the wasm one has no filter gradient of its own)
    await startBackend("cpu");
    const reference = tf.tidy(() => {
      const { x, filter, bias, dy } = inputs();
      return tfRef.grads((w: tf.Tensor, b: tf.Tensor) =>
        tfRef.sum(tfRef.mul(dy, tfRef.add(tfRef.conv2d(x, w as tf.Tensor4D, 1, "same"), b)))
      )([filter, bias]).map((t) => ({ shape: t.shape, values: t.dataSync() as Float32Array }));
    });
    await startBackend("wasm");
    tf.tidy(() => {
      const { x, dy } = inputs();
      const ours = conv3x3FilterGrad(x, dy);
      [ours.dw, ours.db].forEach((t, i) => {
        assert.deepEqual(t.shape, reference[i]!.shape);
        const values = t.dataSync();
        const diff = Math.max(...values.map((v, j) => Math.abs(v - reference[i]!.values[j]!)));
        assert.ok(diff < 1e-4, `${shape} → ${f}: largest difference ${diff}`);
      });
    });
  }
});

Deno.test("conv3x3 and its filter gradient refuse filters they do not cover", async () => {
  await startBackend("wasm");
  tf.tidy(() => {
    const x = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
    assert.throws(
      () => conv3x3(x, tf.zeros([3, 3, 2, 8]) as tf.Tensor4D, { relu: true }),
      RangeError,
    );
    assert.throws(
      () => conv3x3(x, tf.zeros([3, 3, 1, 16]) as tf.Tensor4D, { relu: true }),
      RangeError,
    );
    assert.throws(() => conv3x3FilterGrad(x, tf.zeros([1, 4, 4, 12]) as tf.Tensor4D), RangeError);
    assert.throws(() => conv3x3FilterGrad(x, tf.zeros([1, 4, 2, 16]) as tf.Tensor4D), RangeError);
  });
});

Deno.test("a conv block is tfjs' maxPool(relu(conv2d + bias)), each maximum's index that of the convolution's output", async () => {
  await startBackend("wasm");
  for (const [shape, f] of CONVS) {
    const c = shape[3], size = shape.reduce((a, b) => a * b, 1);
    tf.tidy(() => {
      const x = tf.tensor4d(uniform(17, size), shape);
      const filter = tf.tensor4d(uniform(18, 9 * c * f, 0.5), [3, 3, c, f]);
      const bias = tf.tensor1d(uniform(19, f, 0.1));
      const { out, argmax } = conv3x3ReluPool(x, filter, bias, true);
      const theirs = tf.maxPool(
        tf.relu(tf.add(tf.conv2d(x, filter, 1, "same"), bias)) as tf.Tensor4D,
        2,
        2,
        "valid",
      );
      assert.deepEqual(out.shape, theirs.shape);
      const diff = tf.max(tf.abs(tf.sub(out, theirs))).dataSync()[0]!;
      assert.ok(diff < 1e-5, `${shape} → ${f}: largest difference ${diff}`);
      // the same values, bit for bit, as the convolution alone at the places argmax names
      const conv = conv3x3(x, filter, { bias, relu: true }).dataSync();
      const pooled = out.dataSync(), where = argmax!.dataSync();
      pooled.forEach((v, i) => assert.equal(conv[where[i]!], v));
      assert.deepEqual(conv3x3ReluPool(x, filter, bias).out.dataSync(), pooled);
    });
  }
});

Deno.test("with the identity filter a conv block is tfjs' maxPool; its gradient goes to the first maximum when positive", async () => {
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

Deno.test("a conv block and the pooling's gradient refuse odd sides and mismatched shapes", async () => {
  await startBackend("wasm");
  tf.tidy(() => {
    const filter = tf.zeros([3, 3, 4, 16]) as tf.Tensor4D, bias = tf.zeros([16]);
    assert.throws(
      () => conv3x3ReluPool(tf.zeros([1, 5, 4, 4]) as tf.Tensor4D, filter, bias),
      RangeError,
    );
    assert.throws(
      () => conv3x3ReluPool(tf.zeros([1, 4, 4, 3]) as tf.Tensor4D, filter, bias),
      RangeError,
    );
    const { out, argmax } = conv3x3ReluPool(
      tf.zeros([1, 4, 4, 4]) as tf.Tensor4D,
      filter,
      bias,
      true,
    );
    assert.throws(() => maxPool2x2Grad(out, out, argmax!, [1, 4, 6, 16]), RangeError);
    assert.throws(() => maxPool2x2Grad(out, out, argmax!, [1, 4, 4, 12]), RangeError);
  });
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

Deno.test("neither kernel module uses a stack, which would be in tfjs' memory", async () => {
  for (const file of [LAYERS_WASM, CONV_POOL_WASM]) {
    assert.equal(mayUseStack(await Deno.readFile(file)), false, file.pathname);
  }
  // a module whose one function is `global.get 0; drop`, its index written in one byte as here or
  // padded to five as wasm-ld writes it: the check sees both
  const module = (index: number[]) =>
    Uint8Array.of(
      ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // magic, version
      ...[0x01, 0x04, 0x01, 0x60, 0x00, 0x00], // type section: () → ()
      ...[0x03, 0x02, 0x01, 0x00], // function section: one of that type
      ...[0x06, 0x06, 0x01, 0x7f, 0x01, 0x41, 0x00, 0x0b], // global section: mut i32 = 0
      ...[0x0a, 6 + index.length, 0x01, 4 + index.length, 0x00, 0x23, ...index, 0x1a, 0x0b], // code
    );
  for (const index of [[0x00], [0x80, 0x80, 0x80, 0x80, 0x00]]) {
    const reads = module(index);
    await WebAssembly.compile(reads); // a valid module
    assert.equal(mayUseStack(reads), true, `index ${index}`);
  }
});
