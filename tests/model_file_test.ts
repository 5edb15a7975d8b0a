/** The model file: safetensors round trip, and a loader that refuses anything wrong with a fix. */
import assert from "node:assert/strict";
import { createRng } from "../src/model/random.ts";
import { ARCHITECTURES, countParams, initParams } from "../src/model/model.ts";
import {
  checkManifest,
  decodeModel,
  encodeModel,
  loadModel,
  type Manifest,
  ModelFileError,
} from "../src/model/model_file.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  fromHalf,
  toHalf,
} from "../src/model/safetensors.ts";

const modelsDir = new URL("../models/", import.meta.url);
const committed = {
  weights: await Deno.readFile(new URL("mnist-cnn.safetensors", modelsDir)),
  manifest: JSON.parse(await Deno.readTextFile(new URL("mnist-cnn.json", modelsDir))) as Manifest,
};

Deno.test("encodeModel() → decodeModel() round-trips every parameter bit for bit", () => {
  const params = initParams("cnn", createRng(5));
  const bytes = encodeModel("cnn", params);
  const back = decodeModel(bytes);
  assert.equal(back.arch, "cnn");
  for (const [name, data] of Object.entries(params)) {
    assert.deepEqual(new Uint8Array(back.params[name]!.buffer), new Uint8Array(data.buffer), name);
  }
});

Deno.test("the model file is safetensors with PyTorch's names, shapes and F32 data", () => {
  const bytes = encodeModel("cnn", initParams("cnn", createRng(5)));
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + headerLength) % 8, 0, "data is 8-byte aligned");
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  assert.deepEqual(header["conv.weight"], {
    dtype: "F32",
    shape: [32, 1, 3, 3],
    data_offsets: [0, 1152],
  });
  assert.deepEqual(header["fc.weight"].shape, [10, 5408]);
  assert.equal(header.__metadata__.format, "mnist-edge-model");
});

Deno.test("loadModel() accepts the committed model and its manifest", async () => {
  const { arch, manifest } = await loadModel(committed.weights, committed.manifest);
  assert.equal(arch, "cnn");
  assert.equal(manifest.architecture.parameters, 54_410);
});

Deno.test("loadModel() rejects weights whose sha256 differs from the manifest's", async () => {
  const tampered = committed.weights.slice();
  tampered[tampered.length - 1]! ^= 1;
  await assert.rejects(
    loadModel(tampered, committed.manifest),
    (e: unknown) =>
      e instanceof ModelFileError && /sha256 [0-9a-f]{64} does not match/.test(e.message) &&
      e.message.includes("deno task train"),
  );
});

Deno.test("checkManifest() rejects another format, version or normalisation", async () => {
  const bad = (patch: object) =>
    checkManifest({ ...committed.manifest, ...patch }, committed.weights);
  await assert.rejects(bad({ format: "other" }), /not an mnist-edge-model manifest/);
  await assert.rejects(bad({ version: 2 }), /format version 2; this code reads version 1/);
  await assert.rejects(
    bad({
      architecture: { ...committed.manifest.architecture, normalization: { mean: 0.5, std: 0.5 } },
    }),
    /normalisation differs/,
  );
});

const f32 = (shape: number[]) => ({
  shape,
  data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
});
const badFiles: [string, Uint8Array, RegExp][] = [
  ["a truncated file", committed.weights.subarray(0, 100_000), /truncated/],
  [
    "a wrong shape",
    encodeSafetensors({
      "conv.weight": f32([32, 3, 3, 1]),
      "conv.bias": f32([32]),
      "fc.weight": f32([10, 5408]),
      "fc.bias": f32([10]),
    }),
    /conv.weight has shape \[32,3,3,1\], expected \[32,1,3,3\]/,
  ],
  [
    "a missing tensor",
    encodeSafetensors({
      "conv.weight": f32([32, 1, 3, 3]),
      "fc.weight": f32([10, 5408]),
      "fc.bias": f32([10]),
    }),
    /not the seed's Net/,
  ],
  [
    "an extra tensor",
    encodeSafetensors({
      "conv.weight": f32([32, 1, 3, 3]),
      "conv.bias": f32([32]),
      "fc.weight": f32([10, 5408]),
      "fc.bias": f32([10]),
      extra: f32([1]),
    }),
    /unexpected tensors extra/,
  ],
  [
    "a header that is not JSON",
    Uint8Array.of(4, 0, 0, 0, 0, 0, 0, 0, 123, 123, 123, 123),
    /header is not valid JSON/,
  ],
  ["an empty file", new Uint8Array(), /too short/],
];
for (const [what, bytes, message] of badFiles) {
  Deno.test(`decodeModel() rejects ${what} and says how to fix it`, () => {
    assert.throws(
      () => decodeModel(bytes),
      (e: unknown) =>
        e instanceof ModelFileError && message.test(e.message) &&
        /HINT: re-run `deno task train`/.test(e.message),
    );
  });
}

Deno.test("decodeModel() rejects a dtype other than F32, F16 and I8", () => {
  const bytes = encodeModel("cnn", initParams("cnn", createRng(5)));
  const text = new TextDecoder().decode(bytes).replace('"dtype":"F32"', '"dtype":"I32"');
  assert.throws(
    () => decodeModel(new TextEncoder().encode(text)),
    /dtype "I32", expected F32, F16 or I8/,
  );
});

Deno.test("I8 weights: a byte per value and a scale per row, read back within half a step of each row", () => {
  const params = initParams("cnn2", createRng(8));
  const bytes = encodeModel("cnn2", params, "I8");
  const { tensors } = decodeSafetensors(bytes);
  assert.ok(
    !Object.keys(tensors).some((name) => name.endsWith(".scale")),
    "scales are not tensors",
  );
  assert.ok(bytes.length < 1.1 * countParams("cnn2") + 4096, `${bytes.length} bytes: ~1 per value`);
  const { params: read } = decodeModel(bytes);
  for (const spec of ARCHITECTURES.cnn2.params) {
    const values = params[spec.name]!, back = read[spec.name]!;
    if (spec.shape.length < 2) {
      assert.deepEqual(back, values, `${spec.name}: biases stay F32`);
      continue;
    }
    const cols = values.length / spec.shape[0]!;
    for (let r = 0; r < spec.shape[0]!; r++) {
      const row = values.subarray(r * cols, (r + 1) * cols);
      const step = row.reduce((m, v) => Math.max(m, Math.abs(v)), 0) / 127;
      row.forEach((v, c) => {
        const error = Math.abs(back[r * cols + c]! - v);
        assert.ok(
          error <= step / 2 + 1e-7 * Math.abs(v),
          `${spec.name}[${r}, ${c}]: off by ${error}`,
        );
      });
    }
  }
});

Deno.test("an I8 tensor without its scales, or with scales of the wrong shape, is refused", () => {
  const data = Float32Array.of(1, -127, 2, 254); // each row's step is a whole number: exact
  const bytes = encodeSafetensors({ w: { shape: [2, 2], data, dtype: "I8" } });
  assert.deepEqual(decodeSafetensors(bytes).tensors.w!.data, data);
  const edited = (from: string, to: string) => {
    assert.equal(from.length, to.length, "an edit in place keeps the header's length");
    const text = Array.from(bytes, (b) => String.fromCharCode(b)).join("").replace(from, to);
    return Uint8Array.from(text, (ch) => ch.charCodeAt(0));
  };
  const message = /w: an I8 tensor needs its scales, an F32 or F16 tensor w\.scale of shape \[2\]/;
  assert.throws(() => decodeSafetensors(edited('"w.scale"', '"w.scalf"')), message);
  assert.throws(
    () =>
      decodeSafetensors(
        edited('"w.scale":{"dtype":"F32","shape":[2]', '"w.scale":{"dtype":"F16","shape":[4]'),
      ),
    message,
  );
  // a scale of 0 (or NaN, or below 0) would silently zero (or poison) a row: refused
  for (const bits of [0, 0x7fc00000, 0xbf800000]) {
    const bad = bytes.slice();
    new DataView(bad.buffer).setUint32(bad.length - 8, bits, true);
    assert.throws(() => decodeSafetensors(bad), /w\.scale: every scale must be finite and above 0/);
  }
  // a scalar has no rows to scale
  const scalar = encodeSafetensors({ w: { shape: [1, 1], data: Float32Array.of(3), dtype: "I8" } });
  const text = Array.from(scalar, (b) => String.fromCharCode(b)).join("").replace("[1,1]", "[   ]");
  assert.throws(
    () => decodeSafetensors(Uint8Array.from(text, (ch) => ch.charCodeAt(0))),
    /w: an I8 tensor needs rows/,
  );
});

Deno.test("cnn2's weights are stored as I8 by default; as F16 they read back as the nearest halves", () => {
  const params = initParams("cnn2", createRng(6));
  assert.deepEqual(encodeModel("cnn2", params), encodeModel("cnn2", params, "I8"));
  const bytes = encodeModel("cnn2", params, "F16");
  const { arch, params: read } = decodeModel(bytes);
  assert.equal(arch, "cnn2");
  assert.ok(bytes.length < 2.05 * countParams("cnn2") + 2048, `${bytes.length} bytes: 2 per value`);
  for (const [name, values] of Object.entries(params)) {
    const back = read[name]!;
    values.forEach((v, i) => {
      // a half keeps 11 significant bits: within 2^-11 of the value (or of 2^-14, near zero)
      assert.ok(
        Math.abs(back[i]! - v) <= Math.max(Math.abs(v) * 2 ** -11, 2 ** -25),
        `${name}[${i}]`,
      );
    });
    assert.deepEqual(
      back,
      Float32Array.from(back, (b) => fromHalf(toHalf(b))),
      "halves round-trip",
    );
  }
});
