/** Compiles the WebP decoder's wasm in Deno (tests, `deno serve`); a Worker imports the .wasm instead. */
import { createRequire } from "node:module";
import { WEBP_WASM_SPECIFIER } from "./webp.ts";

/** Compiles webp_dec.wasm from the npm package that deno.json pins. */
export async function compileWebpModule(): Promise<WebAssembly.Module> {
  const path = createRequire(import.meta.url).resolve(WEBP_WASM_SPECIFIER);
  return await WebAssembly.compile(await Deno.readFile(path));
}
