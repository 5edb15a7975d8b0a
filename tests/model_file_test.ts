/** The model file: safetensors round trip, and a loader that refuses anything wrong with a fix. */
import assert from "node:assert/strict";
import { createRng } from "../src/model/random.ts";
import { countParams, initParams } from "../src/model/model.ts";
import {
  checkManifest,
  decodeModel,
  encodeModel,
  loadModel,
  type Manifest,
  ModelFileError,
} from "../src/model/model_file.ts";
import { encodeSafetensors, fromHalf, toHalf } from "../src/model/safetensors.ts";

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

Deno.test("decodeModel() rejects a dtype other than F32 and F16", () => {
  const bytes = encodeModel("cnn", initParams("cnn", createRng(5)));
  const text = new TextDecoder().decode(bytes).replace('"dtype":"F32"', '"dtype":"I32"');
  assert.throws(
    () => decodeModel(new TextEncoder().encode(text)),
    /dtype "I32", expected F32 or F16/,
  );
});

Deno.test("cnn2's weights are stored as F16, read back as the nearest halves of what was saved", () => {
  const params = initParams("cnn2", createRng(6));
  const bytes = encodeModel("cnn2", params);
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
