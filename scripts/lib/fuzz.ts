/**
 * Fuzzing POST /classify: seeded cases built from real client images (truncated, bit-flipped,
 * chunk-shuffled, re-headed to claim huge or zero sizes), hostile envelopes (wrong Content-Type,
 * multipart without the field or with too many, JSON of the wrong shape) and the oracle every answer
 * must pass: a JSON 4xx with an error code, or a valid 200 — never a 5xx, never silence.
 *
 * Case `index` of seed `seed` is always the same request, so a failure replays from two numbers.
 * Shared by `deno task fuzz` (scripts/fuzz.ts) and tests/fuzz_test.ts.
 */
import { encode as encodePng } from "fast-png";
import jpeg from "jpeg-js";
import { GifWriter } from "omggif";
import { createRng, type Rng } from "../../src/model/random.ts";
import { EXTRA_MULTIPART_PARTS } from "../../src/server/request.ts";
import { bytesOf, jpegDeclaring, OVER_BODY_LIMIT, pngDeclaring } from "./bad_inputs.ts";
import {
  blackOnWhiteBmp,
  blackOnWhiteGif,
  blackOnWhitePng,
  blackOnWhiteWebp,
  canvasPng,
  type ClientImage,
  dataUrl,
  nativePng,
  offCentreJpeg,
} from "./client_images.ts";

/** One request and the statuses it may get. */
export interface FuzzCase {
  /** Which generator made it, e.g. `bit-flipped image/jpeg as raw body`. */
  name: string;
  path: string;
  init: RequestInit;
  /** Statuses the answer may have; every 4xx must also be a JSON error. */
  allowed: readonly number[];
}

/** An answer as the oracle sees it. */
export interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/** What one fuzz run saw. */
export interface FuzzReport {
  seed: number;
  requests: number;
  /** Answers by status, e.g. `{ "200": 812, "400": 6120 }`. */
  statuses: Record<string, number>;
  /** 4xx answers by error code. */
  codes: Record<string, number>;
  /** Every case whose answer broke the oracle (the first 50 kept). */
  failures: { index: number; name: string; problem: string }[];
  failureCount: number;
  /** Set when GET /health failed after a batch (the run stops there). */
  unhealthy?: string;
  seconds: number;
}

/** A refusal or a success: anything a hostile image may fairly get. */
export const ANY_ANSWER = [200, 400, 413, 415, 422] as const;
const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"];
const MAX_BATCH = 64; // wrangler.toml's MAX_BATCH
const MAX_SIDE = 2048; // √ wrangler.toml's MAX_PIXELS

/**
 * Real images every mutator starts from: MNIST test digits as clients send them (PNG gray and RGBA,
 * JPEG, WebP, GIF, BMP, native 28×28), plus 16-bit and palette PNGs.
 *
 * @param digits A few 28×28 MNIST digits (0 background, 255 ink).
 */
export async function buildCorpus(digits: Uint8Array[]): Promise<ClientImage[]> {
  const corpus: ClientImage[] = [];
  for (const [i, digit] of digits.entries()) {
    corpus.push(
      blackOnWhitePng(digit),
      canvasPng(digit),
      offCentreJpeg(digit, i),
      await blackOnWhiteWebp(digit),
      blackOnWhiteGif(digit),
      blackOnWhiteBmp(digit),
      nativePng(digit),
      png16(digit),
      palettePng(digit),
    );
  }
  return corpus;
}

/** The digit as a 16-bit grayscale PNG, black on white. */
function png16(digit: Uint8Array): ClientImage {
  const data = new Uint16Array(784).map((_, i) => (255 - digit[i]!) * 257);
  return {
    bytes: bytesOf(encodePng({ width: 28, height: 28, data, channels: 1, depth: 16 })),
    type: "image/png",
  };
}

/** The digit as an 8-bit palette PNG of 16 greys, black on white. */
function palettePng(digit: Uint8Array): ClientImage {
  const palette = Array.from({ length: 16 }, (_, v) => [v * 17, v * 17, v * 17]);
  const data = new Uint8Array(784).map((_, i) => 15 - (digit[i]! >> 4));
  return {
    bytes: bytesOf(encodePng({ width: 28, height: 28, data, channels: 1, depth: 8, palette })),
    type: "image/png",
  };
}

/** The same request for the same seed and index, every time. */
export function fuzzCase(corpus: ClientImage[], seed: number, index: number): FuzzCase {
  const rng = createRng(mix(seed, index));
  const generator = pickWeighted(rng, GENERATORS);
  return generator(rng, corpus);
}

/** A 32-bit seed for case `index` of run `seed` (murmur3's finaliser). */
function mix(seed: number, index: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ index;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

type Generator = (rng: Rng, corpus: ClientImage[]) => FuzzCase;

const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng.next() * (hi - lo + 1));
const pick = <T>(rng: Rng, items: readonly T[]): T => items[int(rng, 0, items.length - 1)]!;

function pickWeighted<T>(rng: Rng, weighted: readonly [number, T][]): T {
  let r = rng.next() * weighted.reduce((sum, [w]) => sum + w, 0);
  for (const [w, item] of weighted) if ((r -= w) < 0) return item;
  return weighted.at(-1)![1];
}

// --- mutators: real image bytes → hostile bytes ---

function truncate(rng: Rng, bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.slice(0, int(rng, 1, bytes.length - 1));
}

/** Flips 1–32 random bits, past the magic bytes more often than not so the decoder gets to see them. */
function bitFlip(rng: Rng, bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = bytes.slice(), from = rng.next() < 0.7 ? Math.min(16, out.length - 1) : 0;
  for (let k = int(rng, 1, 32); k > 0; k--) {
    out[int(rng, from, out.length - 1)]! ^= 1 << int(rng, 0, 7);
  }
  return out;
}

/** Cuts into 2–8 pieces and puts them back in another order. */
function chunkShuffle(rng: Rng, bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const cuts = Array.from({ length: int(rng, 1, 7) }, () => int(rng, 1, bytes.length - 1))
    .sort((a, b) => a - b);
  const pieces = [0, ...cuts].map((at, i) => bytes.subarray(at, [...cuts, bytes.length][i]));
  for (let i = pieces.length - 1; i > 0; i--) {
    const j = int(rng, 0, i);
    [pieces[i], pieces[j]] = [pieces[j]!, pieces[i]!];
  }
  return concat(pieces);
}

function randomBytes(rng: Rng, length: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(length).map(() => int(rng, 0, 255));
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** A copy with a header's width and height overwritten (checksums left stale on purpose). */
function claimSize(
  image: ClientImage,
  width: number,
  height: number,
): Uint8Array<ArrayBuffer> | undefined {
  const out = image.bytes.slice(), view = new DataView(out.buffer);
  switch (image.type) {
    case "image/png":
      view.setUint32(16, width);
      view.setUint32(20, height);
      return out;
    case "image/gif": // logical screen
      view.setUint16(6, width, true);
      view.setUint16(8, height, true);
      return out;
    case "image/bmp":
      view.setInt32(18, width, true);
      view.setInt32(22, height, true);
      return out;
  }
  return undefined;
}

/**
 * A GIF whose logical screen is small but whose first frame declares `width`×`height`: the screen is
 * what a header check reads, the frame is what a decoder allocates for.
 */
export function gifWithFrameOf(width: number, height: number): Uint8Array<ArrayBuffer> {
  const side = 28, out = new Uint8Array(side * side + 1024);
  const writer = new GifWriter(out, side, side, { palette: [0, 0xffffff] });
  writer.addFrame(0, 0, side, side, new Uint8Array(side * side));
  const gif = out.slice(0, writer.end()), view = new DataView(gif.buffer);
  // Header 6 + screen 7 + palette 2×3 = 19: the image descriptor (0x2c, x, y, w, h) follows.
  const descriptor = gif.indexOf(0x2c, 19);
  view.setUint16(descriptor + 5, width, true);
  view.setUint16(descriptor + 7, height, true);
  return gif;
}

/** Tiny real images: 1×1 in every format we can encode here. */
function oneByOne(rng: Rng): ClientImage {
  const v = int(rng, 0, 255);
  switch (int(rng, 0, 2)) {
    case 0:
      return {
        bytes: bytesOf(encodePng({ width: 1, height: 1, data: new Uint8Array([v]), channels: 1 })),
        type: "image/png",
      };
    case 1: {
      const data = new Uint8Array([v, v, v, 255]);
      return {
        bytes: bytesOf(jpeg.encode({ width: 1, height: 1, data }, 90).data),
        type: "image/jpeg",
      };
    }
    default: {
      const out = new Uint8Array(1024),
        writer = new GifWriter(out, 1, 1, { palette: [0, 0xffffff] });
      writer.addFrame(0, 0, 1, 1, new Uint8Array([v & 1]));
      return { bytes: out.slice(0, writer.end()), type: "image/gif" };
    }
  }
}

/** An all-white image at the largest allowed size: tiny on the wire, big once decoded. */
function largestAllowed(rng: Rng): ClientImage {
  const side = MAX_SIDE, format = int(rng, 0, 2);
  if (format === 0) {
    const depth16 = rng.next() < 0.5;
    const data = depth16
      ? new Uint16Array(side * side * 4).fill(65535)
      : new Uint8Array(side * side).fill(255);
    return {
      bytes: bytesOf(
        encodePng({
          width: side,
          height: side,
          data,
          channels: depth16 ? 4 : 1,
          depth: depth16 ? 16 : 8,
        }),
      ),
      type: "image/png",
    };
  }
  if (format === 1) {
    // GIF decodes whole, so its limit is 2 Mpx (FULL_DECODE_MAX_PIXELS), not MAX_PIXELS.
    const height = side / 2,
      out = new Uint8Array(side * height),
      writer = new GifWriter(out, side, height, { palette: [0, 0xffffff] });
    writer.addFrame(0, 0, side, height, new Uint8Array(side * height).fill(1));
    return { bytes: out.slice(0, writer.end()), type: "image/gif" };
  }
  return {
    bytes: bytesOf(
      jpeg.encode(
        { width: side, height: side, data: new Uint8Array(side * side * 4).fill(255) },
        50,
      ).data,
    ),
    type: "image/jpeg",
  };
}

// The 2048² images take ~100 ms to encode: make a few once, reuse them.
const largest: ClientImage[] = [];
function largestAllowedCached(rng: Rng): ClientImage {
  const slot = int(rng, 0, 3);
  return largest[slot] ??= largestAllowed(createRng(slot));
}

// --- envelopes: how the bytes travel ---

const raw = (bytes: Uint8Array<ArrayBuffer>, type?: string): RequestInit => ({
  method: "POST",
  body: bytes,
  headers: type === undefined ? {} : { "content-type": type },
});

function asMultipart(fields: [string, Uint8Array<ArrayBuffer> | string][]): RequestInit {
  const form = new FormData();
  for (const [name, value] of fields) {
    if (typeof value === "string") form.append(name, value);
    else form.append(name, new Blob([value]), "f");
  }
  return { method: "POST", body: form };
}

const jsonText = (text: string, type = "application/json"): RequestInit => ({
  method: "POST",
  body: text,
  headers: { "content-type": type },
});

/** Some hostile bytes, sent the way a client might: raw with a right, wrong or no type, multipart, JSON. */
function send(
  rng: Rng,
  name: string,
  bytes: Uint8Array<ArrayBuffer>,
  type: string,
  allowed: readonly number[],
): FuzzCase {
  const how = int(rng, 0, 5);
  switch (how) {
    case 0:
      return { name: `${name} as raw ${type}`, path: "/classify", init: raw(bytes, type), allowed };
    case 1: {
      const wrong = pick(rng, [
        undefined,
        "application/octet-stream",
        "text/plain",
        ...IMAGE_TYPES,
        "x/y;;;=",
        "",
      ]);
      return {
        name: `${name} as raw with type ${wrong ?? "(none)"}`,
        path: "/classify",
        init: raw(bytes, wrong),
        allowed,
      };
    }
    case 2:
      return {
        name: `${name} in multipart`,
        path: "/classify",
        init: asMultipart([["image", bytes]]),
        allowed,
      };
    case 3: {
      const body = JSON.stringify({ image: dataUrl({ bytes, type }) });
      return {
        name: `${name} as JSON data: URL`,
        path: "/classify",
        init: jsonText(body),
        allowed,
      };
    }
    case 4: {
      const query = pick(rng, ["?preprocess=none", "?debug=1", "?preprocess=mnist&debug=1"]);
      return {
        name: `${name} as raw ${type}${query}`,
        path: `/classify${query}`,
        init: raw(bytes, type),
        allowed,
      };
    }
    default: // image bytes under a JSON or multipart type: the envelope parser gets them
      return {
        name: `${name} as raw under a JSON or multipart type`,
        path: "/classify",
        init: raw(
          bytes,
          pick(rng, ["application/json", "multipart/form-data", "multipart/form-data; boundary=x"]),
        ),
        allowed: [400],
      };
  }
}

const GENERATORS: readonly [number, Generator][] = [
  [10, (rng) => {
    const bytes = randomBytes(rng, int(rng, 1, 4096));
    return send(rng, "random bytes", bytes, pick(rng, IMAGE_TYPES), ANY_ANSWER);
  }],
  [5, (rng) => { // random bytes behind a real magic number
    const magic = pick(rng, [
      [0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10],
      [0xff, 0xd8, 0xff],
      [71, 73, 70, 56, 57, 97],
      [66, 77],
      [82, 73, 70, 70, 0, 0, 0, 0, 87, 69, 66, 80],
    ]);
    const bytes = concat([new Uint8Array(magic), randomBytes(rng, int(rng, 0, 2048))]);
    return send(
      rng,
      "random bytes behind a magic number",
      bytes,
      pick(rng, IMAGE_TYPES),
      ANY_ANSWER,
    );
  }],
  [15, (rng, corpus) => {
    const image = pick(rng, corpus);
    return send(rng, `truncated ${image.type}`, truncate(rng, image.bytes), image.type, ANY_ANSWER);
  }],
  [25, (rng, corpus) => {
    const image = pick(rng, corpus);
    return send(
      rng,
      `bit-flipped ${image.type}`,
      bitFlip(rng, image.bytes),
      image.type,
      ANY_ANSWER,
    );
  }],
  [12, (rng, corpus) => {
    const image = pick(rng, corpus);
    return send(
      rng,
      `chunk-shuffled ${image.type}`,
      chunkShuffle(rng, image.bytes),
      image.type,
      ANY_ANSWER,
    );
  }],
  [8, (rng, corpus) => { // an intact real digit must be read, whatever envelope carries it
    const image = pick(rng, corpus);
    const how = int(rng, 0, 2);
    const init = how === 0
      ? raw(
        image.bytes,
        pick(rng, [image.type, "application/octet-stream", "text/plain", undefined]),
      )
      : how === 1
      ? asMultipart([["image", image.bytes]])
      : jsonText(JSON.stringify({ image: dataUrl(image) }));
    return { name: `intact ${image.type}`, path: "/classify", init, allowed: [200] };
  }],
  [6, (rng, corpus) => {
    const [width, height] = pick(
      rng,
      [[65535, 65535], [30000, 30000], [MAX_SIDE + 1, MAX_SIDE], [0, 28], [28, 0], [0, 0], [
        1,
        1,
      ]] as const,
    );
    const image = pick(
      rng,
      corpus.filter((c) => ["image/png", "image/gif", "image/bmp"].includes(c.type)),
    );
    const bytes = claimSize(image, width, height)!;
    const huge = width * height > MAX_SIDE * MAX_SIDE || width === 0 || height === 0;
    return send(
      rng,
      `${image.type} claiming ${width}×${height}`,
      bytes,
      image.type,
      huge ? [400, 413] : ANY_ANSWER,
    );
  }],
  [5, (rng) => {
    const [bytes, type, name] = rng.next() < 0.5
      ? [pngDeclaring(65535, 65535), "image/png", "~1 KB PNG claiming 65535×65535"]
      : [jpegDeclaring(30000, 30000), "image/jpeg", "JPEG claiming 30000×30000"];
    return { name, path: "/classify", init: raw(bytes, type), allowed: [413] };
  }],
  [4, (rng) => {
    const [width, height] = pick(
      rng,
      [[65535, 65535], [20000, 20000], [4096, 4096], [2049, 2048], [0, 0], [1, 1]] as const,
    );
    return send(
      rng,
      `GIF frame claiming ${width}×${height} in a 28×28 screen`,
      gifWithFrameOf(width, height),
      "image/gif",
      ANY_ANSWER,
    );
  }],
  [3, (rng) => {
    const image = oneByOne(rng);
    return send(rng, `1×1 ${image.type}`, image.bytes, image.type, ANY_ANSWER);
  }],
  [1, (rng) => {
    const image = largestAllowedCached(rng);
    return {
      name: `blank, largest allowed ${image.type}`,
      path: "/classify",
      init: raw(image.bytes, image.type),
      allowed: [422],
    };
  }],
  [3, (rng) => ({
    name: "empty body",
    path: "/classify",
    init: raw(new Uint8Array(), pick(rng, [...IMAGE_TYPES, undefined])),
    allowed: [400],
  })],
  [3, (rng, corpus) => { // multipart without the field
    const image = pick(rng, corpus);
    const name = pick(rng, ["file", "Image", "images", "", "image[]"]);
    return {
      name: `multipart with only a '${name}' field`,
      path: "/classify",
      init: asMultipart([[name, image.bytes]]),
      allowed: [400],
    };
  }],
  [3, (rng, corpus) => { // many fields, some of them images
    const images = int(rng, 0, 100), others = int(rng, 0, 100);
    const fields: [string, Uint8Array<ArrayBuffer> | string][] = [];
    for (let i = 0; i < images; i++) fields.push(["image", pick(rng, corpus).bytes]);
    for (let i = 0; i < others; i++) {
      fields.push([`f${i}`, rng.next() < 0.5 ? "x" : randomBytes(rng, 16)]);
    }
    // A batch of big BMPs can pass the body limit before it passes the batch limit.
    const bytes = fields.reduce((n, [, v]) => n + v.length, 0);
    const allowed = bytes > OVER_BODY_LIMIT
      ? [413]
      : images + others > MAX_BATCH + EXTRA_MULTIPART_PARTS // counted before the form is parsed
      ? [413]
      : images === 0
      ? [400]
      : images > MAX_BATCH
      ? [413]
      : bytes > OVER_BODY_LIMIT - 64 * 1024
      ? [200, 413]
      : [200];
    return {
      name: `multipart with ${images} images and ${others} other fields`,
      path: "/classify",
      init: asMultipart(fields),
      allowed,
    };
  }],
  [0.3, () => ({
    name: "multipart with a file over the body limit",
    path: "/classify",
    init: asMultipart([["image", new Uint8Array(OVER_BODY_LIMIT)]]),
    allowed: [413],
  })],
  [0.3, () => ({
    name: "raw body over the limit",
    path: "/classify",
    init: raw(new Uint8Array(OVER_BODY_LIMIT), "image/png"),
    allowed: [413],
  })],
  [4, (rng) => {
    const length = pick(rng, [0, 1, 783, 785, 1568, int(rng, 2, 3000)]);
    return {
      name: `JSON with ${length} pixels`,
      path: "/classify",
      init: jsonText(JSON.stringify({ pixels: new Array(length).fill(128) })),
      allowed: [400],
    };
  }],
  [4, (rng) => {
    const bad = pick(rng, [
      "NaN",
      "Infinity",
      "-1",
      "256",
      "1e400",
      '"7"',
      "null",
      "true",
      "[]",
      "{}",
    ]);
    const pixels = new Array(784).fill("0");
    pixels[int(rng, 0, 783)] = bad;
    const type = pick(rng, [
      "application/json",
      "application/json; charset=utf-8",
      "application/x+json",
    ]);
    return {
      name: `JSON pixels holding ${bad}`,
      path: "/classify",
      init: jsonText(`{"pixels":[${pixels.join(",")}]}`, type),
      allowed: [400],
    };
  }],
  [3, (rng) => {
    const depth = pick(rng, [10, 1000, 100_000, 1_000_000]);
    const key = pick(rng, ["pixels", "image", "other"]);
    const nested = rng.next() < 0.5
      ? "[".repeat(depth) + "]".repeat(depth)
      : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
    return {
      name: `JSON ${key} nested ${depth} deep`,
      path: "/classify",
      init: jsonText(`{"${key}":${nested}}`),
      allowed: nested.length > OVER_BODY_LIMIT - 16 ? [413] : [400],
    };
  }],
  [3, (rng) => {
    const value = pick(rng, [
      '"abc"',
      "123",
      "null",
      "[1,2]",
      '"data:image/png;base64,"',
      '"data:image/png,abc"',
      '"%%%"',
      '""',
      '{"image":1}',
    ]);
    return {
      name: `JSON image ${value}`,
      path: "/classify",
      init: jsonText(`{"image":${value}}`),
      allowed: [400, 415], // "abc" is base64 for two bytes of no known format
    };
  }],
  [2, (rng) => {
    const body = pick(rng, [
      "",
      "[]",
      "null",
      "7",
      '"seven"',
      "{",
      '{"pixels":[1,2,3',
      "\u0000\u0001",
      "{}",
    ]);
    return {
      name: `JSON body ${JSON.stringify(body)}`,
      path: "/classify",
      init: jsonText(body),
      allowed: [400],
    };
  }],
  [2, (rng, corpus) => {
    const image = pick(rng, corpus);
    const type = pick(rng, [
      "multipart/form-data",
      "multipart/form-data; boundary=",
      "multipart/form-data; boundary=zzz",
    ]);
    return {
      name: `image bytes declared ${type}`,
      path: "/classify",
      init: raw(image.bytes, type),
      allowed: [400],
    };
  }],
];

/**
 * Judges one answer.
 * @returns What is wrong with it, or `undefined` when it is a fair answer to `fuzz`.
 */
export function judge(fuzz: FuzzCase, answer: Answer): string | undefined {
  const { status, contentType, body } = answer;
  if (!fuzz.allowed.includes(status)) {
    return `status ${status}, expected one of ${fuzz.allowed.join("/")}: ${body.slice(0, 200)}`;
  }
  if (!contentType.startsWith("application/json")) {
    return `status ${status} with content-type ${contentType}`;
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return `status ${status} with a body that is not JSON: ${body.slice(0, 200)}`;
  }
  if (status !== 200) {
    const error = (json as { error?: { code?: unknown; message?: unknown } }).error;
    return typeof error?.code === "string" && typeof error.message === "string"
      ? undefined
      : `status ${status} without {"error":{"code","message"}}: ${body.slice(0, 200)}`;
  }
  const results = (json as { results?: unknown }).results;
  const predictions = Array.isArray(results) ? results : [json];
  for (const p of predictions) {
    const problem = checkPrediction(p);
    if (problem) return `200 with ${problem}: ${body.slice(0, 200)}`;
  }
  return undefined;
}

function checkPrediction(value: unknown): string | undefined {
  const { digit, confidence, probabilities } = value as Record<string, unknown>;
  if (!Array.isArray(probabilities) || probabilities.length !== 10) return "no 10 probabilities";
  if (!probabilities.every((p) => typeof p === "number" && p >= 0 && p <= 1)) {
    return "a probability outside [0, 1]";
  }
  const sum = probabilities.reduce((a: number, b: number) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-3) return `probabilities summing to ${sum}`;
  const argmax = probabilities.indexOf(Math.max(...probabilities));
  if (digit !== argmax) return `digit ${digit} that is not the most probable (${argmax})`;
  if (confidence !== probabilities[argmax]) return `confidence ${confidence} ≠ the top probability`;
  return undefined;
}

/** Sends one case and reads the whole answer; a network failure or a 30 s silence is an answer too. */
export async function sendCase(url: string, fuzz: FuzzCase): Promise<Answer> {
  try {
    const res = await fetch(`${url}${fuzz.path}`, {
      ...fuzz.init,
      signal: AbortSignal.timeout(30_000),
    });
    return {
      status: res.status,
      contentType: res.headers.get("content-type") ?? "",
      body: await res.text(),
    };
  } catch (error) {
    return { status: 0, contentType: "", body: `no answer: ${(error as Error).message}` };
  }
}

/** Options for {@linkcode runFuzz}. */
export interface FuzzOptions {
  seed: number;
  /** The first case's index. Default 0. */
  from?: number;
  /** Stop after this many requests... */
  requests: number;
  /** ...or after this many seconds, whichever comes first. Default: no time limit (tests set none,
   * so that what they check does not depend on the machine's speed). */
  seconds?: number;
  /** Requests in flight at once. Default 8. */
  concurrency?: number;
  /** Requests between health checks. Default 500. */
  batch?: number;
  /** Called after every batch, once /health has answered; a thrown error ends the run. */
  afterBatch?: (report: FuzzReport) => void | Promise<void>;
}

/** Sends seeded cases to a running Worker in batches, checking GET /health after each. */
export async function runFuzz(
  url: string,
  corpus: ClientImage[],
  options: FuzzOptions,
): Promise<FuzzReport> {
  const { seed, seconds, concurrency = 8, batch = 500, from = 0 } = options;
  const last = from + options.requests;
  const report: FuzzReport = {
    seed,
    requests: 0,
    statuses: {},
    codes: {},
    failures: [],
    failureCount: 0,
    seconds: 0,
  };
  const started = performance.now();
  const deadline = seconds === undefined ? Infinity : started + seconds * 1000;
  let next = from;
  while (next < last && performance.now() < deadline) {
    const end = Math.min(last, next + batch);
    const client = async () => {
      while (next < end && performance.now() < deadline) {
        const index = next++;
        const fuzz = fuzzCase(corpus, seed, index);
        const answer = await sendCase(url, fuzz);
        report.requests++;
        report.statuses[answer.status] = (report.statuses[answer.status] ?? 0) + 1;
        if (answer.status >= 400 && answer.status < 500) {
          const code = errorCode(answer.body);
          report.codes[code] = (report.codes[code] ?? 0) + 1;
        }
        const problem = judge(fuzz, answer);
        if (problem) {
          report.failureCount++;
          if (report.failures.length < 50) {
            report.failures.push({ index, name: fuzz.name, problem });
          }
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, client));
    const health = await sendCase(url, {
      name: "health",
      path: "/health",
      init: {},
      allowed: [200],
    });
    if (health.status !== 200) {
      report.unhealthy =
        `GET /health answered ${health.status} after ${report.requests} requests: ${health.body}`;
      break;
    }
    report.seconds = Math.round((performance.now() - started) / 10) / 100;
    await options.afterBatch?.(report);
  }
  report.seconds = Math.round((performance.now() - started) / 10) / 100;
  return report;
}

function errorCode(body: string): string {
  try {
    return String(JSON.parse(body).error.code);
  } catch {
    return "(not a JSON error)";
  }
}
