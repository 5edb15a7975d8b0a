/**
 * A second core for training: a Deno worker that holds its own tfjs wasm backend and its own copy of
 * the training set, and computes the gradients of its share of each batch (src/train/parallel.ts).
 * Everything it is sent and answers is plain typed arrays.
 */
/// <reference lib="deno.worker" />
import { startBackend } from "../deno.ts";
import type { BackendName } from "../model/backend.ts";
import { batchBuffers, type TrainingSet } from "../data/batches.ts";
import { holdOut, loadDataset } from "../data/mnist.ts";
import { type Arch, type HostParams, toTensors } from "../model/model.ts";
import { shareGradients } from "./parallel.ts";
import * as tf from "@tensorflow/tfjs-core";

/** What the trainer sends first: enough to rebuild the same training set. */
export interface WorkerInit {
  kind: "init";
  arch: Arch;
  backend: BackendName;
  data?: string;
  valSplit: number;
  negatives: number;
  augment: boolean;
  /** The training set's share of digits cut from a neighbour, and its pairs (src/data/batches.ts). */
  cutShare: number;
  pairs: number;
  batchSize: number;
}

/** One share of one batch. */
export interface WorkerStep {
  kind: "step";
  params: HostParams;
  samples: Uint32Array;
  seed: number;
  epoch: number;
}

/** The worker's answer to a step (or to init: `ready`), or what went wrong. */
export type WorkerReply =
  | { kind: "ready" }
  | { kind: "grads"; loss: number; grads: HostParams }
  | { kind: "error"; message: string };

let arch: Arch, set: TrainingSet, buffers: ReturnType<typeof batchBuffers>;

self.onmessage = async (event: MessageEvent<WorkerInit | WorkerStep>) => {
  try {
    const message = event.data;
    if (message.kind === "init") {
      await startBackend(message.backend);
      const data = await loadDataset(message.data);
      const digits = message.valSplit > 0
        ? holdOut(data.train, message.valSplit).train
        : data.train;
      arch = message.arch;
      const { negatives, augment, cutShare, pairs } = message;
      set = { digits, negatives, augment, cutShare, pairs };
      buffers = batchBuffers(message.batchSize);
      self.postMessage({ kind: "ready" } satisfies WorkerReply);
      return;
    }
    const params = toTensors(arch, message.params);
    const { loss, grads: host } = shareGradients(
      arch,
      params,
      set,
      message.samples,
      message,
      buffers,
    );
    tf.dispose(Object.values(params));
    self.postMessage(
      { kind: "grads", loss, grads: host } satisfies WorkerReply,
      Object.values(host).map((a) => a.buffer as ArrayBuffer),
    );
  } catch (error) {
    self.postMessage({ kind: "error", message: (error as Error).message } satisfies WorkerReply);
  }
};
