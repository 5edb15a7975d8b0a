/**
 * EXIF orientation: which of the eight rotations and mirrorings a viewer applies to the stored pixels
 * (tag 0x0112 in IFD0 of the TIFF structure inside JPEG APP1, PNG eXIf and WebP EXIF), and applying it
 * to a decoded map, as browsers and Pillow's `ImageOps.exif_transpose` do.
 */
import type { FloatMap } from "./types.ts";

const ORIENTATION_TAG = 0x0112;
const SHORT = 3;
/** IFD0 entries read at most: real files have a few dozen. */
const MAX_ENTRIES = 512;

/**
 * The orientation 1–8 a TIFF/EXIF block declares; 1 (as stored) when it has none or is malformed.
 *
 * @param tiff The block from its "II*\0" / "MM\0*" header on.
 */
export function exifOrientation(tiff: Uint8Array | undefined): number {
  if (!tiff || tiff.length < 8) return 1;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const order = view.getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) return 1;
  const little = order === 0x4949;
  if (view.getUint16(2, little) !== 42) return 1;
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > tiff.length) return 1;
  const entries = Math.min(view.getUint16(ifd, little), MAX_ENTRIES);
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) return 1;
    if (view.getUint16(entry, little) !== ORIENTATION_TAG) continue;
    if (view.getUint16(entry + 2, little) !== SHORT) return 1;
    const value = view.getUint16(entry + 8, little);
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/** Whether an orientation swaps width and height (the four that turn by 90°). */
export function swapsSides(orientation: number): boolean {
  return orientation >= 5;
}

/**
 * The map as a viewer shows it under `orientation`: 2 mirrors, 3 turns 180°, 4 flips, 5 transposes,
 * 6 turns 90° clockwise, 7 transverses, 8 turns 90° anticlockwise.
 *
 * @param map [height, width], as stored.
 * @returns [height', width'], upright; the same map for orientation 1.
 */
export function orient(map: FloatMap, orientation: number): FloatMap {
  if (orientation <= 1 || orientation > 8) return map;
  const { width: w, height: h, data } = map;
  const swap = swapsSides(orientation);
  const width = swap ? h : w;
  const height = swap ? w : h;
  const out = new Float32Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // (sx, sy): where the pixel shown at (x, y) is stored.
      let sx: number, sy: number;
      switch (orientation) {
        case 2:
          [sx, sy] = [w - 1 - x, y];
          break;
        case 3:
          [sx, sy] = [w - 1 - x, h - 1 - y];
          break;
        case 4:
          [sx, sy] = [x, h - 1 - y];
          break;
        case 5:
          [sx, sy] = [y, x];
          break;
        case 6:
          [sx, sy] = [y, h - 1 - x];
          break;
        case 7:
          [sx, sy] = [w - 1 - y, h - 1 - x];
          break;
        default:
          [sx, sy] = [w - 1 - y, x];
          break; // 8
      }
      out[y * width + x] = data[sy * w + sx]!;
    }
  }
  return { width, height, data: out };
}
