/**
 * `deno task build`: refuses a corrupt or mismatched model, bundles the Worker offline with
 * `wrangler deploy --dry-run --outdir dist`, and prints the bundle's size raw and gzipped.
 */
import { startBackend } from "../src/backend_deno.ts";
import { loadClassifier } from "../src/classifier.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const MODEL = `${ROOT}models/mnist-cnn`;
const OUT = `${ROOT}dist`;
const WRANGLER = "npm:wrangler@4.164.0";
/** The Workers Free plan's compressed size limit is 3 MiB; we hold ourselves to 1 MiB. */
const GZIP_BUDGET = 1024 * 1024;

// The loader a Worker runs at start-up: format, names, shapes and sha256.
await startBackend("wasm");
try {
  const [weights, manifest] = await Promise.all([
    Deno.readFile(`${MODEL}.safetensors`),
    Deno.readTextFile(`${MODEL}.json`).then(JSON.parse),
  ]);
  const { info } = await loadClassifier(weights, manifest);
  console.log(`model: ${info.name} ${info.sha256.slice(0, 12)}… checked`);
} catch (error) {
  console.error(`build refused: the model in models/ does not load: ${(error as Error).message}`);
  Deno.exit(1);
}

await Deno.remove(OUT, { recursive: true }).catch(() => {});
const wrangler = await new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", WRANGLER, "deploy", "--dry-run", "--outdir", OUT, ...Deno.args],
  cwd: ROOT,
  env: { WRANGLER_SEND_METRICS: "false" },
  stdin: "null",
}).spawn().status;
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
  `bundle: ${kib(raw)} raw, ${kib(gzip)} gzip (budget ${kib(GZIP_BUDGET)} gzip) in dist/`,
);
if (gzip > GZIP_BUDGET) {
  console.error("build refused: the gzipped bundle is over budget");
  Deno.exit(1);
}

async function gzipSize(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}
