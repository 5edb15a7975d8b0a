/**
 * The writing's components → lines of writing, top to bottom, each a row of component groups left to
 * right (a group: the components of one stroke set that surely belong together: a 5 with its top bar
 * apart, a 4 drawn in two strokes, a dot). Specks and paper texture far from any writing are dropped.
 */
import type { Box, InkComponent, Writing } from "./_ink.ts";

/** Only the largest components are looked at: a noisy page cannot make the work grow. */
export const MAX_COMPONENTS = 128;
/** At most this many lines are read (those with the most ink), in order top to bottom. */
export const MAX_LINES = 8;
/**
 * A component at least this share of the tallest one's height is a stroke that can make a line; a
 * shorter one (a 5's bar, a dot, a speck) only joins one.
 */
const MAJOR_HEIGHT = 0.35;
/** Two strokes are on one line when their heights overlap by this share of the shorter. */
const LINE_OVERLAP = 0.3;
/** A small mark joins the line of the nearest stroke within this share of its height, else is dropped. */
const MINOR_REACH = 0.5;
/** Marks that overlap horizontally by this share of the narrower one are pieces of one digit… */
const SAME_DIGIT_OVERLAP = 0.6;
/** …and so is a short mark (a 5's bar, a dot: under this share of the other's height)… */
const SHORT_MARK = 0.4;
/** …that overlaps the other horizontally by this share of its own width. */
const SHORT_MARK_OVERLAP = 0.3;

/** Components that surely make one digit, with their bounding box (inclusive). */
export interface Group {
  labels: number[];
  box: Box;
  /** The sum of its components' areas. */
  area: number;
  /** Only small marks (no stroke that made the line): the reading may leave it out. */
  minor: boolean;
}

/** One line of writing: its groups left to right and the height of a digit on it. */
export interface Line {
  groups: Group[];
  /** The median height of its strokes: what "one digit wide" is measured against. */
  digitHeight: number;
}

/**
 * Groups the writing's components into lines (by vertical overlap, each stroke compared with the
 * last one on the line to its left, so a sloping baseline stays one line), attaches small marks to
 * the line of the nearest stroke, and merges marks that overlap horizontally into one group.
 *
 * @returns Lines top to bottom; at least one when `writing` holds any writing.
 */
export function findLines(writing: Writing): Line[] {
  const components = writingComponents(writing);
  let tallest = 0;
  for (const { c } of components) tallest = Math.max(tallest, c.y1 - c.y0 + 1);
  const isMajor = ({ c }: Labelled) => c.y1 - c.y0 + 1 >= MAJOR_HEIGHT * tallest;
  const majors = components.filter(isMajor).sort((a, b) => a.c.x0 - b.c.x0);
  const minors = components.filter((l) => !isMajor(l));

  // Strokes left to right: each joins the line whose last stroke it overlaps most in height.
  const rows: Labelled[][] = [];
  for (const m of majors) {
    let bestRow = -1, bestOverlap = 0;
    rows.forEach((row, r) => {
      const last = row[row.length - 1]!.c;
      const overlap = Math.min(last.y1, m.c.y1) - Math.max(last.y0, m.c.y0) + 1;
      const shorter = Math.min(last.y1 - last.y0, m.c.y1 - m.c.y0) + 1;
      if (overlap >= LINE_OVERLAP * shorter && overlap > bestOverlap) {
        bestRow = r;
        bestOverlap = overlap;
      }
    });
    if (bestRow < 0) rows.push([m]);
    else rows[bestRow]!.push(m);
  }
  // Small marks: with the nearest stroke, when it is near enough.
  const extra: Labelled[][] = rows.map(() => []);
  for (const m of minors) {
    let bestRow = -1, bestDistance = Infinity;
    rows.forEach((row, r) => {
      for (const s of row) {
        const d = boxDistance(m.c, s.c);
        if (d <= MINOR_REACH * (s.c.y1 - s.c.y0 + 1) && d < bestDistance) {
          bestRow = r;
          bestDistance = d;
        }
      }
    });
    if (bestRow >= 0) extra[bestRow]!.push(m);
  }
  let lines = rows.map((row, r) => toLine(row, extra[r]!));
  if (lines.length > MAX_LINES) {
    lines = lines.sort((a, b) => inkOf(b) - inkOf(a)).slice(0, MAX_LINES);
  }
  return lines.sort((a, b) => middle(a) - middle(b));
}

interface Labelled {
  label: number;
  c: InkComponent;
}

/** The writing's components, the largest {@linkcode MAX_COMPONENTS} of them. */
function writingComponents(writing: Writing): Labelled[] {
  const all: Labelled[] = [];
  writing.components.forEach((c, label) => {
    if (writing.writing[label] === 1) all.push({ label, c });
  });
  if (all.length <= MAX_COMPONENTS) return all;
  return all.sort((a, b) => b.c.area - a.c.area).slice(0, MAX_COMPONENTS);
}

/** A line's groups: marks that overlap horizontally merged, then sorted by their centres. */
function toLine(strokes: Labelled[], marks: Labelled[]): Line {
  const groups: Group[] = [
    ...strokes.map((s) => group(s, false)),
    ...marks.map((m) => group(m, true)),
  ];
  // Merge until no two groups overlap enough; a line holds at most MAX_COMPONENTS groups.
  for (let merged = true; merged;) {
    merged = false;
    groups.sort((a, b) => a.box.x0 - b.box.x0);
    for (let i = 0; i < groups.length && !merged; i++) {
      for (let j = i + 1; j < groups.length && groups[j]!.box.x0 <= groups[i]!.box.x1; j++) {
        const a = groups[i]!, b = groups[j]!;
        if (!sameDigit(a.box, b.box)) continue;
        groups[i] = join(a, b);
        groups.splice(j, 1);
        merged = true;
        break;
      }
    }
  }
  groups.sort((a, b) => a.box.x0 + a.box.x1 - (b.box.x0 + b.box.x1));
  const heights = strokes.map((s) => s.c.y1 - s.c.y0 + 1).sort((a, b) => a - b);
  return { groups, digitHeight: heights[heights.length >> 1] ?? 1 };
}

/** Whether two marks on a line overlap horizontally enough to be pieces of one digit. */
function sameDigit(a: Box, b: Box): boolean {
  const overlap = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0) + 1;
  const [wa, wb] = [a.x1 - a.x0 + 1, b.x1 - b.x0 + 1];
  if (overlap >= SAME_DIGIT_OVERLAP * Math.min(wa, wb)) return true;
  const [ha, hb] = [a.y1 - a.y0 + 1, b.y1 - b.y0 + 1];
  return (ha < SHORT_MARK * hb && overlap >= SHORT_MARK_OVERLAP * wa) ||
    (hb < SHORT_MARK * ha && overlap >= SHORT_MARK_OVERLAP * wb);
}

function group({ label, c }: Labelled, minor: boolean): Group {
  return { labels: [label], box: { x0: c.x0, y0: c.y0, x1: c.x1, y1: c.y1 }, area: c.area, minor };
}

function join(a: Group, b: Group): Group {
  return {
    labels: [...a.labels, ...b.labels],
    box: {
      x0: Math.min(a.box.x0, b.box.x0),
      y0: Math.min(a.box.y0, b.box.y0),
      x1: Math.max(a.box.x1, b.box.x1),
      y1: Math.max(a.box.y1, b.box.y1),
    },
    area: a.area + b.area,
    minor: a.minor && b.minor,
  };
}

/** The gap between two boxes (0 when they touch or overlap), the larger of across and down. */
function boxDistance(a: Box, b: Box): number {
  const dx = Math.max(0, a.x0 - b.x1, b.x0 - a.x1);
  const dy = Math.max(0, a.y0 - b.y1, b.y0 - a.y1);
  return Math.max(dx, dy);
}

function inkOf(line: Line): number {
  return line.groups.reduce((sum, g) => sum + g.area, 0);
}

function middle(line: Line): number {
  let sum = 0, weight = 0;
  for (const g of line.groups) {
    sum += g.area * (g.box.y0 + g.box.y1) / 2;
    weight += g.area;
  }
  return weight > 0 ? sum / weight : 0;
}
