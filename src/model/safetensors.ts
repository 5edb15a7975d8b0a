/**
 * The safetensors format (https://github.com/huggingface/safetensors), F32, F16 and I8: an 8-byte
 * little-endian header length, a JSON header `{name: {dtype, shape, data_offsets}, "__metadata__"?}`,
 * then the raw little-endian tensor data. PyTorch, numpy and most of the ecosystem read and write it.
 * F16 tensors are widened to float32 when read: half the bytes in a bundle, the same arithmetic.
 * An I8 tensor is stored with a scale per row (its first axis) in an F32 tensor `<name>.scale`, as
 * symmetric per-channel quantisation does: value = int8 × scale. Read, it is float32 again, and the
 * scale is not a tensor of its own. A quarter of F32's bytes.
 */

/** The element types we read and write. */
export type Dtype = "F32" | "F16" | "I8";
const BYTES: Record<Dtype, number> = { F32: 4, F16: 2, I8: 1 };
/** The name of the per-row scales of I8 tensor `name`. */
const scaleName = (name: string): string => `${name}.scale`;

export interface Tensor {
  shape: number[];
  data: Float32Array;
  /** How the values are stored in the file (default F32); read back, they are float32 either way. */
  dtype?: Dtype;
}

/** A file that is not valid safetensors, or not what we expect. */
export class SafetensorsError extends Error {
  override name = "SafetensorsError";
}

const MAX_HEADER = 1 << 20;

/** Writes `tensors` (in the order given) and string `metadata` as safetensors bytes. */
export function encodeSafetensors(
  tensors: Record<string, Tensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  tensors = withScales(tensors);
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) {
      throw new RangeError(`${name}: ${t.data.length} values do not fill shape [${t.shape}]`);
    }
    const bytes = t.data.length * BYTES[t.dtype ?? "F32"];
    header[name] = {
      dtype: t.dtype ?? "F32",
      shape: t.shape,
      data_offsets: [offset, offset + bytes],
    };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + json.length) % 8)) % 8); // data starts 8-byte aligned
  const head = new TextEncoder().encode(json);
  const bytes = new Uint8Array(8 + head.length + offset);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(head.length), true);
  bytes.set(head, 8);
  let at = 8 + head.length;
  for (const t of Object.values(tensors)) {
    const size = t.data.length * BYTES[t.dtype ?? "F32"];
    const view = new DataView(bytes.buffer, at, size);
    if (t.dtype === "F16") t.data.forEach((v, i) => view.setUint16(i * 2, toHalf(v), true));
    else if (t.dtype === "I8") t.data.forEach((v, i) => view.setInt8(i, v));
    else t.data.forEach((v, i) => view.setFloat32(i * 4, v, true));
    at += size;
  }
  return bytes;
}

/**
 * The tensors to write: each I8 one as its int8 values (nearest, ties away from zero) and, after it,
 * its scales, each row's largest magnitude over 127 (1 for a row of zeros).
 */
function withScales(tensors: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== "I8") {
      out[name] = t;
      continue;
    }
    if (t.shape.length === 0 || t.shape[0] === 0 || tensors[scaleName(name)]) {
      throw new RangeError(
        `${name}: an I8 tensor needs rows and no tensor named ${scaleName(name)}`,
      );
    }
    const rows = t.shape[0]!, cols = t.data.length / rows;
    const values = new Float32Array(t.data.length), scales = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      const row = t.data.subarray(r * cols, (r + 1) * cols);
      const largest = row.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const scale = Math.fround(largest / 127) || 1;
      scales[r] = scale;
      for (let c = 0; c < cols; c++) {
        const v = row[c]!;
        values[r * cols + c] = Math.sign(v) * Math.round(Math.abs(v) / scale);
      }
    }
    out[name] = { shape: t.shape, data: values, dtype: "I8" };
    out[scaleName(name)] = { shape: [rows], data: scales };
  }
  return out;
}

const scratch = new DataView(new ArrayBuffer(4));

/**
 * The runtime's Float16Array where it has one (V8 13.5 on; little-endian, as the file is, on every
 * platform V8 runs): it widened the 207,051 halves of a cnn2 stored as F16 in about a millisecond,
 * where `fromHalf` took 9–17 ms.
 */
const Half = (globalThis as { Float16Array?: new (buffer: ArrayBuffer) => ArrayLike<number> })
  .Float16Array;

/** The IEEE 754 half nearest to float32 `value` (ties to even), as its 16 bits. */
export function toHalf(value: number): number {
  scratch.setFloat32(0, value);
  const bits = scratch.getUint32(0);
  const sign = (bits >>> 16) & 0x8000, exponent = (bits >>> 23) & 0xff, mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // Infinity, NaN
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // too large: Infinity
  if (e <= 0) { // subnormal or zero
    if (e < -10) return sign;
    const m = mantissa | 0x800000, shift = 14 - e;
    const half = m >>> shift, rest = m & ((1 << shift) - 1), midpoint = 1 << (shift - 1);
    return sign | (half + (rest > midpoint || (rest === midpoint && (half & 1)) ? 1 : 0));
  }
  const half = (e << 10) | (mantissa >>> 13), rest = mantissa & 0x1fff;
  // rounding may carry into the exponent, which is right (up to Infinity)
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && (half & 1)) ? 1 : 0));
}

/** The value of half-precision `bits`. */
export function fromHalf(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1, exponent = (bits >>> 10) & 0x1f, mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/**
 * Reads safetensors bytes strictly: header bounds, F32, F16 or I8 dtypes (each I8 tensor with its
 * scales), offsets that tile the data exactly.
 * @throws SafetensorsError saying what is wrong.
 */
export function decodeSafetensors(
  bytes: Uint8Array,
): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const { header, dataStart } = readHeader(bytes);
  const data = bytes.subarray(dataStart);
  const { __metadata__: metadata = {}, ...entries } = header;
  const tensors: Record<string, Tensor> = {};
  const spans: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(entries)) {
    const { tensor, begin, end } = readTensor(name, entry, data);
    tensors[name] = tensor;
    spans.push([begin, end, name]);
  }
  checkTiling(spans, data.length);
  for (const [name, t] of Object.entries(tensors)) if (t.dtype === "I8") dequantize(name, tensors);
  return { tensors, metadata: metadata as Record<string, string> };
}

/**
 * Multiplies I8 tensor `name`'s rows by their scales in place, and takes the scales out. An I8
 * tensor has rows (one axis at least), and its scales are finite and positive.
 */
function dequantize(name: string, tensors: Record<string, Tensor>): void {
  const t = tensors[name]!, scales = tensors[scaleName(name)];
  if (t.shape.length === 0) {
    throw new SafetensorsError(`${name}: an I8 tensor needs rows (a scale per row): it has none`);
  }
  const rows = t.shape[0]!;
  if (!scales || scales.dtype === "I8" || scales.shape.join() !== String(rows)) {
    throw new SafetensorsError(
      `${name}: an I8 tensor needs its scales, an F32 or F16 tensor ${
        scaleName(name)
      } of shape [${rows}]`,
    );
  }
  if (!scales.data.every((scale) => Number.isFinite(scale) && scale > 0)) {
    throw new SafetensorsError(`${scaleName(name)}: every scale must be finite and above 0`);
  }
  const data = t.data, cols = rows ? data.length / rows : 0;
  for (let r = 0; r < rows; r++) scaleRow(data.subarray(r * cols, (r + 1) * cols), scales.data[r]!);
  delete tensors[scaleName(name)];
}

/** Multiplies `row` by `scale` in place: a function of its own, which V8 compiles early. */
function scaleRow(row: Float32Array, scale: number): void {
  for (let i = 0; i < row.length; i++) row[i]! *= scale;
}

/** The 8-byte length and the JSON header it bounds; the tensor data starts at `dataStart`. */
function readHeader(bytes: Uint8Array): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.length < 8) {
    throw new SafetensorsError(`${bytes.length} bytes is too short for a safetensors file`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER || 8 + headerLength > bytes.length) {
    throw new SafetensorsError(
      `header length ${headerLength} does not fit in a ${bytes.length}-byte file`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)),
    );
  } catch {
    throw new SafetensorsError("header is not valid JSON");
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new SafetensorsError("header is not a JSON object");
  }
  return { header, dataStart: 8 + headerLength };
}

/** One header entry, checked, and its values read from `data` (the bytes after the header). */
function readTensor(
  name: string,
  entry: unknown,
  data: Uint8Array,
): { tensor: Tensor; begin: number; end: number } {
  const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as Record<string, unknown>;
  if (dtype !== "F32" && dtype !== "F16" && dtype !== "I8") {
    throw new SafetensorsError(
      `${name}: dtype ${JSON.stringify(dtype)}, expected F32, F16 or I8`,
    );
  }
  const width = BYTES[dtype];
  const validShape = Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0);
  const validOffsets = Array.isArray(offsets) && offsets.length === 2 &&
    offsets.every((o) => Number.isInteger(o) && o >= 0) && offsets[0] <= offsets[1];
  if (!validShape || !validOffsets) {
    throw new SafetensorsError(`${name}: malformed shape or data_offsets`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > data.length) {
    throw new SafetensorsError(
      `${name}: its data ends at byte ${end} of ${data.length}: the file is truncated`,
    );
  }
  const size = (shape as number[]).reduce((a, b) => a * b, 1);
  if (end - begin !== size * width) {
    throw new SafetensorsError(
      `${name}: ${end - begin} bytes of data for shape [${shape}] (${size * width} expected)`,
    );
  }
  // the runtime's own conversions where they exist (F16: a fresh copy, so aligned for the 2-byte
  // view); a fresh isolate runs a loop of ours over 300,000 values in the interpreter, ~20 ms
  const values = dtype === "F16" && Half
    ? new Float32Array(new Half(data.slice(begin, end).buffer))
    : dtype === "I8"
    ? new Float32Array(new Int8Array(data.buffer, data.byteOffset + begin, size))
    : new Float32Array(size);
  const view = new DataView(data.buffer, data.byteOffset + begin, end - begin);
  if (dtype === "F32") { for (let i = 0; i < size; i++) values[i] = view.getFloat32(i * 4, true); }
  else if (dtype === "F16" && !Half) {
    for (let i = 0; i < size; i++) {
      values[i] = fromHalf(view.getUint16(i * 2, true));
    }
  }
  return { tensor: { shape: shape as number[], data: values, dtype }, begin, end };
}

/** The tensors' byte spans must tile the data exactly: no overlap, no gap, nothing left over. */
function checkTiling(spans: [number, number, string][], dataLength: number): void {
  spans.sort((a, b) => a[0] - b[0]);
  let covered = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== covered) {
      throw new SafetensorsError(`${name}: data overlaps or leaves a gap at byte ${covered}`);
    }
    covered = end;
  }
  if (covered !== dataLength) {
    throw new SafetensorsError(
      `${dataLength - covered} bytes of data belong to no tensor (truncated or padded file?)`,
    );
  }
}
