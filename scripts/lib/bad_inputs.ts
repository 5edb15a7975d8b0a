/**
 * Requests /classify must refuse, each with the status and error code a client can act on. Shared by
 * tests/app_test.ts (in Deno) and tests/worker_e2e_test.ts (in workerd), so both runtimes answer alike.
 */
import { encode as encodePng } from "fast-png";

/** One bad request and the answer it must get. */
export interface BadInput {
  name: string;
  path: string;
  init: RequestInit;
  status: number;
  code: string;
}

/** A 5 MiB + 1 byte body: one past the default MAX_BODY_BYTES. */
export const OVER_BODY_LIMIT = 5 * 1024 * 1024 + 1;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One PNG chunk: length, type, data and its CRC. */
export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const chunk = new Uint8Array(12 + data.length), view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  chunk.set(new TextEncoder().encode(type), 4);
  chunk.set(data, 8);
  view.setUint32(8 + data.length, crc32(chunk.subarray(4, 8 + data.length)));
  return chunk;
}

/** A ~1 KB PNG whose valid header declares `width`×`height` (a decompression bomb's calling card). */
export function pngDeclaring(width: number, height: number): Uint8Array<ArrayBuffer> {
  const ihdr = new Uint8Array(13), view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit grayscale, deflate, no filter, no interlace
  const parts = [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", new Uint8Array(1000)),
    pngChunk("IEND", new Uint8Array()),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** A baseline JPEG header (SOI, SOF0) declaring `width`×`height`, with no image data behind it. */
export function jpegDeclaring(width: number, height: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array([
    0xff,
    0xd8, // SOI
    0xff,
    0xc0,
    0x00,
    0x11,
    8,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    3,
    1,
    0x11,
    0,
    2,
    0x11,
    0,
    3,
    0x11,
    0, // three components, no subsampling
    ...[0xff, 0xda, 0x00, 0x0c, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0], // SOS: the header ends here
    0xff,
    0xd9, // EOI
  ]);
}

const WHITE_280 = bytesOf(encodePng({
  width: 280,
  height: 280,
  data: new Uint8Array(280 * 280).fill(255),
  channels: 1,
}));
const TRANSPARENT_280 = bytesOf(encodePng({
  width: 280,
  height: 280,
  data: new Uint8Array(280 * 280 * 4),
  channels: 4,
}));

/** The bytes in a buffer of their own, as fetch bodies want them. */
export function bytesOf(view: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(view);
}

function multipart(fields: [string, Blob | string][]): FormData {
  const form = new FormData();
  for (const [name, value] of fields) form.append(name, value);
  return form;
}

const post = (body: BodyInit, type?: string): RequestInit => ({
  method: "POST",
  body,
  headers: type ? { "content-type": type } : {},
});
const json = (value: unknown) => post(JSON.stringify(value), "application/json");

/**
 * Every refusal of issue 3: 400 unreadable image or envelope, 413 over a limit, 415 not an image we
 * read, 422 no ink, 404/405 unknown route or method.
 * @param png A good PNG of a digit, to corrupt.
 */
export function badInputs(png: Uint8Array<ArrayBuffer>): BadInput[] {
  const truncated = png.slice(0, Math.floor(png.length / 2));
  const flipped = png.slice();
  for (let i = 40; i < flipped.length - 12; i += 7) flipped[i]! ^= 0x5a;
  return [
    {
      name: "truncated PNG",
      path: "/classify",
      init: post(truncated, "image/png"),
      status: 400,
      code: "invalid_image",
    },
    {
      name: "bit-flipped PNG",
      path: "/classify",
      init: post(flipped, "image/png"),
      status: 400,
      code: "invalid_image",
    },
    {
      name: "empty body",
      path: "/classify",
      init: post(new Uint8Array(), "image/png"),
      status: 400,
      code: "empty_body",
    },
    {
      name: "malformed JSON",
      path: "/classify",
      init: post('{"image": "abc', "application/json"),
      status: 400,
      code: "invalid_json",
    },
    {
      name: "JSON array",
      path: "/classify",
      init: json([1, 2, 3]),
      status: 400,
      code: "invalid_json",
    },
    {
      name: "JSON without image or pixels",
      path: "/classify",
      init: json({ picture: "x" }),
      status: 400,
      code: "missing_image",
    },
    {
      name: "JSON image not base64",
      path: "/classify",
      init: json({ image: "%%%not base64%%%" }),
      status: 400,
      code: "invalid_base64",
    },
    {
      name: "JSON 783 pixels",
      path: "/classify",
      init: json({ pixels: new Array(783).fill(0) }),
      status: 400,
      code: "invalid_pixels",
    },
    {
      name: "JSON pixel out of range",
      path: "/classify",
      init: json({ pixels: new Array(784).fill(300) }),
      status: 400,
      code: "invalid_pixels",
    },
    {
      name: "JSON pixel a string",
      path: "/classify",
      init: json({ pixels: new Array(784).fill("1") }),
      status: 400,
      code: "invalid_pixels",
    },
    {
      name: "malformed multipart",
      path: "/classify",
      init: post("--x\r\nnot a part\r\n", "multipart/form-data; boundary=zzz"),
      status: 400,
      code: "invalid_multipart",
    },
    {
      name: "multipart without an image field",
      path: "/classify",
      init: { method: "POST", body: multipart([["file", new Blob([png])]]) },
      status: 400,
      code: "missing_image",
    },
    {
      name: "multipart image as text",
      path: "/classify",
      init: { method: "POST", body: multipart([["image", "seven"]]) },
      status: 400,
      code: "invalid_multipart",
    },
    {
      name: "bad ?preprocess",
      path: "/classify?preprocess=maybe",
      init: post(png, "image/png"),
      status: 400,
      code: "invalid_query",
    },
    {
      name: "body over the limit",
      path: "/classify",
      init: post(new Uint8Array(OVER_BODY_LIMIT), "image/png"),
      status: 413,
      code: "body_too_large",
    },
    {
      name: "PNG declaring 65535×65535",
      path: "/classify",
      init: post(pngDeclaring(65535, 65535), "image/png"),
      status: 413,
      code: "image_too_large",
    },
    {
      name: "JPEG declaring 30000×30000",
      path: "/classify",
      init: post(jpegDeclaring(30000, 30000), "image/jpeg"),
      status: 413,
      code: "image_too_large",
    },
    {
      name: "a batch of 65 images",
      path: "/classify",
      init: {
        method: "POST",
        body: multipart(Array.from({ length: 65 }, () => ["image", new Blob([png])])),
      },
      status: 413,
      code: "too_many_images",
    },
    {
      name: "plain text",
      path: "/classify",
      init: post("seven", "text/plain"),
      status: 415,
      code: "unsupported_media_type",
    },
    {
      name: "a PDF",
      path: "/classify",
      init: post("%PDF-1.7\n%\xe2\xe3\n1 0 obj", "application/pdf"),
      status: 415,
      code: "unsupported_media_type",
    },
    {
      name: "blank white PNG",
      path: "/classify",
      init: post(WHITE_280, "image/png"),
      status: 422,
      code: "no_ink",
    },
    {
      name: "blank transparent canvas",
      path: "/classify",
      init: post(TRANSPARENT_280, "image/png"),
      status: 422,
      code: "no_ink",
    },
    {
      name: "all-zero pixels",
      path: "/classify",
      init: json({ pixels: new Array(784).fill(0) }),
      status: 422,
      code: "no_ink",
    },
    {
      name: "unknown route",
      path: "/nope",
      init: { method: "GET" },
      status: 404,
      code: "not_found",
    },
    {
      name: "GET /classify",
      path: "/classify",
      init: { method: "GET" },
      status: 405,
      code: "method_not_allowed",
    },
    {
      name: "DELETE /health",
      path: "/health",
      init: { method: "DELETE" },
      status: 405,
      code: "method_not_allowed",
    },
  ];
}
