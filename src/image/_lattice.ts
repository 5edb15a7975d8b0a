/**
 * Pieces → the lattice of candidate digits (each a run of consecutive pieces of one line, in MNIST's
 * format) and the best path through it once the model has scored every candidate.
 *
 * A path through a line of n pieces goes from node 0 to node n; an edge from node a to node b + 1
 * reads pieces a … b as one digit. Its score is the log-probability of the candidate's best digit
 * and of its being a digit at all, plus a bonus per digit, less the penalties its making cost (a
 * cut through ink used as a digit's edge, pieces of different groups put together) and its shape
 * (much shorter or wider than the line's digits).
 */
import type { Pieces } from "./_pieces.ts";
import { marginWindow } from "./_resample.ts";
import { toMnist } from "./preprocess.ts";
import type { FloatMap, MapBox } from "./types.ts";

/** The most candidates one image may ask the model to score (one forward pass of them). */
export const MAX_CANDIDATES = 256;
/**
 * A candidate is at most this many pieces (a digit of a touching pair may be cut into several). On
 * 1,200 numbers from MNIST training digits, 5 read 1,069 exactly against 1,063 with 4; longer runs
 * add candidates, all still within {@linkcode MAX_CANDIDATES}.
 */
export const MAX_RUN = 5;
/** …at most this many digit heights wide (a whole 0 is about 0.9; two digits side by side 1.2+). */
const MAX_WIDTH = 1.3;
/** …with no gap wider than this share of a digit height between pieces of different groups. */
const MAX_GAP = 0.3;
/**
 * A candidate with a cut for an edge is at least this many digit heights tall: the end of a bar cut
 * off is no digit. Such a piece may be left out of the reading instead.
 */
const MIN_CUT_HEIGHT = 0.5;
/** A digit is rarely shorter than this many of its line's digit heights (a cut-off loop is)… */
const SHORT_FROM = 0.7;
/** …or wider than this many (two digits side by side are). */
const WIDE_FROM = 1;

/** How a path is scored (tuned on written numbers from MNIST training digits). */
export interface PathWeights {
  /**
   * Added to every digit read: how a reading's length is weighed against its digits'
   * log-probabilities (≤ 0), between one digit read as two slivers and two digits read as one.
   */
  digitBonus: number;
  /** Charged for a cut through ink used as the left edge of a digit. */
  cut: number;
  /** Charged for each join of pieces of different groups into one digit. */
  merge: number;
  /** Charged for leaving a small mark out of the reading. */
  skip: number;
  /** Weight of the log-probability that the candidate is a digit at all (1 − "not a digit"). */
  notDigit: number;
  /** Charged per digit height a candidate is shorter than {@linkcode SHORT_FROM} of one. */
  short: number;
  /** Charged per digit height a candidate is wider than {@linkcode WIDE_FROM} of one. */
  wide: number;
}

/**
 * Chosen for the reader, mnist-cnn2-read, by coordinate search on 1,200 written numbers from MNIST
 * training digits (`eval:numbers --source train`, seeds 16, 1, 2, 3): 91.4% read exactly there,
 * against 90.3% with the weights tuned earlier for mnist-cnn2; tuned on either half and read on the
 * other, 90.9% (mnist-cnn2 with its own weights: 89.2%). With "not a digit" weighed, a cut needs
 * little charge of its own: a sliver cut off is rarely a likely digit. A piece that may be left out
 * (a mark under half a digit height) is then never read as a digit by itself: its digit's charge
 * and shape cost more than leaving it out; it is read as part of a larger candidate.
 */
export const PATH_WEIGHTS: Readonly<PathWeights> = {
  digitBonus: -1,
  cut: 0.25,
  merge: 1,
  skip: 1,
  notDigit: 2,
  short: 1,
  wide: 3,
};
/** The smallest probability counted, so an impossible reading still has a finite score. */
const FLOOR = 1e-6;

/** One way to read pieces `from` … `to − 1` of a line as one digit. */
export interface LatticeEdge {
  from: number;
  to: number;
  /** The candidate's index in the segmentation. */
  candidate: number;
  /** Cuts through ink it uses as its left edge (0 or 1). */
  cuts: number;
  /** Joins of pieces of different groups it makes. */
  joins: number;
  /** Its ink's width and height, in digit heights of its line. */
  width: number;
  height: number;
}

/** What the model says of one candidate, as the path weighs it. */
export interface CandidateOdds {
  /** The probability of its likeliest digit. */
  digit: number;
  /** The probability that it is not a digit (0 for a model without that class). */
  notDigit: number;
}

/** A line's lattice: its pieces, the edges over them, and which pieces may be left out. */
export interface LineLattice {
  pieces: number;
  edges: LatticeEdge[];
  skippable: boolean[];
}

/**
 * Every candidate of every line, built in order of size (all single pieces first) until
 * {@linkcode MAX_CANDIDATES}, each with its 28×28 image.
 *
 * @param ink The writing's ink map (0 … 255).
 * @param pieces The pieces of every line and the owner of every ink pixel.
 */
export function buildLattice(
  ink: FloatMap,
  pieces: Pieces,
): { candidates: { box: MapBox; pixels: Uint8ClampedArray }[]; lines: LineLattice[] } {
  const candidates: { box: MapBox; pixels: Uint8ClampedArray }[] = [];
  const lines: LineLattice[] = pieces.lines.map((line) => ({
    pieces: line.pieces.length,
    edges: [],
    skippable: line.pieces.map((p) =>
      p.minor || p.box.y1 - p.box.y0 + 1 < MIN_CUT_HEIGHT * line.digitHeight
    ),
  }));
  let first = 0;
  const firsts = pieces.lines.map((line) => (first += line.pieces.length) - line.pieces.length);
  for (let run = 1; run <= MAX_RUN; run++) {
    for (const [l, line] of pieces.lines.entries()) {
      const h = line.digitHeight;
      for (let a = 0; a + run <= line.pieces.length; a++) {
        if (candidates.length >= MAX_CANDIDATES) break;
        const b = a + run - 1;
        const start = line.pieces[a]!;
        const box = { ...start.box };
        const cuts = start.cutLeft ? 1 : 0;
        let joins = 0;
        let allowed = true;
        for (let i = a + 1; i <= b && allowed; i++) {
          const p = line.pieces[i]!;
          if (p.group !== line.pieces[i - 1]!.group) {
            allowed = p.box.x0 - box.x1 <= MAX_GAP * h;
            joins++;
          }
          box.x0 = Math.min(box.x0, p.box.x0);
          box.y0 = Math.min(box.y0, p.box.y0);
          box.x1 = Math.max(box.x1, p.box.x1);
          box.y1 = Math.max(box.y1, p.box.y1);
        }
        if (run > 1 && (!allowed || box.x1 - box.x0 + 1 > MAX_WIDTH * h)) continue;
        const cut = start.cutLeft || line.pieces[b]!.cutRight;
        if (cut && box.y1 - box.y0 + 1 < MIN_CUT_HEIGHT * h) continue;
        const mapBox = {
          x: box.x0,
          y: box.y0,
          width: box.x1 - box.x0 + 1,
          height: box.y1 - box.y0 + 1,
        };
        lines[l]!.edges.push({
          from: a,
          to: b + 1,
          candidate: candidates.length,
          cuts,
          joins,
          width: mapBox.width / h,
          height: mapBox.height / h,
        });
        candidates.push({
          box: mapBox,
          pixels: candidateImage(ink, pieces.owner, mapBox, firsts[l]! + a, firsts[l]! + b),
        });
      }
    }
  }
  for (const line of lines) line.edges.sort((x, y) => x.from - y.from);
  return { candidates, lines };
}

/** The ink of pieces `first` … `last` alone (nothing else near them), in MNIST's format. */
function candidateImage(
  ink: FloatMap,
  owner: Int32Array,
  box: MapBox,
  first: number,
  last: number,
): Uint8ClampedArray {
  // The box and the margin strokes may be widened into: toMnist reads no further.
  const { x0, y0, width, height } = marginWindow(box, ink);
  const data = new Float32Array(width * height);
  for (let y = box.y; y < box.y + box.height; y++) {
    for (let x = box.x; x < box.x + box.width; x++) {
      const i = y * ink.width + x, o = owner[i]!;
      if (o >= first && o <= last) data[(y - y0) * width + x - x0] = ink.data[i]!;
    }
  }
  return toMnist({ width, height, data }, { ...box, x: box.x - x0, y: box.y - y0 });
}

/**
 * The best path through a line's lattice.
 *
 * @param line The line's lattice.
 * @param odds Per candidate, what the model says of it.
 * @param weights The bonus and penalties.
 * @returns The chosen candidates, left to right.
 */
export function scorePath(
  line: LineLattice,
  odds: readonly CandidateOdds[],
  weights: PathWeights = PATH_WEIGHTS,
): number[] {
  const n = line.pieces;
  const score = new Float64Array(n + 1).fill(-Infinity);
  const via = new Int32Array(n + 1).fill(-2); // the edge index that reached a node; -1: a skip
  score[0] = 0;
  let e = 0;
  for (let node = 0; node < n; node++) {
    const here = score[node]!;
    for (; e < line.edges.length && line.edges[e]!.from === node; e++) {
      const edge = line.edges[e]!;
      if (here === -Infinity) continue;
      const s = here + edgeScore(edge, odds[edge.candidate]!, weights);
      if (s > score[edge.to]!) {
        score[edge.to] = s;
        via[edge.to] = e;
      }
    }
    if (line.skippable[node] && here - weights.skip > score[node + 1]!) {
      score[node + 1] = here - weights.skip;
      via[node + 1] = -1;
    }
  }
  const path: number[] = [];
  for (let node = n; node > 0;) {
    const edge = via[node]!;
    if (edge === -2) return []; // unreachable: no candidate covers some piece
    if (edge === -1) node--;
    else {
      path.push(line.edges[edge]!.candidate);
      node = line.edges[edge]!.from;
    }
  }
  return path.reverse();
}

/** What reading one edge's candidate as a digit adds to a path's score. */
function edgeScore(edge: LatticeEdge, odds: CandidateOdds, weights: PathWeights): number {
  return Math.log(Math.max(FLOOR, odds.digit)) +
    weights.notDigit * Math.log(Math.max(FLOOR, 1 - odds.notDigit)) + weights.digitBonus -
    edge.cuts * weights.cut - edge.joins * weights.merge -
    weights.short * Math.max(0, SHORT_FROM - edge.height) -
    weights.wide * Math.max(0, edge.width - WIDE_FROM);
}
