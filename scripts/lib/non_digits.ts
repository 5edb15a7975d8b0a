/**
 * Uploads that hold no digit, which a reader should refuse: letters in handwriting and print fonts,
 * symbols, doodles (a house, a star, a cat…), scribbles, noise, blank pictures and paper with no
 * writing (grain, lined and squared sheets, a shadow, a phone photo of a blank page). Letters,
 * symbols, doodles and scribbles reach the server as font_digits.ts' digits do (ink_pictures.ts:
 * canvas, scan, screenshot, photo). Never used in training. The same seed gives the same bytes, and
 * item k does not depend on `count`.
 *
 * Letters and symbols that are written like a digit are left out, since a reader could fairly read
 * them as one: O o (0), I l i | / \ ( ) [ ] (1), Z z (2), S s $ (5), B (8), G b (6), g q (9); and
 * marks too small to be read as writing (. , ' ` - _).
 *
 * Coordinates: x right, y down; a doodle is drawn in a unit box (y from 0 to 1, x from 0 to its
 * aspect), then wobbled, turned and scaled to its picture.
 */
import { createRng, type Rng } from "../../src/model/random.ts";
import {
  type Font,
  type Glyph,
  type GlyphJob,
  HANDWRITING_FONTS,
  PRINT_FONTS,
  renderGlyphs,
} from "./glyphs.ts";
import {
  addGrain,
  between,
  type Encoded,
  type Frame,
  frameFor,
  inkPicture,
  photoJpeg,
  photoPaper,
  pick,
  PICTURE_FORMS,
  scanPaper,
} from "./ink_pictures.ts";
import { encode as encodePng } from "fast-png";
import { encodePhotoJpeg } from "./phone_photos.ts";

/** The seed of the reported set. */
export const DEFAULT_SEED = 47;
/** 20 turns of {@linkcode KIND_TURNS}. */
export const DEFAULT_COUNT = 420;

/** What an item is. */
export type NonDigitKind =
  | "handwritten letter"
  | "printed letter"
  | "symbol"
  | "doodle"
  | "scribble"
  | "noise"
  | "blank"
  | "paper";

/** Item k is of kind KIND_TURNS[k mod 21]: letters most, then symbols, doodles and paper. */
export const KIND_TURNS: readonly NonDigitKind[] = [
  "handwritten letter",
  "printed letter",
  "symbol",
  "doodle",
  "paper",
  "handwritten letter",
  "scribble",
  "printed letter",
  "symbol",
  "doodle",
  "handwritten letter",
  "noise",
  "paper",
  "printed letter",
  "symbol",
  "handwritten letter",
  "doodle",
  "blank",
  "scribble",
  "handwritten letter",
  "paper",
];

/** Letters not written like a digit (see the module's comment for those left out). */
export const UPPER = [..."ACDEFHJKLMNPRTUVWXY"];
export const LOWER = [..."acdefhjkmnprtuvwxy"];
/** Symbols not written like a digit; fonts without one fall back to DejaVu Sans. */
export const SYMBOLS = [..."?!#@&%+=*<>~^€£{}"];

/** One item of the set, as a client sends it. */
export interface NonDigit {
  /** For reports: `3: doodle cat, scan JPEG, 640×480`. */
  name: string;
  kind: NonDigitKind;
  /** Finer than `kind`: the letter's case, the symbol, the doodle's or the noise's name. */
  detail: string;
  /** How it was sent: "canvas PNG, transparent", "photo JPEG", "PNG"… */
  form: string;
  bytes: Uint8Array<ArrayBuffer>;
  type: "image/png" | "image/jpeg";
  width: number;
  height: number;
}

/** Options for {@linkcode nonDigits}. */
export interface NonDigitsOptions {
  /** Default {@linkcode DEFAULT_COUNT}. */
  count?: number;
  /** Default {@linkcode DEFAULT_SEED}. */
  seed?: number;
}

/** Item k's own random stream, independent of every other item's. */
const itemRng = (seed: number, k: number) =>
  createRng((Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca6b)) >>> 0);

type Point = [number, number];
/** A drawing: strokes (polylines) in its unit box, and the box's width (its height is 1). */
interface Drawing {
  strokes: Point[][];
  aspect: number;
}

/** Points along an ellipse from angle `from` to `to` (radians, clockwise as y is down). */
function arc(cx: number, cy: number, rx: number, ry: number, from = 0, to = 2 * Math.PI, n = 48) {
  return Array.from({ length: n + 1 }, (_, i): Point => {
    const t = from + (to - from) * i / n;
    return [cx + rx * Math.cos(t), cy + ry * Math.sin(t)];
  });
}

/** A small filled-looking dot: two turns of a tiny circle. */
const dot = (cx: number, cy: number, r = 0.03) => arc(cx, cy, r, r, 0, 4 * Math.PI, 16);

/** The doodles, each drawn in its unit box. */
export const DOODLES: Readonly<Record<string, () => Drawing>> = {
  house: () => ({
    aspect: 1,
    strokes: [
      [[0.15, 0.45], [0.15, 0.95], [0.85, 0.95], [0.85, 0.45]],
      [[0.06, 0.5], [0.5, 0.06], [0.94, 0.5]],
      [[0.42, 0.95], [0.42, 0.7], [0.58, 0.7], [0.58, 0.95]],
      [[0.24, 0.56], [0.36, 0.56], [0.36, 0.68], [0.24, 0.68], [0.24, 0.56]],
    ],
  }),
  star: () => ({
    aspect: 1,
    strokes: [Array.from({ length: 11 }, (_, i): Point => {
      const r = i % 2 ? 0.2 : 0.48, t = -Math.PI / 2 + i * Math.PI / 5;
      return [0.5 + r * Math.cos(t), 0.54 + r * Math.sin(t)];
    })],
  }),
  heart: () => ({
    aspect: 1,
    strokes: [Array.from({ length: 61 }, (_, i): Point => {
      const t = i / 60 * 2 * Math.PI;
      const x = 16 * Math.sin(t) ** 3;
      const y = 13 * Math.cos(t) - 5 * Math.cos(2 * t) - 2 * Math.cos(3 * t) - Math.cos(4 * t);
      return [0.5 + x / 34, 0.45 - y / 34];
    })],
  }),
  smiley: () => ({
    aspect: 1,
    strokes: [
      arc(0.5, 0.5, 0.46, 0.46),
      dot(0.35, 0.38),
      dot(0.65, 0.38),
      arc(0.5, 0.52, 0.26, 0.2, 0.15 * Math.PI, 0.85 * Math.PI, 20),
    ],
  }),
  arrow: () => ({
    aspect: 1.6,
    strokes: [[[0.05, 0.5], [1.55, 0.5]], [[1.2, 0.22], [1.55, 0.5], [1.2, 0.78]]],
  }),
  cat: () => ({
    aspect: 1,
    strokes: [
      arc(0.5, 0.6, 0.36, 0.32, -0.32 * Math.PI, 1.32 * Math.PI, 40),
      [[0.2, 0.42], [0.22, 0.08], [0.42, 0.3]],
      [[0.58, 0.3], [0.78, 0.08], [0.8, 0.42]],
      [[0.42, 0.3], [0.58, 0.3]],
      dot(0.38, 0.55),
      dot(0.62, 0.55),
      [[0.46, 0.66], [0.54, 0.66], [0.5, 0.71], [0.46, 0.66]],
      [[0.3, 0.68], [0.02, 0.62]],
      [[0.3, 0.73], [0.04, 0.78]],
      [[0.7, 0.68], [0.98, 0.62]],
      [[0.7, 0.73], [0.96, 0.78]],
    ],
  }),
  sun: () => ({
    aspect: 1,
    strokes: [
      arc(0.5, 0.5, 0.22, 0.22),
      ...Array.from({ length: 8 }, (_, i): Point[] => {
        const t = i * Math.PI / 4, c = Math.cos(t), s = Math.sin(t);
        return [[0.5 + 0.3 * c, 0.5 + 0.3 * s], [0.5 + 0.48 * c, 0.5 + 0.48 * s]];
      }),
    ],
  }),
  tree: () => ({
    aspect: 0.8,
    strokes: [
      [[0.34, 0.97], [0.34, 0.64]],
      [[0.46, 0.97], [0.46, 0.64]],
      Array.from({ length: 73 }, (_, i): Point => {
        const t = i / 72 * 2 * Math.PI, r = 0.3 + 0.05 * Math.abs(Math.sin(3.5 * t));
        return [0.4 + r * Math.cos(t), 0.36 + r * Math.sin(t)];
      }),
    ],
  }),
  flower: () => ({
    aspect: 0.8,
    strokes: [
      [[0.4, 0.48], [0.42, 0.98]],
      [[0.41, 0.8], [0.62, 0.68], [0.41, 0.74]],
      arc(0.4, 0.3, 0.07, 0.07, 0, 2 * Math.PI, 20),
      ...Array.from({ length: 6 }, (_, i) => {
        const t = i * Math.PI / 3;
        return arc(
          0.4 + 0.18 * Math.cos(t),
          0.3 + 0.18 * Math.sin(t),
          0.1,
          0.1,
          0,
          2 * Math.PI,
          20,
        );
      }),
    ],
  }),
  fish: () => ({
    aspect: 1.5,
    strokes: [
      arc(0.6, 0.5, 0.5, 0.3),
      [[1.1, 0.5], [1.45, 0.22], [1.45, 0.78], [1.1, 0.5]],
      dot(0.3, 0.42, 0.035),
    ],
  }),
  cloud: () => ({
    aspect: 1.6,
    strokes: [Array.from({ length: 97 }, (_, i): Point => {
      const t = i / 96 * 2 * Math.PI, bump = Math.sin(t) < 0 ? 0.18 * Math.abs(Math.sin(3 * t)) : 0;
      return [0.8 + 0.72 * (1 + bump) * Math.cos(t), 0.58 + 0.3 * (1 + bump) * Math.sin(t)];
    })],
  }),
  envelope: () => ({
    aspect: 1.5,
    strokes: [
      [[0.05, 0.2], [1.45, 0.2], [1.45, 0.85], [0.05, 0.85], [0.05, 0.2]],
      [[0.05, 0.2], [0.75, 0.6], [1.45, 0.2]],
    ],
  }),
};

/** Scribbles: what a pen does when it is not writing. */
const SCRIBBLES: Readonly<Record<string, (rng: Rng) => Drawing>> = {
  tangle: (rng) => {
    const aspect = between(rng, 1, 2), points: Point[] = [];
    let [x, y] = [between(rng, 0.2, aspect - 0.2), between(rng, 0.2, 0.8)];
    let heading = between(rng, 0, 2 * Math.PI), turn = 0;
    for (let i = 0, n = Math.round(between(rng, 80, 260)); i < n; i++) {
      turn = 0.8 * turn + between(rng, -0.25, 0.25);
      heading += turn;
      x += 0.03 * Math.cos(heading), y += 0.03 * Math.sin(heading);
      if (x < 0 || x > aspect) heading = Math.PI - heading, x = Math.min(aspect, Math.max(0, x));
      if (y < 0 || y > 1) heading = -heading, y = Math.min(1, Math.max(0, y));
      points.push([x, y]);
    }
    return { aspect, strokes: [points] };
  },
  hatching: (rng) => {
    const aspect = between(rng, 0.8, 2),
      rows = Math.round(between(rng, 6, 14)),
      points: Point[] = [];
    for (let i = 0; i <= rows; i++) {
      const y = i / rows, slant = between(rng, -0.08, 0.08);
      points.push(i % 2 ? [aspect - between(rng, 0, 0.1), y + slant] : [between(rng, 0, 0.1), y]);
    }
    return { aspect, strokes: [points] };
  },
  loops: (rng) => {
    const loops = Math.round(between(rng, 4, 8)), aspect = loops * 0.45;
    const points = Array.from({ length: loops * 24 + 1 }, (_, i): Point => {
      const t = i / 24 * 2 * Math.PI;
      return [0.1 + 0.45 * t / (2 * Math.PI) - 0.12 * Math.sin(t), 0.55 - 0.38 * Math.cos(t)];
    });
    return { aspect, strokes: [points] };
  },
  "cross-out": (rng) => {
    const aspect = between(rng, 1.5, 3),
      strokes = Math.round(between(rng, 10, 24)),
      points: Point[] = [];
    for (let i = 0; i <= strokes; i++) {
      points.push([
        i % 2 ? aspect * between(rng, 0.85, 1) : aspect * between(rng, 0, 0.15),
        between(rng, 0.25, 0.75),
      ]);
    }
    return { aspect, strokes: [points] };
  },
};

/**
 * A drawing's ink: wobbled as a hand draws (two slow waves of 1–2 % of its height), turned by
 * `angle` radians, `height` px tall, strokes of a round pen `pen` px wide.
 */
export function drawInk(
  drawing: Drawing,
  options: { height: number; pen: number; angle: number },
  rng: Rng,
): Glyph {
  const { height, pen, angle } = options, cos = Math.cos(angle), sin = Math.sin(angle);
  const wobble = between(rng, 0.01, 0.02), phase = [0, 1, 2, 3].map(() => between(rng, 0, 6.3));
  const moved = drawing.strokes.map((stroke) =>
    stroke.map(([x, y]): Point => {
      const wx = x + wobble * Math.sin(5 * y + phase[0]!) +
        wobble * 0.5 * Math.sin(13 * y + phase[1]!);
      const wy = y + wobble * Math.sin(5 * x + phase[2]!) +
        wobble * 0.5 * Math.sin(11 * x + phase[3]!);
      return [(wx * cos - wy * sin) * height, (wx * sin + wy * cos) * height];
    })
  );
  const all = moved.flat(), reach = pen / 2 + 1;
  const x0 = Math.min(...all.map(([x]) => x)) - reach,
    y0 = Math.min(...all.map(([, y]) => y)) - reach;
  const width = Math.ceil(Math.max(...all.map(([x]) => x)) + reach - x0);
  const tall = Math.ceil(Math.max(...all.map(([, y]) => y)) + reach - y0);
  const ink = new Uint8Array(width * tall);
  for (const stroke of moved) {
    for (let i = 0; i + 1 < stroke.length; i++) {
      const [ax, ay] = [stroke[i]![0] - x0, stroke[i]![1] - y0];
      const [bx, by] = [stroke[i + 1]![0] - x0, stroke[i + 1]![1] - y0];
      const dx = bx - ax, dy = by - ay, length2 = dx * dx + dy * dy || 1;
      const left = Math.max(0, Math.floor(Math.min(ax, bx) - reach));
      const right = Math.min(width, Math.ceil(Math.max(ax, bx) + reach));
      const top = Math.max(0, Math.floor(Math.min(ay, by) - reach));
      const bottom = Math.min(tall, Math.ceil(Math.max(ay, by) + reach));
      for (let y = top; y < bottom; y++) {
        for (let x = left; x < right; x++) {
          const px = x + 0.5 - ax, py = y + 0.5 - ay;
          const t = Math.min(1, Math.max(0, (px * dx + py * dy) / length2));
          const distance = Math.hypot(px - t * dx, py - t * dy);
          const cover = Math.min(1, Math.max(0, pen / 2 + 0.5 - distance));
          const p = y * width + x;
          if (cover * 255 > ink[p]!) ink[p] = Math.round(cover * 255);
        }
      }
    }
  }
  return { width, height: tall, ink };
}

/** A picture made whole (noise, blank, paper): its planes encoded as PNG or JPEG. */
async function encodePlanes(
  planes: Float32Array[],
  width: number,
  height: number,
  jpeg: boolean,
): Promise<Pick<Encoded, "bytes" | "type"> & { form: string }> {
  if (jpeg) {
    const data = new Uint8ClampedArray(width * height * 4);
    for (let p = 0; p < width * height; p++) {
      for (let c = 0; c < 3; c++) data[p * 4 + c] = planes[c]![p]!;
      data[p * 4 + 3] = 255;
    }
    const bytes = new Uint8Array(await encodePhotoJpeg({ width, height, data }, 85, true));
    return { bytes, type: "image/jpeg", form: "JPEG" };
  }
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) data[p * 3 + c] = Math.min(255, Math.max(0, planes[c]![p]!));
  }
  return {
    bytes: new Uint8Array(encodePng({ width, height, data, channels: 3 })),
    type: "image/png",
    form: "PNG",
  };
}

const planesOf = (pixels: number) => [0, 1, 2].map(() => new Float32Array(pixels));

/** Noise of four kinds, 64–640 px a side. */
async function noise(rng: Rng) {
  const detail = pick(rng, ["uniform colour", "grey", "salt and pepper", "blotches"]);
  const width = Math.round(between(rng, 64, 640)), height = Math.round(between(rng, 64, 640));
  const planes = planesOf(width * height),
    [r, g, b] = planes as [Float32Array, Float32Array, Float32Array];
  if (detail === "uniform colour") {
    for (let p = 0; p < width * height; p++) {
      r[p] = rng.next() * 256, g[p] = rng.next() * 256, b[p] = rng.next() * 256;
    }
  } else if (detail === "grey") {
    const mean = between(rng, 90, 170);
    for (const plane of planes) plane.fill(mean);
    addGrain(planes, width, between(rng, 25, 60), rng);
  } else if (detail === "salt and pepper") {
    const share = between(rng, 0.03, 0.15);
    for (let p = 0; p < width * height; p++) r[p] = g[p] = b[p] = rng.next() < share ? 0 : 255;
  } else {
    // Blotches: a coarse random grid, bilinear.
    const cells = Math.round(between(rng, 3, 8)),
      grid = Array.from({ length: (cells + 1) ** 2 }, () => rng.next() * 255);
    for (let y = 0; y < height; y++) {
      const gy = y / height * cells, j = Math.floor(gy), fy = gy - j;
      for (let x = 0; x < width; x++) {
        const gx = x / width * cells,
          i = Math.floor(gx),
          fx = gx - i,
          at = (u: number, v: number) => grid[v * (cells + 1) + u]!;
        const v = (at(i, j) * (1 - fx) + at(i + 1, j) * fx) * (1 - fy) +
          (at(i, j + 1) * (1 - fx) + at(i + 1, j + 1) * fx) * fy;
        r[y * width + x] = g[y * width + x] = b[y * width + x] = v;
      }
    }
  }
  return {
    detail,
    width,
    height,
    ...(await encodePlanes(planes, width, height, rng.next() < 0.3)),
  };
}

/** Nothing at all: white, transparent (an empty canvas), off-white JPEG, black, a pastel colour. */
async function blank(rng: Rng) {
  const detail = pick(rng, ["white", "transparent canvas", "off-white JPEG", "black", "pastel"]);
  const width = Math.round(between(rng, 28, 900)), height = Math.round(between(rng, 28, 900));
  if (detail === "transparent canvas") {
    const data = new Uint8Array(width * height * 4);
    const bytes = new Uint8Array(encodePng({ width, height, data, channels: 4 }));
    return { detail, width, height, bytes, type: "image/png" as const, form: "PNG" };
  }
  const colour = detail === "black"
    ? [0, 0, 0]
    : detail === "pastel"
    ? [between(rng, 190, 255), between(rng, 190, 255), between(rng, 190, 255)]
    : detail === "white"
    ? [255, 255, 255]
    : [245, 242, 235];
  const planes = colour.map((c) => new Float32Array(width * height).fill(c));
  if (detail === "off-white JPEG") addGrain(planes, width, 1, rng);
  return {
    detail,
    width,
    height,
    ...(await encodePlanes(planes, width, height, detail === "off-white JPEG")),
  };
}

/** Paper with no writing: grain, a lined or squared sheet, a shadow over a page, a phone photo of one. */
async function paper(rng: Rng) {
  const detail = pick(rng, ["grain", "lined", "squared", "shadow", "photo"]);
  if (detail === "photo") {
    const [width, height] = pick(rng, [[1024, 768], [1280, 960], [768, 1024]] as const);
    const seed = Math.floor(rng.next() * 0x7fffffff);
    const bytes = await photoJpeg(photoPaper(width, height, seed), width, height, {
      orientation: 1,
      seed,
    });
    return { detail, width, height, bytes, type: "image/jpeg" as const, form: "photo JPEG" };
  }
  const width = Math.round(between(rng, 300, 1100)), height = Math.round(between(rng, 300, 1100));
  const planes = scanPaper(width, height, rng),
    [r, g, b] = planes as [Float32Array, Float32Array, Float32Array];
  const tint = (p: number, colour: readonly number[], a: number) => {
    r[p] = r[p]! * (1 - a) + colour[0]! * a,
      g[p] = g[p]! * (1 - a) + colour[1]! * a,
      b[p] = b[p]! * (1 - a) + colour[2]! * a;
  };
  if (detail === "lined") {
    const gap = Math.round(between(rng, 24, 48)),
      first = Math.round(between(rng, 10, 60)),
      margin = Math.round(between(rng, 40, 110));
    for (let y = first; y < height; y += gap) {
      for (let x = 0; x < width; x++) tint(y * width + x, [120, 160, 220], 0.7);
    }
    for (let y = 0; y < height; y++) tint(y * width + margin, [220, 90, 100], 0.7);
  } else if (detail === "squared") {
    const gap = Math.round(between(rng, 14, 32)),
      colour = pick(rng, [[150, 170, 210], [170, 170, 170]]);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (y % gap === 0 || x % gap === 0) tint(y * width + x, colour, 0.5);
      }
    }
  } else if (detail === "shadow") {
    // A soft shadow (a hand, the phone) over one side of a line across the page.
    const angle = between(rng, 0, 2 * Math.PI), depth = between(rng, 0.2, 0.45);
    const offset = between(rng, -0.2, 0.2) * Math.min(width, height),
      soft = between(rng, 0.05, 0.2) * Math.min(width, height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const d = (x - width / 2) * Math.cos(angle) + (y - height / 2) * Math.sin(angle) - offset;
        const t = Math.min(1, Math.max(0, (d + soft) / (2 * soft))),
          shade = 1 - depth * t * t * (3 - 2 * t);
        const p = y * width + x;
        r[p] = r[p]! * shade, g[p] = g[p]! * shade, b[p] = b[p]! * shade;
      }
    }
  }
  addGrain(planes, width, detail === "grain" ? between(rng, 3, 8) : between(rng, 1, 3), rng);
  return {
    detail,
    width,
    height,
    ...(await encodePlanes(planes, width, height, rng.next() < 0.7)),
  };
}

/** What item k is to be, before its glyph (if any) is drawn. */
interface Plan {
  k: number;
  kind: NonDigitKind;
  rng: Rng;
  detail: string;
  frame?: Frame;
  job?: GlyphJob;
}

function plan(k: number, seed: number): Plan {
  const kind = KIND_TURNS[k % KIND_TURNS.length]!, rng = itemRng(seed, k);
  if (kind === "noise" || kind === "blank" || kind === "paper") return { k, kind, rng, detail: "" };
  const frame = frameFor(pick(rng, PICTURE_FORMS), rng);
  if (kind === "doodle" || kind === "scribble") return { k, kind, rng, detail: "", frame };
  let font: Font, text: string, detail: string;
  if (kind === "symbol") {
    text = pick(rng, SYMBOLS), detail = text;
    font = pick(rng, rng.next() < 0.5 ? HANDWRITING_FONTS : PRINT_FONTS);
  } else {
    const upper = rng.next() < 0.5;
    text = pick(rng, upper ? UPPER : LOWER), detail = upper ? "upper case" : "lower case";
    font = pick(rng, kind === "handwritten letter" ? HANDWRITING_FONTS : PRINT_FONTS);
  }
  const stroke = rng.next() < 0.5
    ? 0
    : Math.max(1, Math.round(frame.inkHeight * between(rng, 0.01, 0.06)));
  const job = { font, text, height: frame.inkHeight, stroke, angle: between(rng, -15, 15) };
  return { k, kind, rng, detail, frame, job };
}

/**
 * The set of non-digits, one at a time (glyphs drawn a hundred at a time).
 *
 * @returns An async generator of items 0…count−1, in order.
 * @throws {RangeError} when `count` is not an integer from 1 to 100,000 or `seed` not a 32-bit
 * unsigned integer.
 * @throws Error when Pillow fails (glyphs.ts' missingPackages says what to install).
 */
export async function* nonDigits(options: NonDigitsOptions = {}): AsyncGenerator<NonDigit> {
  const { count = DEFAULT_COUNT, seed = DEFAULT_SEED } = options;
  if (!Number.isSafeInteger(count) || count < 1 || count > 100_000) {
    throw new RangeError(`'count' must be an integer from 1 to 100000: current value is ${count}`);
  }
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(
      `'seed' must be an integer from 0 to 4294967295: current value is ${seed}`,
    );
  }
  const chunk = 100;
  for (let start = 0; start < count; start += chunk) {
    const plans = Array.from(
      { length: Math.min(chunk, count - start) },
      (_, i) => plan(start + i, seed),
    );
    const jobs = plans.filter((p) => p.job).map((p) => p.job!);
    const drawn = jobs.length ? await renderGlyphs(jobs) : [];
    // A font without the symbol: the same symbol in DejaVu Sans, which has them all.
    const fallbacks = jobs.filter((_, i) => !drawn[i]).map((job) => ({
      ...job,
      font: PRINT_FONTS[0]!,
    }));
    const redrawn = fallbacks.length ? await renderGlyphs(fallbacks) : [];
    let next = 0, fallback = 0;
    for (const p of plans) {
      let picture: Pick<Encoded, "bytes" | "type" | "width" | "height"> & { form: string };
      let detail = p.detail;
      if (p.kind === "noise" || p.kind === "blank" || p.kind === "paper") {
        const made = await (p.kind === "noise" ? noise : p.kind === "blank" ? blank : paper)(p.rng);
        detail = made.detail, picture = made;
      } else {
        let glyph: Glyph;
        if (p.job) {
          glyph = drawn[next++] ?? redrawn[fallback++]!;
          if (!glyph) throw new Error(`no font draws "${p.job.text}"`);
        } else {
          const names = Object.keys(p.kind === "doodle" ? DOODLES : SCRIBBLES);
          detail = pick(p.rng, names);
          const drawing = p.kind === "doodle" ? DOODLES[detail]!() : SCRIBBLES[detail]!(p.rng);
          // Arrows point any way but up or down, where one could pass for a 1.
          const turn = detail === "arrow"
            ? pick(p.rng, [0, 0.25, 0.75, 1, 1.25, 1.75]) * Math.PI
            : between(p.rng, -0.26, 0.26);
          const height = p.frame!.inkHeight / Math.max(1, drawing.aspect * 0.8);
          const pen = Math.max(1.5, height * between(p.rng, 0.015, 0.07));
          glyph = drawInk(drawing, { height, pen, angle: turn }, p.rng);
        }
        const made = await inkPicture(p.frame!, glyph, p.rng);
        picture = { ...made, form: made.kind };
      }
      yield {
        name:
          `${p.k}: ${p.kind}${
            detail ? ` ${p.job ? `"${p.job.text}"` : detail}` : ""
          }, ${picture.form}, ` +
          `${picture.width}×${picture.height}`,
        kind: p.kind,
        detail,
        form: picture.form,
        bytes: picture.bytes,
        type: picture.type,
        width: picture.width,
        height: picture.height,
      };
    }
  }
}
