/** The decoded-image shape shared by the decoders and the preprocessing. */

/** An 8-bit RGBA image: `data` is [height, width, 4] row-major, 4 bytes a pixel, rows top to bottom. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}
