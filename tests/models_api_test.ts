/**
 * Several models behind one app, through `app.request()`, no server: the committed mnist-cnn (the
 * default) and a copy of it, `second` (the reader), with weights of its own. Passing proves that
 * /classify answers with the default and /read with the reader unless `?model=` picks another, and
 * the answer and the request log say which, that
 * /v2 serves every model, that unknown and malformed names are refused, that GET /model lists the
 * cards, and that a model nobody asks for is never loaded.
 */
import assert from "node:assert/strict";
import { createApp } from "../src/server/app.ts";
import { openLocalModels } from "../src/deno.ts";
import { loadClassifier } from "../src/model/classifier.ts";
import { blackOnWhitePng } from "../scripts/lib/client_images.ts";
import { loadTestDigits } from "../scripts/lib/mnist_test_set.ts";
import { modelFolder, SEED_MODEL } from "../scripts/lib/model_folder.ts";

const dir = await modelFolder(["second"], {
  default: SEED_MODEL,
  reader: "second",
  models: [SEED_MODEL, "second"],
});
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const loads: string[] = [];
const models = await openLocalModels(dir, {
  load: (weights, manifest) => {
    loads.push((manifest as { name: string }).name);
    return loadClassifier(weights, manifest);
  },
});
const lines: string[] = [];
const app = createApp({ models, log: (line) => lines.push(line) });
const { digits } = await loadTestDigits();
const png = blackOnWhitePng(digits[0]!).bytes;
const cards = Object.fromEntries(
  await Promise.all(models.names.map(async (name) => [name, await models.card(name)] as const)),
);
const ref = (name: string) => ({ name, sha256: cards[name]!.sha256 });
const lastLog = () => JSON.parse(lines.at(-1)!);

async function error(res: Response, status: number, code: string, message?: RegExp) {
  const body = await res.json();
  assert.equal(res.status, status, JSON.stringify(body));
  assert.equal(body.error.code, code);
  if (message) assert.match(body.error.message, message);
}

// First, while no request has started any model.
Deno.test("GET /model lists every model's card and starts none", async () => {
  const res = await app.request("/model");
  assert.equal(res.status, 200);
  const { default: chosen, reader, partners, models: listed, ...card } = await res.json();
  assert.equal(chosen, SEED_MODEL);
  assert.equal(reader, "second");
  assert.deepEqual(partners, {}, "this index pairs no model");
  assert.deepEqual(card, cards[SEED_MODEL], "the default's card, at the top as before");
  assert.deepEqual(listed.map((c: { name: string }) => c.name), [SEED_MODEL, "second"]);
  assert.deepEqual(listed[1], cards.second);
  assert.equal(listed[1]!.manifest.name, "second");
  assert.ok(listed[1]!.manifest.test.confusion_matrix.length === 10, "the manifest whole");
  assert.deepEqual(loads, [], "no model was loaded to list them");
});

Deno.test("GET /model/{name} is one card; an unknown name is 404 unknown_model", async () => {
  const res = await app.request("/model/second");
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), cards.second);
  for (const name of ["third", "Second", "a".repeat(300)]) {
    await error(
      await app.request(`/model/${name}`),
      404,
      "unknown_model",
      /: the models are mnist-cnn, second/,
    );
  }
  assert.deepEqual(loads, []);
});

Deno.test("POST /classify answers with the default model, or the one ?model= names", async () => {
  const plain = await (await app.request("/classify", { method: "POST", body: png })).json();
  assert.deepEqual(plain.model, ref(SEED_MODEL));
  assert.deepEqual(lastLog().model, ref(SEED_MODEL));
  assert.deepEqual(loads, [SEED_MODEL], "second is not loaded until it is asked for");

  const res = await app.request("/classify?model=second", { method: "POST", body: png });
  assert.equal(res.status, 200);
  const named = await res.json();
  assert.deepEqual(named.model, ref("second"));
  assert.equal(named.digit, plain.digit);
  assert.deepEqual(lastLog().model, ref("second"), "the request log says which model answered");
  await app.request("/classify?model=second", { method: "POST", body: png });
  assert.deepEqual(loads, [SEED_MODEL, "second"], "each model is loaded once");
});

Deno.test("POST /read answers with the reader, or the model ?model= names", async () => {
  const res = await app.request("/read", { method: "POST", body: png });
  assert.equal(res.status, 200);
  assert.deepEqual((await res.json()).model, ref("second"));
  assert.deepEqual(lastLog().model, ref("second"));
  const named = await app.request(`/read?model=${SEED_MODEL}`, { method: "POST", body: png });
  assert.deepEqual((await named.json()).model, ref(SEED_MODEL));
  assert.deepEqual(lastLog().model, ref(SEED_MODEL));
});

Deno.test("?model= naming no model is 404 unknown_model, listing the models", async () => {
  for (const route of ["/classify", "/read"]) {
    const res = await app.request(`${route}?model=mnist-cnn3`, { method: "POST", body: png });
    await error(
      res,
      404,
      "unknown_model",
      /no model "mnist-cnn3": the models are mnist-cnn, second/,
    );
    assert.equal(lastLog().error, "unknown_model");
  }
});

Deno.test("a malformed ?model= is 400 invalid_query, before any model is asked", async () => {
  for (const name of ["Second", "second_", "", "a".repeat(65), "..%2Fsecond"]) {
    for (const route of ["/classify", "/read"]) {
      const res = await app.request(`${route}?model=${name}`, { method: "POST", body: png });
      await error(res, 400, "invalid_query", /'model' is invalid: a model name is 1–64/);
    }
  }
});

Deno.test("/v2 serves every registered model under its name", async () => {
  const metadata = await (await app.request("/v2/models/second")).json();
  assert.equal(metadata.name, "second");
  assert.deepEqual(metadata.versions, [cards.second!.sha256]);
  const ready = await app.request(`/v2/models/second/versions/${cards.second!.sha256}/ready`);
  assert.deepEqual(await ready.json(), { name: "second", ready: true });
  const res = await app.request("/v2/models/second/infer", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      inputs: [{ name: "image", shape: [1, 784], datatype: "UINT8", data: [...digits[0]!] }],
    }),
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).model_name, "second");
  assert.deepEqual(lastLog().model, ref("second"));
  const unknown = await app.request("/v2/models/third");
  assert.equal(unknown.status, 404);
  assert.deepEqual(await unknown.json(), {
    error: "no model 'third': this server serves 'mnist-cnn', 'second'",
  });
  const wrongVersion = await app.request(`/v2/models/second/versions/${cards[SEED_MODEL]!.sha256}`);
  assert.equal(wrongVersion.status, 404, "a version is one model's weights, not another's");
});

Deno.test("the usage text tells of ?model=", async () => {
  assert.match(await (await app.request("/")).text(), /\?model=NAME/);
});

Deno.test("/classify starts a model's partner for images it reads, not for an upload it refuses", async () => {
  const paired = await modelFolder(["second"], {
    default: SEED_MODEL,
    partners: { [SEED_MODEL]: "second" },
    models: [SEED_MODEL, "second"],
  });
  try {
    const started: string[] = [];
    const registry = await openLocalModels(paired, {
      load: (weights, manifest) => {
        started.push((manifest as { name: string }).name);
        return loadClassifier(weights, manifest);
      },
    });
    const pairedApp = createApp({ models: registry, log: () => {} });
    const post = (body: Uint8Array<ArrayBuffer>) =>
      pairedApp.request("/classify", {
        method: "POST",
        headers: { "content-type": "image/png" },
        body,
      });
    await error(await post(png.slice(0, 40)), 400, "invalid_image");
    assert.deepEqual(started, [SEED_MODEL], "the refused upload started the model alone");
    const res = await post(png);
    assert.equal(res.status, 200);
    assert.deepEqual((await res.json()).partner, { name: "second", sha256: cards.second!.sha256 });
    assert.deepEqual(started, [SEED_MODEL, "second"]);
  } finally {
    Deno.removeSync(paired, { recursive: true });
  }
});
