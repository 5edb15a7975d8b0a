/** Starts a tfjs backend in Deno, compiling the SIMD binary from the installed npm package. */
import { createRequire } from "node:module";
import { type BackendName, SIMD_WASM_SPECIFIER, useCpuBackend, useWasmBackend } from "./backend.ts";

/** Compiles tfjs-backend-wasm-simd.wasm from the npm package that deno.json pins. */
export async function compileSimdModule(): Promise<WebAssembly.Module> {
  const path = createRequire(import.meta.url).resolve(SIMD_WASM_SPECIFIER);
  return await WebAssembly.compile(await Deno.readFile(path));
}

/** Makes `name` the active tfjs backend. */
export async function startBackend(name: BackendName): Promise<void> {
  if (name === "cpu") await useCpuBackend();
  else await useWasmBackend(await compileSimdModule());
}
