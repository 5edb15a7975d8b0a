/**
 * Counting a multipart delimiter in a body's bytes in one pass (Knuth–Morris–Pratt): a body built to
 * nearly match the delimiter everywhere costs no more than any other.
 */

/** How many times a delimiter occurs, and the byte comparisons it took to find out. */
export interface DelimiterCount {
  count: number;
  comparisons: number;
}

/**
 * Counts the non-overlapping occurrences of `needle` in `haystack`, stopping at `stopAfter`; at most
 * 2 comparisons a byte of `haystack`, whatever the bytes.
 *
 * @param haystack The bytes searched.
 * @param needle What is counted: 1 or more bytes.
 * @param stopAfter The count at which the search stops.
 * @returns The count (at most `stopAfter`) and the comparisons made.
 */
export function countDelimiters(
  haystack: Uint8Array,
  needle: Uint8Array,
  stopAfter: number,
): DelimiterCount {
  const n = needle.length;
  if (n === 0) throw new RangeError("'needle' must hold at least 1 byte: current length is 0");
  // fallback[i]: the longest proper prefix of needle[0..i] that is also its suffix.
  const fallback = new Int32Array(n);
  for (let i = 1, k = 0; i < n; i++) {
    while (k > 0 && needle[i] !== needle[k]) k = fallback[k - 1]!;
    if (needle[i] === needle[k]) k++;
    fallback[i] = k;
  }
  let count = 0, comparisons = 0, matched = 0;
  for (let i = 0; i < haystack.length && count < stopAfter; i++) {
    const byte = haystack[i];
    for (;;) {
      comparisons++;
      if (byte === needle[matched]) {
        matched++;
        break;
      }
      if (matched === 0) break;
      matched = fallback[matched - 1]!;
    }
    if (matched === n) {
      count++;
      matched = 0; // occurrences do not overlap: the next starts after this one
    }
  }
  return { count, comparisons };
}
