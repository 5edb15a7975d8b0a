/**
 * Data-parallel gradients on two cores: each batch is cut into two shares, the trainer's thread
 * computes the first and a worker (gradient_worker.ts) the second, and the two gradients are summed,
 * weighted by their sizes, always in that order. On one core the trainer computes both shares itself,
 * the same way, so one- and two-core runs of a seed give the same weights bit for bit (dropout and
 * augmentation are drawn per sample, not from a stream). Only for networks whose noise is per sample.
 *
 * The two threads meet in shared memory (a {@linkcode ShareChannel}): the trainer writes the
 * parameters and the worker's samples, wakes the worker with Atomics.notify, computes its own share
 * and waits with Atomics.wait for the worker's gradients. A step's two messages through the event
 * loops took ~1.5 ms of a ~17 ms step; waking a thread blocked in Atomics.wait takes microseconds.
 */
import * as tf from "@tensorflow/tfjs-core";
import { type BatchBuffers, batchBuffers, fillBatch, type TrainingSet } from "../data/batches.ts";
import { type Arch, ARCHITECTURES, type HostParams, type Params } from "../model/model.ts";
import type { WorkerInit, WorkerReply } from "./gradient_worker.ts";
import { type Gradients, gradientStep, sampleNoise } from "./loop.ts";

/** Computes a batch's gradients as two shares. */
export interface GradientPool {
  /** The cores it uses: 1 (both shares here) or 2 (the second share on a worker). */
  readonly cores: number;
  step(params: Params, samples: Uint32Array, stream: { seed: number; epoch: number }): Gradients;
  close(): void;
}

/** How the worker rebuilds the training set. */
export type PoolConfig = Omit<WorkerInit, "kind" | "channel">;

/**
 * The memory the trainer and the worker share. `control` holds the number of the step asked for
 * (REQUEST), of the step answered (REPLY), whether the answer is gradients or an error (STATUS) and
 * the share's size (COUNT); `params` and `grads` every parameter one after another, in the
 * architecture's order; `stream` the seed and epoch, then the share's loss; `error` a failure's
 * message, UTF-8.
 */
export interface ShareChannel {
  control: Int32Array;
  params: Float32Array;
  grads: Float32Array;
  samples: Uint32Array;
  stream: Float64Array;
  error: Uint8Array;
}

/** Slots of {@linkcode ShareChannel}'s `control`. */
export const CONTROL = { REQUEST: 0, REPLY: 1, STATUS: 2, COUNT: 3 } as const;
/** Slots of {@linkcode ShareChannel}'s `stream`. */
export const STREAM = { SEED: 0, EPOCH: 1, LOSS: 2 } as const;
/** STATUS: the answer holds gradients, or the worker failed (its message in `error`). */
export const STATUS = { OK: 0, FAILED: 1 };
/** A REQUEST that asks the worker to stop. */
export const CLOSE = -1;
/**
 * How long the trainer waits for a share before it gives the worker up: a share that fails is
 * answered at once with its error, so only a worker that died (its thread ended) is waited for.
 */
const WORKER_TIMEOUT_MS = 120_000;

/** How many numbers `arch`'s parameters hold, all tensors together. */
function paramCount(arch: Arch): number {
  return ARCHITECTURES[arch].params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b), 0);
}

/** A channel for `arch`'s parameters and batches of `batchSize`. */
export function createChannel(arch: Arch, batchSize: number): ShareChannel {
  const size = paramCount(arch);
  const shared = (bytes: number) => new SharedArrayBuffer(bytes);
  return {
    control: new Int32Array(shared(4 * 4)),
    params: new Float32Array(shared(4 * size)),
    grads: new Float32Array(shared(4 * size)),
    samples: new Uint32Array(shared(4 * batchSize)),
    stream: new Float64Array(shared(8 * 3)),
    error: new Uint8Array(shared(1024)),
  };
}

/** `flat`'s parameters as views, one per tensor of `arch`, in its order. */
export function paramViews(arch: Arch, flat: Float32Array): HostParams {
  const views: HostParams = {};
  let at = 0;
  for (const { name, shape } of ARCHITECTURES[arch].params) {
    const size = shape.reduce((a, b) => a * b);
    views[name] = flat.subarray(at, at + size);
    at += size;
  }
  return views;
}

/** Starts a pool on `cores` (1 or 2) cores; the worker, if any, is ready when this resolves. */
export async function createGradientPool(
  cores: number,
  config: PoolConfig,
  set: TrainingSet,
): Promise<GradientPool> {
  const arch = config.arch;
  const buffers = batchBuffers(config.batchSize);
  const worker = cores > 1 ? await startWorker(config) : undefined;

  // the trainer's gradients, kept from step to step: one set per share it may compute
  const mine = [0, 1].map(() => paramViews(arch, new Float32Array(paramCount(arch))));
  const local = (
    params: Params,
    samples: Uint32Array,
    stream: { seed: number; epoch: number },
    share: number,
  ) => ({
    loss: shareGradients(arch, params, set, samples, stream, buffers, mine[share]!),
    grads: mine[share]!,
  });

  return {
    cores: worker ? 2 : 1,
    step(params, samples, stream) {
      const cut = Math.ceil(samples.length / 2);
      const first = samples.subarray(0, cut), second = samples.subarray(cut);
      if (worker && second.length) worker.ask(params, second, stream);
      const a = local(params, first, stream, 0);
      const b = !second.length
        ? undefined
        : worker
        ? worker.answer()
        : local(params, second, stream, 1);
      return combine(arch, a, b, first.length, second.length);
    },
    close() {
      worker?.close();
    },
  };
}

/**
 * One share's loss, and its gradients read back into `into` (host arrays, one per parameter): its
 * batch built, dropout drawn per sample, the gradient step taken. The trainer's thread and the
 * worker (into the shared memory) both compute shares with this.
 */
export function shareGradients(
  arch: Arch,
  params: Params,
  set: TrainingSet,
  samples: Uint32Array,
  stream: { seed: number; epoch: number },
  buffers: BatchBuffers,
  into: HostParams,
): number {
  const n = fillBatch(set, samples, stream, buffers);
  const noise = sampleNoise(stream.seed, stream.epoch, samples);
  const { loss, grads } = gradientStep(arch, params, buffers.images, buffers.labels, n, noise);
  for (const [name, grad] of Object.entries(grads)) into[name]!.set(grad.dataSync());
  tf.dispose(Object.values(grads));
  return loss;
}

/** (a·n₁ + b·n₂) / (n₁ + n₂), parameter by parameter, as tensors for the optimiser. */
function combine(
  arch: Arch,
  a: { loss: number; grads: HostParams },
  b: { loss: number; grads: HostParams } | undefined,
  n1: number,
  n2: number,
): Gradients {
  const w1 = n1 / (n1 + n2), w2 = n2 / (n1 + n2);
  const grads: Params = {};
  for (const spec of ARCHITECTURES[arch].params) {
    const x = a.grads[spec.name]!;
    if (b) {
      const y = b.grads[spec.name]!;
      for (let i = 0; i < x.length; i++) x[i] = x[i]! * w1 + y[i]! * w2;
    }
    grads[spec.name] = tf.tensor(x, spec.shape);
  }
  return { loss: b ? a.loss * w1 + b.loss * w2 : a.loss, grads };
}

/**
 * A started gradient worker: one share asked for at a time, then its answer waited for (the
 * gradients are views of the shared memory, good until the next `ask`).
 */
interface GradientWorker {
  ask(params: Params, samples: Uint32Array, stream: { seed: number; epoch: number }): void;
  answer(): { loss: number; grads: HostParams };
  close(): void;
}

async function startWorker(config: PoolConfig): Promise<GradientWorker> {
  const { arch } = config;
  const channel = createChannel(arch, config.batchSize);
  const { control } = channel;
  const params = paramViews(arch, channel.params), grads = paramViews(arch, channel.grads);
  const worker = new Worker(new URL("./gradient_worker.ts", import.meta.url), { type: "module" });
  try {
    const reply = await new Promise<WorkerReply>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<WorkerReply>) => resolve(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(`the gradient worker failed: ${event.message}`));
      };
      worker.postMessage({ kind: "init", ...config, channel } satisfies WorkerInit);
    });
    if (reply.kind === "error") throw new Error(`the gradient worker failed: ${reply.message}`);
  } catch (error) {
    worker.terminate();
    throw error;
  }
  let asked = 0;
  return {
    ask(tensors, samples, stream) {
      for (const [name, view] of Object.entries(params)) view.set(tensors[name]!.dataSync());
      channel.samples.set(samples);
      control[CONTROL.COUNT] = samples.length;
      channel.stream[STREAM.SEED] = stream.seed;
      channel.stream[STREAM.EPOCH] = stream.epoch;
      Atomics.store(control, CONTROL.REQUEST, ++asked);
      Atomics.notify(control, CONTROL.REQUEST);
    },
    answer() {
      const started = performance.now();
      for (let seen; (seen = Atomics.load(control, CONTROL.REPLY)) !== asked;) {
        Atomics.wait(control, CONTROL.REPLY, seen, 1000);
        if (performance.now() - started > WORKER_TIMEOUT_MS) {
          throw new Error(`the gradient worker did not answer in ${WORKER_TIMEOUT_MS / 1000} s`);
        }
      }
      if (control[CONTROL.STATUS] !== STATUS.OK) {
        const end = channel.error.indexOf(0);
        const message = new TextDecoder().decode(channel.error.slice(0, end < 0 ? undefined : end));
        throw new Error(`the gradient worker failed: ${message}`);
      }
      return { loss: channel.stream[STREAM.LOSS]!, grads };
    },
    close() {
      Atomics.store(control, CONTROL.REQUEST, CLOSE);
      Atomics.notify(control, CONTROL.REQUEST);
      worker.terminate();
    },
  };
}
