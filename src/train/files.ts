/**
 * Writing the trainer's outputs so that an interrupted or failing run never leaves a half-written
 * file: each file is written to a temporary name beside its target, and renamed over the target
 * only once every file of the set has been written.
 */

/** A problem with the output folder, said in one line. */
export class OutputError extends Error {
  override name = "OutputError";
}

/** Files written to temporary names, waiting to be renamed into place. */
export interface Staged {
  /** The temporary path of each target. */
  temp: Record<string, string>;
  /** Adds more files to the set. */
  add(files: Record<string, Uint8Array | string>): Promise<void>;
  /** Renames every file into place. */
  commit(): Promise<void>;
  /** Removes the temporary files, leaving the targets as they were. */
  abort(): Promise<void>;
}

/** Writes `files` (path → contents) to temporary paths; nothing is replaced until `commit()`. */
export async function stageFiles(files: Record<string, Uint8Array | string>): Promise<Staged> {
  const temp: Record<string, string> = {};
  const staged: Staged = {
    temp,
    async add(more) {
      for (const [path, contents] of Object.entries(more)) {
        temp[path] = `${path}.${Deno.pid}.tmp`;
        try {
          if (typeof contents === "string") await Deno.writeTextFile(temp[path]!, contents);
          else await Deno.writeFile(temp[path]!, contents);
        } catch (e) {
          await staged.abort();
          throw new OutputError(
            `cannot write ${path}: ${(e as Error).message}; the previous files are unchanged`,
          );
        }
      }
    },
    async commit() {
      for (const [path, t] of Object.entries(temp)) await Deno.rename(t, path);
    },
    async abort() {
      for (const t of Object.values(temp)) await Deno.remove(t).catch(() => {});
    },
  };
  await staged.add(files);
  return staged;
}

/** Writes all `files` atomically: every temporary file first, then the renames. */
export async function writeFilesAtomic(files: Record<string, Uint8Array | string>): Promise<void> {
  await (await stageFiles(files)).commit();
}

/** Creates `dir` (and parents) or says clearly why it can't. */
export async function ensureDir(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (e) {
    throw new OutputError(`cannot create output folder ${dir}: ${(e as Error).message}`);
  }
}
