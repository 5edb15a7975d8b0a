/**
 * A second core for training: a Deno worker that holds its own tfjs wasm backend and its own copy of
 * the training set, and computes the gradients of its share of each batch (src/train/parallel.ts).
 * After `init` it waits in Atomics.wait for the trainer's next request in the shared channel, and
 * answers in it, until the trainer closes the channel or ends the worker.
 */
/// <reference lib="deno.worker" />
import { startBackend } from "../deno.ts";
import type { BackendName } from "../model/backend.ts";
import { batchBuffers, type SetRecipe, type TrainingSet } from "../data/batches.ts";
import { holdOut, loadDataset } from "../data/mnist.ts";
import { type Arch, toTensors } from "../model/model.ts";
import {
  CLOSE,
  CONTROL,
  paramViews,
  type ShareChannel,
  shareGradients,
  STATUS,
  STREAM,
} from "./parallel.ts";
import * as tf from "@tensorflow/tfjs-core";

/** What the trainer sends: enough to rebuild the same training set, and the channel. */
export interface WorkerInit {
  kind: "init";
  arch: Arch;
  backend: BackendName;
  data?: string;
  valSplit: number;
  /** The training set but its digits, which the worker reads from `data` itself. */
  set: SetRecipe;
  batchSize: number;
  channel: ShareChannel;
}

/** The worker's answer to init: ready to serve shares, or what went wrong. */
export type WorkerReply = { kind: "ready" } | { kind: "error"; message: string };

self.onmessage = async (event: MessageEvent<WorkerInit>) => {
  const init = event.data;
  let set: TrainingSet;
  try {
    await startBackend(init.backend);
    const data = await loadDataset(init.data);
    const digits = init.valSplit > 0 ? holdOut(data.train, init.valSplit).train : data.train;
    set = { ...init.set, digits };
  } catch (error) {
    self.postMessage({ kind: "error", message: (error as Error).message } satisfies WorkerReply);
    return;
  }
  self.postMessage({ kind: "ready" } satisfies WorkerReply);
  serve(init.arch, set, init.batchSize, init.channel);
};

/** Answers the trainer's requests, one share each, until it closes the channel. */
function serve(arch: Arch, set: TrainingSet, batchSize: number, channel: ShareChannel): void {
  const { control } = channel;
  const buffers = batchBuffers(batchSize);
  const params = paramViews(arch, channel.params), grads = paramViews(arch, channel.grads);
  let answered = 0;
  for (;;) {
    Atomics.wait(control, CONTROL.REQUEST, answered);
    const asked = Atomics.load(control, CONTROL.REQUEST);
    if (asked === CLOSE) return;
    const tensors = toTensors(arch, params);
    try {
      const samples = channel.samples.slice(0, control[CONTROL.COUNT]);
      const stream = { seed: channel.stream[STREAM.SEED]!, epoch: channel.stream[STREAM.EPOCH]! };
      channel.stream[STREAM.LOSS] = shareGradients(
        arch,
        tensors,
        set,
        samples,
        stream,
        buffers,
        grads,
      );
      control[CONTROL.STATUS] = STATUS.OK;
    } catch (error) {
      const message = new TextEncoder().encode((error as Error).message).subarray(0, 1023);
      channel.error.fill(0).set(message);
      control[CONTROL.STATUS] = STATUS.FAILED;
    } finally {
      tf.dispose(Object.values(tensors));
    }
    answered = asked;
    Atomics.store(control, CONTROL.REPLY, asked);
    Atomics.notify(control, CONTROL.REPLY);
  }
}
