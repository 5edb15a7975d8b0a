/**
 * MNIST test digits re-encoded the way real clients send them: scans and exports at 280×280, a canvas
 * with a transparent background, a photo-like JPEG with the digit off-centre on off-white paper, and
 * the other formats /classify accepts. Every encoder here is independent of the server's decoders.
 */
import { createRequire } from "node:module";
import { encode as encodePng } from "fast-png";
import jpeg from "jpeg-js";
import { GifWriter } from "omggif";
import encodeWebp, { init as initWebpEncoder } from "@jsquash/webp/encode.js";

/** How a client sends a digit: its bytes and the Content-Type it declares. */
export interface ClientImage {
  bytes: Uint8Array<ArrayBuffer>;
  type: string;
}

/** An 8-bit RGBA picture, rows top to bottom. */
interface Rgba {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

const SIDE = 28;

/** A 28×28 MNIST digit (0 background, 255 ink) scaled to `side`×`side` bilinearly, as ink coverage 0–1. */
export function inkAt(digit: Uint8Array, side: number): Float32Array {
  const ink = new Float32Array(side * side);
  const at = (x: number, y: number) =>
    digit[Math.min(SIDE - 1, Math.max(0, y)) * SIDE + Math.min(SIDE - 1, Math.max(0, x))]! / 255;
  for (let y = 0; y < side; y++) {
    const sy = (y + 0.5) * SIDE / side - 0.5, y0 = Math.floor(sy), fy = sy - y0;
    for (let x = 0; x < side; x++) {
      const sx = (x + 0.5) * SIDE / side - 0.5, x0 = Math.floor(sx), fx = sx - x0;
      ink[y * side + x] = (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) +
        (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
    }
  }
  return ink;
}

/** Dark ink (`ink` RGB) on paper (`paper` RGB), the digit `side` px wide at (left, top) of a canvas. */
function paint(
  digit: Uint8Array,
  canvas: { width: number; height: number },
  place: { left: number; top: number; side: number },
  colours: { ink: number; paper: [number, number, number] },
): Rgba {
  const { width, height } = canvas;
  const data = new Uint8ClampedArray(width * height * 4);
  const [pr, pg, pb] = colours.paper;
  for (let i = 0; i < width * height; i++) data.set([pr, pg, pb, 255], i * 4);
  const ink = inkAt(digit, place.side);
  for (let y = 0; y < place.side; y++) {
    for (let x = 0; x < place.side; x++) {
      const a = ink[y * place.side + x]!, i = ((place.top + y) * width + place.left + x) * 4;
      for (let c = 0; c < 3; c++) data[i + c] = data[i + c]! * (1 - a) + colours.ink * a;
    }
  }
  return { width, height, data };
}

const WHITE: [number, number, number] = [255, 255, 255];

function blackOnWhite(digit: Uint8Array, side = 280): Rgba {
  return paint(digit, { width: side, height: side }, { left: 0, top: 0, side }, {
    ink: 0,
    paper: WHITE,
  });
}

/** A 280×280 grayscale PNG, black ink on white: a scan or an export. */
export function blackOnWhitePng(digit: Uint8Array): ClientImage {
  const { width, height, data } = blackOnWhite(digit);
  const gray = new Uint8Array(width * height).map((_, i) => data[i * 4]!);
  return {
    bytes: new Uint8Array(encodePng({ width, height, data: gray, channels: 1 })),
    type: "image/png",
  };
}

/** A 280×280 RGBA PNG as a canvas exports it: black strokes whose alpha is the ink, transparent elsewhere. */
export function canvasPng(digit: Uint8Array): ClientImage {
  const side = 280, ink = inkAt(digit, side);
  const data = new Uint8Array(side * side * 4);
  for (let i = 0; i < side * side; i++) data[i * 4 + 3] = Math.round(ink[i]! * 255);
  return {
    bytes: new Uint8Array(encodePng({ width: side, height: side, data, channels: 4 })),
    type: "image/png",
  };
}

/** A 640×480 JPEG of off-white paper with a dark-grey digit 200 px tall, off-centre (placed by `seed`). */
export function offCentreJpeg(digit: Uint8Array, seed: number): ClientImage {
  const side = 200, left = 40 + (seed * 97) % 360, top = 20 + (seed * 53) % 240;
  const image = paint(digit, { width: 640, height: 480 }, { left, top, side }, {
    ink: 40,
    paper: [242, 238, 228],
  });
  const { data } = jpeg.encode({ ...image, data: image.data as unknown as Uint8Array }, 85);
  return { bytes: new Uint8Array(data), type: "image/jpeg" };
}

let webpReady: Promise<unknown> | undefined;

/** A 280×280 lossy WebP, black on white (libwebp's encoder, through @jsquash/webp). */
export async function blackOnWhiteWebp(digit: Uint8Array): Promise<ClientImage> {
  webpReady ??= (async () => {
    const path = createRequire(import.meta.url).resolve(
      "@jsquash/webp/codec/enc/webp_enc_simd.wasm",
    );
    const init = initWebpEncoder as unknown as (module: WebAssembly.Module) => Promise<unknown>;
    await init(await WebAssembly.compile(await Deno.readFile(path)));
  })();
  await webpReady;
  const image = blackOnWhite(digit) as unknown as ImageData;
  return { bytes: new Uint8Array(await encodeWebp(image, { quality: 85 })), type: "image/webp" };
}

/** A 280×280 GIF with a 256-grey palette, black on white. */
export function blackOnWhiteGif(digit: Uint8Array): ClientImage {
  const side = 280, { data } = blackOnWhite(digit, side);
  const palette = Array.from({ length: 256 }, (_, v) => (v << 16) | (v << 8) | v);
  const indices = new Uint8Array(side * side).map((_, i) => data[i * 4]!);
  const out = new Uint8Array(side * side * 2 + 2048);
  const writer = new GifWriter(out, side, side, { palette });
  writer.addFrame(0, 0, side, side, indices);
  return { bytes: out.slice(0, writer.end()), type: "image/gif" };
}

/** A 280×280 24-bit BMP (bottom-up rows, BGR, rows padded to 4 bytes), black on white. */
export function blackOnWhiteBmp(digit: Uint8Array): ClientImage {
  const side = 280, { data } = blackOnWhite(digit, side);
  const stride = Math.ceil(side * 3 / 4) * 4, offset = 14 + 40, size = offset + stride * side;
  const bytes = new Uint8Array(size), view = new DataView(bytes.buffer);
  bytes.set([0x42, 0x4d]); // "BM"
  view.setUint32(2, size, true);
  view.setUint32(10, offset, true);
  view.setUint32(14, 40, true); // BITMAPINFOHEADER
  view.setInt32(18, side, true);
  view.setInt32(22, side, true); // positive: bottom-up
  view.setUint16(26, 1, true);
  view.setUint16(28, 24, true);
  view.setUint32(34, stride * side, true);
  for (let y = 0; y < side; y++) {
    const row = offset + (side - 1 - y) * stride;
    for (let x = 0; x < side; x++) {
      const i = (y * side + x) * 4;
      bytes.set([data[i + 2]!, data[i + 1]!, data[i]!], row + x * 3);
    }
  }
  return { bytes, type: "image/bmp" };
}

/** The digit itself as a 28×28 grayscale PNG, white ink on black as in MNIST. */
export function nativePng(digit: Uint8Array): ClientImage {
  return {
    bytes: new Uint8Array(encodePng({ width: SIDE, height: SIDE, data: digit, channels: 1 })),
    type: "image/png",
  };
}

/** `data:<type>;base64,…`, as a canvas' toDataURL gives. */
export function dataUrl(image: ClientImage): string {
  let binary = "";
  for (const byte of image.bytes) binary += String.fromCharCode(byte);
  return `data:${image.type};base64,${btoa(binary)}`;
}

/** How one kind of client sends a digit: the image, and the request that carries it. */
export interface ClientKind {
  name: string;
  encode: (digit: Uint8Array, seed: number) => ClientImage | Promise<ClientImage>;
  send: (image: ClientImage) => RequestInit;
}

/** A multipart form whose `image` field is the file, as `curl -F image=@…` and `<form>` send it. */
export function asFile(image: ClientImage): RequestInit {
  const form = new FormData();
  form.append("image", new Blob([image.bytes], { type: image.type }), "digit");
  return { method: "POST", body: form };
}

/** The bytes as the body, with their Content-Type. */
export function asBody(image: ClientImage): RequestInit {
  return { method: "POST", body: image.bytes, headers: { "content-type": image.type } };
}

/** JSON `{"image": "data:…"}`, as a page posts a canvas. */
export function asDataUrl(image: ClientImage): RequestInit {
  return {
    method: "POST",
    body: JSON.stringify({ image: dataUrl(image) }),
    headers: { "content-type": "application/json" },
  };
}

/** The seven ways clients send a digit, each an image and the request that carries it. */
export const CLIENT_KINDS: readonly ClientKind[] = [
  { name: "black-on-white PNG 280×280 (multipart)", encode: blackOnWhitePng, send: asFile },
  { name: "canvas RGBA PNG, transparent (JSON data: URL)", encode: canvasPng, send: asDataUrl },
  { name: "off-centre JPEG 640×480 on off-white", encode: offCentreJpeg, send: asBody },
  { name: "WebP 280×280", encode: blackOnWhiteWebp, send: asBody },
  { name: "GIF 280×280 (multipart)", encode: blackOnWhiteGif, send: asFile },
  { name: "BMP 280×280", encode: blackOnWhiteBmp, send: asBody },
  { name: "native 28×28 PNG", encode: nativePng, send: asBody },
];
