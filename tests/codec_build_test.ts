/**
 * src/image/codec/codec.wasm is committed so the Worker needs no C toolchain. Passing proves the
 * binary is exactly what its sources in the repository build to (clang, wasi-libc; see
 * scripts/build_codec.ts), so the C that was reviewed is the code that runs.
 */
import assert from "node:assert/strict";
import { buildCodec } from "../scripts/build_codec.ts";
import { CODEC_WASM } from "../src/deno.ts";

Deno.test("a fresh build of codec.c and its vendored libraries is byte for byte the committed codec.wasm", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mnist-edge-codec-" });
  try {
    await buildCodec(`${dir}/codec.wasm`);
    const fresh = await Deno.readFile(`${dir}/codec.wasm`);
    const committed = await Deno.readFile(CODEC_WASM);
    assert.equal(fresh.length, committed.length, "size");
    assert.ok(
      fresh.every((byte, i) => byte === committed[i]),
      "the bytes differ: deno task build:codec",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
