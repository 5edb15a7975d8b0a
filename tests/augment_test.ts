/**
 * Training-time augmentation: an image's result depends on (seed, epoch, index) alone; each
 * transformation moves ink the way its setting says; MNIST digits stay whole and in the frame; bad
 * buffers are one clear error.
 */
import assert from "node:assert/strict";
import { AUGMENT_DEFAULTS, augmentBatch, type AugmentConfig } from "../src/data/augment.ts";
import { loadDataset } from "../src/data/mnist.ts";

const PIXELS = 784;
const { train } = await loadDataset();

/** Nothing drawn changes anything: every setting at its neutral value. */
const IDENTITY: AugmentConfig = {
  untouched: 0,
  rotation: [0, 0],
  scale: [1, 1],
  aspect: [1, 1],
  shear: [0, 0],
  translation: [0, 0],
  elasticProbability: 0,
  elasticPixels: 0,
  dilationProbability: 0,
  erosionProbability: 0,
  strokeStrength: [1, 1],
};

function augment(
  source: Uint8Array,
  ids: number[],
  epoch = 1,
  config: AugmentConfig = AUGMENT_DEFAULTS,
  seed = 7,
): Uint8Array {
  const out = new Uint8Array(ids.length * PIXELS);
  augmentBatch(source, ids, out, { seed, epoch }, config);
  return out;
}

const image = (batch: Uint8Array, i: number) => batch.subarray(i * PIXELS, (i + 1) * PIXELS);
const inkMass = (img: Uint8Array) => img.reduce((sum, v) => sum + v, 0);

/** Centre of mass and second central moments of the ink in an image (or some of its rows). */
function moments(img: Uint8Array) {
  let m = 0, sx = 0, sy = 0;
  for (let p = 0; p < img.length; p++) {
    const v = img[p]!;
    m += v;
    sx += v * (p % 28);
    sy += v * Math.floor(p / 28);
  }
  const x = sx / m, y = sy / m;
  let xx = 0, yy = 0, xy = 0;
  for (let p = 0; p < img.length; p++) {
    const v = img[p]!, dx = (p % 28) - x, dy = Math.floor(p / 28) - y;
    xx += v * dx * dx;
    yy += v * dy * dy;
    xy += v * dx * dy;
  }
  // The principal axis in degrees from the x axis (x right, y down): 90 for an upright bar.
  const axis = 0.5 * Math.atan2(2 * xy, xx - yy) * 180 / Math.PI;
  return { x, y, xx: xx / m, yy: yy / m, axis: axis < 0 ? axis + 180 : axis };
}

/** An upright bar 2 px wide and 16 px tall, centred on the image centre (13.5, 13.5). */
const bar = new Uint8Array(PIXELS);
for (let y = 6; y <= 21; y++) bar[y * 28 + 13] = bar[y * 28 + 14] = 255;

const sample = [5, 17, 1000, 42, train.count - 1, 3, 31_415];

Deno.test("augmentBatch() gives an image the same bytes whatever the batch, its order and size", () => {
  const together = augment(train.images, sample);
  const reversed = augment(train.images, [...sample].reverse());
  const larger = augment(train.images, [...sample, 8, 9, ...sample]);
  sample.forEach((id, i) => {
    const alone = augment(train.images, [id]);
    assert.deepEqual(image(together, i), alone, `image ${id} alone`);
    assert.deepEqual(image(reversed, sample.length - 1 - i), alone, `image ${id} reversed`);
    assert.deepEqual(image(larger, i), alone, `image ${id} in a larger batch`);
    assert.deepEqual(image(larger, sample.length + 2 + i), alone, `image ${id} twice`);
  });
});

Deno.test("augmentBatch() draws anew for each epoch and each seed", () => {
  const ids = Array.from({ length: 40 }, (_, i) => i);
  // One image in ten left untouched, so that few match by chance (both untouched: 1 in 100).
  const busy = { ...AUGMENT_DEFAULTS, untouched: 0.1 };
  const first = augment(train.images, ids, 1, busy);
  const differ = (other: Uint8Array) =>
    ids.filter((_, i) => image(first, i).some((v, p) => v !== image(other, i)[p])).length;
  assert.ok(differ(augment(train.images, ids, 2, busy)) >= 30);
  assert.ok(differ(augment(train.images, ids, 1, busy, 8)) >= 30);
  assert.deepEqual(augment(train.images, ids, 1, busy), first);
});

Deno.test("augmentBatch() with every setting neutral, or untouched = 1, copies the images", () => {
  const ids = Array.from({ length: 100 }, (_, i) => i * 600);
  const original = new Uint8Array(ids.length * PIXELS);
  ids.forEach((id, i) => original.set(image(train.images, id), i * PIXELS));
  assert.deepEqual(augment(train.images, ids, 1, IDENTITY), original);
  assert.deepEqual(augment(train.images, ids, 1, { ...AUGMENT_DEFAULTS, untouched: 1 }), original);
});

Deno.test("augmentBatch() turns a bar anticlockwise about the centre by the rotation given", () => {
  for (const degrees of [10, -10, 12]) {
    const turned = moments(augment(bar, [0], 1, { ...IDENTITY, rotation: [degrees, degrees] }));
    assert.ok(Math.abs(turned.axis - (90 - degrees)) < 0.5, `${degrees}°: axis at ${turned.axis}°`);
    assert.ok(Math.abs(turned.x - 13.5) < 0.05 && Math.abs(turned.y - 13.5) < 0.05);
  }
  // Anticlockwise as seen on screen: the top of the bar goes left.
  const turned = augment(bar, [0], 1, { ...IDENTITY, rotation: [10, 10] });
  assert.ok(moments(turned.slice(0, 10 * 28)).x < 13);
});

Deno.test("augmentBatch() moves, scales and shears a bar as set", () => {
  const moved = moments(augment(bar, [0], 1, { ...IDENTITY, translation: [2, 2] }));
  assert.ok(Math.abs(moved.x - 15.5) < 0.05 && Math.abs(moved.y - 15.5) < 0.05);

  const before = moments(bar);
  const scaled = moments(augment(bar, [0], 1, { ...IDENTITY, scale: [1.1, 1.1] }));
  assert.ok(Math.abs(Math.sqrt(scaled.yy / before.yy) - 1.1) < 0.03);
  // Aspect 1.21: x scaled by 1.1, y by 1 / 1.1.
  const wide = moments(augment(bar, [0], 1, { ...IDENTITY, aspect: [1.21, 1.21] }));
  assert.ok(Math.abs(Math.sqrt(wide.yy / before.yy) - 1 / 1.1) < 0.03);

  // Positive shear leans the top to the right by tan(12°) per pixel of height.
  const sheared = augment(bar, [0], 1, { ...IDENTITY, shear: [12, 12] });
  const upper = moments(sheared.slice(0, 14 * 28)), lower = moments(sheared.slice(14 * 28));
  const lean = (upper.x - lower.x) / (lower.y + 14 - upper.y);
  assert.ok(Math.abs(lean - Math.tan(12 * Math.PI / 180)) < 0.02, `lean ${lean}`);
});

Deno.test("augmentBatch() thickens strokes with a dilation and thins them with an erosion", () => {
  const ids = Array.from({ length: 200 }, (_, i) => i * 300);
  const thick = augment(train.images, ids, 1, { ...IDENTITY, dilationProbability: 1 });
  const thin = augment(train.images, ids, 1, { ...IDENTITY, erosionProbability: 1 });
  ids.forEach((id, i) => {
    const mass = inkMass(image(train.images, id));
    assert.ok(inkMass(image(thick, i)) > 1.2 * mass, `image ${id} thicker`);
    const thinned = inkMass(image(thin, i));
    // Thinner, but never below half its ink (plus rounding).
    assert.ok(thinned < 0.95 * mass && thinned > 0.49 * mass, `image ${id} thinner`);
  });
});

Deno.test("augmentBatch() keeps every MNIST training digit whole and in the frame", () => {
  const ids = Array.from({ length: train.count }, (_, i) => i);
  for (const config of [AUGMENT_DEFAULTS, { ...AUGMENT_DEFAULTS, elasticProbability: 1 }]) {
    const out = augment(train.images, ids, 3, config);
    let border = 0, total = 0;
    for (let i = 0; i < train.count; i++) {
      const img = image(out, i), mass = inkMass(img);
      const ratio = mass / inkMass(image(train.images, i));
      assert.ok(ratio > 0.25 && ratio < 4, `image ${i}: ${ratio.toFixed(2)} of its ink`);
      total += mass;
      for (let k = 0; k < 28; k++) {
        border += img[k]! + img[27 * 28 + k]! + img[k * 28]! + img[k * 28 + 27]!;
      }
    }
    assert.ok(border / total < 1e-3, `${border / total} of the ink on the frame's edge`);
  }
});

Deno.test("augmentBatch() throws RangeError on buffers of the wrong size or a bad index", () => {
  const out = new Uint8Array(2 * PIXELS);
  const stream = { seed: 1, epoch: 1 };
  assert.throws(
    () => augmentBatch(new Uint8Array(PIXELS + 3), [0, 0], out, stream),
    new RangeError(
      "source must hold whole 28×28 images (a multiple of 784 bytes): got 787 bytes",
    ),
  );
  assert.throws(
    () => augmentBatch(train.images, [0, 1, 2], out, stream),
    new RangeError("out must hold 3 images (2352 bytes), one per index: got 1568 bytes"),
  );
  assert.throws(
    () => augmentBatch(train.images, [0, train.count], out, stream),
    new RangeError(
      `indices[1] must be an image of source, a whole number from 0 to ${
        train.count - 1
      }: got ${train.count}`,
    ),
  );
  assert.throws(() => augmentBatch(train.images, [0.5, 1], out, stream), /got 0\.5/);
  assert.throws(
    () =>
      augmentBatch(train.images, [0, 1], out, stream, {
        ...AUGMENT_DEFAULTS,
        dilationProbability: 0.6,
        erosionProbability: 0.5,
      }),
    RangeError,
  );
});

Deno.test("augmentBatch() keys each image's draws by `keys` when given, not by its index", () => {
  const ids = [0, 1, 2, 3];
  const busy = { ...AUGMENT_DEFAULTS, untouched: 0 };
  const out = (keys?: number[]) => {
    const o = new Uint8Array(ids.length * PIXELS);
    augmentBatch(train.images, ids, o, { seed: 7, epoch: 1 }, busy, keys);
    return o;
  };
  assert.deepEqual(out([0, 1, 2, 3]), out());
  const keyed = out([900, 901, 902, 903]);
  assert.notDeepEqual(keyed, out());
  assert.deepEqual(out([900, 901, 902, 903]), keyed, "the same keys, the same draws");
  assert.throws(() => out([1, 2]), RangeError);
});
