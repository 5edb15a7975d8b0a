/**
 * Starts a tfjs backend in Deno: wasm, compiling the WebAssembly from the npm package and from
 * src/kernels/, or the pure-JS cpu backend for comparison (never in the Worker).
 */
import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import {
  type BackendName,
  SIMD_WASM_SPECIFIER,
  useWasmBackend,
  type WasmModules,
} from "./backend.ts";
import { registerCpuConvPool } from "./kernels/conv_pool_cpu.ts";

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

/** Makes the pure-JS cpu backend active, with our kernels (for parity tests and speed comparisons). */
export async function useCpuBackend(): Promise<void> {
  registerCpuConvPool();
  if (!(await tf.setBackend("cpu"))) throw new Error("tfjs could not start the cpu backend");
}

/** Makes `name` the active tfjs backend. */
export async function startBackend(name: BackendName): Promise<void> {
  if (name === "cpu") await useCpuBackend();
  else await useWasmBackend(await compileWasmModules());
}
