/** Compiles the JPEG decoder's wasm in Deno (tests, `deno serve`); a Worker imports the .wasm instead. */
import { createRequire } from "node:module";
import { JPEG_WASM_SPECIFIER } from "./jpeg.ts";

/** Compiles mozjpeg_dec.wasm from the npm package that deno.json pins. */
export async function compileJpegModule(): Promise<WebAssembly.Module> {
  const path = createRequire(import.meta.url).resolve(JPEG_WASM_SPECIFIER);
  return await WebAssembly.compile(await Deno.readFile(path));
}
