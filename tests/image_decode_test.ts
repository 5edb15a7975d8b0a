/**
 * decodeImage() across formats, colour types and bit depths, each encoded here at test time (WebP,
 * progressive JPEG and ImageMagick's low-depth interlaced PNGs are small fixtures). Passing proves
 * every accepted upload becomes the right RGBA pixels, and every bad one a precise ImageError.
 */
import assert from "node:assert/strict";
import { encode as encodePng } from "fast-png";
import { encode as encodeJpeg } from "jpeg-js";
import { GifWriter } from "omggif";
import { zlibSync } from "fflate";
import {
  decodeImage,
  initJpegDecoder,
  initWebpDecoder,
  readDimensions,
  type RgbaImage,
  sniffFormat,
} from "../src/image/decode.ts";
import { ImageError, type ImageErrorCode, statusOf } from "../src/image/errors.ts";
import { compileJpegModule } from "../src/image/jpeg_deno.ts";
import { compileWebpModule } from "../src/image/webp_deno.ts";
import { pngChunk } from "./support/bad_inputs.ts";
import { loadDataset } from "../src/data/mnist.ts";
import { offCentreJpeg } from "./support/client_images.ts";

const LIMIT = { maxPixels: 1_000_000 };
const fixture = (name: string) => Deno.readFile(new URL(`./fixtures/${name}`, import.meta.url));

/** RGBA of pixel (x, y). */
function pixel(image: RgbaImage, x: number, y: number): number[] {
  const i = (y * image.width + x) * 4;
  return Array.from(image.data.subarray(i, i + 4));
}

async function assertRefused(bytes: Uint8Array, code: ImageErrorCode): Promise<ImageError> {
  const error = await decodeImage(bytes, LIMIT).then(
    () => assert.fail(`expected ImageError ${code}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ImageError, `expected ImageError, got ${error}`);
  assert.equal(error.code, code, error.message);
  assert.doesNotMatch(error.message, /\n\s+at /, "the message must not carry a stack");
  return error;
}

// ---- byte builders ----

/** Inserts a chunk just before the first IDAT, where tRNS belongs (after PLTE). */
function insertBeforeIdat(png: Uint8Array, chunk: Uint8Array): Uint8Array {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let offset = 8;
  while (String.fromCharCode(...png.subarray(offset + 4, offset + 8)) !== "IDAT") {
    offset += 12 + view.getUint32(offset);
  }
  return concat(png.subarray(0, offset), chunk, png.subarray(offset));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((offset, p) => (out.set(p, offset), offset + p.length), 0);
  return out;
}

/** A PNG whose IHDR declares `width`×`height`, padded with a bogus IDAT to `size` bytes. */
function pngDeclaring(width: number, height: number, size = 1024): Uint8Array {
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const head = concat(
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    pngChunk("IHDR", ihdr),
  );
  const idat = pngChunk("IDAT", new Uint8Array(size - head.length - 24));
  return concat(head, idat, pngChunk("IEND", new Uint8Array(0)));
}

interface BmpSpec {
  width: number;
  height: number; // negative: rows stored top-down
  bitsPerPixel: number;
  rows: number[][]; // stored order, unpadded bytes
  palette?: number[][]; // [r, g, b]
  masks?: number[]; // BI_BITFIELDS r, g, b, a (BITMAPV3-style 56-byte header)
}

/** Writes a BMP by hand: file header, info header, optional masks/palette, padded rows. */
function encodeBmp(spec: BmpSpec): Uint8Array {
  const infoSize = spec.masks ? 56 : 40;
  const palette = spec.palette ?? [];
  const pixelOffset = 14 + infoSize + palette.length * 4;
  const stride = Math.floor((spec.bitsPerPixel * spec.width + 31) / 32) * 4;
  const out = new Uint8Array(pixelOffset + stride * spec.rows.length);
  const view = new DataView(out.buffer);
  out.set([0x42, 0x4d]);
  view.setUint32(2, out.length, true);
  view.setUint32(10, pixelOffset, true);
  view.setUint32(14, infoSize, true);
  view.setInt32(18, spec.width, true);
  view.setInt32(22, spec.height, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, spec.bitsPerPixel, true);
  view.setUint32(30, spec.masks ? 3 : 0, true);
  view.setUint32(46, palette.length, true);
  spec.masks?.forEach((mask, i) => view.setUint32(54 + i * 4, mask, true));
  palette.forEach(([r = 0, g = 0, b = 0], i) => out.set([b, g, r, 0], 14 + infoSize + i * 4));
  spec.rows.forEach((row, y) => out.set(row, pixelOffset + y * stride));
  return out;
}

// ---- sniffing and header limits ----

Deno.test("sniffFormat() names each format by its magic bytes, whatever the file is called", () => {
  const ascii = (s: string) => new TextEncoder().encode(s);
  assert.equal(sniffFormat(pngDeclaring(1, 1)), "png");
  assert.equal(sniffFormat(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0)), "jpeg");
  assert.equal(sniffFormat(ascii("GIF89a\x01\x00\x01\x00")), "gif");
  assert.equal(sniffFormat(ascii("RIFF\0\0\0\0WEBPVP8 ")), "webp");
  assert.equal(
    sniffFormat(encodeBmp({ width: 1, height: 1, bitsPerPixel: 24, rows: [[0, 0, 0]] })),
    "bmp",
  );
  assert.equal(sniffFormat(ascii("<svg xmlns='http://www.w3.org/2000/svg'/>")), null);
  assert.equal(sniffFormat(new Uint8Array(0)), null);
});

Deno.test("readDimensions() reads the declared size from the header alone", () => {
  assert.deepEqual(readDimensions(pngDeclaring(65535, 3), "png"), { width: 65535, height: 3 });
  const bottomUp = encodeBmp({
    width: 2,
    height: -1,
    bitsPerPixel: 24,
    rows: [[0, 0, 0, 0, 0, 0]],
  });
  assert.deepEqual(readDimensions(bottomUp, "bmp"), { width: 2, height: 1 });
});

Deno.test("decodeImage() refuses a 1 KB PNG declaring 65535×65535 before decoding it", async () => {
  const bytes = pngDeclaring(65535, 65535);
  assert.equal(bytes.length, 1024);
  const start = performance.now();
  const error = await assertRefused(bytes, "image_too_large");
  assert.ok(performance.now() - start < 50, "refused from the header, without allocating");
  assert.match(error.message, /65535×65535/);
});

Deno.test("decodeImage() refuses huge declared sizes in every format's header", async () => {
  const jpeg = Uint8Array.of(
    0xff,
    0xd8,
    0xff,
    0xc0,
    0,
    11,
    8,
    0xff,
    0xff,
    0xff,
    0xff,
    1,
    1,
    0x11,
    0,
  );
  const gif = concat(
    new TextEncoder().encode("GIF89a"),
    Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0),
  );
  const webp = concat(
    new TextEncoder().encode("RIFF\0\0\0\0WEBPVP8X"),
    new Uint8Array(8),
    Uint8Array.of(0xff, 0xff, 0x00, 0xff, 0xff, 0x00),
  );
  const bmp = encodeBmp({ width: 50000, height: -50000, bitsPerPixel: 24, rows: [] });
  for (const bytes of [jpeg, gif, webp, bmp]) await assertRefused(bytes, "image_too_large");
});

Deno.test("decodeImage() refuses a 0×0 image as invalid_image", async () => {
  await assertRefused(pngDeclaring(0, 0), "invalid_image");
});

Deno.test("decodeImage() refuses a PNG bomb (1×1 declared, 50 MB of zlib data) without inflating it", async () => {
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, 1);
  new DataView(ihdr.buffer).setUint32(4, 1);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit gray, not interlaced
  const bomb = concat(
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", zlibSync(new Uint8Array(50_000_000), { level: 9 })),
    pngChunk("IEND", new Uint8Array()),
  );
  assert.ok(bomb.length < 100_000, `${bomb.length} bytes`);
  const start = performance.now();
  const error = await assertRefused(bomb, "invalid_image");
  assert.match(error.message, /inflates past the 2 bytes its 1×1 header allows/);
  assert.ok(performance.now() - start < 200, `${Math.round(performance.now() - start)} ms`);
});

Deno.test("decodeImage() refuses bytes that are no known image as unsupported_media_type", async () => {
  await assertRefused(new TextEncoder().encode("hello, this is text"), "unsupported_media_type");
  await assertRefused(Uint8Array.of(0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0), "unsupported_media_type"); // TIFF
});

Deno.test("decodeImage() insists on a positive integer maxPixels", async () => {
  await assert.rejects(() => decodeImage(pngDeclaring(1, 1), { maxPixels: 0 }), RangeError);
});

Deno.test("statusOf() maps each error code to its HTTP status", () => {
  assert.equal(statusOf("unsupported_media_type"), 415);
  assert.equal(statusOf("image_too_large"), 413);
  assert.equal(statusOf("invalid_image"), 400);
  assert.equal(statusOf("no_ink"), 422);
});

// ---- PNG ----

Deno.test("decodeImage() reads an 8-bit RGBA PNG", async () => {
  const data = Uint8Array.of(255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 10, 20, 30, 40);
  const image = await decodeImage(
    encodePng({ width: 2, height: 2, data, channels: 4, depth: 8 }),
    LIMIT,
  );
  assert.deepEqual([image.width, image.height], [2, 2]);
  assert.deepEqual(Array.from(image.data), Array.from(data));
});

Deno.test("decodeImage() reads an interlaced 16-bit RGB PNG, keeping the high byte", async () => {
  const width = 9, height = 9; // odd sizes exercise every Adam7 pass
  const data = new Uint16Array(width * height * 3).map((_, i) => (i * 997) % 65536);
  const png = encodePng({ width, height, data, channels: 3, depth: 16 }, { interlace: "Adam7" });
  assert.equal(png[28], 1, "the fixture is interlaced");
  const image = await decodeImage(png, LIMIT);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) {
      const expected = Math.round(((data[p * 3 + c] ?? 0) * 255) / 65535);
      assert.equal(image.data[p * 4 + c], expected);
    }
    assert.equal(image.data[p * 4 + 3], 255);
  }
});

Deno.test("decodeImage() reads an 8-bit gray+alpha PNG", async () => {
  const data = Uint8Array.of(0, 255, 200, 0);
  const image = await decodeImage(
    encodePng({ width: 2, height: 1, data, channels: 2, depth: 8 }),
    LIMIT,
  );
  assert.deepEqual(Array.from(image.data), [0, 0, 0, 255, 200, 200, 200, 0]);
});

Deno.test("decodeImage() reads a 16-bit gray PNG", async () => {
  const data = Uint16Array.of(0, 65535, 32896);
  const image = await decodeImage(
    encodePng({ width: 3, height: 1, data, channels: 1, depth: 16 }),
    LIMIT,
  );
  assert.deepEqual(pixel(image, 1, 0), [255, 255, 255, 255]);
  assert.deepEqual(pixel(image, 2, 0), [128, 128, 128, 255]);
});

Deno.test("decodeImage() reads a non-interlaced 4-bit gray PNG, scaling 15 to 255", async () => {
  const packed = Uint8Array.of(0x0f, 0x80); // samples 0, 15, 8, 0
  const image = await decodeImage(
    encodePng({ width: 3, height: 1, data: packed, channels: 1, depth: 4 }),
    LIMIT,
  );
  assert.deepEqual([pixel(image, 0, 0)[0], pixel(image, 1, 0)[0], pixel(image, 2, 0)[0]], [
    0,
    255,
    136,
  ]);
});

Deno.test("decodeImage() reads an 8-bit palette PNG with tRNS alpha", async () => {
  // tRNS written by hand: fast-png 8.0.0's encoder writes wrong alpha values for palettes.
  const palette = [[255, 0, 0], [0, 0, 255]];
  const png = encodePng({
    width: 2,
    height: 1,
    data: Uint8Array.of(0, 1),
    channels: 1,
    depth: 8,
    palette,
  });
  assert.equal(png[25], 3, "colour type 3: palette");
  const image = await decodeImage(
    insertBeforeIdat(png, pngChunk("tRNS", Uint8Array.of(255, 0))),
    LIMIT,
  );
  assert.deepEqual(Array.from(image.data), [255, 0, 0, 255, 0, 0, 255, 0]);
});

Deno.test("decodeImage() makes the tRNS key colour of a gray PNG transparent", async () => {
  const png = encodePng({ width: 2, height: 1, data: Uint8Array.of(7, 9), channels: 1, depth: 8 });
  const image = await decodeImage(
    insertBeforeIdat(png, pngChunk("tRNS", Uint8Array.of(0, 7))),
    LIMIT,
  );
  assert.deepEqual(Array.from(image.data), [7, 7, 7, 0, 9, 9, 9, 255]);
});

Deno.test("decodeImage() makes the tRNS key colour of an RGB PNG transparent", async () => {
  // 2×2, not 2×1: fast-png 8.0.0 refuses an RGB tRNS in images of fewer than 3 pixels.
  const data = Uint8Array.of(1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6);
  const png = encodePng({ width: 2, height: 2, data, channels: 3, depth: 8 });
  const key = pngChunk("tRNS", Uint8Array.of(0, 4, 0, 5, 0, 6));
  const image = await decodeImage(insertBeforeIdat(png, key), LIMIT);
  assert.deepEqual(pixel(image, 0, 1), [1, 2, 3, 255]);
  assert.deepEqual(pixel(image, 1, 1), [4, 5, 6, 0]);
});

for (const name of ["seven_gray1", "seven_gray2", "seven_palette4"]) {
  Deno.test(`decodeImage() reads the interlaced ${name} PNG exactly like its non-interlaced twin`, async () => {
    const interlaced = await decodeImage(await fixture(`${name}_interlaced.png`), LIMIT);
    const plain = await decodeImage(await fixture(`${name}.png`), LIMIT);
    assert.deepEqual(Array.from(interlaced.data), Array.from(plain.data));
    assert.ok((pixel(plain, 20, 8)[0] ?? 255) < 10, "the bar of the 7 is black");
    assert.ok((pixel(plain, 36, 36)[0] ?? 0) > 245, "the corner is white");
  });
}

Deno.test("decodeImage() reads the palette colours of a 4-bit palette PNG", async () => {
  const image = await decodeImage(await fixture("seven_palette4_interlaced.png"), LIMIT);
  assert.deepEqual(pixel(image, 1, 1), [255, 0, 0, 255]);
});

Deno.test("decodeImage() refuses a truncated PNG as invalid_image", async () => {
  const png = encodePng({
    width: 8,
    height: 8,
    data: new Uint8Array(8 * 8 * 3).fill(90),
    channels: 3,
    depth: 8,
  });
  await assertRefused(png.subarray(0, png.length - 20), "invalid_image");
});

Deno.test("decodeImage() refuses a PNG with a corrupted chunk (bad CRC) as invalid_image", async () => {
  const png = encodePng({
    width: 8,
    height: 8,
    data: new Uint8Array(8 * 8 * 3).fill(90),
    channels: 3,
    depth: 8,
  });
  png[45] = (png[45] ?? 0) ^ 0xff; // inside IDAT
  await assertRefused(png, "invalid_image");
});

Deno.test("decodeImage() refuses a truncated interlaced 1-bit PNG as invalid_image", async () => {
  const png = await fixture("seven_gray1_interlaced.png");
  await assertRefused(png.subarray(0, 80), "invalid_image");
});

// ---- JPEG ----

await initJpegDecoder(await compileJpegModule());

Deno.test("decodeImage() reads a baseline JPEG", async () => {
  const width = 16, height = 16;
  const data = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    data.set(p % width < 8 ? [250, 20, 20, 255] : [20, 20, 250, 255], p * 4);
  }
  const jpeg = encodeJpeg({ width, height, data }, 95).data;
  const image = await decodeImage(new Uint8Array(jpeg), LIMIT);
  const [r = 0, g = 0, b = 0, a = 0] = pixel(image, 2, 2);
  assert.ok(r > 200 && g < 60 && b < 60 && a === 255, `left is red: ${[r, g, b, a]}`);
  assert.ok((pixel(image, 13, 13)[2] ?? 0) > 200, "right is blue");
});

Deno.test("decodeImage() reads a progressive JPEG", async () => {
  const image = await decodeImage(await fixture("seven_progressive.jpg"), LIMIT);
  assert.deepEqual([image.width, image.height], [40, 40]);
  const [r = 0, g = 0, b = 0] = pixel(image, 1, 1);
  assert.ok(r > 200 && g < 80 && b < 80, `the corner is red: ${[r, g, b]}`);
  assert.ok((pixel(image, 20, 8)[0] ?? 255) < 60, "the bar of the 7 is dark");
  assert.ok((pixel(image, 36, 36)[0] ?? 0) > 200, "the paper is light");
});

Deno.test("decodeImage() refuses a truncated JPEG as invalid_image, not as a half-grey picture", async () => {
  const progressive = await fixture("seven_progressive.jpg");
  await assertRefused(progressive.subarray(0, progressive.length >> 1), "invalid_image");
  const data = new Uint8Array(64 * 64 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 7) % 256));
  const baseline = new Uint8Array(encodeJpeg({ width: 64, height: 64, data }, 90).data);
  await assertRefused(baseline.subarray(0, baseline.length - 200), "invalid_image");
});

// ---- GIF ----

Deno.test("decodeImage() reads the first frame of an animated GIF, transparency included", async () => {
  const buffer = new Uint8Array(1024);
  const gif = new GifWriter(buffer, 2, 2, {
    palette: [0x000000, 0xffffff, 0xff0000, 0x00ff00],
    loop: 0,
  });
  gif.addFrame(0, 0, 2, 2, [0, 1, 2, 3], { transparent: 3 });
  gif.addFrame(0, 0, 2, 2, [2, 2, 2, 2]);
  const image = await decodeImage(buffer.subarray(0, gif.end()), LIMIT);
  assert.deepEqual(Array.from(image.data), [
    0,
    0,
    0,
    255,
    255,
    255,
    255,
    255,
    255,
    0,
    0,
    255,
    0,
    0,
    0,
    0,
  ]);
});

Deno.test("decodeImage() refuses a truncated GIF as invalid_image", async () => {
  const buffer = new Uint8Array(1024);
  const gif = new GifWriter(buffer, 4, 4, { palette: [0x000000, 0xffffff] });
  gif.addFrame(0, 0, 4, 4, new Array(16).fill(1));
  await assertRefused(buffer.subarray(0, 20), "invalid_image");
});

// ---- BMP ----

Deno.test("decodeImage() reads a bottom-up 24-bit BMP", async () => {
  // Stored bottom row first, BGR.
  const bmp = encodeBmp({
    width: 2,
    height: 2,
    bitsPerPixel: 24,
    rows: [[255, 0, 0, 0, 255, 0], [0, 0, 255, 9, 9, 9]],
  });
  const image = await decodeImage(bmp, LIMIT);
  assert.deepEqual(Array.from(image.data), [
    255,
    0,
    0,
    255,
    9,
    9,
    9,
    255,
    0,
    0,
    255,
    255,
    0,
    255,
    0,
    255,
  ]);
});

Deno.test("decodeImage() reads a top-down 32-bit BMP with an alpha bitfield", async () => {
  const masks = [0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000];
  const bmp = encodeBmp({
    width: 2,
    height: -1,
    bitsPerPixel: 32,
    masks,
    rows: [[3, 2, 1, 0, 30, 20, 10, 200]],
  });
  const image = await decodeImage(bmp, LIMIT);
  assert.deepEqual(Array.from(image.data), [1, 2, 3, 0, 10, 20, 30, 200]);
});

Deno.test("decodeImage() reads a 32-bit BMP without alpha as opaque", async () => {
  const bmp = encodeBmp({ width: 1, height: 1, bitsPerPixel: 32, rows: [[3, 2, 1, 0]] });
  assert.deepEqual(Array.from((await decodeImage(bmp, LIMIT)).data), [1, 2, 3, 255]);
});

Deno.test("decodeImage() reads 1-, 4- and 8-bit palette BMPs", async () => {
  const palette = [[0, 0, 0], [255, 255, 255], [255, 0, 0]];
  const cases = [
    { bitsPerPixel: 1, row: [0b01000000] }, // indices 0, 1, 0
    { bitsPerPixel: 4, row: [0x12, 0x00] }, // indices 1, 2, 0
    { bitsPerPixel: 8, row: [2, 1, 0] },
  ];
  const expected: Record<number, number[][]> = {
    1: [[0, 0, 0, 255], [255, 255, 255, 255], [0, 0, 0, 255]],
    4: [[255, 255, 255, 255], [255, 0, 0, 255], [0, 0, 0, 255]],
    8: [[255, 0, 0, 255], [255, 255, 255, 255], [0, 0, 0, 255]],
  };
  for (const { bitsPerPixel, row } of cases) {
    const image = await decodeImage(
      encodeBmp({ width: 3, height: 1, bitsPerPixel, palette, rows: [row] }),
      LIMIT,
    );
    assert.deepEqual(
      [0, 1, 2].map((x) => pixel(image, x, 0)),
      expected[bitsPerPixel],
      `${bitsPerPixel}-bit`,
    );
  }
});

Deno.test("decodeImage() reads a 16-bit 5-5-5 BMP", async () => {
  const white = 0x7fff, red = 0x7c00;
  const bmp = encodeBmp({
    width: 2,
    height: 1,
    bitsPerPixel: 16,
    rows: [[white & 0xff, white >> 8, red & 0xff, red >> 8]],
  });
  assert.deepEqual(Array.from((await decodeImage(bmp, LIMIT)).data), [
    255,
    255,
    255,
    255,
    255,
    0,
    0,
    255,
  ]);
});

Deno.test("decodeImage() refuses a truncated BMP as invalid_image", async () => {
  const bmp = encodeBmp({
    width: 4,
    height: 4,
    bitsPerPixel: 24,
    rows: new Array(4).fill(new Array(12).fill(0)),
  });
  await assertRefused(bmp.subarray(0, bmp.length - 5), "invalid_image");
});

Deno.test("decodeImage() refuses an RLE-compressed BMP as unsupported_media_type", async () => {
  const bmp = encodeBmp({
    width: 1,
    height: 1,
    bitsPerPixel: 8,
    palette: [[0, 0, 0]],
    rows: [[0]],
  });
  new DataView(bmp.buffer).setUint32(30, 1, true); // BI_RLE8
  await assertRefused(bmp, "unsupported_media_type");
});

// ---- WebP (module state: the "not initialised" test must run first) ----

Deno.test("decodeImage() explains that WebP needs initWebpDecoder() first", async () => {
  const error = await assertRefused(await fixture("seven_lossy.webp"), "unsupported_media_type");
  assert.match(error.message, /initWebpDecoder/);
});

Deno.test("decodeImage() reads lossy and lossless WebP once the wasm decoder is initialised", async () => {
  await initWebpDecoder(await compileWebpModule());
  const lossless = await decodeImage(await fixture("seven_lossless.webp"), LIMIT);
  const png = await decodeImage(await fixture("seven_gray1.png"), LIMIT);
  assert.deepEqual([lossless.width, lossless.height], [40, 40]);
  assert.deepEqual(pixel(lossless, 20, 8), [0, 0, 0, 255]);
  assert.deepEqual(pixel(lossless, 36, 36), pixel(png, 36, 36));
  const lossy = await decodeImage(await fixture("seven_lossy.webp"), LIMIT);
  assert.deepEqual([lossy.width, lossy.height], [40, 40]);
  assert.ok((pixel(lossy, 20, 8)[0] ?? 255) < 60, "the bar of the 7 is dark");
  assert.ok((pixel(lossy, 36, 36)[0] ?? 0) > 200, "the paper is light");
});

Deno.test("decodeImage() refuses a corrupt WebP as invalid_image", async () => {
  await initWebpDecoder(await compileWebpModule());
  const webp = (await fixture("seven_lossy.webp")).slice();
  webp.fill(0x55, 40);
  await assertRefused(webp, "invalid_image");
});

Deno.test("decodeImage() still decodes an intact JPEG after a thousand corrupt ones", async () => {
  // Found by `deno task fuzz`: corrupt JPEGs (libjpeg error exits, wasm traps) left the decoder's
  // instance broken, and from then on every JPEG, intact or not, came back invalid_image.
  const { test } = await loadDataset();
  const intact = offCentreJpeg(test.images.subarray(0, 784), 1).bytes;
  let state = 1;
  const random = () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 1000; i++) {
    const corrupt = intact.slice();
    for (let k = 0; k < 5; k++) {
      corrupt[20 + Math.floor(random() * (corrupt.length - 20))]! ^= 1 << Math.floor(random() * 8);
    }
    await decodeImage(corrupt, LIMIT).catch(() => {});
  }
  const image = await decodeImage(intact, LIMIT);
  assert.deepEqual([image.width, image.height], [640, 480]);
});
