/**
 * The committed models: models/index.json names them, in order, and the default one. The registry
 * validates the index, and starts each model on its first use, once per isolate: a model nobody asks
 * for is never uploaded to tfjs, and one that fails to load keeps failing the same way (its files
 * cannot get better by retrying). The same registry serves the Worker (files bundled by the build)
 * and Deno (files read from a folder).
 */
import { type Classifier, loadClassifier, type ModelInfo } from "./classifier.ts";
import { checkManifest, type Manifest } from "./model_file.ts";

/** A model's name: the stem of its files, the `?model=` of the API. */
export const MODEL_NAME = /^[a-z0-9-]{1,64}$/;

/**
 * models/index.json: the models served, in order, the one served when none is named, the one
 * `POST /read` uses when none is named (the default unless said), and each model's partner: the
 * network `POST /classify` also asks which digit an image is (`readTogether` in classifier.ts).
 */
export interface ModelIndex {
  default: string;
  reader?: string;
  partners?: Record<string, string>;
  models: string[];
}

/** One model's files: the safetensors bytes and the parsed manifest. */
export interface ModelFiles {
  weights: Uint8Array;
  manifest: unknown;
}

/** A model as the Worker bundles it: the weights as wrangler's Data rule gives them. */
export interface BundledModel {
  weights: ArrayBuffer | Uint8Array;
  manifest: unknown;
}

/** What GET /model tells of a model: the served facts ({@linkcode ModelInfo}) and its manifest whole. */
export interface ModelCard extends ModelInfo {
  /** Architecture, training recipe, dataset, test results, calibration: as training wrote it. */
  manifest: Manifest;
}

/** The index, or a model it names, cannot be served; the message says what to change. */
export class ModelIndexError extends Error {
  override name = "ModelIndexError";
}

/** The committed models, each started on first use. */
export interface ModelRegistry {
  /** The model served when none is named. */
  readonly defaultModel: string;
  /** The model `POST /read` uses when none is named. */
  readonly readerModel: string;
  /** Per model, the network `POST /classify` also asks which digit an image is (none unless paired). */
  readonly partners: Readonly<Record<string, string>>;
  /** Every model, in the index's order. */
  readonly names: readonly string[];
  /** Whether the index lists `name`. */
  has(name: string): boolean;
  /**
   * The model, started on first use: the runtime's start, then its files checked and uploaded to
   * tfjs, once; a failure is kept and rethrown.
   * @throws RangeError for a name the index does not list; the loader's error when it fails.
   */
  classifier(name?: string): Promise<Classifier>;
  /**
   * The model's card: its manifest, checked against its weights (format, shapes, sha256), without
   * uploading anything to tfjs.
   * @throws RangeError for a name the index does not list; ModelFileError for a bad manifest.
   */
  card(name?: string): Promise<ModelCard>;
}

/** How a registry starts its runtime and its models (tests count or replace the loads). */
export interface ModelRegistryOptions {
  /** Runs once, before the first model loads: the tfjs backend and whatever must start with it. */
  start?: () => Promise<void>;
  /** Uploads one model; {@linkcode loadClassifier} unless given. */
  load?: (weights: Uint8Array, manifest: unknown) => Promise<Classifier>;
  /** Where the index came from, for messages; `models/index.json` unless given. */
  source?: string;
}

/** The files a model named `name` is kept in, beside the index. */
export function modelFileNames(name: string): { weights: string; manifest: string } {
  return { weights: `${name}.safetensors`, manifest: `${name}.json` };
}

const INDEX_SHAPE =
  '{"default": "<name>", "reader"?: "<name>", "partners"?: {"<name>": "<name>"}, "models": ["<name>", …]}';

/**
 * Checks an index: `{"default": name, "reader"?: name, "partners"?: {name: name}, "models":
 * [names…]}`, at least one model, every name {@linkcode MODEL_NAME}, none twice, the default, the
 * reader and every partner and partnered model among them, no model its own partner.
 *
 * @param value The parsed JSON.
 * @param source Where it came from, for messages.
 * @returns The index.
 * @throws ModelIndexError saying what is wrong.
 *
 * @example
 * ```ts
 * parseModelIndex({ default: "mnist-cnn", models: ["mnist-cnn"] });
 * ```
 */
export function parseModelIndex(value: unknown, source = "models/index.json"): ModelIndex {
  const fail = (problem: string) => new ModelIndexError(`${source}: ${problem}`);
  const index = value as Partial<Record<keyof ModelIndex, unknown>> | null;
  if (typeof index !== "object" || index === null || Array.isArray(index)) {
    throw fail(`expected ${INDEX_SHAPE}, got ${describe(value)}`);
  }
  const { models, default: chosen, reader, partners } = index;
  if (!Array.isArray(models) || models.length === 0) {
    throw fail(`'models' must list at least one model name: got ${describe(models)}`);
  }
  const seen = new Set<string>();
  for (const name of models) {
    if (typeof name !== "string" || !MODEL_NAME.test(name)) {
      throw fail(
        `${describe(name)} is not a model name: a name is 1–64 characters of a–z, 0–9 and -`,
      );
    }
    if (seen.has(name)) throw fail(`'${name}' is listed twice`);
    seen.add(name);
  }
  if (typeof chosen !== "string" || !seen.has(chosen)) {
    throw fail(
      `the default ${describe(chosen)} is not one of the models (${models.join(", ")})`,
    );
  }
  if (reader !== undefined && (typeof reader !== "string" || !seen.has(reader))) {
    throw fail(`the reader ${describe(reader)} is not one of the models (${models.join(", ")})`);
  }
  if (
    partners !== undefined &&
    (typeof partners !== "object" || partners === null || Array.isArray(partners))
  ) {
    throw fail(`'partners' must map model names to model names: got ${describe(partners)}`);
  }
  // No prototype: a model named "constructor" has no partner unless the index gives it one.
  const paired: Record<string, string> = Object.create(null);
  for (const [name, partner] of Object.entries(partners ?? {})) {
    if (!seen.has(name) || typeof partner !== "string" || !seen.has(partner) || partner === name) {
      throw fail(
        `the partners ${describe(name)} and ${describe(partner)} must be two of the models (${
          models.join(", ")
        })`,
      );
    }
    paired[name] = partner;
  }
  return {
    default: chosen,
    ...(reader === undefined ? {} : { reader }),
    ...(partners === undefined ? {} : { partners: paired }),
    models: [...models],
  };
}

/**
 * A registry over an index and its models' files.
 *
 * @param index The index, checked here ({@linkcode parseModelIndex}).
 * @param files Each model's files: read on first need by a function, or bundled (every model of the
 *   index must then be there).
 * @param options The runtime's start, the loader, the index's source.
 * @throws ModelIndexError for a bad index, or a model bundled without its files.
 */
export function createModelRegistry(
  index: unknown,
  files: ((name: string) => ModelFiles | Promise<ModelFiles>) | Record<string, BundledModel>,
  options: ModelRegistryOptions = {},
): ModelRegistry {
  const source = options.source ?? "models/index.json";
  const { default: defaultModel, reader, partners, models: names } = parseModelIndex(
    index,
    source,
  );
  const read = typeof files === "function" ? files : bundled(files, names, source);
  const load = options.load ?? loadClassifier;
  let runtime: Promise<void> | undefined;
  const started = () => runtime ??= (async () => await options.start?.())();

  const memo = <T>(make: (name: string) => Promise<T>) => {
    const kept = new Map<string, Promise<T>>();
    return (name = defaultModel): Promise<T> => {
      if (!names.includes(name)) {
        throw new RangeError(
          `no model '${name}' in ${source}: the models are ${names.join(", ")}`,
        );
      }
      let value = kept.get(name);
      if (!value) kept.set(name, value = make(name));
      return value;
    };
  };
  const filesOf = memo(async (name) => namedFiles(await read(name), name, source));
  const classifier = memo(async (name) => {
    await started();
    const { weights, manifest } = await filesOf(name);
    return await load(weights, manifest);
  });
  const card = memo(async (name) => {
    const { weights, manifest } = await filesOf(name);
    return toCard(await checkManifest(manifest, weights));
  });
  return {
    defaultModel,
    readerModel: reader ?? defaultModel,
    partners: Object.freeze(partners ?? Object.create(null)),
    names,
    has: (name) => names.includes(name),
    classifier: (name) => classifier(name),
    card: (name) => card(name),
  };
}

/** The files of bundled models, after checking that each model of the index is there. */
function bundled(
  files: Record<string, BundledModel>,
  names: string[],
  source: string,
): (name: string) => ModelFiles {
  const missing = names.filter((name) => !Object.hasOwn(files, name));
  if (missing.length) {
    throw new ModelIndexError(
      `${source} lists ${
        missing.join(", ")
      }, which the build did not bundle: re-run \`deno task build\``,
    );
  }
  return (name) => {
    const { weights, manifest } = files[name]!;
    return { weights: weights instanceof Uint8Array ? weights : new Uint8Array(weights), manifest };
  };
}

/** The files, once their manifest is known to name the model as the index does. */
function namedFiles(files: ModelFiles, name: string, source: string): ModelFiles {
  const manifest = files.manifest as { name?: unknown } | null;
  if (typeof manifest === "object" && manifest !== null && manifest.name !== name) {
    throw new ModelIndexError(
      `${source} lists '${name}', but ${modelFileNames(name).manifest} names its model ` +
        `${describe(manifest.name)}: a model's files and its manifest's name must match`,
    );
  }
  return files;
}

/** A checked manifest as a card: the facts the classifier serves, then the manifest whole. */
function toCard(manifest: Manifest): ModelCard {
  return {
    name: manifest.name,
    sha256: manifest.weights.sha256,
    format: manifest.format,
    version: manifest.version,
    architecture: manifest.architecture.description,
    parameters: manifest.architecture.parameters,
    normalization: manifest.architecture.normalization,
    test: { accuracy: manifest.test.accuracy, loss: manifest.test.loss },
    trained_at: manifest.created_at,
    manifest,
  };
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
