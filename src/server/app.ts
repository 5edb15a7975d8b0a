/**
 * The HTTP face of the classifier, the same Hono app on Cloudflare Workers (src/worker.ts) and on
 * Deno.serve (scripts/serve.ts). Routes stay thin: parse → decode → preprocess → classify → JSON; every
 * failure is thrown and shaped once, in `onError`, as `{"error":{"code","message"}}`. Each route is
 * declared with the zod schemas of schemas.ts, from which GET /openapi.json is generated.
 */
import { createRoute, OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import type { Context, Handler } from "hono";
import { every } from "hono/combine";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ApiError } from "./api_error.ts";
import {
  answerErrors,
  fromModel,
  knownModel,
  readImageRequest,
  refuseInvalid,
  refuseOtherMethods,
  startedClassifier,
} from "./_routes.ts";
import type { ModelRegistry } from "../model/registry.ts";
import { refusal, scoreAlone } from "../model/classifier.ts";
import { ImageError } from "../image/errors.ts";
import { toDigits } from "./digits.ts";
import type { AppEnv } from "./env.ts";
import { DEFAULT_LIMITS, type Limits } from "./limits.ts";
import { drawingPage } from "./page.ts";
import { apiTokens, tokensFrom } from "./middleware/api_tokens.ts";
import { rateLimit } from "./middleware/rate_limit.ts";
import { requestLog } from "./middleware/request_log.ts";
import { toPrediction } from "./prediction.ts";
import { readHandler } from "./read.ts";
import { createV2App } from "./v2/app.ts";
import {
  ClassifyJson,
  ClassifyQuery,
  ErrorBody,
  type ErrorCode,
  errorResponses,
  Health,
  ModelCard,
  ModelList,
  ModelPath,
  Prediction,
  PredictionBatch,
  ReadBatch,
  ReadQuery,
  ReadResult,
} from "./schemas.ts";

/** What the app needs from its runtime. */
export interface AppOptions {
  /**
   * The models served (src/model/registry.ts), each started on first use with whatever the runtime
   * must start before an image can be decoded (the Worker's decoders).
   */
  models: ModelRegistry;
  /** Request limits; {@linkcode DEFAULT_LIMITS} for any not given. */
  limits?: Partial<Limits>;
  /** Answers GET / instead of the default: the drawing page for browsers, usage text for curl. */
  home?: Handler<AppEnv>;
  /** Takes each request's log line instead of `console.log` (tests keep their output quiet). */
  log?: (line: string) => void;
}

/** The app's type: `createApp`'s result. */
export type App = OpenAPIHono<AppEnv>;

/**
 * Builds the app: POST /classify, POST /read (each with `?model=`), GET /health, GET /model,
 * GET /model/{name}, GET /openapi.json, GET / (the drawing page, or usage text), and the Open
 * Inference Protocol's routes under /v2. Every request is logged; the inference routes are guarded
 * by API tokens (when `API_TOKENS` is set) and a per-client rate limit.
 *
 * @example
 * ```ts
 * const app = createApp({ models: await openLocalModels() });
 * const res = await app.request("/classify", { method: "POST", body: png });
 * ```
 */
export function createApp(options: AppOptions): App {
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const { models } = options;
  const app = new OpenAPIHono<AppEnv>({ defaultHook: refuseInvalid("invalid_query") });

  // First, so it sees every request and every answer, refusals included.
  app.use(requestLog({ write: options.log }));
  // Cross-origin clients may read why they were refused and when to come back.
  app.use(cors({ exposeHeaders: ["Retry-After", "WWW-Authenticate", "X-Request-Id"] }));
  // Cross-origin pages may call the API, so its responses may be read cross-origin too.
  app.use(secureHeaders({ crossOriginResourcePolicy: "cross-origin" }));
  // The limiter first: a refused token is counted against its sender's address, so guessing tokens
  // is limited too; only a configured token earns a budget of its own.
  const guard = every(rateLimit(), apiTokens());
  app.on("POST", "/classify", guard);
  app.on("POST", "/read", guard);

  app.openapi(documented(app, homeRoute), options.home ?? home);

  app.openapi(healthRoute, async (c) => {
    const { info } = await startedClassifier(models);
    return c.json({ status: "ok" as const, model: { name: info.name, sha256: info.sha256 } }, 200);
  });

  // Cards come from the manifests: listing the models uploads none of them.
  app.openapi(modelListRoute, async (c) => {
    const cards = await Promise.all(
      models.names.map((name) => fromModel(name, () => models.card(name))),
    );
    const chosen = cards[models.names.indexOf(models.defaultModel)]!;
    return c.json(
      {
        ...chosen,
        default: models.defaultModel,
        reader: models.readerModel,
        partners: models.partners,
        models: cards,
      },
      200,
    );
  });
  app.openapi(modelRoute, async (c) => {
    const name = knownModel(models, c.req.valid("param").name);
    return c.json(await fromModel(name, () => models.card(name)), 200);
  });

  app.openapi(documented(app, classifyRoute), classifyHandler(models, limits));
  app.openapi(documented(app, readRoute), readHandler(models, limits));

  let document: unknown;
  app.openapi(openApiRoute, (c) => {
    // Generated once per isolate, on first request: the routes do not change after start-up.
    document ??= app.getOpenAPI31Document(documentInfo(limits));
    return c.json(document as Record<string, unknown>, 200);
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "One of the API_TOKENS, when the deployment sets them.",
  });

  refuseOtherMethods(app);
  app.route("/v2", createV2App({ models, limits, guard }));
  // Every failure is shaped once, here, as {"error":{"code","message"}}.
  const answerError = answerErrors(({ code, message }) => ({ error: { code, message } }));
  app.notFound((c) =>
    answerError(
      new ApiError(404, "not_found", `no route ${c.req.method} ${c.req.path}: see GET /`),
      c,
    )
  );
  app.onError(answerError);
  return app;
}

/** The document's head, with this deployment's limits. */
function documentInfo(limits: Limits) {
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return {
    openapi: "3.1.0",
    info: {
      title: "mnist-edge",
      version: "1",
      description: [
        "A handwritten-digit classifier (the MNIST CNN on WebAssembly) on Cloudflare Workers.",
        'Every error is `{"error":{"code","message"}}` (on /v2, `{"error"}`); every answer carries',
        "`X-Request-Id`. The limits of this deployment, each checked before the work it bounds:",
        `a body of at most ${mib(limits.maxBodyBytes)}; at most ${limits.maxBatch} images (or`,
        `digits, on /v2) a request; an image header declaring at most ${limits.maxPixels} pixels`,
        "(2 Mpx for GIF, WebP and BMP); decoding work of at most",
        `${mib(limits.maxDecodeWork)} units (~0.5 ns each) a request, judged from the headers;`,
        "120 requests a minute per client on the inference routes.",
      ].join(" "),
    },
  };
}

/** Error responses with the codes each may carry, for a route's `responses`. */
function errors(table: Partial<Record<ContentfulStatusCode, ErrorCode[]>>) {
  return errorResponses(
    ErrorBody,
    Object.fromEntries(
      Object.entries(table).map((
        [status, codes],
      ) => [status, `\`code\`: ${codes!.map((code) => `\`${code}\``).join(", ")}`]),
    ),
  );
}

const binary = z.string().openapi({ format: "binary" });
const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp"] as const;

/** The body POST /classify and POST /read both take. */
const imageBody = {
  required: true,
  content: {
    "multipart/form-data": {
      schema: z.object({
        image: z.union([binary, z.array(binary)]).openapi({
          description: "One `image` field, or several (a batch, answered in order).",
        }),
      }),
    },
    "application/json": { schema: ClassifyJson },
    ...Object.fromEntries(IMAGE_TYPES.map((type) => [type, { schema: binary }])),
  },
};

/** The refusals of POST /classify and POST /read: the same envelope, limits and guard. */
const imageErrors = errors({
  400: [
    "empty_body",
    "invalid_json",
    "invalid_base64",
    "invalid_pixels",
    "invalid_multipart",
    "missing_image",
    "invalid_query",
    "invalid_authorization",
    "invalid_content_length",
    "body_incomplete",
    "invalid_image",
  ],
  401: ["unauthorized"],
  404: ["unknown_model"],
  413: ["body_too_large", "image_too_large", "request_over_budget", "too_many_images"],
  415: ["unsupported_media_type"],
  422: ["no_ink", "not_a_digit"],
  429: ["rate_limited"],
  503: ["model_unavailable", "overloaded", "misconfigured"],
});

const classifyRoute = createRoute({
  method: "post",
  path: "/classify",
  summary: "Classify the digit in an image (or each image of a batch)",
  description: "The format is judged by magic bytes: PNG, JPEG, WebP, GIF or BMP. Every image's " +
    "decoding cost is judged from its header before any is decoded.",
  security: [{}, { bearer: [] }],
  request: { query: ClassifyQuery, body: imageBody },
  responses: {
    200: {
      description: 'The digit; a multipart batch of several images answers `{"results"}`.',
      content: { "application/json": { schema: z.union([Prediction, PredictionBatch]) } },
    },
    ...imageErrors,
  },
});

const readRoute = createRoute({
  method: "post",
  path: "/read",
  summary: "Read the written number in an image (or in each image of a batch)",
  description: "Takes what POST /classify takes, within the same limits. The writing is cut into " +
    "digits, every digit of every image is classified in one forward pass, and the reading the " +
    "model is surest of is answered: digits left to right, lines of writing top to bottom, each " +
    'digit with its box in pixels of the upright image (after EXIF orientation). `{"pixels"}` and ' +
    "`?preprocess=none` are one digit, whose box is the whole 28×28 field.",
  security: [{}, { bearer: [] }],
  request: { query: ReadQuery, body: imageBody },
  responses: {
    200: {
      description: 'The number; a multipart batch of several images answers `{"results"}`.',
      content: { "application/json": { schema: z.union([ReadResult, ReadBatch]) } },
    },
    ...imageErrors,
  },
});

const healthRoute = createRoute({
  method: "get",
  path: "/health",
  summary: "Whether the model is loaded",
  responses: {
    200: { description: "Ready", content: { "application/json": { schema: Health } } },
    ...errors({ 503: ["model_unavailable"] }),
  },
});

const modelListRoute = createRoute({
  method: "get",
  path: "/model",
  summary: "The models served: the default's card, and every model's",
  description:
    "A card is what the answers' `model` names (name, weights' sha256) and the model's " +
    "manifest whole: architecture, training recipe, dataset, test accuracy and confusion matrix.",
  responses: {
    200: { description: "The models", content: { "application/json": { schema: ModelList } } },
    ...errors({ 503: ["model_unavailable"] }),
  },
});

const modelRoute = createRoute({
  method: "get",
  path: "/model/{name}",
  summary: "One model's card",
  request: { params: ModelPath },
  responses: {
    200: { description: "The model", content: { "application/json": { schema: ModelCard } } },
    ...errors({ 404: ["unknown_model"], 503: ["model_unavailable"] }),
  },
});

const homeRoute = createRoute({
  method: "get",
  path: "/",
  summary: "The drawing page (Accept: text/html), else usage text",
  responses: {
    200: {
      description: "HTML for browsers, plain text for curl",
      content: { "text/html": { schema: z.string() }, "text/plain": { schema: z.string() } },
    },
  },
});

const openApiRoute = createRoute({
  method: "get",
  path: "/openapi.json",
  summary: "This document (OpenAPI 3.1)",
  responses: {
    200: {
      description: "The OpenAPI document",
      content: { "application/json": { schema: z.record(z.string(), z.unknown()) } },
    },
  },
});

/**
 * Registers `route` whole in the document but lets zod-openapi validate only its query: bodies are read
 * once, within their limits, by request.ts (which validates JSON with the same schemas), never by an
 * unbounded `c.req.json()`.
 */
function documented<R extends RouteConfig>(app: App, route: R): R {
  app.openAPIRegistry.registerPath(route);
  return { ...route, hide: true, request: { query: route.request?.query } };
}

/** POST /classify: parse → decode → preprocess → classify → JSON (one prediction, or a batch's). */
function classifyHandler(models: ModelRegistry, limits: Limits): Handler<AppEnv> {
  return async function classify(c) {
    const { preprocess, debug, inputs, batch, model } = await readImageRequest(c, models, limits);
    const log = c.var.log;
    const { digits, images } = await toDigits(inputs, { preprocess, limits });
    if (images.length) log.images = images;
    // Started once the images are read: a request refused for its images starts no second network.
    // The registry has checked that a model's manifest names it as the index does.
    const paired = models.partners[model.info.name];
    const partner = paired ? await startedClassifier(models, paired) : undefined;
    if (partner) log.partner = { name: partner.info.name, sha256: partner.info.sha256 };
    const bytes = digits.map((d) => new Uint8Array(d.buffer, d.byteOffset, d.length));
    const scores = scoreAlone(model, bytes, partner);
    const refusals = scores.map(refusal);
    const refused = refusals.findIndex((r) => r !== undefined);
    if (refused >= 0) {
      const which = batch ? `image ${refused + 1} of ${scores.length}` : "the image";
      const { digit, confidence, odds } = refusals[refused]!;
      throw new ImageError(
        "not_a_digit",
        `${which} does not look like a digit: it is not a digit with probability ${
          scores[refused]!.notDigit.toFixed(2)
        }, and its likeliest digit, ${digit}, has ${
          confidence.toFixed(2)
        }; a ${digit} is answered when ${odds} times likelier than not a digit`,
      );
    }
    const results = scores.map((s, i) =>
      toPrediction(s, model.info, debug ? digits[i] : undefined, partner?.info)
    );
    log.digits = results.map(({ digit, confidence }) => ({ digit, confidence }));
    return c.json(batch ? { results } : results[0]);
  };
}

const USAGE = `mnist-edge: handwritten digit classifier (MNIST CNN, tfjs on WebAssembly SIMD)

POST /classify   an image of one digit: PNG, JPEG, WebP, GIF or BMP
  curl -F image=@seven.png URL/classify                     (several -F image=@… fields: a batch)
  curl --data-binary @seven.jpg -H 'content-type: image/jpeg' URL/classify
  curl -H 'content-type: application/json' -d '{"image":"data:image/png;base64,…"}' URL/classify
  curl -H 'content-type: application/json' -d '{"pixels":[…784 numbers 0-255…]}' URL/classify
  ?preprocess=none   the image is already MNIST-format 28×28 (white ink on black)
  ?debug=1           add the 28×28 image the model saw
  ?model=NAME        ask one of the models GET /model lists (the default otherwise)
  → {"digit":7,"confidence":0.998,"probabilities":[…],"model":{"name":"…","sha256":"…"}}
POST /read       an image of a written number: the same bodies, queries and batches as /classify
  curl -F image=@2026.png URL/read
  ?debug=1           add each digit's 28×28 image
  ?model=NAME        as for /classify
  → {"text":"2026","digits":[{"digit":2,"confidence":0.99,"box":{"x":…,"y":…,"width":…,"height":…}},…],"model":{…}}
    boxes in pixels of the upright image; several lines of writing are read top to bottom, joined by \n
GET /health        {"status":"ok","model":{…}}
GET /model         the models: the default's card and every model's (manifest: architecture,
                   training, data, test accuracy); GET /model/NAME one model's card
GET /openapi.json  this API as an OpenAPI 3.1 document
/v2/…              the Open Inference Protocol (KServe v2): POST /v2/models/NAME/infer
`;

const TOKEN_USAGE = `
This deployment requires an API token on /classify, /read and /v2/models/…:
  curl -H 'Authorization: Bearer <token>' -F image=@seven.png URL/classify
`;

/** Browsers (Accept: text/html) get the drawing page; curl and other clients the usage text. */
function home(c: Context<AppEnv>): Response | Promise<Response> {
  c.header("Vary", "Accept");
  return c.req.header("accept")?.includes("text/html") ? drawingPage(c) : usage(c);
}

function usage(c: Context<AppEnv>): Response {
  const text = tokensFrom(c.env).length > 0 ? USAGE + TOKEN_USAGE : USAGE;
  return c.text(text.replaceAll("URL", new URL(c.req.url).origin));
}
