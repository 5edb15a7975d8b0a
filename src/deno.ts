/**
 * The runtime entry for Deno (`deno task serve`, training, the tests and the benchmarks), as
 * src/worker.ts is for workerd: it compiles the WebAssembly that a Worker imports as modules — tfjs'
 * wasm backend and the WebP decoder from their npm packages, our kernel and codec from their committed
 * builds — and reads the models from a folder (its index.json). It also offers tfjs' pure-JS cpu
 * backend, for comparison; the Worker never carries it.
 */
import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { initCodec, initWebpDecoder, WEBP_WASM_SPECIFIER } from "./image/decode.ts";
import {
  type BackendName,
  SIMD_WASM_SPECIFIER,
  useWasmBackend,
  type WasmModules,
} from "./model/backend.ts";
import type { Classifier } from "./model/classifier.ts";
import {
  createModelRegistry,
  modelFileNames,
  type ModelFiles,
  type ModelIndex,
  ModelIndexError,
  type ModelRegistry,
  type ModelRegistryOptions,
  parseModelIndex,
} from "./model/registry.ts";
import { registerCpuConvPool } from "./model/kernels/conv_pool_cpu.ts";
import { registerCpuLayers } from "./model/kernels/layers_cpu.ts";

/** Where the committed build of src/model/kernels/conv_pool.c is. */
export const CONV_POOL_WASM = new URL("./model/kernels/conv_pool.wasm", import.meta.url);

/** Where the committed build of src/model/kernels/layers.c is. */
export const LAYERS_WASM = new URL("./model/kernels/layers.wasm", import.meta.url);

/** The committed build of src/image/codec/codec.c, beside its source. */
export const CODEC_WASM = new URL("./image/codec/codec.wasm", import.meta.url);

/** The committed models' folder: index.json and each model's files. */
export const MODELS_DIR = new URL("../models/", import.meta.url).pathname;

/** Compiles tfjs-backend-wasm-simd.wasm (from the npm package that deno.json pins) and our kernels. */
export async function compileWasmModules(): Promise<WasmModules> {
  const tfjsPath = createRequire(import.meta.url).resolve(SIMD_WASM_SPECIFIER);
  const [tfjs, convPool, layers] = await Promise.all(
    [tfjsPath, CONV_POOL_WASM, LAYERS_WASM].map(async (path) =>
      WebAssembly.compile(await Deno.readFile(path))
    ),
  );
  return { tfjs: tfjs!, convPool: convPool!, layers: layers! };
}

/** Makes the pure-JS cpu backend active, with our kernels (for parity tests and speed comparisons). */
export async function useCpuBackend(): Promise<void> {
  registerCpuConvPool();
  registerCpuLayers();
  if (!(await tf.setBackend("cpu"))) throw new Error("tfjs could not start the cpu backend");
}

/** Makes `name` the active tfjs backend. */
export async function startBackend(name: BackendName): Promise<void> {
  if (name === "cpu") await useCpuBackend();
  else await useWasmBackend(await compileWasmModules());
}

/** Compiles src/image/codec/codec.wasm, for {@linkcode initCodec}. */
export async function compileCodec(): Promise<WebAssembly.Module> {
  return await WebAssembly.compile(await Deno.readFile(CODEC_WASM));
}

/** Compiles webp_dec.wasm from the npm package that deno.json pins, for {@linkcode initWebpDecoder}. */
export async function compileWebpModule(): Promise<WebAssembly.Module> {
  const path = createRequire(import.meta.url).resolve(WEBP_WASM_SPECIFIER);
  return await WebAssembly.compile(await Deno.readFile(path));
}

/** What the Worker starts before its first model, in Deno: tfjs on wasm, the JPEG/PNG codec, WebP. */
export async function startLocalRuntime(): Promise<void> {
  await startBackend("wasm");
  await Promise.all([
    compileWebpModule().then(initWebpDecoder),
    compileCodec().then(initCodec),
  ]);
}

/**
 * Reads `<dir>/index.json` and checks it: a valid index, and both files of every model it lists.
 * @throws ModelIndexError saying what is missing or wrong.
 */
export async function readModelIndex(dir = MODELS_DIR): Promise<ModelIndex> {
  const source = `${dir.replace(/\/$/, "")}/index.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(source);
  } catch (error) {
    throw new ModelIndexError(
      `${source} cannot be read (${(error as Error).message}): a models folder lists its ` +
        'models in index.json, {"default": "<name>", "models": ["<name>", …]}',
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ModelIndexError(`${source} is not JSON: ${(error as Error).message}`);
  }
  const index = parseModelIndex(value, source);
  for (const name of index.models) {
    for (const file of Object.values(modelFileNames(name))) {
      const found = await Deno.stat(`${dir}/${file}`).then((s) => s.isFile, () => false);
      if (!found) {
        throw new ModelIndexError(
          `${source} lists '${name}', but ${dir.replace(/\/$/, "")}/${file} is missing: ` +
            "train it (`deno task train --out DIR`) or take it out of the index",
        );
      }
    }
  }
  return index;
}

/** One model's files from `dir`, as {@linkcode modelFileNames} names them. */
export async function readModelFiles(dir: string, name: string): Promise<ModelFiles> {
  const files = modelFileNames(name);
  const [weights, manifest] = await Promise.all([
    Deno.readFile(`${dir}/${files.weights}`),
    Deno.readTextFile(`${dir}/${files.manifest}`).then(JSON.parse),
  ]);
  return { weights, manifest };
}

/**
 * The models of `<dir>/index.json` as the Worker serves its bundled ones: the runtime started
 * ({@linkcode startLocalRuntime}) and each model read and uploaded on its first use.
 * @param options `load` replaces the loader (tests count the loads).
 * @throws ModelIndexError when the index is missing or invalid, or a model's files are missing.
 */
export async function openLocalModels(
  dir = MODELS_DIR,
  options: Pick<ModelRegistryOptions, "load"> = {},
): Promise<ModelRegistry> {
  const index = await readModelIndex(dir);
  return createModelRegistry(index, (name) => readModelFiles(dir, name), {
    ...options,
    start: startLocalRuntime,
    source: `${dir.replace(/\/$/, "")}/index.json`,
  });
}

/**
 * The Worker's start-up, in Deno: starts the runtime and loads one model of `<dir>/index.json` (the
 * index's default unless `name` is given).
 * @throws ModelIndexError for a bad index; ModelFileError when the model's files are corrupt or do
 *   not match.
 */
export async function startLocalClassifier(dir = MODELS_DIR, name?: string): Promise<Classifier> {
  return await (await openLocalModels(dir)).classifier(name);
}
