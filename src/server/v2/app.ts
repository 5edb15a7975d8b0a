/**
 * The Open Inference Protocol v2 REST routes (KServe's `open_inference_rest.yaml`), as a sub-app
 * the main app mounts at `/v2`: server metadata and health, model metadata and readiness, and
 * inference on batches of 28×28 MNIST-format digits. Its errors take the protocol's shape,
 * `{"error": "…"}`, with the status and headers they were thrown with.
 */
import { createRoute, OpenAPIHono, type z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ApiError } from "../api_error.ts";
import { answerErrors, refuseInvalid, refuseOtherMethods, startedClassifier } from "../_routes.ts";
import type { ModelRegistry } from "../../model/registry.ts";
import type { AppEnv, LogFields } from "../env.ts";
import { errorResponses } from "../schemas.ts";
import type { Limits } from "../limits.ts";
import type { Classifier } from "../../model/classifier.ts";
import { NUM_CLASSES } from "../../model/model.ts";
import { readInferenceRequest } from "./infer_request.ts";
import {
  INPUT_NAME,
  INPUT_SHAPE,
  ModelParams,
  OUTPUT_NAME,
  OUTPUT_SHAPE,
  V2Error,
  V2InferenceRequest,
  V2InferenceResponse,
  V2ModelMetadata,
  V2ModelReady,
  V2ServerLive,
  V2ServerMetadata,
  V2ServerReady,
  VersionParams,
} from "./schemas.ts";

/** What the v2 routes need from the main app. */
export interface V2Options {
  /** The models served, each under `/models/{name}` and started on first use, as the main app's. */
  models: ModelRegistry;
  /** The body cap, the in-flight ceiling and the most digits a batch may hold. */
  limits: Limits;
  /** Runs before every `/models/*` route (tokens, rate limit); its ApiErrors answer as v2's. */
  guard?: MiddlewareHandler<AppEnv>;
  /** What `GET /v2` names the server; `mnist-edge` version `1` unless given. */
  server?: { name: string; version: string };
}

/** The sub-app's type: what {@linkcode createV2App} returns. */
export type V2App = OpenAPIHono<AppEnv>;

/** The model's framework and weights format, in the protocol's `<project>_<format>` form. */
export const PLATFORM = "tfjs_safetensors";

/**
 * Builds the v2 routes, to be mounted at `/v2`: `GET /`, `GET /health/live`, `GET /health/ready`
 * (the default model loaded), and for every registered model, under `/models/{name}` and
 * `/models/{name}/versions/{version}`: `GET` (metadata), `GET /ready`, `POST /infer`.
 *
 * @param options The models, the limits, the guard of the model routes and the server's name.
 * @returns The sub-app; its routes join the parent's OpenAPI document when it is mounted.
 *
 * @example
 * ```ts ignore
 * app.route("/v2", createV2App({ models, limits, guard }));
 * ```
 */
export function createV2App(options: V2Options): V2App {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: refuseInvalid("invalid_request") });
  const server = options.server ?? { name: "mnist-edge", version: "1" };
  const { models } = options;

  if (options.guard) app.use("/models/*", options.guard);

  app.openapi(serverMetadataRoute, (c) => c.json({ ...server, extensions: [] }, 200));
  app.openapi(liveRoute, (c) => c.json({ live: true }, 200));
  app.openapi(readyRoute, async (c) => {
    await startedClassifier(models);
    return c.json({ live: true, ready: true }, 200);
  });

  for (const versioned of [false, true]) {
    const routes = modelRoutes(versioned);
    app.openapi(routes.metadata, async (c) => {
      const model = await servedModel(c, models);
      return c.json(metadataOf(model), 200);
    });
    app.openapi(routes.ready, async (c) => {
      const model = await servedModel(c, models);
      return c.json({ name: model.info.name, ready: true }, 200);
    });
    // Documented whole, but validated by readInferenceRequest: the body is read within its limits,
    // never by an unbounded c.req.json().
    app.openAPIRegistry.registerPath(routes.infer);
    app.openapi(
      { ...routes.infer, hide: true, request: { params: routes.params } },
      async (c) => {
        const model = await servedModel(c, models);
        const { request, digits, bodyBytes } = await readInferenceRequest(
          c.req.raw,
          options.limits,
        );
        const probabilities = model.predict(digits);
        const log = logOf(c);
        log.body_bytes = bodyBytes;
        log.digits = probabilities.map(readDigit);
        return c.json(inferenceResponse(c, model, request, probabilities), 200);
      },
    );
  }

  refuseOtherMethods(app);
  app.all("*", (c) => {
    throw new ApiError(
      404,
      "not_found",
      `no route ${c.req.method} ${c.req.path}: see GET /openapi.json`,
    );
  });
  // The protocol's error shape, with the status and headers each error was thrown with.
  app.onError(answerErrors(({ message }) => ({ error: message })));
  return app;
}

/**
 * The model the path names, started (and, if the path names one, of that version: the sha256 of its
 * weights), else 404; the model goes on the request log.
 */
async function servedModel(c: Context<AppEnv>, models: ModelRegistry): Promise<Classifier> {
  const asked = c.req.param("name") ?? "";
  if (!models.has(asked)) {
    const shown = asked.length > 64 ? `${asked.slice(0, 64)}…` : asked;
    throw new ApiError(
      404,
      "unknown_model",
      `no model '${shown}': this server serves ${models.names.map((n) => `'${n}'`).join(", ")}`,
    );
  }
  const model = await startedClassifier(models, asked);
  const { name, sha256 } = model.info;
  const version = c.req.param("version");
  if (version !== undefined && version !== sha256) {
    throw new ApiError(
      404,
      "not_found",
      `model '${name}' has no version '${version}': its one version is '${sha256}'`,
    );
  }
  logOf(c).model = { name, sha256 };
  return model;
}

function metadataOf(model: Classifier): z.infer<typeof V2ModelMetadata> {
  return {
    name: model.info.name,
    versions: [model.info.sha256],
    platform: PLATFORM,
    inputs: [{ name: INPUT_NAME, datatype: "UINT8", shape: [...INPUT_SHAPE] }],
    outputs: [{ name: OUTPUT_NAME, datatype: "FP32", shape: [...OUTPUT_SHAPE] }],
  };
}

function inferenceResponse(
  c: Context<AppEnv>,
  model: Classifier,
  request: { id?: string; outputs?: { name: string }[] },
  probabilities: Float32Array[],
): z.infer<typeof V2InferenceResponse> {
  const version = c.req.param("version");
  const data: number[] = [];
  for (const digit of probabilities) for (const p of digit) data.push(p);
  // No `outputs` asks for all (the one); every name the schema lets through is that one, so only an
  // empty list asks for none.
  const wanted = request.outputs === undefined || request.outputs.length > 0;
  return {
    model_name: model.info.name,
    ...(version === undefined ? {} : { model_version: version }),
    ...(request.id === undefined ? {} : { id: request.id }),
    outputs: wanted
      ? [{
        name: OUTPUT_NAME,
        shape: [probabilities.length, NUM_CLASSES],
        datatype: "FP32" as const,
        data,
      }]
      : [],
  };
}

/** The digit the model reads and its confidence, for the request log. */
function readDigit(probabilities: Float32Array): { digit: number; confidence: number } {
  let digit = 0;
  for (let i = 1; i < probabilities.length; i++) {
    if (probabilities[i]! > probabilities[digit]!) digit = i;
  }
  return { digit, confidence: probabilities[digit]! };
}

/** The request log's fields; a fresh set when no log middleware runs before the sub-app. */
function logOf(c: Context<AppEnv>): LogFields {
  let log = c.get("log") as LogFields | undefined;
  if (!log) {
    log = {};
    c.set("log", log);
  }
  return log;
}

/** Error answers, each `{"error": "…"}`, for a route's `responses`. */
function errors(table: Partial<Record<ContentfulStatusCode, string>>) {
  return errorResponses(V2Error, table);
}

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

const TAGS = ["Open Inference Protocol v2"];
/** Every `/models/*` route's optional bearer token, and what the guard and lookup refuse. */
const GUARDED = {
  security: [{}, { bearer: [] }] as Record<string, string[]>[],
  responses: errors({
    400: "The `Authorization` header is not `Bearer <token>`.",
    401: "A token is required (`API_TOKENS` is set) and none, or a wrong one, was sent.",
    404: "No such model (or version).",
    429: "Too many requests from this client: wait the seconds `Retry-After` says.",
    503: "The model could not be loaded.",
  }),
};

const serverMetadataRoute = createRoute({
  method: "get",
  path: "/",
  tags: TAGS,
  summary: "Server metadata",
  responses: { 200: json(V2ServerMetadata, "The server's name, version and extensions (none)") },
});

const liveRoute = createRoute({
  method: "get",
  path: "/health/live",
  tags: TAGS,
  summary: "Whether the server answers (liveness probe)",
  responses: { 200: json(V2ServerLive, "Live") },
});

const readyRoute = createRoute({
  method: "get",
  path: "/health/ready",
  tags: TAGS,
  summary: "Whether the default model is loaded (readiness probe)",
  description: "The other models start on their first use: GET /v2/models/{name}/ready starts one.",
  responses: {
    200: json(V2ServerReady, "Ready"),
    ...errors({ 503: "The default model could not be loaded." }),
  },
});

/** The model routes, under `/models/{name}` or `/models/{name}/versions/{version}`. */
function modelRoutes(versioned: boolean) {
  const base = versioned ? "/models/{name}/versions/{version}" : "/models/{name}";
  const params = versioned ? VersionParams : ModelParams;
  const which = versioned ? "a version of a model" : "a model";
  return {
    params,
    metadata: createRoute({
      method: "get",
      path: base,
      tags: TAGS,
      summary: `Metadata of ${which}: its input and output tensors`,
      description: `The input is \`${INPUT_NAME}\`, UINT8 [-1,28,28] (also accepted: FP32 0–1, ` +
        `and [-1,784]); the output \`${OUTPUT_NAME}\`, FP32 [-1,10].`,
      request: { params },
      security: GUARDED.security,
      responses: { 200: json(V2ModelMetadata, "The model's metadata"), ...GUARDED.responses },
    }),
    ready: createRoute({
      method: "get",
      path: `${base}/ready`,
      tags: TAGS,
      summary: `Whether ${which} is ready`,
      request: { params },
      security: GUARDED.security,
      responses: { 200: json(V2ModelReady, "Ready"), ...GUARDED.responses },
    }),
    infer: createRoute({
      method: "post",
      path: `${base}/infer`,
      tags: TAGS,
      summary: `Classify a batch of 28×28 digits with ${which}`,
      description: `One input, \`${INPUT_NAME}\`: shape [N,28,28] or [N,784], N up to the batch ` +
        "limit (MAX_BATCH); UINT8 0–255 or FP32 0–1, MNIST format (0 background, full ink); data " +
        `flat or nested as the shape. One output, \`${OUTPUT_NAME}\`: FP32 [N,10], the softmax ` +
        "probabilities of the digits 0–9 for each digit, flat. The request's `id` is echoed.",
      request: {
        params,
        body: { required: true, content: { "application/json": { schema: V2InferenceRequest } } },
      },
      security: GUARDED.security,
      responses: {
        200: json(V2InferenceResponse, "The probabilities of each digit"),
        ...GUARDED.responses,
        ...errors({
          400: "Malformed or too deep/long JSON, a request the schema refuses, a tensor whose " +
            "shape, length, nesting or values do not fit, or an `Authorization` header that is " +
            "not `Bearer <token>`.",
          413: "The body is over MAX_BODY_BYTES, or the batch over MAX_BATCH.",
          415: "The body is not declared JSON (Content-Type: application/json).",
        }),
        ...errors({ 503: "The model could not be loaded, or too many bodies are being received." }),
      },
    }),
  };
}
