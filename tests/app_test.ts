/**
 * The app through `app.request()`, no server: every route, every body kind, and every refusal with
 * its status and error code. Passing proves the HTTP contract of issue 3 in Deno; the same checks
 * against real workerd are in worker_e2e_test.ts.
 */
import assert from "node:assert/strict";
import { createApp } from "../src/server/app.ts";
import { createModelRegistry } from "../src/model/registry.ts";
import { openLocalModels } from "../src/deno.ts";
import { badInputs } from "../scripts/lib/bad_inputs.ts";
import {
  blackOnWhiteBmp,
  blackOnWhiteGif,
  blackOnWhitePng,
  blackOnWhiteWebp,
  canvasPng,
  dataUrl,
  nativePng,
  offCentreJpeg,
} from "../scripts/lib/client_images.ts";
import { loadTestDigits } from "../scripts/lib/mnist_test_set.ts";
import { renderNegative } from "../src/data/negatives.ts";
import { isRefused, readTogether, scoreAlone } from "../src/model/classifier.ts";

const models = await openLocalModels();
const classifier = await models.classifier();
/** The network /classify also asks which digit (models/index.json's partners). */
const partner = await models.classifier(models.partners[models.defaultModel]);
/** Request log lines are tested in request_log_test.ts and below; here they would be noise. */
const quiet = () => {};
const app = createApp({ models, log: quiet });
const { digits, labels } = await loadTestDigits();
const firstOf = (label: number) => labels.indexOf(label);
const seven = digits[firstOf(7)]!;
const json = (value: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(value),
});

interface Answer {
  digit: number;
  confidence: number;
  probabilities: number[];
  not_a_digit: number;
  model: { name: string; sha256: string };
  partner?: { name: string; sha256: string };
  debug?: { width: number; height: number; pixels: number[] };
}

async function classify(init: RequestInit, query = ""): Promise<Answer> {
  const res = await app.request(`/classify${query}`, { method: "POST", ...init });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

Deno.test("POST /classify answers digit, confidence, ten probabilities, the model and its partner", async () => {
  const png = blackOnWhitePng(seven);
  const answer = await classify({ body: png.bytes, headers: { "content-type": png.type } });
  assert.equal(answer.digit, 7);
  assert.equal(answer.probabilities.length, 10);
  // the ten digits' probabilities and "not a digit"'s sum to 1
  assert.ok(Math.abs(answer.probabilities.reduce((a, b) => a + b) + answer.not_a_digit - 1) < 1e-4);
  assert.equal(answer.confidence, Math.max(...answer.probabilities));
  assert.deepEqual(answer.model, { name: classifier.info.name, sha256: classifier.info.sha256 });
  assert.deepEqual(answer.partner, { name: partner.info.name, sha256: partner.info.sha256 });
  assert.equal(answer.debug, undefined);
  // a model the index pairs with none answers alone
  const seed = await classify({ body: png.bytes }, "?model=mnist-cnn");
  assert.equal(seed.partner, undefined);
  assert.equal(seed.model.name, "mnist-cnn");
});

Deno.test("POST /classify reads a 48 MP (8000×6000) photo of a 7 within the body limit", async () => {
  const photo = await Deno.readFile(new URL("./fixtures/seven_48mp.jpg", import.meta.url));
  const answer = await classify({ body: photo, headers: { "content-type": "image/jpeg" } });
  assert.equal(answer.digit, 7);
});

Deno.test("POST /classify reads every client format, judged by magic bytes", async (t) => {
  const encoders = {
    "black-on-white PNG": blackOnWhitePng,
    "canvas PNG with transparency": canvasPng,
    "off-centre JPEG": (d: Uint8Array) => offCentreJpeg(d, 1),
    WebP: blackOnWhiteWebp,
    GIF: blackOnWhiteGif,
    BMP: blackOnWhiteBmp,
    "native 28×28 PNG": nativePng,
  };
  for (const [name, encode] of Object.entries(encoders)) {
    await t.step(name, async () => {
      const image = await encode(seven);
      assert.equal(
        (await classify({ body: image.bytes, headers: { "content-type": image.type } })).digit,
        7,
      );
    });
  }
  await t.step("a declared type that lies", async () => {
    const png = blackOnWhitePng(seven);
    assert.equal(
      (await classify({ body: png.bytes, headers: { "content-type": "image/jpeg" } })).digit,
      7,
    );
  });
  await t.step("no declared type (curl --data-binary)", async () => {
    assert.equal((await classify({ body: blackOnWhitePng(seven).bytes })).digit, 7);
  });
});

Deno.test("POST /classify takes a multipart `image` field; several are a batch, in order", async () => {
  const one = new FormData();
  one.append("image", new Blob([blackOnWhitePng(seven).bytes]), "seven.png");
  assert.equal((await classify({ body: one })).digit, 7);

  const images = Array.from({ length: 10 }, (_, label) => canvasPng(digits[firstOf(label)]!));
  const batch = new FormData();
  images.forEach((image, label) => batch.append("image", new Blob([image.bytes]), `${label}.png`));
  const res = await app.request("/classify", { method: "POST", body: batch });
  assert.equal(res.status, 200);
  const { results } = await res.json() as { results: Answer[] };
  const oneByOne = [];
  for (const image of images) oneByOne.push(await classify({ body: image.bytes }));
  assert.deepEqual(results, oneByOne);
});

Deno.test("POST /classify takes JSON: base64, a data: URL, or 784 pixels", async () => {
  const url = dataUrl(canvasPng(seven));
  const json = (value: unknown): RequestInit => ({
    body: JSON.stringify(value),
    headers: { "content-type": "application/json" },
  });
  assert.equal((await classify(json({ image: url }))).digit, 7);
  assert.equal((await classify(json({ image: url.slice(url.indexOf(",") + 1) }))).digit, 7);
  assert.equal((await classify(json({ pixels: Array.from(seven) }))).digit, 7);
});

Deno.test("?preprocess=none feeds an MNIST-format 28×28 image to the model as it is", async () => {
  const png = nativePng(seven);
  const asIs = await classify({ body: png.bytes }, "?preprocess=none&debug=1");
  assert.deepEqual(asIs.debug?.pixels, Array.from(seven));
  const pixels = await classify({
    body: JSON.stringify({ pixels: Array.from(seven) }),
    headers: { "content-type": "application/json" },
  });
  assert.deepEqual(asIs.probabilities, pixels.probabilities);
  // the default's "not a digit", and both networks' digits read together
  const own = classifier.score([seven])[0]!;
  const expected = readTogether(own, partner.score([seven])[0]!);
  assert.deepEqual(pixels.probabilities, Array.from(expected.digits));
  assert.equal(pixels.not_a_digit, own.notDigit);
  assert.notDeepEqual(pixels.probabilities, Array.from(own.digits), "the partner was asked");
});

Deno.test("?debug=1 adds the 28×28 image the model saw", async () => {
  const answer = await classify({ body: offCentreJpeg(seven, 2).bytes }, "?debug=1");
  assert.equal(answer.debug?.width, 28);
  assert.equal(answer.debug?.height, 28);
  assert.equal(answer.debug?.pixels.length, 784);
  assert.ok(Math.max(...answer.debug!.pixels) > 200, "the digit is bright ink on black");
});

Deno.test("bad input gets its 4xx status and a JSON error, never a 5xx or a stack", async (t) => {
  for (const bad of badInputs(blackOnWhitePng(seven).bytes)) {
    await t.step(`${bad.name} → ${bad.status}`, async () => {
      const res = await app.request(bad.path, bad.init);
      const text = await res.text();
      assert.equal(res.status, bad.status, text);
      const body = JSON.parse(text);
      assert.equal(body.error.code, bad.code, text);
      assert.equal(typeof body.error.message, "string");
      assert.doesNotMatch(text, /\bat .*\.(ts|js):\d+/, "no stack trace");
      if (bad.status === 405) assert.ok(res.headers.get("allow"));
    });
  }
});

Deno.test("a body over MAX_BODY_BYTES is refused while streaming, without a Content-Length", async () => {
  const small = createApp({
    models,
    limits: { maxBodyBytes: 1000 },
    log: quiet,
  });
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < 10; i++) controller.enqueue(new Uint8Array(500));
      controller.close();
    },
  });
  const res = await small.request("/classify", {
    method: "POST",
    body,
    headers: { "content-type": "image/png" },
  });
  assert.equal(res.status, 413);
  assert.equal((await res.json()).error.code, "body_too_large");
});

Deno.test("GET /health and GET /model describe the loaded model", async () => {
  const health = await app.request("/health");
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), {
    status: "ok",
    model: { name: classifier.info.name, sha256: classifier.info.sha256 },
  });
  const { default: chosen, reader, partners, models: cards, manifest, ...info } =
    await (await app.request("/model")).json();
  assert.deepEqual(info, classifier.info, "the default's card, as GET /model always answered");
  assert.equal(chosen, classifier.info.name);
  assert.equal(reader, models.readerModel, "and the model /read uses");
  assert.deepEqual(partners, { [chosen]: partner.info.name }, "and each model's partner");
  assert.equal(manifest.weights.sha256, classifier.info.sha256);
  assert.ok(info.parameters > 0 && info.test.accuracy > 0);
  assert.ok(cards.some((card: { name: string }) => card.name === chosen));
});

Deno.test("GET / shows usage until the drawing page replaces it through the `home` hook", async () => {
  const res = await app.request("http://mnist.test/");
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.match(text, /curl -F image=@seven\.png http:\/\/mnist\.test\/classify/);
  assert.doesNotMatch(text, /Authorization/, "no token is asked for when none is set");
  const withTokens = await app.request("http://mnist.test/", {}, { API_TOKENS: "secret" });
  const asked = await withTokens.text();
  assert.match(asked, /-H 'Authorization: Bearer <token>'/);
  assert.doesNotMatch(asked, /secret/, "the tokens themselves are never shown");
  const withHome = createApp({
    models,
    home: (c) => c.html("<h1>pad</h1>"),
    log: quiet,
  });
  assert.equal(await (await withHome.request("/")).text(), "<h1>pad</h1>");
});

Deno.test("responses allow any origin and carry security headers", async () => {
  const res = await app.request("/health", { headers: { origin: "https://example.com" } });
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  const preflight = await app.request("/classify", {
    method: "OPTIONS",
    headers: { origin: "https://example.com", "access-control-request-method": "POST" },
  });
  assert.equal(preflight.status, 204);
  assert.match(preflight.headers.get("access-control-allow-methods") ?? "", /POST/);
  const error = await app.request("/nope", { headers: { origin: "https://example.com" } });
  assert.equal(
    error.headers.get("access-control-allow-origin"),
    "*",
    "errors are readable cross-origin",
  );
});

Deno.test("a model that fails to load answers 503 with the loader's message", async () => {
  const broken = createModelRegistry(
    { default: "mnist-cnn", models: ["mnist-cnn"] },
    () =>
      Promise.reject(new Error("weights sha256 does not match. HINT: re-run `deno task train`")),
  );
  const res = await createApp({ models: broken, log: quiet }).request("/health");
  assert.equal(res.status, 503);
  const { error } = await res.json();
  assert.equal(error.code, "model_unavailable");
  assert.match(error.message, /deno task train/);
});

Deno.test("POST /classify answers 422 not_a_digit for what the model finds likelier not a digit", async () => {
  // rendered non-digits (letters, symbols, shapes, scribbles) the model refuses, and one it reads
  const images = Array.from({ length: 40 }, (_, k) => {
    const out = new Uint8Array(784);
    renderNegative(99, k, out);
    return out;
  });
  const scores = scoreAlone(classifier, images, partner);
  const refused = images.filter((_, k) => isRefused(scores[k]!));
  assert.ok(refused.length >= 20, `the model refuses ${refused.length} of 40 non-digits`);
  const res = await app.request("/classify", json({ pixels: Array.from(refused[0]!) }));
  assert.equal(res.status, 422);
  const { error } = await res.json();
  assert.equal(error.code, "not_a_digit");
  assert.match(error.message, /does not look like a digit: .* times likelier than not a digit/);

  // a digit is answered, with its probability of not being one
  const answer = await classify(json({ pixels: Array.from(seven) }));
  assert.equal(answer.digit, 7);
  const { not_a_digit } = answer;
  assert.ok(not_a_digit >= 0 && not_a_digit < 0.5);
  const sum = answer.probabilities.reduce((a, b) => a + b, 0) + not_a_digit;
  assert.ok(Math.abs(sum - 1) < 1e-5, `digits and not_a_digit sum to ${sum}`);

  // in a batch, the whole request is refused, naming the image
  const form = new FormData();
  for (const image of [seven, refused[0]!]) {
    form.append("image", new Blob([nativePng(image).bytes]), "x.png");
  }
  const batch = await app.request("/classify?preprocess=none", { method: "POST", body: form });
  assert.equal(batch.status, 422);
  assert.match((await batch.json()).error.message, /image 2 of 2/);
});
