/**
 * A strict reader for the IDX files MNIST ships in (http://yann.lecun.com/exdb/mnist/): a 4-byte magic
 * (0, 0, type 0x08 = unsigned byte, number of dimensions), one big-endian uint32 per dimension, then
 * the data. Anything off — magic, dimensions, size, label range — is an `IdxError` naming the file.
 */

/** A problem with one data file, said in one line. */
export class IdxError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = "IdxError";
  }
}

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** [count, rows, cols] bytes, 0 = background, 255 = ink. */
  pixels: Uint8Array;
}

const UBYTE = 0x08;
const IMAGES_MAGIC = 0x00000803; // ubyte, 3 dimensions
const LABELS_MAGIC = 0x00000801; // ubyte, 1 dimension

function readHeader(bytes: Uint8Array, file: string, magic: number, rank: number): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = bytes.length >= 4 ? view.getUint32(0) : -1;
  if (found !== magic) {
    const hex = (m: number) => `0x${m.toString(16).padStart(8, "0")}`;
    if (found < 0) {
      throw new IdxError(file, `truncated: ${bytes.length} bytes, not even a magic number`);
    }
    const what = (found >>> 16) === 0 && ((found >>> 8) & 0xff) !== UBYTE
      ? "an IDX file of another data type"
      : "not an IDX file of this kind";
    throw new IdxError(file, `bad magic number ${hex(found)}, expected ${hex(magic)} (${what})`);
  }
  const headerSize = 4 + 4 * rank;
  if (bytes.length < headerSize) {
    throw new IdxError(
      file,
      `truncated: ${bytes.length} bytes, shorter than its ${headerSize}-byte header`,
    );
  }
  return Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
}

function checkSize(bytes: Uint8Array, file: string, headerSize: number, dataSize: number): void {
  const expected = headerSize + dataSize;
  if (bytes.length < expected) {
    throw new IdxError(file, `truncated: ${bytes.length} bytes, its header promises ${expected}`);
  }
  if (bytes.length > expected) {
    throw new IdxError(
      file,
      `${bytes.length - expected} unexpected bytes after the data (${expected} expected)`,
    );
  }
}

/** Parses an IDX3 image file; `expect` pins the count and the 28×28 size where the caller knows them. */
export function parseIdxImages(
  bytes: Uint8Array,
  file: string,
  expect: { count?: number; rows?: number; cols?: number } = {},
): IdxImages {
  const [count, rows, cols] = readHeader(bytes, file, IMAGES_MAGIC, 3) as [number, number, number];
  if (rows === 0 || cols === 0) throw new IdxError(file, `images of ${rows}×${cols} pixels`);
  if ((expect.rows ?? rows) !== rows || (expect.cols ?? cols) !== cols) {
    throw new IdxError(file, `images are ${rows}×${cols}, expected ${expect.rows}×${expect.cols}`);
  }
  if (expect.count !== undefined && count !== expect.count) {
    throw new IdxError(file, `${count} images, expected ${expect.count}`);
  }
  checkSize(bytes, file, 16, count * rows * cols);
  return { count, rows, cols, pixels: bytes.subarray(16) };
}

/** Parses an IDX1 label file; every label must be a digit 0–9. */
export function parseIdxLabels(
  bytes: Uint8Array,
  file: string,
  expect: { count?: number } = {},
): Uint8Array {
  const [count] = readHeader(bytes, file, LABELS_MAGIC, 1) as [number];
  if (expect.count !== undefined && count !== expect.count) {
    throw new IdxError(file, `${count} labels, expected ${expect.count}`);
  }
  checkSize(bytes, file, 8, count);
  const labels = bytes.subarray(8);
  const bad = labels.findIndex((l) => l > 9);
  if (bad >= 0) throw new IdxError(file, `label ${labels[bad]} at index ${bad} is not a digit 0–9`);
  return labels;
}
