/**
 * The cnn's first block, fused into two tfjs kernels: Conv2d(1, 32, 3) → ReLU → max_pool2d(2) →
 * Dropout2d forward (`convPool`), and its weight and bias gradients (`convPoolGrad`).
 *
 * On the wasm backend they run conv_pool.c, our WebAssembly SIMD build, in tfjs' own memory; on
 * the cpu backend they run the TypeScript below, written as plainly as the arithmetic allows. The
 * two agree bit for bit (the TypeScript rounds to float32 after each operation, as the C does), and
 * tests/kernels_test.ts holds them to it. Why a kernel of our own: see "Performance" in the README.
 *
 * Layouts: images [N, 784] (normalised pixels of 28×28 images); weight [32, 9] (PyTorch's
 * [32, 1, 3, 3]); bias [32]; dropout [N, 32] (0 or 1/(1−p)); out [N, 32·169] in PyTorch's
 * channel-first flatten order; argmax int32 [N, 32·169]: the conv output (y·26 + x) each pooled
 * value came from, the first maximum of conv + bias in its window in row-major order — where
 * PyTorch's max_pool2d routes the gradient whenever it is not zero (ReLU open).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";

const SIDE = 28, CONV_SIDE = 26, POOLED_SIDE = 13, P = POOLED_SIDE * POOLED_SIDE, C = 32, K = 9;

const CONV_POOL = "MnistConvPool", CONV_POOL_GRAD = "MnistConvPoolGrad";

/** conv_pool.c's exports: pointers are byte offsets into the memory it imports (tfjs'). */
export interface ConvPoolExports {
  /** Bytes of scratch memory either pass needs (one image's patches). */
  conv_pool_scratch_bytes(): number;
  conv_pool_forward(
    n: number,
    images: number,
    weight: number,
    bias: number,
    dropout: number,
    out: number,
    argmax: number,
    scratch: number,
  ): void;
  conv_pool_backward(
    n: number,
    images: number,
    dout: number,
    out: number,
    argmax: number,
    dropout: number,
    dweight: number,
    dbias: number,
    scratch: number,
  ): void;
}

export interface ConvPoolResult {
  /** dropout · max-pool(relu(conv(images) + bias)), [N, 32·169] */
  out: tf.Tensor2D;
  /** Where each pooled value came from; only for training (when given a dropout mask). */
  argmax?: tf.Tensor2D;
}

/** The block's forward pass; with `dropout` (training) it also returns `argmax` for the backward. */
export function convPool(
  images: tf.Tensor2D,
  weight: tf.Tensor,
  bias: tf.Tensor,
  dropout?: tf.Tensor2D,
): ConvPoolResult {
  const n = images.shape[0];
  expectShape(images, [n, SIDE * SIDE], "float32", "images");
  expectShape(weight, [C, K], "float32", "weight");
  expectShape(bias, [C], "float32", "bias");
  const inputs: tf.NamedTensorMap = { images, weight, bias };
  if (dropout) inputs.dropout = expectShape(dropout, [n, C], "float32", "dropout");
  const outputs = tf.engine().runKernel(CONV_POOL, inputs) as tf.Tensor2D | tf.Tensor2D[];
  if (!Array.isArray(outputs)) return { out: outputs };
  return { out: outputs[0]!, argmax: outputs[1]! };
}

/** Gradients of the block's weight [32, 9] and bias [32], given ∂loss/∂out and the forward's results. */
export function convPoolGrad(
  images: tf.Tensor2D,
  dout: tf.Tensor2D,
  out: tf.Tensor2D,
  argmax: tf.Tensor2D,
  dropout: tf.Tensor2D,
): { dweight: tf.Tensor2D; dbias: tf.Tensor1D } {
  const n = images.shape[0];
  expectShape(images, [n, SIDE * SIDE], "float32", "images");
  for (const [t, name] of [[dout, "dout"], [out, "out"]] as const) {
    expectShape(t, [n, C * P], "float32", name);
  }
  expectShape(argmax, [n, C * P], "int32", "argmax");
  expectShape(dropout, [n, C], "float32", "dropout");
  const [dweight, dbias] = tf.engine().runKernel(
    CONV_POOL_GRAD,
    { images, dout, out, argmax, dropout },
  ) as [tf.Tensor2D, tf.Tensor1D];
  return { dweight, dbias };
}

/** The kernels read raw memory: a tensor of another shape or type must never reach them. */
function expectShape<T extends tf.Tensor>(t: T, shape: number[], dtype: string, name: string): T {
  if (
    t.dtype !== dtype || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])
  ) {
    throw new TypeError(
      `convPool: ${name} must be ${dtype} [${shape}], got ${t.dtype} [${t.shape}]`,
    );
  }
  return t;
}

/**
 * Registers the wasm kernels: `module` is conv_pool.wasm, instantiated on `memory`, the memory of
 * the tfjs-backend-wasm instance that `backend` wraps. Call once per wasm backend.
 */
export function registerWasmConvPool(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  backend: BackendWasm,
): void {
  const c = new WebAssembly.Instance(module, { env: { memory } })
    .exports as unknown as ConvPoolExports;
  // The Emscripten glue exports malloc; tfjs' typings leave it out. Held for the backend's lifetime.
  const malloc = (backend.wasm as unknown as { _malloc(bytes: number): number })._malloc;
  const scratch = malloc(c.conv_pool_scratch_bytes());
  const at = (t: tf.TensorInfo | undefined) => (t ? backend.getMemoryOffset(t.dataId) : 0);
  register(CONV_POOL, "wasm", ({ inputs }) => {
    const { images, weight, bias, dropout } = inputs;
    const n = images!.shape[0]!;
    const out = backend.makeOutput([n, C * P], "float32");
    const argmax = dropout ? backend.makeOutput([n, C * P], "int32") : undefined;
    c.conv_pool_forward(
      n,
      at(images),
      at(weight),
      at(bias),
      at(dropout),
      at(out),
      at(argmax),
      scratch,
    );
    return argmax ? [out, argmax] : out;
  });
  register(CONV_POOL_GRAD, "wasm", ({ inputs }) => {
    const { images, dout, out, argmax, dropout } = inputs;
    const n = images!.shape[0]!;
    const dweight = backend.makeOutput([C, K], "float32");
    const dbias = backend.makeOutput([C], "float32");
    c.conv_pool_backward(
      n,
      at(images),
      at(dout),
      at(out),
      at(argmax),
      at(dropout),
      at(dweight),
      at(dbias),
      scratch,
    );
    return [dweight, dbias];
  });
}

function register(kernelName: string, backendName: string, kernelFunc: tf.KernelFunc): void {
  // a new wasm backend replaces the last one's kernels
  if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ kernelName, backendName, kernelFunc });
}

// The cpu backend's kernels: conv_pool.c's arithmetic, in float32 and in the same order.
const f32 = Math.fround;

/** The forward pass on plain arrays (see the layouts above); `dropout` (and so `argmax`) absent at
 * inference. */
export function convPoolForward(
  images: Float32Array,
  weight: Float32Array,
  bias: Float32Array,
  dropout?: Float32Array,
): { out: Float32Array; argmax: Int32Array } {
  const n = images.length / (SIDE * SIDE);
  const out = new Float32Array(n * C * P), argmax = new Int32Array(dropout ? n * C * P : 0);
  for (let img = 0; img < n; img++) {
    for (let c = 0; c < C; c++) {
      const scale = dropout ? dropout[img * C + c]! : 1;
      for (let p = 0; p < P; p++) {
        const py = Math.floor(p / POOLED_SIDE), px = p % POOLED_SIDE;
        let best = 0, where = 0;
        for (let q = 0; q < 4; q++) {
          const y = 2 * py + (q >> 1), x = 2 * px + (q & 1);
          let s = 0;
          for (let k = 0; k < K; k++) {
            const pixel = images[img * SIDE * SIDE + (y + Math.floor(k / 3)) * SIDE + x + (k % 3)]!;
            const term = f32(weight[c * K + k]! * pixel);
            s = k === 0 ? term : f32(s + term);
          }
          s = f32(s + bias[c]!);
          if (q === 0 || s > best) [best, where] = [s, y * CONV_SIDE + x];
        }
        const i = (img * C + c) * P + p;
        out[i] = f32(Math.max(best, 0) * scale);
        if (dropout) argmax[i] = where;
      }
    }
  }
  return { out, argmax };
}

/** The backward pass on plain arrays: gradients of weight [32·9] and bias [32]. */
export function convPoolBackward(
  images: Float32Array,
  dout: Float32Array,
  out: Float32Array,
  argmax: Int32Array,
  dropout: Float32Array,
): { dweight: Float32Array; dbias: Float32Array } {
  const n = images.length / (SIDE * SIDE);
  const dweight = new Float32Array(C * K), dbias = new Float32Array(C);
  for (let img = 0; img < n; img++) {
    for (let c = 0; c < C; c++) {
      const sums = new Float32Array(K); // one per vector lane in the C
      let sumBias = 0;
      for (let p = 0; p < P; p++) {
        const i = (img * C + c) * P + p;
        // ReLU passes the gradient where the output is positive (a dropped channel's is 0)
        const g = out[i]! > 0 ? f32(dout[i]! * dropout[img * C + c]!) : 0;
        const y = Math.floor(argmax[i]! / CONV_SIDE), x = argmax[i]! % CONV_SIDE;
        for (let k = 0; k < K; k++) {
          const pixel = images[img * SIDE * SIDE + (y + Math.floor(k / 3)) * SIDE + x + (k % 3)]!;
          sums[k] = f32(sums[k]! + f32(g * pixel));
        }
        sumBias = f32(sumBias + g);
      }
      for (let k = 0; k < K; k++) dweight[c * K + k] = f32(dweight[c * K + k]! + sums[k]!);
      dbias[c] = f32(dbias[c]! + sumBias);
    }
  }
  return { dweight, dbias };
}

/** A cpu-backend tensor's values, as the typed array it holds. */
function valuesOf<T extends Float32Array | Int32Array>(
  backend: tf.KernelBackend,
  t: tf.TensorInfo,
) {
  return (backend as MathBackendCPU).data.get(t.dataId).values as T;
}

function cpuKernels(): void {
  register(CONV_POOL, "cpu", ({ inputs, backend }) => {
    const cpu = backend as MathBackendCPU;
    const values = (t: tf.TensorInfo) => valuesOf<Float32Array>(cpu, t);
    const { images, weight, bias, dropout } = inputs;
    const n = images!.shape[0]!;
    const r = convPoolForward(
      values(images!),
      values(weight!),
      values(bias!),
      dropout && values(dropout),
    );
    const out = cpu.makeTensorInfo([n, C * P], "float32", r.out);
    return dropout ? [out, cpu.makeTensorInfo([n, C * P], "int32", r.argmax)] : out;
  });
  register(CONV_POOL_GRAD, "cpu", ({ inputs, backend }) => {
    const cpu = backend as MathBackendCPU;
    const values = (t: tf.TensorInfo) => valuesOf<Float32Array>(cpu, t);
    const { images, dout, out, argmax, dropout } = inputs;
    const r = convPoolBackward(
      values(images!),
      values(dout!),
      values(out!),
      valuesOf<Int32Array>(cpu, argmax!),
      values(dropout!),
    );
    return [
      cpu.makeTensorInfo([C, K], "float32", r.dweight),
      cpu.makeTensorInfo([C], "float32", r.dbias),
    ];
  });
}
cpuKernels();
