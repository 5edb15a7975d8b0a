/**
 * Uploads as people make them, built from MNIST test digits and independent of the server's decoders:
 * phone photos of a digit written on paper (12, 8, 3 and 2 MP JPEGs, every EXIF orientation) and
 * retina screenshots of a drawing app (PNG, RGB and RGBA). The same seed gives the same bytes.
 *
 * A photo is rendered upright first (what a viewer shows), then its pixels are stored the way a camera
 * stores them for that EXIF Orientation — so that applying the tag, as browsers and Pillow's
 * `ImageOps.exif_transpose` do, shows the digit upright again — and the APP1 Exif segment is written
 * by hand right after SOI.
 *
 * Coordinates: x right, y down, in pixels of the picture named; `u`, `v` are a digit's own 28×28 grid.
 */
import { createRequire } from "node:module";
import encodeJpeg, { init as initJpegEncoder } from "@jsquash/jpeg/encode.js";
import { encode as encodePng } from "fast-png";
import { createRng, type Rng } from "../../src/model/random.ts";

/** What a client uploads, with the digit it shows. */
export interface Upload {
  /** Says what it is, for reports: "12 MP photo, orientation 6, test digit 123". */
  name: string;
  /** Which group it belongs to in reports: "12 MP photo", "5120×2880 RGBA screenshot". */
  kind: string;
  bytes: Uint8Array<ArrayBuffer>;
  type: "image/jpeg" | "image/png";
  label: number;
}

/** An 8-bit RGBA picture, rows top to bottom. */
export interface Picture {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** A phone camera: its sensor's stored (landscape) size. */
export interface Camera {
  name: string;
  width: number;
  height: number;
}

/** The four phone cameras of the test set, largest first. */
export const CAMERAS: readonly Camera[] = [
  { name: "12 MP", width: 4032, height: 3024 },
  { name: "8 MP", width: 3264, height: 2448 },
  { name: "3 MP", width: 2048, height: 1536 },
  { name: "2 MP", width: 1600, height: 1200 },
];

/** The two retina screens of the test set. */
export const SCREENS: readonly { width: number; height: number }[] = [
  { width: 2880, height: 1800 },
  { width: 5120, height: 2880 },
];

/** EXIF Orientation values: 1 upright, 2 mirrored, 3 rotated 180°, 4 flipped, 5–8 the transposed ones. */
export type Orientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;
export const ORIENTATIONS: readonly Orientation[] = [1, 2, 3, 4, 5, 6, 7, 8];

const MNIST_SIDE = 28;
/** MNIST digits fill a 20×20 box inside their 28×28 field. */
const MNIST_INK_SIDE = 20;

const smoothstep = (from: number, to: number, x: number) => {
  const t = Math.min(1, Math.max(0, (x - from) / (to - from)));
  return t * t * (3 - 2 * t);
};
const between = (rng: Rng, low: number, high: number) => low + rng.next() * (high - low);

/** Grid cells per MNIST pixel of a smoothed digit. */
const FINE = 8;
/** An ink field's side: a digit's 28×28 field, 8× finer (its ink fills the middle 160², as in MNIST). */
export const FIELD_SIDE = MNIST_SIDE * FINE;

/**
 * What the scenes draw: a 28×28 MNIST grid (0 background, 255 ink), or an ink field —
 * {@linkcode FIELD_SIDE}² coverages 0–1, rows top to bottom — such as {@linkcode inkField} makes
 * of a grid, or a font's glyph drawn into one.
 */
export type DigitInk = Uint8Array | Float32Array;

/**
 * A digit's ink 0–1 on a grid 8× finer than MNIST's, bilinear then blurred (two box passes of one
 * MNIST pixel): strokes with round edges, as a pen draws them, rather than MNIST's pixel steps.
 */
export function inkField(digit: Uint8Array): Float32Array {
  const side = MNIST_SIDE * FINE, fine = new Float32Array(side * side);
  const at = (x: number, y: number) =>
    x < 0 || y < 0 || x >= MNIST_SIDE || y >= MNIST_SIDE ? 0 : digit[y * MNIST_SIDE + x]! / 255;
  for (let y = 0; y < side; y++) {
    const v = (y + 0.5) / FINE - 0.5, y0 = Math.floor(v), fy = v - y0;
    for (let x = 0; x < side; x++) {
      const u = (x + 0.5) / FINE - 0.5, x0 = Math.floor(u), fx = u - x0;
      fine[y * side + x] = (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) +
        (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
    }
  }
  for (let pass = 0; pass < 2; pass++) {
    boxBlur(fine, side, 1, side, FINE / 2); // rows
    boxBlur(fine, side, side, 1, FINE / 2); // columns
  }
  return fine;
}

/** A box blur of `radius` along one axis of a `side`² grid, in place (`step` between neighbours). */
function boxBlur(grid: Float32Array, side: number, step: number, lineStep: number, radius: number) {
  const line = new Float32Array(side);
  for (let l = 0; l < side; l++) {
    for (let i = 0; i < side; i++) line[i] = grid[l * lineStep + i * step]!;
    let sum = 0;
    for (let i = -radius; i <= radius; i++) sum += line[Math.min(side - 1, Math.max(0, i))]!;
    for (let i = 0; i < side; i++) {
      grid[l * lineStep + i * step] = sum / (2 * radius + 1);
      sum += line[Math.min(side - 1, i + radius + 1)]! - line[Math.max(0, i - radius)]!;
    }
  }
}

/** A smoothed digit's ink at (u, v) of its 28×28 field, bilinear, 0 outside. */
function inkAt(fine: Float32Array, u: number, v: number): number {
  const side = MNIST_SIDE * FINE, fu = u * FINE - 0.5, fv = v * FINE - 0.5;
  const x0 = Math.floor(fu), y0 = Math.floor(fv), fx = fu - x0, fy = fv - y0;
  if (x0 < 0 || y0 < 0 || x0 >= side - 1 || y0 >= side - 1) return 0;
  const i = y0 * side + x0;
  return (fine[i]! * (1 - fx) + fine[i + 1]! * fx) * (1 - fy) +
    (fine[i + side]! * (1 - fx) + fine[i + side + 1]! * fx) * fy;
}

/** Where a digit goes: its 28×28 field's centre, side and tilt, and how its strokes look. */
interface Stroke {
  cx: number;
  cy: number;
  side: number;
  tilt: number;
  /** Coverage where the stroke's edge starts and ends: narrow for a crisp brush, wider for a pen. */
  edge: [number, number];
}

/**
 * Paints the digit's ink into `out` (one coverage value 0–1 per pixel of a `width`-wide picture),
 * only over the square the tilted field can reach.
 */
function paintInk(digit: DigitInk, stroke: Stroke, ink: Float32Array, width: number): void {
  const height = ink.length / width, reach = stroke.side * 0.75;
  const cos = Math.cos(stroke.tilt), sin = Math.sin(stroke.tilt), scale = MNIST_SIDE / stroke.side;
  const fine = digit instanceof Float32Array ? digit : inkField(digit);
  if (fine.length !== FIELD_SIDE * FIELD_SIDE) {
    throw new RangeError(
      `An ink field must hold ${FIELD_SIDE}×${FIELD_SIDE} values: it holds ${fine.length}`,
    );
  }
  const top = Math.max(0, Math.floor(stroke.cy - reach));
  const bottom = Math.min(height, Math.ceil(stroke.cy + reach));
  const left = Math.max(0, Math.floor(stroke.cx - reach));
  const right = Math.min(width, Math.ceil(stroke.cx + reach));
  for (let y = top; y < bottom; y++) {
    for (let x = left; x < right; x++) {
      const dx = x + 0.5 - stroke.cx, dy = y + 0.5 - stroke.cy;
      const u = (dx * cos + dy * sin) * scale + MNIST_SIDE / 2;
      const v = (-dx * sin + dy * cos) * scale + MNIST_SIDE / 2;
      ink[y * width + x] = smoothstep(stroke.edge[0], stroke.edge[1], inkAt(fine, u, v));
    }
  }
}

/** 64 Ki samples of sensor grain, roughly normal with σ 1 (sum of three uniforms). */
function grainTable(rng: Rng): Float32Array {
  const table = new Float32Array(1 << 16);
  for (let i = 0; i < table.length; i++) {
    table[i] = (rng.next() + rng.next() + rng.next() - 1.5) * 2;
  }
  return table;
}

/**
 * A phone photo of `digit` written on paper, as a viewer shows it (upright): off-white paper, light
 * falling off across the frame, a vignette, a soft shadow over one part, sensor grain, maybe a strip of
 * desk along one edge, and the digit in pen or marker — its ink 15–40 % of the short side tall,
 * slightly tilted, not centred.
 */
export function photoScene(
  digit: DigitInk,
  options: { width: number; height: number; seed: number },
): Picture {
  const { width, height } = options, rng = createRng(options.seed);
  const short = Math.min(width, height);
  // Paper: bright, a little warm or cool.
  const white = between(rng, 226, 248), warmth = between(rng, -6, 14);
  const paper = [white, white - Math.max(0, warmth) * 0.5 - 2, white - warmth - 6];
  const exposure = between(rng, 0.86, 1);
  // Light falls off along `angle` by up to `gradient`; the vignette darkens corners by up to `vignette`.
  const angle = between(rng, 0, 2 * Math.PI), gradient = between(rng, 0.06, 0.18);
  const vignette = between(rng, 0.12, 0.3);
  // A soft shadow (a hand, the phone) darkens one side of a line across the frame.
  const shadowAngle = between(rng, 0, 2 * Math.PI), shadowDepth = between(rng, 0.1, 0.22);
  const shadowOffset = between(rng, 0.25, 0.45) * short,
    shadowSoftness = between(rng, 0.05, 0.12) * short;
  // A strip of desk along one edge, in one photo of three.
  const desk = rng.next() < 0.35
    ? {
      side: Math.floor(rng.next() * 4),
      depth: between(rng, 0.025, 0.06) * short,
      colour: rng.next() < 0.5 ? [112, 80, 54] : [72, 72, 78],
    }
    : undefined;
  const inkColour = rng.next() < 0.5 ? [22, 28, 70] : [20, 20, 24];
  const opacity = between(rng, 0.86, 0.96), grain = between(rng, 1.5, 3);

  // The digit: its ink (20 of the field's 28) is 15–40 % of the short side; kept clear of the desk.
  const side = between(rng, 0.15, 0.4) * short * MNIST_SIDE / MNIST_INK_SIDE;
  const margin = 0.06 * short + (desk ? desk.depth : 0) + side * 0.4;
  const stroke: Stroke = {
    cx: between(rng, margin, width - margin),
    cy: between(rng, margin, height - margin),
    side,
    tilt: between(rng, -0.1, 0.1),
    edge: rng.next() < 0.5 ? [0.3, 0.55] : [0.15, 0.4],
  };
  const ink = new Float32Array(width * height);
  paintInk(digit, stroke, ink, width);

  const table = grainTable(rng);
  const data = new Uint8ClampedArray(width * height * 4);
  const gx = Math.cos(angle) / short, gy = Math.sin(angle) / short;
  const sx = Math.cos(shadowAngle), sy = Math.sin(shadowAngle);
  const halfDiagonal2 = (width * width + height * height) / 4;
  for (let y = 0; y < height; y++) {
    const dy = y - height / 2;
    let g = ((y * 40503) ^ options.seed) & 0xffff;
    const step = 2 * ((y * 2654435761) >>> 17) + 1;
    for (let x = 0; x < width; x++) {
      const dx = x - width / 2;
      const light = exposure * (1 - gradient * (0.5 + 0.5 * (dx * gx + dy * gy))) *
        (1 - vignette * (dx * dx + dy * dy) / halfDiagonal2) *
        (1 -
          shadowDepth *
            smoothstep(-shadowSoftness, shadowSoftness, dx * sx + dy * sy - shadowOffset));
      let surface = paper;
      if (desk) {
        const into = [y, width - 1 - x, height - 1 - y, x][desk.side]! - desk.depth;
        if (into < 0) surface = desk.colour!;
      }
      const a = ink[y * width + x]! * opacity, i = (y * width + x) * 4;
      g = (g + step) & 0xffff;
      const noise = table[g]! * grain;
      for (let c = 0; c < 3; c++) {
        data[i + c] = (surface[c]! * (1 - a) + inkColour[c]! * a) * light + noise;
      }
      data[i + 3] = 255;
    }
  }
  return { width, height, data };
}

/**
 * The stored pixels of an upright picture, for a camera that tags them with EXIF `orientation`: the
 * inverse of what a viewer applies (Pillow's exif_transpose: 2 mirror, 3 rotate 180°, 4 flip,
 * 5 transpose, 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° anticlockwise).
 */
export function storeForOrientation(upright: Picture, orientation: Orientation): Picture {
  const swap = orientation >= 5;
  const width = swap ? upright.height : upright.width,
    height = swap ? upright.width : upright.height;
  const data = new Uint8ClampedArray(width * height * 4), pixels = new Uint32Array(data.buffer);
  const from = new Uint32Array(
    upright.data.buffer,
    upright.data.byteOffset,
    upright.width * upright.height,
  );
  // Where the viewer puts stored pixel (x, y) of a width × height picture.
  const shown: (x: number, y: number) => number = {
    1: (x: number, y: number) => y * upright.width + x,
    2: (x: number, y: number) => y * upright.width + (width - 1 - x),
    3: (x: number, y: number) => (height - 1 - y) * upright.width + (width - 1 - x),
    4: (x: number, y: number) => (height - 1 - y) * upright.width + x,
    5: (x: number, y: number) => x * upright.width + y,
    6: (x: number, y: number) => x * upright.width + (height - 1 - y),
    7: (x: number, y: number) => (width - 1 - x) * upright.width + (height - 1 - y),
    8: (x: number, y: number) => (width - 1 - x) * upright.width + y,
  }[orientation];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) pixels[y * width + x] = from[shown(x, y)]!;
  }
  return { width, height, data };
}

/**
 * An APP1 segment holding EXIF with one tag, Orientation (0x0112), in IFD0: "Exif\0\0", a TIFF header
 * in big-endian ("MM", as iPhones write) or little-endian ("II", as many Android phones write) order.
 */
export function exifOrientationSegment(orientation: Orientation, bigEndian = true): Uint8Array {
  const tiff = new Uint8Array(8 + 2 + 12 + 4), view = new DataView(tiff.buffer);
  const little = !bigEndian;
  tiff.set(bigEndian ? [0x4d, 0x4d] : [0x49, 0x49]);
  view.setUint16(2, 42, little);
  view.setUint32(4, 8, little); // IFD0 right after the header
  view.setUint16(8, 1, little); // one entry
  view.setUint16(10, 0x0112, little); // Orientation
  view.setUint16(12, 3, little); // SHORT
  view.setUint32(14, 1, little); // one value, left-justified in the 4-byte field
  view.setUint16(18, orientation, little);
  view.setUint32(22, 0, little); // no IFD1
  const segment = new Uint8Array(4 + 6 + tiff.length);
  segment.set([0xff, 0xe1, (segment.length - 2) >> 8, (segment.length - 2) & 0xff]);
  segment.set([0x45, 0x78, 0x69, 0x66, 0, 0], 4); // "Exif\0\0"
  segment.set(tiff, 10);
  return segment;
}

/** A JPEG with `segment` right after SOI and without the encoder's JFIF APP0 (cameras write none). */
export function withSegmentAfterSoi(
  jpeg: Uint8Array,
  segment: Uint8Array,
): Uint8Array<ArrayBuffer> {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) {
    throw new TypeError("Expected a JPEG starting with SOI");
  }
  let rest = 2;
  if (jpeg[2] === 0xff && jpeg[3] === 0xe0) rest = 4 + ((jpeg[4]! << 8) | jpeg[5]!);
  const out = new Uint8Array(2 + segment.length + jpeg.length - rest);
  out.set([0xff, 0xd8]);
  out.set(segment, 2);
  out.set(jpeg.subarray(rest), 2 + segment.length);
  return out;
}

let jpegEncoderReady: Promise<void> | undefined;

/**
 * Baseline 4:2:0 JPEG from mozjpeg (@jsquash/jpeg's encoder), as a phone's camera writes.
 * `optimizeCoding` builds Huffman tables for the picture: without it, mozjpeg writes an invalid
 * Huffman sequence for about one smooth (blurred) scan in thirty.
 */
export async function encodePhotoJpeg(
  picture: Picture,
  quality = 88,
  optimizeCoding = false,
): Promise<Uint8Array> {
  jpegEncoderReady ??= (async () => {
    const path = createRequire(import.meta.url).resolve("@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm");
    const init = initJpegEncoder as unknown as (module: WebAssembly.Module) => Promise<void>;
    await init(await WebAssembly.compile(await Deno.readFile(path)));
  })();
  await jpegEncoderReady;
  const image = { ...picture, colorSpace: "srgb" } as unknown as ImageData;
  return new Uint8Array(
    await encodeJpeg(image, {
      quality,
      baseline: true,
      progressive: false,
      optimize_coding: optimizeCoding,
    }),
  );
}

/**
 * A phone photo of `digit`: `camera`'s stored size, pixels stored for `orientation` and tagged with
 * it, so a viewer applying the tag shows the photo upright — portrait for orientations 5–8.
 */
export async function phonePhoto(
  digit: DigitInk,
  options: {
    label: number;
    camera: Camera;
    orientation: Orientation;
    seed: number;
    index?: number;
  },
): Promise<Upload> {
  const { camera, orientation, seed } = options;
  const portrait = orientation >= 5;
  const upright = photoScene(digit, {
    width: portrait ? camera.height : camera.width,
    height: portrait ? camera.width : camera.height,
    seed,
  });
  const stored = storeForOrientation(upright, orientation);
  const jpeg = await encodePhotoJpeg(stored, 86 + (seed % 6));
  const exif = exifOrientationSegment(orientation, seed % 2 === 0);
  return {
    name: `${camera.name} photo, orientation ${orientation}, test digit ${options.index ?? "?"}`,
    kind: `${camera.name} photo`,
    bytes: withSegmentAfterSoi(jpeg, exif),
    type: "image/jpeg",
    label: options.label,
  };
}

/**
 * A retina screenshot of a drawing app with `digit` drawn on its white canvas: a menu bar, a toolbar,
 * a tool palette and a status bar in light greys around it. With `alpha`, a window screenshot: the
 * window with rounded corners over a transparent margin with a soft shadow, as macOS saves one.
 */
export function screenshotScene(
  digit: DigitInk,
  options: { width: number; height: number; alpha: boolean; seed: number },
): Picture {
  const { width, height, alpha } = options, rng = createRng(options.seed);
  const scale = width / 1440; // points to pixels
  const margin = alpha ? Math.round(56 * scale) : 0, radius = 10 * scale;
  const window = { left: margin, top: margin, right: width - margin, bottom: height - margin };
  const bars = {
    menu: window.top + Math.round(24 * scale),
    toolbar: window.top + Math.round(76 * scale),
    palette: window.left + Math.round(64 * scale),
    status: window.bottom - Math.round(22 * scale),
  };
  const canvas = {
    left: bars.palette,
    top: bars.toolbar,
    right: window.right,
    bottom: bars.status,
  };
  const canvasShort = Math.min(canvas.right - canvas.left, canvas.bottom - canvas.top);
  const side = between(rng, 0.3, 0.6) * canvasShort * MNIST_SIDE / MNIST_INK_SIDE;
  const stroke: Stroke = {
    cx: between(rng, canvas.left + side * 0.5, canvas.right - side * 0.5),
    cy: between(rng, canvas.top + side * 0.5, canvas.bottom - side * 0.5),
    side,
    tilt: between(rng, -0.06, 0.06),
    edge: [0.3, 0.45],
  };
  const ink = new Float32Array(width * height);
  paintInk(digit, stroke, ink, width);
  const brush = rng.next() < 0.5 ? [0, 0, 0] : [24, 32, 96];
  const tools = Math.round(32 * scale), toolGap = Math.round(44 * scale);

  const data = new Uint8ClampedArray(width * height * 4);
  const set = (i: number, grey: number, a = 255) => {
    data[i] = data[i + 1] = data[i + 2] = grey;
    data[i + 3] = a;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      // Outside the window: a shadow fading into transparency (alpha screenshots only).
      const ox = Math.max(window.left + radius - x - 0.5, x + 0.5 - (window.right - radius), 0);
      const oy = Math.max(window.top + radius - y - 0.5, y + 0.5 - (window.bottom - radius), 0);
      const outside = Math.hypot(ox, oy) - radius;
      if (outside > 0) {
        set(i, 0, Math.round(70 * (1 - smoothstep(0, margin * 0.8, outside))));
        continue;
      }
      if (y < bars.menu) set(i, 246);
      else if (y < bars.toolbar) set(i, y === bars.toolbar - 1 ? 214 : 236);
      else if (y >= bars.status) set(i, y === bars.status ? 214 : 240);
      else if (x < bars.palette) {
        // The tool palette: a column of light-grey tool buttons.
        const tx = x - window.left - (bars.palette - window.left - tools) / 2;
        const ty = (y - bars.toolbar - toolGap / 4) % toolGap;
        const button = tx >= 0 && tx < tools && ty >= 0 && ty < tools &&
          y < bars.toolbar + 8 * toolGap;
        set(i, x === bars.palette - 1 ? 214 : button ? 222 : 242);
      } else {
        const a = ink[y * width + x]!;
        data[i] = 255 * (1 - a) + brush[0]! * a;
        data[i + 1] = 255 * (1 - a) + brush[1]! * a;
        data[i + 2] = 255 * (1 - a) + brush[2]! * a;
        data[i + 3] = 255;
      }
    }
  }
  return { width, height, data };
}

/** A retina screenshot as PNG: 8-bit RGB, or RGBA for a window screenshot. */
export function retinaScreenshot(
  digit: DigitInk,
  options: {
    label: number;
    width: number;
    height: number;
    alpha: boolean;
    seed: number;
    index?: number;
  },
): Upload {
  const picture = screenshotScene(digit, options);
  const channels = options.alpha ? 4 : 3, pixels = picture.width * picture.height;
  let data: Uint8Array = new Uint8Array(picture.data.buffer);
  if (!options.alpha) {
    data = new Uint8Array(pixels * 3);
    for (let p = 0; p < pixels; p++) data.set(picture.data.subarray(p * 4, p * 4 + 3), p * 3);
  }
  const kind = `${options.width}×${options.height} ${options.alpha ? "RGBA" : "RGB"} screenshot`;
  return {
    name: `${kind}, test digit ${options.index ?? "?"}`,
    kind,
    bytes: new Uint8Array(
      encodePng({ width: picture.width, height: picture.height, data, channels }),
    ),
    type: "image/png",
    label: options.label,
  };
}

/** What to build: test digits (with labels) for the photos and for the screenshots. */
export interface UploadSetOptions {
  /** Test-set indices of the digits photographed, one photo each, in order. */
  photoDigits: number[];
  /** Test-set indices of the digits on screenshots, in order; each takes the next screen and alpha. */
  screenshotDigits: number[];
  digits: Uint8Array[];
  labels: Uint8Array;
}

/**
 * The uploads for `photoDigits` and `screenshotDigits`, built one at a time (a 12 MP picture holds
 * ~100 MB while it is made): photo k uses camera k mod 4 and orientation (k + ⌊k/4⌋) mod 8 + 1, so
 * 12 photos cover every camera and every orientation and 32 cover every pair of them; screenshot k
 * uses screen k mod 2, RGB for the first two, RGBA for the next two.
 */
export async function* uploadSet(options: UploadSetOptions): AsyncGenerator<Upload> {
  const { digits, labels } = options;
  for (const [k, index] of options.photoDigits.entries()) {
    yield await phonePhoto(digits[index]!, {
      label: labels[index]!,
      camera: CAMERAS[k % CAMERAS.length]!,
      orientation: ORIENTATIONS[(k + Math.floor(k / CAMERAS.length)) % ORIENTATIONS.length]!,
      seed: 1000 + k,
      index,
    });
  }
  for (const [k, index] of options.screenshotDigits.entries()) {
    yield retinaScreenshot(digits[index]!, {
      label: labels[index]!,
      ...SCREENS[k % SCREENS.length]!,
      alpha: Math.floor(k / SCREENS.length) % 2 === 1,
      seed: 2000 + k,
      index,
    });
  }
}
