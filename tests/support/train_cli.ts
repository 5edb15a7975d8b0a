/** The trainer's CLI as a child process, and small MNIST subsets written as IDX folders for it. */
import { type Dataset, FILES } from "../../src/data/mnist.ts";

/**
 * A folder with the four IDX files of the first `trainCount` training and `testCount` test digits.
 * @returns The folder's path, for `--data`.
 */
export async function idxFolder(
  mnist: Dataset,
  trainCount: number,
  testCount: number,
): Promise<string> {
  const dir = await Deno.makeTempDir();
  const files: [string, number, Uint8Array, number[]][] = [
    [FILES.trainImages, 0x803, mnist.train.images, [trainCount, 28, 28]],
    [FILES.trainLabels, 0x801, mnist.train.labels, [trainCount]],
    [FILES.testImages, 0x803, mnist.test.images, [testCount, 28, 28]],
    [FILES.testLabels, 0x801, mnist.test.labels, [testCount]],
  ];
  for (const [name, magic, source, dims] of files) {
    const size = dims.reduce((a, b) => a * b, 1),
      bytes = new Uint8Array(4 + 4 * dims.length + size);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, magic);
    dims.forEach((d, k) => view.setUint32(4 + 4 * k, d));
    bytes.set(source.subarray(0, size), 4 + 4 * dims.length);
    await Deno.writeFile(`${dir}/${name}`, bytes);
  }
  return dir;
}

/** `deno task train <args>` as a command, output piped, colours off. */
export function trainCli(args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      new URL("../../scripts/train.ts", import.meta.url).pathname,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
}

/** UTF-8 bytes as text. */
export const text = (b: Uint8Array) => new TextDecoder().decode(b);
