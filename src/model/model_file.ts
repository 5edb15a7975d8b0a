/**
 * Our model file: safetensors with PyTorch's tensor names and layouts (so the seed's `Net` loads it
 * with `load_state_dict`, and a file saved from PyTorch loads here), plus a JSON manifest beside it
 * that carries the format version, the weights' sha256 and how the model was trained and scored.
 * One loader, used by the trainer, the tests, the build and the Worker.
 */
import {
  type Arch,
  ARCHITECTURES,
  ARCHS,
  countParams,
  type HostParams,
  isArch,
  NORMALIZATION,
} from "./model.ts";
import {
  decodeSafetensors,
  type Dtype,
  encodeSafetensors,
  SafetensorsError,
} from "./safetensors.ts";
import { sha256Hex } from "./sha256.ts";

export const MODEL_FORMAT = "mnist-edge-model";
export const MODEL_FORMAT_VERSION = 1;
const HINT = "re-run `deno task train`, or restore the file with `git checkout models/`";

/** A model file or manifest that cannot be used; the message says what is wrong and how to fix it. */
export class ModelFileError extends Error {
  override name = "ModelFileError";
  constructor(problem: string, hint = HINT) {
    super(`${problem}. HINT: ${hint}`);
  }
}

/** The JSON written beside the weights (the training report). */
export interface Manifest {
  format: typeof MODEL_FORMAT;
  version: number;
  name: string;
  /** `dtype` F16: stored in half precision; I8: int8 with a scale per row (absent: F32). */
  weights: { file: string; sha256: string; bytes: number; dtype?: string };
  architecture: {
    arch: Arch;
    description: string;
    parameters: number;
    input: number[];
    normalization: { mean: number; std: number };
  };
  training: Record<string, unknown>;
  dataset: {
    source: string;
    sha256: Record<string, string>;
    train: number;
    validation: number;
    test: number;
  };
  test: {
    loss: number;
    accuracy: number;
    correct: number;
    total: number;
    per_class_accuracy: number[];
    confusion_matrix: number[][];
    /** With a "not a digit" class: the most likely digit's accuracy, and the images refused. */
    digit_accuracy?: number;
    refused?: number;
    /** The same test of the float32 weights, before they were stored in fewer bits. */
    before_quantization?: { loss: number; accuracy: number; digit_accuracy?: number };
  };
  /** How the served probabilities are calibrated: softmax(logits / temperature). */
  calibration?: {
    method: string;
    temperature: number;
    fitted_on: string;
    test_ece_before: number;
    test_ece_after: number;
  };
  created_at: string;
  runtime: Record<string, string>;
}

/**
 * Which network a file holds: its metadata's `arch` (ours write it), else the one whose tensor names
 * it has (a file saved by PyTorch carries no other hint).
 */
function archOf(names: string[], metadata: Record<string, string>): Arch {
  if (metadata.arch !== undefined) {
    if (isArch(metadata.arch)) return metadata.arch;
    throw new ModelFileError(
      `the file's arch "${metadata.arch}" is not one of ${ARCHS.join(", ")}`,
    );
  }
  const found = ARCHS.find((arch) =>
    ARCHITECTURES[arch].params.every((s) => names.includes(s.name))
  );
  if (!found) {
    const expected = ARCHS.map((a) => ARCHITECTURES[a].params.map((s) => s.name).join(", "))
      .join(" or ");
    throw new ModelFileError(
      `tensors [${names.join(", ")}] are not the seed's Net (expected ${expected})`,
    );
  }
  return found;
}

/**
 * Serialises parameters as our safetensors file, in PyTorch's state_dict order, stored as `dtype`
 * (the network's recipe unless given); with I8, only the weight matrices and kernels are, biases
 * stay F32.
 */
export function encodeModel(
  arch: Arch,
  params: HostParams,
  dtype: Dtype = ARCHITECTURES[arch].recipe.weights,
): Uint8Array {
  const tensors = Object.fromEntries(
    ARCHITECTURES[arch].params.map((s) => [s.name, {
      shape: s.shape,
      data: params[s.name]!,
      dtype: dtype === "I8" && s.shape.length < 2 ? "F32" as const : dtype,
    }]),
  );
  return encodeSafetensors(tensors, {
    format: MODEL_FORMAT,
    version: String(MODEL_FORMAT_VERSION),
    arch,
  });
}

/**
 * Reads a weights file: every tensor the network needs, with PyTorch's exact shape, and nothing else.
 * @throws ModelFileError saying what is wrong and how to fix it.
 */
export function decodeModel(bytes: Uint8Array, file = "model"): { arch: Arch; params: HostParams } {
  let decoded;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new ModelFileError(`${file}: ${e.message}`);
    throw e;
  }
  const names = Object.keys(decoded.tensors);
  const arch = archOf(names, decoded.metadata ?? {});
  const params: HostParams = {};
  for (const spec of ARCHITECTURES[arch].params) {
    const t = decoded.tensors[spec.name];
    if (!t) throw new ModelFileError(`${file}: the ${arch} needs a tensor ${spec.name}`);
    if (t.shape.join() !== spec.shape.join()) {
      throw new ModelFileError(
        `${file}: ${spec.name} has shape [${t.shape}], expected [${spec.shape}]`,
      );
    }
    if (!t.data.every(Number.isFinite)) {
      throw new ModelFileError(`${file}: ${spec.name} holds NaN or Infinity`);
    }
    params[spec.name] = t.data;
  }
  const extra = names.filter((n) => !params[n]);
  if (extra.length) throw new ModelFileError(`${file}: unexpected tensors ${extra.join(", ")}`);
  return { arch, params };
}

/**
 * Checks that `manifest` is ours, of this version, and describes `weights` (by sha256 and size).
 * @throws ModelFileError on any mismatch.
 */
export async function checkManifest(manifest: unknown, weights: Uint8Array): Promise<Manifest> {
  const m = manifest as Partial<Manifest> | null;
  if (typeof m !== "object" || m === null || m.format !== MODEL_FORMAT) {
    throw new ModelFileError(`manifest is not an ${MODEL_FORMAT} manifest`);
  }
  if (m.version !== MODEL_FORMAT_VERSION) {
    throw new ModelFileError(
      `manifest has format version ${m.version}; this code reads version ${MODEL_FORMAT_VERSION}`,
    );
  }
  const arch = m.architecture?.arch;
  if (!isArch(arch) || m.architecture?.parameters !== countParams(arch)) {
    throw new ModelFileError("manifest's architecture is unknown or has the wrong parameter count");
  }
  const norm = m.architecture.normalization;
  if (norm?.mean !== NORMALIZATION.mean || norm?.std !== NORMALIZATION.std) {
    throw new ModelFileError("manifest's normalisation differs from the one this code applies");
  }
  const temperature = m.calibration?.temperature;
  if (m.calibration !== undefined && !(Number.isFinite(temperature) && temperature! > 0)) {
    throw new ModelFileError("manifest's calibration temperature is not a positive number");
  }
  const sha256 = await sha256Hex(weights);
  if (m.weights?.sha256 !== sha256) {
    throw new ModelFileError(
      `weights sha256 ${sha256} does not match the manifest's ${m.weights?.sha256}: the file is corrupt or from another run`,
    );
  }
  return m as Manifest;
}

/** Loads and checks weights + manifest: the one way to open a model. */
export async function loadModel(
  weights: Uint8Array,
  manifest: unknown,
): Promise<{ arch: Arch; params: HostParams; manifest: Manifest }> {
  const checked = await checkManifest(manifest, weights);
  const { arch, params } = decodeModel(weights, checked.weights.file);
  if (arch !== checked.architecture.arch) {
    throw new ModelFileError(
      `weights hold a ${arch} but the manifest says ${checked.architecture.arch}`,
    );
  }
  return { arch, params, manifest: checked };
}
