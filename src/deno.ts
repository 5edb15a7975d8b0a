/**
 * The runtime entry for Deno (`deno task serve`, training, the tests and the benchmarks), as
 * src/worker.ts is for workerd: it compiles the WebAssembly that a Worker imports as modules — tfjs'
 * wasm backend and the WebP decoder from their npm packages, our kernel and codec from their committed
 * builds — and reads the model from a folder. It also offers tfjs' pure-JS cpu backend, for
 * comparison; the Worker never carries it.
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
import { type Classifier, loadClassifier } from "./model/classifier.ts";
import { registerCpuConvPool } from "./model/kernels/conv_pool_cpu.ts";

/** Where the committed build of src/model/kernels/conv_pool.c is. */
export const CONV_POOL_WASM = new URL("./model/kernels/conv_pool.wasm", import.meta.url);

/** The committed build of src/image/codec/codec.c, beside its source. */
export const CODEC_WASM = new URL("./image/codec/codec.wasm", import.meta.url);

/** The committed model's folder. */
export const MODELS_DIR = new URL("../models/", import.meta.url).pathname;

/** Compiles tfjs-backend-wasm-simd.wasm (from the npm package that deno.json pins) and our kernels. */
export async function compileWasmModules(): Promise<WasmModules> {
  const tfjsPath = createRequire(import.meta.url).resolve(SIMD_WASM_SPECIFIER);
  const [tfjs, convPool] = await Promise.all(
    [tfjsPath, CONV_POOL_WASM].map(async (path) => WebAssembly.compile(await Deno.readFile(path))),
  );
  return { tfjs: tfjs!, convPool: convPool! };
}

/** Makes the pure-JS cpu backend active, with our kernels (for parity tests and speed comparisons). */
export async function useCpuBackend(): Promise<void> {
  registerCpuConvPool();
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

/**
 * The Worker's start-up, in Deno: starts tfjs on wasm, the JPEG/PNG codec and the WebP decoder, and
 * loads `<dir>/mnist-cnn.{safetensors,json}`.
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
