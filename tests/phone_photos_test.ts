/**
 * The test set of phone photos and screenshots is what it claims to be. Passing proves that each
 * photo's EXIF segment is well-formed and read by Pillow, that a viewer applying the tag
 * (Pillow's `ImageOps.exif_transpose`) shows the very picture rendered upright — for all 8
 * orientations, told apart from the other 7 — and that the same seed gives the same bytes.
 */
import assert from "node:assert/strict";
import { encode as encodePng } from "fast-png";
import {
  CAMERAS,
  exifOrientationSegment,
  ORIENTATIONS,
  phonePhoto,
  photoScene,
  type Picture,
  retinaScreenshot,
  storeForOrientation,
} from "../scripts/lib/phone_photos.ts";
import { loadTestDigits } from "../scripts/lib/mnist_test_set.ts";
import { hasPython, PYTHON } from "../scripts/lib/pillow.ts";

const SHRINK = 8;
const { digits, labels } = await loadTestDigits();

/** Grey, box-averaged by SHRINK: the reference Pillow compares a photo with. */
function shrunkGrey(picture: Picture): Uint8Array {
  const width = Math.floor(picture.width / SHRINK), height = Math.floor(picture.height / SHRINK);
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let dy = 0; dy < SHRINK; dy++) {
        for (let dx = 0; dx < SHRINK; dx++) {
          const i = ((y * SHRINK + dy) * picture.width + x * SHRINK + dx) * 4;
          const [r, g, b] = picture.data.subarray(i, i + 3);
          sum += 0.299 * r! + 0.587 * g! + 0.114 * b!;
        }
      }
      out[y * width + x] = Math.round(sum / (SHRINK * SHRINK));
    }
  }
  return new Uint8Array(encodePng({ width, height, data: out, channels: 1 }));
}

Deno.test("exifOrientationSegment() writes APP1 Exif with IFD0 Orientation in either byte order", () => {
  for (const bigEndian of [true, false]) {
    const segment = exifOrientationSegment(6, bigEndian);
    const view = new DataView(segment.buffer), little = !bigEndian;
    assert.deepEqual([...segment.subarray(0, 2)], [0xff, 0xe1]);
    assert.equal(view.getUint16(2), segment.length - 2);
    assert.equal(new TextDecoder().decode(segment.subarray(4, 10)), "Exif\0\0");
    assert.equal(new TextDecoder().decode(segment.subarray(10, 12)), bigEndian ? "MM" : "II");
    assert.equal(view.getUint16(12, little), 42);
    const ifd = 10 + view.getUint32(14, little);
    assert.equal(view.getUint16(ifd, little), 1);
    assert.equal(view.getUint16(ifd + 2, little), 0x0112);
    assert.equal(view.getUint16(ifd + 10, little), 6);
  }
});

Deno.test("storeForOrientation() swaps width and height for orientations 5–8 only", () => {
  const upright = { width: 3, height: 2, data: new Uint8ClampedArray(3 * 2 * 4) };
  for (const orientation of ORIENTATIONS) {
    const stored = storeForOrientation(upright, orientation);
    assert.deepEqual(
      [stored.width, stored.height],
      orientation >= 5 ? [2, 3] : [3, 2],
      `orientation ${orientation}`,
    );
  }
});

Deno.test("phonePhoto() gives the same bytes for the same seed", async () => {
  const options = { label: labels[0]!, camera: CAMERAS[3]!, orientation: 6 as const, seed: 7 };
  const [a, b] = [await phonePhoto(digits[0]!, options), await phonePhoto(digits[0]!, options)];
  assert.deepEqual(a.bytes, b.bytes);
  const c = await phonePhoto(digits[0]!, { ...options, seed: 8 });
  assert.notDeepEqual(a.bytes, c.bytes);
});

Deno.test("retinaScreenshot() writes PNGs of the screen's size, RGB or RGBA", () => {
  for (const alpha of [false, true]) {
    const shot = retinaScreenshot(digits[1]!, {
      label: labels[1]!,
      width: 2880,
      height: 1800,
      alpha,
      seed: 1,
    });
    const view = new DataView(shot.bytes.buffer);
    assert.deepEqual([view.getUint32(16), view.getUint32(20)], [2880, 1800]);
    assert.equal(shot.bytes[24], 8); // bit depth
    assert.equal(shot.bytes[25], alpha ? 6 : 2); // colour type: RGBA or RGB
  }
});

Deno.test({
  name: "Pillow's exif_transpose shows every orientation's photo upright",
  ignore: !(await hasPython("PIL.ImageOps, numpy")),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "phone-photos-" });
    try {
      const args: string[] = [];
      for (const [k, orientation] of ORIENTATIONS.entries()) {
        // The 2 MP camera for all 8 orientations, and the 12 MP one for a portrait shot.
        const camera = k === 5 ? CAMERAS[0]! : CAMERAS[3]!, seed = 40 + k, index = 100 + k;
        const photo = await phonePhoto(digits[index]!, {
          label: labels[index]!,
          camera,
          orientation,
          seed,
        });
        const portrait = orientation >= 5;
        const upright = photoScene(digits[index]!, {
          width: portrait ? camera.height : camera.width,
          height: portrait ? camera.width : camera.height,
          seed,
        });
        await Deno.writeFile(`${dir}/${k}.jpg`, photo.bytes);
        await Deno.writeFile(`${dir}/${k}.png`, shrunkGrey(upright));
        args.push(`${dir}/${k}.jpg`, `${dir}/${k}.png`);
      }
      const run = await new Deno.Command(PYTHON, {
        args: [new URL("../scripts/lib/exif_upright.py", import.meta.url).pathname, ...args],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(run.success, new TextDecoder().decode(run.stderr));
      const rows = new TextDecoder().decode(run.stdout).trim().split("\n").map((line) =>
        JSON.parse(line) as { orientation: number; mae: number; best_other_mae: number }
      );
      for (const [k, row] of rows.entries()) {
        console.log(`  ${JSON.stringify(row)}`);
        assert.equal(row.orientation, ORIENTATIONS[k], "Pillow reads the tag written");
        // JPEG loss and grain leave ~1 grey level; another orientation leaves several.
        assert.ok(row.mae < 2, `orientation ${row.orientation}: upright differs by ${row.mae}`);
        assert.ok(
          row.best_other_mae > 2 * row.mae + 1,
          `orientation ${row.orientation}: ambiguous`,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
