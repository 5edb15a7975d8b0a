/**
 * What the main app and the v2 sub-app share about their routes: 405s, refusing what fails a
 * schema, answering errors (each in its own shape), and finding and starting the model asked for.
 */
import type { Context, Hono } from "hono";
import type { Preprocess } from "./digits.ts";
import type { Limits } from "./limits.ts";
import { type DigitInput, readClassifyRequest } from "./request.ts";
import type { z } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { ApiError } from "./api_error.ts";
import { ImageError, statusOf } from "../image/errors.ts";
import type { Classifier } from "../model/classifier.ts";
import type { ModelRegistry } from "../model/registry.ts";
import type { AppEnv } from "./env.ts";

/**
 * 405 with `Allow` for a known path asked with another method, derived from the app's routes
 * themselves (GET implies HEAD). Call it after the routes are declared; the error is the app's own
 * `onError`'s to shape.
 */
export function refuseOtherMethods(app: Hono<AppEnv>): void {
  const allowed = new Map<string, Set<string>>();
  for (const { method, path } of app.routes) {
    if (method === "ALL") continue;
    const methods = allowed.get(path) ?? new Set<string>();
    methods.add(method);
    if (method === "GET") methods.add("HEAD");
    allowed.set(path, methods);
  }
  for (const [path, methods] of allowed) {
    const allow = [...methods].join(", ");
    app.all(path, (c) => {
      c.header("Allow", allow);
      throw new ApiError(405, "method_not_allowed", `${c.req.method} ${c.req.path}: use ${allow}`);
    });
  }
}

/**
 * The registered model named `name`, or `fallback` (the default) when none is; 404 `unknown_model`,
 * naming the models there are, for any other.
 */
export function knownModel(
  models: ModelRegistry,
  name: string | undefined,
  fallback = models.defaultModel,
): string {
  if (name === undefined) return fallback;
  if (models.has(name)) return name;
  const asked = JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name);
  throw new ApiError(
    404,
    "unknown_model",
    `no model ${asked}: the models are ${models.names.join(", ")} (GET /model lists them)`,
  );
}

/**
 * What a model's start (or its card) gave, or 503 `model_unavailable` with the loader's message (it
 * says how to fix it).
 */
export async function fromModel<T>(name: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if (error instanceof ApiError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new ApiError(
      503,
      "model_unavailable",
      `the model ${name} could not be loaded: ${message}`,
      { cause: error },
    );
  }
}

/** The model named (the default unless given), started: 404 `unknown_model`, 503 `model_unavailable`. */
export async function startedClassifier(
  models: ModelRegistry,
  name?: string,
): Promise<Classifier> {
  const known = knownModel(models, name);
  return await fromModel(known, () => models.classifier(known));
}

/**
 * A zod-openapi hook: a `target` (query, path) that fails its schema is a 400 with `code`, naming the
 * parameter.
 */
export function refuseInvalid(code: string) {
  return function refuse(result: { success: boolean; error?: z.ZodError; target: string }): void {
    if (result.success) return;
    const issue = result.error?.issues[0];
    throw new ApiError(
      400,
      code,
      `'${issue?.path.join(".") || result.target}' is invalid: ${
        issue?.message ?? "see GET /openapi.json"
      }`,
    );
  };
}

/**
 * An `onError` that answers every failure with its status and headers in the app's own shape, and
 * puts its code on the request log; a 5xx says nothing of its cause.
 *
 * @param shape The body for an error, e.g. `{"error":{"code","message"}}`.
 */
export function answerErrors(shape: (error: ApiError) => Record<string, unknown>) {
  return function answerError(thrown: Error, c: Context<AppEnv>): Response {
    const error = toApiError(thrown);
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    const log = c.get("log");
    if (log) log.error = error.code;
    return c.json(shape(error), error.status);
  };
}

/**
 * Any error as the ApiError it is answered as: an ImageError by its code's status, one of Hono's
 * HTTPExceptions under 500 as `bad_request`, anything else as 500 `internal_error`, which says
 * nothing of its cause (logged here instead).
 *
 * @param error What a handler or middleware threw.
 * @returns The error to answer with.
 */
export function toApiError(error: Error): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ImageError) {
    return new ApiError(statusOf(error.code), error.code, error.message);
  }
  if (error instanceof HTTPException && error.status < 500) {
    return new ApiError(error.status, "bad_request", error.message || "bad request");
  }
  console.error(error);
  return new ApiError(500, "internal_error", "the server failed to answer this request");
}

/** What POST /classify and POST /read have read of a request before decoding any image. */
export interface ImageRequest {
  preprocess: Preprocess;
  debug: boolean;
  inputs: DigitInput[];
  /** Several multipart `image` fields: answered as `{"results"}`. */
  batch: boolean;
  model: Classifier;
}

/**
 * The first steps /classify and /read share: the query (an unknown `?model=` is refused before the
 * body is read), the body read once within its limits, and the model started (with it the isolate's
 * decoders: before any decoding); the body's size and the model that answers go on the request log.
 * `fallback` is the model that answers when none is named: the default, or the reader for /read.
 */
export async function readImageRequest(
  c: Context<AppEnv>,
  models: ModelRegistry,
  limits: Limits,
  fallback = models.defaultModel,
): Promise<ImageRequest> {
  const query = c.req.query();
  const name = knownModel(models, query.model, fallback);
  const { inputs, batch, bodyBytes } = await readClassifyRequest(c.req.raw, limits);
  c.var.log.body_bytes = bodyBytes;
  const model = await startedClassifier(models, name);
  c.var.log.model = { name: model.info.name, sha256: model.info.sha256 };
  return {
    preprocess: query.preprocess === "none" ? "none" : "mnist",
    debug: query.debug === "1",
    inputs,
    batch,
    model,
  };
}
