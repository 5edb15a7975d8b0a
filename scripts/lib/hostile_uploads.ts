/**
 * Uploads crafted to cost /classify more than any budget allows, one per class of issue 10: bombs of
 * each format, parser differentials between a size check and its decoder, scan and frame floods,
 * legitimate images at the cap, giant batches, hostile JSON and multipart, truncated bodies. Each says
 * in one line what it attacks and which answers are right: a 4xx JSON error (or, for a legitimate
 * image, 200) — never a 5xx. Built by hand, independent of the server's parsers.
 */
import { encode as encodePng } from "fast-png";
import { zlibSync } from "fflate";
import jpeg from "jpeg-js";
import { GifWriter } from "omggif";
import { bytesOf, pngChunk } from "./bad_inputs.ts";
import { offCentreJpeg } from "./client_images.ts";

/** One hostile upload and the answers it may get. */
export interface HostileUpload {
  name: string;
  /** What it attacks, in one line. */
  attacks: string;
  path: string;
  /** The request, built when asked (some are megabytes): fetch options, or raw HTTP/1.1 bytes. */
  request: () => { init: RequestInit } | { raw: Uint8Array };
  /** Acceptable statuses. */
  statuses: number[];
  /** Acceptable `error.code`s for a 4xx answer. */
  codes: string[];
  /** The digit shown, for a legitimate image that may be answered 200. */
  label?: number;
  /**
   * A legitimate request at the limits (a valid image at the pixel or decoding cap, or a full batch of
   * them), which bench:edge reports apart: `single` or `batch`.
   */
  capSized?: "single" | "batch";
}

const IMAGE_ERRORS = ["invalid_image", "image_too_large"];
const MIB = 1024 * 1024;
/** wrangler.toml's MAX_BODY_BYTES: hostile bodies stay within it, so the parser is what is tested. */
const BODY_LIMIT = 5 * MIB;

const concat = (parts: Uint8Array[]): Uint8Array<ArrayBuffer> => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
};
const ascii = (text: string) => new TextEncoder().encode(text);
const post = (body: BodyInit, type: string) => ({
  init: { method: "POST", body, headers: { "content-type": type } } satisfies RequestInit,
});

/** Writes bits LSB-first, as deflate and GIF's LZW pack them. */
class BitWriter {
  #bytes: number[] = [];
  #bits = 0;
  #count = 0;
  /** `value`'s low `width` bits, least significant first. */
  write(value: number, width: number): void {
    for (let i = 0; i < width; i++) this.#push((value >>> i) & 1);
  }
  /** A Huffman code: its `width` bits most significant first. */
  writeCode(code: number, width: number): void {
    for (let i = width - 1; i >= 0; i--) this.#push((code >>> i) & 1);
  }
  /** `count` zero bits, a byte at a time where aligned. */
  zeros(count: number): void {
    while (count > 0 && this.#count !== 0) this.#push(0), count--;
    for (; count >= 8; count -= 8) this.#bytes.push(0);
    while (count-- > 0) this.#push(0);
  }
  finish(): Uint8Array<ArrayBuffer> {
    if (this.#count) this.#bytes.push(this.#bits);
    [this.#bits, this.#count] = [0, 0];
    return new Uint8Array(this.#bytes);
  }
  #push(bit: number): void {
    this.#bits |= bit << this.#count;
    if (++this.#count === 8) {
      this.#bytes.push(this.#bits);
      [this.#bits, this.#count] = [0, 0];
    }
  }
}

/**
 * A zlib stream of `count` zero bytes at deflate's best ratio (~1032:1), written by hand: one dynamic
 * block whose only codes are literal 0 (2 bits), length 258 (1 bit), distance 1 (1 bit) and end of
 * block, so every 258 zeros cost 2 bits.
 */
export function zlibZeros(count: number): Uint8Array<ArrayBuffer> {
  const bits = new BitWriter();
  bits.write(1, 1); // BFINAL
  bits.write(2, 2); // dynamic Huffman
  bits.write(286 - 257, 5); // HLIT: literal/length codes 0…285
  bits.write(1 - 1, 5); // HDIST: one distance code
  bits.write(18 - 4, 4); // HCLEN: code-length codes up to symbol 1 in the permuted order
  // Code-length code: 18 (run of zeros) 1 bit → "0"; 1 and 2 two bits → "10", "11".
  const order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1];
  const clen: Record<number, number> = { 18: 1, 1: 2, 2: 2 };
  for (const symbol of order) bits.write(clen[symbol] ?? 0, 3);
  const zerosRun = (n: number) => (bits.writeCode(0, 1), bits.write(n - 11, 7));
  // Literal/length lengths: 0 → 2, 1…255 → 0, 256 → 2, 257…284 → 0, 285 → 1; distance 0 → 1.
  bits.writeCode(0b11, 2);
  zerosRun(138);
  zerosRun(117);
  bits.writeCode(0b11, 2);
  zerosRun(28);
  bits.writeCode(0b10, 2);
  bits.writeCode(0b10, 2);
  // Canonical codes: 285 → "0", literal 0 → "10", end of block → "11"; distance 1 → "0".
  bits.writeCode(0b10, 2); // the first zero, as a literal
  const matches = Math.floor((count - 1) / 258);
  bits.zeros(matches * 2); // each: length 258 "0", distance 1 "0"
  for (let i = 0; i < (count - 1) % 258; i++) bits.writeCode(0b10, 2);
  bits.writeCode(0b11, 2);
  const deflate = bits.finish();
  // Adler-32 of zeros: a stays 1, b grows by 1 a byte.
  const adler = ((count % 65521) * 65536 + 1) >>> 0;
  const out = new Uint8Array(2 + deflate.length + 4);
  out.set([0x78, 0xda]);
  out.set(deflate, 2);
  new DataView(out.buffer).setUint32(2 + deflate.length, adler);
  return out;
}

const PNG_SIGNATURE = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);

function ihdr(width: number, height: number, depth = 8, colour = 0): Uint8Array {
  const data = new Uint8Array(13), view = new DataView(data.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  data.set([depth, colour, 0, 0, 0], 8);
  return pngChunk("IHDR", data);
}

/** IDAT chunks of at most 64 KiB each, as encoders split them. */
function idats(zlib: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < zlib.length; at += 65536) {
    out.push(pngChunk("IDAT", zlib.subarray(at, at + 65536)));
  }
  return out;
}

const IEND = pngChunk("IEND", new Uint8Array());
const png = (...chunks: Uint8Array[]) => concat([PNG_SIGNATURE, ...chunks]);
/** A valid 28×28 8-bit grey PNG's IDAT payload: 28 rows, each a filter byte 0 and 28 white samples. */
const WHITE_28_ROWS = () => {
  const rows = new Uint8Array(28 * 29).fill(255);
  for (let y = 0; y < 28; y++) rows[y * 29] = 0;
  return rows;
};
/** Stored (uncompressed) zlib: enough for a few hundred bytes of rows. */
function zlibStored(data: Uint8Array): Uint8Array {
  let a = 1, b = 0;
  for (const byte of data) [a, b] = [(a + byte) % 65521, (b + (a + byte) % 65521) % 65521];
  const out = new Uint8Array(2 + 5 + data.length + 4), view = new DataView(out.buffer);
  out.set([
    0x78,
    0x01,
    1,
    data.length & 0xff,
    data.length >> 8,
    ~data.length & 0xff,
    (~data.length >> 8) & 0xff,
  ]);
  out.set(data, 7);
  view.setUint32(7 + data.length, ((b << 16) | a) >>> 0);
  return out;
}

/** A 2048×2048 image (the default MAX_PIXELS) of `digit`, black on white, as 0–1 ink coverage. */
function capSizedInk(digit: Uint8Array, side = 2048): Float32Array {
  const ink = new Float32Array(side * side),
    box = Math.floor(side * 0.6),
    at = Math.floor(side * 0.2);
  for (let y = 0; y < box; y++) {
    const v = Math.min(27, Math.floor((y * 28) / box));
    for (let x = 0; x < box; x++) {
      ink[(at + y) * side + at + x] = digit[v * 28 + Math.min(27, Math.floor((x * 28) / box))]! /
        255;
    }
  }
  return ink;
}

/** 16-bit RGBA 2048×2048: legitimate, at the pixel cap, 32 MiB decoded. */
function deepColourPng(digit: Uint8Array): Uint8Array<ArrayBuffer> {
  const side = 2048, ink = capSizedInk(digit, side), data = new Uint16Array(side * side * 4);
  for (let i = 0; i < side * side; i++) {
    const v = Math.round(65535 * (1 - ink[i]!));
    data.set([v, v, v, 65535], i * 4);
  }
  return bytesOf(encodePng({ width: side, height: side, data, channels: 4, depth: 16 }));
}

/** 8-bit grey 2048×2048 of a digit: legitimate, at the pixel cap, ~10 KB. */
function capSizedGreyPng(digit: Uint8Array): Uint8Array<ArrayBuffer> {
  const side = 2048, ink = capSizedInk(digit, side);
  const data = new Uint8Array(side * side).map((_, i) => 255 - Math.round(255 * ink[i]!));
  return bytesOf(encodePng({ width: side, height: side, data, channels: 1 }));
}

/** A JPEG's segments, by marker, from a well-formed file (jpeg-js's output). */
function jpegSegments(file: Uint8Array): Map<number, Uint8Array[]> {
  const segments = new Map<number, Uint8Array[]>();
  for (let at = 2; at < file.length;) {
    const marker = file[at + 1]!, length = (file[at + 2]! << 8) | file[at + 3]!;
    if (marker === 0xda) break;
    segments.set(marker, [...(segments.get(marker) ?? []), file.subarray(at, at + 2 + length)]);
    at += 2 + length;
  }
  return segments;
}

/** Standard tables (DQT, DHT for luma and chroma, from jpeg-js's baseline encoder). */
function jpegTables(): Uint8Array {
  const file = jpeg.encode({ width: 8, height: 8, data: new Uint8Array(8 * 8 * 4) }, 90).data;
  const segments = jpegSegments(file);
  return concat([...segments.get(0xdb)!, ...segments.get(0xc4)!]);
}

/** One JPEG marker segment: FF, the marker, the length (payload + 2), the payload. */
export function segment(marker: number, payload: ArrayLike<number>): Uint8Array {
  return concat([
    new Uint8Array([0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]),
    Uint8Array.from(payload),
  ]);
}

/** SOFn for `components` (1 grey, 3 YCbCr with tables 0/1/1), no subsampling. */
export function frame(marker: number, width: number, height: number, components = 3): Uint8Array {
  const specs = [[1, 0x11, 0], [2, 0x11, 1], [3, 0x11, 1]].slice(0, components).flat();
  return segment(marker, [
    8,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    components,
    ...specs,
  ]);
}

/** SOS for components 1…n (DC/AC tables 0 for luma, 1 for chroma) over Ss…Se with Ah/Al. */
export function scan(components: number, ss = 0, se = 63, ahAl = 0): Uint8Array {
  const specs = [[1, 0x00], [2, 0x11], [3, 0x11]].slice(0, components).flat();
  return segment(0xda, [components, ...specs, ss, se, ahAl]);
}

const SOI = new Uint8Array([0xff, 0xd8]), EOI = new Uint8Array([0xff, 0xd9]);

/**
 * SOI, a marker without a length (`standalone`: TEM 0x01 or RST0 0xD0), the real 16384×16384 frame,
 * tables, then a COM segment that hides a 28×28 decoy frame exactly where a walker that reads a length
 * after every marker lands (0xFFC0 bytes on), then a scan with a few bytes of data.
 */
function jpegDecoyFrame(standalone: number): Uint8Array<ArrayBuffer> {
  const head = concat([
    SOI,
    new Uint8Array([0xff, standalone]),
    frame(0xc0, 16384, 16384),
    jpegTables(),
  ]);
  // The naive walker reads the real frame's "FF C0" as a length: it lands at 2 + 2 + 0xFFC0.
  const landing = 2 + 2 + 0xffc0, decoy = frame(0xc0, 28, 28);
  const comStart = head.length,
    payload = new Uint8Array(landing + decoy.length + 16 - comStart - 4);
  payload.set(decoy, landing - comStart - 4);
  return concat([head, segment(0xfe, payload), scan(3), new Uint8Array([0x12, 0x34, 0x56]), EOI]);
}

/**
 * A grey progressive JPEG at the pixel cap with one DC scan and `scans` AC scans of no data each:
 * every scan costs a pass over all 65,536 blocks, 10 bytes apiece.
 */
function jpegScanFlood(scans: number): Uint8Array<ArrayBuffer> {
  const parts = [SOI, frame(0xc2, 2048, 2048, 1), jpegTables(), scan(1, 0, 0, 0)];
  const ac = scan(1, 1, 63, 0);
  for (let i = 0; i < scans; i++) parts.push(ac);
  return concat([...parts, EOI]);
}

/** A baseline JPEG declaring `width`×`height` with tables and a scan of a few bytes. */
function jpegDeclaringWithData(width: number, height: number): Uint8Array<ArrayBuffer> {
  return concat([
    SOI,
    frame(0xc0, width, height),
    jpegTables(),
    scan(3),
    new Uint8Array([0, 0, 0, 0]),
    EOI,
  ]);
}

/**
 * Huffman tables by hand for JPEGs of nothing but EOB runs: DC symbols 0 ("0") and 1 ("10"); AC
 * symbols EOB14 ("0", a run of 16,384 + 14 bits of blocks) and EOB ("10"); one quantiser of ones.
 */
function eobRunTables(): Uint8Array {
  const dht = (tableClass: number, id: number, symbols: number[]) =>
    segment(0xc4, [(tableClass << 4) | id, 1, 1, ...new Array(14).fill(0), ...symbols]);
  return concat([
    segment(0xdb, [0, ...new Array(64).fill(1)]),
    dht(0, 0, [0, 1]),
    dht(1, 0, [0xe0, 0x00]),
  ]);
}

/** Entropy data skipping `blocks` blocks in EOB runs: EOB14 runs of up to 32,767, then single EOBs. */
function eobRuns(blocks: number): Uint8Array {
  const bits: number[] = [];
  for (let left = blocks; left > 0;) {
    if (left >= 16384) {
      const run = Math.min(32767, left);
      bits.push(0);
      for (let i = 13; i >= 0; i--) bits.push(((run - 16384) >> i) & 1);
      left -= run;
    } else {
      bits.push(1, 0);
      left--;
    }
  }
  while (bits.length % 8) bits.push(1);
  const out: number[] = [];
  for (let i = 0; i < bits.length; i += 8) {
    const byte = bits.slice(i, i + 8).reduce((b, bit) => (b << 1) | bit, 0);
    out.push(byte, ...(byte === 0xff ? [0] : [])); // a coded FF is stuffed with a 00
  }
  return Uint8Array.from(out);
}

/**
 * A grey progressive JPEG `side`×`side` of `scans` AC refinement scans (1–63, Ah 1), each an EOB run
 * over every block in a few bytes: a refinement pass still visits all 63 coefficients of each block,
 * so each ~20-byte scan costs (side/8)² × 63 coefficient visits.
 */
export function jpegRefinementFlood(side: number, scans: number): Uint8Array<ArrayBuffer> {
  const parts = [SOI, frame(0xc2, side, side, 1), eobRunTables()];
  const data = eobRuns(Math.ceil(side / 8) ** 2);
  for (let i = 0; i < scans; i++) parts.push(scan(1, 1, 63, 0x10), data);
  return concat([...parts, EOI]);
}

/**
 * A baseline 4:2:0 JPEG `width`×`height` whose every block holds data: a DC of 0 and `coefficients`
 * AC coefficients of ±1, about 35 bits a block. Valid, at the caps, and as costly to entropy-decode
 * as its size allows.
 */
function jpegDense(width: number, height: number, coefficients: number): Uint8Array<ArrayBuffer> {
  const dht = (tableClass: number, id: number, symbols: number[]) =>
    segment(0xc4, [(tableClass << 4) | id, 1, 1, ...new Array(14).fill(0), ...symbols]);
  // DC: size 0 "0"; AC: run 0 size 1 "0" (+1 bit), EOB "10".
  const tables = concat([
    segment(0xdb, [0, ...new Array(64).fill(1)]),
    dht(0, 0, [0, 1]),
    dht(1, 0, [0x01, 0x00]),
  ]);
  const sof = segment(0xc0, [
    8,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    3,
    ...[1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0],
  ]);
  const sos = segment(0xda, [3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]);
  const mcus = Math.ceil(width / 16) * Math.ceil(height / 16);
  // One block: "0", then `coefficients` × "0" + sign bit alternating, then "10".
  const block: number[] = [0];
  for (let i = 0; i < coefficients; i++) block.push(0, i & 1);
  block.push(1, 0);
  const bitsPerMcu = block.length * 6;
  const bytes = new Uint8Array(Math.ceil((mcus * bitsPerMcu) / 8) * 2);
  let at = 0, acc = 0, count = 0;
  for (let m = 0; m < mcus; m++) {
    for (let b = 0; b < 6; b++) {
      for (const bit of block) {
        acc = (acc << 1) | bit;
        if (++count === 8) {
          bytes[at++] = acc;
          if (acc === 0xff) bytes[at++] = 0;
          acc = 0, count = 0;
        }
      }
    }
  }
  if (count) bytes[at++] = ((acc << (8 - count)) | ((1 << (8 - count)) - 1)) & 0xff;
  return concat([SOI, tables, sof, sos, bytes.subarray(0, at), EOI]);
}

/**
 * A PNG of `digit` at `width`×`height` (black ink on white, the digit 60% of the short side), filter
 * 0 rows compressed by fflate: `kind` 1-bit grey, 8-bit grey, or 8-bit RGBA whose alpha is the ink
 * (as a canvas exports it, so every cell composites over the background).
 */
function capSizedPng(
  digit: Uint8Array,
  width: number,
  height: number,
  kind: "bilevel" | "grey" | "alpha",
): Uint8Array<ArrayBuffer> {
  const box = Math.floor(Math.min(width, height) * 0.6);
  const left = (width - box) >> 1, top = (height - box) >> 1;
  const bytesPerRow = kind === "bilevel"
    ? Math.ceil(width / 8)
    : kind === "grey"
    ? width
    : width * 4;
  const raw = new Uint8Array((1 + bytesPerRow) * height);
  for (let y = 0; y < height; y++) {
    const row = raw.subarray(y * (1 + bytesPerRow) + 1, (y + 1) * (1 + bytesPerRow));
    const v = Math.floor(((y - top) * 28) / box);
    const ink = (x: number) => {
      const u = Math.floor(((x - left) * 28) / box);
      return v >= 0 && v < 28 && u >= 0 && u < 28 ? digit[v * 28 + u]! : 0;
    };
    if (kind === "bilevel") {
      row.fill(0xff);
      for (let x = left; x < left + box; x++) {
        if (ink(x) >= 128) row[x >> 3]! &= ~(0x80 >> (x & 7));
      }
    } else if (kind === "grey") {
      row.fill(255);
      for (let x = left; x < left + box; x++) row[x] = 255 - ink(x);
    } else {
      for (let x = left; x < left + box; x++) row[4 * x + 3] = ink(x);
    }
  }
  const depth = kind === "bilevel" ? 1 : 8, colour = kind === "alpha" ? 6 : 0;
  return png(ihdr(width, height, depth, colour), ...idats(zlibSync(raw, { level: 6 })), IEND);
}

/** A multipart request of `count` copies of `bytes` as `image` parts. */
function batchOf(count: number, bytes: Uint8Array<ArrayBuffer>, type: string) {
  const form = new FormData();
  for (let i = 0; i < count; i++) form.append("image", new Blob([bytes], { type }), `${i}`);
  return { init: { method: "POST", body: form } satisfies RequestInit };
}

/** GIF89a header, a logical screen and a 256-grey global palette (0 black … 255 white). */
function gifHead(width: number, height: number): Uint8Array {
  const head = new Uint8Array(13 + 768), view = new DataView(head.buffer);
  head.set(ascii("GIF89a"));
  view.setUint16(6, width, true);
  view.setUint16(8, height, true);
  head[10] = 0xf7; // global colour table of 256
  for (let v = 0; v < 256; v++) head.set([v, v, v], 13 + v * 3);
  return head;
}

/**
 * One image (descriptor, LZW data in sub-blocks) whose codes grow the table as one chain of zeros —
 * each code one pixel longer than the last — then repeat its longest string: ~2,700 pixels a byte,
 * the most LZW can make per byte, until `pixels` are written.
 */
function gifLzwChainImage(width: number, height: number, pixels: number): Uint8Array {
  const bits = new BitWriter();
  let size = 9, next = 258, written = 0;
  const emit = (code: number, add: boolean) => {
    bits.write(code, size);
    if (add && next < 4096) {
      next++;
      if (next === 1 << size && size < 12) size++;
    }
  };
  emit(256, false); // clear
  emit(0, false), written = 1;
  while (written < pixels && next < 4096) {
    written += next - 258 + 2;
    emit(next, true);
  }
  while (written < pixels) written += 4095 - 258 + 2, emit(4095, false);
  emit(257, false); // end of information
  const data = bits.finish(), blocks: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += 255) {
    const block = data.subarray(at, at + 255);
    blocks.push(new Uint8Array([block.length]), block);
  }
  const descriptor = new Uint8Array(10), view = new DataView(descriptor.buffer);
  descriptor[0] = 0x2c;
  view.setUint16(5, width, true);
  view.setUint16(7, height, true);
  return concat([descriptor, new Uint8Array([8]), ...blocks, new Uint8Array([0])]);
}

/** A 1024×1024 GIF: the digit as its first frame, then `frames` 1×1 frames, each a full composite. */
function gifFrameFlood(digit: Uint8Array, frames: number): Uint8Array<ArrayBuffer> {
  const side = 1024, ink = capSizedInk(digit, side);
  const out = new Uint8Array(side * side + frames * 32 + 4096);
  const palette = Array.from({ length: 256 }, (_, v) => (v << 16) | (v << 8) | v);
  const writer = new GifWriter(out, side, side, { palette });
  writer.addFrame(
    0,
    0,
    side,
    side,
    new Uint8Array(side * side).map((_, i) => 255 - Math.round(255 * ink[i]!)),
  );
  for (let f = 0; f < frames; f++) {
    writer.addFrame((f * 7919) % side, (f * 104729) % side, 1, 1, [255], { delay: 1 });
  }
  return out.slice(0, writer.end());
}

/** A lossless WebP (VP8L) whose header declares `width`×`height`, with a few bytes of bitstream. */
function webpDeclaring(width: number, height: number): Uint8Array<ArrayBuffer> {
  const vp8l = new Uint8Array(5 + 7), view = new DataView(vp8l.buffer); // even: RIFF pads odd chunks
  vp8l[0] = 0x2f;
  view.setUint32(1, ((width - 1) | ((height - 1) << 14)) >>> 0, true); // alpha 0, version 0
  const riff = new Uint8Array(20), riffView = new DataView(riff.buffer);
  riff.set(ascii("RIFF"));
  riffView.setUint32(4, 4 + 8 + vp8l.length, true);
  riff.set(ascii("WEBPVP8L"), 8);
  riffView.setUint32(16, vp8l.length, true);
  return concat([riff, vp8l]);
}

/** An extended WebP (VP8X) whose canvas is `width`×`height`, holding a tiny 1×1 VP8L image. */
function webpCanvasDeclaring(width: number, height: number): Uint8Array<ArrayBuffer> {
  const vp8x = new Uint8Array(8 + 10), view = new DataView(vp8x.buffer);
  vp8x.set(ascii("VP8X"));
  view.setUint32(4, 10, true);
  const w = width - 1, h = height - 1;
  vp8x.set([w & 0xff, (w >> 8) & 0xff, w >> 16, h & 0xff, (h >> 8) & 0xff, h >> 16], 12);
  const image = webpDeclaring(1, 1).subarray(12);
  const riff = new Uint8Array(12), riffView = new DataView(riff.buffer);
  riff.set(ascii("RIFF"));
  riffView.setUint32(4, 4 + vp8x.length + image.length, true);
  riff.set(ascii("WEBP"), 8);
  return concat([riff, vp8x, image]);
}

/** A 24-bit BMP whose BITMAPINFOHEADER declares `width`×`height`, with 1 KB of pixel data. */
function bmpDeclaring(width: number, height: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(54 + 1024), view = new DataView(bytes.buffer);
  bytes.set(ascii("BM"));
  view.setUint32(2, bytes.length, true);
  view.setUint32(10, 54, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, width, true);
  view.setInt32(22, height, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, 24, true);
  return bytes;
}

/** A multipart body by hand (FormData would add a filename and type per part). */
function multipartBody(boundary: string, parts: { name: string; body: Uint8Array | string }[]) {
  const chunks: Uint8Array[] = [];
  for (const { name, body } of parts) {
    chunks.push(ascii(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`));
    chunks.push(typeof body === "string" ? ascii(body) : body, ascii("\r\n"));
  }
  chunks.push(ascii(`--${boundary}--\r\n`));
  return concat(chunks);
}

/** Raw HTTP/1.1: headers announcing `declared` bytes, then only `body` (the client then stops sending). */
function truncatedRequest(path: string, type: string, body: Uint8Array, declared: number) {
  return concat([
    ascii(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${type}\r\n` +
        `Content-Length: ${declared}\r\nConnection: close\r\n\r\n`,
    ),
    body,
  ]);
}

/** Raw HTTP/1.1 with a chunked body whose last chunk (and terminator) never comes. */
function unfinishedChunkedRequest(path: string, type: string, body: Uint8Array) {
  const half = Math.floor(body.length / 2);
  return concat([
    ascii(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${type}\r\n` +
        `Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${half.toString(16)}\r\n`,
    ),
    body.subarray(0, half),
    ascii(`\r\n${(body.length - half).toString(16)}\r\n`),
    body.subarray(half, half + 10),
  ]);
}

/**
 * Every hostile upload of issue 10.
 * @param digit A 28×28 MNIST digit (0 background, 255 ink) for the legitimate images among them.
 * @param label Its label.
 * @param goodPng A small, valid PNG of the digit, for batches and truncated bodies.
 */
export function hostileUploads(
  digit: Uint8Array,
  label: number,
  goodPng: Uint8Array,
): HostileUpload[] {
  const image = (
    name: string,
    attacks: string,
    bytes: () => Uint8Array<ArrayBuffer>,
    type: string,
    answers: { statuses?: number[]; codes?: string[]; label?: number } = {},
  ): HostileUpload => ({
    name,
    attacks,
    path: "/classify",
    request: () => post(bytes(), type),
    statuses: answers.statuses ?? [400, 413],
    codes: answers.codes ?? IMAGE_ERRORS,
    label: answers.label,
  });
  const invalid = { statuses: [400], codes: ["invalid_image"] };
  const tooLarge = { statuses: [413], codes: ["image_too_large"] };
  const badDepth = (depth: number, colour: number) =>
    image(
      `PNG with bit depth ${depth} for colour type ${colour}`,
      "a combination the spec forbids, so row sizes computed from it are wrong",
      () => png(ihdr(28, 28, depth, colour), pngChunk("IDAT", zlibStored(WHITE_28_ROWS())), IEND),
      "image/png",
      invalid,
    );
  return [
    image(
      "PNG bomb: 1×1 declared, ~1 MB of zlib inflating to 1 GiB",
      "an inflater that decompresses whole chunks before counting what came out",
      () => png(ihdr(1, 1), ...idats(zlibZeros(1024 * MIB)), IEND),
      "image/png",
      invalid,
    ),
    image(
      "PNG with a second IHDR declaring 16384×16376 (1-bit grey)",
      "a size check reading the first IHDR while the decoder obeys the last",
      () =>
        png(
          ihdr(28, 28),
          ihdr(16384, 16376, 1, 0),
          ...idats(zlibZeros((16384 / 8 + 1) * 16376)),
          IEND,
        ),
      "image/png",
    ),
    image(
      "PNG whose IHDR is not the first chunk",
      "a parser that finds IHDR wherever it is",
      () =>
        png(
          pngChunk("tEXt", ascii("Comment\0first")),
          ihdr(28, 28),
          pngChunk("IDAT", zlibStored(WHITE_28_ROWS())),
          IEND,
        ),
      "image/png",
      invalid,
    ),
    image(
      "PNG with PLTE after IDAT",
      "a palette image whose palette arrives after the pixels that index it",
      () => {
        const rows = WHITE_28_ROWS().map((v, i) => (i % 29 === 0 ? 0 : v === 255 ? 1 : 0));
        return png(
          ihdr(28, 28, 8, 3),
          pngChunk("IDAT", zlibStored(rows)),
          pngChunk("PLTE", new Uint8Array([0, 0, 0, 255, 255, 255])),
          IEND,
        );
      },
      "image/png",
      invalid,
    ),
    image(
      "PNG with its IDAT stream split by another chunk",
      "IDAT chunks that are not consecutive, which the spec forbids",
      () => {
        const zlib = zlibStored(WHITE_28_ROWS()), half = zlib.length >> 1;
        return png(
          ihdr(28, 28),
          pngChunk("IDAT", zlib.subarray(0, half)),
          pngChunk("tEXt", ascii("Comment\0between")),
          pngChunk("IDAT", zlib.subarray(half)),
          IEND,
        );
      },
      "image/png",
      invalid,
    ),
    badDepth(16, 3),
    badDepth(4, 2),
    badDepth(3, 0),
    badDepth(1, 6),
    image(
      "16-bit RGBA PNG 2048×2048 of a digit (legitimate, at the cap)",
      "decoded bytes per sample: 32 MiB of samples behind a pixel count that passes",
      () => deepColourPng(digit),
      "image/png",
      { statuses: [200, 413], codes: ["image_too_large"], label },
    ),
    image(
      "JPEG: TEM hides a 28×28 decoy frame before the real 16384×16384 one",
      "a marker walk that reads a length after a standalone marker and so checks the decoy",
      () => jpegDecoyFrame(0x01),
      "image/jpeg",
    ),
    image(
      "JPEG: RST0 hides a 28×28 decoy frame before the real 16384×16384 one",
      "the same differential through a restart marker outside a scan",
      () => jpegDecoyFrame(0xd0),
      "image/jpeg",
    ),
    image(
      "progressive JPEG 2048×2048 with 5,000 empty scans (~50 KB)",
      "a scan flood: each scan is a pass over every block, for 10 bytes",
      () => jpegScanFlood(5000),
      "image/jpeg",
    ),
    image(
      "JPEG declaring 65500×65500 with a few bytes of data",
      "a decoder that allocates for the declared frame before finding the data missing",
      () => jpegDeclaringWithData(65500, 65500),
      "image/jpeg",
      tooLarge,
    ),
    image(
      "GIF 1024×1024: a digit, then 10,000 1×1 frames",
      "a frame flood: compositing every frame onto the whole screen",
      () => gifFrameFlood(digit, 10_000),
      "image/gif",
      { statuses: [200, 400, 413], codes: IMAGE_ERRORS, label },
    ),
    image(
      "GIF 2048×2048 whose LZW data is one chain of ever longer codes (~6 KB)",
      "LZW at its worst ratio: a few KB making 4 Mpx, each code a walk down a 4,000-long chain",
      () =>
        concat([
          gifHead(2048, 2048),
          gifLzwChainImage(2048, 2048, 2048 * 2048),
          new Uint8Array([0x3b]),
        ]),
      "image/gif",
      { statuses: [400, 413, 422], codes: [...IMAGE_ERRORS, "no_ink"] },
    ),
    image(
      "GIF: a 16384×16384 frame on a 28×28 screen, LZW data for all of it (~100 KB)",
      "a frame larger than the screen that passed the size check",
      () =>
        concat([
          gifHead(28, 28),
          gifLzwChainImage(16384, 16384, 16384 * 16384),
          new Uint8Array([0x3b]),
        ]),
      "image/gif",
    ),
    image(
      "GIF whose LZW codes link omggif's table into a cycle (fuzz regression)",
      "an LZW decoder that chases a code chain without a bound",
      () => Deno.readFileSync(new URL("../../tests/fixtures/gif_lzw_cycle.gif", import.meta.url)),
      "image/gif",
      invalid,
    ),
    image(
      "lossless WebP declaring 16383×16383",
      "a decoder that allocates the declared canvas before reading the bitstream",
      () => webpDeclaring(16383, 16383),
      "image/webp",
      tooLarge,
    ),
    image(
      "extended WebP (VP8X) with a 16383×16383 canvas around a 1×1 image",
      "a canvas size that differs from the bitstream's",
      () => webpCanvasDeclaring(16383, 16383),
      "image/webp",
    ),
    image(
      "BMP declaring 40000×40000",
      "a decoder that allocates width × height × 4 from the header",
      () => bmpDeclaring(40000, 40000),
      "image/bmp",
      tooLarge,
    ),
    {
      name: "a batch of 64 cap-sized (2048×2048) PNGs in one multipart request",
      attacks: "a per-image budget times the batch size: seconds and 64 × 16 MiB per request",
      path: "/classify",
      request: () => {
        const bytes = capSizedGreyPng(digit), form = new FormData();
        for (let i = 0; i < 64; i++) {
          form.append("image", new Blob([bytes], { type: "image/png" }), `${i}.png`);
        }
        return { init: { method: "POST", body: form } };
      },
      statuses: [413],
      codes: ["image_too_large", "request_over_budget", "too_many_images"],
      capSized: "batch",
    },
    image(
      "progressive JPEG 2896×2896 of 2,400 AC refinement scans (~48 KB)",
      "a refinement-scan flood: each 20-byte scan visits all 63 coefficients of 131,044 blocks",
      () => jpegRefinementFlood(2896, 2400),
      "image/jpeg",
      invalid,
    ),
    image(
      "progressive JPEG 2896×2896 of 30 AC refinement scans (~1 KB)",
      "scans few enough for a count, each of them a pass over 8.3 million coefficients",
      () => jpegRefinementFlood(2896, 30),
      "image/jpeg",
      invalid,
    ),
    image(
      "progressive JPEG 1024×1024 of 2,400 AC refinement scans (~29 KB)",
      "the same flood on an image small enough for a plain scan count to allow 100 scans",
      () => jpegRefinementFlood(1024, 2400),
      "image/jpeg",
      invalid,
    ),
    {
      ...image(
        "1-bit PNG 8192×6144 of a digit (legitimate, at the pixel cap, ~10 KB)",
        "a decode priced by its 6 MiB of scanlines while 50 Mpx are unpacked and summed",
        () => capSizedPng(digit, 8192, 6144, "bilevel"),
        "image/png",
        { statuses: [200, 413], codes: ["image_too_large"], label },
      ),
      capSized: "single",
    },
    {
      ...image(
        "8-bit grey PNG 8192×6144 of a digit (legitimate, at the pixel cap)",
        "48 MiB of scanlines, the most a grey image at the pixel cap holds",
        () => capSizedPng(digit, 8192, 6144, "grey"),
        "image/png",
        { statuses: [200, 413], codes: ["image_too_large"], label },
      ),
      capSized: "single",
    },
    {
      ...image(
        "RGBA PNG 4096×4096 whose alpha is a digit (legitimate, at the decoding cap)",
        "64 MiB of scanlines, every pixel composited over the background",
        () => capSizedPng(digit, 4096, 4096, "alpha"),
        "image/png",
        { statuses: [200, 413], codes: ["image_too_large"], label },
      ),
      capSized: "single",
    },
    {
      ...image(
        "baseline 4:2:0 JPEG 8192×6144 with data in every block (~5 MB, valid, at the caps)",
        "1.2 million blocks of coefficients to entropy-decode, within the body and pixel limits",
        () => jpegDense(8192, 6144, 14),
        "image/jpeg",
        { statuses: [200, 413, 422], codes: ["image_too_large", "no_ink"] },
      ),
      capSized: "single",
    },
    {
      name: "a batch of 64 legitimate 2048×2048 1-bit PNGs in one multipart request",
      attacks: "a budget by bytes: 1-bit scanlines are 1/8 of the pixels unpacked and summed",
      path: "/classify",
      request: () => batchOf(64, capSizedPng(digit, 2048, 2048, "bilevel"), "image/png"),
      statuses: [413],
      codes: ["image_too_large", "request_over_budget"],
      capSized: "batch",
    },
    {
      name: "a batch of 64 640×480 JPEG photos (legitimate, a full batch)",
      attacks: "the most images a request may hold, each decoded and preprocessed",
      path: "/classify",
      request: () => batchOf(64, offCentreJpeg(digit, 1).bytes, "image/jpeg"),
      // 4:4:4, 1.8 Mi units each, 113 Mi in all: within the code's 128 Mi, over a budget of 80.
      statuses: [200, 413],
      codes: ["request_over_budget"],
      capSized: "batch",
    },
    {
      name: "a batch of 4 8-bit grey 4096×3072 PNGs (legitimate, near the decoding cap)",
      attacks: "a few large images whose sum stays under the request's budget",
      path: "/classify",
      request: () => batchOf(4, capSizedPng(digit, 4096, 3072, "grey"), "image/png"),
      statuses: [200, 413],
      codes: ["request_over_budget"],
      capSized: "batch",
    },
    {
      name: "5 MiB of nested JSON arrays",
      attacks: "a JSON parser that builds 2.6 million nested arrays before anything is checked",
      path: "/classify",
      request: () => {
        const depth = BODY_LIMIT / 2, body = new Uint8Array(BODY_LIMIT);
        body.fill(0x5b, 0, depth).fill(0x5d, depth);
        return post(body, "application/json");
      },
      statuses: [400, 413],
      codes: ["invalid_json", "body_too_large"],
    },
    {
      name: "JSON with 2 million numbers",
      attacks: "a parser that materialises every element of an array that must hold 784",
      path: "/classify",
      request: () => post(`{"pixels":[${"0,".repeat(2_000_000 - 1)}0]}`, "application/json"),
      statuses: [400, 413],
      codes: ["invalid_json", "invalid_pixels", "body_too_large"],
    },
    {
      name: "80,000 multipart text fields",
      attacks: "a multipart parser that materialises every part before counting them",
      path: "/classify",
      request: () => {
        const parts = Array.from({ length: 80_000 }, () => ({ name: "x", body: "1" }));
        return post(multipartBody("b", parts), "multipart/form-data; boundary=b");
      },
      statuses: [400, 413],
      codes: ["invalid_multipart", "too_many_images", "body_too_large"],
    },
    {
      name: "raw PNG body shorter than its Content-Length",
      attacks: "a body reader that treats a connection closed early as a server error",
      path: "/classify",
      request: () => ({
        raw: truncatedRequest("/classify", "image/png", goodPng, goodPng.length + 1000),
      }),
      statuses: [400],
      codes: ["body_incomplete", "invalid_image"],
    },
    {
      name: "chunked PNG body missing its last chunk",
      attacks: "a body reader that treats an unfinished chunked body as a server error",
      path: "/classify",
      request: () => ({ raw: unfinishedChunkedRequest("/classify", "image/png", goodPng) }),
      statuses: [400],
      codes: ["body_incomplete", "invalid_image"],
    },
  ];
}
