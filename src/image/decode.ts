/**
 * Uploaded bytes → the grey working map the preprocessing reads, within a budget decided before any
 * pixel is decoded. The format comes from magic bytes; the size and cost from the header as the
 * decoder itself reads it. JPEG and PNG decode shrunk (DCT scaling, rows streamed into a box filter,
 * codec.wasm); GIF, WebP and BMP decode whole and are capped at {@linkcode FULL_DECODE_MAX_PIXELS}.
 * EXIF orientation is applied. Every decoder failure becomes an ImageError.
 */
import { decodeBmp } from "./_bmp.ts";
import { decodeGif } from "./_gif.ts";
import { boxFactor, greyMap, WORKING_MAX_SIDE } from "./_grey.ts";
import { type ImageFormat, readDimensions, sniffFormat } from "./_header.ts";
import { exifOrientation, orient, swapsSides } from "./_orientation.ts";
import {
  type CodecDecodeOptions,
  CodecError,
  type CodecFormat,
  type CodecHeader,
  decodeWithCodec,
  readCodecHeader,
} from "./codec/codec.ts";
import { ImageError, mib } from "./errors.ts";
import type { FloatMap, RgbaImage } from "./types.ts";
import { decodeWebp } from "./webp.ts";

export { type ImageFormat, sniffFormat } from "./_header.ts";
export type { FloatMap, RgbaImage } from "./types.ts";
export { initCodec } from "./codec/codec.ts";
export { initWebpDecoder, WEBP_WASM_SPECIFIER } from "./webp.ts";

/**
 * GIF, WebP and BMP decoders hold the whole RGBA image, garbage until the isolate next collects it:
 * 2 Mpx (a full-HD screenshot) is 8 MiB of it.
 */
export const FULL_DECODE_MAX_PIXELS = 2048 * 1024;
/**
 * A progressive (or multi-scan) JPEG keeps every DCT coefficient until its last scan: 128 bytes a
 * block. 16 MiB of them is a 5.6 MP 4:2:0 photo; phone cameras write baseline JPEGs, which need none.
 */
export const JPEG_COEFFICIENT_BYTES = 16 * 1024 * 1024;
/**
 * Decoding work is counted in units of about 0.5 ns of CPU on the machine the figures come from (in
 * Deno and workerd alike): inflating and box-summing one byte of an 8-bit grey PNG costs one. So
 * `maxDecodeWork` keeps its name, but it is a budget of work in byte-equivalents, priced by pixels
 * where a decoder's cost grows with pixels (a 1-bit PNG unpacks 8 of them a byte).
 *
 * Every image costs this much besides its decoding: opening the codec, the preprocessing (~0.15 ms)
 * and its share of the forward pass, so a batch of tiny images is not free either.
 */
export const IMAGE_WORK = 512 * 1024;
/**
 * A JPEG block costs about 40 ns to entropy-decode and reduce (a 48 MP grey photo, 750,000 blocks:
 * 30 ms), a byte of its entropy-coded data about 8.6 ns more (4.6 MB of coefficients in a 50 MP
 * 4:2:0 frame: 86 ms in all).
 */
export const JPEG_BLOCK_WORK = 80;
/**
 * Each pixel a JPEG decodes to beyond those of the default working map's scale (see jpegScaledWork):
 * a 12 MP photo at 1/4 instead of 1/8 decodes 570,000 more pixels in 8 ms more, at 1/2 2.9 M more
 * in 20 ms more.
 */
export const JPEG_SCALED_PIXEL_WORK = 28;
export const JPEG_DATA_WORK = 17;
/**
 * libjpeg-turbo's scan limit (TJPARAM_SCANLIMIT), tied to the image: a multi-scan JPEG may have
 * {@linkcode JPEG_SCANS_PER_COMPONENT} scans a component (encoders write 6 for grey, 10 for colour),
 * never more than {@linkcode JPEG_MAX_SCANS}, and its scans may cost at most
 * {@linkcode JPEG_SCAN_WORK_PER_BLOCK} a block: a scan visits every block of its components (36
 * units each), a refinement scan every coefficient of its band in them (2 units each), data or not.
 * libjpeg's own progression costs 468 a luma block, 270 a chroma block. Both are judged from the
 * file's SOS markers before any scan is decoded, and codec.c holds libjpeg to them scan by scan.
 */
export const JPEG_SCANS_PER_COMPONENT = 32;
export const JPEG_MAX_SCANS = 100;
export const JPEG_SCAN_WORK_PER_BLOCK = 1024;
/**
 * Work a PNG pixel costs on top of its scanline bytes, by the way codec.c reads its rows: stored
 * 8-bit rows by channels (grey 1; grey+alpha 2; RGB 1; RGBA 4, between an opaque screenshot's ~0
 * and a transparent canvas's 5, whose cells composite pixel by pixel); grey under 8 bits unpacked a pixel at a time (a 1-bit 2048×2048 PNG: 38 ms for
 * 0.5 MiB of scanlines); palette, 16-bit and keyed images expanded to RGBA8 (16-bit RGBA: 13.7 ns a
 * pixel); Adam7's sparse rows add a few more a pixel.
 */
export const PNG_PIXEL_WORK = {
  stored: [0, 1, 2, 1, 4],
  unpacked: 20,
  expanded: 20,
  interlaced: 2,
} as const;
/** GIF, WebP and BMP decode whole RGBA in JavaScript or libwebp, then the box filter: per pixel. */
export const WHOLE_PIXEL_WORK = 24;
/** libjpeg's max_memory_to_use: what its coefficient arrays may take (its other buffers are small). */
const JPEG_MEMORY_BYTES = JPEG_COEFFICIENT_BYTES + 4 * 1024 * 1024;
/** libspng refuses a side above this outright (the pixel limit is checked next). */
const PNG_MAX_SIDE = 1 << 24;
const CODEC_LIMITS = { jpegMemoryBytes: JPEG_MEMORY_BYTES, pngMaxSide: PNG_MAX_SIDE };

/** What an upload may cost: see src/server/limits.ts. */
export interface DecodeLimits {
  /** Largest width × height a header may declare. */
  maxPixels: number;
  /**
   * Most decoding work for this image (and, summed, for a request), in byte-equivalents: see
   * {@linkcode IMAGE_WORK}.
   */
  maxDecodeWork: number;
}

/** Options for {@linkcode decodeImage}. */
export interface DecodeOptions {
  /** What transparency is composited over: 255 (white paper) for the MNIST recipe, 0 for MNIST input. */
  background: 0 | 255;
  limits: DecodeLimits;
  /**
   * The working map's long side: {@linkcode WORKING_MAX_SIDE} (112, one digit) unless given; /read
   * asks for more so that every digit of a row keeps well above 28 px. At most
   * {@linkcode MAX_WORKING_SIDE}.
   */
  maxSide?: number;
}

/** The largest working map a caller may ask for (codec.c refuses grids over 2^20 cells). */
export const MAX_WORKING_SIDE = 1024;

/** An image's cost, judged from its header before decoding. */
export interface ImagePlan {
  format: ImageFormat;
  /** As stored (before EXIF orientation). */
  width: number;
  height: number;
  /**
   * Decoding work in byte-equivalents, {@linkcode IMAGE_WORK} included: a PNG's scanlines, rows and
   * pixels by the way they are read; a JPEG's blocks, data bytes and scans; pixels for the rest.
   */
  cost: number;
}

/** The work a decode did: what tests assert instead of time. */
export interface DecodeWork {
  /** The plan's cost, in bytes. */
  cost: number;
  /** PNG: scanline bytes inflated (filter bytes included). */
  inflatedBytes: number;
  /** JPEG: scans read. */
  scans: number;
  /** JPEG: the work of the scans read, in the units of `cost`. */
  scanWork: number;
  /** Rows the decoder produced. */
  rows: number;
  /** The size the decoder produced before the box filter (a JPEG after DCT scaling). */
  decodedWidth: number;
  decodedHeight: number;
}

/** A decoded upload, upright. */
export interface DecodedImage {
  format: ImageFormat;
  /**
   * The original's size, upright (after EXIF orientation): a map pixel spans `width / map.width`
   * original pixels across and `height / map.height` down.
   */
  width: number;
  height: number;
  /** EXIF orientation 1–8 that was applied (1: as stored). */
  orientation: number;
  /** Luma over the background, box-averaged to ≤ `maxSide` (112 unless asked) a side, upright. */
  map: FloatMap;
  work: DecodeWork;
}

const ACCEPTED = "PNG, JPEG, GIF, WebP or BMP";

/**
 * Reads an upload's header with the decoder that would decode it and prices the decode.
 *
 * @param bytes The file as uploaded.
 * @param limits `maxPixels` and `maxDecodeWork` for this one image.
 * @returns The format, stored size and cost.
 * @throws {ImageError} `unsupported_media_type` for an unknown format, `image_too_large` over a limit,
 * `invalid_image` for a malformed header or a side of 0.
 */
export function planImage(
  bytes: Uint8Array,
  limits: DecodeLimits,
  maxSide = WORKING_MAX_SIDE,
): ImagePlan {
  const format = sniffFormat(bytes);
  if (!format) {
    throw new ImageError("unsupported_media_type", `Not a supported image: send ${ACCEPTED}`);
  }
  try {
    if (format === "jpeg" || format === "png") {
      const header = readCodecHeader(format, bytes, CODEC_LIMITS);
      const scaleNum = format === "jpeg" ? jpegScale(header, maxSide) : 8;
      return planCodec(format, header, bytes.length, limits, scaleNum);
    }
    const { width, height } = readDimensions(bytes, format);
    checkSize(format, width, height, Math.min(limits.maxPixels, FULL_DECODE_MAX_PIXELS));
    const cost = IMAGE_WORK + width * height * WHOLE_PIXEL_WORK;
    checkCost(format, width, height, cost, limits);
    return { format, width, height, cost };
  } catch (error) {
    throw asImageError(error, format);
  }
}

/**
 * Decodes an upload to its grey working map, upright.
 *
 * @example
 * ```ts ignore
 * const image = await decodeImage(bytes, { background: 255, limits: DEFAULT_LIMITS });
 * image.map.width <= 112 && image.map.height <= 112; // true
 * ```
 *
 * @param bytes The file as uploaded.
 * @param options The background transparency is composited over, the limits, and the working size.
 * @throws {ImageError} as {@linkcode planImage}, and `invalid_image` for corrupt data.
 * @throws {RangeError} for limits that are not positive integers or a `maxSide` outside 1…1024.
 */
export async function decodeImage(
  bytes: Uint8Array,
  options: DecodeOptions,
): Promise<DecodedImage> {
  const { limits, background, maxSide = WORKING_MAX_SIDE } = options;
  if (!Number.isSafeInteger(maxSide) || maxSide < 1 || maxSide > MAX_WORKING_SIDE) {
    throw new RangeError(
      `'maxSide' must be an integer from 1 to ${MAX_WORKING_SIDE}: current value is ${maxSide}`,
    );
  }
  for (const key of ["maxPixels", "maxDecodeWork"] as const) {
    if (!Number.isSafeInteger(limits[key]) || limits[key] <= 0) {
      throw new RangeError(`'${key}' must be a positive integer: current value is ${limits[key]}`);
    }
  }
  const format = sniffFormat(bytes);
  // JPEG and PNG are priced inside the decode, from the header the decoding instance reads.
  if (format === "jpeg" || format === "png") {
    try {
      return decodeShrunk(format, bytes, background, limits, maxSide);
    } catch (error) {
      throw asImageError(error, format);
    }
  }
  const plan = planImage(bytes, limits);
  try {
    return await decodeWhole(plan, bytes, background, maxSide);
  } catch (error) {
    throw asImageError(error, plan.format);
  }
}

/** JPEG and PNG through codec.wasm: the size, cost and scale come from the header it reads. */
function decodeShrunk(
  format: CodecFormat,
  bytes: Uint8Array,
  background: 0 | 255,
  limits: DecodeLimits,
  maxSide: number,
): DecodedImage {
  let plan: ImagePlan | undefined;
  let options: CodecDecodeOptions | undefined;
  const decoded = decodeWithCodec(format, bytes, (header) => {
    options = codecOptions(format, header, background, maxSide);
    plan = planCodec(format, header, bytes.length, limits, options.scaleNum);
    return options;
  }, CODEC_LIMITS);
  const { header, work } = decoded;
  // The decoder's output must be what its header promised: a mismatch is a corrupt file.
  const scaled = (side: number) => scaledSide(side, options!.scaleNum);
  if (work.outWidth !== scaled(header.width) || work.outHeight !== scaled(header.height)) {
    throw new ImageError("invalid_image", `The ${format} decoded to another size than it declares`);
  }
  const orientation = exifOrientation(header.exif);
  const swap = swapsSides(orientation);
  return {
    format,
    width: swap ? header.height : header.width,
    height: swap ? header.width : header.height,
    orientation,
    map: orient(decoded.map, orientation),
    work: {
      cost: plan!.cost,
      inflatedBytes: work.inflatedBytes,
      scans: work.scans,
      scanWork: work.scanWork,
      rows: work.rows,
      decodedWidth: work.outWidth,
      decodedHeight: work.outHeight,
    },
  };
}

/** GIF, WebP and BMP: whole RGBA, then the same box filter in TypeScript. */
async function decodeWhole(
  plan: ImagePlan,
  bytes: Uint8Array,
  background: 0 | 255,
  maxSide: number,
): Promise<DecodedImage> {
  const image = await decodeRgba(plan.format, bytes);
  if (image.width !== plan.width || image.height !== plan.height) {
    throw new ImageError(
      "invalid_image",
      `The ${plan.format} decoded to ${image.width}×${image.height}, not the ${plan.width}×${plan.height} it declares`,
    );
  }
  if (image.data.length !== image.width * image.height * 4) {
    throw new ImageError("invalid_image", `The ${plan.format} decoded to an inconsistent buffer`);
  }
  const orientation = plan.format === "webp" ? exifOrientation(webpExif(bytes)) : 1;
  const swap = swapsSides(orientation);
  return {
    format: plan.format,
    width: swap ? image.height : image.width,
    height: swap ? image.width : image.height,
    orientation,
    map: orient(
      greyMap(image, background, boxFactor(image.width, image.height, maxSide)),
      orientation,
    ),
    work: {
      cost: plan.cost,
      inflatedBytes: 0,
      scans: 0,
      scanWork: 0,
      rows: image.height,
      decodedWidth: image.width,
      decodedHeight: image.height,
    },
  };
}

function decodeRgba(format: ImageFormat, bytes: Uint8Array): RgbaImage | Promise<RgbaImage> {
  switch (format) {
    case "gif":
      return decodeGif(bytes);
    case "webp":
      return decodeWebp(bytes);
    case "bmp":
      return decodeBmp(bytes);
    default:
      throw new Error(`${format} is decoded by codec.wasm`);
  }
}

/** The limits a JPEG or PNG header must meet, and its cost. */
function planCodec(
  format: CodecFormat,
  header: CodecHeader,
  size: number,
  limits: DecodeLimits,
  scaleNum: number,
): ImagePlan {
  const { width, height } = header;
  checkSize(format, width, height, limits.maxPixels);
  let cost: number;
  if (format === "jpeg") {
    checkScans(header);
    cost = IMAGE_WORK + header.blocks * JPEG_BLOCK_WORK + size * JPEG_DATA_WORK +
      (header.multiscan ? header.scanWork : 0) + jpegScaledWork(header, scaleNum);
    const coefficients = header.blocks * 128;
    if (header.multiscan && coefficients > JPEG_COEFFICIENT_BYTES) {
      throw new ImageError(
        "image_too_large",
        `The progressive JPEG is ${width}×${height}: decoding it would hold ${
          mib(coefficients)
        } of ` +
          `coefficients, the limit is ${mib(JPEG_COEFFICIENT_BYTES)}; send it as a baseline JPEG ` +
          `or smaller`,
      );
    }
  } else {
    cost = IMAGE_WORK + pngWork(header);
  }
  checkCost(format, width, height, cost, limits);
  return { format, width, height, cost };
}

function checkCost(
  format: ImageFormat,
  width: number,
  height: number,
  cost: number,
  limits: DecodeLimits,
): void {
  if (cost > limits.maxDecodeWork) {
    throw new ImageError(
      "image_too_large",
      `The ${format} is ${width}×${height}: decoding it is ${mib(cost)} of work, the limit is ` +
        `${mib(limits.maxDecodeWork)}; send a smaller image`,
    );
  }
}

/**
 * The most scans a JPEG may have: {@linkcode JPEG_SCANS_PER_COMPONENT} a component for a multi-scan
 * file, capped at {@linkcode JPEG_MAX_SCANS}; 1 for a single-scan one (libjpeg reads no other).
 */
export function jpegScanLimit(header: Pick<CodecHeader, "components" | "multiscan">): number {
  if (!header.multiscan) return 1;
  return Math.min(JPEG_MAX_SCANS, JPEG_SCANS_PER_COMPONENT * Math.max(1, header.components));
}

/** A multi-scan JPEG's scans, counted and priced from its SOS markers, against its limits. */
function checkScans(header: CodecHeader): void {
  if (!header.multiscan) return;
  const limit = jpegScanLimit(header);
  if (header.scans > limit) {
    throw new ImageError(
      "invalid_image",
      `The jpeg has ${header.scans} scans; one of ${header.components} component(s) may have at ` +
        `most ${limit}: re-encode it`,
    );
  }
  const allowed = header.blocks * JPEG_SCAN_WORK_PER_BLOCK;
  if (header.scanWork > allowed) {
    throw new ImageError(
      "invalid_image",
      `The jpeg's ${header.scans} scans revisit its ${header.blocks} blocks ` +
        `${(header.scanWork / header.blocks).toFixed(0)} units of work each; at most ` +
        `${JPEG_SCAN_WORK_PER_BLOCK} are allowed: re-encode it`,
    );
  }
}

/**
 * A scanline costs libspng and the box filter about as much as this many bytes of data (1,000,000
 * rows of 1 pixel took 28–48 ms, a row of data 0.5–2.4 ns a byte), so a tall, narrow image is priced
 * by its rows, not only by its few bytes.
 */
export const PNG_ROW_COST = 64;

/**
 * Every scanline's bytes, filter byte included, plus {@linkcode PNG_ROW_COST} a scanline, over the
 * seven Adam7 passes when interlaced; plus {@linkcode PNG_PIXEL_WORK} a pixel.
 */
export function pngWork(
  header: Pick<
    CodecHeader,
    "width" | "height" | "bitDepth" | "components" | "interlaced" | "pngPath"
  >,
): number {
  const { width, height, bitDepth, components, interlaced, pngPath } = header;
  const bits = bitDepth * components;
  const lines = (w: number, h: number) =>
    w > 0 && h > 0 ? h * (PNG_ROW_COST + 1 + Math.ceil((w * bits) / 8)) : 0;
  const scanlines = !interlaced ? lines(width, height) : ADAM7.reduce(
    (sum, [x0, y0, dx, dy]) =>
      sum + lines(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy)),
    0,
  );
  const perPixel =
    (pngPath === "stored"
      ? PNG_PIXEL_WORK.stored[components] ?? PNG_PIXEL_WORK.expanded
      : PNG_PIXEL_WORK[pngPath]) + (interlaced ? PNG_PIXEL_WORK.interlaced : 0);
  return scanlines + width * height * perPixel;
}

/** Adam7 passes: first column, first row, column step, row step. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/**
 * How codec.wasm should decode: a JPEG is DCT-scaled by 1/8, 1/4 or 1/2 while at least twice the
 * working size remains (the box filter does the rest, so the working map is as without scaling);
 * libjpeg may read the scans that were priced and no more.
 */
function codecOptions(
  format: CodecFormat,
  header: CodecHeader,
  background: 0 | 255,
  maxSide: number,
): CodecDecodeOptions {
  const scaleNum = format === "jpeg" ? jpegScale(header, maxSide) : 8;
  const scaled = (side: number) => scaledSide(side, scaleNum);
  return {
    scaleNum,
    box: boxFactor(scaled(header.width), scaled(header.height), maxSide),
    background,
    // What the walk over its SOS markers found and planCodec accepted: libjpeg may read no more.
    scanLimit: format === "jpeg" ? Math.min(header.scans, jpegScanLimit(header)) : 1,
    scanWorkLimit: header.scanWork,
    ...CODEC_LIMITS,
  };
}

function checkSize(format: ImageFormat, width: number, height: number, maxPixels: number): void {
  if (width === 0 || height === 0) {
    throw new ImageError(
      "invalid_image",
      `The ${format} declares a size of ${width}×${height}: no pixels`,
    );
  }
  if (width * height > maxPixels) {
    throw new ImageError(
      "image_too_large",
      `The image is ${width}×${height} pixels; the limit for ${format} is ${maxPixels} pixels in all`,
    );
  }
}

/** The payload of a WebP's EXIF chunk (RIFF), from its TIFF header on. */
function webpExif(bytes: Uint8Array): Uint8Array | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let offset = 12; offset + 8 <= bytes.length;) {
    const type = String.fromCharCode(...bytes.subarray(offset, offset + 4));
    const size = view.getUint32(offset + 4, true);
    const body = bytes.subarray(offset + 8, offset + 8 + size);
    if (type === "EXIF") {
      // Some writers keep JPEG's "Exif\0\0" prefix.
      const prefixed = String.fromCharCode(...body.subarray(0, 6)) === "Exif\0\0";
      return prefixed ? body.subarray(6) : body;
    }
    offset += 8 + size + (size & 1);
  }
  return undefined;
}

/**
 * libjpeg's DCT scale (m/8) for a working map of `maxSide`: the smallest that leaves at least twice
 * the default working size (the box filter does the rest, so the map is as without scaling), and
 * for a larger map at least the map itself (a 12 MP photo decodes at 1/4, not 1/2: 20 ms, not 32).
 */
function jpegScale(header: Pick<CodecHeader, "width" | "height">, maxSide: number): number {
  const long = Math.max(header.width, header.height);
  const need = maxSide <= WORKING_MAX_SIDE ? 2 * maxSide : Math.max(2 * WORKING_MAX_SIDE, maxSide);
  return [1, 2, 4].find((m) => Math.ceil((long * m) / 8) >= need) ?? 8;
}

/**
 * {@linkcode JPEG_BLOCK_WORK} prices the scale the default working map decodes at; a larger working
 * size pays for the pixels it decodes beyond that (larger inverse DCTs, colour conversion, box sums).
 */
function jpegScaledWork(header: Pick<CodecHeader, "width" | "height">, scaleNum: number): number {
  const pixels = (m: number) => scaledSide(header.width, m) * scaledSide(header.height, m);
  const extra = pixels(scaleNum) - pixels(jpegScale(header, WORKING_MAX_SIDE));
  return Math.max(0, extra) * JPEG_SCALED_PIXEL_WORK;
}

/** A side after libjpeg's DCT scaling by `scaleNum`/8 (PNG: 8/8, unchanged). */
function scaledSide(side: number, scaleNum: number): number {
  return Math.ceil((side * scaleNum) / 8);
}

/**
 * What the file did wrong, as an ImageError (cause kept for logs). Our own ImageErrors pass; the
 * codec's refusals get their code; any other error from a JPEG or PNG decode is the server's fault
 * and is rethrown (a 500), while GIF, WebP and BMP decoders report a bad file by throwing anything.
 */
function asImageError(error: unknown, format: ImageFormat): ImageError {
  if (error instanceof ImageError) return error;
  if ((format === "jpeg" || format === "png") && !(error instanceof CodecError)) throw error;
  if (error instanceof CodecError) {
    if (error.reason === "memory") {
      return new ImageError("image_too_large", `The ${format} needs more memory than allowed`, {
        cause: error,
      });
    }
    if (error.reason === "unsupported") {
      return new ImageError(
        "unsupported_media_type",
        `The ${format} uses a feature not decoded here: ${error.message}`,
        {
          cause: error,
        },
      );
    }
    return new ImageError("invalid_image", `The ${format} is corrupt: ${error.message}`, {
      cause: error,
    });
  }
  return new ImageError("invalid_image", `The ${format} file is corrupt or truncated`, {
    cause: error,
  });
}
