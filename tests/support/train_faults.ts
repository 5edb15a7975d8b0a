/**
 * Killing a training run: start `deno task train`, SIGKILL it (no chance to save) part-way through an
 * epoch, then `--resume` from the last epoch-end checkpoint. Shared by `deno task faults` (the full
 * MNIST run) and tests/faults_test.ts (a small subset).
 */
import { text, trainCli } from "./train_cli.ts";

/** What a finished run printed last: its test-set score. */
export interface TestScore {
  correct: number;
  total: number;
  /** In percentage points, e.g. 98.11. */
  percent: number;
}

/**
 * The score in a run's last "Test set: … Accuracy: 9811/10000 (98.11%)" line.
 * @throws Error when the output holds no such line.
 */
export function testScore(stdout: string): TestScore {
  const match = [...stdout.matchAll(/Accuracy: (\d+)\/(\d+) \(/g)].at(-1);
  if (!match) throw new Error(`no "Test set: … Accuracy" line in:\n${stdout}`);
  const [correct, total] = [Number(match[1]), Number(match[2])];
  return { correct, total, percent: 100 * correct / total };
}

/** Runs the trainer to the end. @throws Error with its output when it fails. */
export async function trainToEnd(args: string[]): Promise<string> {
  const { code, stdout, stderr } = await trainCli(args).output();
  if (code !== 0) throw new Error(`train ${args.join(" ")} exited ${code}:\n${text(stderr)}`);
  return text(stdout);
}

/**
 * Starts the trainer and SIGKILLs it at the first progress line of `epoch` at or past `percent`%.
 * @returns The progress line it was killed after.
 * @throws Error when the run ends before reaching that point.
 */
export async function killDuringEpoch(
  args: string[],
  epoch: number,
  percent: number,
): Promise<string> {
  const child = trainCli(args).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const progress = new RegExp(`^Train Epoch: ${epoch} \\[\\d+/\\d+ \\((\\d+)%\\)\\]`, "m");
  let seen = "";
  try {
    while (true) {
      const { value, done } = await lines.read();
      if (done) {
        const { value: error } = await stderr.read();
        throw new Error(
          `the run ended before epoch ${epoch} reached ${percent}%:\n${seen}${error}`,
        );
      }
      seen += value;
      const at = [...seen.matchAll(new RegExp(progress, "gm"))].at(-1);
      if (at && Number(at[1]) >= percent) {
        child.kill("SIGKILL");
        return at[0];
      }
    }
  } finally {
    await child.status;
    await lines.cancel().catch(() => {});
    await stderr.cancel().catch(() => {});
  }
}
