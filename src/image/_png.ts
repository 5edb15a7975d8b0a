/**
 * PNG to 8-bit RGBA for every colour type and bit depth, tRNS included.
 * fast-png does the work; its Adam7 path mis-sizes scanlines below 8 bits a sample (fast-png 8.0.0),
 * so those files (interlaced 1/2/4-bit gray or palette) go through `decodeAdam7LowDepth` here.
 * Neither bounds what it inflates, so `checkInflatedSize` does first: a PNG of a few kilobytes can
 * hold gigabytes of zlib data (a decompression bomb) whatever size its header declares.
 */
import { decode as decodeFastPng } from "fast-png";
// Same inflater fast-png uses: streamed to bound the image data, and for the low-depth Adam7 path.
import { Unzlib, unzlibSync } from "fflate";
import { ImageError } from "./errors.ts";
import type { RgbaImage } from "./types.ts";

/** Samples unpacked to one array element each: [height, width, channels], any bit depth. */
interface PngSamples {
  width: number;
  height: number;
  depth: number;
  channels: number;
  samples: Uint8Array | Uint16Array;
  /** Palette entries [r, g, b] or [r, g, b, a] (tRNS already merged) for colour type 3. */
  palette?: number[][];
  /** tRNS for gray (1 value) or RGB (3 values): the sample values that mean "transparent". */
  transparentKey?: ArrayLike<number>;
}

const COLOUR_TYPE_PALETTE = 3;

/** Decodes a PNG (already sniffed and size-checked) to RGBA. */
export function decodePng(bytes: Uint8Array): RgbaImage {
  const png = withoutCompressedMetadata(bytes);
  checkInflatedSize(png);
  return samplesToRgba(isAdam7LowDepth(png) ? decodeAdam7LowDepth(png) : decodeWithFastPng(png));
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * Inflates the image data as a stream, keeping only a count, and refuses it as soon as it runs past
 * what the header's size, depth and colour type allow (filter bytes and Adam7 passes included).
 */
function checkInflatedSize(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [width, height] = [view.getUint32(16), view.getUint32(20)];
  const bitsPerPixel = (bytes[24] ?? 8) * (CHANNELS[bytes[25] ?? 0] ?? 4);
  const lines = (
    w: number,
    h: number,
  ) => (w > 0 && h > 0 ? h * (1 + Math.ceil((w * bitsPerPixel) / 8)) : 0);
  const limit = bytes[28] === 1
    ? ADAM7.reduce(
      (sum, [x0, y0, dx, dy]) =>
        sum + lines(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy)),
      0,
    )
    : lines(width, height);
  let inflated = 0;
  const inflater = new Unzlib((data) => {
    inflated += data.length;
    if (inflated > limit) {
      throw new ImageError(
        "invalid_image",
        `The PNG's image data inflates past the ${limit} bytes its ${width}×${height} header allows`,
      );
    }
  });
  for (const chunk of pngChunks(bytes)) if (chunk.type === "IDAT") inflater.push(chunk.body);
  inflater.push(new Uint8Array(0), true);
}

/** Compressed text and colour-profile chunks: nothing we read, and each another thing to inflate. */
const SKIPPED_CHUNKS = new Set(["iCCP", "zTXt", "iTXt"]);

/** The PNG without its compressed metadata chunks (the same bytes when it has none). */
function withoutCompressedMetadata(bytes: Uint8Array): Uint8Array {
  const chunks = pngChunks(bytes);
  if (!chunks.some((c) => SKIPPED_CHUNKS.has(c.type))) return bytes;
  const kept = [
    bytes.subarray(0, 8),
    ...chunks.filter((c) => !SKIPPED_CHUNKS.has(c.type)).map((c) => c.whole),
  ];
  return concat(kept);
}

function decodeWithFastPng(bytes: Uint8Array): PngSamples {
  const png = decodeFastPng(bytes, { checkCrc: true });
  const samples = png.depth < 8
    ? unpackRows(png.data as Uint8Array, png.width, png.height, png.depth)
    : png.data as Uint8Array | Uint16Array;
  return {
    width: png.width,
    height: png.height,
    depth: png.depth,
    channels: png.channels,
    samples,
    palette: png.palette,
    transparentKey: png.transparency,
  };
}

/** IHDR: bit depth at byte 24, interlace method at byte 28. */
function isAdam7LowDepth(bytes: Uint8Array): boolean {
  return (bytes[24] ?? 8) < 8 && bytes[28] === 1;
}

/** Rows packed big-endian at `depth` bits, each padded to a byte → one byte a sample (1 channel). */
function unpackRows(packed: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const rowBytes = Math.ceil((width * depth) / 8);
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    unpackLine(packed.subarray(y * rowBytes, (y + 1) * rowBytes), width, depth, (x, v) => {
      out[y * width + x] = v;
    });
  }
  return out;
}

function unpackLine(
  line: Uint8Array,
  count: number,
  depth: number,
  put: (index: number, value: number) => void,
): void {
  const mask = (1 << depth) - 1;
  for (let i = 0; i < count; i++) {
    const bit = i * depth;
    put(i, ((line[bit >> 3] ?? 0) >> (8 - depth - (bit & 7))) & mask);
  }
}

/** Scales every sample to 8 bits and expands gray, gray+alpha, RGB and palette to RGBA. */
function samplesToRgba(png: PngSamples): RgbaImage {
  const { width, height, channels, samples } = png;
  const max = (1 << png.depth) - 1;
  const to8 = (v: number) => Math.round((v * 255) / max);
  const out = new Uint8ClampedArray(width * height * 4);
  for (let p = 0, s = 0; p < width * height; p++, s += channels) {
    const o = p * 4;
    if (png.palette) {
      writePaletteColour(png.palette, samples[s] ?? 0, out, o);
      continue;
    }
    const gray = channels <= 2;
    out[o] = to8(samples[s] ?? 0);
    out[o + 1] = to8(samples[gray ? s : s + 1] ?? 0);
    out[o + 2] = to8(samples[gray ? s : s + 2] ?? 0);
    out[o + 3] = channels === 2 || channels === 4
      ? to8(samples[s + channels - 1] ?? 0)
      : matchesKey(samples, s, channels, png.transparentKey)
      ? 0
      : 255;
  }
  return { width, height, data: out };
}

function writePaletteColour(palette: number[][], index: number, out: Uint8ClampedArray, o: number) {
  const colour = palette[index];
  if (!colour) {
    throw new ImageError("invalid_image", `The PNG uses palette entry ${index} it lacks`);
  }
  out[o] = colour[0] ?? 0;
  out[o + 1] = colour[1] ?? 0;
  out[o + 2] = colour[2] ?? 0;
  out[o + 3] = colour[3] ?? 255;
}

/** tRNS for gray/RGB: a pixel whose raw samples equal the key is fully transparent. */
function matchesKey(
  samples: ArrayLike<number>,
  s: number,
  channels: number,
  key: ArrayLike<number> | undefined,
): boolean {
  if (!key || key.length < channels) return false;
  for (let c = 0; c < channels; c++) if (samples[s + c] !== key[c]) return false;
  return true;
}

// ---- Adam7 with 1/2/4-bit samples (gray or palette, one channel) ----

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

/** Parses the chunks itself and de-interlaces at bit level; sizes were checked by the caller. */
function decodeAdam7LowDepth(bytes: Uint8Array): PngSamples {
  const chunks = readChunks(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const depth = bytes[24] ?? 0;
  const colourType = bytes[25];
  const raw = unzlibSync(chunks.idat);
  const samples = new Uint8Array(width * height);
  let offset = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    const passWidth = Math.ceil((width - x0) / dx);
    const passHeight = Math.ceil((height - y0) / dy);
    if (passWidth <= 0 || passHeight <= 0) continue;
    const lineBytes = Math.ceil((passWidth * depth) / 8);
    let previous = new Uint8Array(lineBytes);
    for (let row = 0; row < passHeight; row++) {
      if (offset + 1 + lineBytes > raw.length) throw new Error("image data is truncated");
      const line = raw.slice(offset + 1, offset + 1 + lineBytes);
      unfilterLine(raw[offset] ?? 0, line, previous, 1);
      const y = y0 + row * dy;
      unpackLine(line, passWidth, depth, (i, v) => {
        samples[y * width + x0 + i * dx] = v;
      });
      previous = line;
      offset += 1 + lineBytes;
    }
  }
  const palette = colourType === COLOUR_TYPE_PALETTE
    ? paletteWithAlpha(chunks.plte, chunks.trns)
    : undefined;
  const transparentKey = colourType === 0 && chunks.trns.length >= 2
    ? [((chunks.trns[0] ?? 0) << 8) | (chunks.trns[1] ?? 0)]
    : undefined;
  return { width, height, depth, channels: 1, samples, palette, transparentKey };
}

interface Chunks {
  idat: Uint8Array;
  plte: Uint8Array;
  trns: Uint8Array;
}

interface Chunk {
  type: string;
  body: Uint8Array;
  /** Length, type, body and CRC. */
  whole: Uint8Array;
}

/** Every chunk up to IEND. @throws Error on a truncated file. */
function pngChunks(bytes: Uint8Array): Chunk[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: Chunk[] = [];
  for (let offset = 8; offset + 8 <= bytes.length;) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (body.length !== length) throw new Error(`chunk ${type} is truncated`);
    chunks.push({ type, body, whole: bytes.subarray(offset, offset + 12 + length) });
    if (type === "IEND") return chunks;
    offset += 12 + length;
  }
  throw new Error("no IEND chunk: the file is truncated");
}

function readChunks(bytes: Uint8Array): Chunks {
  const chunks = pngChunks(bytes);
  const body = (type: string) => chunks.find((c) => c.type === type)?.body ?? new Uint8Array(0);
  return {
    idat: concat(chunks.filter((c) => c.type === "IDAT").map((c) => c.body)),
    plte: body("PLTE"),
    trns: body("tRNS"),
  };
}

function paletteWithAlpha(plte: Uint8Array, trns: Uint8Array): number[][] {
  const palette: number[][] = [];
  for (let i = 0; i + 2 < plte.length; i += 3) {
    palette.push([plte[i] ?? 0, plte[i + 1] ?? 0, plte[i + 2] ?? 0, trns[i / 3] ?? 255]);
  }
  return palette;
}

/** Reverses a PNG scanline filter in place (spec §9.2); `bpp` is bytes a pixel, at least 1. */
function unfilterLine(type: number, line: Uint8Array, previous: Uint8Array, bpp: number): void {
  for (let i = 0; i < line.length; i++) {
    const left = i >= bpp ? line[i - bpp] ?? 0 : 0;
    const up = previous[i] ?? 0;
    const upLeft = i >= bpp ? previous[i - bpp] ?? 0 : 0;
    const value = line[i] ?? 0;
    if (type === 1) line[i] = value + left;
    else if (type === 2) line[i] = value + up;
    else if (type === 3) line[i] = value + ((left + up) >> 1);
    else if (type === 4) line[i] = value + paeth(left, up, upLeft);
    else if (type !== 0) throw new Error(`unknown filter type ${type}`);
  }
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
