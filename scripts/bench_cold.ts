/**
 * `deno task bench:cold`: the size of the Worker bundle `wrangler deploy` uploads, and how long a
 * fresh isolate on plain `workerd serve` takes to answer its first request (GET /health: tfjs, our
 * kernel, the decoders and the model start). Each round builds and starts a new workerd.
 *
 * The last line printed is one JSON object with every figure.
 *
 *   deno task bench:cold [--rounds 3]
 */
import { buildWorker, startWorkerdServe } from "./lib/wrangler.ts";
import { parseFlags } from "./lib/flags.ts";

const values = parseFlags("bench:cold", { rounds: { type: "string", default: "3" } });
const rounds = Number(values.rounds);
if (!Number.isSafeInteger(rounds) || rounds < 1) {
  throw new RangeError(`'--rounds' must be an integer ≥ 1: current value is ${values.rounds}`);
}

const sizes = await bundleSizes();
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
console.log(
  `worker.js: ${kib(sizes.workerJs.raw)} raw, ${kib(sizes.workerJs.gzip)} gzip; ` +
    `with its modules: ${kib(sizes.total.raw)} raw, ${kib(sizes.total.gzip)} gzip`,
);

const firstRequestMs: number[] = [];
for (let round = 1; round <= rounds; round++) {
  await using worker = await startWorkerdServe({ vars: { RATE_LIMIT: "off" } });
  firstRequestMs.push(worker.firstRequestMs);
  console.log(`round ${round}: first request in ${worker.firstRequestMs.toFixed(0)} ms`);
}
const sorted = firstRequestMs.toSorted((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)]!;
console.log(`first request on workerd serve: median ${median.toFixed(0)} ms of ${rounds}`);
console.log(JSON.stringify({
  worker_js_bytes: sizes.workerJs.raw,
  worker_js_gzip_bytes: sizes.workerJs.gzip,
  bundle_bytes: sizes.total.raw,
  bundle_gzip_bytes: sizes.total.gzip,
  first_request_ms: firstRequestMs.map((ms) => Math.round(ms)),
  first_request_median_ms: Math.round(median),
}));

/** Builds into a temporary folder and measures worker.js and everything uploaded with it. */
async function bundleSizes() {
  const dir = await Deno.makeTempDir({ prefix: "mnist-edge-bench-cold-" });
  try {
    await buildWorker(dir);
    const workerJs = { raw: 0, gzip: 0 }, total = { raw: 0, gzip: 0 };
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || entry.name.endsWith(".map") || entry.name === "README.md") continue;
      const bytes = await Deno.readFile(`${dir}/${entry.name}`);
      const gzip = await gzipSize(bytes);
      total.raw += bytes.length;
      total.gzip += gzip;
      if (entry.name === "worker.js") [workerJs.raw, workerJs.gzip] = [bytes.length, gzip];
    }
    return { workerJs, total };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function gzipSize(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}
