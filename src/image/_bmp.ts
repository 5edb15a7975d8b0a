/**
 * A small strict BMP reader: uncompressed 1/4/8-bit palette, 16/24/32-bit and BI_BITFIELDS.
 * Written here because the npm BMP readers need Node's Buffer (bmp-ts), drop the palette (fast-bmp)
 * or ignore the pixel-data offset (decode-bmp).
 */
import { ImageError } from "./errors.ts";
import type { RgbaImage } from "./types.ts";

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

/** Where each channel sits inside a 16- or 32-bit pixel. */
interface ChannelMasks {
  red: number;
  green: number;
  blue: number;
  alpha: number;
}

interface BmpHeader {
  width: number;
  height: number;
  topDown: boolean;
  bitsPerPixel: number;
  compression: number;
  pixelOffset: number;
  /** Row length in bytes, padded to 4. */
  stride: number;
  palette: Uint8Array[]; // [r, g, b] per entry; empty unless bitsPerPixel <= 8
  masks: ChannelMasks;
}

/**
 * Decodes a BMP file to RGBA.
 *
 * @throws {ImageError} `unsupported_media_type` for RLE or OS/2 variants, `invalid_image` when truncated.
 */
export function decodeBmp(bytes: Uint8Array): RgbaImage {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = readHeader(view);
  const end = header.pixelOffset + header.stride * header.height;
  if (end > bytes.length) {
    throw new ImageError("invalid_image", `The BMP is truncated: pixel data needs ${end} bytes`);
  }
  const data = new Uint8ClampedArray(header.width * header.height * 4);
  for (let y = 0; y < header.height; y++) {
    const sourceRow = header.topDown ? y : header.height - 1 - y;
    readRow(
      view,
      header,
      header.pixelOffset + sourceRow * header.stride,
      data,
      y * header.width * 4,
    );
  }
  // Many writers declare an alpha mask but leave it 0: read that as opaque, as browsers do.
  if (header.masks.alpha !== 0 && allTransparent(data)) makeOpaque(data);
  return { width: header.width, height: header.height, data };
}

function readHeader(view: DataView): BmpHeader {
  const infoSize = view.getUint32(14, true);
  if (infoSize < 40) {
    throw new ImageError("unsupported_media_type", "OS/2 BMP files are not supported");
  }
  const width = view.getInt32(18, true);
  const signedHeight = view.getInt32(22, true);
  const bitsPerPixel = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  if (width <= 0 || signedHeight === 0) throw invalid("width and height must be positive");
  if (![1, 4, 8, 16, 24, 32].includes(bitsPerPixel)) {
    throw invalid(`${bitsPerPixel} bits per pixel is not a BMP depth`);
  }
  checkCompression(compression, bitsPerPixel);
  const height = Math.abs(signedHeight);
  return {
    width,
    height,
    topDown: signedHeight < 0,
    bitsPerPixel,
    compression,
    pixelOffset: view.getUint32(10, true),
    stride: Math.floor((bitsPerPixel * width + 31) / 32) * 4,
    palette: bitsPerPixel <= 8 ? readPalette(view, infoSize, compression, bitsPerPixel) : [],
    masks: readMasks(view, infoSize, compression, bitsPerPixel),
  };
}

function checkCompression(compression: number, bitsPerPixel: number): void {
  if (compression === BI_RGB) return;
  const bitfields = compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS;
  if (bitfields && (bitsPerPixel === 16 || bitsPerPixel === 32)) return;
  throw new ImageError(
    "unsupported_media_type",
    `BMP compression ${compression} (RLE, JPEG or PNG inside BMP) is not supported: save it uncompressed`,
  );
}

/** Palette entries are 4 bytes (B, G, R, reserved); the count defaults to 2^bitsPerPixel. */
function readPalette(
  view: DataView,
  infoSize: number,
  compression: number,
  bitsPerPixel: number,
): Uint8Array[] {
  const declared = view.getUint32(46, true);
  const count = declared === 0 ? 1 << bitsPerPixel : Math.min(declared, 1 << bitsPerPixel);
  const start = 14 + infoSize + (compression === BI_BITFIELDS && infoSize === 40 ? 12 : 0);
  const palette: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const entry = start + i * 4;
    palette.push(
      Uint8Array.of(view.getUint8(entry + 2), view.getUint8(entry + 1), view.getUint8(entry)),
    );
  }
  return palette;
}

/** BI_RGB implies X1R5G5B5 or X8R8G8B8 with the top bits unused; bitfields name the masks. */
function readMasks(
  view: DataView,
  infoSize: number,
  compression: number,
  bitsPerPixel: number,
): ChannelMasks {
  if (compression === BI_RGB) {
    return bitsPerPixel === 16
      ? { red: 0x7c00, green: 0x03e0, blue: 0x001f, alpha: 0 }
      : { red: 0xff0000, green: 0xff00, blue: 0xff, alpha: 0 };
  }
  // Masks follow a 40-byte header, or sit inside the V2+ headers at the same offset (54).
  const hasAlphaMask = compression === BI_ALPHABITFIELDS || infoSize >= 56;
  return {
    red: view.getUint32(54, true),
    green: view.getUint32(58, true),
    blue: view.getUint32(62, true),
    alpha: hasAlphaMask ? view.getUint32(66, true) : 0,
  };
}

/** Decodes one stored row starting at byte `source` into RGBA at `target`. */
function readRow(
  view: DataView,
  header: BmpHeader,
  source: number,
  out: Uint8ClampedArray,
  target: number,
): void {
  const { bitsPerPixel, width } = header;
  for (let x = 0; x < width; x++) {
    const o = target + x * 4;
    if (bitsPerPixel <= 8) {
      const bit = x * bitsPerPixel;
      const byte = view.getUint8(source + (bit >> 3));
      const index = (byte >> (8 - bitsPerPixel - (bit & 7))) & ((1 << bitsPerPixel) - 1);
      const colour = header.palette[index];
      if (!colour) throw invalid(`pixel refers to palette entry ${index} that does not exist`);
      out.set(colour, o);
      out[o + 3] = 255;
    } else if (bitsPerPixel === 24) {
      const p = source + x * 3;
      out[o] = view.getUint8(p + 2);
      out[o + 1] = view.getUint8(p + 1);
      out[o + 2] = view.getUint8(p);
      out[o + 3] = 255;
    } else {
      const pixel = bitsPerPixel === 16
        ? view.getUint16(source + x * 2, true)
        : view.getUint32(source + x * 4, true);
      writeMasked(pixel, header.masks, out, o);
    }
  }
}

function writeMasked(pixel: number, masks: ChannelMasks, out: Uint8ClampedArray, o: number) {
  out[o] = scaleMasked(pixel, masks.red);
  out[o + 1] = scaleMasked(pixel, masks.green);
  out[o + 2] = scaleMasked(pixel, masks.blue);
  out[o + 3] = masks.alpha === 0 ? 255 : scaleMasked(pixel, masks.alpha);
}

/** Extracts the masked field and stretches it to 0–255 (a 5-bit 31 becomes 255). */
function scaleMasked(pixel: number, mask: number): number {
  if (mask === 0) return 0;
  const shift = 31 - Math.clz32(mask & -mask);
  const max = mask >>> shift;
  return Math.round((((pixel & mask) >>> shift) * 255) / max);
}

function allTransparent(data: Uint8ClampedArray): boolean {
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return false;
  return true;
}

function makeOpaque(data: Uint8ClampedArray): void {
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
}

function invalid(detail: string): ImageError {
  return new ImageError("invalid_image", `The BMP is malformed: ${detail}`);
}
