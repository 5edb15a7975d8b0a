/**
 * The grey working map: luma (Rec. 601) composited over a background and box-averaged by a whole factor
 * to at most {@linkcode WORKING_MAX_SIDE} a side (or the working size a caller asks for). codec.wasm builds it while decoding JPEG and PNG;
 * this is the same arithmetic for the decoders that hand over whole RGBA images (GIF, WebP, BMP).
 */
import type { FloatMap, RgbaImage } from "./types.ts";

/**
 * Uploads are box-averaged down to at most this a side before any ink work: the digit ends up in a
 * 20-px box, so a few times that keeps every stroke while the later steps stay well under a millisecond.
 */
export const WORKING_MAX_SIDE = 112;

/** Rec. 601 luma weights in thousandths, so a pixel's weighted sum stays an exact integer. */
const LUMA_R = 299, LUMA_G = 587, LUMA_B = 114, LUMA_WHITE = 255 * 1000;

/**
 * The whole factor that brings the long side of a `width`×`height` image to ≤ `maxSide`
 * ({@linkcode WORKING_MAX_SIDE} unless given: one digit; /read asks for more to keep a row of them).
 */
export function boxFactor(width: number, height: number, maxSide = WORKING_MAX_SIDE): number {
  return Math.max(1, Math.ceil(Math.max(width, height) / maxSide));
}

/**
 * The grey working map of an RGBA image: per cell of `box`×`box` pixels, the mean of
 * luma·alpha + background·(255 − alpha). A canvas export is dark ink on transparent, so the MNIST
 * recipe composites over white (255); a ready MNIST image over black (0).
 *
 * @param image Any size, RGBA.
 * @param background 0 or 255.
 * @param box The factor; {@linkcode boxFactor} of the image's size unless given.
 * @returns [ceil(height / box), ceil(width / box)], values 0…255.
 */
export function greyMap(
  image: RgbaImage,
  background: 0 | 255,
  box = boxFactor(image.width, image.height),
): FloatMap {
  const width = Math.ceil(image.width / box);
  const height = Math.ceil(image.height / box);
  const paper = background * 1000;
  const sum = new Float64Array(width * height);
  const rgba = image.data;
  for (let y = 0, i = 0; y < image.height; y++) {
    const row = ((y / box) | 0) * width;
    for (let tx = 0, x = 0; tx < width; tx++) {
      let cell = 0; // the `box` source pixels of this row that fall in working pixel tx
      for (const end = Math.min(x + box, image.width); x < end; x++, i += 4) {
        const alpha = rgba[i + 3]!;
        const luma = LUMA_R * rgba[i]! + LUMA_G * rgba[i + 1]! + LUMA_B * rgba[i + 2]!;
        cell += luma * alpha + paper * (255 - alpha);
      }
      sum[row + tx]! += cell;
    }
  }
  const data = new Float32Array(width * height);
  for (let ty = 0; ty < height; ty++) {
    const rows = Math.min(box, image.height - ty * box);
    for (let tx = 0; tx < width; tx++) {
      const count = rows * Math.min(box, image.width - tx * box);
      data[ty * width + tx] = sum[ty * width + tx]! / (count * LUMA_WHITE);
    }
  }
  return { width, height, data };
}

/** A map box-averaged 2×2 (an odd last row or column averages the pixels it has). */
export function halve(map: FloatMap): FloatMap {
  const width = Math.ceil(map.width / 2), height = Math.ceil(map.height / 2);
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const y0 = 2 * y, rows = Math.min(2, map.height - y0);
    for (let x = 0; x < width; x++) {
      const x0 = 2 * x, columns = Math.min(2, map.width - x0);
      let sum = 0;
      for (let dy = 0; dy < rows; dy++) {
        for (let dx = 0; dx < columns; dx++) sum += map.data[(y0 + dy) * map.width + x0 + dx]!;
      }
      data[y * width + x] = sum / (rows * columns);
    }
  }
  return { width, height, data };
}
