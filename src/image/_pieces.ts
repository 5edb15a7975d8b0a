/**
 * Lines of component groups → pieces: a group too wide to be one digit next to its line's height
 * (two or three digits written touching) is cut at the minima of its vertical projection, more cuts
 * than digits, so that some run of pieces is every digit; every ink pixel is given to one piece.
 */
import type { Box, Writing } from "./_ink.ts";
import type { Line } from "./_lines.ts";

/** A group wider than this many digit heights may be more than one digit (two touching 1s), so it is cut. */
export const SPLIT_FROM = 0.5;
/** A cut leaves at least this share of a digit height on each side. */
const MIN_PART = 0.18;
/** At most this many cuts in one group (a 6-digit number written as one stroke needs ~10). */
export const MAX_CUTS = 12;
/** At most this many pieces in a line: the largest are kept. */
export const MAX_PIECES_PER_LINE = 32;
/** Anti-aliased edge pixels are given to the piece of solid ink within this distance. */
const EDGE_REACH = 2;

/** One piece of writing: a group, or the part of a cut group between two cuts. */
export interface Piece {
  /** Inclusive bounds of its ink (edges included). */
  box: Box;
  /** Ink pixels. */
  area: number;
  /** Which group of its line it comes from, in the line's order. */
  group: number;
  /** Whether its left (right) edge is a cut through ink rather than the edge of its group. */
  cutLeft: boolean;
  cutRight: boolean;
  /** Only small marks: the reading may leave it out. */
  minor: boolean;
}

/** A line's pieces, left to right. */
export interface LinePieces {
  pieces: Piece[];
  digitHeight: number;
}

/** Every line's pieces and which piece each ink pixel belongs to. */
export interface Pieces {
  lines: LinePieces[];
  /**
   * Per pixel, [height, width]: the piece it belongs to, numbered through the lines in order
   * (line 0's pieces first), or -1.
   */
  owner: Int32Array;
}

/**
 * Cuts each line's groups into pieces and gives every ink pixel of the writing to one of them.
 *
 * @param writing The writing, as found on the working map.
 * @param lines Its lines, top to bottom.
 */
export function cutPieces(writing: Writing, lines: Line[]): Pieces {
  const { ink, labels } = writing;
  const { width, height } = ink;
  // Each component's line and group, then each group's cuts (sorted columns).
  const groupOf = new Map<number, { line: number; group: number }>();
  const cuts: number[][][] = lines.map((line, l) =>
    line.groups.map((g, k) => {
      for (const label of g.labels) groupOf.set(label, { line: l, group: k });
      return g.box.x1 - g.box.x0 + 1 > SPLIT_FROM * line.digitHeight
        ? cutColumns(writing, g.labels, g.box, line.digitHeight)
        : [];
    })
  );
  // Provisional piece numbers: through lines, groups and the parts between cuts.
  const base: number[][] = [];
  let count = 0;
  for (const [l, line] of lines.entries()) {
    base.push(line.groups.map((_, k) => {
      const first = count;
      count += cuts[l]![k]!.length + 1;
      return first;
    }));
  }
  const pieceAt = (label: number, x: number) => {
    const at = groupOf.get(label);
    if (!at) return -1;
    const columns = cuts[at.line]![at.group]!;
    let part = 0;
    while (part < columns.length && x >= columns[part]!) part++;
    return base[at.line]![at.group]! + part;
  };
  const owner = new Int32Array(width * height).fill(-1);
  const offsets = nearestFirst(EDGE_REACH);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (ink.data[i]! <= 0) continue;
      if (labels[i]! >= 0 && groupOf.has(labels[i]!)) {
        owner[i] = pieceAt(labels[i]!, x);
        continue;
      }
      for (const [dx, dy] of offsets) {
        const nx = x + dx, ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const label = labels[ny * width + nx]!;
        if (label >= 0 && groupOf.has(label)) {
          owner[i] = pieceAt(label, x);
          break;
        }
      }
    }
  }
  // Boxes and areas from the pixels; then pieces with no ink are dropped and the rest renumbered.
  const boxes = Array.from({ length: count }, () => ({ x0: width, y0: height, x1: -1, y1: -1 }));
  const areas = new Int32Array(count);
  for (let i = 0; i < owner.length; i++) {
    const p = owner[i]!;
    if (p < 0) continue;
    const x = i % width, y = (i - x) / width, b = boxes[p]!;
    if (x < b.x0) b.x0 = x;
    if (x > b.x1) b.x1 = x;
    if (y < b.y0) b.y0 = y;
    if (y > b.y1) b.y1 = y;
    areas[p]! += 1;
  }
  const renumber = new Int32Array(count).fill(-1);
  let next = 0;
  const result: LinePieces[] = lines.map((line, l) => {
    let pieces: (Piece & { id: number })[] = [];
    line.groups.forEach((g, k) => {
      const parts = cuts[l]![k]!.length + 1;
      for (let part = 0; part < parts; part++) {
        const id = base[l]![k]! + part;
        if (areas[id] === 0) continue;
        pieces.push({
          id,
          box: boxes[id]!,
          area: areas[id]!,
          group: k,
          cutLeft: part > 0,
          cutRight: part < parts - 1,
          minor: g.minor,
        });
      }
    });
    if (pieces.length > MAX_PIECES_PER_LINE) {
      const kept = new Set(
        [...pieces].sort((a, b) => b.area - a.area).slice(0, MAX_PIECES_PER_LINE),
      );
      pieces = pieces.filter((p) => kept.has(p));
    }
    for (const p of pieces) renumber[p.id] = next++;
    return {
      pieces: pieces.map(({ id: _, ...p }) => p),
      digitHeight: line.digitHeight,
    };
  });
  for (let i = 0; i < owner.length; i++) if (owner[i]! >= 0) owner[i] = renumber[owner[i]!]!;
  return { lines: result, owner };
}

/**
 * Where to cut a group: columns at local minima of its ink's vertical projection (smoothed over
 * three columns), the lowest first, at least {@linkcode MIN_PART} of a digit height from each other
 * and from the group's ends. A cut at column c puts c and what lies right of it in the right part.
 *
 * @returns At most {@linkcode MAX_CUTS} columns, ascending.
 */
export function cutColumns(
  writing: Writing,
  labels: readonly number[],
  box: Box,
  digitHeight: number,
): number[] {
  const { width } = writing.ink;
  const columns = box.x1 - box.x0 + 1;
  const inGroup = new Set(labels);
  const projection = new Float32Array(columns);
  for (let y = box.y0; y <= box.y1; y++) {
    for (let x = box.x0; x <= box.x1; x++) {
      if (inGroup.has(writing.labels[y * width + x]!)) projection[x - box.x0]! += 1;
    }
  }
  const smooth = projection.map((v, i) =>
    (v + (projection[i - 1] ?? v) + (projection[i + 1] ?? v)) / 3
  );
  const margin = Math.max(1, Math.round(MIN_PART * digitHeight));
  const minima: number[] = [];
  for (let i = margin; i <= columns - margin; i++) {
    const v = smooth[i]!;
    if (v <= (smooth[i - 1] ?? Infinity) && v <= (smooth[i + 1] ?? Infinity)) minima.push(i);
  }
  minima.sort((a, b) => smooth[a]! - smooth[b]! || a - b);
  const chosen: number[] = [];
  for (const i of minima) {
    if (chosen.length >= MAX_CUTS) break;
    if (chosen.every((c) => Math.abs(c - i) >= margin)) chosen.push(i);
  }
  return chosen.sort((a, b) => a - b).map((i) => box.x0 + i);
}

/** Offsets within `radius` (Chebyshev), nearest first. */
function nearestFirst(radius: number): [number, number][] {
  const offsets: [number, number][] = [];
  for (let dy = -radius; dy <= radius; dy++) {
    for (let dx = -radius; dx <= radius; dx++) if (dx !== 0 || dy !== 0) offsets.push([dx, dy]);
  }
  return offsets.sort((a, b) => Math.hypot(...a) - Math.hypot(...b));
}
