/**
 * Fuzzing the inference routes: seeded cases built from real client images (truncated, bit-flipped,
 * chunk-shuffled, re-headed to claim huge or zero sizes) and hostile envelopes (wrong Content-Type,
 * multipart without the field or with too many, JSON of the wrong shape), aimed at POST /classify or
 * POST /read; and Open Inference Protocol requests for POST /v2/models/mnist-cnn/infer, each a valid
 * tensor request with one thing broken (truncated, wrong shape, datatype or length, huge dimensions,
 * garbage nested in it, 50,000 parameters, deep nesting, a non-JSON type, a giant id). The oracle
 * every answer must pass: a JSON 4xx in the route's error shape, or a 200 in its answer's shape —
 * never a 5xx, never silence.
 *
 * Case `index` of seed `seed` is always the same request, so a failure replays from two numbers (and
 * the routes the run was aimed at). Shared by `deno task fuzz` (scripts/fuzz.ts) and
 * tests/fuzz_test.ts.
 */
import { encode as encodePng } from "fast-png";
import jpeg from "jpeg-js";
import { GifWriter } from "omggif";
import { isRefused } from "../../src/model/classifier.ts";
import { createRng, type Rng } from "../../src/model/random.ts";
import { EXTRA_MULTIPART_PARTS } from "../../src/server/request.ts";
import { READ_IMAGE_WORK } from "../../src/server/read.ts";
import { IMAGE_WORK } from "../../src/image/decode.ts";
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

/** The routes the fuzzer aims at: POST /classify, POST /read, POST /v2/models/mnist-cnn/infer. */
export const ROUTES = ["classify", "read", "v2"] as const;
/** One of {@linkcode ROUTES}: it decides the answer's shape the oracle expects. */
export type Route = typeof ROUTES[number];
/** The routes that take images: the same cases are aimed at either. */
export type ImageRoute = Exclude<Route, "v2">;

/** One request and the statuses it may get. */
export interface FuzzCase {
  /** Which generator made it, e.g. `bit-flipped image/jpeg as raw body`. */
  name: string;
  route: Route;
  path: string;
  init: RequestInit;
  /** Statuses the answer may have; every 4xx must also be a JSON error. */
  allowed: readonly number[];
  /** What else a 200 must hold for this request (e.g. as many digits as were sent). */
  check?: (json: unknown) => string | undefined;
}

/** An answer as the oracle sees it. */
export interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/** What one route saw in a fuzz run. */
export interface RouteReport {
  requests: number;
  statuses: Record<string, number>;
  failureCount: number;
  /** The slowest answer (send to last byte of the body), and its case. */
  slowest?: { ms: number; index: number; name: string; status: number };
}

/** What one fuzz run saw. */
export interface FuzzReport {
  seed: number;
  requests: number;
  /** The same figures, route by route. */
  routes: Partial<Record<Route, RouteReport>>;
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
const MAX_DECODE_WORK = 128 * 1024 * 1024; // wrangler.toml's MAX_DECODE_WORK
/** More than any corpus image (at most 280×280) costs to decode: 280² × 24 (WHOLE_PIXEL_WORK) ≈ 1.8 Mi. */
const CORPUS_IMAGE_WORK = 4 * 1024 * 1024;
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
  // Made now, not mid-run, where encoding them would stall the requests in flight and their timings.
  for (let slot = 0; slot < LARGEST_SLOTS; slot++) largestAllowedCached(createRng(slot), slot);
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

/**
 * The same request for the same seed, index and routes, every time. Case `index` goes to
 * `routes[index % routes.length]`; an image route's cases come from the same generators whichever
 * it is, so `["classify"]` replays the cases runs made before /read and /v2 were fuzzed.
 *
 * @param corpus The real images the image cases start from ({@linkcode buildCorpus}).
 * @param seed The run's seed.
 * @param index The case's index in the run.
 * @param routes The routes the run is aimed at, in turn.
 */
export function fuzzCase(
  corpus: ClientImage[],
  seed: number,
  index: number,
  routes: readonly Route[] = ["classify"],
): FuzzCase {
  if (routes.length === 0) throw new RangeError("'routes' must name at least one route");
  const route = routes[index % routes.length]!;
  const rng = createRng(mix(seed, index));
  if (route === "v2") return pickWeighted(rng, V2_GENERATORS)(rng);
  return pickWeighted(rng, GENERATORS)(rng, corpus, route);
}

/** A 32-bit seed for case `index` of run `seed` (murmur3's finaliser). */
function mix(seed: number, index: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ index;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

type Generator = (rng: Rng, corpus: ClientImage[], route: ImageRoute) => FuzzCase;

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

// The 2048² images take 0.1–1 s to encode: make a few once (buildCorpus does), reuse them.
const LARGEST_SLOTS = 4;
const largest: ClientImage[] = [];
function largestAllowedCached(rng: Rng, slot = int(rng, 0, LARGEST_SLOTS - 1)): ClientImage {
  return largest[slot] ??= largestAllowed(createRng(slot));
}

/**
 * What a /read batch of `images` intact corpus images may get: each is priced at its decoding plus
 * READ_IMAGE_WORK before any is decoded, so past the request's decoding budget it is 413
 * `request_over_budget` (eleven images at least), within it 200 (eight at most).
 */
function readBatchAllowed(images: number): number[] {
  if (images * (READ_IMAGE_WORK + IMAGE_WORK) > MAX_DECODE_WORK) return [413];
  if (images * (READ_IMAGE_WORK + CORPUS_IMAGE_WORK) <= MAX_DECODE_WORK) return [200];
  return [200, 413];
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
  route: ImageRoute,
  name: string,
  bytes: Uint8Array<ArrayBuffer>,
  type: string,
  allowed: readonly number[],
): FuzzCase {
  const how = int(rng, 0, 5);
  switch (how) {
    case 0:
      return {
        name: `${name} as raw ${type}`,
        route,
        path: `/${route}`,
        init: raw(bytes, type),
        allowed,
      };
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
        route,
        path: `/${route}`,
        init: raw(bytes, wrong),
        allowed,
      };
    }
    case 2:
      return {
        name: `${name} in multipart`,
        route,
        path: `/${route}`,
        init: asMultipart([["image", bytes]]),
        allowed,
      };
    case 3: {
      const body = JSON.stringify({ image: dataUrl({ bytes, type }) });
      return {
        name: `${name} as JSON data: URL`,
        route,
        path: `/${route}`,
        init: jsonText(body),
        allowed,
      };
    }
    case 4: {
      const query = pick(rng, ["?preprocess=none", "?debug=1", "?preprocess=mnist&debug=1"]);
      return {
        name: `${name} as raw ${type}${query}`,
        route,
        path: `/${route}${query}`,
        init: raw(bytes, type),
        allowed,
      };
    }
    default: // image bytes under a JSON or multipart type: the envelope parser gets them
      return {
        name: `${name} as raw under a JSON or multipart type`,
        route,
        path: `/${route}`,
        init: raw(
          bytes,
          pick(rng, ["application/json", "multipart/form-data", "multipart/form-data; boundary=x"]),
        ),
        allowed: [400],
      };
  }
}

const GENERATORS: readonly [number, Generator][] = [
  [10, (rng, _, route) => {
    const bytes = randomBytes(rng, int(rng, 1, 4096));
    return send(rng, route, "random bytes", bytes, pick(rng, IMAGE_TYPES), ANY_ANSWER);
  }],
  [5, (rng, _, route) => { // random bytes behind a real magic number
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
      route,
      "random bytes behind a magic number",
      bytes,
      pick(rng, IMAGE_TYPES),
      ANY_ANSWER,
    );
  }],
  [15, (rng, corpus, route) => {
    const image = pick(rng, corpus);
    return send(
      rng,
      route,
      `truncated ${image.type}`,
      truncate(rng, image.bytes),
      image.type,
      ANY_ANSWER,
    );
  }],
  [25, (rng, corpus, route) => {
    const image = pick(rng, corpus);
    return send(
      rng,
      route,
      `bit-flipped ${image.type}`,
      bitFlip(rng, image.bytes),
      image.type,
      ANY_ANSWER,
    );
  }],
  [12, (rng, corpus, route) => {
    const image = pick(rng, corpus);
    return send(
      rng,
      route,
      `chunk-shuffled ${image.type}`,
      chunkShuffle(rng, image.bytes),
      image.type,
      ANY_ANSWER,
    );
  }],
  [8, (rng, corpus, route) => { // an intact real digit must be read, whatever envelope carries it
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
    return { name: `intact ${image.type}`, route, path: `/${route}`, init, allowed: [200] };
  }],
  [6, (rng, corpus, route) => {
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
      route,
      `${image.type} claiming ${width}×${height}`,
      bytes,
      image.type,
      huge ? [400, 413] : ANY_ANSWER,
    );
  }],
  [5, (rng, _, route) => {
    const [bytes, type, name] = rng.next() < 0.5
      ? [pngDeclaring(65535, 65535), "image/png", "~1 KB PNG claiming 65535×65535"]
      : [jpegDeclaring(30000, 30000), "image/jpeg", "JPEG claiming 30000×30000"];
    return { name, route, path: `/${route}`, init: raw(bytes, type), allowed: [413] };
  }],
  [4, (rng, _, route) => {
    const [width, height] = pick(
      rng,
      [[65535, 65535], [20000, 20000], [4096, 4096], [2049, 2048], [0, 0], [1, 1]] as const,
    );
    return send(
      rng,
      route,
      `GIF frame claiming ${width}×${height} in a 28×28 screen`,
      gifWithFrameOf(width, height),
      "image/gif",
      ANY_ANSWER,
    );
  }],
  [3, (rng, _, route) => {
    const image = oneByOne(rng);
    return send(rng, route, `1×1 ${image.type}`, image.bytes, image.type, ANY_ANSWER);
  }],
  [1, (rng, _, route) => {
    const image = largestAllowedCached(rng);
    return {
      name: `blank, largest allowed ${image.type}`,
      route,
      path: `/${route}`,
      init: raw(image.bytes, image.type),
      allowed: [422],
    };
  }],
  [3, (rng, _, route) => ({
    name: "empty body",
    route,
    path: `/${route}`,
    init: raw(new Uint8Array(), pick(rng, [...IMAGE_TYPES, undefined])),
    allowed: [400],
  })],
  [3, (rng, corpus, route) => { // multipart without the field
    const image = pick(rng, corpus);
    const name = pick(rng, ["file", "Image", "images", "", "image[]"]);
    return {
      name: `multipart with only a '${name}' field`,
      route,
      path: `/${route}`,
      init: asMultipart([[name, image.bytes]]),
      allowed: [400],
    };
  }],
  [3, (rng, corpus, route) => { // many fields, some of them images
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
      : route === "read" && images > 1
      ? readBatchAllowed(images)
      : [200];
    return {
      name: `multipart with ${images} images and ${others} other fields`,
      route,
      path: `/${route}`,
      init: asMultipart(fields),
      allowed,
    };
  }],
  [0.3, (_rng, _, route) => ({
    name: "multipart with a file over the body limit",
    route,
    path: `/${route}`,
    init: asMultipart([["image", new Uint8Array(OVER_BODY_LIMIT)]]),
    allowed: [413],
  })],
  [0.3, (_rng, _, route) => ({
    name: "raw body over the limit",
    route,
    path: `/${route}`,
    init: raw(new Uint8Array(OVER_BODY_LIMIT), "image/png"),
    allowed: [413],
  })],
  [4, (rng, _, route) => {
    const length = pick(rng, [0, 1, 783, 785, 1568, int(rng, 2, 3000)]);
    return {
      name: `JSON with ${length} pixels`,
      route,
      path: `/${route}`,
      init: jsonText(JSON.stringify({ pixels: new Array(length).fill(128) })),
      allowed: [400],
    };
  }],
  [4, (rng, _, route) => {
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
      route,
      path: `/${route}`,
      init: jsonText(`{"pixels":[${pixels.join(",")}]}`, type),
      allowed: [400],
    };
  }],
  [3, (rng, _, route) => {
    const depth = pick(rng, [10, 1000, 100_000, 1_000_000]);
    const key = pick(rng, ["pixels", "image", "other"]);
    const nested = rng.next() < 0.5
      ? "[".repeat(depth) + "]".repeat(depth)
      : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
    return {
      name: `JSON ${key} nested ${depth} deep`,
      route,
      path: `/${route}`,
      init: jsonText(`{"${key}":${nested}}`),
      allowed: nested.length > OVER_BODY_LIMIT - 16 ? [413] : [400],
    };
  }],
  [3, (rng, _, route) => {
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
      route,
      path: `/${route}`,
      init: jsonText(`{"image":${value}}`),
      allowed: [400, 415], // "abc" is base64 for two bytes of no known format
    };
  }],
  [2, (rng, _, route) => {
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
      route,
      path: `/${route}`,
      init: jsonText(body),
      allowed: [400],
    };
  }],
  [2, (rng, corpus, route) => {
    const image = pick(rng, corpus);
    const type = pick(rng, [
      "multipart/form-data",
      "multipart/form-data; boundary=",
      "multipart/form-data; boundary=zzz",
    ]);
    return {
      name: `image bytes declared ${type}`,
      route,
      path: `/${route}`,
      init: raw(image.bytes, type),
      allowed: [400],
    };
  }],
];

// --- Open Inference Protocol: a valid tensor request with one thing broken ---

/** The inference route of the one model served. */
export const V2_INFER = "/v2/models/mnist-cnn/infer";
const PIXELS = 784;

/** A valid request's tensor: its digits, shape, datatype and data, flat or nested as the shape. */
interface Tensor {
  digits: number;
  shape: number[];
  datatype: "UINT8" | "FP32";
  data: unknown[];
}

/** 1–4 digits of random strokes (most pixels 0), [N,28,28] or [N,784], UINT8 or FP32, flat or nested. */
function validTensor(rng: Rng, digits = int(rng, 1, 4)): Tensor {
  const grid = rng.next() < 0.5, datatype = rng.next() < 0.7 ? "UINT8" : "FP32";
  const shape = grid ? [digits, 28, 28] : [digits, PIXELS];
  const values = Array.from({ length: digits * PIXELS }, () => {
    const v = rng.next() < 0.8 ? 0 : int(rng, 1, 255);
    return datatype === "UINT8" ? v : Math.round(v / 255 * 1000) / 1000;
  });
  return { digits, shape, datatype, data: rng.next() < 0.3 ? nest(values, shape) : values };
}

/** Flat values as arrays nested as `shape` (row-major). */
function nest(values: unknown[], shape: number[]): unknown[] {
  if (shape.length === 1) return values;
  const size = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from(
    { length: shape[0]! },
    (_, i) => nest(values.slice(i * size, (i + 1) * size), shape.slice(1)),
  );
}

/** The request body for a tensor, with `extra` fields at the top level. */
function inferRequest(
  tensor: Tensor,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const { shape, datatype, data } = tensor;
  return { ...extra, inputs: [{ name: "image", shape, datatype, data }] };
}

function v2Case(
  name: string,
  body: string | BodyInit,
  allowed: readonly number[],
  options: { type?: string | null; path?: string; check?: FuzzCase["check"] } = {},
): FuzzCase {
  const type = options.type === undefined ? "application/json" : options.type;
  return {
    name: `v2: ${name}`,
    route: "v2",
    path: options.path ?? V2_INFER,
    init: { method: "POST", body, headers: type === null ? {} : { "content-type": type } },
    allowed,
    ...(options.check ? { check: options.check } : {}),
  };
}

/** A 200 must answer every digit sent, echo the id, and hold the outputs asked for. */
function expectInference(
  digits: number,
  id: string | undefined,
  outputs = 1,
): (json: unknown) => string | undefined {
  return (json) => {
    const answer = json as { id?: unknown; outputs?: { shape?: unknown }[] };
    if (answer.id !== id) return `id ${String(answer.id).slice(0, 40)} where ${id} was sent`;
    if (answer.outputs?.length !== outputs) {
      return `${answer.outputs?.length} outputs where ${outputs} were asked for`;
    }
    const shape = answer.outputs[0]?.shape;
    if (outputs && (!Array.isArray(shape) || shape[0] !== digits)) {
      return `output shape ${JSON.stringify(shape)} for ${digits} digits`;
    }
    return undefined;
  };
}

/** `{"p0":0,"p1":0,…}`: `count` parameters. */
function manyParameters(count: number): Record<string, number> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`p${i}`, i & 1]));
}

type V2Generator = (rng: Rng) => FuzzCase;

const V2_GENERATORS: readonly [number, V2Generator][] = [
  [12, (rng) => { // valid: must be answered, every digit, with the id echoed
    const tensor = validTensor(rng);
    const id = rng.next() < 0.5 ? `case-${int(rng, 0, 1e6)}` : undefined;
    const outputs = pick(rng, [undefined, [{ name: "probabilities" }], []]);
    const type = pick(rng, [
      "application/json",
      "application/json; charset=utf-8",
      "Application/JSON",
      "application/vnd.kserve+json",
    ]);
    const body = inferRequest(tensor, {
      ...(id === undefined ? {} : { id }),
      ...(outputs === undefined ? {} : { outputs }),
      ...(rng.next() < 0.2 ? { parameters: { a: 1, b: "x", c: true } } : {}),
    });
    return v2Case(
      `valid ${tensor.datatype} [${tensor.shape}]${Array.isArray(tensor.data[0]) ? " nested" : ""}`,
      JSON.stringify(body),
      [200],
      { type, check: expectInference(tensor.digits, id, outputs?.length ?? 1) },
    );
  }],
  [12, (rng) => { // truncated: an object cut short is never valid JSON
    const text = JSON.stringify(inferRequest(validTensor(rng)));
    const cut = rng.next() < 0.5 ? int(rng, 0, 200) : int(rng, 0, text.length - 1);
    return v2Case(`truncated at ${cut} of ${text.length}`, text.slice(0, cut), [400]);
  }],
  [10, (rng) => { // bit-flipped JSON: may still be a valid request, or anything a 400 refuses
    const bytes = new TextEncoder().encode(JSON.stringify(inferRequest(validTensor(rng))));
    return v2Case("bit-flipped JSON", bitFlip(rng, bytes), [200, 400]);
  }],
  [10, (rng) => { // the shape: wrong rank, sides or batch; the data is one valid digit's
    const tensor = validTensor(rng, 1);
    const n = int(rng, 1, 4);
    const [shape, allowed] = pick<[unknown, number[]]>(rng, [
      [[n, 28], [400]],
      [[n, 28, 28, 1], [400]],
      [[n, 29, 28], [400]],
      [[n, 28, 27], [400]],
      [[n, 783], [400]],
      [[n, 785], [400]],
      [[n, 784, 1], [400]],
      [[n], [400]],
      [[], [400]],
      [[0, 28, 28], [400]],
      [[0, 784], [400]],
      [[-1, 28, 28], [400]],
      [[1.5, 28, 28], [400]],
      [["1", 28, 28], [400]],
      [[null, 784], [400]],
      ["[1,28,28]", [400]],
      [{ 0: 1, 1: 28, 2: 28 }, [400]],
      [undefined, [400]],
      [[MAX_BATCH + 1, 28, 28], [413]], // the batch is judged before the data's length
      [[100_000, 784], [413]],
      [[1e9, 28, 28], [413]],
      [[2 ** 53, 784], [400, 413]], // past the safe integers: the schema may refuse it first
      [[1e308, 28, 28], [400, 413]],
      [[1, 1e9], [400]],
      [[1, 28, 1e9], [400]],
      [[1, 2 ** 31, 2 ** 31], [400]],
    ]);
    const input = { name: "image", shape, datatype: tensor.datatype, data: tensor.data };
    return v2Case(
      `shape ${JSON.stringify(shape) ?? "missing"}`,
      JSON.stringify({ inputs: [input] }),
      allowed,
    );
  }],
  [8, (rng) => { // the datatype, or values outside it
    const tensor = validTensor(rng);
    const body = inferRequest(tensor);
    const input = (body.inputs as Record<string, unknown>[])[0]!;
    const flat = tensor.data.flat(2) as number[];
    const how = int(rng, 0, 2);
    if (how === 0) {
      input.datatype = pick(rng, ["INT8", "FP64", "FP16", "BYTES", "uint8", "", null, 7, [
        "UINT8",
      ]]);
      return v2Case(`datatype ${JSON.stringify(input.datatype)}`, JSON.stringify(body), [400]);
    }
    // One value out of the datatype's range, in flat data.
    const bad = tensor.datatype === "UINT8"
      ? pick(rng, [256, -1, 0.5, 1e400, -0.000001, 1e300])
      : pick(rng, [1.000001, -0.5, 255, 1e300]);
    flat[int(rng, 0, flat.length - 1)] = bad;
    input.data = flat;
    return v2Case(
      `${tensor.datatype} data holding ${bad}`,
      JSON.stringify(body).replace("null", "1e400"), // JSON.stringify(Infinity) is null
      [400],
    );
  }],
  [8, (rng) => { // the data's length or nesting does not match the shape
    const tensor = validTensor(rng);
    const flat = tensor.data.flat(2) as number[];
    const how = int(rng, 0, 3);
    let data: unknown[], name: string;
    if (how === 0) {
      const delta = pick(rng, [-1, 1, -PIXELS, PIXELS, -flat.length, 27]);
      data = delta < 0
        ? flat.slice(0, flat.length + delta)
        : [...flat, ...new Array(delta).fill(0)];
      name = `flat data of ${data.length} values for [${tensor.shape}]`;
    } else if (how === 1) { // nested, one innermost row a value short or long
      const nested = nest(flat, tensor.shape) as unknown[][];
      const row =
        (tensor.shape.length === 3 ? (nested[0] as unknown[][])[int(rng, 0, 27)] : nested[0])!;
      if (rng.next() < 0.5) row.pop();
      else row.push(0);
      data = nested;
      name = `nested data with a row of ${row.length} for [${tensor.shape}]`;
    } else if (how === 2) { // nested as another shape
      const other = tensor.shape.length === 3 ? [tensor.digits, PIXELS] : [tensor.digits, 28, 28];
      data = nest(flat, other);
      name = `data nested as [${other}] for [${tensor.shape}]`;
    } else {
      data = [[flat]]; // [flat] alone is a right nesting of [1,784]
      name = `flat data wrapped twice for [${tensor.shape}]`;
    }
    const input = { name: "image", shape: tensor.shape, datatype: tensor.datatype, data };
    return v2Case(name, JSON.stringify({ inputs: [input] }), [400]);
  }],
  [8, (rng) => { // garbage where the request has structure
    const tensor = validTensor(rng, 1);
    const garbage = pick(rng, [{ a: 1 }, "7", null, true, [], [[1]], { "": [] }]);
    const body = inferRequest(tensor);
    const input = (body.inputs as Record<string, unknown>[])[0]!;
    const where = int(rng, 0, 6);
    let name: string;
    if (where === 0) {
      const flat = tensor.data.flat(2);
      flat[int(rng, 0, flat.length - 1)] = garbage;
      input.data = flat;
      name = "a data element";
    } else if (where === 1) {
      input.data = garbage;
      name = "data";
    } else if (where === 2) {
      body.inputs = pick(rng, [garbage, [], [input, input], [garbage]]);
      name = "inputs";
    } else if (where === 3) {
      input.name = pick(rng, ["images", "", "IMAGE", garbage]);
      name = "the input's name";
    } else if (where === 4) {
      body.outputs = pick(rng, [
        garbage,
        [{ name: "logits" }],
        [{ name: "probabilities" }, { name: "probabilities" }],
        ["probabilities"],
      ]);
      name = "outputs";
    } else if (where === 5) {
      body.parameters = pick(rng, [[1, 2], "x", { a: { b: 1 } }, { a: null }, { a: [1] }]);
      name = "parameters";
    } else {
      const root = pick(rng, [[body], "request", 7, null, true]);
      return v2Case(`the request is ${JSON.stringify(root).slice(0, 30)}`, JSON.stringify(root), [
        400,
      ]);
    }
    // `"outputs": []` asks for no output: a fair request, answered with none.
    const none = where === 4 && Array.isArray(body.outputs) && body.outputs.length === 0;
    return v2Case(
      `garbage in ${name}`,
      JSON.stringify(body),
      none ? [200] : [400],
      none ? { check: expectInference(1, undefined, 0) } : {},
    );
  }],
  [3, (rng) => { // parameters by the ten thousand: refused by count before their values are checked
    const count = pick(rng, [33, 50_000, 100_000]);
    const tensor = validTensor(rng, 1);
    const body = inferRequest(tensor);
    const where = int(rng, 0, 2);
    const parameters = manyParameters(count);
    if (where === 0) body.parameters = parameters;
    else if (where === 1) (body.inputs as Record<string, unknown>[])[0]!.parameters = parameters;
    else body.outputs = [{ name: "probabilities", parameters }];
    const at = ["the request", "the input", "the output"][where];
    return v2Case(`${count} parameters on ${at}`, JSON.stringify(body), [400]);
  }],
  [4, (rng) => { // nested deeper than the request can be
    const depth = pick(rng, [7, 100, 10_000, 1_000_000]);
    const nested = rng.next() < 0.5
      ? "[".repeat(depth) + "0" + "]".repeat(depth)
      : '{"a":'.repeat(depth) + "0" + "}".repeat(depth);
    const where = pick(rng, ["data", "parameters", "id", "root"]);
    const text = where === "root"
      ? nested
      : where === "data"
      ? `{"inputs":[{"name":"image","shape":[1,784],"datatype":"UINT8","data":${nested}}]}`
      : `{"${where}":${nested},"inputs":[{"name":"image","shape":[1,784],"datatype":"UINT8",` +
        `"data":[${new Array(PIXELS).fill(0)}]}]}`;
    return v2Case(
      `${where} nested ${depth} deep`,
      text,
      text.length >= OVER_BODY_LIMIT ? [413] : [400],
    );
  }],
  [6, (rng) => { // a valid request under a type that is not JSON
    const text = JSON.stringify(inferRequest(validTensor(rng)));
    if (rng.next() < 0.2) {
      const form = new FormData();
      form.append("inputs", text);
      return v2Case("valid request as a multipart field", form, [415], { type: null });
    }
    const type = pick(rng, [
      null, // fetch sends a string as text/plain
      "text/plain",
      "application/octet-stream",
      "application/x-www-form-urlencoded",
      "application/jsonl",
      "json",
      "image/png",
      "",
      "multipart/form-data; boundary=x",
    ]);
    return v2Case(`valid request declared ${type ?? "(no type)"}`, text, [415], { type });
  }],
  [5, (rng) => { // ids: up to 256 characters are echoed, more are refused
    const tensor = validTensor(rng, 1);
    const length = pick(rng, [0, 256, 257, 10_000, 1024 * 1024, OVER_BODY_LIMIT]);
    // Characters JSON escapes (6 bytes each) only in the shorter ids: escaping megabytes of them
    // would stall the client, and every request in flight with it.
    const char = pick(rng, ["x", "é", "\u0000", "\ud800", '"']);
    const id = (length <= 10_000 ? char : "x").repeat(length);
    const text = JSON.stringify(inferRequest(tensor, { id }));
    const bytes = new TextEncoder().encode(text).length;
    const allowed = bytes > OVER_BODY_LIMIT - 1 ? [413] : length <= 256 ? [200] : [400];
    return v2Case(
      `id of ${length} × ${JSON.stringify(id.slice(0, 1))}`,
      text,
      allowed,
      allowed[0] === 200 ? { check: expectInference(1, id) } : {},
    );
  }],
  [2, (rng) => {
    const id = pick(rng, [7, null, true, ["a"], { a: 1 }]);
    return v2Case(
      `id ${JSON.stringify(id)}`,
      JSON.stringify(inferRequest(validTensor(rng, 1), { id })),
      [400],
    );
  }],
  [3, (rng) => {
    const text = pick(rng, ["", " ", "null", "[]", "{}", "{", '{"inputs":', "\u0000", "NaN"]);
    return v2Case(`body ${JSON.stringify(text)}`, text, [400]);
  }],
  [2, (rng) => { // the batch limit: MAX_BATCH digits answered, one more refused
    const digits = rng.next() < 0.5 ? MAX_BATCH : MAX_BATCH + 1;
    const tensor = validTensor(rng, digits);
    return v2Case(
      `${digits} digits`,
      JSON.stringify(inferRequest(tensor)),
      digits > MAX_BATCH ? [413] : [200],
      digits > MAX_BATCH ? {} : { check: expectInference(digits, undefined) },
    );
  }],
  [2, (rng) => { // paths and versions not served
    const [path, allowed] = pick<[string, number[]]>(rng, [
      ["/v2/models/mnist/infer", [404]],
      ["/v2/models/MNIST-CNN/infer", [404]],
      ["/v2/models/mnist-cnn/versions/1/infer", [404]],
      ["/v2/models/mnist-cnn/versions/%00/infer", [404]],
      ["/v2/models/mnist-cnn/infer/", [404]],
      [`/v2/models/${"a".repeat(8000)}/infer`, [404, 414]],
    ]);
    return v2Case(
      `path ${path.slice(0, 60)}`,
      JSON.stringify(inferRequest(validTensor(rng, 1))),
      allowed,
      {
        path,
      },
    );
  }],
  [0.3, () =>
    v2Case( // past the body limit, padded with whitespace
      "a valid request padded past the body limit",
      JSON.stringify({
        inputs: [{
          name: "image",
          shape: [1, 784],
          datatype: "UINT8",
          data: new Array(PIXELS).fill(0),
        }],
      }) +
        " ".repeat(OVER_BODY_LIMIT),
      [413],
    )],
];

/**
 * Judges one answer: an allowed status, JSON, and the route's shape — `{"error":{"code","message"}}`
 * (`{"error": "…"}` on /v2) for a refusal; for a 200, a prediction from /classify, a reading from
 * /read (each `{"results"}` of a batch too), an inference response from /v2, and whatever the case
 * itself asks of it.
 *
 * @param fuzz The case sent.
 * @param answer What came back.
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
    const problem = fuzz.route === "v2" ? checkV2Error(json) : checkError(json);
    return problem && `status ${status} ${problem}: ${body.slice(0, 200)}`;
  }
  const problem = checkAnswer(fuzz.route, json) ?? fuzz.check?.(json);
  return problem && `200 with ${problem}: ${body.slice(0, 200)}`;
}

function checkError(json: unknown): string | undefined {
  const error = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof error?.code === "string" && typeof error.message === "string"
    ? undefined
    : 'without {"error":{"code","message"}}';
}

function checkV2Error(json: unknown): string | undefined {
  const error = (json as { error?: unknown } | null)?.error;
  return typeof error === "string" && error.length > 0 ? undefined : 'without {"error": "…"}';
}

function checkAnswer(route: Route, json: unknown): string | undefined {
  if (route === "v2") return checkInference(json);
  const results = (json as { results?: unknown }).results;
  for (const result of Array.isArray(results) ? results : [json]) {
    const problem = route === "read" ? checkReading(result) : checkPrediction(result);
    if (problem) return problem;
  }
  return undefined;
}

/** Ten numbers in [0, 1] that sum to 1 − `rest` (a prediction's not_a_digit; 0 for v2). */
function checkProbabilities(probabilities: unknown, rest = 0): string | undefined {
  if (!Array.isArray(probabilities) || probabilities.length !== 10) return "no 10 probabilities";
  if (!probabilities.every((p) => typeof p === "number" && p >= 0 && p <= 1)) {
    return "a probability outside [0, 1]";
  }
  const sum = probabilities.reduce((a: number, b: number) => a + b, 0) + rest;
  return Math.abs(sum - 1) > 1e-3 ? `probabilities summing to ${sum}` : undefined;
}

function checkPrediction(value: unknown): string | undefined {
  const { digit, confidence, probabilities, not_a_digit: notDigit } = value as Record<
    string,
    unknown
  >;
  if (typeof notDigit !== "number" || !(notDigit >= 0 && notDigit <= 1)) {
    return "no not_a_digit probability";
  }
  const problem = checkProbabilities(probabilities, notDigit);
  if (problem) return problem;
  const p = probabilities as number[];
  if (isRefused({ digits: Float32Array.from(p), notDigit })) return "a 200 for what is not a digit";
  const argmax = p.indexOf(Math.max(...p));
  if (digit !== argmax) return `digit ${digit} that is not the most probable (${argmax})`;
  if (confidence !== p[argmax]) return `confidence ${confidence} ≠ the top probability`;
  return undefined;
}

/** /read's `{"text","digits"}`: lines of digits, one entry per digit of the text, in its order. */
function checkReading(value: unknown): string | undefined {
  const { text, digits } = value as Record<string, unknown>;
  if (typeof text !== "string" || !/^[0-9]+(\n[0-9]+)*$/.test(text)) {
    return `text ${JSON.stringify(text)} that is not lines of digits`;
  }
  const read = text.replaceAll("\n", "");
  if (!Array.isArray(digits) || digits.length !== read.length) {
    return `${Array.isArray(digits) ? digits.length : "no"} digits for the text ${text}`;
  }
  for (const [i, entry] of digits.entries()) {
    const { digit, confidence, box, pixels } = entry as Record<string, unknown>;
    if (digit !== Number(read[i])) return `digit ${i} ${digit} where the text has ${read[i]}`;
    if (typeof confidence !== "number" || !(confidence >= 0 && confidence <= 1)) {
      return `digit ${i}'s confidence ${confidence} outside [0, 1]`;
    }
    const { x, y, width, height } = (box ?? {}) as Record<string, unknown>;
    const whole = (v: unknown, min: number) => Number.isInteger(v) && (v as number) >= min;
    if (!whole(x, 0) || !whole(y, 0) || !whole(width, 1) || !whole(height, 1)) {
      return `digit ${i}'s box ${JSON.stringify(box)} that is not whole pixels`;
    }
    if (
      pixels !== undefined &&
      !(Array.isArray(pixels) && pixels.length === 784 &&
        pixels.every((v) => Number.isInteger(v) && v >= 0 && v <= 255))
    ) {
      return `digit ${i}'s pixels that are not 784 bytes`;
    }
  }
  return undefined;
}

/** /v2's inference response: each output FP32 [N,10], N×10 probabilities, each ten summing to 1. */
function checkInference(value: unknown): string | undefined {
  const { model_name: name, outputs } = value as Record<string, unknown>;
  if (typeof name !== "string") return "no model_name";
  if (!Array.isArray(outputs)) return "no outputs";
  for (const output of outputs) {
    const { name, datatype, shape, data } = output as Record<string, unknown>;
    if (name !== "probabilities" || datatype !== "FP32") return `output ${name} ${datatype}`;
    if (!Array.isArray(shape) || shape.length !== 2 || shape[1] !== 10) {
      return `output shape ${JSON.stringify(shape)}`;
    }
    const n = shape[0];
    if (!Number.isInteger(n) || n < 1 || !Array.isArray(data) || data.length !== n * 10) {
      return `${Array.isArray(data) ? data.length : "no"} values for shape [${shape}]`;
    }
    for (let i = 0; i < n; i++) {
      const problem = checkProbabilities(data.slice(i * 10, i * 10 + 10));
      if (problem) return `digit ${i}: ${problem}`;
    }
  }
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
  /** The routes aimed at, in turn (see {@linkcode fuzzCase}). Default `["classify"]`. */
  routes?: readonly Route[];
  /** Called after every batch, once /health has answered; a thrown error ends the run. */
  afterBatch?: (report: FuzzReport) => void | Promise<void>;
}

/**
 * Sends seeded cases to a running Worker in batches, checking GET /health after each.
 *
 * @param url The Worker's origin, e.g. `http://127.0.0.1:8787`.
 * @param corpus The real images the image cases start from.
 * @param options The seed, the cases and the routes to send, and the pace.
 * @returns What the run saw, in all and route by route.
 */
export async function runFuzz(
  url: string,
  corpus: ClientImage[],
  options: FuzzOptions,
): Promise<FuzzReport> {
  const { seed, seconds, concurrency = 8, batch = 500, from = 0, routes = ["classify"] } = options;
  const last = from + options.requests;
  const report: FuzzReport = {
    seed,
    requests: 0,
    routes: {},
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
        const fuzz = fuzzCase(corpus, seed, index, routes);
        const sent = performance.now();
        const answer = await sendCase(url, fuzz);
        const ms = Math.round((performance.now() - sent) * 10) / 10;
        const route = report.routes[fuzz.route] ??= { requests: 0, statuses: {}, failureCount: 0 };
        report.requests++;
        route.requests++;
        report.statuses[answer.status] = (report.statuses[answer.status] ?? 0) + 1;
        route.statuses[answer.status] = (route.statuses[answer.status] ?? 0) + 1;
        if (!route.slowest || ms > route.slowest.ms) {
          route.slowest = { ms, index, name: fuzz.name, status: answer.status };
        }
        if (answer.status >= 400 && answer.status < 500) {
          const code = errorCode(answer.body);
          report.codes[code] = (report.codes[code] ?? 0) + 1;
        }
        const problem = judge(fuzz, answer);
        if (problem) {
          report.failureCount++;
          route.failureCount++;
          if (report.failures.length < 50) {
            report.failures.push({ index, name: fuzz.name, problem });
          }
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, client));
    const health = await sendCase(url, {
      name: "health",
      route: "classify",
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

/** The error's code; on /v2, whose errors have none, `v2`. */
function errorCode(body: string): string {
  try {
    const { error } = JSON.parse(body);
    return typeof error === "string" ? "v2" : String(error.code);
  } catch {
    return "(not a JSON error)";
  }
}
