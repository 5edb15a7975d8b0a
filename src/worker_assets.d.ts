/** tfjs-backend-wasm's SIMD binary, compiled by the Workers runtime at deploy time. */
export declare const simdWasm: WebAssembly.Module;
/** Our kernels, src/kernels/conv_pool.wasm. */
export declare const convPoolWasm: WebAssembly.Module;
/** @jsquash/webp's decoder binary. */
export declare const webpDecoderWasm: WebAssembly.Module;
/** @jsquash/jpeg's decoder binary. */
export declare const jpegDecoderWasm: WebAssembly.Module;
/** models/mnist-cnn.safetensors, the committed weights. */
export declare const modelWeights: ArrayBuffer;
