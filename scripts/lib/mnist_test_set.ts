/** The MNIST test set (10,000 digits) as a list of 28×28 grids, for tests that send digits one by one. */
import { loadDataset } from "../../src/data/mnist.ts";
import { PIXELS } from "../../src/model/model.ts";

/** Test digits as 784-byte MNIST grids (0 background, 255 ink) and their labels. */
export interface TestDigits {
  digits: Uint8Array[];
  labels: Uint8Array;
}

/** Reads the MNIST test set (checked against its sha256): 10,000 digits with their labels. */
export async function loadTestDigits(): Promise<TestDigits> {
  const { test } = await loadDataset();
  const digits = Array.from(
    { length: test.count },
    (_, i) => test.images.subarray(i * PIXELS, (i + 1) * PIXELS),
  );
  return { digits, labels: test.labels };
}
