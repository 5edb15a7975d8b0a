/**
 * A GIF's first frame to RGBA through omggif, after checking the two things omggif trusts: that the
 * frame lies inside the logical screen (the size check read the screen; a 65535×65535 frame would have
 * omggif loop over 4 G pixels), and that no LZW code names a table entry not made yet (a corrupt stream
 * could otherwise link omggif's code table into a cycle, which it then chases forever).
 */
// GIF in pure JS without Node built-ins; we read the first frame only.
import { GifReader } from "omggif";
import { ImageError } from "./errors.ts";
import type { RgbaImage } from "./types.ts";

/** Decodes a GIF (already sniffed and size-checked) to RGBA: its first frame on the logical screen. */
export function decodeGif(bytes: Uint8Array): RgbaImage {
  const gif = new GifReader(bytes);
  const frame = gif.frameInfo(0);
  if (frame.x + frame.width > gif.width || frame.y + frame.height > gif.height) {
    throw new ImageError(
      "invalid_image",
      `The gif's first frame (${frame.width}×${frame.height} at ${frame.x},${frame.y}) does not fit its ${gif.width}×${gif.height} screen`,
    );
  }
  checkLzwCodes(bytes, frame.data_offset);
  const data = new Uint8ClampedArray(gif.width * gif.height * 4);
  gif.decodeAndBlitFrameRGBA(0, data);
  return { width: gif.width, height: gif.height, data };
}

/**
 * Walks a frame's LZW codes as omggif reads them (same bits, same code-size growth) and refuses a code
 * above the next free entry: the one way omggif's table gets a cycle.
 */
function checkLzwCodes(stream: Uint8Array, start: number): void {
  let p = start;
  const minCodeSize = stream[p++] ?? 0;
  if (minCodeSize < 1 || minCodeSize > 11) {
    throw new ImageError("invalid_image", `The gif's LZW code size ${minCodeSize} is not 1–11`);
  }
  const clearCode = 1 << minCodeSize, eoiCode = clearCode + 1;
  let nextCode = eoiCode + 1, codeSize = minCodeSize + 1, mask = (1 << codeSize) - 1;
  let bits = 0, bitCount = 0, blockLeft = stream[p++] ?? 0, first = true;
  while (true) {
    while (bitCount < 16 && blockLeft !== 0) {
      if (p >= stream.length) return; // omggif reads zeros from here: literals, harmless
      bits |= stream[p++]! << bitCount;
      bitCount += 8;
      blockLeft = blockLeft === 1 ? stream[p++] ?? 0 : blockLeft - 1;
    }
    if (bitCount < codeSize) return;
    const code = bits & mask;
    bits >>= codeSize;
    bitCount -= codeSize;
    if (code === clearCode) {
      nextCode = eoiCode + 1;
      codeSize = minCodeSize + 1;
      mask = (1 << codeSize) - 1;
      first = true;
      continue;
    }
    if (code === eoiCode) return;
    // Above the next entry, or the next entry itself with no previous code to build it from.
    if (code > nextCode || (code === nextCode && first)) {
      throw new ImageError("invalid_image", "The gif's LZW data is corrupt");
    }
    if (!first && nextCode < 4096) {
      nextCode++;
      if (nextCode >= mask + 1 && codeSize < 12) {
        codeSize++;
        mask = mask << 1 | 1;
      }
    }
    first = false;
  }
}
