/**
 * decodeImage() and planImage() across formats, colour types and bit depths. Lossless inputs are
 * written here (a small PNG writer below, fast-png, fflate, CompressionStream, omggif, BMP by hand) and
 * checked against greyMap() of the pixels they hold; JPEGs come from jpeg-js, mozjpeg (@jsquash/jpeg)
 * or are assembled segment by segment; a few small fixtures come from ImageMagick and Pillow. Passing
 * proves every accepted upload becomes the grey working map of its pixels, upright, within the work
 * its header was priced at, and every bad or over-budget upload a precise ImageError, refused before
 * the costly work starts.
 */
import assert from "node:assert/strict";
import { compileCodec } from "../src/deno.ts";
import { createRequire } from "node:module";
import encodeMozjpeg, { init as initMozjpeg } from "@jsquash/jpeg/encode.js";
import { decode as decodeFastPng, encode as encodeFastPng } from "fast-png";
import { unzlibSync, zlibSync } from "fflate";
import { encode as encodeJpegJs } from "jpeg-js";
import { GifWriter } from "omggif";
import { loadDataset } from "../src/data/mnist.ts";
import { toDigits } from "../src/server/digits.ts";
import { greyMap } from "../src/image/_grey.ts";
import {
  decodeImage,
  type DecodeLimits,
  FULL_DECODE_MAX_PIXELS,
  IMAGE_WORK,
  initCodec,
  initWebpDecoder,
  JPEG_BLOCK_WORK,
  JPEG_DATA_WORK,
  JPEG_SCAN_WORK_PER_BLOCK,
  JPEG_SCANS_PER_COMPONENT,
  planImage,
  PNG_PIXEL_WORK,
  PNG_ROW_COST,
  sniffFormat,
  WHOLE_PIXEL_WORK,
} from "../src/image/decode.ts";
import { ImageError, type ImageErrorCode, statusOf } from "../src/image/errors.ts";
import type { FloatMap, RgbaImage } from "../src/image/types.ts";
import { compileWebpModule } from "../src/deno.ts";
import { DEFAULT_LIMITS } from "../src/server/limits.ts";
import { pngChunk, pngDeclaring } from "../scripts/lib/bad_inputs.ts";
import { offCentreJpeg } from "../scripts/lib/client_images.ts";
import {
  frame,
  jpegRefinementFlood,
  scan,
  segment,
  zlibZeros,
} from "../scripts/lib/hostile_uploads.ts";
import {
  exifOrientationSegment,
  ORIENTATIONS,
  storeForOrientation,
  withSegmentAfterSoi,
} from "../scripts/lib/phone_photos.ts";

initCodec(await compileCodec());

const LIMITS: DecodeLimits = {
  maxPixels: DEFAULT_LIMITS.maxPixels,
  maxDecodeWork: DEFAULT_LIMITS.maxDecodeWork,
};
const fixture = (name: string) => Deno.readFile(new URL(`./fixtures/${name}`, import.meta.url));
const decode = (bytes: Uint8Array, background: 0 | 255 = 255, limits = LIMITS) =>
  decodeImage(bytes, { background, limits });

async function assertRefused(
  attempt: Promise<unknown> | (() => unknown),
  code: ImageErrorCode,
): Promise<ImageError> {
  let error: unknown;
  try {
    await (typeof attempt === "function" ? attempt() : attempt);
  } catch (caught) {
    error = caught;
  }
  assert.ok(error instanceof ImageError, `expected ImageError ${code}, got ${error}`);
  assert.equal(error.code, code, error.message);
  assert.doesNotMatch(error.message, /\n\s+at /, "the message must not carry a stack");
  return error;
}

const refused = (bytes: Uint8Array, code: ImageErrorCode, limits = LIMITS) =>
  assertRefused(decode(bytes, 255, limits), code);

/**
 * The two maps hold the same values. Both are the same integer sums divided alike (codec.c and
 * greyMap()), so lossless inputs match exactly; lossy ones get a tolerance in grey levels.
 */
function assertSameMap(actual: FloatMap, expected: FloatMap, tolerance = 0, what = "map"): void {
  assert.deepEqual([actual.width, actual.height], [expected.width, expected.height], what);
  let worst = 0, at = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const off = Math.abs(actual.data[i]! - expected.data[i]!);
    if (off > worst) [worst, at] = [off, i];
  }
  const x = at % expected.width, y = Math.floor(at / expected.width);
  assert.ok(
    worst <= tolerance,
    `${what}: ${actual.data[at]} at (${x}, ${y}), expected ${expected.data[at]} (±${tolerance})`,
  );
}

/** An RGBA image whose pixel (x, y) is `colour(x, y)`. */
function rgba(
  width: number,
  height: number,
  colour: (x: number, y: number) => readonly number[],
): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(colour(x, y), (y * width + x) * 4);
  }
  return { width, height, data };
}

const at = (map: FloatMap, x: number, y: number) => map.data[y * map.width + x]!;
const luma = (r: number, g: number, b: number) => (299 * r + 587 * g + 114 * b) / 1000;

/** A deterministic 32-bit hash of a few integers: the "random" pixels of every test image. */
function hash(...values: number[]): number {
  let h = 2166136261;
  for (const v of values) {
    h = Math.imul(h ^ v, 16777619);
    h ^= h >>> 13;
  }
  return Math.imul(h ^ (h >>> 16), 2246822507) >>> 0;
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((offset, p) => (out.set(p, offset), offset + p.length), 0);
  return out;
}

// ---- a PNG writer: every colour type, bit depth, filter and Adam7, compressed by any zlib ----

type ColourType = 0 | 2 | 3 | 4 | 6;
const CHANNELS: Record<ColourType, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
/** Adam7 passes: first column, first row, column step, row step. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

interface PngSpec {
  width: number;
  height: number;
  colour: ColourType;
  depth: 1 | 2 | 4 | 8 | 16;
  /** Pixel (x, y)'s samples at `depth` bits, one per channel (palette: the index). */
  sample: (x: number, y: number) => ArrayLike<number>;
  interlace?: boolean;
  palette?: readonly (readonly number[])[];
  /** The tRNS payload: palette alphas, or a 16-bit grey / RGB key. */
  trns?: readonly number[];
  /** Cycle the filter types None, Sub, Up, Average, Paeth row by row (otherwise None). */
  filters?: boolean;
  /** Ancillary chunks written before IDAT. */
  chunks?: Uint8Array[];
}

/** Each pass's first column and row, steps, and size; one pass when not interlaced. */
function passesOf(width: number, height: number, interlace = false) {
  return (interlace ? ADAM7 : [[0, 0, 1, 1] as const]).map(([x0, y0, dx, dy]) => ({
    x0,
    y0,
    dx,
    dy,
    columns: Math.max(0, Math.ceil((width - x0) / dx)),
    rows: Math.max(0, Math.ceil((height - y0) / dy)),
  })).filter((pass) => pass.columns > 0 && pass.rows > 0);
}

/** The filtered scanlines (a filter byte, then the packed row) a PNG's IDAT inflates to. */
function scanlines(spec: PngSpec): Uint8Array {
  const channels = CHANNELS[spec.colour], bits = channels * spec.depth;
  const bpp = Math.max(1, bits / 8); // the byte distance filters look back
  const passes = passesOf(spec.width, spec.height, spec.interlace);
  const total = passes.reduce((n, p) => n + p.rows * (1 + Math.ceil((p.columns * bits) / 8)), 0);
  const out = new Uint8Array(total);
  let offset = 0, row = 0;
  for (const { x0, y0, dx, dy, columns, rows } of passes) {
    let previous = new Uint8Array(Math.ceil((columns * bits) / 8));
    for (let j = 0; j < rows; j++, row++) {
      const line = new Uint8Array(previous.length);
      for (let i = 0; i < columns; i++) {
        const samples = spec.sample(x0 + i * dx, y0 + j * dy);
        for (let c = 0; c < channels; c++) {
          const value = samples[c]!, k = i * channels + c;
          if (spec.depth === 16) line.set([value >> 8, value & 0xff], k * 2);
          else if (spec.depth === 8) line[k] = value;
          else line[(k * spec.depth) >> 3]! |= value << (8 - spec.depth - ((k * spec.depth) & 7));
        }
      }
      const filter = spec.filters ? row % 5 : 0;
      out[offset++] = filter;
      for (let i = 0; i < line.length; i++) {
        const left = i >= bpp ? line[i - bpp]! : 0, up = previous[i]!;
        const upLeft = i >= bpp ? previous[i - bpp]! : 0;
        const predicted = [0, left, up, (left + up) >> 1, paeth(left, up, upLeft)][filter]!;
        out[offset++] = (line[i]! - predicted) & 0xff;
      }
      previous = line;
    }
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function ihdrChunk(width: number, height: number, depth: number, colour: number, interlace = 0) {
  const data = new Uint8Array(13), view = new DataView(data.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  data.set([depth, colour, 0, 0, interlace], 8);
  return pngChunk("IHDR", data);
}

/** IDAT chunks of at most 64 KiB, as encoders split them. */
function idats(zlib: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < zlib.length; at += 65536) {
    out.push(pngChunk("IDAT", zlib.subarray(at, at + 65536)));
  }
  return out;
}

function writePng(spec: PngSpec, compress: (raw: Uint8Array) => Uint8Array = zlibSync) {
  const { width, height, depth, colour, palette, trns } = spec;
  return concat(
    PNG_SIGNATURE,
    ihdrChunk(width, height, depth, colour, spec.interlace ? 1 : 0),
    ...(palette ? [pngChunk("PLTE", Uint8Array.from(palette.flat()))] : []),
    ...(trns ? [pngChunk("tRNS", Uint8Array.from(trns))] : []),
    ...(spec.chunks ?? []),
    ...idats(compress(scanlines(spec))),
    pngChunk("IEND", new Uint8Array()),
  );
}

/** The RGBA the PNG spec says `spec` shows; 16-bit samples keep their high byte, as Pillow does. */
function referenceRgba(spec: PngSpec): RgbaImage {
  const { depth, colour, trns } = spec;
  const to8 = (v: number) => depth === 16 ? v >> 8 : (v * 255) / (2 ** depth - 1);
  const key = trns && colour !== 3
    ? Array.from({ length: trns.length / 2 }, (_, i) => (trns[2 * i]! << 8) | trns[2 * i + 1]!)
    : undefined;
  return rgba(spec.width, spec.height, (x, y) => {
    const s = Array.from(spec.sample(x, y));
    if (colour === 3) return [...spec.palette![s[0]!]!, trns?.[s[0]!] ?? 255];
    const alpha = key?.every((k, i) => k === s[i]) ? 0 : 255;
    if (colour === 0) return [to8(s[0]!), to8(s[0]!), to8(s[0]!), alpha];
    if (colour === 2) return [to8(s[0]!), to8(s[1]!), to8(s[2]!), alpha];
    if (colour === 4) return [to8(s[0]!), to8(s[0]!), to8(s[0]!), to8(s[1]!)];
    return s.map(to8);
  });
}

interface PngCase {
  name: string;
  colour: ColourType;
  depth: 1 | 2 | 4 | 8 | 16;
  /** tRNS key samples (grey or RGB), at `depth` bits; palettes always get a tRNS. */
  key?: number[];
}

const PNG_CASES: PngCase[] = [
  { name: "1-bit grey", colour: 0, depth: 1 },
  { name: "2-bit grey", colour: 0, depth: 2 },
  { name: "4-bit grey", colour: 0, depth: 4 },
  { name: "8-bit grey", colour: 0, depth: 8 },
  { name: "16-bit grey", colour: 0, depth: 16 },
  { name: "2-bit grey with a tRNS key", colour: 0, depth: 2, key: [1] },
  { name: "8-bit grey with a tRNS key", colour: 0, depth: 8, key: [7] },
  { name: "16-bit grey with a tRNS key", colour: 0, depth: 16, key: [4660] },
  { name: "8-bit grey+alpha", colour: 4, depth: 8 },
  { name: "16-bit grey+alpha", colour: 4, depth: 16 },
  { name: "8-bit RGB", colour: 2, depth: 8 },
  { name: "16-bit RGB", colour: 2, depth: 16 },
  { name: "8-bit RGB with a tRNS key", colour: 2, depth: 8, key: [1, 2, 3] },
  { name: "16-bit RGB with a tRNS key", colour: 2, depth: 16, key: [258, 772, 1286] },
  { name: "8-bit RGBA", colour: 6, depth: 8 },
  { name: "16-bit RGBA", colour: 6, depth: 16 },
  { name: "1-bit palette with tRNS", colour: 3, depth: 1 },
  { name: "2-bit palette with tRNS", colour: 3, depth: 2 },
  { name: "4-bit palette with tRNS", colour: 3, depth: 4 },
  { name: "8-bit palette with tRNS", colour: 3, depth: 8 },
];

/** A `width`×`height` image of `c` with hashed samples; one pixel in five is the tRNS key. */
function pngSpec(c: PngCase, width: number, height: number, seed = 1): PngSpec {
  const channels = CHANNELS[c.colour], top = 2 ** c.depth;
  const entries = c.colour === 3 ? Math.min(top, 200) : 0;
  const palette = Array.from({ length: entries }, (_, i) => [0, 1, 2].map((k) => hash(i, k) & 255));
  return {
    width,
    height,
    colour: c.colour,
    depth: c.depth,
    sample: (x, y) => {
      if (c.key && hash(x, y, seed, 99) % 5 === 0) return c.key;
      if (c.colour === 3) return [hash(x, y, seed) % entries];
      return Array.from({ length: channels }, (_, k) => hash(x, y, k, seed) % top);
    },
    palette: entries ? palette : undefined,
    // A few palette entries transparent or half so, the rest left opaque by a short tRNS.
    trns: entries
      ? [0, 128, 255, 37].slice(0, Math.max(1, entries - 1))
      : c.key?.flatMap((k) => [k >> 8, k & 0xff]),
    filters: true,
  };
}

/** Every pass's rows, the count codec.wasm reports as `work.rows`. */
const rowsOf = (spec: PngSpec) =>
  passesOf(spec.width, spec.height, spec.interlace).reduce((n, p) => n + p.rows, 0);

// ---- sniffing, limits and errors ----

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

Deno.test("planImage() reads the declared size from the header alone", () => {
  assert.deepEqual(planImage(pngDeclaring(65535, 3), LIMITS), {
    format: "png",
    width: 65535,
    height: 3,
    cost: IMAGE_WORK + 3 * (PNG_ROW_COST + 1 + 65535) + 65535 * 3 * PNG_PIXEL_WORK.stored[1],
  });
  const bottomUp = encodeBmp({
    width: 2,
    height: -1,
    bitsPerPixel: 24,
    rows: [[0, 0, 0, 0, 0, 0]],
  });
  assert.deepEqual(planImage(bottomUp, LIMITS), {
    format: "bmp",
    width: 2,
    height: 1,
    cost: IMAGE_WORK + 2 * WHOLE_PIXEL_WORK,
  });
});

Deno.test("planImage() refuses a 1 KB PNG declaring 65535×65535 from its header", async () => {
  const bytes = pngDeclaring(65535, 65535);
  assert.ok(bytes.length < 1100);
  const error = await assertRefused(() => planImage(bytes, LIMITS), "image_too_large");
  assert.match(error.message, /65535×65535/);
  await refused(bytes, "image_too_large");
});

Deno.test("planImage() refuses a PNG within maxPixels whose scanlines exceed maxDecodeWork", async () => {
  // 16-bit RGBA 4096×4096: 16.8 Mpx (under the 50 Mpx cap), but 128 MiB of scanlines and 16.8 Mpx
  // expanded to RGBA8 at 20 a pixel: 448.8 MiB of work (over 128 MiB).
  const png = concat(
    PNG_SIGNATURE,
    ihdrChunk(4096, 4096, 16, 6),
    pngChunk("IEND", new Uint8Array()),
  );
  const error = await assertRefused(() => planImage(png, LIMITS), "image_too_large");
  assert.match(error.message, /448\.8 MiB of work, the limit is 128\.0 MiB/);
});

Deno.test("planImage() refuses huge declared sizes in every format's header", async () => {
  const jpeg = concat(SOI, frame(0xc0, 65000, 65000, 3), JPEG_TABLES, scan(3), EOI); // libjpeg: ≤ 65500
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
  for (const bytes of [jpeg, gif, webp, bmp]) {
    await assertRefused(() => planImage(bytes, LIMITS), "image_too_large");
  }
});

Deno.test("planImage() caps the formats decoded whole (GIF, WebP, BMP) at 2048×2048 whatever maxPixels says", async () => {
  const gif = concat(
    new TextEncoder().encode("GIF89a"),
    Uint8Array.of(0xb8, 0x0b, 0xb8, 0x0b, 0, 0, 0), // 3000×3000: 9 Mpx, under the 50 Mpx cap
  );
  const error = await assertRefused(() => planImage(gif, LIMITS), "image_too_large");
  assert.match(error.message, new RegExp(`limit for gif is ${FULL_DECODE_MAX_PIXELS} pixels`));
  // A PNG the same size is decoded shrunk and is allowed.
  assert.equal(planImage(pngDeclaring(3000, 3000), LIMITS).width, 3000);
});

Deno.test("decodeImage() refuses a 0×0 image as invalid_image", async () => {
  await refused(pngDeclaring(0, 0), "invalid_image");
});

Deno.test("decodeImage() refuses bytes that are no known image as unsupported_media_type", async () => {
  await refused(new TextEncoder().encode("hello, this is text"), "unsupported_media_type");
  await refused(Uint8Array.of(0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0), "unsupported_media_type"); // TIFF
});

Deno.test("decodeImage() insists on positive integer limits", async () => {
  const png = pngDeclaring(1, 1);
  for (const limits of [{ ...LIMITS, maxPixels: 0 }, { ...LIMITS, maxDecodeWork: 1.5 }]) {
    await assert.rejects(() => decodeImage(png, { background: 255, limits }), RangeError);
  }
});

Deno.test("statusOf() maps each error code to its HTTP status", () => {
  assert.equal(statusOf("unsupported_media_type"), 415);
  assert.equal(statusOf("image_too_large"), 413);
  assert.equal(statusOf("request_over_budget"), 413);
  assert.equal(statusOf("invalid_image"), 400);
  assert.equal(statusOf("no_ink"), 422);
});

// ---- PNG ----

for (const c of PNG_CASES) {
  Deno.test(`decodeImage() reads ${c.name.startsWith("8") ? "an" : "a"} ${c.name} PNG, plain and interlaced, as greyMap() of its pixels`, async () => {
    const plain = pngSpec(c, 37, 23); // odd sizes: partial bytes, every Adam7 pass partly filled
    const interlaced = { ...plain, interlace: true };
    const reference = referenceRgba(plain);
    for (const background of [255, 0] as const) {
      const maps: FloatMap[] = [];
      for (const spec of [plain, interlaced]) {
        const png = writePng(spec);
        const image = await decode(png, background);
        const what = `${spec.interlace ? "interlaced" : "plain"} over ${background}`;
        assertSameMap(image.map, greyMap(reference, background), 0, what);
        assert.equal(image.work.inflatedBytes, scanlines(spec).length, `${what}: every scanline`);
        assert.equal(
          planImage(png, LIMITS).cost,
          IMAGE_WORK + image.work.inflatedBytes + PNG_ROW_COST * image.work.rows +
            spec.width * spec.height * pixelWork(spec),
          "priced at its scanlines, rows and pixels",
        );
        assert.equal(image.work.rows, rowsOf(spec), `${what}: rows of every pass`);
        maps.push(image.map);
      }
      assert.deepEqual(maps[1], maps[0], "the interlaced twin decodes to the same map");
    }
  });
}

for (
  const [c, interlace] of [
    [PNG_CASES[14]!, false],
    [PNG_CASES[4]!, true],
    [
      PNG_CASES[18]!,
      true,
    ],
    [PNG_CASES[0]!, false],
    [PNG_CASES[12]!, false],
  ] as const
) {
  Deno.test(`decodeImage() box-averages a 503×301 ${c.name}${interlace ? " interlaced" : ""} PNG to 101×61 as greyMap() does`, async () => {
    // Box 5: the last column of cells holds 3 pixels, the last row 1, so the edges are checked too.
    const spec = { ...pngSpec(c, 503, 301, 7), interlace };
    const reference = referenceRgba(spec);
    for (const background of [255, 0] as const) {
      const image = await decode(writePng(spec), background);
      assertSameMap(image.map, greyMap(reference, background), 0, `over ${background}`);
      assert.deepEqual([image.map.width, image.map.height], [101, 61]);
      assert.deepEqual([image.work.decodedWidth, image.work.decodedHeight], [503, 301]);
      assert.equal(image.work.inflatedBytes, scanlines(spec).length);
    }
  });
}

Deno.test("decodeImage() reads fast-png's PNGs (grey, grey+alpha, RGB, RGBA; 8 and 16 bits; Adam7) as greyMap() of their pixels", async () => {
  const width = 45, height = 33;
  for (const channels of [1, 2, 3, 4] as const) {
    for (const depth of [8, 16] as const) {
      const top = 2 ** depth;
      const samples = Array.from(
        { length: width * height * channels },
        (_, i) => hash(i, depth) % top,
      );
      const data = depth === 8 ? Uint8Array.from(samples) : Uint16Array.from(samples);
      const to8 = (v: number) => depth === 16 ? v >> 8 : v;
      const reference = rgba(width, height, (x, y) => {
        const s = samples.slice((y * width + x) * channels, (y * width + x + 1) * channels).map(
          to8,
        );
        return [
          [s[0]!, s[0]!, s[0]!, 255],
          [s[0]!, s[0]!, s[0]!, s[1]!],
          [...s, 255],
          s,
        ][channels - 1]!;
      });
      for (const interlace of ["null", "Adam7"] as const) {
        const png = encodeFastPng({ width, height, data, channels, depth }, { interlace });
        const image = await decode(png, 0);
        assertSameMap(
          image.map,
          greyMap(reference, 0),
          0,
          `${channels}×${depth} bits, ${interlace}`,
        );
      }
    }
  }
});

Deno.test("decodeImage() composites transparent pixels over the background asked for", async () => {
  // Opaque red, fully transparent green, half-transparent black.
  const spec: PngSpec = {
    width: 3,
    height: 1,
    colour: 6,
    depth: 8,
    sample: (x) => [[255, 0, 0, 255], [0, 255, 0, 0], [0, 0, 0, 128]][x]!,
  };
  const overWhite = await decode(writePng(spec), 255);
  const overBlack = await decode(writePng(spec), 0);
  const red = luma(255, 0, 0);
  assert.deepEqual(Array.from(overWhite.map.data), [red, 255, (255 * 127) / 255].map(Math.fround));
  assert.deepEqual(Array.from(overBlack.map.data), [red, 0, 0].map(Math.fround));
});

/** The RGBA a non-interlaced fixture holds, read by fast-png's decoder (independent of libspng). */
function fastPngRgba(png: Uint8Array): RgbaImage {
  const { width, height, depth, data, palette } = decodeFastPng(png);
  const stride = Math.ceil((width * depth) / 8);
  return rgba(width, height, (x, y) => {
    const bit = x * depth, byte = data[y * stride + (bit >> 3)]!;
    const value = (byte >> (8 - depth - (bit & 7))) & (2 ** depth - 1);
    if (palette) return [...palette[value]!.slice(0, 3), palette[value]![3] ?? 255];
    const grey = (value * 255) / (2 ** depth - 1);
    return [grey, grey, grey, 255];
  });
}

for (const name of ["seven_gray1", "seven_gray2", "seven_palette4"]) {
  Deno.test(`decodeImage() reads ImageMagick's ${name} PNG and its interlaced twin as greyMap() of its pixels`, async () => {
    const plainBytes = await fixture(`${name}.png`);
    const plain = await decode(plainBytes);
    const interlaced = await decode(await fixture(`${name}_interlaced.png`));
    assertSameMap(plain.map, greyMap(fastPngRgba(plainBytes), 255));
    assert.deepEqual(interlaced.map, plain.map);
    assert.ok(at(plain.map, 20, 8) < 10, "the bar of the 7 is black");
    assert.ok(at(plain.map, 36, 36) > 245, "the corner is white");
    assert.equal(plain.work.rows, 40);
    // Adam7 over 40 rows: passes of 5, 5, 5, 10, 10, 20 and 20 rows.
    assert.equal(interlaced.work.rows, 75, "every Adam7 pass's rows");
  });
}

Deno.test("decodeImage() reads the palette colours of a 4-bit palette PNG", async () => {
  const image = await decode(await fixture("seven_palette4_interlaced.png"));
  assert.equal(at(image.map, 1, 1), Math.fround(luma(255, 0, 0)), "the corner is red");
});

// ---- PNG: zlib ----

/**
 * RGB rows whose bytes repeat with periods of 1…300 bytes, 2% of them noise, every fifth row a copy
 * of a row up to 32 KiB back: deflate streams full of matches at every distance, most overlapping
 * their own output (inffast.c copies those in doubling spans) or reaching into the window.
 */
function periodicRgb(width: number, height: number, seed: number): PngSpec {
  const stride = width * 3, bytes = new Uint8Array(stride * height);
  const reach = Math.floor(32768 / stride);
  for (let y = 0; y < height; y++) {
    const row = bytes.subarray(y * stride, (y + 1) * stride);
    if (y % 5 === 4) {
      const back = 1 + (hash(y, seed) % Math.min(y, reach));
      row.set(bytes.subarray((y - back) * stride, (y - back + 1) * stride));
    } else {
      const period = 1 + ((y * 53 + seed) % 300);
      for (let i = 0; i < stride; i++) row[i] = i < period ? hash(y, i, seed) : row[i - period]!;
    }
    for (let i = 0; i < stride; i++) if (hash(y, i, seed, 2) % 50 === 0) row[i] = hash(i, y);
  }
  return {
    width,
    height,
    colour: 2,
    depth: 8,
    sample: (x, y) => bytes.subarray(y * stride + x * 3, y * stride + x * 3 + 3),
  };
}

async function compressionStream(raw: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([raw.slice()]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("decodeImage() inflates IDATs full of repeats at distances 1…32 KiB exactly, whatever compressed them", async () => {
  // 112×112: box 1, so every decoded byte is compared, and 97 rows of 336 bytes span the 32 KiB window.
  const spec = periodicRgb(112, 112, 3);
  const expected = greyMap(referenceRgba(spec), 255);
  const raw = scanlines(spec);
  const streams: [string, Uint8Array][] = [
    ...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((
      level,
    ) => [`fflate level ${level}`, zlibSync(raw, { level: level as 0 })] as [string, Uint8Array]),
    ["fflate level 9, mem 12", zlibSync(raw, { level: 9, mem: 12 })],
    ["CompressionStream", await compressionStream(raw)],
  ];
  for (const [name, zlib] of streams) {
    const image = await decode(writePng(spec, () => zlib));
    assertSameMap(image.map, expected, 0, name);
    assert.equal(image.work.inflatedBytes, raw.length, name);
  }
  const rows = raw.filter((_, i) => i % 337 !== 0); // the pixels: filter bytes (all None) dropped
  const fastPng = encodeFastPng({ width: 112, height: 112, data: rows, channels: 3 });
  assertSameMap((await decode(fastPng)).map, expected, 0, "fast-png");
  const filtered = { ...spec, filters: true };
  assertSameMap((await decode(writePng(filtered))).map, expected, 0, "filtered rows");
});

Deno.test("decodeImage() inflates a 1000×400 PNG of repeats exactly, box-averaged by 9", async () => {
  const spec = periodicRgb(1000, 400, 11);
  const expected = greyMap(referenceRgba(spec), 255);
  const raw = scanlines(spec);
  for (
    const [name, zlib] of [
      ["fflate level 1", zlibSync(raw, { level: 1 })],
      ["fflate level 9", zlibSync(raw, { level: 9 })],
      ["CompressionStream", await compressionStream(raw)],
    ] as const
  ) {
    const image = await decode(writePng(spec, () => zlib));
    assertSameMap(image.map, expected, 0, name);
    assert.deepEqual([image.map.width, image.map.height], [112, 45]);
  }
});

// ---- PNG: bombs and malformed files ----

/** An 8-bit grey PNG declaring `width`×`height` whose IDATs hold `zlib`. */
const greyPngWith = (width: number, height: number, zlib: Uint8Array) =>
  concat(
    PNG_SIGNATURE,
    ihdrChunk(width, height, 8, 0),
    ...idats(zlib),
    pngChunk("IEND", new Uint8Array()),
  );

Deno.test("decodeImage() refuses a PNG bomb (1×1 or 16×16 declared, 50 MB of zeros in 49 KB of zlib) once its data runs past the header", async () => {
  for (const side of [1, 16]) {
    const bomb = greyPngWith(side, side, zlibZeros(50_000_000));
    assert.ok(bomb.length < 60_000, `${bomb.length} bytes`);
    const error = await decode(bomb).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof ImageError && error.code === "invalid_image", String(error));
    assert.match(error.message, /inflates past what its header allows/);
  }
  // The same rows without the surplus decode: what is refused is the data past the header.
  const exact = await decode(greyPngWith(16, 16, zlibZeros(16 * 17)));
  assert.equal(exact.work.inflatedBytes, 16 * 17, "one filter byte and the samples a row");
});

Deno.test("decodeImage() stops inflating a PNG bomb just past its last row: a corrupt block 50 MB on is never reached", async () => {
  // zlibZeros' single block made non-final, then a stored block whose LEN and NLEN disagree.
  const zeros = zlibZeros(50_000_000);
  const zlib = concat(zeros.subarray(0, zeros.length - 4), new Uint8Array(5));
  zlib[2]! &= 0xfe; // BFINAL = 0
  assert.throws(() => unzlibSync(zlib), "fflate inflates it all and finds the corruption");
  // Refused for running past the header (within one 32 KiB read-ahead), not for zlib's corruption.
  const error = await decode(greyPngWith(1, 1, zlib)).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof ImageError && error.code === "invalid_image", String(error));
  assert.match(error.message, /inflates past what its header allows/);
});

/** A PNG's chunks: type and the whole chunk (length, type, data, CRC). */
function pngChunks(png: Uint8Array): { type: string; whole: Uint8Array }[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength), chunks = [];
  for (let offset = 8; offset < png.length;) {
    const end = offset + 12 + view.getUint32(offset);
    chunks.push({
      type: String.fromCharCode(...png.subarray(offset + 4, offset + 8)),
      whole: png.subarray(offset, end),
    });
    offset = end;
  }
  return chunks;
}

/** The PNG with its chunks in the order `types` names (a type twice: the chunk twice). */
function reordered(png: Uint8Array, ...types: string[]): Uint8Array {
  const chunks = pngChunks(png);
  return concat(PNG_SIGNATURE, ...types.map((t) => chunks.find((c) => c.type === t)!.whole));
}

/** The PNG with one byte of the first `type` chunk's CRC flipped. */
function badCrc(png: Uint8Array, type: string): Uint8Array {
  const chunks = pngChunks(png), copy = png.slice();
  const chunk = chunks.find((c) => c.type === type)!;
  copy[chunk.whole.byteOffset - png.byteOffset + chunk.whole.length - 1]! ^= 0xff;
  return copy;
}

Deno.test("decodeImage() refuses PNGs whose critical chunks are out of place or damaged as invalid_image", async () => {
  const palette = writePng(pngSpec(PNG_CASES[19]!, 8, 8));
  assert.deepEqual(pngChunks(palette).map((c) => c.type), ["IHDR", "PLTE", "tRNS", "IDAT", "IEND"]);
  const text = pngChunk("tEXt", new TextEncoder().encode("Comment\0hello"));
  const cases: [string, Uint8Array][] = [
    ["a second IHDR", reordered(palette, "IHDR", "IHDR", "PLTE", "IDAT", "IEND")],
    [
      "IHDR not first",
      concat(PNG_SIGNATURE, text, reordered(palette, "IHDR", "PLTE", "IDAT", "IEND").subarray(8)),
    ],
    ["PLTE after IDAT", reordered(palette, "IHDR", "IDAT", "PLTE", "IEND")],
    ["no PLTE in a palette PNG", reordered(palette, "IHDR", "IDAT", "IEND")],
    ["a bad IHDR CRC", badCrc(palette, "IHDR")],
    ["a bad PLTE CRC", badCrc(palette, "PLTE")],
    ["a bad IDAT CRC", badCrc(palette, "IDAT")],
    ["a bad IEND CRC", badCrc(palette, "IEND")],
    ["no IDAT", reordered(palette, "IHDR", "PLTE", "IEND")],
  ];
  for (const [name, png] of cases) {
    const error = await assertRefused(decode(png), "invalid_image").catch((e) => {
      throw new Error(`${name}: ${e.message}`);
    });
    assert.match(error.message, /png/, name);
  }
});

Deno.test("decodeImage() drops a damaged ancillary chunk and decodes the image, as libpng does", async () => {
  const spec = pngSpec(PNG_CASES[10]!, 8, 8);
  const text = pngChunk("tEXt", new TextEncoder().encode("Comment\0hello"));
  const png = badCrc(writePng({ ...spec, chunks: [text] }), "tEXt");
  assertSameMap((await decode(png)).map, greyMap(referenceRgba(spec), 255));
});

Deno.test("decodeImage() refuses a PNG cut short anywhere in its image data as invalid_image", async () => {
  const png = writePng(pngSpec(PNG_CASES[14]!, 40, 30));
  const idat = pngChunks(png).find((c) => c.type === "IDAT")!.whole;
  const idatStart = idat.byteOffset - png.byteOffset;
  for (const end of [20, idatStart + 4, idatStart + 100, idatStart + idat.length - 10]) {
    await refused(png.subarray(0, end), "invalid_image");
  }
  const interlaced = await fixture("seven_gray1_interlaced.png");
  await refused(interlaced.subarray(0, 80), "invalid_image");
});

Deno.test("decodeImage() refuses impossible bit depth and colour type pairs as invalid_image", async () => {
  for (const [depth, colour] of [[4, 2], [16, 3], [3, 0], [1, 6], [8, 5], [8, 1], [32, 0]]) {
    const png = greyPngWith(1, 1, zlibSync(new Uint8Array(16)));
    png.set(ihdrChunk(1, 1, depth!, colour!), 8);
    await assertRefused(() => planImage(png, LIMITS), "invalid_image");
  }
});

/** A 1-bit grey PNG declaring `width`×`height`, whose image data (1,000 zero bytes) is not zlib. */
const bilevelDeclaring = (width: number, height: number) =>
  concat(
    PNG_SIGNATURE,
    ihdrChunk(width, height, 1, 0),
    pngChunk("IDAT", new Uint8Array(1000)),
    pngChunk("IEND", new Uint8Array()),
  );

/**
 * What a PNG pixel costs on top of its scanline bytes, from the spec as codec.c chooses its path:
 * 8-bit non-palette without tRNS as stored (by channels); grey under 8 bits unpacked; the rest
 * expanded to RGBA8; Adam7 a little more.
 */
function pixelWork(spec: PngSpec): number {
  const stored = spec.depth === 8 && spec.colour !== 3 && !spec.trns;
  const base = stored
    ? PNG_PIXEL_WORK.stored[CHANNELS[spec.colour]]!
    : spec.colour === 0 && spec.depth < 16
    ? PNG_PIXEL_WORK.unpacked
    : PNG_PIXEL_WORK.expanded;
  return base + (spec.interlace ? PNG_PIXEL_WORK.interlaced : 0);
}

Deno.test("planImage() prices a PNG at its scanline bytes (Adam7 passes and filter bytes included), its rows and its pixels", async () => {
  for (const c of [PNG_CASES[0]!, PNG_CASES[5]!, PNG_CASES[15]!, PNG_CASES[17]!]) {
    for (const interlace of [false, true]) {
      const spec = { ...pngSpec(c, 37, 23), interlace };
      const cost = IMAGE_WORK + scanlines(spec).length + PNG_ROW_COST * rowsOf(spec) +
        37 * 23 * pixelWork(spec);
      assert.equal(planImage(writePng(spec), LIMITS).cost, cost, c.name);
    }
  }
  assert.equal(
    planImage(pngDeclaring(2048, 2048), LIMITS).cost,
    IMAGE_WORK + 2048 * (2049 + PNG_ROW_COST) + 2048 * 2048 * PNG_PIXEL_WORK.stored[1],
  );
  // A 1-bit pixel is unpacked and summed one at a time: a 2048×2048 1-bit PNG has 0.5 MiB of
  // scanlines but costs 20 a pixel, 81 MiB in all, so two of them are over a request's budget.
  const bilevel = bilevelDeclaring(2048, 2048);
  const one = planImage(bilevel, LIMITS).cost;
  assert.equal(
    one,
    IMAGE_WORK + 2048 * (1 + 256 + PNG_ROW_COST) + 2048 * 2048 * PNG_PIXEL_WORK.unpacked,
  );
  assert.ok(one <= LIMITS.maxDecodeWork && 2 * one > LIMITS.maxDecodeWork);
  // A tall, narrow PNG is priced by its rows: 16 million 1-pixel rows are far over any budget.
  await assertRefused(() => planImage(pngDeclaring(1, 16_000_000), LIMITS), "image_too_large");
});

// ---- JPEG ----

const SOI = Uint8Array.of(0xff, 0xd8), EOI = Uint8Array.of(0xff, 0xd9);

/** jpeg-js's quantisation and standard Huffman tables (DQT, DHT): DC "00" is 0, AC "1010" is EOB. */
const JPEG_TABLES = (() => {
  const file = encodeJpegJs({ width: 8, height: 8, data: new Uint8Array(256) }, 90).data;
  const tables: Uint8Array[] = [];
  for (let at = 2; file[at + 1] !== 0xda;) {
    const end = at + 2 + ((file[at + 2]! << 8) | file[at + 3]!);
    if (file[at + 1] === 0xdb || file[at + 1] === 0xc4) tables.push(file.subarray(at, end));
    at = end;
  }
  return concat(...tables);
})();

/**
 * A grey progressive JPEG, `side`×`side`: a DC scan, then `acScans` AC scans, each coding an EOB in
 * every block, so every scan is valid and revisits all (side/8)² blocks. All coefficients are 0: grey 128.
 */
function progressiveGrey(side: number, acScans: number): Uint8Array {
  const blocks = (side / 8) ** 2;
  const dc = new Uint8Array(blocks / 4); // "00" a block
  const ac = new Uint8Array(blocks / 2).fill(0xaa); // "1010" a block
  const parts = [SOI, frame(0xc2, side, side, 1), JPEG_TABLES, scan(1, 0, 0), dc];
  for (let i = 0; i < acScans; i++) parts.push(scan(1, 1, 63), ac);
  return concat(...parts, EOI);
}

let mozjpegReady: Promise<void> | undefined;

/** mozjpeg (@jsquash/jpeg's encoder) at quality 90, baseline or progressive, 4:2:0. */
async function mozjpeg(image: RgbaImage, progressive: boolean): Promise<Uint8Array> {
  mozjpegReady ??= (async () => {
    const path = createRequire(import.meta.url).resolve("@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm");
    const init = initMozjpeg as unknown as (module: WebAssembly.Module) => Promise<void>;
    await init(await WebAssembly.compile(await Deno.readFile(path)));
  })();
  await mozjpegReady;
  const data = { ...image, colorSpace: "srgb" } as unknown as ImageData;
  return new Uint8Array(
    await encodeMozjpeg(data, { quality: 90, baseline: !progressive, progressive }),
  );
}

const jpegJs = (image: RgbaImage, quality = 95) =>
  new Uint8Array(
    encodeJpegJs({ ...image, data: image.data as unknown as Uint8Array }, quality).data,
  );

Deno.test("decodeImage() reads a baseline JPEG as greyMap() of its pixels, within JPEG's error", async () => {
  const source = rgba(16, 16, (x) => x < 8 ? [250, 20, 20, 255] : [20, 20, 250, 255]);
  const image = await decode(jpegJs(source));
  assertSameMap(image.map, greyMap(source, 255), 4);
  assert.deepEqual([image.width, image.height, image.orientation], [16, 16, 1]);
  assert.equal(image.work.scans, 1);
});

Deno.test("decodeImage() reads a progressive JPEG, every scan of it", async () => {
  const bytes = await fixture("seven_progressive.jpg");
  const image = await decode(bytes);
  assert.deepEqual([image.width, image.height], [40, 40]);
  assert.ok(
    Math.abs(at(image.map, 1, 1) - luma(255, 0, 0)) < 20,
    `the corner is red: ${at(image.map, 1, 1)}`,
  );
  assert.ok(at(image.map, 20, 8) < 60, "the bar of the 7 is dark");
  assert.ok(at(image.map, 36, 36) > 200, "the paper is light");
  const scans = bytes.reduce((n, b, i) => n + (b === 0xff && bytes[i + 1] === 0xda ? 1 : 0), 0);
  assert.equal(image.work.scans, scans, `all ${scans} scans read`);
  assert.ok(scans > 1);
});

Deno.test("decodeImage() reads a 48 MP (8000×6000) photo DCT-scaled by 1/8, never at full size", async () => {
  // Made with Pillow 9.4: a dark 7 on grey paper, 200 KB —
  //   img = Image.new("L", (8000, 6000), 225); d = ImageDraw.Draw(img)
  //   d.line([(3300, 2000), (4500, 2000)], fill=30, width=110)
  //   d.line([(4500, 2000), (3780, 3760)], fill=30, width=110); img.save(…, quality=40, optimize=True)
  const image = await decode(await fixture("seven_48mp.jpg"));
  assert.deepEqual([image.width, image.height], [8000, 6000]);
  assert.deepEqual([image.work.decodedWidth, image.work.decodedHeight], [1000, 750]);
  assert.deepEqual([image.map.width, image.map.height], [112, 84]);
  assert.equal(image.work.rows, 750, "only the scaled rows were produced");
});

Deno.test("decodeImage() decodes a 3000×2000 JPEG DCT-scaled to 375×250, then box-averaged to 94×63", async () => {
  // Paper with a dark rectangle on 8-pixel block edges: at 1/8 scale each block is its mean.
  const source = rgba(
    3000,
    2000,
    (x, y) =>
      x >= 600 && x < 1200 && y >= 400 && y < 1000 ? [30, 30, 40, 255] : [235, 235, 230, 255],
  );
  const jpeg = await mozjpeg(source, false);
  const image = await decode(jpeg);
  assert.deepEqual([image.width, image.height], [3000, 2000]);
  assert.deepEqual([image.work.decodedWidth, image.work.decodedHeight], [375, 250]);
  assert.ok(image.work.decodedWidth <= 3000 / 4, "decoded at no more than a quarter of the width");
  assert.equal(image.work.rows, 250, "rows decoded at the scaled size");
  // Each cell is 4×4 scaled pixels: 32×32 of the source.
  assertSameMap(image.map, greyMap(source, 255, 32), 4);
});

Deno.test("decodeImage() refuses a progressive JPEG whose coefficients exceed 16 MiB, before decoding", async () => {
  const source = rgba(3000, 2000, (x, y) => [x & 255, y & 255, 128, 255]);
  const progressive = await mozjpeg(source, true);
  const error = await assertRefused(() => planImage(progressive, LIMITS), "image_too_large");
  assert.match(
    error.message,
    /progressive JPEG is 3000×2000.*coefficients, the limit is 16\.0 MiB/,
  );
  // Grey 4096×4096 by hand: 262,144 blocks of 128 bytes = 32 MiB; as a baseline it is fine.
  const header = (marker: number) =>
    concat(SOI, frame(marker, 4096, 4096, 1), JPEG_TABLES, scan(1, 0, 0), EOI);
  await assertRefused(() => planImage(header(0xc2), LIMITS), "image_too_large");
  assert.equal(
    planImage(header(0xc0), LIMITS).cost,
    IMAGE_WORK + 262_144 * JPEG_BLOCK_WORK + header(0xc0).length * JPEG_DATA_WORK,
  );
});

Deno.test(`decodeImage() reads the scans of a small grey progressive JPEG, each priced at 36 a block, and refuses more than ${JPEG_SCANS_PER_COMPONENT} from its SOS markers`, async () => {
  const image = await decode(progressiveGrey(64, 27));
  assert.equal(image.work.scans, 28);
  assert.equal(image.work.scanWork, 28 * 64 * 36, "every scan read, priced");
  assert.ok(image.map.data.every((v) => Math.abs(v - 128) < 1), "all-zero coefficients are grey");
  const over = progressiveGrey(64, JPEG_SCANS_PER_COMPONENT);
  const error = await assertRefused(() => planImage(over, LIMITS), "invalid_image");
  assert.match(error.message, /has 33 scans; one of 1 component\(s\) may have at most 32/);
  await refused(over, "invalid_image");
});

Deno.test("decodeImage() allows a 2048×2048 progressive JPEG 28 scans of all its blocks (36 a block each, 1,024 allowed) and refuses the 29th before decoding", async () => {
  const image = await decode(progressiveGrey(2048, 27));
  assert.equal(image.work.scans, 28);
  assert.equal(image.work.scanWork, 28 * 65536 * 36);
  assert.ok(28 * 36 <= JPEG_SCAN_WORK_PER_BLOCK && 29 * 36 > JPEG_SCAN_WORK_PER_BLOCK);
  const error = await assertRefused(
    () => planImage(progressiveGrey(2048, 28), LIMITS),
    "invalid_image",
  );
  assert.match(error.message, /29 scans revisit its 65536 blocks 1044 units of work each/);
});

Deno.test("planImage() refuses floods of AC refinement scans from their SOS markers: by count, and by work when few", async () => {
  // 2,400 scans of ~20 bytes (the 47 KB file that took 252 ms): over 32 for one component.
  const flood = jpegRefinementFlood(2896, 2400);
  assert.ok(flood.length < 50_000);
  const counted = await assertRefused(() => planImage(flood, LIMITS), "invalid_image");
  assert.match(counted.message, /has 2400 scans; one of 1 component\(s\) may have at most 32/);
  // 30 scans pass the count, but each revisits 63 coefficients of 131,044 blocks: 162 a block a scan.
  const few = jpegRefinementFlood(2896, 30);
  const priced = await assertRefused(() => planImage(few, LIMITS), "invalid_image");
  assert.match(priced.message, /30 scans revisit its 131044 blocks 4860 units of work each/);
  // Within the allowance (5 × 162 = 810 a block), the same scans decode, every one priced as read.
  const five = await decode(jpegRefinementFlood(2896, 5));
  assert.equal(five.work.scans, 5);
  assert.equal(five.work.scanWork, 5 * 131044 * (36 + 2 * 63));
  assert.ok(five.work.cost <= LIMITS.maxDecodeWork);
  // Six pass the allowance (972 a block) but, with the frame's blocks and bytes, not the budget.
  await assertRefused(() => planImage(jpegRefinementFlood(2896, 6), LIMITS), "image_too_large");
});

Deno.test("decodeImage() refuses a truncated JPEG as invalid_image, not as a half-grey picture", async () => {
  const progressive = await fixture("seven_progressive.jpg");
  await refused(progressive.subarray(0, progressive.length >> 1), "invalid_image");
  const source = rgba(64, 64, (x, y) => [(x * 7) & 255, (y * 5) & 255, (x * y) & 255, 255]);
  const baseline = jpegJs(source, 90);
  for (const cut of [200, baseline.length >> 1, baseline.length - 200]) {
    await refused(baseline.subarray(0, cut), "invalid_image");
  }
});

/**
 * SOI, a marker without a length (TEM 0x01 or RST0 0xD0), the real `width`×`height` frame, tables,
 * then a COM segment hiding a 28×28 decoy frame exactly where a walker that reads a length after
 * every marker lands, then a scan of three bytes.
 */
function jpegDecoyFrame(standalone: number, width: number, height: number): Uint8Array {
  const head = concat(
    SOI,
    Uint8Array.of(0xff, standalone),
    frame(0xc0, width, height, 3),
    JPEG_TABLES,
  );
  const landing = 2 + 2 + 0xffc0, decoy = frame(0xc0, 28, 28, 3); // "FF C0" read as a length
  const payload = new Uint8Array(landing + decoy.length + 16 - head.length - 4);
  payload.set(decoy, landing - head.length - 4);
  return concat(head, segment(0xfe, payload), scan(3), Uint8Array.of(0x12, 0x34, 0x56), EOI);
}

Deno.test("planImage() and decodeImage() judge a JPEG by the frame libjpeg decodes, not a decoy behind a standalone marker", async () => {
  for (const standalone of [0x01, 0xd0]) {
    const hostile = jpegDecoyFrame(standalone, 16384, 16384);
    const error = await assertRefused(() => planImage(hostile, LIMITS), "image_too_large");
    assert.match(error.message, /16384×16384/);
    await refused(hostile, "image_too_large");
    // With limits the real frame passes, the decoder still reads the real frame: the size checked.
    const roomy = { maxPixels: 2 ** 40, maxDecodeWork: 2 ** 40 };
    assert.deepEqual(
      [planImage(hostile, roomy).width, planImage(hostile, roomy).height],
      [16384, 16384],
    );
    await assert.rejects(
      decode(hostile, 255, roomy),
      ImageError,
      "three bytes of scan cannot decode",
    );
  }
  // A genuine 48×32 JPEG with TEM after SOI and a decoy frame in a comment: decoded at 48×32.
  const source = rgba(48, 32, (x) => x < 24 ? [0, 0, 0, 255] : [255, 255, 255, 255]);
  const real = jpegJs(source);
  const tricked = concat(
    SOI,
    Uint8Array.of(0xff, 0x01),
    segment(0xfe, frame(0xc0, 28, 28, 3)),
    real.subarray(2),
  );
  const plan = planImage(tricked, LIMITS);
  const image = await decode(tricked);
  assert.deepEqual([plan.width, plan.height], [48, 32]);
  assert.deepEqual([image.width, image.height, image.work.decodedWidth, image.work.decodedHeight], [
    48,
    32,
    48,
    32,
  ]);
  assertSameMap(image.map, greyMap(source, 255), 6);
});

Deno.test("decodeImage() reads CMYK JPEGs, Adobe-inverted (as Pillow writes them) or plain", async () => {
  // Made with Pillow 9.4: quadrants (C, M, Y, K) = cyan, 50% black, red (M+Y), paper, 32×32:
  //   im = Image.new("CMYK", (32, 32)); ImageDraw.Draw(im).rectangle(…, fill=(255, 0, 0, 0)) …
  //   im.save("cmyk_adobe.jpg", quality=95, subsampling=0)  # Pillow inverts and writes APP14 "Adobe"
  // cmyk_plain.jpg: the inverted quadrants saved the same way, then its APP14 segment dropped, so it
  // holds the plain values with no Adobe marker: codec.c reads that as plain CMYK (Pillow itself
  // assumes every CMYK JPEG is Adobe-inverted and would read this one as its negative).
  // Pillow reads cmyk_adobe.jpg as RGB (0,255,255), (127,127,127), (255,0,0), (255,255,255).
  const expected = [luma(0, 255, 255), 127, luma(255, 0, 0), 255];
  for (const name of ["cmyk_adobe.jpg", "cmyk_plain.jpg"]) {
    const image = await decode(await fixture(name));
    const centres = [[8, 8], [24, 8], [8, 24], [24, 24]].map(([x, y]) => at(image.map, x!, y!));
    centres.forEach((v, i) =>
      assert.ok(Math.abs(v - expected[i]!) <= 3, `${name} quadrant ${i}: ${v}`)
    );
  }
});

/** 32×24 upright: an L (left bar, bottom bar) and a block at the top right, 8-pixel aligned. */
const UPRIGHT = rgba(32, 24, (x, y) => {
  const ink = x < 8 || y >= 16 || (x >= 24 && y < 8);
  return ink ? [0, 0, 0, 255] : [255, 255, 255, 255];
});

Deno.test("decodeImage() shows a JPEG upright under each EXIF orientation 1–8", async () => {
  const expected = greyMap(UPRIGHT, 255);
  for (const orientation of ORIENTATIONS) {
    const stored = storeForOrientation(UPRIGHT, orientation);
    for (const bigEndian of [true, false]) {
      const jpeg = withSegmentAfterSoi(
        jpegJs(stored, 100),
        exifOrientationSegment(orientation, bigEndian),
      );
      const image = await decode(jpeg);
      const what = `orientation ${orientation}, ${bigEndian ? "MM" : "II"}`;
      assert.equal(image.orientation, orientation, what);
      assert.deepEqual([image.width, image.height], [32, 24], what);
      assert.deepEqual([image.work.decodedWidth, image.work.decodedHeight], [
        stored.width,
        stored.height,
      ]);
      assertSameMap(image.map, expected, 4, what);
    }
  }
});

Deno.test("decodeImage() shows a PNG upright under the EXIF orientation of its eXIf chunk, before or after the image data", async () => {
  const expected = greyMap(UPRIGHT, 255);
  for (const orientation of ORIENTATIONS) {
    const stored = storeForOrientation(UPRIGHT, orientation);
    const exif = pngChunk("eXIf", exifOrientationSegment(orientation).subarray(10)); // TIFF on
    const spec: PngSpec = {
      width: stored.width,
      height: stored.height,
      colour: 0,
      depth: 8,
      sample: (x, y) => [stored.data[(y * stored.width + x) * 4]!],
    };
    const before = writePng({ ...spec, chunks: [exif] });
    const plain = writePng(spec);
    const after = concat(plain.subarray(0, plain.length - 12), exif, plain.subarray(-12));
    for (const [where, png] of [["before", before], ["after", after]] as const) {
      const image = await decode(png);
      const what = `orientation ${orientation}, eXIf ${where} IDAT`;
      assert.equal(image.orientation, orientation, what);
      assert.deepEqual([image.width, image.height], [32, 24], what);
      assertSameMap(image.map, expected, 0, what);
    }
  }
});

Deno.test("decodeImage() still decodes an intact JPEG after a thousand corrupt ones", async () => {
  // Found by `deno task fuzz`: corrupt JPEGs (libjpeg error exits, wasm traps) left the decoder's
  // instance broken, and from then on every JPEG, intact or not, came back invalid_image. An instance
  // that failed is now dropped for a fresh one.
  const { test } = await loadDataset();
  const intact = offCentreJpeg(test.images.subarray(0, 784), 1).bytes;
  const before = await decode(intact);
  let state = 1, failures = 0;
  const random = () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 1000; i++) {
    const corrupt = intact.slice();
    for (let k = 0; k < 5; k++) {
      corrupt[20 + Math.floor(random() * (corrupt.length - 20))]! ^= 1 << Math.floor(random() * 8);
    }
    await decode(corrupt).catch((error) => {
      assert.ok(error instanceof ImageError, `a corrupt JPEG gave ${error}`);
      failures++;
    });
  }
  assert.ok(failures > 100, `${failures} of 1000 were refused`);
  const image = await decode(intact);
  assert.deepEqual([image.width, image.height], [640, 480]);
  assert.deepEqual([image.work.decodedWidth, image.work.decodedHeight], [320, 240], "scaled 1/2");
  assert.deepEqual(image.map, before.map);
});

// ---- GIF ----

Deno.test("decodeImage() reads the first frame of an animated GIF, transparency over the background", async () => {
  const buffer = new Uint8Array(1024);
  const gif = new GifWriter(buffer, 2, 2, {
    palette: [0x000000, 0xffffff, 0xff0000, 0x00ff00],
    loop: 0,
  });
  gif.addFrame(0, 0, 2, 2, [0, 1, 2, 3], { transparent: 3 });
  gif.addFrame(0, 0, 2, 2, [2, 2, 2, 2]);
  const first = rgba(
    2,
    2,
    (x, y) => [[0, 0, 0, 255], [255, 255, 255, 255], [255, 0, 0, 255], [0, 255, 0, 0]][y * 2 + x]!,
  );
  for (const background of [255, 0] as const) {
    const image = await decode(buffer.subarray(0, gif.end()), background);
    assertSameMap(image.map, greyMap(first, background), 0, `over ${background}`);
    assert.equal(image.work.cost, IMAGE_WORK + 2 * 2 * WHOLE_PIXEL_WORK);
  }
});

Deno.test("decodeImage() refuses a truncated GIF as invalid_image", async () => {
  const buffer = new Uint8Array(1024);
  const gif = new GifWriter(buffer, 4, 4, { palette: [0x000000, 0xffffff] });
  gif.addFrame(0, 0, 4, 4, new Array(16).fill(1));
  await refused(buffer.subarray(0, 20), "invalid_image");
});

// ---- BMP ----

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

/** The BMP decodes to greyMap() of `pixels` (RGBA, top row first) over both backgrounds. */
async function assertBmpShows(bmp: Uint8Array, width: number, pixels: number[][]): Promise<void> {
  const expected = rgba(width, pixels.length / width, (x, y) => pixels[y * width + x]!);
  for (const background of [255, 0] as const) {
    assertSameMap((await decode(bmp, background)).map, greyMap(expected, background));
  }
}

Deno.test("decodeImage() reads a bottom-up 24-bit BMP", async () => {
  // Stored bottom row first, BGR.
  const bmp = encodeBmp({
    width: 2,
    height: 2,
    bitsPerPixel: 24,
    rows: [[255, 0, 0, 0, 255, 0], [0, 0, 255, 9, 9, 9]],
  });
  await assertBmpShows(bmp, 2, [[255, 0, 0, 255], [9, 9, 9, 255], [0, 0, 255, 255], [
    0,
    255,
    0,
    255,
  ]]);
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
  await assertBmpShows(bmp, 2, [[1, 2, 3, 0], [10, 20, 30, 200]]);
});

Deno.test("decodeImage() reads a 32-bit BMP without alpha as opaque", async () => {
  const bmp = encodeBmp({ width: 1, height: 1, bitsPerPixel: 32, rows: [[3, 2, 1, 0]] });
  await assertBmpShows(bmp, 1, [[1, 2, 3, 255]]);
});

Deno.test("decodeImage() reads 1-, 4- and 8-bit palette BMPs", async () => {
  const palette = [[0, 0, 0], [255, 255, 255], [255, 0, 0]];
  const [black, white, red] = [[0, 0, 0, 255], [255, 255, 255, 255], [255, 0, 0, 255]];
  const cases = [
    { bitsPerPixel: 1, row: [0b01000000], shown: [black, white, black] }, // indices 0, 1, 0
    { bitsPerPixel: 4, row: [0x12, 0x00], shown: [white, red, black] }, // indices 1, 2, 0
    { bitsPerPixel: 8, row: [2, 1, 0], shown: [red, white, black] },
  ];
  for (const { bitsPerPixel, row, shown } of cases) {
    const bmp = encodeBmp({ width: 3, height: 1, bitsPerPixel, palette, rows: [row] });
    await assertBmpShows(bmp, 3, shown as number[][]);
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
  await assertBmpShows(bmp, 2, [[255, 255, 255, 255], [255, 0, 0, 255]]);
});

Deno.test("decodeImage() refuses a truncated BMP as invalid_image", async () => {
  const bmp = encodeBmp({
    width: 4,
    height: 4,
    bitsPerPixel: 24,
    rows: new Array(4).fill(new Array(12).fill(0)),
  });
  await refused(bmp.subarray(0, bmp.length - 5), "invalid_image");
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
  await refused(bmp, "unsupported_media_type");
});

// ---- request budget ----

Deno.test("planImage() prices a JPEG by its blocks, its bytes and (multi-scan) its scans, and GIF, WebP and BMP by their pixels", async () => {
  // 64×64 grey: 64 blocks. Two scans, a DC scan (36 a block) and an AC first scan (36 a block).
  const progressive = progressiveGrey(64, 1);
  assert.equal(
    planImage(progressive, LIMITS).cost,
    IMAGE_WORK + 64 * JPEG_BLOCK_WORK + progressive.length * JPEG_DATA_WORK + 64 * (36 + 36),
  );
  const colour = concat(SOI, frame(0xc0, 64, 64, 3), JPEG_TABLES, scan(3), EOI);
  assert.equal(
    planImage(colour, LIMITS).cost,
    IMAGE_WORK + 3 * 64 * JPEG_BLOCK_WORK + colour.length * JPEG_DATA_WORK,
  );
  const buffer = new Uint8Array(4096);
  const gif = new GifWriter(buffer, 300, 200, { palette: [0, 0xffffff] });
  gif.addFrame(0, 0, 1, 1, [1]);
  assert.equal(
    planImage(buffer.subarray(0, gif.end()), LIMITS).cost,
    IMAGE_WORK + 300 * 200 * WHOLE_PIXEL_WORK,
  );
  assert.equal(
    planImage(await fixture("seven_lossless.webp"), LIMITS).cost,
    IMAGE_WORK + 40 * 40 * WHOLE_PIXEL_WORK,
  );
  const png = writePng(pngSpec(PNG_CASES[3]!, 30, 20));
  assert.equal((await decode(png)).work.cost, planImage(png, LIMITS).cost);
});

Deno.test("toDigits() refuses 64 cap-sized images as request_over_budget without decoding any", async () => {
  // Each 2048×2048 grey PNG costs 8.6 MiB, within the 128 MiB a request may ask; 64 of them, 552 MiB.
  // Their image data is 1,000 zero bytes, not zlib: decoding any one would answer invalid_image.
  const cap = pngDeclaring(2048, 2048);
  await assertRefused(
    toDigits([{ kind: "image", bytes: cap }], { preprocess: "mnist", limits: LIMITS }),
    "invalid_image",
  );
  const inputs = Array.from({ length: 64 }, () => ({ kind: "image" as const, bytes: cap }));
  const error = await assertRefused(
    toDigits(inputs, { preprocess: "mnist", limits: LIMITS }),
    "request_over_budget",
  );
  assert.match(
    error.message,
    /these 64 images is 552\.1 MiB of work; one request may ask for 128\.0 MiB/,
  );
});

Deno.test("toDigits() refuses two 1-bit 2048×2048 PNGs by their pixels before decoding either, and reads one", async () => {
  // 0.5 MiB of scanlines each, 81 MiB of work: one fits the 128 MiB, two do not. The image data is
  // not zlib, so decoding either would answer invalid_image: the 413 proves neither was decoded.
  const bilevel = bilevelDeclaring(2048, 2048);
  const input = { kind: "image" as const, bytes: bilevel };
  await assertRefused(toDigits([input], { preprocess: "mnist", limits: LIMITS }), "invalid_image");
  const error = await assertRefused(
    toDigits([input, input], { preprocess: "mnist", limits: LIMITS }),
    "request_over_budget",
  );
  assert.match(error.message, /these 2 images is 162\.\d MiB of work/);
});

Deno.test("toDigits() decodes a batch within budget in order, refusing its bad tail image as it gets there", async () => {
  const digit = writePng({
    width: 28,
    height: 28,
    colour: 0,
    depth: 8,
    sample: (x, y) => [x >= 12 && x < 16 && y >= 4 && y < 24 ? 0 : 255],
  });
  const { digits: [one], images } = await toDigits([{ kind: "image", bytes: digit }], {
    preprocess: "mnist",
    limits: LIMITS,
  });
  assert.equal(one!.length, 784);
  assert.deepEqual(images, [{ format: "png", width: 28, height: 28 }]);
  const batch = [digit, digit, pngDeclaring(28, 28)].map((bytes) => ({
    kind: "image" as const,
    bytes,
  }));
  await assertRefused(toDigits(batch, { preprocess: "mnist", limits: LIMITS }), "invalid_image");
});

// ---- WebP (module state: the "not initialised" test must run first) ----

Deno.test("decodeImage() explains that WebP needs initWebpDecoder() first", async () => {
  const error = await refused(await fixture("seven_lossy.webp"), "unsupported_media_type");
  assert.match(error.message, /initWebpDecoder/);
});

Deno.test("decodeImage() reads lossy and lossless WebP once the wasm decoder is initialised", async () => {
  await initWebpDecoder(await compileWebpModule());
  const lossless = await decode(await fixture("seven_lossless.webp"));
  const png = await decode(await fixture("seven_gray1.png"));
  assert.deepEqual([lossless.width, lossless.height], [40, 40]);
  assert.equal(at(lossless.map, 20, 8), 0, "the bar of the 7 is black");
  assert.equal(at(lossless.map, 36, 36), at(png.map, 36, 36));
  const lossy = await decode(await fixture("seven_lossy.webp"));
  assert.deepEqual([lossy.width, lossy.height], [40, 40]);
  assert.ok(at(lossy.map, 20, 8) < 60, "the bar of the 7 is dark");
  assert.ok(at(lossy.map, 36, 36) > 200, "the paper is light");
});

Deno.test("decodeImage() refuses a corrupt WebP as invalid_image", async () => {
  await initWebpDecoder(await compileWebpModule());
  const webp = (await fixture("seven_lossy.webp")).slice();
  webp.fill(0x55, 40);
  await refused(webp, "invalid_image");
});

Deno.test("decodeImage() reads the first frame of an animated lossless WebP", async () => {
  // Made with Pillow 9.4 (40×30, two frames):
  //   frame1.save("anim_lossless.webp", save_all=True, append_images=[frame2], lossless=True,
  //               duration=100, loop=0)
  // frame1: white, rectangles [4..11]×[4..25] (20, 40, 60) then [4..30]×[20..25] (200, 30, 30);
  // frame2: all black.
  await initWebpDecoder(await compileWebpModule());
  const first = rgba(40, 30, (x, y) => {
    if (x >= 4 && x <= 30 && y >= 20 && y <= 25) return [200, 30, 30, 255];
    if (x >= 4 && x <= 11 && y >= 4 && y <= 25) return [20, 40, 60, 255];
    return [255, 255, 255, 255];
  });
  const image = await decode(await fixture("anim_lossless.webp"));
  assertSameMap(image.map, greyMap(first, 255));
});

Deno.test("decodeImage() places an animated lossy WebP's first frame (ALPH + VP8) on its transparent canvas", async () => {
  // Made with Pillow 9.4 (40×30, two frames): frame 1 transparent with an opaque black bar at
  // x 8–23 and a half-transparent one at x 24–31, so libwebp stores it as a 24×30 frame at x = 8;
  //   a.save("anim_lossy_alpha.webp", save_all=True, append_images=[white], lossless=False,
  //          quality=90, duration=100, loop=0, minimize_size=False)
  await initWebpDecoder(await compileWebpModule());
  const bytes = await fixture("anim_lossy_alpha.webp");
  for (const background of [255, 0] as const) {
    const { map, width, height } = await decode(bytes, background);
    assert.deepEqual([width, height], [40, 30], "the canvas, not the frame");
    for (const x of [0, 7, 32, 39]) {
      assert.equal(at(map, x, 15), background, `x ${x} is transparent`);
    }
    for (const x of [10, 20]) assert.ok(at(map, x, 15) < 8, `x ${x} is the black bar`);
    const half = at(map, 28, 15), expected = (background * 127) / 255;
    assert.ok(Math.abs(half - expected) < 8, `x 28 is half transparent: ${half}`);
  }
});

Deno.test("decodeImage() refuses an animated WebP whose first frame's bitstream is larger than the frame it declares, before decoding it", async () => {
  // A 1×1 canvas (priced at 4 bytes) whose 1×1 frame holds a lossless bitstream declaring 4096×4096:
  // libwebp would allocate 64 MiB for it.
  await initWebpDecoder(await compileWebpModule());
  const le24 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff];
  const ascii = (text: string) => Array.from(text, (c) => c.charCodeAt(0));
  const chunk = (type: string, body: number[]) => {
    const size = body.length;
    const padded = size & 1 ? [...body, 0] : body;
    return [...ascii(type), size & 0xff, (size >> 8) & 0xff, 0, 0, ...padded];
  };
  const bits = (4096 - 1) | ((4096 - 1) << 14); // VP8L: 14-bit width−1, 14-bit height−1
  const vp8l = chunk("VP8L", [0x2f, ...le24(bits), (bits >>> 24) & 0xff, 0, 0, 0, 0, 0]);
  const anmf = chunk("ANMF", [
    ...le24(0),
    ...le24(0),
    ...le24(0),
    ...le24(0),
    ...le24(100),
    0,
    ...vp8l,
  ]);
  const vp8x = chunk("VP8X", [0x02, 0, 0, 0, ...le24(0), ...le24(0)]);
  const anim = chunk("ANIM", [0, 0, 0, 0, 0, 0]);
  const body = [...ascii("WEBP"), ...vp8x, ...anim, ...anmf];
  const webp = Uint8Array.from([...ascii("RIFF"), ...le24(body.length), 0, ...body]);
  assert.ok(webp.length < 100, `${webp.length} bytes`);
  const error = await assertRefused(decode(webp), "invalid_image");
  assert.match(error.message, /holds a 4096×4096 image/);
});

Deno.test("decodeImage() shows a WebP upright under the orientation of its EXIF chunk", async () => {
  // Made with Pillow 9.4: a 30×40 lossless still, white with a black bar at x 22–29, tagged
  // Orientation 6 (turn 90° clockwise to view):
  //   exif = Image.Exif(); exif[0x0112] = 6; s.save("orientation6.webp", lossless=True, exif=exif)
  await initWebpDecoder(await compileWebpModule());
  const image = await decode(await fixture("orientation6.webp"));
  assert.equal(image.orientation, 6);
  assert.deepEqual([image.width, image.height], [40, 30]);
  assert.deepEqual([image.work.decodedWidth, image.work.decodedHeight], [30, 40]);
  const upright = rgba(40, 30, (_, y) => y >= 22 ? [0, 0, 0, 255] : [255, 255, 255, 255]);
  assertSameMap(image.map, greyMap(upright, 255));
});
