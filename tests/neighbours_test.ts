/**
 * What the reader network trains on besides whole digits (src/data/neighbours.ts, through
 * src/data/batches.ts). Passing proves that a digit cut from a neighbour and a pair of digits depend
 * on (seed, epoch, id) alone, are in MNIST's format, that a cut digit keeps its own ink and little
 * of its neighbour's while a pair holds both, and that a training set without them gives the very
 * batches it gave before they existed.
 */
import assert from "node:assert/strict";
import { measureDigit as measure } from "../scripts/lib/digit_image.ts";
import { augmentBatch } from "../src/data/augment.ts";
import { batchBuffers, fillBatch, NOT_A_DIGIT, type TrainingSet } from "../src/data/batches.ts";
import type { Split } from "../src/data/mnist.ts";
import { isCutDigit, renderCutDigit, renderPair } from "../src/data/neighbours.ts";

/** `count` synthetic digits: even ids a bar 3 px wide, odd ids a ring 14 px wide, 20 px tall. */
function shapes(count: number): Split {
  const images = new Uint8Array(count * 784), labels = new Uint8Array(count);
  for (let id = 0; id < count; id++) {
    const bar = id % 2 === 0;
    labels[id] = bar ? 1 : 0;
    for (let y = 4; y < 24; y++) {
      for (let x = 7; x < 21; x++) {
        const ink = bar ? x >= 13 && x < 16 : x < 10 || x >= 18 || y < 7 || y >= 21;
        if (ink) images[id * 784 + y * 28 + x] = 255;
      }
    }
  }
  return { count, images, labels };
}

const digits = shapes(200);
const cut = (id: number, epoch = 1, seed = 7) => {
  const out = new Uint8Array(784);
  renderCutDigit(digits, { seed, epoch }, id, out);
  return out;
};
const pair = (index: number, epoch = 1, seed = 7) => {
  const out = new Uint8Array(784);
  renderPair(digits, { seed, epoch }, index, out);
  return out;
};

Deno.test("a cut digit and a pair depend on (seed, epoch, id) alone", () => {
  assert.deepEqual(cut(4), cut(4));
  assert.deepEqual(pair(9), pair(9));
  const differ = (a: Uint8Array, b: Uint8Array) => a.some((v, i) => v !== b[i]);
  const epochs = Array.from({ length: 20 }, (_, k) => cut(5, k + 1));
  assert.ok(epochs.filter((e) => differ(e, epochs[0]!)).length >= 15, "epochs draw anew");
  assert.ok(differ(pair(1), pair(2)) || differ(pair(1), pair(3)), "pairs differ by index");
});

Deno.test("both are MNIST-like: ink fitted to 20 px and centred by mass", () => {
  for (let k = 0; k < 100; k++) {
    for (const image of [cut(k), pair(k)]) {
      const { total, width, height, cx, cy } = measure(image);
      assert.ok(total > 0, `image ${k} has no ink`);
      assert.ok(
        Math.max(width, height) >= 19 && Math.max(width, height) <= 21,
        `${width}×${height}`,
      );
      assert.ok(Math.hypot(cx - 14, cy - 14) < 1, `image ${k}: mass at ${cx}, ${cy}`);
    }
  }
});

Deno.test("a cut digit keeps its own ink and at most a sliver of its neighbour's; a pair holds both", () => {
  // a bar fitted alone is 3 px wide; a bar beside a ring, both whole, 15 px or more
  const bars = Array.from({ length: 50 }, (_, k) => measure(cut(2 * k)).width);
  assert.ok(bars.every((w) => w <= 8), `cut bars' widths: ${bars}`);
  // a ring cut from a bar: most of the ring is kept, so the ink is still wider than a bar
  const rings = Array.from({ length: 50 }, (_, k) => measure(cut(2 * k + 1)).width);
  assert.ok(rings.every((w) => w >= 8), `cut rings' widths: ${rings}`);
  // no shape alone fits wider than 14 px (the ring): a pair wider holds two
  const pairs = Array.from({ length: 200 }, (_, k) => measure(pair(k)).width);
  const wide = pairs.filter((w) => w >= 15).length;
  assert.ok(wide >= 60, `${wide} of 200 pairs are 15 px wide or more`);
});

Deno.test("isCutDigit() picks about its share of the digits, none at 0", () => {
  const picked = Array.from({ length: 4000 }, (_, id) => isCutDigit(3, 2, id, 0.15));
  const share = picked.filter(Boolean).length / picked.length;
  assert.ok(Math.abs(share - 0.15) < 0.02, `share ${share}`);
  assert.ok(!Array.from({ length: 500 }, (_, id) => isCutDigit(3, 2, id, 0)).some(Boolean));
  assert.throws(() => isCutDigit(3, 2, 0, 1.5), /share must be in \[0, 1\]: got 1\.5/);
});

Deno.test("fillBatch(): cut digits keep their labels, pairs are 'not a digit', a set without them is as before", () => {
  const plain: TrainingSet = { digits, negatives: 40, augment: true };
  const reader: TrainingSet = { ...plain, negatives: 60, cutShare: 0.5, pairs: 20 };
  const stream = { seed: 11, epoch: 3 };
  const ids = Uint32Array.from({ length: 64 }, (_, i) => (i * 37) % 200);
  const a = batchBuffers(64), b = batchBuffers(64);
  fillBatch(plain, ids, stream, a);
  fillBatch(reader, ids, stream, b);
  assert.deepEqual(b.labels, a.labels);
  // a set without cut digits augments the training digits themselves, as it always did
  const direct = new Uint8Array(64 * 784);
  augmentBatch(digits.images, ids, direct, stream);
  assert.deepEqual(a.images, direct);
  let changed = 0;
  for (let i = 0; i < 64; i++) {
    const same = a.images.subarray(i * 784, (i + 1) * 784)
      .every((v, k) => v === b.images[i * 784 + k]);
    // a bar cut clean from its neighbour may come out as it went in; a digit not cut always does
    if (!isCutDigit(11, 3, ids[i]!, 0.5)) assert.ok(same, `digit ${ids[i]} changed`);
    if (!same) changed++;
  }
  assert.ok(changed > 16 && changed < 48, `${changed} of 64 cut`);
  // negatives 40 … 59 of the reader's set are pairs, labelled "not a digit"
  const negatives = Uint32Array.from({ length: 20 }, (_, k) => 200 + 40 + k);
  fillBatch(reader, negatives, stream, b);
  assert.ok(b.labels.subarray(0, 20).every((l) => l === NOT_A_DIGIT));
  assert.throws(
    () => fillBatch({ ...reader, pairs: 61 }, ids, stream, b),
    /pairs \(61\) must not exceed negatives \(60\)/,
  );
});
