/**
 * segmentNumber() and chooseReading() and the stages between them, on numbers composed in code from
 * MNIST test digits on a grey working map (dark ink on white), read with the seed's committed model.
 * Passing proves pieces of one digit are merged, touching digits split, specks ignored, lines read
 * top to bottom, hostile maps answered within a bound, and the path chooser does what its scores say.
 */
import assert from "node:assert/strict";
import { loadTestDigits } from "../scripts/lib/mnist_test_set.ts";
import { openLocalModels } from "../src/deno.ts";
import { findWriting, inkPolarity, subtractBackground } from "../src/image/_ink.ts";
import { findLines, MAX_COMPONENTS, MAX_LINES } from "../src/image/_lines.ts";
import { cutColumns, MAX_PIECES_PER_LINE } from "../src/image/_pieces.ts";
import {
  type LatticeEdge,
  type LineLattice,
  PATH_WEIGHTS,
  scorePath,
} from "../src/image/_lattice.ts";
import { ImageError } from "../src/image/errors.ts";
import { bestDigit } from "../src/model/classifier.ts";
import {
  chooseReading,
  MAX_CANDIDATES,
  type Segmentation,
  segmentNumber,
} from "../src/image/read.ts";
import type { FloatMap } from "../src/image/types.ts";

const { digits, labels } = await loadTestDigits();
// The path chooser's weights (PATH_WEIGHTS) were tuned with the reader (mnist-cnn2-read) on the
// dev set of written numbers; these cases hold it to the model /read uses.
const models = await openLocalModels();
const classifier = await models.classifier(models.readerModel);

/** The first test digit of each class. */
const sample = (digit: number, nth = 0) => {
  let seen = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === digit && seen++ === nth) return digits[i]!;
  }
  throw new Error(`no ${digit}`);
};

/** A white map. */
function paper(width: number, height: number): FloatMap {
  return { width, height, data: new Float32Array(width * height).fill(255) };
}

/** Draws a 28×28 MNIST digit scaled by `scale` (bilinear) with its top-left at (left, top): dark ink. */
function put(map: FloatMap, digit: Uint8Array, left: number, top: number, scale = 3): void {
  const side = Math.round(28 * scale);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const u = Math.min(27, (x + 0.5) / scale - 0.5), v = Math.min(27, (y + 0.5) / scale - 0.5);
      const u0 = Math.max(0, Math.floor(u)), v0 = Math.max(0, Math.floor(v));
      const u1 = Math.min(27, u0 + 1), v1 = Math.min(27, v0 + 1);
      const fu = Math.max(0, u - u0), fv = Math.max(0, v - v0);
      const ink = (1 - fu) * (1 - fv) * digit[v0 * 28 + u0]! +
        fu * (1 - fv) * digit[v0 * 28 + u1]! +
        (1 - fu) * fv * digit[v1 * 28 + u0]! + fu * fv * digit[v1 * 28 + u1]!;
      const tx = left + x, ty = top + y;
      if (tx < 0 || ty < 0 || tx >= map.width || ty >= map.height) continue;
      const i = ty * map.width + tx;
      map.data[i] = Math.min(map.data[i]!, 255 - ink);
    }
  }
}

/** Segments, scores every candidate in one batch, chooses: the text read, lines joined by "\n". */
function read(map: FloatMap): string {
  const segmentation = segmentNumber(map);
  const scores = classifier.score(
    segmentation.candidates.map((c) => new Uint8Array(c.pixels.buffer)),
  );
  return chooseReading(segmentation, scores).lines
    .map((line) => line.map((i) => bestDigit(scores[i]!.digits).digit).join(""))
    .join("\n");
}

Deno.test("segmentNumber() and chooseReading() read four digits written apart, left to right", () => {
  const map = paper(420, 130);
  [2, 0, 4, 7].forEach((d, k) => put(map, sample(d), 20 + k * 95, 20));
  assert.equal(read(map), "2047");
});

Deno.test("segmentNumber() gives every candidate a 28×28 image and a box on the map", () => {
  const map = paper(300, 120);
  [3, 8].forEach((d, k) => put(map, sample(d), 30 + k * 120, 15));
  const { candidates } = segmentNumber(map);
  assert.ok(candidates.length >= 2);
  for (const { box, pixels } of candidates) {
    assert.equal(pixels.length, 784);
    assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.width <= 300 && box.y + box.height <= 120);
  }
});

Deno.test("segmentNumber() refuses a blank map as no_ink", () => {
  assert.throws(
    () => segmentNumber(paper(200, 80)),
    (e) => e instanceof ImageError && e.code === "no_ink",
  );
});

Deno.test("a 5 whose top bar is drawn apart is read as one 5", () => {
  const five = sample(5).slice();
  const map = paper(200, 120);
  // The bar (rows 0–8 of the digit's grid) drawn 4 px higher than the rest: a gap between them.
  const bar = new Uint8Array(784), body = five.slice();
  for (let i = 0; i < 9 * 28; i++) [bar[i], body[i]] = [five[i]!, 0];
  put(map, body, 60, 20);
  put(map, bar, 60, 16);
  const writing = findWriting(subtractBackground(inkPolarity(map)));
  const groups = findLines(writing).flatMap((line) => line.groups);
  assert.equal(groups.length, 1, `the bar and the body make one group: ${JSON.stringify(groups)}`);
  assert.equal(read(map), "5");
});

Deno.test("two digits drawn touching are split and both read", () => {
  const map = paper(260, 120);
  put(map, sample(4), 40, 15);
  put(map, sample(7), 40 + 58, 15); // the 7's bar reaches into the 4
  const writing = findWriting(subtractBackground(inkPolarity(map)));
  const lines = findLines(writing);
  assert.equal(lines.length, 1);
  assert.equal(read(map), "47");
});

Deno.test("specks and paper texture around a number are not read", () => {
  const map = paper(420, 140);
  [6, 1, 9].forEach((d, k) => put(map, sample(d), 40 + k * 110, 25));
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < map.data.length; i++) map.data[i] = Math.max(0, map.data[i]! - next() * 30);
  for (let k = 0; k < 40; k++) {
    const x = Math.floor(next() * 418), y = Math.floor(next() * 138);
    map.data[y * 420 + x] = 0;
  }
  assert.equal(read(map), "619");
});

Deno.test("two lines are read top line first", () => {
  const map = paper(300, 260);
  [1, 2].forEach((d, k) => put(map, sample(d), 30 + k * 100, 20));
  [7, 4].forEach((d, k) => put(map, sample(d), 60 + k * 100, 150));
  assert.equal(read(map), "12\n74");
});

/** An edge reading pieces `from` … `to − 1` as candidate `candidate`: a digit's shape unless told. */
function edge(
  from: number,
  to: number,
  candidate: number,
  more: Partial<LatticeEdge> = {},
): LatticeEdge {
  return { from, to, candidate, cuts: 0, joins: 0, width: 0.5, height: 1, ...more };
}

/** What the model says of candidates read as the digit 1 with `digit` and not a digit with `not`. */
const odds = (...pairs: [digit: number, not: number][]) =>
  pairs.map(([digit, notDigit]) => ({ digit, notDigit }));

/**
 * Two pieces, as candidates 0 (piece 0), 1 (piece 1, cut off piece 0) and 2 (both), where candidate k
 * reads as the digit 1 with `ones[k]`, the rest of its digits share `rest[k]`, and "not a digit" is
 * what is left.
 */
function twoPieces(ones: number[], rest: number[]) {
  const segmentation: Segmentation = {
    candidates: [0, 1, 2].map(() => ({
      box: { x: 0, y: 0, width: 1, height: 1 },
      pixels: new Uint8ClampedArray(784),
    })),
    lines: [{
      pieces: 2,
      skippable: [false, false],
      edges: [edge(0, 1, 0), edge(0, 2, 2, { width: 0.8 }), edge(1, 2, 1, { cuts: 1 })],
    }],
  };
  const scores = ones.map((one, k) => ({
    digits: Float32Array.from({ length: 10 }, (_, d) => (d === 1 ? one : rest[k]! / 9)),
    notDigit: 1 - one - rest[k]!,
  }));
  return { segmentation, scores };
}

Deno.test("chooseReading() keeps a whole digit over two slivers unless the slivers are far surer", () => {
  const digitsOnly = (a: number, b: number, whole: number) =>
    twoPieces([a, b, whole], [1 - a, 1 - b, 1 - whole]);
  let { segmentation, scores } = digitsOnly(0.6, 0.6, 0.95);
  assert.deepEqual(chooseReading(segmentation, scores).lines, [[2]]);
  ({ segmentation, scores } = digitsOnly(0.99, 0.99, 0.1));
  assert.deepEqual(chooseReading(segmentation, scores).lines, [[0, 1]]);
  ({ segmentation, scores } = digitsOnly(0.5, 0.5, 0.5));
  assert.throws(() => chooseReading(segmentation, scores.slice(1)), RangeError);
});

Deno.test("chooseReading() weighs each candidate's chance of being no digit at all", () => {
  // The slivers' likeliest digit is as sure in both cases, but in the second the model gives the
  // rest to "not a digit": the whole (an unsure digit, but surely a digit) is read instead.
  let { segmentation, scores } = twoPieces([0.6, 0.6, 0.08], [0.4, 0.4, 0.92]);
  assert.deepEqual(chooseReading(segmentation, scores).lines, [[0, 1]]);
  ({ segmentation, scores } = twoPieces([0.6, 0.6, 0.08], [0, 0, 0.92]));
  assert.deepEqual(chooseReading(segmentation, scores).lines, [[2]]);
});

Deno.test("scorePath() may leave out a skippable mark but must cover the others", () => {
  const line: LineLattice = {
    pieces: 2,
    skippable: [true, false],
    edges: [edge(0, 1, 0), edge(1, 2, 1)],
  };
  assert.deepEqual(scorePath(line, odds([0.01, 0], [0.99, 0])), [1]);
  // leaving it out is weighed against reading it: a sure mark is read once leaving it costs more
  const sure = odds([0.99, 0], [0.99, 0]);
  assert.deepEqual(scorePath(line, sure, { ...PATH_WEIGHTS, skip: PATH_WEIGHTS.skip + 0.5 }), [
    0,
    1,
  ]);
  // a piece that may not be left out is read however unsure
  assert.deepEqual(scorePath({ ...line, skippable: [false, false] }, odds([0.01, 0], [0.99, 0])), [
    0,
    1,
  ]);
});

Deno.test("scorePath() charges a candidate far shorter or wider than its line's digits", () => {
  // Two pieces read as two digits (candidates 0, 1) or as one (2).
  const line = (split: Partial<LatticeEdge>, whole: Partial<LatticeEdge>): LineLattice => ({
    pieces: 2,
    skippable: [false, false],
    edges: [edge(0, 1, 0, split), edge(0, 2, 2, whole), edge(1, 2, 1, split)],
  });
  const digitShaped = { width: 0.5, height: 1 };
  // Sure slivers beat an unsure whole, unless they are a third of a digit tall.
  const sureSlivers = odds([0.99, 0], [0.99, 0], [0.3, 0]);
  assert.deepEqual(scorePath(line(digitShaped, digitShaped), sureSlivers), [0, 1]);
  assert.deepEqual(scorePath(line({ width: 0.3, height: 0.3 }, digitShaped), sureSlivers), [2]);
  // As sure of each: one digit, unless it is as wide as one and a half.
  const even = odds([0.9, 0], [0.9, 0], [0.9, 0]);
  assert.deepEqual(scorePath(line(digitShaped, { width: 0.9, height: 1 }), even), [2]);
  assert.deepEqual(scorePath(line(digitShaped, { width: 1.6, height: 1 }), even), [0, 1]);
});

Deno.test("cutColumns() cuts a wide blob at the thin joins between its digits", () => {
  const map = paper(300, 100);
  // Three filled blocks 60 wide joined by 2-px-high bridges: cuts fall in the bridges.
  for (let y = 10; y < 80; y++) {
    for (let x = 20; x < 240; x++) {
      const inBlock = (x - 20) % 80 < 60;
      if (inBlock || (y >= 40 && y < 42)) map.data[y * 300 + x] = 0;
    }
  }
  const writing = findWriting(subtractBackground(inkPolarity(map)));
  const [line] = findLines(writing);
  const group = line!.groups[0]!;
  const cuts = cutColumns(writing, group.labels, group.box, line!.digitHeight);
  for (const bridge of [80, 160]) {
    assert.ok(
      cuts.some((c) => c >= bridge && c < bridge + 20),
      `a cut in ${bridge}…${bridge + 20}: ${cuts}`,
    );
  }
});

Deno.test("10,000 specks are refused as no_ink, not read one by one", () => {
  const map = paper(512, 512);
  for (let y = 1; y < 511; y += 5) {
    for (let x = 1; x < 511; x += 5) map.data[y * 512 + x] = 0;
  }
  const flat = subtractBackground(inkPolarity(map));
  assert.throws(() => findWriting(flat), (e) => e instanceof ImageError && e.code === "no_ink");
  assert.throws(() => segmentNumber(map), (e) => e instanceof ImageError && e.code === "no_ink");
});

Deno.test("thousands of writing-sized marks: bounded lines, pieces and candidates", () => {
  const map = paper(512, 512);
  // 1,764 square rings 11 px across, 12 px apart: each as large as writing may be on this map.
  for (let cy = 6; cy < 506; cy += 12) {
    for (let cx = 6; cx < 506; cx += 12) {
      for (let y = -5; y <= 5; y++) {
        for (let x = -5; x <= 5; x++) {
          if (Math.max(Math.abs(x), Math.abs(y)) >= 4) map.data[(cy + y) * 512 + cx + x] = 0;
        }
      }
    }
  }
  put(map, sample(8), 200, 200, 4); // and one digit, so that the rest is not refused as dots
  const writing = findWriting(subtractBackground(inkPolarity(map)));
  const kept = writing.writing.reduce((n, w) => n + w, 0);
  assert.ok(kept >= 1_000, `${kept} writing components`);
  const lines = findLines(writing);
  assert.ok(lines.length <= MAX_LINES);
  const groups = lines.reduce((n, l) => n + l.groups.length, 0);
  assert.ok(groups <= MAX_COMPONENTS);
  const segmentation = segmentNumber(map);
  assert.ok(segmentation.candidates.length <= MAX_CANDIDATES);
  for (const line of segmentation.lines) assert.ok(line.pieces <= MAX_PIECES_PER_LINE);
});

Deno.test("a 1×N strip of ink is a bounded answer", () => {
  const map = paper(512, 1);
  for (let x = 10; x < 500; x++) map.data[x] = 0;
  let segmentation: Segmentation | undefined;
  try {
    segmentation = segmentNumber(map);
  } catch (error) {
    assert.ok(error instanceof ImageError, String(error));
    return;
  }
  assert.ok(segmentation.candidates.length <= MAX_CANDIDATES);
  assert.ok(segmentation.candidates.length >= 1);
});

Deno.test("a small digit alone on a large map is read, where one digit's map would call it a dot", () => {
  // A 7 about 18 px tall on a 512×384 map: under 4 % of the long side (20 px), over 2 %.
  const map = paper(512, 384);
  put(map, sample(7), 250, 180, 0.9);
  const flat = subtractBackground(inkPolarity(map));
  assert.throws(
    () => findWriting(flat),
    (e) => e instanceof ImageError && e.code === "no_ink" && /dot/.test(e.message),
  );
  assert.equal(read(map), "7");
});

Deno.test("a dot alone on a large map is still no_ink", () => {
  const map = paper(512, 384);
  for (let y = 190; y < 195; y++) for (let x = 250; x < 255; x++) map.data[y * 512 + x] = 0;
  assert.throws(() => segmentNumber(map), (e) => e instanceof ImageError && e.code === "no_ink");
});
