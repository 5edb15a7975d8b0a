/**
 * Format sniffing by magic bytes, and header-only size reading for the formats decoded whole (GIF,
 * WebP, BMP), so oversized ones are refused before any decoding. JPEG and PNG headers are read by
 * their decoder itself (codec.wasm), never here.
 */
import { ImageError } from "./errors.ts";

/** The image formats {@linkcode decodeImage} accepts. */
export type ImageFormat = "png" | "jpeg" | "gif" | "webp" | "bmp";

/** Width and height in pixels, as the file's header declares them. */
export interface Dimensions {
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * The format named by the file's magic bytes, or `null` when none matches.
 * File names and declared content types are ignored on purpose: clients get them wrong.
 *
 * @param bytes The uploaded file.
 * @returns `"png" | "jpeg" | "gif" | "webp" | "bmp"`, or `null`.
 */
export function sniffFormat(bytes: Uint8Array): ImageFormat | null {
  if (startsWith(bytes, PNG_SIGNATURE)) return "png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "jpeg";
  if (ascii(bytes, 0, 6) === "GIF87a" || ascii(bytes, 0, 6) === "GIF89a") return "gif";
  if (ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 4) === "WEBP") return "webp";
  if (ascii(bytes, 0, 2) === "BM" && bytes.length >= 26) return "bmp";
  return null;
}

/**
 * Reads width and height from the header alone, allocating nothing in proportion to the image.
 *
 * @param bytes The uploaded file.
 * @param format Its format, from {@linkcode sniffFormat}: GIF, WebP or BMP.
 * @returns The declared dimensions (a BMP's negative, top-down height comes back positive).
 * @throws {ImageError} `invalid_image` when the header is truncated or malformed.
 */
export function readDimensions(
  bytes: Uint8Array,
  format: Exclude<ImageFormat, "jpeg" | "png">,
): Dimensions {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    switch (format) {
      case "gif":
        return { width: view.getUint16(6, true), height: view.getUint16(8, true) };
      case "webp":
        return readWebpDimensions(bytes, view);
      case "bmp":
        return readBmpDimensions(view);
    }
  } catch (error) {
    if (error instanceof ImageError) throw error;
    // DataView reads past the end throw RangeError: the header is cut short.
    throw new ImageError("invalid_image", `The ${format} header is truncated`, { cause: error });
  }
}

/** The first chunk after "WEBP" is VP8 (lossy), VP8L (lossless) or VP8X (extended, with a canvas size). */
function readWebpDimensions(bytes: Uint8Array, view: DataView): Dimensions {
  const chunk = ascii(bytes, 12, 4);
  if (chunk === "VP8 ") {
    // Frame tag (3 bytes) and start code 9d 01 2a, then 14-bit width and height.
    if (!startsWith(bytes.subarray(23), [0x9d, 0x01, 0x2a])) {
      throw headerError("webp", "bad VP8 start");
    }
    return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
  }
  if (chunk === "VP8L") {
    if (bytes[20] !== 0x2f) throw headerError("webp", "bad VP8L signature");
    const bits = view.getUint32(21, true); // 14 bits width-1, 14 bits height-1
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === "VP8X") {
    return { width: readUint24(view, 24) + 1, height: readUint24(view, 27) + 1 };
  }
  throw headerError("webp", `unknown first chunk "${chunk}"`);
}

function readBmpDimensions(view: DataView): Dimensions {
  const headerSize = view.getUint32(14, true);
  if (headerSize === 12) { // OS/2 BITMAPCOREHEADER: 16-bit sizes
    return { width: view.getUint16(18, true), height: view.getUint16(20, true) };
  }
  // BITMAPINFOHEADER and later: signed 32-bit, a negative height means rows stored top-down.
  return { width: Math.abs(view.getInt32(18, true)), height: Math.abs(view.getInt32(22, true)) };
}

function readUint24(view: DataView, offset: number): number {
  return view.getUint8(offset) | (view.getUint8(offset + 1) << 8) |
    (view.getUint8(offset + 2) << 16);
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.every((byte, i) => bytes[i] === byte);
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + length));
}

function headerError(format: ImageFormat, detail: string): ImageError {
  return new ImageError("invalid_image", `The ${format} header is malformed: ${detail}`);
}
