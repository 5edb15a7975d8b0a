/**
 * `deno task build:kernels`: compiles our kernels in src/model/kernels/ (conv_pool.c, the seed Net's
 * fused first block, and layers.c, general per-layer kernels) to WebAssembly SIMD with clang (Debian:
 * `apt-get install clang lld`), each into the .wasm beside it, which is committed so that training and
 * the Worker need no C toolchain.
 *
 * Each module runs inside tfjs-backend-wasm's memory, so it must import that memory and nothing else;
 * tests/kernels_test.ts and tests/layers_test.ts check what they write, and that a fresh build of each
 * source is byte for byte the committed binary.
 */
import { compileWasm, exportedFunctions } from "./lib/clang.ts";
import { CONV_POOL_WASM, LAYERS_WASM } from "../src/deno.ts";

/** Each kernel module: its source and the functions it must export (sorted). */
const KERNELS = {
  convPool: {
    source: new URL("../src/model/kernels/conv_pool.c", import.meta.url).pathname,
    exports: ["conv_pool_backward", "conv_pool_forward", "conv_pool_scratch_bytes"],
  },
  layers: {
    source: new URL("../src/model/kernels/layers.c", import.meta.url).pathname,
    exports: [
      "adam_step",
      "conv3x3_filter_grad",
      "conv3x3_forward",
      "conv3x3_relu_pool_forward",
      "max_pool_2x2_backward",
    ],
  },
};

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
export function buildConvPool(out: string): Promise<void> {
  return buildKernel(KERNELS.convPool, out);
}

/** Compiles layers.c to `out`; throws with clang's message, or with how to install it. */
export function buildLayers(out: string): Promise<void> {
  return buildKernel(KERNELS.layers, out);
}

async function buildKernel(
  kernel: { source: string; exports: string[] },
  out: string,
): Promise<void> {
  const EXPORTS = kernel.exports;
  await compileWasm(out, {
    args: [...CLANG_ARGS, kernel.source],
    packages: "clang lld",
    check(module, bytes) {
      if (mayUseStack(bytes)) {
        throw new Error(
          "the kernel must not use a stack: it would be in tfjs' memory, over tfjs' own data",
        );
      }
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

/**
 * Whether a module's code may read or write its global 0, the stack pointer wasm-ld gives it (a
 * stack that would live in the memory the kernel imports). Conservative: every byte 0x23
 * (`global.get`) or 0x24 (`global.set`) in the code section is read as that instruction, and its
 * index (unsigned LEB128, which wasm-ld pads to five bytes) compared with 0, even where the byte is
 * part of another instruction.
 */
export function mayUseStack(bytes: Uint8Array): boolean {
  const leb = (at: number): [value: number, next: number] => {
    let value = 0, shift = 0, byte;
    do {
      byte = bytes[at++] ?? 0;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80 && shift < 35);
    return [value, at];
  };
  let at = 8; // after the magic number and version
  while (at < bytes.length) {
    const id = bytes[at]!;
    const [size, start] = leb(at + 1);
    if (id === 10) {
      for (let i = start; i < start + size; i++) {
        if ((bytes[i] === 0x23 || bytes[i] === 0x24) && leb(i + 1)[0] === 0) return true;
      }
      return false;
    }
    at = start + size;
  }
  return false;
}

if (import.meta.main) {
  try {
    for (
      const [build, out] of [[buildConvPool, CONV_POOL_WASM], [buildLayers, LAYERS_WASM]] as const
    ) {
      await build(out.pathname);
      console.log(`Built ${out.pathname} (${(await Deno.stat(out)).size} bytes)`);
    }
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
