/**
 * The Worker's start-up, in Deno: the wasm backend and decoders compiled from their npm packages,
 * then the model read from a folder. Used by `deno task serve`, the tests and the benchmarks.
 */
import { startBackend } from "./backend_deno.ts";
import { type Classifier, loadClassifier } from "./classifier.ts";
import { compileCodec } from "./image/codec/codec_deno.ts";
import { initCodec, initWebpDecoder } from "./image/decode.ts";
import { compileWebpModule } from "./image/webp_deno.ts";

/** The committed model's folder. */
export const MODELS_DIR = new URL("../models/", import.meta.url).pathname;

/**
 * Starts tfjs on wasm, the JPEG and WebP decoders, and loads `<dir>/mnist-cnn.{safetensors,json}`.
 * @throws ModelFileError when the model files are missing, corrupt or do not match.
 */
export async function startLocalClassifier(dir = MODELS_DIR): Promise<Classifier> {
  await startBackend("wasm");
  await Promise.all([
    compileWebpModule().then(initWebpDecoder),
    compileCodec().then(initCodec),
  ]);
  const [weights, manifest] = await Promise.all([
    Deno.readFile(`${dir}/mnist-cnn.safetensors`),
    Deno.readTextFile(`${dir}/mnist-cnn.json`).then(JSON.parse),
  ]);
  return await loadClassifier(weights, manifest);
}
