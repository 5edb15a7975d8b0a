/**
 * Starts tfjs' WASM SIMD backend, in Deno and in the Worker. (The pure-JS cpu backend, for comparison,
 * is Deno's only: backend_deno.ts, so the Worker bundle carries none of it.)
 *
 * tfjs-backend-wasm fetches and compiles its .wasm from bytes, which Cloudflare Workers forbid; there the
 * binary arrives as a precompiled `WebAssembly.Module` (an ES import), and tfjs has no option to take one
 * (upstream tensorflow/tfjs#8157). So we register the "wasm" backend ourselves: the same Emscripten glue
 * and `BackendWasm` class that tfjs uses, with Emscripten's documented `instantiateWasm` hook handing it
 * our module. Deno compiles the module from the npm package's file; the Worker imports it.
 *
 * Our own kernel modules, conv_pool.wasm and layers.wasm (src/model/kernels/), are instantiated on
 * that instance's memory and registered with tfjs next to its kernels.
 */
import * as tf from "@tensorflow/tfjs-core";
import { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
// The Emscripten glue serves both the plain and the SIMD binary; which one runs is the module we pass.
import wasmGlue from "@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm.js";
import type { BackendWasmModule } from "@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm.d.ts";
import { registerWasmConvPool } from "./kernels/conv_pool.ts";
import { registerWasmLayers } from "./kernels/layers.ts";

// The glue's .d.ts declares only the module type; the file's default export is its factory.
const createWasmGlue = wasmGlue as unknown as (config: {
  instantiateWasm: (
    imports: WebAssembly.Imports,
    done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
  ) => object;
}) => Promise<BackendWasmModule & { cwrap: Cwrap }>;
// deno-lint-ignore no-explicit-any
type Cwrap = (name: string, returns: string | null, args: string[]) => any;

export type BackendName = "wasm" | "cpu";

/** The SIMD binary as shipped in the npm package (for runtimes that may compile wasm themselves). */
export const SIMD_WASM_SPECIFIER =
  "@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-simd.wasm";

// A SIMD instruction (i8x16.splat of 0) in the smallest valid module: if this validates, SIMD is there.
const SIMD_PROBE = Uint8Array.from(
  atob("AGFzbQEAAAABBQFgAAF7AwIBAAoKAQgAQQD9D/1iCw=="),
  (c) => c.charCodeAt(0),
);

/** Whether this runtime can run WebAssembly SIMD. */
export function hasWasmSimd(): boolean {
  return WebAssembly.validate(SIMD_PROBE);
}

/** The compiled WebAssembly the wasm backend runs. */
export interface WasmModules {
  /** tfjs-backend-wasm-simd.wasm */
  tfjs: WebAssembly.Module;
  /** src/model/kernels/conv_pool.wasm */
  convPool: WebAssembly.Module;
  /** src/model/kernels/layers.wasm */
  layers: WebAssembly.Module;
}

/**
 * Makes `wasm` the active tfjs backend, instantiated from `modules`.
 * @throws Error when the runtime lacks WebAssembly SIMD: we never fall back silently.
 */
export async function useWasmBackend(modules: WasmModules): Promise<void> {
  if (!hasWasmSimd()) {
    throw new Error(
      "this runtime has no WebAssembly SIMD; use a current Deno/V8, or --backend cpu to compare",
    );
  }
  if (tf.getBackend() === "wasm") return;
  tf.removeBackend("wasm");
  // tfjs logs a failing factory's error and reports only `false`: keep the cause for our message.
  let cause: unknown;
  tf.registerBackend(
    "wasm",
    () => startWasm(modules).catch((error) => Promise.reject(cause = error)),
  );
  if (!(await tf.setBackend("wasm"))) {
    const reason = cause instanceof Error ? `: ${cause.message}` : "";
    throw new Error(`tfjs could not start the wasm backend${reason}`, { cause });
  }
}

/** Instantiates tfjs-backend-wasm from `modules.tfjs`, and our kernels on its memory. */
async function startWasm(modules: WasmModules): Promise<BackendWasm> {
  // The glue's promise never settles if instantiation fails: race it against that failure.
  let failed: (error: unknown) => void = () => {};
  const failure = new Promise<never>((_, reject) => (failed = reject));
  let memory: WebAssembly.Memory | undefined;
  const wasm = await Promise.race([
    createWasmGlue({
      instantiateWasm(
        imports: WebAssembly.Imports,
        done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
      ) {
        WebAssembly.instantiate(modules.tfjs, imports).then((instance) => {
          memory = instance.exports.memory as WebAssembly.Memory;
          done(instance, modules.tfjs);
        }, failed);
        return {};
      },
    }),
    failure,
  ]);
  // The bridge tfjs-backend-wasm's own init() sets up (backend_wasm.ts, v4.22.0).
  wasm.tfjs = {
    init: wasm.cwrap("init", null, []),
    initWithThreadsCount: wasm.cwrap("init_with_threads_count", null, ["number"]),
    getThreadsCount: wasm.cwrap("get_threads_count", "number", []),
    registerTensor: wasm.cwrap("register_tensor", null, ["number", "number", "number"]),
    disposeData: wasm.cwrap("dispose_data", null, ["number"]),
    dispose: wasm.cwrap("dispose", null, []),
  };
  const backend = new BackendWasm(wasm);
  registerWasmConvPool(modules.convPool, memory!, backend);
  registerWasmLayers(modules.layers, memory!, backend);
  return backend;
}
