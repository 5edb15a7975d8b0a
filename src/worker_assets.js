// @ts-self-types="./worker_assets.d.ts"
// The binary files the Worker bundles, as wrangler.toml's rules load them (CompiledWasm, Data). Kept in
// plain JS with typed re-exports because Deno's type checker cannot read a .wasm default import.
export { default as simdWasm } from "@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-simd.wasm";
export { default as convPoolWasm } from "./model/kernels/conv_pool.wasm";
export { default as layersWasm } from "./model/kernels/layers.wasm";
export { default as webpDecoderWasm } from "@jsquash/webp/codec/dec/webp_dec.wasm";
export { default as codecWasm } from "./image/codec/codec.wasm";
