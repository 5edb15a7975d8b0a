/**
 * What each folder of src/ may import, read from `deno info`'s module graph. Passing proves the layout
 * still draws the architecture: image code never reaches tfjs, the model never reaches Hono or the
 * HTTP side, the middleware never reaches the model or images, and nothing the Worker runs (model,
 * image, server) reaches training, data or the Deno entry. The Worker bundle's own contents are
 * checked by worker_bundle_test.ts.
 */
import assert from "node:assert/strict";

const SRC = new URL("../src/", import.meta.url);

/** The specifiers of every module `file` imports, directly or not, as paths from src/ or npm names. */
async function reached(file: string): Promise<string[]> {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL(file, SRC).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(info.success, `deno info ${file}: ${new TextDecoder().decode(info.stderr)}`);
  const graph = JSON.parse(new TextDecoder().decode(info.stdout)) as {
    modules: { specifier: string }[];
  };
  return graph.modules.map(({ specifier }) =>
    specifier.startsWith(SRC.href) ? specifier.slice(SRC.href.length) : specifier
  );
}

/** The TypeScript files of a folder of src/, its subfolders included. */
async function sources(folder: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL(folder, SRC))) {
    if (entry.isDirectory && entry.name !== "vendor") {
      files.push(...await sources(`${folder}${entry.name}/`));
    } else if (entry.isFile && entry.name.endsWith(".ts")) files.push(`${folder}${entry.name}`);
  }
  return files.sort();
}

async function assertNoneReached(folder: string, forbidden: RegExp): Promise<void> {
  for (const file of await sources(folder)) {
    assert.deepEqual(
      (await reached(file)).filter((s) => forbidden.test(s)),
      [],
      `${file} imports what it must not`,
    );
  }
}

const WORKER_FREE = /^(train|data)\/|^deno\.ts$/;

Deno.test("image code never imports tfjs, the model, the server, training or data", async () => {
  await assertNoneReached("image/", /@tensorflow|^(model|server|train|data)\/|^deno\.ts$/);
});

Deno.test("the model never imports Hono, the server, training or data", async () => {
  await assertNoneReached("model/", /\/hono@|^(server|train|data)\/|^deno\.ts$/);
});

Deno.test("the server never imports training, data or the Deno entry", async () => {
  await assertNoneReached("server/", WORKER_FREE);
});

Deno.test("the middleware never imports the model, images or tfjs: it guards, it does not read", async () => {
  await assertNoneReached("server/middleware/", /@tensorflow|^(model|image)\//);
});

Deno.test("the Worker entry never imports training, data or the Deno entry", async () => {
  assert.deepEqual((await reached("worker.ts")).filter((s) => WORKER_FREE.test(s)), []);
});
