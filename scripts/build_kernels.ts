/**
 * `deno task build:kernels [--out FILE]`: compiles src/model/kernels/conv_pool.c to WebAssembly SIMD with
 * clang (Debian: `apt-get install clang lld`) into src/model/kernels/conv_pool.wasm, which is committed so
 * that training and the Worker need no C toolchain.
 *
 * The module runs inside tfjs-backend-wasm's memory, so it must import that memory and nothing else;
 * tests/kernels_test.ts checks that it writes nowhere but its outputs and scratch, and that a fresh
 * build of the source computes exactly what the committed binary does.
 */
import { buildMain, compileWasm, exportedFunctions } from "./lib/clang.ts";
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
  await compileWasm(out, {
    args: [...CLANG_ARGS, SOURCE],
    packages: "clang lld",
    check(module) {
      const imports = WebAssembly.Module.imports(module).map((i) =>
        `${i.module}.${i.name}:${i.kind}`
      );
      if (imports.join() !== "env.memory:memory") {
        throw new Error(`the kernel must import only env.memory, it imports ${imports.join(", ")}`);
      }
      const names = exportedFunctions(module);
      if (names.join() !== EXPORTS.join()) {
        throw new Error(
          `the kernel must export ${EXPORTS.join(", ")}, it exports ${names.join(", ")}`,
        );
      }
    },
  });
}

if (import.meta.main) await buildMain(buildConvPool, CONV_POOL_WASM.pathname);
