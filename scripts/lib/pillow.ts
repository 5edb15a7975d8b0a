/** Debian's Python with Pillow, the reference some tests compare our image handling with. */

/** Debian's Python (`.ci/run` installs python3-pil and python3-numpy for it). */
export const PYTHON = "/usr/bin/python3";

/**
 * Whether {@linkcode PYTHON} can import `modules` (a test that needs them is skipped without them).
 *
 * @param modules What to import, e.g. `"PIL.ImageOps, numpy"`.
 */
export async function hasPython(modules: string): Promise<boolean> {
  try {
    const probe = await new Deno.Command(PYTHON, {
      args: ["-c", `import ${modules}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return probe.success;
  } catch {
    return false;
  }
}
