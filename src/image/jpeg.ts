/**
 * JPEG decoding through libjpeg-turbo/mozjpeg compiled to wasm (@jsquash/jpeg): about 3× faster than
 * jpeg-js on a 640×480 photo. workerd refuses to compile wasm from bytes, so the host hands in a
 * precompiled module once at startup:
 *
 * ```ts ignore
 * import jpegWasm from "@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm"; // Worker: bundled as a module
 * initJpegDecoder(jpegWasm);
 * ```
 *
 * In Deno, {@linkcode compileJpegModule} from `jpeg_deno.ts` builds the module from the npm package.
 */
import mozjpegFactory, { type MozJPEGModule } from "@jsquash/jpeg/codec/dec/mozjpeg_dec.js";
import { initEmscriptenModule } from "@jsquash/jpeg/utils.js";
import { ImageError } from "./errors.ts";
import type { RgbaImage } from "./types.ts";

/** The decoder binary's path inside the npm package, for `import` in a Worker or `resolve` in Deno. */
export const JPEG_WASM_SPECIFIER = "@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm";

let compiled: WebAssembly.Module | undefined;
let ready: Promise<MozJPEGModule> | undefined;
let decoder: MozJPEGModule | undefined;
/** libjpeg's warnings during the current (synchronous) decode; it prints them instead of failing. */
let warnings: string[] = [];

/** A fresh decoder instance from the compiled module. */
function instantiate(): Promise<MozJPEGModule> {
  decoder = undefined;
  ready = initEmscriptenModule(mozjpegFactory, compiled!, {
    printErr: (message: string) => warnings.push(message),
  }).then((instance) => (decoder = instance));
  return ready;
}

/**
 * Instantiates the JPEG decoder from a precompiled module. Call once before decoding JPEG;
 * later calls are ignored.
 *
 * @param module The compiled `mozjpeg_dec.wasm` ({@linkcode JPEG_WASM_SPECIFIER}).
 * @returns Resolves when the decoder is ready; rejects if the module is not that binary.
 */
export function initJpegDecoder(module: WebAssembly.Module): Promise<void> {
  if (!(module instanceof WebAssembly.Module)) {
    throw new TypeError(`initJpegDecoder() needs a WebAssembly.Module: got ${typeof module}`);
  }
  compiled ??= module;
  return (ready ?? instantiate()).then(() => {});
}

/**
 * Decodes a baseline or progressive JPEG to RGBA (EXIF orientation is not applied, as before).
 *
 * @throws {ImageError} `unsupported_media_type` when {@linkcode initJpegDecoder} was not called;
 * `invalid_image` when libjpeg fails or the data ends early (libjpeg would pad it with grey).
 */
export async function decodeJpeg(bytes: Uint8Array): Promise<RgbaImage> {
  if (!ready) {
    throw new ImageError(
      "unsupported_media_type",
      "JPEG decoding is not enabled on this server: initJpegDecoder(module) was never called",
    );
  }
  const jpeg = decoder ?? await ready;
  // The decode below is synchronous, so the warnings it leaves are its own.
  warnings = [];
  let image: ImageData | null;
  try {
    image = jpeg.decode(bytes.slice(), false); // a copy: the binding wants a plain ArrayBuffer
  } catch (error) {
    // libjpeg's error exits, and wasm traps on some corrupt files, leave this instance's memory in
    // an unknown state: after enough of them even intact JPEGs failed (found by `deno task fuzz`).
    // So a failed decode retires the instance; the next decode gets a fresh one.
    instantiate();
    // Emscripten throws libjpeg's error exits as non-Error objects; its message went to printErr.
    throw new Error(warnings.join("; ") || String(error), { cause: error });
  }
  if (
    !(image?.data instanceof Uint8ClampedArray) || warnings.some((w) => /premature end/i.test(w))
  ) {
    throw new Error(warnings.join("; ") || "decoding failed");
  }
  // The binding copies the pixels out of wasm memory, so the next decode cannot overwrite them.
  return { width: image.width, height: image.height, data: image.data };
}
