/**
 * conv_pool.wasm (our WebAssembly SIMD kernel) against the TypeScript kernels the cpu backend runs,
 * as a guest in memory it does not own, and against a fresh build of its C source.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { CONV_POOL_WASM, startBackend } from "../src/deno.ts";
import { convPool, type ConvPoolExports, convPoolGrad } from "../src/model/kernels/conv_pool.ts";
import { convPoolBackward, convPoolForward } from "../src/model/kernels/conv_pool_cpu.ts";
import { NORMALIZATION } from "../src/model/model.ts";
import { createRng } from "../src/model/random.ts";
import { buildConvPool } from "../scripts/build_kernels.ts";

const C = 32, CP = 32 * 169;
const committed = await WebAssembly.compile(await Deno.readFile(CONV_POOL_WASM));

interface Inputs {
  images: Float32Array;
  weight: Float32Array;
  bias: Float32Array;
  dropout: Float32Array;
  dout: Float32Array;
}

/** MNIST-like inputs: blank borders and rows (ties in the pool windows), a few dropped channels. */
function inputs(n: number, seed: number): Inputs {
  const rng = createRng(seed);
  const images = new Float32Array(n * 784);
  for (let i = 0; i < images.length; i++) {
    const [y, x] = [Math.floor((i % 784) / 28), i % 28];
    const ink = y > 4 && y < 24 && x > 4 && x < 24 && y % 7 !== 0 && rng.next() < 0.5;
    const byte = ink ? Math.floor(rng.next() * 256) : 0;
    images[i] = (byte / 255 - NORMALIZATION.mean) / NORMALIZATION.std;
  }
  const uniform = (length: number, bound: number) =>
    Float32Array.from({ length }, () => (rng.next() * 2 - 1) * bound);
  return {
    images,
    weight: uniform(C * 9, 1 / 3),
    bias: uniform(C, 1 / 3),
    dropout: Float32Array.from({ length: n * C }, () => (rng.next() < 0.25 ? 0 : 4 / 3)),
    dout: uniform(n * CP, 1e-3),
  };
}

interface Outputs {
  out: Float32Array;
  argmax: Int32Array;
  inference: Float32Array;
  dweight: Float32Array;
  dbias: Float32Array;
}

/**
 * Runs a conv_pool module on memory of its own, filled with a canary byte and with every buffer
 * between gaps, after the first 256 KiB (where a C stack or data segment would land). Fails if the
 * module writes anywhere but the outputs and scratch of the call, or anything on instantiation.
 */
function runWasm(module: WebAssembly.Module, x: Inputs): Outputs {
  const n = x.images.length / 784;
  const memory = new WebAssembly.Memory({ initial: 16 + Math.ceil((n * CP * 16) / 65536) });
  const bytes = new Uint8Array(memory.buffer);
  bytes.fill(0xa5);
  const snapshot = bytes.slice();
  const k = new WebAssembly.Instance(module, { env: { memory } })
    .exports as unknown as ConvPoolExports;
  assertOnlyWrote(snapshot, bytes, [], "instantiation");

  let next = 256 * 1024;
  const region = (byteLength: number) => {
    const at = next;
    next += Math.ceil(byteLength / 64) * 64 + 64; // a canary gap after each buffer
    return { at, end: at + byteLength };
  };
  const place = (data: Float32Array) => {
    const r = region(data.byteLength);
    new Float32Array(memory.buffer, r.at, data.length).set(data);
    return r.at;
  };
  const [images, weight, bias, dropout, dout] = [x.images, x.weight, x.bias, x.dropout, x.dout].map(
    place,
  ) as [number, number, number, number, number];
  const out = region(n * CP * 4), argmax = region(n * CP * 4), inference = region(n * CP * 4);
  const dweight = region(C * 9 * 4), dbias = region(C * 4);
  const scratch = region(k.conv_pool_scratch_bytes());

  const call = (what: string, writes: { at: number; end: number }[], run: () => void) => {
    const before = bytes.slice();
    run();
    assertOnlyWrote(before, bytes, [...writes, scratch], what);
  };
  call("forward", [out, argmax], () => {
    k.conv_pool_forward(n, images, weight, bias, dropout, out.at, argmax.at, scratch.at);
  });
  call("inference", [inference], () => {
    k.conv_pool_forward(n, images, weight, bias, 0, inference.at, 0, scratch.at);
  });
  call("backward", [dweight, dbias], () => {
    k.conv_pool_backward(
      n,
      images,
      dout,
      out.at,
      argmax.at,
      dropout,
      dweight.at,
      dbias.at,
      scratch.at,
    );
  });
  const floats = (r: { at: number; end: number }) =>
    new Float32Array(memory.buffer.slice(r.at, r.end));
  return {
    out: floats(out),
    argmax: new Int32Array(memory.buffer.slice(argmax.at, argmax.end)),
    inference: floats(inference),
    dweight: floats(dweight),
    dbias: floats(dbias),
  };
}

function assertOnlyWrote(
  before: Uint8Array,
  after: Uint8Array,
  allowed: { at: number; end: number }[],
  what: string,
) {
  for (let i = 0; i < after.length; i++) {
    if (after[i] !== before[i] && !allowed.some((r) => i >= r.at && i < r.end)) {
      assert.fail(`${what} wrote byte ${i}, outside its outputs and scratch`);
    }
  }
}

function runTypeScript(x: Inputs): Outputs {
  const training = convPoolForward(x.images, x.weight, x.bias, x.dropout);
  const grads = convPoolBackward(x.images, x.dout, training.out, training.argmax, x.dropout);
  return {
    ...training,
    inference: convPoolForward(x.images, x.weight, x.bias).out,
    ...grads,
  };
}

function assertIdentical(actual: Outputs, expected: Outputs, label: string) {
  for (const key of ["out", "argmax", "inference", "dweight", "dbias"] as const) {
    const [a, e] = [actual[key], expected[key]];
    assert.equal(a.length, e.length, `${label}: ${key} length`);
    const at = a.findIndex((v, i) => !Object.is(v, e[i]));
    assert.equal(at, -1, `${label}: ${key}[${at}] is ${a[at]}, expected ${e[at]}`);
  }
}

Deno.test("conv_pool.wasm computes what the TypeScript kernels do, bit for bit", () => {
  for (const [n, seed] of [[1, 1], [5, 2], [64, 3]] as const) {
    const x = inputs(n, seed);
    const ts = runTypeScript(x);
    assertIdentical(runWasm(committed, x), ts, `batch of ${n}`);
    // and the cases are real ones: winners in every window position, closed ReLUs on kept
    // channels, dropped channels, gradients (tied windows: the test below)
    const q = new Set(Array.from(ts.argmax, (a) => (Math.floor(a / 26) % 2) * 2 + (a % 2)));
    assert.equal(q.size, 4, "winners in all four window positions");
    const kept = (i: number) => x.dropout[Math.floor(i / 169)]! > 0;
    assert.ok(ts.out.some((v, i) => v === 0 && kept(i)), "a closed ReLU");
    assert.ok(ts.out.some((v, i) => v > 0 && kept(i)) && x.dropout.includes(0));
    assert.ok(ts.dweight.every(Number.isFinite) && ts.dweight.some((v) => v !== 0));
  }
});

Deno.test("an empty batch gives empty outputs and zero gradients", () => {
  const empty = runWasm(committed, inputs(0, 7));
  assert.deepEqual([empty.out.length, empty.argmax.length, empty.inference.length], [0, 0, 0]);
  assert.ok(empty.dweight.every((v) => v === 0) && empty.dbias.every((v) => v === 0));
  assert.equal(empty.dweight.length, C * 9);
});

Deno.test("without a dropout mask the forward pass keeps every channel (inference)", () => {
  const x = inputs(3, 4);
  const kept = convPoolForward(x.images, x.weight, x.bias, new Float32Array(3 * C).fill(1));
  assert.deepEqual(runWasm(committed, x).inference, kept.out);
});

Deno.test("the max-pool's gradient goes to the first maximum of a tied window, as in PyTorch", () => {
  const x = inputs(1, 5);
  x.images.fill(0); // every conv output equals the bias: all four positions tie
  const { argmax } = convPoolForward(x.images, x.weight, x.bias, x.dropout);
  assert.deepEqual([...argmax.subarray(0, 3)], [0, 2, 4]); // (0,0), (0,2), (0,4): the windows' first
  assertIdentical(runWasm(committed, x), runTypeScript(x), "tied windows");
});

Deno.test("the kernels refuse tensors of another shape or type before touching memory", async () => {
  await startBackend("wasm");
  const [images, weight, bias] = [tf.zeros([2, 784]), tf.zeros([32, 9]), tf.zeros([32])];
  const dropout = tf.ones([3, 32]);
  assert.throws(
    () => convPool(images as tf.Tensor2D, weight, bias, dropout as tf.Tensor2D),
    /dropout must be float32 \[2,32\], got float32 \[3,32\]/,
  );
  assert.throws(() => convPool(images as tf.Tensor2D, tf.zeros([32, 1, 3, 3]), bias), /weight/);
  const flat = tf.zeros([2, 32 * 169]) as tf.Tensor2D;
  assert.throws(
    () => convPoolGrad(images as tf.Tensor2D, flat, flat, flat, dropout as tf.Tensor2D),
    /argmax must be int32/,
  );
  tf.dispose([images, weight, bias, dropout, flat]);
});

Deno.test("a fresh build of conv_pool.c computes exactly what the committed conv_pool.wasm does", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await buildConvPool(`${dir}/conv_pool.wasm`);
    const fresh = await WebAssembly.compile(await Deno.readFile(`${dir}/conv_pool.wasm`));
    const x = inputs(16, 6);
    assertIdentical(runWasm(fresh, x), runWasm(committed, x), "fresh build vs committed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
