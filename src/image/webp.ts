/**
 * WebP decoding through libwebp compiled to wasm (@jsquash/webp). workerd refuses to compile wasm
 * from bytes, so the host hands in a precompiled module once at startup:
 *
 * ```ts ignore
 * import webpWasm from "@jsquash/webp/codec/dec/webp_dec.wasm"; // Worker: bundled as a module
 * initWebpDecoder(webpWasm);
 * ```
 *
 * In Deno, {@linkcode compileWebpModule} from `webp_deno.ts` builds the module from the npm package.
 */
import { init as initJsquash } from "@jsquash/webp/decode.js";
import { default as decodeWithJsquash } from "@jsquash/webp/decode.js";
import { ImageError } from "./errors.ts";
import type { RgbaImage } from "./types.ts";

/** The decoder binary's path inside the npm package, for `import` in a Worker or `resolve` in Deno. */
export const WEBP_WASM_SPECIFIER = "@jsquash/webp/codec/dec/webp_dec.wasm";

/** The package's own .d.ts omits the `WebAssembly.Module` overload that its code accepts. */
const initWithModule = initJsquash as unknown as (module: WebAssembly.Module) => Promise<void>;

let ready: Promise<void> | undefined;

/**
 * Instantiates the WebP decoder from a precompiled module. Call once before decoding WebP;
 * later calls are ignored.
 *
 * @param module The compiled `webp_dec.wasm` ({@linkcode WEBP_WASM_SPECIFIER}).
 * @returns Resolves when the decoder is ready; rejects if the module is not that binary.
 */
export function initWebpDecoder(module: WebAssembly.Module): Promise<void> {
  if (!(module instanceof WebAssembly.Module)) {
    throw new TypeError(`initWebpDecoder() needs a WebAssembly.Module: got ${typeof module}`);
  }
  ready ??= initWithModule(module);
  return ready;
}

/**
 * Decodes a WebP (lossy or lossless; the first frame of an animation) to RGBA.
 *
 * @throws {ImageError} `unsupported_media_type` when {@linkcode initWebpDecoder} was not called.
 */
export async function decodeWebp(bytes: Uint8Array): Promise<RgbaImage> {
  if (!ready) {
    throw new ImageError(
      "unsupported_media_type",
      "WebP decoding is not enabled on this server: initWebpDecoder(module) was never called",
    );
  }
  await ready;
  // The codec takes an ArrayBuffer; copy so a view into a larger buffer passes only its bytes.
  const image = await decodeWithJsquash(bytes.slice().buffer);
  // Copy out: the result may be a view on wasm memory that the next decode reuses.
  return { width: image.width, height: image.height, data: new Uint8ClampedArray(image.data) };
}
