/**
 * Checkpoints: parameters and Adam's moments as safetensors (the same format as the model, with
 * `adam.m.*` / `adam.v.*` tensors beside PyTorch's names) and the loop's progress in its metadata.
 * Written at each epoch's end and on Ctrl-C; `--resume` continues from one.
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  type Arch,
  ARCHITECTURES,
  type HostParams,
  type Params,
  toTensors,
} from "../model/model.ts";
import { ModelFileError } from "../model/model_file.ts";
import { decodeSafetensors, encodeSafetensors, type Tensor } from "../model/safetensors.ts";
import { type AdamState, adamStateFromHost } from "./adam.ts";
import { sha256Hex } from "../model/sha256.ts";
import { writeFilesAtomic } from "./files.ts";
import type { Progress } from "./loop.ts";

const KIND = "mnist-edge-checkpoint";

/** What must match for a checkpoint to be resumed with the current flags. */
export interface RunIdentity {
  arch: Arch;
  seed: number;
  batchSize: number;
  lr: number;
  schedule: string;
  epochs: number;
  valSplit: number;
  /** Absent in checkpoints of runs that could not augment. */
  augment?: boolean;
  data: string;
}

export interface Checkpoint {
  identity: RunIdentity;
  progress: Progress;
  params: Params;
  adam: AdamState;
}

/** Saves a checkpoint atomically. */
export async function saveCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  const { identity, progress, params, adam } = checkpoint;
  const tensors: Record<string, Tensor> = {};
  for (const spec of ARCHITECTURES[identity.arch].params) {
    const read = (t: tf.Tensor) => ({ shape: spec.shape, data: t.dataSync() as Float32Array });
    tensors[spec.name] = read(params[spec.name]!);
    tensors[`adam.m.${spec.name}`] = read(adam.m[spec.name]!);
    tensors[`adam.v.${spec.name}`] = read(adam.v[spec.name]!);
  }
  const state = {
    kind: KIND,
    identity: JSON.stringify(identity),
    progress: JSON.stringify(progress),
    adam_step: String(adam.step),
  };
  const metadata = { ...state, sha256: await digest(tensors, state) };
  await writeFilesAtomic({ [path]: encodeSafetensors(tensors, metadata) });
}

/**
 * sha256 of every tensor's data in name order, then of the loop's state: a flipped bit anywhere
 * must not resume silently.
 */
async function digest(
  tensors: Record<string, Tensor>,
  state: Record<string, string>,
): Promise<string> {
  const names = Object.keys(tensors).sort();
  const text = new TextEncoder().encode(JSON.stringify(state));
  const all = new Uint8Array(names.reduce((n, k) => n + tensors[k]!.data.byteLength, text.length));
  let at = 0;
  for (const name of names) {
    const { data } = tensors[name]!;
    all.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  all.set(text, at);
  return await sha256Hex(all);
}

/**
 * Loads a checkpoint written by `saveCheckpoint` for a run with the same `identity`.
 * @throws ModelFileError when it is missing, corrupt, or from a run with other settings.
 */
export async function loadCheckpoint(path: string, identity: RunIdentity): Promise<Checkpoint> {
  const hint = "train without --resume to start over";
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new ModelFileError(`cannot resume: ${path}: ${(e as Error).message}`, hint);
  }
  let decoded;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (e) {
    throw new ModelFileError(`cannot resume: ${path}: ${(e as Error).message}`, hint);
  }
  const { tensors, metadata } = decoded;
  if (metadata.kind !== KIND) {
    throw new ModelFileError(`cannot resume: ${path} is not a checkpoint`, hint);
  }
  const { sha256, ...state } = metadata;
  if (sha256 !== await digest(tensors, state)) {
    throw new ModelFileError(`cannot resume: ${path} is corrupt (it fails its sha256)`, hint);
  }
  const saved = JSON.parse(metadata.identity ?? "{}") as RunIdentity;
  for (const key of Object.keys(identity) as (keyof RunIdentity)[]) {
    if (saved[key] !== identity[key]) {
      throw new ModelFileError(
        `cannot resume: the checkpoint was made with ${key}=${saved[key]}, this run has ${
          identity[key]
        }`,
        `pass the same flags as the interrupted run, or ${hint}`,
      );
    }
  }
  const host = (prefix: string): HostParams => {
    const out: HostParams = {};
    for (const spec of ARCHITECTURES[identity.arch].params) {
      const t = tensors[prefix + spec.name];
      if (!t || t.shape.join() !== spec.shape.join()) {
        throw new ModelFileError(
          `cannot resume: ${path} lacks a valid ${prefix}${spec.name}`,
          hint,
        );
      }
      out[spec.name] = t.data;
    }
    return out;
  };
  const params = toTensors(identity.arch, host(""));
  const adam = adamStateFromHost(
    Number(metadata.adam_step),
    host("adam.m."),
    host("adam.v."),
    params,
  );
  return { identity, progress: JSON.parse(metadata.progress!) as Progress, params, adam };
}
