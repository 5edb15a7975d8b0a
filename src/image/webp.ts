/**
 * WebP decoding through libwebp compiled to wasm (@jsquash/webp). workerd refuses to compile wasm
 * from bytes, so the host hands in a precompiled module once at startup:
 *
 * ```ts ignore
 * import webpWasm from "@jsquash/webp/codec/dec/webp_dec.wasm"; // Worker: bundled as a module
 * initWebpDecoder(webpWasm);
 * ```
 *
 * In Deno, {@linkcode compileWebpModule} from src/deno.ts builds the module from the npm package.
 */
import { init as initJsquash } from "@jsquash/webp/decode.js";
import { default as decodeWithJsquash } from "@jsquash/webp/decode.js";
import { readDimensions } from "./_header.ts";
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
 * Decodes a WebP (lossy or lossless; of an animation, the first frame on its canvas) to RGBA.
 *
 * @throws {ImageError} `unsupported_media_type` when {@linkcode initWebpDecoder} was not called;
 * `invalid_image` when an animation's first frame is missing or does not fit its canvas.
 */
export async function decodeWebp(bytes: Uint8Array): Promise<RgbaImage> {
  if (!ready) {
    throw new ImageError(
      "unsupported_media_type",
      "WebP decoding is not enabled on this server: initWebpDecoder(module) was never called",
    );
  }
  await ready;
  const frame = firstAnimationFrame(bytes);
  const image = await decodeStill(frame?.webp ?? bytes);
  return frame ? onCanvas(image, frame) : image;
}

async function decodeStill(bytes: Uint8Array): Promise<RgbaImage> {
  // The codec takes an ArrayBuffer; copy so a view into a larger buffer passes only its bytes.
  const image = await decodeWithJsquash(bytes.slice().buffer);
  // Copy out: the result may be a view on wasm memory that the next decode reuses.
  return { width: image.width, height: image.height, data: new Uint8ClampedArray(image.data) };
}

/** An animation's first frame as a still WebP of its own, and where it sits on the canvas. */
interface Frame {
  webp: Uint8Array;
  x: number;
  y: number;
  width: number;
  height: number;
  canvasWidth: number;
  canvasHeight: number;
}

/** VP8X's flag for an animation. */
const ANIMATION = 0x02;
const ALPHA = 0x10;

/**
 * libwebp's simple decoder refuses animations, so the first ANMF frame's ALPH and VP8/VP8L chunks
 * are rewrapped as a still WebP (RIFF, VP8X with the frame's size). `undefined` for a file that is not
 * an animation.
 */
function firstAnimationFrame(bytes: Uint8Array): Frame | undefined {
  const chunks = riffChunks(bytes, 12);
  const vp8x = chunks[0]?.type === "VP8X" ? chunks[0].body : undefined;
  if (!vp8x || vp8x.length < 10 || ((vp8x[0] ?? 0) & ANIMATION) === 0) return undefined;
  const anmf = chunks.find((c) => c.type === "ANMF")?.body;
  if (!anmf || anmf.length < 16) {
    throw new ImageError("invalid_image", "The animated webp has no frame");
  }
  const frameChunks = riffChunks(anmf, 16).filter((c) => c.type !== "UNKN");
  const image = frameChunks.find((c) => c.type === "VP8 " || c.type === "VP8L");
  if (!image) throw new ImageError("invalid_image", "The animated webp's first frame has no image");
  const alph = frameChunks.find((c) => c.type === "ALPH");
  const frame = {
    x: uint24(anmf, 0) * 2,
    y: uint24(anmf, 3) * 2,
    width: uint24(anmf, 6) + 1,
    height: uint24(anmf, 9) + 1,
    canvasWidth: uint24(vp8x, 4) + 1,
    canvasHeight: uint24(vp8x, 7) + 1,
  };
  // Only the canvas was priced: the frame must lie on it, and its bitstream must be the frame's
  // size, before libwebp allocates for it.
  if (
    frame.x + frame.width > frame.canvasWidth || frame.y + frame.height > frame.canvasHeight
  ) {
    throw new ImageError(
      "invalid_image",
      `The animated webp's first frame (${frame.width}×${frame.height} at ${frame.x},${frame.y}) does not fit its ${frame.canvasWidth}×${frame.canvasHeight} canvas`,
    );
  }
  const bitstream = readDimensions(riff([image.whole]), "webp");
  if (bitstream.width !== frame.width || bitstream.height !== frame.height) {
    throw new ImageError(
      "invalid_image",
      `The animated webp's first frame declares ${frame.width}×${frame.height} but holds a ${bitstream.width}×${bitstream.height} image`,
    );
  }
  // Wrapped in a VP8X of the frame's size, which libwebp holds the bitstream to.
  const alpha = alph !== undefined || image.type === "VP8L";
  const parts = [
    chunk("VP8X", vp8xBody(frame.width, frame.height, alpha)),
    alph?.whole,
    image.whole,
  ];
  return { ...frame, webp: riff(parts.filter((p) => p !== undefined)) };
}

/** The frame placed on a transparent canvas, as a viewer shows the first frame. */
function onCanvas(image: RgbaImage, frame: Frame): RgbaImage {
  const { canvasWidth: width, canvasHeight: height, x, y } = frame;
  if (x + image.width > width || y + image.height > height) {
    throw new ImageError(
      "invalid_image",
      `The animated webp's first frame (${image.width}×${image.height} at ${x},${y}) does not fit its ${width}×${height} canvas`,
    );
  }
  if (image.width === width && image.height === height) return image;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let row = 0; row < image.height; row++) {
    const from = row * image.width * 4;
    data.set(image.data.subarray(from, from + image.width * 4), ((y + row) * width + x) * 4);
  }
  return { width, height, data };
}

interface Chunk {
  type: string;
  body: Uint8Array;
  /** Header, body and padding. */
  whole: Uint8Array;
}

/** The RIFF chunks from `offset` on; a chunk cut short ends the list. */
function riffChunks(bytes: Uint8Array, offset: number): Chunk[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: Chunk[] = [];
  while (offset + 8 <= bytes.length) {
    const size = view.getUint32(offset + 4, true);
    const end = offset + 8 + size + (size & 1);
    if (offset + 8 + size > bytes.length) break;
    chunks.push({
      type: String.fromCharCode(...bytes.subarray(offset, offset + 4)),
      body: bytes.subarray(offset + 8, offset + 8 + size),
      whole: bytes.subarray(offset, Math.min(end, bytes.length)),
    });
    offset = end;
  }
  return chunks;
}

function vp8xBody(width: number, height: number, alpha: boolean): Uint8Array {
  const body = new Uint8Array(10);
  body[0] = alpha ? ALPHA : 0;
  putUint24(body, 4, width - 1);
  putUint24(body, 7, height - 1);
  return body;
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + body.length + (body.length & 1));
  out.set(Array.from(type, (c) => c.charCodeAt(0)));
  new DataView(out.buffer).setUint32(4, body.length, true);
  out.set(body, 8);
  return out;
}

function riff(parts: Uint8Array[]): Uint8Array {
  const size = 4 + parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(8 + size);
  out.set(Array.from("RIFF", (c) => c.charCodeAt(0)));
  new DataView(out.buffer).setUint32(4, size, true);
  out.set(Array.from("WEBP", (c) => c.charCodeAt(0)), 8);
  let offset = 12;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function uint24(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] ?? 0) | ((bytes[offset + 1] ?? 0) << 8) | ((bytes[offset + 2] ?? 0) << 16);
}

function putUint24(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >> 8) & 0xff;
  bytes[offset + 2] = (value >> 16) & 0xff;
}
