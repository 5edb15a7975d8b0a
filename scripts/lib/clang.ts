/**
 * Builds a WebAssembly module with clang, whole or not at all: compiled to a temporary file, checked,
 * then renamed into place. Used by `deno task build:kernels` and `deno task build:codec`.
 */
import { parseArgs } from "node:util";

/** What {@linkcode compileWasm} runs and checks. */
export interface WasmBuild {
  /** clang's arguments, without `-o`. */
  args: string[];
  /** Where clang runs (relative source paths keep the binary independent of the checkout's place). */
  cwd?: string;
  /** The Debian packages that provide the toolchain, for the error when clang is missing. */
  packages: string;
  /** Throws when the compiled module (and its bytes) is not what it must be (imports, exports…). */
  check(module: WebAssembly.Module, bytes: Uint8Array): void;
}

/** Compiles to `out`; throws with clang's message, with how to install it, or with `check`'s. */
export async function compileWasm(out: string, build: WasmBuild): Promise<void> {
  const tmp = `${out}.tmp-${Deno.pid}`;
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command("clang", { args: [...build.args, "-o", tmp], cwd: build.cwd })
      .output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`clang is not installed: apt-get install ${build.packages}`);
    }
    throw error;
  }
  try {
    if (!result.success) {
      throw new Error(`clang failed:\n${new TextDecoder().decode(result.stderr).trim()}`);
    }
    const bytes = await Deno.readFile(tmp);
    build.check(await WebAssembly.compile(bytes), bytes);
    await Deno.rename(tmp, out);
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

/** The names of a module's exported functions, sorted. */
export function exportedFunctions(module: WebAssembly.Module): string[] {
  return WebAssembly.Module.exports(module).filter((e) => e.kind === "function").map((e) => e.name)
    .sort();
}

/** A build script's command line: `[--out FILE]`, then one line saying what was built, or exit 1. */
export async function buildMain(
  build: (out: string) => Promise<void>,
  defaultOut: string,
): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { out: { type: "string", default: defaultOut } },
  });
  try {
    await build(values.out);
    console.log(`Built ${values.out} (${(await Deno.stat(values.out)).size} bytes)`);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
