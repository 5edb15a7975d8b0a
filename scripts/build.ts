/**
 * `deno task build`: refuses a corrupt or mismatched model, bundles the Worker offline with
 * `wrangler deploy --dry-run --outdir dist`, and prints the bundle's size raw and gzipped.
 *
 *   deno task build [--models DIR] [--outdir DIR] [wrangler flags…]
 *
 * `--models DIR` (default models/) holds mnist-cnn.safetensors and mnist-cnn.json. The bytes that
 * pass the check are the bytes bundled: from another folder they are staged beside a copy of src/ and
 * wrangler.toml, since src/worker.ts imports ../models/.
 */
import { parseArgs } from "node:util";
import { startBackend } from "../src/deno.ts";
import { loadClassifier } from "../src/model/classifier.ts";
import { WRANGLER } from "./lib/wrangler.ts";

const ROOT = new URL("../", import.meta.url).pathname;
/** The Workers Free plan's compressed size limit is 3 MiB; we hold ourselves to 1 MiB. */
const GZIP_BUDGET = 1024 * 1024;

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

// The loader a Worker runs at start-up: format, names, shapes and sha256.
await startBackend("wasm");
let weights: Uint8Array<ArrayBuffer>, manifestText: string;
try {
  [weights, manifestText] = await Promise.all([
    Deno.readFile(`${MODELS}/mnist-cnn.safetensors`),
    Deno.readTextFile(`${MODELS}/mnist-cnn.json`),
  ]);
  const { info } = await loadClassifier(weights, JSON.parse(manifestText));
  console.log(`model: ${info.name} ${info.sha256.slice(0, 12)}… checked`);
} catch (error) {
  console.error(`build refused: the model in ${MODELS} does not load: ${(error as Error).message}`);
  Deno.exit(1);
}

const committed = MODELS === await Deno.realPath(`${ROOT}models`);
const project = committed ? ROOT : await stage(weights, manifestText);
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

/** A temporary project: src/ and wrangler.toml copied, the checked model bytes in models/. */
async function stage(weights: Uint8Array, manifest: string): Promise<string> {
  const dir = `${await Deno.makeTempDir({ prefix: "mnist-edge-build-" })}/`;
  const copy = await new Deno.Command("cp", {
    args: ["-r", `${ROOT}src`, `${ROOT}wrangler.toml`, dir],
  }).output();
  if (!copy.success) {
    throw new Error(`cannot stage the build: ${new TextDecoder().decode(copy.stderr)}`);
  }
  await Deno.mkdir(`${dir}models`);
  await Deno.writeFile(`${dir}models/mnist-cnn.safetensors`, weights);
  await Deno.writeTextFile(`${dir}models/mnist-cnn.json`, manifest);
  await Deno.symlink(`${ROOT}node_modules`, `${dir}node_modules`);
  return dir;
}
