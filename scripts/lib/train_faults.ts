/**
 * Killing a training run: start `deno task train`, SIGKILL it (no chance to save) at a batch it
 * reports part-way through an epoch, then `--resume` from the last epoch-end checkpoint. Shared by
 * `deno task faults` (the full MNIST run) and tests/faults_test.ts (a small subset).
 */
import { startPaused, text, trainCli } from "./train_cli.ts";

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
 * Starts the trainer, lets it pause once `batch` batches of `epoch` are done, and SIGKILLs it there:
 * no chance to save, at the same point on any machine.
 * @returns The line it printed when it paused.
 * @throws Error when the run ends before reaching that point.
 */
export async function killDuringEpoch(
  args: string[],
  epoch: number,
  batch: number,
): Promise<string> {
  const run = await startPaused(args, { epoch, batch });
  await run.signal("SIGKILL");
  return run.stdout.trimEnd().split("\n").at(-1)!;
}
