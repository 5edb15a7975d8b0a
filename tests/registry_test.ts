/**
 * The model registry (src/model/registry.ts) and the index it reads. Passing proves that a bad
 * index is refused with a message naming what to change, that each model is started only when asked
 * for and then once (a failure included), that a card tells the same facts as the loaded model
 * without loading it, and that the Worker's generated imports are what models/index.json lists.
 */
import assert from "node:assert/strict";
import { MODELS_DIR, openLocalModels, readModelIndex } from "../src/deno.ts";
import { type Classifier, loadClassifier } from "../src/model/classifier.ts";
import { createModelRegistry, ModelIndexError, parseModelIndex } from "../src/model/registry.ts";
import { modelFolder, SEED_MODEL } from "../scripts/lib/model_folder.ts";
import { WORKER_MODELS, workerModelsModule } from "../scripts/lib/worker_models.ts";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("parseModelIndex() takes the committed index: its default and reader are among its models", async () => {
  const index = parseModelIndex(JSON.parse(await Deno.readTextFile(`${MODELS_DIR}/index.json`)));
  assert.ok(index.models.includes(index.default));
  assert.ok(index.reader && index.models.includes(index.reader), "the reader is one of them");
  assert.equal(index.partners?.[index.default], index.reader, "the default reads with the reader");
  assert.ok(index.models.includes(SEED_MODEL), "the seed's model stays one parameter away");
  assert.deepEqual(await readModelIndex(), index);
});

const BAD_INDEXES: [string, unknown, RegExp][] = [
  ["not an object", ["mnist-cnn"], /expected \{"default"/],
  ["null", null, /expected \{"default"/],
  ["no models", { default: "a" }, /'models' must list at least one model name: got undefined/],
  ["an empty list", { default: "a", models: [] }, /at least one model name: got \[\]/],
  ["a name with capitals", { default: "a", models: ["a", "MNIST"] }, /"MNIST" is not a model/],
  ["a name with a slash", { default: "a", models: ["a", "../a"] }, /"\.\.\/a" is not a model/],
  ["an empty name", { default: "a", models: ["a", ""] }, /"" is not a model name/],
  ["a name of 65 characters", { default: "a", models: ["a", "a".repeat(65)] }, /not a model/],
  ["a number", { default: "a", models: ["a", 7] }, /7 is not a model name/],
  ["a name twice", { default: "a", models: ["a", "b", "a"] }, /'a' is listed twice/],
  ["no default", { models: ["a"] }, /the default undefined is not one of the models \(a\)/],
  ["a default not listed", { default: "c", models: ["a", "b"] }, /"c" is not one of .*\(a, b\)/],
  ["a reader not listed", { default: "a", reader: "c", models: ["a"] }, /the reader "c" is not/],
  ["a reader not a name", { default: "a", reader: 3, models: ["a"] }, /the reader 3 is not/],
  ["partners not an object", { default: "a", partners: ["a"], models: ["a"] }, /'partners' must/],
  [
    "a partner not listed",
    { default: "a", partners: { a: "c" }, models: ["a", "b"] },
    /the partners "a" and "c" must be two of the models \(a, b\)/,
  ],
  [
    "a partnered model not listed",
    { default: "a", partners: { c: "a" }, models: ["a", "b"] },
    /the partners "c" and "a" must be two/,
  ],
  ["a model its own partner", { default: "a", partners: { a: "a" }, models: ["a"] }, /"a" and "a"/],
];

Deno.test("createModelRegistry() gives each model its partner, and none to a model the index pairs with none", () => {
  const models = createModelRegistry(
    { default: "a", partners: { a: "b" }, models: ["a", "b", "constructor"] },
    () => Promise.reject(new Error("not loaded here")),
  );
  assert.equal(models.partners["a"], "b");
  assert.equal(models.partners["b"], undefined);
  assert.equal(models.partners["constructor"], undefined, "not the prototype's");
  assert.deepEqual({ ...models.partners }, { a: "b" });
  const unpaired = createModelRegistry({ default: "a", models: ["a"] }, () => ({} as never));
  assert.deepEqual({ ...unpaired.partners }, {});
});

for (const [what, index, message] of BAD_INDEXES) {
  Deno.test(`parseModelIndex() refuses ${what}, naming the index`, () => {
    assert.throws(
      () => parseModelIndex(index, "x/index.json"),
      (e: Error) =>
        e instanceof ModelIndexError && e.message.startsWith("x/index.json: ") &&
        message.test(e.message),
    );
  });
}

Deno.test("readModelIndex() refuses a folder without an index, or an index naming missing files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(readModelIndex(dir), /index\.json cannot be read .*"default"/);
    await Deno.writeTextFile(`${dir}/index.json`, "{");
    await assert.rejects(readModelIndex(dir), /index\.json is not JSON/);
    await Deno.writeTextFile(`${dir}/index.json`, '{"default":"a","models":["a"]}');
    await assert.rejects(
      readModelIndex(dir),
      (e: Error) =>
        e instanceof ModelIndexError &&
        /lists 'a', but .*\/a\.safetensors is missing/.test(e.message),
    );
    await Deno.writeTextFile(`${dir}/a.safetensors`, "");
    await assert.rejects(readModelIndex(dir), /\/a\.json is missing/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a model whose manifest names another model is refused when it is asked for", async () => {
  const dir = await modelFolder(["second"]);
  try {
    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/second.json`));
    await Deno.writeTextFile(`${dir}/second.json`, JSON.stringify({ ...manifest, name: "third" }));
    const models = await openLocalModels(dir);
    for (const asked of [() => models.classifier("second"), () => models.card("second")]) {
      await assert.rejects(
        asked(),
        (e: Error) => e instanceof ModelIndexError && /names its model "third"/.test(e.message),
      );
    }
    assert.equal((await models.card()).name, SEED_MODEL, "the others are served");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createModelRegistry() refuses bundled files that miss a model of the index", () => {
  assert.throws(
    () =>
      createModelRegistry({ default: "a", models: ["a", "b"] }, {
        a: { weights: new ArrayBuffer(0), manifest: {} },
      }),
    (e: Error) =>
      e instanceof ModelIndexError && /lists b, which the build did not bundle/.test(e.message),
  );
});

Deno.test("a registry starts a model only when it is asked for, and then once", async () => {
  const dir = await modelFolder(["second", "third"]);
  const loads: string[] = [], starts: string[] = [];
  try {
    const models = createModelRegistry(
      JSON.parse(await Deno.readTextFile(`${dir}/index.json`)),
      async (name) => ({
        weights: await Deno.readFile(`${dir}/${name}.safetensors`),
        manifest: JSON.parse(await Deno.readTextFile(`${dir}/${name}.json`)),
      }),
      {
        start: () => (starts.push("runtime"), Promise.resolve()),
        load: (weights, manifest) => {
          loads.push((manifest as { name: string }).name);
          return loadClassifier(weights, manifest);
        },
      },
    );
    assert.deepEqual(models.names, [SEED_MODEL, "second", "third"]);
    for (const name of models.names) await models.card(name);
    assert.deepEqual([starts, loads], [[], []], "cards upload nothing");
    const [first, again] = await Promise.all([models.classifier(), models.classifier(SEED_MODEL)]);
    assert.equal(first, again);
    await models.classifier("second");
    await models.classifier("second");
    assert.deepEqual(starts, ["runtime"], "the runtime starts once, before the first model");
    assert.deepEqual(loads, [SEED_MODEL, "second"], "third was never asked for");
    assert.throws(() => models.classifier("fourth"), /no model 'fourth'.*mnist-cnn, second, third/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a model that fails to load keeps failing without being loaded again", async () => {
  let loads = 0;
  const models = await openLocalModels(MODELS_DIR, {
    load: () => {
      loads++;
      return loads === 1
        ? Promise.reject(new Error("out of memory"))
        : Promise.resolve({} as Classifier);
    },
  });
  await assert.rejects(models.classifier(), /out of memory/);
  await assert.rejects(models.classifier(), /out of memory/);
  assert.equal(loads, 1);
});

Deno.test("a model's card tells what the loaded model serves, and its manifest whole", async () => {
  const dir = await modelFolder(["second"]);
  try {
    const models = await openLocalModels(dir);
    for (const name of models.names) {
      const { manifest, ...served } = await models.card(name);
      const manifestText = await Deno.readTextFile(`${dir}/${name}.json`);
      assert.deepEqual(manifest, JSON.parse(manifestText));
      assert.deepEqual(served, (await models.classifier(name)).info);
    }
    const [seed, second] = await Promise.all(models.names.map((name) => models.card(name)));
    assert.notEqual(seed!.sha256, second!.sha256, "each copy has weights of its own");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(`${WORKER_MODELS} imports what models/index.json lists (re-run \`deno task build\`)`, async () => {
  const committed = await Deno.readTextFile(`${ROOT}${WORKER_MODELS}`);
  assert.equal(committed, workerModelsModule(await readModelIndex()));
  assert.match(
    workerModelsModule({ default: "b", models: ["a", "b"] }),
    /import weights1 from "\.\.\/models\/b\.safetensors";\n.*"\.\.\/models\/b\.json"/,
  );
});
