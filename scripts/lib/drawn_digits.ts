/**
 * Digits as people draw them on a pad: one or two strokes each, in the order a hand moves, each digit
 * placed off-centre and filling only part of the pad. Strokes are polylines through a few key points,
 * smoothed into curves the way a moving hand makes them.
 *
 * Coordinates: a stroke's points are in the digit's own box, x and y from 0 to 1 (y down); `place`
 * puts that box on the pad, also as fractions of the pad's side.
 */

/** A point [x, y]. */
export type Point = [number, number];

/** One digit as drawn: its strokes and where on the pad its box sits. */
export interface DrawnDigit {
  digit: number;
  /** How this one is drawn, for reports. */
  style: string;
  /** Each stroke is one press-move-release. */
  strokes: Point[][];
  /** The digit's box on the pad: top-left corner and height, as fractions of the pad's side. */
  place: { left: number; top: number; height: number };
}

/** Digits are narrower than tall: the box's width is this fraction of its height. */
const ASPECT = 0.7;

/** Points along an ellipse from angle `from` for `turns` turns (negative: anticlockwise on screen). */
function loop(
  centre: Point,
  radii: Point,
  from: number,
  turns: number,
  points = 12,
): Point[] {
  return Array.from({ length: points + 1 }, (_, i) => {
    const angle = from + (i / points) * turns * 2 * Math.PI;
    return [centre[0] + radii[0] * Math.cos(angle), centre[1] + radii[1] * Math.sin(angle)];
  });
}

const TOP = -Math.PI / 2;

/**
 * Two of every digit in different hands — plain and with the variants people write (a serif 1, a
 * crossed 7, a closed 4, a looped 2, an 8 of two circles…) — each in its own size and place; none
 * centred, none filling the pad.
 */
export const DRAWN_DIGITS: DrawnDigit[] = [
  {
    digit: 0,
    style: "oval, anticlockwise from the top, overshooting",
    strokes: [[
      [0.5, 0.02],
      [0.18, 0.15],
      [0.03, 0.5],
      [0.18, 0.88],
      [0.5, 0.99],
      [0.82, 0.86],
      [0.96, 0.5],
      [0.82, 0.13],
      [0.5, 0.02],
      [0.42, 0.06],
    ]],
    place: { left: 0.14, top: 0.1, height: 0.5 },
  },
  {
    digit: 1,
    style: "a plain slanted bar",
    strokes: [[[0.62, 0.0], [0.55, 0.35], [0.47, 0.7], [0.42, 1.0]]],
    place: { left: 0.45, top: 0.35, height: 0.55 },
  },
  {
    digit: 2,
    style: "round top, straight base",
    strokes: [[
      [0.1, 0.25],
      [0.3, 0.05],
      [0.6, 0.0],
      [0.85, 0.15],
      [0.82, 0.38],
      [0.55, 0.62],
      [0.1, 0.97],
      [0.5, 0.95],
      [0.95, 0.97],
    ]],
    place: { left: 0.08, top: 0.4, height: 0.45 },
  },
  {
    digit: 3,
    style: "two bumps",
    strokes: [[
      [0.12, 0.12],
      [0.45, 0.0],
      [0.8, 0.1],
      [0.78, 0.32],
      [0.4, 0.47],
      [0.8, 0.6],
      [0.88, 0.82],
      [0.55, 1.0],
      [0.1, 0.9],
    ]],
    place: { left: 0.5, top: 0.12, height: 0.55 },
  },
  {
    digit: 4,
    style: "open top, two strokes",
    strokes: [
      [[0.3, 0.0], [0.15, 0.35], [0.05, 0.62], [0.5, 0.62], [0.95, 0.6]],
      [[0.72, 0.15], [0.7, 0.6], [0.68, 1.0]],
    ],
    place: { left: 0.3, top: 0.06, height: 0.5 },
  },
  {
    digit: 5,
    style: "body first, then the top bar",
    strokes: [
      [
        [0.25, 0.02],
        [0.2, 0.45],
        [0.5, 0.38],
        [0.8, 0.5],
        [0.85, 0.75],
        [0.65, 0.95],
        [0.35, 0.98],
        [0.1, 0.88],
      ],
      [[0.25, 0.02], [0.55, 0.02], [0.88, 0.0]],
    ],
    place: { left: 0.12, top: 0.38, height: 0.5 },
  },
  {
    digit: 6,
    style: "curl then loop",
    strokes: [[
      [0.75, 0.0],
      [0.4, 0.2],
      [0.15, 0.55],
      [0.18, 0.85],
      [0.45, 1.0],
      [0.75, 0.88],
      [0.8, 0.65],
      [0.55, 0.5],
      [0.28, 0.56],
      [0.16, 0.72],
    ]],
    place: { left: 0.55, top: 0.3, height: 0.5 },
  },
  {
    digit: 7,
    style: "plain",
    strokes: [[[0.05, 0.05], [0.5, 0.03], [0.95, 0.02], [0.65, 0.5], [0.4, 1.0]]],
    place: { left: 0.2, top: 0.15, height: 0.55 },
  },
  {
    digit: 8,
    style: "one stroke, crossing in the middle",
    strokes: [[
      [0.78, 0.15],
      [0.5, 0.0],
      [0.2, 0.12],
      [0.28, 0.35],
      [0.5, 0.48],
      [0.78, 0.65],
      [0.75, 0.9],
      [0.5, 1.0],
      [0.22, 0.9],
      [0.22, 0.65],
      [0.5, 0.48],
      [0.72, 0.32],
      [0.78, 0.15],
    ]],
    place: { left: 0.4, top: 0.42, height: 0.52 },
  },
  {
    digit: 9,
    style: "loop then a curved stem",
    strokes: [[
      [0.82, 0.18],
      [0.55, 0.0],
      [0.22, 0.08],
      [0.15, 0.3],
      [0.35, 0.46],
      [0.65, 0.42],
      [0.82, 0.2],
      [0.78, 0.6],
      [0.72, 1.0],
    ]],
    place: { left: 0.08, top: 0.08, height: 0.55 },
  },
  {
    digit: 0,
    style: "small, clockwise, not quite closed, bottom-right",
    strokes: [loop([0.5, 0.5], [0.42, 0.48], TOP, 0.95)],
    place: { left: 0.6, top: 0.55, height: 0.35 },
  },
  {
    digit: 1,
    style: "with a serif and a base",
    strokes: [[[0.25, 0.22], [0.55, 0.0], [0.55, 0.5], [0.55, 1.0]], [[0.2, 1.0], [0.9, 1.0]]],
    place: { left: 0.2, top: 0.2, height: 0.55 },
  },
  {
    digit: 2,
    style: "with a loop at the bottom",
    strokes: [[
      [0.1, 0.2],
      [0.45, 0.0],
      [0.85, 0.2],
      [0.7, 0.5],
      [0.2, 0.9],
      [0.1, 1.0],
      [0.3, 0.85],
      [0.5, 0.95],
      [0.95, 0.95],
    ]],
    place: { left: 0.5, top: 0.1, height: 0.45 },
  },
  {
    digit: 3,
    style: "flat top",
    strokes: [[
      [0.1, 0.0],
      [0.85, 0.0],
      [0.45, 0.4],
      [0.8, 0.55],
      [0.85, 0.8],
      [0.5, 1.0],
      [0.1, 0.88],
    ]],
    place: { left: 0.1, top: 0.45, height: 0.5 },
  },
  {
    digit: 4,
    style: "closed top",
    strokes: [[[0.65, 0.0], [0.05, 0.65], [0.95, 0.65]], [[0.65, 0.0], [0.65, 1.0]]],
    place: { left: 0.55, top: 0.4, height: 0.5 },
  },
  {
    digit: 5,
    style: "one stroke, top bar first, small, top edge",
    strokes: [[
      [0.85, 0.0],
      [0.25, 0.0],
      [0.2, 0.45],
      [0.55, 0.38],
      [0.85, 0.6],
      [0.7, 0.92],
      [0.35, 1.0],
      [0.1, 0.9],
    ]],
    place: { left: 0.45, top: 0.05, height: 0.4 },
  },
  {
    digit: 6,
    style: "small, big loop, bottom-left",
    strokes: [[
      [0.6, 0.0],
      [0.25, 0.35],
      [0.1, 0.7],
      [0.3, 1.0],
      [0.7, 0.95],
      [0.85, 0.7],
      [0.6, 0.5],
      [0.3, 0.55],
      [0.12, 0.75],
    ]],
    place: { left: 0.05, top: 0.55, height: 0.4 },
  },
  {
    digit: 7,
    style: "crossed",
    strokes: [[[0.05, 0.05], [0.95, 0.02], [0.4, 1.0]], [[0.3, 0.5], [0.8, 0.5]]],
    place: { left: 0.45, top: 0.3, height: 0.6 },
  },
  {
    digit: 8,
    style: "two circles, one above the other",
    strokes: [
      loop([0.5, 0.25], [0.3, 0.25], TOP, -1.05),
      loop([0.5, 0.74], [0.38, 0.26], TOP, -1.05),
    ],
    place: { left: 0.1, top: 0.1, height: 0.55 },
  },
  {
    digit: 9,
    style: "round loop, straight stem",
    strokes: [[...loop([0.5, 0.25], [0.32, 0.25], 0, -1), [0.82, 0.6], [0.82, 1.0]]],
    place: { left: 0.6, top: 0.05, height: 0.45 },
  },
];

/**
 * The points a mouse passes through for one stroke, in pad pixels: the key points joined by
 * Catmull–Rom curves, `perSegment` points between each pair.
 *
 * @param stroke Key points in the digit's box.
 * @param place Where the box sits on the pad.
 * @param side The pad's side in pixels.
 */
export function strokePath(
  stroke: Point[],
  place: DrawnDigit["place"],
  side: number,
  perSegment = 4,
): Point[] {
  const toPad = ([x, y]: Point): Point => [
    (place.left + x * place.height * ASPECT) * side,
    (place.top + y * place.height) * side,
  ];
  const key = stroke.map(toPad);
  const at = (i: number) => key[Math.max(0, Math.min(key.length - 1, i))]!;
  const path: Point[] = [key[0]!];
  for (let i = 0; i + 1 < key.length; i++) {
    const [p0, p1, p2, p3] = [at(i - 1), at(i), at(i + 1), at(i + 2)];
    for (let s = 1; s <= perSegment; s++) {
      const t = s / perSegment, t2 = t * t, t3 = t2 * t;
      const along = (k: 0 | 1) =>
        0.5 * (2 * p1[k] + (p2[k] - p0[k]) * t + (2 * p0[k] - 5 * p1[k] + 4 * p2[k] - p3[k]) * t2 +
          (3 * p1[k] - p0[k] - 3 * p2[k] + p3[k]) * t3);
      path.push([along(0), along(1)]);
    }
  }
  return path;
}
