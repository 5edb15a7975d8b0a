/**
 * Model folders for tests: the committed mnist-cnn with an index of their own, and beside it copies
 * under other names, each with one weight changed in its lowest bits so that its sha256 (the version
 * the API reports) is its own while it reads digits as the seed's model does.
 */
import { MODELS_DIR } from "../../src/deno.ts";
import { modelFileNames } from "../../src/model/registry.ts";
import { sha256Hex } from "../../src/model/sha256.ts";

/** The committed seed model's name. */
export const SEED_MODEL = "mnist-cnn";

/**
 * A temporary models folder: mnist-cnn, then a copy of it for each of `copies`, and an index listing
 * them in that order with `mnist-cnn` the default (or `index`, written as given).
 *
 * @returns The folder; the caller removes it.
 */
export async function modelFolder(copies: string[], index?: unknown): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "mnist-edge-models-" });
  const seed = modelFileNames(SEED_MODEL);
  const weights = await Deno.readFile(`${MODELS_DIR}/${seed.weights}`);
  const manifest = JSON.parse(await Deno.readTextFile(`${MODELS_DIR}/${seed.manifest}`));
  await write(dir, SEED_MODEL, weights, manifest);
  for (const name of copies) {
    // The last stored value's lowest byte: its least significant mantissa bits, never its exponent.
    const nudged = weights.slice();
    nudged[nudged.length - 4]! ^= 0x01;
    const sha256 = await sha256Hex(nudged);
    await write(dir, name, nudged, {
      ...manifest,
      name,
      weights: { ...manifest.weights, file: modelFileNames(name).weights, sha256 },
    });
  }
  await Deno.writeTextFile(
    `${dir}/index.json`,
    JSON.stringify(index ?? { default: SEED_MODEL, models: [SEED_MODEL, ...copies] }),
  );
  return dir;
}

async function write(dir: string, name: string, weights: Uint8Array, manifest: unknown) {
  const files = modelFileNames(name);
  await Deno.writeFile(`${dir}/${files.weights}`, weights);
  await Deno.writeTextFile(`${dir}/${files.manifest}`, JSON.stringify(manifest, null, 2));
}
