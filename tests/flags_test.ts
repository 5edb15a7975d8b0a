/**
 * Every task that takes flags answers a mistyped one with its usage and exit status 2, not a stack
 * trace (scripts/lib/flags.ts); the usage lists each flag and its default.
 */
import assert from "node:assert/strict";
import { usage } from "../scripts/lib/flags.ts";

const TASKS = {
  "bench:cold": "bench_cold",
  "bench:edge": "bench_edge",
  "bench:load": "bench_load",
  "bench:page": "bench_page",
  "bench:train": "bench_train",
  "bench:vs-pytorch": "bench_vs_pytorch",
  "eval:numbers": "eval_numbers",
  "eval:reading": "eval_reading",
  "eval:uploads": "eval_uploads",
  faults: "faults",
  fuzz: "fuzz",
  serve: "serve",
} as const;

for (const [task, file] of Object.entries(TASKS)) {
  Deno.test(`${task} refuses an unknown flag with its usage and status 2`, async () => {
    const script = new URL(`../scripts/${file}.ts`, import.meta.url).pathname;
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, "--no-such-flag"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const said = new TextDecoder().decode(stderr);
    assert.equal(code, 2, said);
    assert.match(
      said,
      new RegExp(`^${task}: Unknown option '--no-such-flag'\\nusage: deno task ${task} `),
    );
    assert.doesNotMatch(said, /Uncaught| {4}at /, "no stack trace");
    assert.equal(stdout.length, 0, "nothing is run");
  });
}

Deno.test("--help prints the task's flags and exits with 0", async () => {
  const script = new URL("../scripts/bench_cold.ts", import.meta.url).pathname;
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, "--help"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0);
  assert.equal(
    new TextDecoder().decode(stdout),
    "usage: deno task bench:cold [--rounds V (default 3)]\n",
  );
});

Deno.test("usage() lists each flag, its value and its default", () => {
  assert.equal(
    usage("bench:x", {
      rounds: { type: "string", default: "3" },
      only: { type: "string", multiple: true },
      quiet: { type: "boolean" },
    }),
    "usage: deno task bench:x [--rounds V (default 3)] [--only V …] [--quiet]",
  );
});
