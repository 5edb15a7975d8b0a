/**
 * A task's command-line flags: node:util's parseArgs, strict, with a flag it does not know or a
 * value missing answered by a plain message, the task's flags and exit status 2 — never a stack
 * trace; `--help` prints the flags and exits with 0.
 *
 * @example
 * ```ts ignore
 * const values = parseFlags("bench:cold", { rounds: { type: "string", default: "3" } });
 * ```
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** The flags a task takes, as parseArgs describes them. */
export type FlagOptions = NonNullable<ParseArgsConfig["options"]>;

/** `usage: deno task NAME [--flag V (default D)] …`, from the flags themselves. */
export function usage(task: string, options: FlagOptions): string {
  const flags = Object.entries(options).map(([name, option]) => {
    const value = option.type === "string" ? " V" : "";
    const fallback = option.default === undefined ? "" : ` (default ${option.default})`;
    const repeat = option.multiple ? " …" : "";
    return `[--${name}${value}${fallback}${repeat}]`;
  });
  return `usage: deno task ${task} ${flags.join(" ")}`;
}

/** Says what was wrong with the command line and how to use it, and exits with status 2. */
export function refuseFlags(task: string, options: FlagOptions, message: string): never {
  console.error(`${task}: ${message}\n${usage(task, options)}`);
  Deno.exit(2);
}

/**
 * The flags' values, or the process ends with status 2 after saying what was wrong.
 *
 * @param task The task's name, as `deno task` runs it ("bench:edge").
 * @param options The flags, as parseArgs takes them.
 * @param args The command line (default `Deno.args`).
 */
export function parseFlags<const O extends FlagOptions>(
  task: string,
  options: O,
  args: string[] = Deno.args,
) {
  if (args.includes("--help")) {
    console.log(usage(task, options));
    Deno.exit(0);
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    // The command line's mistakes; any other error is the task's own and is thrown as it is.
    if (!String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS_")) throw error;
    refuseFlags(task, options, (error as Error).message);
  }
}
