/**
 * The trainer's "not a digit" images. Passing proves that a negative depends on its seed and index
 * alone, that every kind comes in about its stated share, that each image is in MNIST's format (ink
 * box 20 px on its longer side, centre of mass at (14, 14), margins like MNIST's own), and that the
 * font holds no letter or symbol written like a digit.
 */
import assert from "node:assert/strict";
import { measureDigit as measure } from "../scripts/lib/digit_image.ts";
import {
  drawNegative,
  LETTERS,
  NEGATIVE_KINDS,
  NEGATIVE_SHARES,
  negativeGlyphNames,
  type NegativeKind,
  renderNegative,
  renderNegatives,
  SYMBOLS,
} from "../src/data/negatives.ts";
import {
  DIGIT_PART_GLYPHS,
  EXCLUDED_GLYPHS,
  LETTER_FORMS,
  parsePath,
} from "../src/data/_stroke_font.ts";
import { createRng } from "../src/model/random.ts";

const render = (seed: number, index: number) => {
  const image = new Uint8Array(784);
  const kind = renderNegative(seed, index, image);
  return { kind, image };
};

Deno.test("renderNegative() gives the same bytes and kind for the same seed and index", () => {
  for (const index of [0, 1, 17, 59_999, 1_000_000]) {
    const a = render(7, index), b = render(7, index);
    assert.equal(a.kind, b.kind);
    assert.deepEqual(a.image, b.image);
  }
});

Deno.test("renderNegative() draws a different image for each index and each seed", () => {
  const seen = new Set<string>();
  for (let index = 0; index < 200; index++) seen.add(render(1, index).image.join());
  assert.equal(seen.size, 200);
  assert.notDeepEqual(render(1, 5).image, render(2, 5).image);
});

Deno.test("renderNegatives() is renderNegative() at each index, whatever the start", () => {
  const images = renderNegatives(4, 30, 5);
  assert.equal(images.length, 5 * 784);
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(images.subarray(i * 784, (i + 1) * 784), render(4, 30 + i).image);
  }
});

Deno.test("every kind appears in the first 300 negatives, and in about its share of 3,000", () => {
  const counts = Object.fromEntries(NEGATIVE_KINDS.map((k) => [k, 0])) as Record<
    NegativeKind,
    number
  >;
  const image = new Uint8Array(784);
  for (let index = 0; index < 3000; index++) {
    counts[renderNegative(2, index, image)]++;
    if (index === 299) { for (const kind of NEGATIVE_KINDS) assert.ok(counts[kind] > 0, kind); }
  }
  const shares = Object.values(NEGATIVE_SHARES);
  assert.ok(Math.abs(shares.reduce((a, b) => a + b) - 1) < 1e-9);
  for (const kind of NEGATIVE_KINDS) {
    const share = counts[kind] / 3000;
    assert.ok(Math.abs(share - NEGATIVE_SHARES[kind]) < 0.03, `${kind}: ${share}`);
  }
});

Deno.test("every negative is MNIST-like: ink fitted to 20 px, centred by mass, margins as MNIST's", () => {
  const count = 1000;
  let wideMargins = 0;
  for (let index = 0; index < count; index++) {
    const { kind, image } = render(3, index);
    const { total, long, margin, cx, cy } = measure(image);
    assert.ok(total > 0, `${index} (${kind}) has no ink`);
    assert.ok(image.some((v) => v === 255), `${index} (${kind}) never reaches full ink`);
    assert.ok(long >= 19 && long <= 20, `${index} (${kind}): ink box ${long} px`);
    assert.ok(Math.hypot(cx - 14, cy - 14) < 0.75, `${index} (${kind}): mass at ${cx}, ${cy}`);
    if (margin >= 2) wideMargins++;
  }
  // MNIST's test set: 88% keep 2 px or more clear of the frame (the rest, lopsided, are pushed out)
  assert.ok(wideMargins / count >= 0.85, `${wideMargins} of ${count} keep a 2-px margin`);
});

Deno.test("the font never draws a glyph of EXCLUDED_GLYPHS, nor a digit", () => {
  const drawn = [...LETTERS, ...SYMBOLS];
  for (const form of Object.keys(LETTER_FORMS)) assert.ok(LETTERS.includes(form), form);
  for (const glyph of EXCLUDED_GLYPHS) assert.ok(!drawn.includes(glyph), glyph);
  for (const glyph of drawn) assert.ok(!/\d/.test(glyph), glyph);
  assert.ok(LETTERS.length >= 25 && SYMBOLS.length >= 10);
});

Deno.test("the reader's negatives leave out the glyphs with a digit's part and draw the rest alike", () => {
  const all = negativeGlyphNames("all"), apart = negativeGlyphNames("no digit parts");
  for (const glyph of DIGIT_PART_GLYPHS) {
    assert.ok([...all.letters, ...all.symbols].includes(glyph));
  }
  assert.equal(all.letters.length, LETTERS.length + Object.keys(LETTER_FORMS).length);
  const kept = [...apart.letters, ...apart.symbols];
  for (const glyph of DIGIT_PART_GLYPHS) assert.ok(!kept.includes(glyph), glyph);
  // every other glyph kept, once, and no second form
  assert.equal(kept.length + DIGIT_PART_GLYPHS.length, LETTERS.length + SYMBOLS.length);
  assert.equal(new Set(kept).size, kept.length);
  assert.throws(() => renderNegative(5, 0, new Uint8Array(784), "none" as "all"), RangeError);
  let written = 0, differ = 0;
  for (let index = 0; index < 400; index++) {
    const a = new Uint8Array(784), b = new Uint8Array(784);
    const kind = renderNegative(5, index, a);
    assert.equal(renderNegative(5, index, b, "no digit parts"), kind);
    if (kind !== "letter" && kind !== "symbol") assert.deepEqual(b, a, `${index} (${kind})`);
    else {
      written++;
      if (b.some((v, i) => v !== a[i])) differ++;
    }
  }
  // another glyph list: most letters and symbols come out as another glyph
  assert.ok(differ > written / 2, `${differ} of ${written} letters and symbols differ`);
});

Deno.test("parsePath() draws arcs and curves through their ends and refuses unknown commands", () => {
  const [arc] = parsePath("O0.5 0.5 0.5 0.5 0 180");
  assert.ok(Math.abs(arc![0]! - 1) < 1e-9 && Math.abs(arc![1]! - 0.5) < 1e-9); // starts right
  assert.ok(Math.abs(arc!.at(-2)!) < 1e-9 && Math.abs(arc!.at(-1)! - 0.5) < 1e-9); // ends left
  assert.ok(Math.min(...arc!.filter((_, i) => i % 2 === 1)) < 0.01); // over the top (y 0)
  const [curve] = parsePath("M0 0 Q1 0 1 1");
  assert.deepEqual(curve!.slice(-2), [1, 1]);
  assert.deepEqual(parsePath("M1e-7 0.5 L-2.5E+1 .25"), [[1e-7, 0.5, -25, 0.25]]);
  assert.throws(() => parsePath("M0 0 Z"), SyntaxError);
});

Deno.test("drawNegative() draws from any generator, so a trainer may use its own streams", () => {
  const a = new Uint8Array(784), b = new Uint8Array(784);
  assert.equal(drawNegative(createRng(9), a), drawNegative(createRng(9), b));
  assert.deepEqual(a, b);
});

Deno.test("renderNegative() refuses a wrong buffer, seed or index", () => {
  assert.throws(
    () => renderNegative(1, 0, new Uint8Array(783)),
    /784 bytes: current length is 783/,
  );
  assert.throws(() => renderNegative(1.5, 0, new Uint8Array(784)), RangeError);
  assert.throws(() => renderNegative(1, -1, new Uint8Array(784)), /non-negative integer/);
  assert.throws(() => renderNegatives(1, 0, -2), /'count'/);
});
