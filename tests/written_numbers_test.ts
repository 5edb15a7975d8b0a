/**
 * The set of written numbers that `deno task eval:numbers` reports is what it claims to be. Passing
 * proves that the same seed writes the same bytes (and number k whatever the count), that forms and
 * lengths come in the stated turns with about one number in six touching, that the reported set is
 * made of MNIST test digits only, that every true box lies inside its picture and holds its digit's
 * ink tightly, and that a viewer applying a photo's EXIF tag (Pillow's `ImageOps.exif_transpose`)
 * finds each digit's ink inside its box — for all 8 orientations.
 */
import assert from "node:assert/strict";
import { decode as decodePng } from "fast-png";
import { loadDataset } from "../src/data/mnist.ts";
import { loadTestDigits } from "../scripts/lib/mnist_test_set.ts";
import {
  type DigitBox,
  MAX_LENGTH,
  NUMBER_FORMS,
  shapeOf,
  type WrittenNumber,
  writtenNumber,
  writtenNumbers,
} from "../scripts/lib/written_numbers.ts";
import { hasPython, PYTHON } from "../scripts/lib/pillow.ts";

/** Canvas exports and scans (PNG and JPEG) only: the photos are slow to write and tested apart. */
async function flatNumbers(count: number, source: "test" | "train" = "test") {
  const numbers: WrittenNumber[] = [];
  for (const only of ["canvas", "scan"] as const) {
    numbers.push(...await Array.fromAsync(writtenNumbers({ source, count, only })));
  }
  return numbers;
}

/** A PNG's ink per pixel, 0–255: a canvas' alpha, or a grey scan's darkness. */
function inkOfPng(number: WrittenNumber): { width: number; height: number; ink: Uint8Array } {
  const png = decodePng(number.bytes), pixels = png.width * png.height;
  const data = png.data as Uint8Array, ink = new Uint8Array(pixels);
  for (let p = 0; p < pixels; p++) {
    ink[p] = png.channels === 4 ? data[p * 4 + 3]! : 255 - data[p * png.channels]!;
  }
  return { width: png.width, height: png.height, ink };
}

const inside = (box: DigitBox, x: number, y: number, grow = 0) =>
  x >= box.x - grow && x < box.x + box.width + grow && y >= box.y - grow &&
  y < box.y + box.height + grow;

Deno.test("writtenNumbers() writes the same bytes for the same seed, and number k whatever the count", async () => {
  const six = await Array.fromAsync(writtenNumbers({ source: "train", count: 6 }));
  const three = await Array.fromAsync(writtenNumbers({ source: "train", count: 3 }));
  assert.deepEqual(three, six.slice(0, 3));
  assert.deepEqual(await writtenNumber({ source: "train" }, 4), six[4]);
  const other = await Array.fromAsync(writtenNumbers({ source: "train", count: 1, seed: 17 }));
  assert.notDeepEqual(other[0]!.bytes, six[0]!.bytes);
  assert.deepEqual(
    six.map((n) => n.kind),
    ["canvas PNG", "scan PNG", "3 MP photo", "canvas PNG", "scan JPEG", "12 MP photo"],
  );
});

Deno.test("writtenNumbers() gives each form × length once in every 18 numbers", () => {
  const shapes = Array.from({ length: 18 }, (_, k) => shapeOf(k));
  const seen = new Set(shapes.map(({ form, length }) => `${form} ${length}`));
  assert.equal(seen.size, NUMBER_FORMS.length * MAX_LENGTH);
});

Deno.test("writtenNumbers() writes count numbers, or those of one form, with about one in six touching", async () => {
  const numbers = await flatNumbers(120);
  assert.equal(numbers.length, 80);
  assert.deepEqual(new Set(numbers.map((n) => n.form)), new Set(["canvas", "scan"]));
  assert.deepEqual(
    new Set(numbers.map((n) => n.kind)),
    new Set(["canvas PNG", "scan PNG", "scan JPEG"]),
  );
  for (const n of numbers) assert.equal(n.text.length, n.boxes.length, n.name);
  const touching = numbers.filter((n) => n.touching).length;
  assert.ok(touching >= 80 / 12 && touching <= 80 / 4, `${touching} of 80 touching`);
  assert.ok(numbers.every((n) => !n.touching || n.text.length >= 2));
  await assert.rejects(
    writtenNumbers({ source: "test", count: 0 }).next(),
    RangeError,
  );
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    writtenNumbers({ source: "test", count: 3, only: "fax" as any }).next(),
    /'only' must be one of canvas, scan, photo/,
  );
});

Deno.test("writtenNumbers() writes the reported set with MNIST test digits, the dev set with training digits", async () => {
  const { labels: testLabels } = await loadTestDigits();
  const { train } = await loadDataset();
  for (const [source, labels] of [["test", testLabels], ["train", train.labels]] as const) {
    const numbers = await flatNumbers(30, source);
    for (const n of numbers) {
      assert.equal(n.source, source);
      assert.equal(n.indices.length, n.text.length);
      assert.ok(n.indices.every((i) => Number.isInteger(i) && i >= 0 && i < labels.length));
      assert.equal(n.indices.map((i) => labels[i]).join(""), n.text, n.name);
    }
  }
});

Deno.test("writtenNumbers() boxes lie inside the picture and hold each digit's ink tightly", async () => {
  for (const n of await flatNumbers(36)) {
    if (n.type !== "image/png") continue; // the JPEG scans' pixels are checked through Pillow below
    const { width, height, ink } = inkOfPng(n);
    assert.deepEqual([width, height], [n.width, n.height], n.name);
    // Ink: a canvas' alpha ≥ 25 % (the boxes' own threshold); on a scan, grey below the paper's
    // (the median) by more than its texture and noise at the box's edge, by far more outside.
    const paper = [...ink].sort((a, b) => a - b)[ink.length >> 1]!;
    const [edge, outside] = n.form === "canvas" ? [64, 64] : [paper + 25, paper + 60];
    for (const box of n.boxes) {
      assert.ok(box.x >= 0 && box.y >= 0 && box.width > 0 && box.height > 0, n.name);
      assert.ok(box.x + box.width <= width && box.y + box.height <= height, n.name);
      // Every edge of the box touches ink: the box is no larger than the ink.
      const edges = { top: false, bottom: false, left: false, right: false };
      for (let y = box.y; y < box.y + box.height; y++) {
        for (let x = box.x; x < box.x + box.width; x++) {
          if (ink[y * width + x]! < edge) continue;
          edges.top ||= y === box.y;
          edges.bottom ||= y === box.y + box.height - 1;
          edges.left ||= x === box.x;
          edges.right ||= x === box.x + box.width - 1;
        }
      }
      assert.deepEqual(edges, { top: true, bottom: true, left: true, right: true }, n.name);
    }
    // No ink outside the boxes (2 px of anti-aliasing allowed): the boxes are no smaller either.
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (ink[y * width + x]! < outside) continue;
        assert.ok(n.boxes.some((box) => inside(box, x, y, 2)), `${n.name}: ink at ${x},${y}`);
      }
    }
  }
});

Deno.test({
  name: "Pillow's exif_transpose shows every photo's and JPEG scan's digits inside their boxes",
  ignore: !(await hasPython("PIL.ImageOps")),
  async fn() {
    // Photo j (number 3j + 2) is 3 MP for even j; j = 0, 2, …, 14 take orientations 1, 4, 7, 2, 5, 8, 3, 6.
    const ks = [2, 8, 14, 20, 26, 32, 38, 44, 4, 10];
    const numbers = await Promise.all(ks.map((k) => writtenNumber({ source: "test" }, k)));
    assert.deepEqual(
      new Set(numbers.filter((n) => n.form === "photo").map((n) => n.orientation)),
      new Set([1, 2, 3, 4, 5, 6, 7, 8]),
    );
    assert.ok(numbers.every((n) => n.type === "image/jpeg"));
    const dir = await Deno.makeTempDir({ prefix: "written-numbers-" });
    try {
      const args: string[] = [];
      for (const [i, n] of numbers.entries()) {
        await Deno.writeFile(`${dir}/${i}.jpg`, n.bytes);
        args.push(`${dir}/${i}.jpg`, JSON.stringify(n.boxes));
      }
      // For each picture as shown: its size, the paper's grey (the median) and, per box, the grey
      // that 5 % of its pixels are darker than (the ink).
      const script = `
import json, sys
from PIL import Image, ImageOps, ImageStat
for path, boxes in zip(sys.argv[1::2], sys.argv[2::2]):
    shown = ImageOps.exif_transpose(Image.open(path)).convert("L")
    paper = ImageStat.Stat(shown).median[0]
    ink = []
    for b in json.loads(boxes):
        values = sorted(shown.crop((b["x"], b["y"], b["x"] + b["width"], b["y"] + b["height"])).getdata())
        ink.append(values[len(values) // 20])
    print(json.dumps({"size": shown.size, "paper": paper, "ink": ink}))
`;
      const run = await new Deno.Command(PYTHON, {
        args: ["-c", script, ...args],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(run.success, new TextDecoder().decode(run.stderr));
      const rows = new TextDecoder().decode(run.stdout).trim().split("\n").map((line) =>
        JSON.parse(line) as { size: [number, number]; paper: number; ink: number[] }
      );
      for (const [i, row] of rows.entries()) {
        const n = numbers[i]!;
        assert.deepEqual(row.size, [n.width, n.height], n.name);
        for (const ink of row.ink) {
          // Ink is far darker than paper; a box on bare paper (a wrong turn) differs by grain only.
          assert.ok(ink < row.paper - 60, `${n.name}: ink ${ink} on paper ${row.paper}`);
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
