/** tfjs-backend-wasm's SIMD binary, compiled by the Workers runtime at deploy time. */
export declare const simdWasm: WebAssembly.Module;
/** Our kernels, src/model/kernels/conv_pool.wasm. */
export declare const convPoolWasm: WebAssembly.Module;
/** Our general layer kernels, src/model/kernels/layers.wasm. */
export declare const layersWasm: WebAssembly.Module;
/** @jsquash/webp's decoder binary. */
export declare const webpDecoderWasm: WebAssembly.Module;
/** Our JPEG and PNG decoders, src/image/codec/codec.wasm. */
export declare const codecWasm: WebAssembly.Module;
