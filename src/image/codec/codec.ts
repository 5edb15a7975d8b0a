/**
 * The host side of codec.wasm (codec.c: libjpeg-turbo, libspng and zlib built for wasm32): JPEG and PNG
 * decoded straight to a small grey map, within limits decided from the decoder's own header.
 *
 * workerd refuses to compile wasm from bytes, so the host hands in the compiled module once:
 *
 * ```ts ignore
 * import codecWasm from "./codec/codec.wasm"; // Worker: bundled as a module
 * initCodec(codecWasm);
 * ```
 *
 * In Deno, {@linkcode compileCodec} from src/deno.ts compiles the committed binary.
 *
 * One instance serves every request of an isolate, one image at a time (decoding is synchronous). An
 * instance that failed mid-decode, or whose memory grew past {@linkcode RETIRE_ABOVE_BYTES}, is
 * dropped and the next decode gets a fresh one, so no failure or large image leaves memory behind.
 */
import type { FloatMap } from "../types.ts";

/** An instance whose memory grew past this is replaced after the decode (wasm memory never shrinks). */
const RETIRE_ABOVE_BYTES = 8 * 1024 * 1024;

/** The two formats codec.wasm decodes. */
export type CodecFormat = "jpeg" | "png";
const KIND: Record<CodecFormat, number> = { jpeg: 1, png: 2 };

/** What codec.c reports about a header (and, after decoding, about the work). */
export interface CodecHeader {
  width: number;
  height: number;
  /** JPEG: colour components; PNG: channels of its colour type. */
  components: number;
  /** JPEG: progressive or multi-scan, so libjpeg holds every coefficient. */
  multiscan: boolean;
  /** JPEG: libjpeg's J_COLOR_SPACE; PNG: the IHDR colour type. */
  colour: number;
  /** PNG: bits a sample. */
  bitDepth: number;
  /** PNG: Adam7. */
  interlaced: boolean;
  /** JPEG: 8×8 blocks one full scan decodes, all components. */
  blocks: number;
  /** JPEG: the scans the file holds (its SOS markers), counted before any is decoded. */
  scans: number;
  /**
   * JPEG: what those scans cost in units of decoding work: each visits every block of its components,
   * a refinement pass every coefficient of its band in them too (codec.c's component_scan_work).
   */
  scanWork: number;
  /** PNG: how rows reach the grid: as stored (8-bit), unpacked (grey under 8 bits), expanded to RGBA8. */
  pngPath: "stored" | "unpacked" | "expanded";
  /** The EXIF block (a TIFF header onwards), copied out; absent when the file has none. */
  exif?: Uint8Array;
}

/** What a decode did: the figures tests assert instead of time. */
export interface CodecWork {
  /** The size the decoder produced (a JPEG after DCT scaling). */
  outWidth: number;
  outHeight: number;
  /** JPEG scans read. */
  scans: number;
  /** JPEG: the work of the scans read, priced as {@linkcode CodecHeader.scanWork}. */
  scanWork: number;
  /** Rows decoded (every Adam7 pass counted). */
  rows: number;
  /** PNG: scanline bytes inflated, filter bytes included. */
  inflatedBytes: number;
  /** The instance's memory after the decode, in bytes. */
  memoryBytes: number;
}

/** How to decode: see codec.c's codec_decode. */
export interface CodecDecodeOptions {
  /** JPEG DCT scaling in eighths, 1–8. */
  scaleNum: number;
  /** The grid's box factor over the decoder's output. */
  box: number;
  /** What transparency is composited over: 0 (black) or 255 (white). */
  background: 0 | 255;
  /** JPEG: the most scans read. */
  scanLimit: number;
  /** JPEG: the most scan work read (a scan past it is refused before its data is decoded). */
  scanWorkLimit: number;
  /** JPEG: libjpeg's max_memory_to_use, what its coefficient arrays may take. */
  jpegMemoryBytes: number;
  /** PNG: the longest side libspng accepts. */
  pngMaxSide: number;
}

/** Why codec.wasm stopped; `message` says it in words. */
export class CodecError extends Error {
  override name = "CodecError";
  /**
   * @param reason `corrupt` (bad or truncated data), `scan_limit` (too many JPEG scans, or scans
   * costing more work than allowed), `memory` (over
   * the memory limit), `unsupported` (a valid feature we do not decode).
   */
  constructor(
    readonly reason: "corrupt" | "scan_limit" | "memory" | "unsupported",
    message: string,
  ) {
    super(message);
  }
}

interface Exports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  codec_info(): number;
  codec_malloc(size: number): number;
  codec_free(pointer: number): void;
  codec_open(kind: number, data: number, size: number, limit: number): number;
  codec_decode(
    scaleNum: number,
    box: number,
    background: number,
    scans: number,
    scanWork: number,
  ): number;
  codec_close(): void;
  codec_png_error(code: number): number;
  codec_jpeg_message(): number;
}

/** codec_abort's first argument (codec.c's ABORT_*). */
const ABORT = {
  corrupt: 1,
  scanLimit: 2,
  truncated: 3,
  memory: 4,
  unsupported: 5,
  scanWork: 6,
} as const;

let compiled: WebAssembly.Module | undefined;
let live: Exports | undefined;

/** What the caller's own code threw between wasm calls: the instance is still sound. */
const callerErrors = new WeakSet<object>();

/** Thrown by codec_abort inside the wasm call, caught where the call was made. */
class Abort {
  constructor(readonly code: number, readonly detail: number) {}
}

/**
 * Hands the compiled codec.wasm to the decoders. Call once per isolate; later calls are ignored.
 *
 * @param module The compiled `codec.wasm`.
 */
export function initCodec(module: WebAssembly.Module): void {
  if (!(module instanceof WebAssembly.Module)) {
    throw new TypeError(`initCodec() needs a WebAssembly.Module: got ${typeof module}`);
  }
  compiled ??= module;
}

function instance(): Exports {
  if (live) return live;
  if (!compiled) throw new Error("initCodec(module) was never called");
  const nothing = () => 0;
  const imports: WebAssembly.Imports = {
    env: {
      codec_abort: (code: number, detail: number) => {
        throw new Abort(code, detail);
      },
    },
    // wasi-libc's stdio is linked but never used for output: libjpeg's messages come through us.
    wasi_snapshot_preview1: {
      fd_close: nothing,
      fd_seek: nothing,
      fd_write: nothing,
      proc_exit: (code: number) => {
        throw new Abort(-1, code);
      },
    },
  };
  const created = new WebAssembly.Instance(compiled, imports).exports as unknown as Exports;
  created._initialize();
  live = created;
  return created;
}

/**
 * Reads a header with the decoder that would decode the file, and nothing else.
 *
 * @throws CodecError for a malformed header.
 */
export function readCodecHeader(
  format: CodecFormat,
  bytes: Uint8Array,
  limits: Pick<CodecDecodeOptions, "jpegMemoryBytes" | "pngMaxSide">,
): CodecHeader {
  return withImage(format, bytes, limits, (codec) => readHeader(codec));
}

/**
 * Decodes a JPEG or PNG into a grey map (luma over `background`), box-averaged by `box` after any
 * JPEG DCT scaling. `check` sees the header first and may throw to refuse before any pixel is decoded.
 *
 * @throws CodecError for corrupt data or a limit reached; whatever `check` throws.
 */
export function decodeWithCodec(
  format: CodecFormat,
  bytes: Uint8Array,
  choose: (header: CodecHeader) => CodecDecodeOptions,
  limits: Pick<CodecDecodeOptions, "jpegMemoryBytes" | "pngMaxSide">,
): { header: CodecHeader; map: FloatMap; work: CodecWork } {
  return withImage(format, bytes, limits, (codec) => {
    const header = readHeader(codec);
    let options: CodecDecodeOptions;
    try {
      options = choose(header);
    } catch (error) {
      if (typeof error === "object" && error !== null) callerErrors.add(error);
      throw error;
    }
    const status = codec.codec_decode(
      options.scaleNum,
      options.box,
      options.background,
      options.scanLimit,
      Math.min(options.scanWorkLimit, 0xffffffff),
    );
    const info = infoFields(codec);
    if (status !== 0) throw pngError(codec, status);
    const map: FloatMap = {
      width: info.grid_width,
      height: info.grid_height,
      data: new Float32Array(codec.memory.buffer, info.grid_ptr, info.grid_width * info.grid_height)
        .slice(),
    };
    const work: CodecWork = {
      outWidth: info.out_width,
      outHeight: info.out_height,
      scans: info.scans,
      scanWork: info.scan_work_read,
      rows: info.rows,
      inflatedBytes: info.inflated_hi * 2 ** 32 + info.inflated_lo,
      memoryBytes: codec.memory.buffer.byteLength,
    };
    // A PNG's eXIf chunk is read while decoding (it may follow the image data): read the header again.
    return { header: readHeader(codec), map, work };
  });
}

/** Copies `bytes` in, opens them, runs `body`, and always closes and frees; retires a failed instance. */
function withImage<T>(
  format: CodecFormat,
  bytes: Uint8Array,
  limits: Pick<CodecDecodeOptions, "jpegMemoryBytes" | "pngMaxSide">,
  body: (codec: Exports) => T,
): T {
  const codec = instance();
  let input = 0;
  let aborted = false;
  try {
    input = codec.codec_malloc(bytes.length);
    if (input === 0) throw new CodecError("memory", "the decoder has no memory left for the file");
    new Uint8Array(codec.memory.buffer, input, bytes.length).set(bytes);
    const limit = format === "jpeg" ? limits.jpegMemoryBytes : limits.pngMaxSide;
    const opened = codec.codec_open(KIND[format], input, bytes.length, limit);
    if (opened !== 0) throw pngError(codec, opened);
    return body(codec);
  } catch (error) {
    if (error instanceof CodecError || callerErrors.has(error as object)) throw error;
    // An abort (or a trap) unwound the wasm stack mid-call.
    aborted = true;
    if (error instanceof Abort) throw abortError(codec, error);
    throw new CodecError("corrupt", `the decoder stopped: ${String(error)}`);
  } finally {
    if (aborted) {
      // The instance's stack and heap are in an unknown state: it is dropped, and the next decode
      // starts afresh.
      live = undefined;
    } else {
      codec.codec_close();
      codec.codec_free(input);
      if (codec.memory.buffer.byteLength > RETIRE_ABOVE_BYTES) live = undefined;
    }
  }
}

const INFO_FIELDS = [
  "width",
  "height",
  "components",
  "multiscan",
  "colour",
  "bit_depth",
  "interlaced",
  "exif_ptr",
  "exif_len",
  "out_width",
  "out_height",
  "grid_width",
  "grid_height",
  "grid_ptr",
  "scans",
  "rows",
  "inflated_lo",
  "inflated_hi",
  "sampling_blocks",
  "scans_declared",
  "scan_work",
  "scan_work_read",
  "png_path",
] as const;

function infoFields(codec: Exports): Record<(typeof INFO_FIELDS)[number], number> {
  const words = new Uint32Array(codec.memory.buffer, codec.codec_info(), INFO_FIELDS.length);
  return Object.fromEntries(INFO_FIELDS.map((name, i) => [name, words[i]!])) as Record<
    (typeof INFO_FIELDS)[number],
    number
  >;
}

function readHeader(codec: Exports): CodecHeader {
  const info = infoFields(codec);
  return {
    width: info.width,
    height: info.height,
    components: info.components,
    multiscan: info.multiscan === 1,
    colour: info.colour,
    bitDepth: info.bit_depth,
    interlaced: info.interlaced === 1,
    blocks: info.sampling_blocks,
    scans: info.scans_declared,
    scanWork: info.scan_work,
    pngPath: (["stored", "unpacked", "expanded"] as const)[info.png_path] ?? "expanded",
    exif: info.exif_len > 0
      ? new Uint8Array(codec.memory.buffer, info.exif_ptr, info.exif_len).slice()
      : undefined,
  };
}

function cString(codec: Exports, pointer: number): string {
  const bytes = new Uint8Array(codec.memory.buffer, pointer);
  return new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0)));
}

/** codec.c's own failures (ERR_*): all below libspng's codes. */
const CODEC_OUT_OF_MEMORY = -101;
const CODEC_OVERRUN = -103;
/** libspng's SPNG_IO_EOF and SPNG_IO_ERROR: the data ends early. */
const PNG_TRUNCATED = new Set([-1, -2]);
/** libspng's SPNG_EMEM and SPNG_ECHUNK_LIMITS: over an allocation or metadata limit. */
const PNG_MEMORY = new Set([2, 77]);

function pngError(codec: Exports, status: number): CodecError {
  if (status === CODEC_OUT_OF_MEMORY) {
    return new CodecError("memory", "the decoder ran out of memory");
  }
  if (status === CODEC_OVERRUN) {
    return new CodecError("corrupt", "its image data inflates past what its header allows");
  }
  if (status < -2) return new CodecError("corrupt", `the decoder was misused (${status})`);
  if (PNG_TRUNCATED.has(status)) return new CodecError("corrupt", "the PNG data ends early");
  const message = cString(codec, codec.codec_png_error(status));
  return new CodecError(PNG_MEMORY.has(status) ? "memory" : "corrupt", message);
}

function abortError(codec: Exports, abort: Abort): CodecError {
  switch (abort.code) {
    case ABORT.scanLimit:
      return new CodecError(
        "scan_limit",
        `the JPEG has more than ${abort.detail} scans, the most read for its size`,
      );
    case ABORT.scanWork:
      return new CodecError(
        "scan_limit",
        `the JPEG's scan ${abort.detail} would take its scans past the work allowed for its size`,
      );
    case ABORT.truncated:
      return new CodecError("corrupt", "the JPEG data ends early");
    case ABORT.memory:
      return new CodecError("memory", cString(codec, codec.codec_jpeg_message()));
    case ABORT.unsupported:
      return new CodecError("unsupported", cString(codec, codec.codec_jpeg_message()));
    case ABORT.corrupt:
      return new CodecError("corrupt", cString(codec, codec.codec_jpeg_message()));
    default:
      return new CodecError("corrupt", `the decoder stopped (${abort.code}/${abort.detail})`);
  }
}
