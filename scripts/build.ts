/**
 * `deno task build`: refuses a bad model index or any model of it that does not load, writes
 * src/worker_models.js (the Worker's imports of every model the index lists), bundles the Worker
 * offline with `wrangler deploy --dry-run --outdir dist`, and prints the bundle's size raw and
 * gzipped.
 *
 *   deno task build [--models DIR] [--outdir DIR] [wrangler flags…]
 *
 * `--models DIR` (default models/) holds index.json and each model's `<name>.safetensors` and
 * `<name>.json`. The bytes that pass the check are the bytes bundled: from another folder they are
 * staged beside a copy of src/ and wrangler.toml, since src/worker_models.js imports ../models/.
 */
import { parseArgs } from "node:util";
import { readModelIndex, startBackend } from "../src/deno.ts";
import {
  createModelRegistry,
  modelFileNames,
  type ModelIndex,
  ModelIndexError,
} from "../src/model/registry.ts";
import { WRANGLER } from "./lib/wrangler.ts";
import { WORKER_MODELS, workerModelsModule } from "./lib/worker_models.ts";

const ROOT = new URL("../", import.meta.url).pathname;
/** The Workers Free plan's compressed size limit is 3 MiB; we hold ourselves to 1.5 MiB. */
const GZIP_BUDGET = 1536 * 1024;

const { values, tokens } = parseArgs({
  args: Deno.args,
  strict: false,
  tokens: true,
  options: { models: { type: "string" }, outdir: { type: "string" } },
});
const MODELS = await Deno.realPath(String(values.models ?? `${ROOT}models`)).catch(() =>
  String(values.models)
);
const OUT = String(values.outdir ?? `${ROOT}dist`);
// Everything else goes to wrangler as it came.
const ours = new Set(["models", "outdir"]);
const wranglerArgs = tokens.flatMap((t) =>
  t.kind === "option" && ours.has(t.name)
    ? []
    : t.kind === "option"
    ? [t.rawName, ...(t.value === undefined ? [] : [t.value])]
    : t.kind === "positional"
    ? [t.value]
    : []
);

/** One model's files as read: the bytes checked are the bytes bundled. */
type Files = { weights: Uint8Array<ArrayBuffer>; manifest: string };

let index: ModelIndex;
try {
  index = await readModelIndex(MODELS);
} catch (error) {
  if (!(error instanceof ModelIndexError)) throw error;
  console.error(`build refused: ${error.message}`);
  Deno.exit(1);
}
const files = new Map<string, Files>();
for (const name of index.models) {
  const paths = modelFileNames(name);
  files.set(name, {
    weights: await Deno.readFile(`${MODELS}/${paths.weights}`),
    manifest: await Deno.readTextFile(`${MODELS}/${paths.manifest}`),
  });
}
// Every model, through the loader a Worker runs on its first use: format, names, shapes and sha256.
const models = createModelRegistry(index, (name) => {
  const { weights, manifest } = files.get(name)!;
  return { weights, manifest: JSON.parse(manifest) };
}, { start: () => startBackend("wasm"), source: `${MODELS}/index.json` });
for (const name of index.models) {
  try {
    const { info } = await models.classifier(name);
    const size = (files.get(name)!.weights.length / 1024).toFixed(1);
    const partnerOf = Object.entries(index.partners ?? {})
      .filter(([, partner]) => partner === name).map(([model]) => `partner of ${model}`);
    const roles = [name === index.default && "default", name === index.reader && "reader"]
      .concat(partnerOf).filter(Boolean).join(", ");
    const role = roles ? ` (${roles})` : "";
    console.log(`model: ${info.name}${role} ${info.sha256.slice(0, 12)}… ${size} KiB checked`);
  } catch (error) {
    console.error(
      `build refused: the model ${name} in ${MODELS} does not load: ${(error as Error).message}`,
    );
    Deno.exit(1);
  }
}

const committed = MODELS === await Deno.realPath(`${ROOT}models`);
const project = committed ? ROOT : await stage(files);
// The Worker imports the models the index lists, and only those.
const generated = workerModelsModule(index);
const modulePath = `${project}${WORKER_MODELS}`;
if (await Deno.readTextFile(modulePath).catch(() => "") !== generated) {
  await Deno.writeTextFile(modulePath, generated);
  if (committed) console.log(`${WORKER_MODELS}: rewritten from models/index.json`);
}
await Deno.remove(OUT, { recursive: true }).catch(() => {});
const wrangler = await new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", WRANGLER, "deploy", "--dry-run", "--outdir", OUT, ...wranglerArgs],
  cwd: project,
  env: { WRANGLER_SEND_METRICS: "false" },
  stdin: "null",
}).spawn().status;
if (!committed) await Deno.remove(project, { recursive: true });
if (!wrangler.success) Deno.exit(wrangler.code || 1);

// What the Worker uploads: the script and the modules beside it, not source maps or the README.
let raw = 0, gzip = 0;
for await (const entry of Deno.readDir(OUT)) {
  if (!entry.isFile || entry.name.endsWith(".map") || entry.name === "README.md") continue;
  const bytes = await Deno.readFile(`${OUT}/${entry.name}`);
  raw += bytes.length;
  gzip += await gzipSize(bytes);
}
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
console.log(
  `bundle: ${kib(raw)} raw, ${kib(gzip)} gzip (budget ${kib(GZIP_BUDGET)} gzip) in ${OUT}`,
);
if (gzip > GZIP_BUDGET) {
  console.error("build refused: the gzipped bundle is over budget");
  Deno.exit(1);
}

async function gzipSize(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/** A temporary project: src/ and wrangler.toml copied, the index and checked model bytes in models/. */
async function stage(files: Map<string, Files>): Promise<string> {
  const dir = `${await Deno.makeTempDir({ prefix: "mnist-edge-build-" })}/`;
  const copy = await new Deno.Command("cp", {
    args: ["-r", `${ROOT}src`, `${ROOT}wrangler.toml`, dir],
  }).output();
  if (!copy.success) {
    throw new Error(`cannot stage the build: ${new TextDecoder().decode(copy.stderr)}`);
  }
  await Deno.mkdir(`${dir}models`);
  await Deno.copyFile(`${MODELS}/index.json`, `${dir}models/index.json`);
  for (const [name, { weights, manifest }] of files) {
    const paths = modelFileNames(name);
    await Deno.writeFile(`${dir}models/${paths.weights}`, weights);
    await Deno.writeTextFile(`${dir}models/${paths.manifest}`, manifest);
  }
  await Deno.symlink(`${ROOT}node_modules`, `${dir}node_modules`);
  return dir;
}
