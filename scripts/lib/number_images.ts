/**
 * Numbers written with MNIST digits, for the tests and benchmarks of POST /read: the digits side by
 * side on a canvas (a grey PNG, black on white) or on paper in a phone photo (a JPEG with EXIF
 * orientation), each with the true box of its ink in pixels of the upright picture. Independent of
 * the server's decoders and segmentation.
 *
 * Coordinates: x right, y down, in pixels of the upright picture.
 */
import { encode as encodePng } from "fast-png";
import { type ClientImage, inkAt } from "./client_images.ts";
import {
  encodePhotoJpeg,
  exifOrientationSegment,
  type Orientation,
  photoScene,
  type Picture,
  storeForOrientation,
  withSegmentAfterSoi,
} from "./phone_photos.ts";

/** A rectangle in pixels of the upright picture. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Where the digits go: each `side` px square, left to right from (`left`, `top`), `gap` px apart. */
export interface Layout {
  width: number;
  height: number;
  left: number;
  top: number;
  side: number;
  gap: number;
}

/** Ink coverage 0–1 per pixel of the picture, and each digit's ink box, in order. */
export interface NumberInk {
  width: number;
  height: number;
  ink: Float32Array;
  boxes: Box[];
}

const SIDE = 28;
/** Coverage from which a pixel counts as ink for the true boxes. */
const INK = 0.25;

/**
 * The ink of `digits` (28×28 MNIST grids) laid out as `layout` says, each scaled bilinearly.
 *
 * @throws RangeError when a digit would fall outside the picture.
 */
export function writeNumber(digits: Uint8Array[], layout: Layout): NumberInk {
  const { width, height, side, top } = layout;
  const ink = new Float32Array(width * height);
  const boxes = digits.map((digit, n) => {
    const left = layout.left + n * (side + layout.gap);
    if (left < 0 || top < 0 || left + side > width || top + side > height) {
      throw new RangeError(`digit ${n} at (${left}, ${top}) does not fit ${width}×${height}`);
    }
    let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
    const scaled = inkAt(digit, side);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const a = scaled[y * side + x]!;
        ink[(top + y) * width + left + x] = a;
        if (a >= INK) {
          x0 = Math.min(x0, left + x), x1 = Math.max(x1, left + x);
          y0 = Math.min(y0, top + y), y1 = Math.max(y1, top + y);
        }
      }
    }
    return { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
  });
  return { width, height, ink, boxes };
}

/** An 8-bit grey PNG of the number, black ink on white: a canvas export or a scan. */
export function numberPng(number: NumberInk): ClientImage {
  const grey = new Uint8Array(number.width * number.height);
  for (let i = 0; i < grey.length; i++) grey[i] = Math.round(255 * (1 - number.ink[i]!));
  return {
    bytes: new Uint8Array(
      encodePng({ width: number.width, height: number.height, data: grey, channels: 1 }),
    ),
    type: "image/png",
  };
}

/**
 * A phone photo of the number written on paper: scripts/lib/phone_photos.ts' paper, light, shadow
 * and grain (its scene with no digit of its own), the ink dark blue-black over it, stored for
 * `orientation` and tagged with it, so that applying the tag shows `number` upright.
 */
export async function numberPhoto(
  number: NumberInk,
  options: { orientation: Orientation; seed: number },
): Promise<ClientImage> {
  const { width, height } = number;
  const paper = photoScene(new Uint8Array(SIDE * SIDE), { width, height, seed: options.seed });
  const data = paper.data;
  for (let i = 0; i < width * height; i++) {
    const a = number.ink[i]! * 0.9;
    if (a === 0) continue;
    data[i * 4] = data[i * 4]! * (1 - a) + 22 * a;
    data[i * 4 + 1] = data[i * 4 + 1]! * (1 - a) + 26 * a;
    data[i * 4 + 2] = data[i * 4 + 2]! * (1 - a) + 60 * a;
  }
  const upright: Picture = { width, height, data };
  const stored = storeForOrientation(upright, options.orientation);
  const jpeg = await encodePhotoJpeg(stored, 88);
  return {
    bytes: withSegmentAfterSoi(jpeg, exifOrientationSegment(options.orientation)),
    type: "image/jpeg",
  };
}

/** The intersection over union of two boxes: 1 for the same box, 0 for disjoint ones. */
export function overlap(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const both = w * h;
  return both / (a.width * a.height + b.width * b.height - both);
}
