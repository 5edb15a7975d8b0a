/** Starts a tfjs backend in Deno, compiling the WebAssembly from the npm package and from src/kernels/. */
import { createRequire } from "node:module";
import {
  type BackendName,
  SIMD_WASM_SPECIFIER,
  useCpuBackend,
  useWasmBackend,
  type WasmModules,
} from "./backend.ts";

/** Where the committed build of src/kernels/conv_pool.c is. */
export const CONV_POOL_WASM = new URL("./kernels/conv_pool.wasm", import.meta.url);

/** Compiles tfjs-backend-wasm-simd.wasm (from the npm package that deno.json pins) and our kernels. */
export async function compileWasmModules(): Promise<WasmModules> {
  const tfjsPath = createRequire(import.meta.url).resolve(SIMD_WASM_SPECIFIER);
  const [tfjs, convPool] = await Promise.all(
    [tfjsPath, CONV_POOL_WASM].map(async (path) => WebAssembly.compile(await Deno.readFile(path))),
  );
  return { tfjs: tfjs!, convPool: convPool! };
}

/** Makes `name` the active tfjs backend. */
export async function startBackend(name: BackendName): Promise<void> {
  if (name === "cpu") await useCpuBackend();
  else await useWasmBackend(await compileWasmModules());
}
