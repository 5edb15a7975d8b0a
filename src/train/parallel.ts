/**
 * Data-parallel gradients on two cores: each batch is cut into two shares, the trainer's thread
 * computes the first and a worker (gradient_worker.ts) the second, and the two gradients are summed,
 * weighted by their sizes, always in that order. On one core the trainer computes both shares itself,
 * the same way, so one- and two-core runs of a seed give the same weights bit for bit (dropout and
 * augmentation are drawn per sample, not from a stream). Only for networks whose noise is per sample.
 */
import * as tf from "@tensorflow/tfjs-core";
import { type BatchBuffers, batchBuffers, fillBatch, type TrainingSet } from "../data/batches.ts";
import { type Arch, ARCHITECTURES, type HostParams, type Params } from "../model/model.ts";
import { readParams } from "./export.ts";
import type { WorkerInit, WorkerReply, WorkerStep } from "./gradient_worker.ts";
import { type Gradients, gradientStep, sampleNoise } from "./loop.ts";

/** Computes a batch's gradients as two shares. */
export interface GradientPool {
  /** The cores it uses: 1 (both shares here) or 2 (the second share on a worker). */
  readonly cores: number;
  step(params: Params, samples: Uint32Array, stream: { seed: number; epoch: number }): Promise<
    Gradients
  >;
  close(): void;
}

/** How the worker rebuilds the training set. */
export type PoolConfig = Omit<WorkerInit, "kind">;

/** Starts a pool on `cores` (1 or 2) cores; the worker, if any, is ready when this resolves. */
export async function createGradientPool(
  cores: number,
  config: PoolConfig,
  set: TrainingSet,
): Promise<GradientPool> {
  const arch = config.arch;
  const buffers = batchBuffers(config.batchSize);
  const worker = cores > 1 ? await startWorker(config) : undefined;

  const local = (params: Params, samples: Uint32Array, stream: { seed: number; epoch: number }) =>
    shareGradients(arch, params, set, samples, stream, buffers);

  return {
    cores: worker ? 2 : 1,
    async step(params, samples, stream) {
      const cut = Math.ceil(samples.length / 2);
      const first = samples.subarray(0, cut), second = samples.slice(cut);
      let remote: Promise<{ loss: number; grads: HostParams }> | undefined;
      if (worker && second.length) {
        const message: WorkerStep = {
          kind: "step",
          params: readParams(arch, params),
          samples: second,
          ...stream,
        };
        remote = worker.request(message);
      }
      const a = local(params, first, stream);
      const b = second.length ? await (remote ?? local(params, second, stream)) : undefined;
      return combine(arch, a, b, first.length, second.length);
    },
    close() {
      worker?.terminate();
    },
  };
}

/**
 * One share's loss and gradients, read back to the host: its batch built, dropout drawn per sample,
 * the gradient step taken. The trainer's thread and the worker both compute shares with this.
 */
export function shareGradients(
  arch: Arch,
  params: Params,
  set: TrainingSet,
  samples: Uint32Array,
  stream: { seed: number; epoch: number },
  buffers: BatchBuffers,
): { loss: number; grads: HostParams } {
  const n = fillBatch(set, samples, stream, buffers);
  const noise = sampleNoise(stream.seed, stream.epoch, samples);
  const { loss, grads } = gradientStep(arch, params, buffers.images, buffers.labels, n, noise);
  const host = readParams(arch, grads); // copies, so that their buffers can be handed over
  tf.dispose(Object.values(grads));
  return { loss, grads: host };
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

/** A started gradient worker, answering one request at a time. */
interface GradientWorker {
  request(message: WorkerStep): Promise<{ loss: number; grads: HostParams }>;
  terminate(): void;
}

async function startWorker(config: PoolConfig): Promise<GradientWorker> {
  const worker = new Worker(new URL("./gradient_worker.ts", import.meta.url), { type: "module" });
  let pending: { resolve(reply: WorkerReply): void; reject(error: Error): void } | undefined;
  worker.onmessage = (event: MessageEvent<WorkerReply>) => pending?.resolve(event.data);
  worker.onerror = (event) => {
    event.preventDefault();
    pending?.reject(new Error(`the gradient worker failed: ${event.message}`));
  };
  const ask = (message: WorkerInit | WorkerStep, transfer: ArrayBuffer[] = []) =>
    new Promise<WorkerReply>((resolve, reject) => {
      pending = { resolve, reject };
      worker.postMessage(message, transfer);
    }).then((reply) => {
      if (reply.kind === "error") throw new Error(`the gradient worker failed: ${reply.message}`);
      return reply;
    });
  try {
    await ask({ kind: "init", ...config });
  } catch (error) {
    worker.terminate();
    throw error;
  }
  return {
    async request(message) {
      const reply = await ask(
        message,
        Object.values(message.params).map((p) => p.buffer as ArrayBuffer),
      );
      if (reply.kind !== "grads") throw new Error(`the gradient worker answered ${reply.kind}`);
      return reply;
    },
    terminate: () => worker.terminate(),
  };
}
