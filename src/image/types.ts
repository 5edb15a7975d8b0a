/** The image shapes shared by the decoders and the preprocessing. */

/** An 8-bit RGBA image: `data` is [height, width, 4] row-major, 4 bytes a pixel, rows top to bottom. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/**
 * A single-channel float image, [height, width] row-major. The decoders produce one as the grey
 * working map (luma 0…255 over a background, long side ≤ the working size: 112 unless asked); the preprocessing turns it into ink.
 */
export interface FloatMap {
  width: number;
  height: number;
  data: Float32Array;
}

/** A rectangle in working-map pixels: x, y of the top-left corner, width, height. */
export interface MapBox {
  x: number;
  y: number;
  width: number;
  height: number;
}
