/**
 * `deno task build:kernels [--out FILE]`: compiles src/model/kernels/conv_pool.c to WebAssembly SIMD with
 * clang (Debian: `apt-get install clang lld`) into src/model/kernels/conv_pool.wasm, which is committed so
 * that training and the Worker need no C toolchain.
 *
 * The module runs inside tfjs-backend-wasm's memory, so it must import that memory and nothing else;
 * tests/kernels_test.ts checks that it writes nowhere but its outputs and scratch, and that a fresh
 * build of the source computes exactly what the committed binary does.
 */
import { parseArgs } from "node:util";
import { CONV_POOL_WASM } from "../src/deno.ts";

const SOURCE = new URL("../src/model/kernels/conv_pool.c", import.meta.url).pathname;
const EXPORTS = ["conv_pool_backward", "conv_pool_forward", "conv_pool_scratch_bytes"];

/**
 * clang's flags: wasm32 with SIMD, no libc, no entry point, and the memory imported from tfjs.
 * Float arithmetic stays IEEE and unfused (no -ffast-math, no relaxed SIMD): the TypeScript kernel
 * reproduces it bit for bit.
 */
export const CLANG_ARGS = [
  "--target=wasm32",
  "-msimd128",
  "-O3",
  "-ffp-contract=off",
  "-nostdlib",
  "-ffreestanding",
  "-Wall",
  "-Wextra",
  "-Werror",
  "-Wl,--no-entry",
  "-Wl,--import-memory",
];

/** Compiles conv_pool.c to `out`; throws with clang's message, or with how to install it. */
export async function buildConvPool(out: string): Promise<void> {
  const tmp = `${out}.tmp-${Deno.pid}`;
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command("clang", { args: [...CLANG_ARGS, "-o", tmp, SOURCE] }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error("clang is not installed: apt-get install clang lld (Debian/Ubuntu)");
    }
    throw error;
  }
  try {
    if (!result.success) {
      throw new Error(`clang failed:\n${new TextDecoder().decode(result.stderr).trim()}`);
    }
    const module = await WebAssembly.compile(await Deno.readFile(tmp));
    const imports = WebAssembly.Module.imports(module).map((i) =>
      `${i.module}.${i.name}:${i.kind}`
    );
    if (imports.join() !== "env.memory:memory") {
      throw new Error(`the kernel must import only env.memory, it imports ${imports.join(", ")}`);
    }
    const exports = WebAssembly.Module.exports(module).filter((e) => e.kind === "function");
    const names = exports.map((e) => e.name).sort();
    if (names.join() !== EXPORTS.join()) {
      throw new Error(
        `the kernel must export ${EXPORTS.join(", ")}, it exports ${names.join(", ")}`,
      );
    }
    await Deno.rename(tmp, out); // whole or not at all
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { out: { type: "string", default: CONV_POOL_WASM.pathname } },
  });
  try {
    await buildConvPool(values.out);
    console.log(`Built ${values.out} (${(await Deno.stat(values.out)).size} bytes)`);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
