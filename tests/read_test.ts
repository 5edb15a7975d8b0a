/**
 * POST /read through `app.request()`, no server. Passing proves that a number written with MNIST
 * test digits comes back as its text with a box around each digit in pixels of the original, upright
 * after EXIF orientation; that /read takes every body /classify takes (a multipart batch answered in
 * order, `{"pixels"}` as one digit) and refuses what /classify refuses with the same status and code;
 * that hostile writing (thousands of specks, a 1×N strip, a number at the pixel cap) gets a bounded
 * answer or a 4xx, never a 5xx; that every candidate of a request goes to the model in one forward
 * pass; and that each request leaves its images, digits and model on the log line.
 */
import assert from "node:assert/strict";
import { createApp } from "../src/server/app.ts";
import type { Classifier } from "../src/model/classifier.ts";
import { openLocalModels } from "../src/deno.ts";
import { DEFAULT_LIMITS } from "../src/server/limits.ts";
import { MAX_CANDIDATES, READ_MAX_SIDE } from "../src/image/read.ts";
import { MAX_REQUEST_CANDIDATES, READ_IMAGE_WORK } from "../src/server/read.ts";
import { badInputs, bytesOf, pngChunk } from "../scripts/lib/bad_inputs.ts";
import { blackOnWhitePng, dataUrl } from "../scripts/lib/client_images.ts";
import { loadTestDigits } from "../scripts/lib/mnist_test_set.ts";
import {
  type Box,
  numberPhoto,
  numberPng,
  overlap,
  writeNumber,
} from "../scripts/lib/number_images.ts";

// The model /read uses unless told otherwise: PATH_WEIGHTS were tuned for it.
const reader = await openLocalModels();
const classifier = await reader.classifier(reader.readerModel);
/** Counts the model's forward passes and the digits in each. */
const passes: number[] = [];
const counting: Classifier = {
  info: classifier.info,
  score(digits) {
    passes.push(digits.length);
    return classifier.score(digits);
  },
  predict: (digits) => counting.score(digits).map((s) => s.digits),
};
const quiet = () => {};
/** The committed models, each served by the counting classifier. */
const models = await openLocalModels(undefined, { load: () => Promise.resolve(counting) });
const app = createApp({ models, log: quiet });

const { digits, labels } = await loadTestDigits();
/** For each digit 0–9, a test digit the model reads surely on its own: the writing, not the model, is on trial. */
const clean = (() => {
  const first = digits.slice(0, 1000);
  const probabilities = classifier.predict(first);
  return Array.from({ length: 10 }, (_, label) => {
    const i = first.findIndex((_, i) => labels[i] === label && probabilities[i]![label]! > 0.99);
    assert.ok(i >= 0, `a sure ${label} among the first 1000 test digits`);
    return first[i]!;
  });
})();
const written = (text: string) => [...text].map((c) => clean[Number(c)]!);

interface ReadDigit {
  digit: number;
  confidence: number;
  box: Box;
  pixels?: number[];
}
interface ReadAnswer {
  text: string;
  digits: ReadDigit[];
  model: { name: string; sha256: string };
}

async function read(init: RequestInit, query = "", on = app): Promise<ReadAnswer> {
  const res = await on.request(`/read${query}`, { method: "POST", ...init });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

/** Each digit read lies on its true box (at least half of the two boxes' union is shared). */
function assertBoxes(answer: ReadAnswer, truth: Box[], image: { width: number; height: number }) {
  assert.equal(answer.digits.length, truth.length);
  answer.digits.forEach(({ box }, i) => {
    for (const key of ["x", "y", "width", "height"] as const) {
      assert.ok(Number.isInteger(box[key]), `${key} is a whole pixel`);
    }
    assert.ok(box.x >= 0 && box.y >= 0, JSON.stringify(box));
    assert.ok(box.x + box.width <= image.width && box.y + box.height <= image.height);
    const iou = overlap(box, truth[i]!);
    assert.ok(iou >= 0.5, `digit ${i}: ${JSON.stringify(box)} vs ${JSON.stringify(truth[i])}`);
  });
}

const layout = { width: 1200, height: 400, left: 120, top: 90, side: 220, gap: 20 };
const png = (text: string) => numberPng(writeNumber(written(text), layout));

Deno.test("POST /read reads a number on a canvas, each digit boxed in the image's pixels", async () => {
  const number = writeNumber(written("2026"), layout);
  const image = numberPng(number);
  passes.length = 0;
  const answer = await read({ body: image.bytes, headers: { "content-type": image.type } });
  assert.equal(answer.text, "2026");
  assert.deepEqual(answer.digits.map((d) => d.digit), [2, 0, 2, 6]);
  assertBoxes(answer, number.boxes, number);
  for (const { confidence, pixels } of answer.digits) {
    assert.ok(confidence > 0.5 && confidence <= 1, `confidence ${confidence}`);
    assert.equal(pixels, undefined, "no 28×28 images without ?debug=1");
  }
  assert.deepEqual(answer.model, { name: classifier.info.name, sha256: classifier.info.sha256 });
  assert.equal(passes.length, 1, "one forward pass");
  assert.ok(passes[0]! >= 4, `all ${passes[0]} candidates in it`);
});

Deno.test("POST /read gives a photo's boxes upright, after its EXIF orientation", async () => {
  // Stored portrait for orientation 6 (turn 90° clockwise to view): upright it is 900×600.
  const number = writeNumber(written("417"), {
    width: 900,
    height: 600,
    left: 150,
    top: 180,
    side: 190,
    gap: 12,
  });
  const photo = await numberPhoto(number, { orientation: 6, seed: 3 });
  const answer = await read({ body: photo.bytes, headers: { "content-type": photo.type } });
  assert.equal(answer.text, "417");
  assertBoxes(answer, number.boxes, number);
});

Deno.test("POST /read answers a multipart batch in order, from one forward pass", async () => {
  const form = new FormData();
  for (const text of ["42", "7", "305"]) form.append("image", new Blob([png(text).bytes]), "n.png");
  passes.length = 0;
  const res = await app.request("/read", { method: "POST", body: form });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.deepEqual(body.results.map((r: ReadAnswer) => r.text), ["42", "7", "305"]);
  assert.equal(passes.length, 1, "every candidate of every image in one forward pass");
});

Deno.test('POST /read takes JSON {"pixels"} as one digit whose box is the whole 28×28', async () => {
  const answer = await read({
    body: JSON.stringify({ pixels: Array.from(clean[3]!) }),
    headers: { "content-type": "application/json" },
  });
  assert.equal(answer.text, "3");
  assert.deepEqual(answer.digits.map((d) => d.box), [{ x: 0, y: 0, width: 28, height: 28 }]);
  assert.equal(answer.digits[0]!.confidence, classifier.predict([clean[3]!])[0]![3]);
});

Deno.test("POST /read takes a data: URL in JSON, as the drawing page sends", async () => {
  const answer = await read({
    body: JSON.stringify({ image: dataUrl(png("58")) }),
    headers: { "content-type": "application/json" },
  });
  assert.equal(answer.text, "58");
});

Deno.test("?debug=1 adds each digit's 28×28 image", async () => {
  const answer = await read({ body: png("90").bytes }, "?debug=1");
  assert.equal(answer.text, "90");
  for (const { pixels } of answer.digits) {
    assert.equal(pixels?.length, 784);
    assert.ok(pixels!.every((v) => Number.isInteger(v) && v >= 0 && v <= 255));
    assert.ok(Math.max(...pixels!) > 200, "bright ink on black");
  }
  // What the model saw is what it was asked about: the answer's confidence comes from this image.
  const seen = Uint8Array.from(answer.digits[0]!.pixels!);
  assert.equal(classifier.predict([seen])[0]![9], answer.digits[0]!.confidence);
});

Deno.test("every refusal of /classify is /read's too, with its status and code", async (t) => {
  const refusals = badInputs(blackOnWhitePng(clean[7]!).bytes)
    .filter((bad) => bad.path.startsWith("/classify"))
    .map((bad) => ({ ...bad, path: bad.path.replace("/classify", "/read") }));
  assert.ok(
    refusals.some((bad) => bad.status === 415) && refusals.some((bad) => bad.status === 413),
  );
  for (const bad of refusals) {
    await t.step(`${bad.name} → ${bad.status}`, async () => {
      const res = await app.request(bad.path, bad.init);
      const text = await res.text();
      assert.equal(res.status, bad.status, text);
      assert.equal(JSON.parse(text).error.code, bad.code, text);
      assert.doesNotMatch(text, /\bat .*\.(ts|js):\d+/, "no stack trace");
    });
  }
  await t.step("a batch over the decoding budget → 413 request_over_budget", async () => {
    const small = createApp({
      models,
      limits: { maxDecodeWork: 2 * 1024 * 1024 },
      log: quiet,
    });
    const form = new FormData();
    for (let i = 0; i < 4; i++) form.append("image", new Blob([png("1").bytes]), "n.png");
    passes.length = 0;
    const res = await small.request("/read", { method: "POST", body: form });
    assert.equal(res.status, 413);
    assert.equal((await res.json()).error.code, "request_over_budget");
    assert.equal(passes.length, 0, "nothing read");
  });
  await t.step("a batch /classify admits but whose reading passes the budget → 413", async () => {
    const image = png("2").bytes; // one digit: /classify reads it (a number is not_a_digit there)
    const count = Math.ceil(DEFAULT_LIMITS.maxDecodeWork / READ_IMAGE_WORK) + 1;
    const form = () => {
      const body = new FormData();
      for (let i = 0; i < count; i++) body.append("image", new Blob([image]), "n.png");
      return { method: "POST", body };
    };
    assert.equal((await app.request("/classify", form())).status, 200);
    passes.length = 0;
    const res = await app.request("/read", form());
    assert.equal(res.status, 413);
    assert.equal((await res.json()).error.code, "request_over_budget");
    assert.equal(passes.length, 0, "refused from the headers: nothing decoded or scored");
  });
  await t.step("?debug=yes → 400 invalid_query", async () => {
    const res = await app.request("/read?debug=yes", { method: "POST", body: png("1").bytes });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, "invalid_query");
  });
});

/** An 8-bit grey PNG, black on white where `ink(x, y)`, deflated by the runtime's zlib (fast enough for 50 Mpx). */
async function greyPng(
  width: number,
  height: number,
  ink: (x: number, y: number) => number,
): Promise<Uint8Array<ArrayBuffer>> {
  const raw = new Uint8Array((width + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width + 1); // a filter byte 0, then the row
    for (let x = 0; x < width; x++) raw[row + 1 + x] = 255 - ink(x, y);
  }
  const deflated = new Uint8Array(
    await new Response(new Blob([raw]).stream().pipeThrough(new CompressionStream("deflate")))
      .arrayBuffer(),
  );
  const ihdr = new Uint8Array(13), view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 0, 0, 0, 0], 8);
  const parts = [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", deflated),
    pngChunk("IEND", new Uint8Array()),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return bytesOf(out);
}

Deno.test("hostile writing gets a bounded answer or a 4xx, never a 5xx", async (t) => {
  /** A 2xx answer holds a bounded number of digits; anything else is a 4xx with a code. */
  async function assertBounded(body: Uint8Array<ArrayBuffer>) {
    passes.length = 0;
    const res = await app.request("/read", { method: "POST", body });
    const answer = await res.json();
    assert.ok(res.status < 500, JSON.stringify(answer));
    if (res.status === 200) {
      assert.ok(answer.digits.length <= passes[0]!, "each digit is a candidate the model scored");
      assert.ok(passes[0]! <= MAX_CANDIDATES, `${passes[0]} candidates in the forward pass`);
    } else {
      assert.ok(res.status >= 400 && typeof answer.error.code === "string");
    }
    return { status: res.status, answer };
  }
  await t.step("thousands of components (a grid of dots)", async () => {
    // Dots of 3 map pixels every 6: (READ_MAX_SIDE / 6)² ≈ thousands of them on the working map.
    const side = 2 * READ_MAX_SIDE, pitch = 12, dot = 6;
    await assertBounded(
      await greyPng(side, side, (x, y) => (x % pitch < dot && y % pitch < dot ? 255 : 0)),
    );
  });
  await t.step("a 1×N strip of ink, across and down", async () => {
    await assertBounded(await greyPng(4000, 1, () => 255));
    await assertBounded(await greyPng(1, 4000, () => 255));
    await assertBounded(await greyPng(4000, 3, (_, y) => (y === 1 ? 255 : 0)));
  });
  await t.step("a number at the pixel cap (8192×6144) is read", async () => {
    const number = writeNumber(written("1984"), {
      width: 8192,
      height: 6144,
      left: 1200,
      top: 2000,
      side: 1400,
      gap: 100,
    });
    assert.equal(number.width * number.height, DEFAULT_LIMITS.maxPixels);
    const bytes = await greyPng(
      number.width,
      number.height,
      (x, y) => Math.round(255 * number.ink[y * number.width + x]!),
    );
    const { status, answer } = await assertBounded(bytes);
    assert.equal(status, 200, JSON.stringify(answer));
    assert.equal(answer.text, "1984");
    assertBoxes(answer, number.boxes, number);
  });
  await t.step("a batch holding more possible digits than a request may score → 413", async () => {
    const form = new FormData();
    const long = numberPng(writeNumber(written("20262026"), {
      ...layout,
      left: 40,
      top: 140,
      side: 120,
      gap: 10,
    })).bytes;
    const images = Math.ceil(MAX_REQUEST_CANDIDATES / 8) + 8;
    for (let i = 0; i < images; i++) form.append("image", new Blob([long]), "n.png");
    // A decoding budget that admits them all: the cap on what the model scores refuses them.
    const generous = createApp({
      models,
      limits: { maxDecodeWork: 2 ** 40 },
      log: quiet,
    });
    passes.length = 0;
    const res = await generous.request("/read", { method: "POST", body: form });
    assert.equal(res.status, 413);
    assert.equal((await res.json()).error.code, "request_over_budget");
    assert.equal(passes.length, 0, "nothing scored");
  });
  await t.step("one pixel past the cap → 413 image_too_large", async () => {
    const res = await app.request("/read", {
      method: "POST",
      body: await greyPng(8193, 6144, () => 0),
    });
    assert.equal(res.status, 413);
    assert.equal((await res.json()).error.code, "image_too_large");
  });
});

Deno.test("POST /read leaves its images, digits and model on the request log", async () => {
  const lines: string[] = [];
  const logged = createApp({
    models,
    log: (line) => lines.push(line),
  });
  await read({ body: png("61").bytes }, "", logged);
  const line = JSON.parse(lines.at(-1)!);
  assert.equal(line.route, "/read");
  assert.equal(line.status, 200);
  assert.deepEqual(line.images, [{ format: "png", width: 1200, height: 400 }]);
  assert.deepEqual(line.digits.map((d: ReadDigit) => d.digit), [6, 1]);
  assert.ok(line.digits.every((d: ReadDigit) => d.confidence > 0 && d.confidence <= 1));
  assert.deepEqual(line.model, { name: classifier.info.name, sha256: classifier.info.sha256 });
  assert.ok(line.body_bytes > 0);
});
