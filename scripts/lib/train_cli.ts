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

/** `deno task train <args>` as a command, output piped, colours off, `env` added. */
export function trainCli(args: string[], env: Record<string, string> = {}): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      new URL("../train.ts", import.meta.url).pathname,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  });
}

/** A trainer stopped at a known point, waiting for a signal. */
export interface PausedRun {
  /** What it printed to stdout up to the pause, the pause line included. */
  readonly stdout: string;
  /** Sends `signal` and waits for the run to end: its exit code and everything it printed. */
  signal(signal: Deno.Signal): Promise<{ code: number; stdout: string; stderr: string }>;
}

/**
 * Starts `deno task train <args>` with `MNIST_EDGE_PAUSE_AT`, and resolves once it reports that it
 * has paused after `batch` batches of `epoch` (see scripts/train.ts): a point in the run that does
 * not depend on how fast the machine is.
 * @throws Error with its output when the run ends without pausing there.
 */
export async function startPaused(
  args: string[],
  at: { epoch: number; batch: number },
): Promise<PausedRun> {
  const child = trainCli(args, { MNIST_EDGE_PAUSE_AT: `${at.epoch}:${at.batch}` }).spawn();
  let stdout = "", stderr = "", changed = () => {};
  const collect = async (stream: ReadableStream<Uint8Array>, append: (text: string) => void) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      append(text);
      changed();
    }
  };
  const reading = Promise.all([
    collect(child.stdout, (text) => stdout += text),
    collect(child.stderr, (text) => stderr += text),
  ]);
  const ended = reading.then(() => child.status);
  const expected = `Paused after batch ${at.batch} of epoch ${at.epoch} `;
  while (!/^Paused after /m.test(stdout)) {
    const more = new Promise<"more">((resolve) => (changed = () => resolve("more")));
    if (await Promise.race([more, ended.then(() => "ended" as const)]) === "ended") break;
  }
  if (!stdout.includes(expected)) {
    // Ended, or paused somewhere else (where it would wait for ever): either way, not the point asked.
    child.kill("SIGKILL");
    await ended;
    throw new Error(
      `the run did not pause after batch ${at.batch} of epoch ${at.epoch}:\n${stdout}${stderr}`,
    );
  }
  return {
    stdout,
    async signal(signal) {
      child.kill(signal);
      const { code } = await ended;
      return { code, stdout, stderr };
    },
  };
}

/** UTF-8 bytes as text. */
export const text = (b: Uint8Array) => new TextDecoder().decode(b);
