/**
 * Bounds what JSON.parse may build from a body, in one pass over its bytes before it is parsed: how
 * deep arrays and objects nest, and how many values they hold (the commas outside strings).
 */
import { ApiError } from "./api_error.ts";

/** What {@linkcode checkJsonCost} allows. */
export interface JsonCost {
  /** Deepest nesting of arrays and objects. */
  maxDepth: number;
  /** Most commas outside strings (values and members, less one per array or object). */
  maxCommas: number;
}

/**
 * Refuses JSON nested deeper, or holding more values, than `cost` allows. Quotes and backslashes
 * are ASCII, never part of a multi-byte UTF-8 character, so strings are skipped byte by byte; a
 * body that is not JSON at all is left for JSON.parse to refuse.
 *
 * @param bytes The body, UTF-8.
 * @param cost The deepest nesting and the most commas allowed.
 * @param expected What the body should be, for the error message.
 * @throws ApiError 400 `invalid_json` at the first byte past either bound.
 */
export function checkJsonCost(bytes: Uint8Array, cost: JsonCost, expected: string): void {
  let depth = 0, commas = 0, inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (inString) {
      if (byte === 0x5c) i++; // \ escapes the next byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x7b || byte === 0x5b) {
      if (++depth > cost.maxDepth) {
        throw new ApiError(
          400,
          "invalid_json",
          `JSON nested deeper than ${cost.maxDepth} levels at byte ${i}: ${expected}`,
        );
      }
    } else if (byte === 0x7d || byte === 0x5d) depth--;
    else if (byte === 0x2c && ++commas > cost.maxCommas) {
      throw new ApiError(
        400,
        "invalid_json",
        `JSON with more than ${cost.maxCommas + 1} values: ${expected}`,
      );
    }
  }
}
