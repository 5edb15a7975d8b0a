/**
 * toMnistDigit() on synthetic drawings and photos, each turned into the decoder's grey working map by
 * greyMap() (luma over white; over black for fromMnistGrayscale). Passing proves the output matches
 * MNIST's conventions (light ink on 0, long side ≈ 20 px, centre of mass at (14, 14)) whatever the
 * polarity, transparency, lighting or position of the input, and that blank images are refused.
 */
import assert from "node:assert/strict";
import {
  fromMnistGrayscale,
  isLargeAndClear,
  toMnist,
  toMnistDigit,
} from "../src/image/preprocess.ts";
import { greyMap } from "../src/image/_grey.ts";
import { findWriting, inkPolarity, isolateInk } from "../src/image/_ink.ts";
import { inkBox } from "../src/image/_resample.ts";
import { ImageError } from "../src/image/errors.ts";
import { startLocalClassifier } from "../src/deno.ts";
import type { FloatMap, RgbaImage } from "../src/image/types.ts";

type Rgba = [number, number, number, number];

/** An image filled with `background`, then `ink` wherever `shape(x, y)` holds. */
function draw(
  width: number,
  height: number,
  background: (x: number, y: number) => Rgba,
  ink: Rgba,
  shape: (x: number, y: number) => boolean,
): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data.set(shape(x, y) ? ink : background(x, y), (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

const WHITE: Rgba = [255, 255, 255, 255];
const BLACK: Rgba = [0, 0, 0, 255];
const TRANSPARENT: Rgba = [0, 0, 0, 0];

/** A thick "1": a vertical bar 30 px wide, 150 tall, with its top-left corner at (left, top). */
const one = (left: number, top: number) => (x: number, y: number) =>
  x >= left && x < left + 30 && y >= top && y < top + 150;

/** A ring of radius 60, 16 px thick, centred on (cx, cy). */
const ring = (cx: number, cy: number, r = 60, thickness = 16) => (x: number, y: number) =>
  Math.abs(Math.hypot(x - cx, y - cy) - r) < thickness / 2;

interface Stats {
  centre: { x: number; y: number };
  box: { width: number; height: number };
  max: number;
  corner: number;
}

/** Centre of mass in pixel-edge coordinates (pixel i spans [i, i+1)), ink bounding box, peak. */
function stats(digit: Uint8ClampedArray): Stats {
  assert.equal(digit.length, 784);
  let total = 0, sx = 0, sy = 0, max = 0;
  let x0 = 28, y0 = 28, x1 = -1, y1 = -1;
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const v = digit[y * 28 + x] ?? 0;
      total += v;
      sx += v * (x + 0.5);
      sy += v * (y + 0.5);
      max = Math.max(max, v);
      if (v > 0) {
        [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
      }
    }
  }
  return {
    centre: { x: sx / total, y: sy / total },
    box: { width: x1 - x0 + 1, height: y1 - y0 + 1 },
    max,
    corner: digit[0] ?? -1,
  };
}

function assertMnistLike(digit: Uint8ClampedArray, longSide: "width" | "height"): Stats {
  const s = stats(digit);
  assert.ok(
    Math.abs(s.centre.x - 14) <= 1 && Math.abs(s.centre.y - 14) <= 1,
    `centre ${JSON.stringify(s.centre)}`,
  );
  assert.ok(s.box.width <= 20 && s.box.height <= 20, `fits 20×20: ${JSON.stringify(s.box)}`);
  assert.ok(s.box[longSide] >= 19, `long side ≈ 20: ${JSON.stringify(s.box)}`);
  assert.equal(s.max, 255, "ink reaches 255");
  assert.equal(s.corner, 0, "background is 0");
  return s;
}

/** The working map the decoder hands over for this picture: luma over white paper. */
const overWhite = (image: RgbaImage): FloatMap => greyMap(image, 255);
/** The working map for `?preprocess=none`: transparency over MNIST's black. */
const overBlack = (image: RgbaImage): FloatMap => greyMap(image, 0);

function assertNoInk(image: RgbaImage): void {
  assert.throws(
    () => toMnistDigit(overWhite(image)),
    (e: unknown) => e instanceof ImageError && e.code === "no_ink",
  );
}

Deno.test("toMnistDigit() centres an off-centre black-on-white 1 by mass and fits it in 20×20", () => {
  const digit = toMnistDigit(overWhite(draw(280, 280, () => WHITE, BLACK, one(20, 110))));
  const s = assertMnistLike(digit, "height");
  assert.ok(s.box.width >= 3 && s.box.width <= 6, `keeps the aspect ratio: ${s.box.width} wide`);
});

Deno.test("toMnistDigit() turns an off-centre ring into a centred ring with a hollow middle", () => {
  const digit = toMnistDigit(overWhite(draw(280, 280, () => WHITE, BLACK, ring(190, 90))));
  assertMnistLike(digit, "width");
  assert.equal(digit[14 * 28 + 14], 0, "the hole stays background");
});

Deno.test("toMnistDigit() reads dark ink on a transparent canvas export as ink on white", () => {
  const digit = toMnistDigit(overWhite(draw(280, 280, () => TRANSPARENT, BLACK, ring(140, 140))));
  assertMnistLike(digit, "width");
});

Deno.test("toMnistDigit() keeps light ink on a dark background as it is", () => {
  const dark = toMnistDigit(overWhite(draw(280, 280, () => BLACK, WHITE, one(200, 20))));
  const light = toMnistDigit(overWhite(draw(280, 280, () => WHITE, BLACK, one(200, 20))));
  assertMnistLike(dark, "height");
  assert.deepEqual(Array.from(dark), Array.from(light), "both polarities give the same digit");
});

Deno.test("toMnistDigit() anti-aliases by area averaging: edges come out grey, not jagged", () => {
  const digit = toMnistDigit(
    overWhite(draw(280, 280, () => WHITE, BLACK, ring(140, 140, 100, 25))),
  );
  const greys = Array.from(digit).filter((v) => v > 0 && v < 255).length;
  assert.ok(greys >= 10, `${greys} grey edge pixels`);
});

Deno.test("toMnistDigit() turns a photo of a thin pen digit on unevenly lit paper into an MNIST digit", () => {
  // 640×480 off-white paper, darker to the right and bottom, with noise; a 7 drawn 4 px thin,
  // off-centre in the upper left; plus a few dust specks.
  const random = mulberry32(7);
  const paper = (x: number, y: number): Rgba => {
    const level = 235 - 60 * (x / 640) - 30 * (y / 480) + (random() - 0.5) * 16;
    return [level, level - 4, level - 12, 255];
  };
  const seven = (x: number, y: number) =>
    (y >= 80 && y < 84 && x >= 120 && x < 220) || // top bar
    (distanceToSegment(x, y, 218, 82, 150, 260) < 2.2) ||
    Math.hypot(x - 500, y - 400) < 1.5 || Math.hypot(x - 40, y - 430) < 1.2; // dust
  const digit = toMnistDigit(overWhite(draw(640, 480, paper, [60, 55, 70, 255], seven)));
  const s = assertMnistLike(digit, "height");
  const inked = Array.from(digit).filter((v) => v > 128).length;
  assert.ok(inked >= 25, `strokes are widened to MNIST thickness: ${inked} solid pixels`);
  assert.ok(s.box.width >= 8, `the 7 keeps its width: ${s.box.width}`);
});

Deno.test("toMnistDigit() ignores a strip of desk along the frame and the edge of a shadow", () => {
  // 800×600 paper; a dark desk strip along the bottom; a shadow darkens the top-left with a soft
  // diagonal edge that runs close to the digit; a thick "1" stands just above the desk.
  const paper = (x: number, y: number): Rgba => {
    if (y >= 570) return [70, 60, 50, 255];
    const across = (x + y - 700) / 40; // < 0 in shadow, > 0 in light, soft over ±40 px
    const light = 0.8 + 0.2 * Math.min(1, Math.max(0, (across + 1) / 2));
    const v = Math.round(235 * light);
    return [v, v, v - 6, 255];
  };
  const digit = toMnistDigit(overWhite(draw(800, 600, paper, [25, 25, 60, 255], one(430, 405))));
  const s = assertMnistLike(digit, "height");
  assert.ok(s.box.width <= 8, `only the narrow 1 is left: ${JSON.stringify(s.box)}`);
});

Deno.test("toMnistDigit() reads a small grey digit beside a shadow's corner, not the shadow's edge", () => {
  // 960×720 paper; a shadow over the top-left corner whose edge, 12 px soft, passes near a small
  // grey "0". What the background leaves of that edge outweighs the digit in area, at half size too.
  const paper = (x: number, y: number): Rgba => {
    const across = (x + 1.3 * y - 300) / 12; // < 0 in shadow, > 0 in light
    const v = Math.round(225 * (0.72 + 0.28 * Math.min(1, Math.max(0, (across + 1) / 2))));
    return [v, v, v - 6, 255];
  };
  const zero = (x: number, y: number) => Math.abs(Math.hypot((x - 330) * 1.4, y - 300) - 40) < 7;
  const digit = toMnistDigit(overWhite(draw(960, 720, paper, [80, 80, 80, 255], zero)));
  const s = assertMnistLike(digit, "height");
  assert.ok(s.box.width <= 16, `only the narrow 0 is left: ${JSON.stringify(s.box)}`);
  assert.ok(digit[14 * 28 + 14]! < 64, "with its hollow middle");
});

/** The thick "1" at (60, 40) on a white 280×280 canvas, with `grey` ink wherever `shape` holds beside it. */
function stemWith(shape: (x: number, y: number) => boolean, grey: number): RgbaImage {
  const stem = one(60, 40);
  const image = draw(280, 280, () => WHITE, BLACK, stem);
  for (let y = 0; y < 280; y++) {
    for (let x = 0; x < 280; x++) {
      if (shape(x, y) && !stem(x, y)) image.data.set([grey, grey, grey, 255], (y * 280 + x) * 4);
    }
  }
  return image;
}

Deno.test("toMnistDigit() keeps a calligraphic digit's hairlines: faint strokes joined to solid ink", () => {
  // A "b"-like digit: a thick black stem and a hairline bowl in mid-grey, 3 px wide on a 280 px
  // canvas, under half a pixel in the 112 px working map: fainter there than Otsu's threshold.
  const image = stemWith(ring(135, 170, 50, 3), 120);
  const s = assertMnistLike(toMnistDigit(overWhite(image)), "height");
  assert.ok(s.box.width >= 14, `the bowl is kept beside the stem: ${JSON.stringify(s.box)}`);
});

Deno.test("toMnistDigit() does not draw a faint wash joined to the digit as ink", () => {
  // A pale grey smudge far larger than the stem, touching it: not a stroke.
  const smudge = (x: number, y: number) => x >= 90 && x < 230 && y >= 60 && y < 200;
  const s = assertMnistLike(toMnistDigit(overWhite(stemWith(smudge, 200))), "height");
  assert.ok(s.box.width <= 8, `only the stem is left: ${JSON.stringify(s.box)}`);
});

Deno.test("toMnistDigit() does not trace a faint line that runs from the digit to the frame", () => {
  // The same stem, and a faint grey line from it to the right edge: a shadow's edge, not writing.
  const line = (x: number, y: number) => x >= 90 && y >= 150 && y < 153;
  const s = assertMnistLike(toMnistDigit(overWhite(stemWith(line, 190))), "height");
  assert.ok(s.box.width <= 8, `only the stem is left: ${JSON.stringify(s.box)}`);
});

Deno.test("isLargeAndClear(): half-size writing stands for the digit only when large and clear of the frame", () => {
  // Ink maps as the half-size search sees them: 0 paper, 200 ink (or `ink`); bars of `length` from
  // (x, y) down.
  const writing = (bars: { x: number; y: number; length: number; ink?: number }[]) => {
    const side = 56, data = new Float32Array(side * side);
    for (const { x, y, length, ink = 200 } of bars) {
      for (let dy = 0; dy < length; dy++) {
        data.fill(ink, (y + dy) * side + x, (y + dy) * side + x + 4);
      }
    }
    return findWriting({ width: side, height: side, data });
  };
  assert.equal(
    isLargeAndClear(writing([{ x: 20, y: 8, length: 40 }])),
    true,
    "a long stroke inside",
  );
  assert.equal(isLargeAndClear(writing([{ x: 20, y: 14, length: 24 }])), false, "too short");
  assert.equal(
    isLargeAndClear(writing([{ x: 20, y: 8, length: 40 }, { x: 25, y: 0, length: 20 }])),
    false,
    "a mark on the frame beside it (a shadow's edge, a strip of desk)",
  );
  assert.equal(
    isLargeAndClear(writing([{ x: 8, y: 8, length: 40, ink: 120 }, { x: 30, y: 20, length: 6 }])),
    false,
    "a long faint band (what a shadow's edge leaves) beside a small strong digit",
  );
});

Deno.test("toMnistDigit() refuses a blank canvas as no_ink", () => {
  assertNoInk(draw(280, 280, () => WHITE, BLACK, () => false));
  assertNoInk(draw(280, 280, () => TRANSPARENT, BLACK, () => false));
});

Deno.test("toMnistDigit() refuses blank paper with noise and a few specks as no_ink", () => {
  const random = mulberry32(3);
  const noisy = (): Rgba => {
    const v = 220 + (random() - 0.5) * 30;
    return [v, v, v, 255];
  };
  const specks = (x: number, y: number) =>
    Math.hypot(x - 50, y - 60) < 1.5 || Math.hypot(x - 300, y - 200) < 1 || (x === 500 && y === 10);
  assertNoInk(draw(640, 480, noisy, BLACK, specks));
});

Deno.test("toMnistDigit() passes an MNIST-like 28×28 digit through with its centre in place", () => {
  const mnist = draw(28, 28, () => BLACK, WHITE, (x, y) => x >= 12 && x < 16 && y >= 4 && y < 24);
  assertMnistLike(toMnistDigit(overWhite(mnist)), "height");
});

Deno.test("greyMap() reads a 640×480 photo's bytes once; toMnistDigit() then works on ≤ 112 px a side", () => {
  const image = draw(640, 480, () => WHITE, BLACK, ring(300, 200, 120, 10));
  // Every read of the upload's pixels is counted: the cost that grows with the upload.
  let reads = 0;
  const counted = new Proxy(image.data, {
    get(target, key) {
      if (typeof key === "string" && /^\d+$/.test(key)) reads++;
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const map = greyMap({ ...image, data: counted }, 255);
  assert.deepEqual(map, overWhite(image), "counting changes nothing");
  assert.ok(reads <= image.data.length, `${reads} reads of ${image.data.length} bytes`);
  assert.ok(reads >= 640 * 480, `every pixel is looked at: ${reads} reads`);
  assert.deepEqual([map.width, map.height], [107, 80], "box-averaged by 6");
  assertMnistLike(toMnistDigit(map), "width");
  // Everything after the luma step runs on the working map, whatever the upload's size.
  for (const [width, height] of [[640, 480], [2048, 2048], [4000, 3]] as const) {
    const grey = overWhite(draw(width, height, () => WHITE, BLACK, () => false));
    assert.ok(
      grey.width <= 112 && grey.height <= 112,
      `${width}×${height} → ${grey.width}×${grey.height}`,
    );
  }
});

Deno.test("fromMnistGrayscale() returns a 28×28 image's luma bytes unchanged", () => {
  const image = draw(28, 28, () => BLACK, [200, 200, 200, 255], (x, y) => x === 3 && y === 5);
  const out = fromMnistGrayscale(overBlack(image));
  assert.equal(out.length, 784);
  assert.equal(out[5 * 28 + 3], 200);
  assert.equal(out.reduce((sum, v) => sum + v, 0), 200);
});

Deno.test("fromMnistGrayscale() composites transparency over black, MNIST's background", () => {
  const image = draw(28, 28, () => [255, 255, 255, 0], [255, 255, 255, 128], (x) => x === 0);
  const out = fromMnistGrayscale(overBlack(image));
  assert.equal(out[1], 0);
  assert.equal(out[0], 128);
});

Deno.test("fromMnistGrayscale() refuses other sizes, saying which size is required", () => {
  const refusedFor28 = (e: unknown) =>
    e instanceof ImageError && e.code === "invalid_image" && /28×28/.test(e.message);
  assert.throws(
    () => fromMnistGrayscale(overBlack(draw(280, 280, () => WHITE, BLACK, () => false))),
    refusedFor28,
  );
  // A 56×56 upload shrinks to a 28×28 map (box 1 keeps it, but the upload was not MNIST's size).
  const grid = overBlack(draw(28, 28, () => BLACK, WHITE, () => false));
  assert.throws(() => fromMnistGrayscale(grid, { width: 56, height: 56 }), refusedFor28);
});

function distanceToSegment(x: number, y: number, ax: number, ay: number, bx: number, by: number) {
  const t = Math.max(
    0,
    Math.min(1, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)),
  );
  return Math.hypot(x - (ax + t * (bx - ax)), y - (ay + t * (by - ay)));
}

/** A small seeded PRNG so the noisy images are the same on every run. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("toMnistDigit() puts re-rendered MNIST digits back where MNIST centred them", async () => {
  const { loadDataset } = await import("../src/data/mnist.ts");
  const { test } = await loadDataset();
  const side = 280, scale = side / 28;
  let drift = 0;
  const n = 200;
  for (let i = 0; i < n; i++) {
    const digit = test.images.subarray(i * 784, (i + 1) * 784);
    // black ink on white paper, scaled up 10× bilinearly, as a scan of the digit would be
    const data = new Uint8ClampedArray(side * side * 4);
    const at = (x: number, y: number) =>
      digit[Math.min(27, Math.max(0, y)) * 28 + Math.min(27, Math.max(0, x))]!;
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const sx = (x + 0.5) / scale - 0.5, sy = (y + 0.5) / scale - 0.5;
        const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
        const ink = (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) +
          (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
        data.fill(255 - ink, (y * side + x) * 4, (y * side + x) * 4 + 3);
        data[(y * side + x) * 4 + 3] = 255;
      }
    }
    const before = centre(digit),
      after = centre(toMnistDigit(overWhite({ width: side, height: side, data })));
    drift += Math.hypot(after.x - before.x, after.y - before.y) / n;
  }
  assert.ok(drift < 0.5, `mean centre-of-mass drift ${drift.toFixed(2)} px`);
});

/** Centre of mass of a 28×28 digit in pixel-index coordinates, MNIST's convention. */
function centre(digit: ArrayLike<number>) {
  let m = 0, x = 0, y = 0;
  for (let i = 0; i < 784; i++) {
    (m += digit[i]!), (x += digit[i]! * (i % 28)), (y += digit[i]! * Math.floor(i / 28));
  }
  return { x: x / m, y: y / m };
}

/**
 * A bold marker or brush digit: MNIST test digit `digit` with its strokes widened by `widen` of its
 * 28 pixels on each side (about 7 of its 20-px box across: several background tiles on the working
 * map), scaled so that it spans `share` of the frame's height; black on white (a screenshot) or dark
 * blue on paper lit unevenly, with grain (a photo).
 */
function boldDigit(
  digit: Uint8Array,
  frame: { width: number; height: number; photo: boolean },
  share = 0.95,
  widen = 2.5,
): RgbaImage {
  const at = (x: number, y: number) => x < 0 || y < 0 || x > 27 || y > 27 ? 0 : digit[y * 28 + x]!;
  const bilinear = (u: number, v: number) => {
    const x = Math.floor(u), y = Math.floor(v), fx = u - x, fy = v - y;
    return (at(x, y) * (1 - fx) + at(x + 1, y) * fx) * (1 - fy) +
      (at(x, y + 1) * (1 - fx) + at(x + 1, y + 1) * fx) * fy;
  };
  // The widened digit on a grid 4× finer than MNIST's: the most ink within `widen` (a round tip).
  const FINE = 4, side = 28 * FINE, wide = new Float32Array(side * side);
  let x0 = side, y0 = side, x1 = -1, y1 = -1;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const u = (x + 0.5) / FINE - 0.5, v = (y + 0.5) / FINE - 0.5;
      let ink = 0;
      for (let dy = -widen; dy <= widen; dy += 0.5) {
        for (let dx = -widen; dx <= widen; dx += 0.5) {
          if (dx * dx + dy * dy <= widen * widen) ink = Math.max(ink, bilinear(u + dx, v + dy));
        }
      }
      wide[y * side + x] = ink;
      if (ink < 0.3 * 255) continue; // where the marker edge starts
      [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
    }
  }
  // Frame pixels per fine-grid cell, so that the widened digit spans `share` of the height.
  const scale = share * frame.height / (Math.max(x1 - x0, y1 - y0) + 1);
  const cx = (x0 + x1 + 1) / 2, cy = (y0 + y1 + 1) / 2;
  const random = mulberry32(digit.length + x0 + y0);
  const data = new Uint8ClampedArray(frame.width * frame.height * 4);
  for (let y = 0; y < frame.height; y++) {
    for (let x = 0; x < frame.width; x++) {
      const u = cx + (x + 0.5 - frame.width / 2) / scale - 0.5;
      const v = cy + (y + 0.5 - frame.height / 2) / scale - 0.5;
      const fu = Math.floor(u), fv = Math.floor(v), tu = u - fu, tv = v - fv;
      const cell = (i: number, j: number) =>
        i < 0 || j < 0 || i >= side || j >= side ? 0 : wide[j * side + i]!;
      const ink = (cell(fu, fv) * (1 - tu) + cell(fu + 1, fv) * tu) * (1 - tv) +
        (cell(fu, fv + 1) * (1 - tu) + cell(fu + 1, fv + 1) * tu) * tv;
      const a = Math.min(1, Math.max(0, (ink / 255 - 0.3) / 0.2)); // a crisp marker edge
      const i = (y * frame.width + x) * 4;
      if (frame.photo) {
        const dx = x / frame.width - 0.5, dy = y / frame.height - 0.5;
        const light = (1 - 0.15 * (dx + 0.5)) * (1 - 0.4 * (dx * dx + dy * dy));
        const grain = (random() - 0.5) * 8;
        data.set([0, 1, 2].map((c) => (236 * (1 - a) + [25, 25, 45][c]! * a) * light + grain), i);
      } else data.fill(255 * (1 - a), i, i + 3);
      data[i + 3] = 255;
    }
  }
  return { width: frame.width, height: frame.height, data };
}

/**
 * The MNIST recipe with no background subtracted (polarity, Otsu's ink, fitted and centred), on the
 * same working map.
 */
function plainRecipe(map: FloatMap): Uint8ClampedArray {
  const ink = isolateInk(inkPolarity(map));
  const { x0, y0, x1, y1 } = inkBox(ink);
  return toMnist(ink, { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 });
}

/** The share of `plain`'s interior (solid pixels whose four neighbours are solid) that `digit` inks. */
function interiorKept(digit: Uint8ClampedArray, plain: Uint8ClampedArray): number {
  const solid = (x: number, y: number) =>
    x >= 0 && y >= 0 && x < 28 && y < 28 && plain[y * 28 + x]! >= 192;
  let interior = 0, kept = 0;
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      if (
        ![[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]].every(([dx, dy]) => solid(x + dx!, y + dy!))
      ) {
        continue;
      }
      interior++;
      if (digit[y * 28 + x]! >= 128) kept++;
    }
  }
  return kept / interior;
}

Deno.test("toMnistDigit() keeps bold strokes wider than a background tile solid: every digit, photo and screenshot", async () => {
  const classifier = await startLocalClassifier();
  const { loadDataset } = await import("../src/data/mnist.ts");
  const { test } = await loadDataset();
  // Per digit 0–9, the first test digit that the plain recipe reads right in both pictures.
  const indices = [3, 2, 1, 30, 4, 15, 11, 0, 84, 12];
  // A 12 MP photo (4:3) and a 2880×1800 screenshot (16:10), as box-averaged toward the working map.
  const frames = [
    { name: "photo", width: 448, height: 336, photo: true },
    { name: "screenshot", width: 448, height: 280, photo: false },
  ];
  const misses: string[] = [];
  for (const [label, index] of indices.entries()) {
    assert.equal(test.labels[index], label);
    const digit = test.images.subarray(index * 784, (index + 1) * 784);
    for (const frame of frames) {
      const map = overWhite(boldDigit(digit, frame));
      const ours = toMnistDigit(map), plain = plainRecipe(map);
      const [read, plainRead] = classifier.predict([ours, plain].map((d) => new Uint8Array(d)))
        .map((p) => p.indexOf(Math.max(...p)));
      const kept = interiorKept(ours, plain);
      assert.equal(plainRead, label, `the plain recipe reads the ${frame.name} of ${label}`);
      if (kept < 0.9 || read !== label) {
        misses.push(`${frame.name} of ${label}: read ${read}, ${(100 * kept).toFixed(0)}% kept`);
      }
    }
  }
  assert.deepEqual(misses, [], "every bold digit comes out solid and is read right");
});
