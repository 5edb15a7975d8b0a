/** Compiles codec.wasm in Deno (tests, `deno task serve`); a Worker imports the .wasm instead. */

/** The committed binary, beside its source. */
export const CODEC_WASM = new URL("./codec.wasm", import.meta.url);

/** Compiles src/image/codec/codec.wasm, for {@linkcode initCodec}. */
export async function compileCodec(): Promise<WebAssembly.Module> {
  return await WebAssembly.compile(await Deno.readFile(CODEC_WASM));
}
