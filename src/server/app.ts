/**
 * The HTTP face of the classifier, the same Hono app on Cloudflare Workers (src/worker.ts) and on
 * Deno.serve (scripts/serve.ts). Routes stay thin: parse → decode → preprocess → classify → JSON; every
 * failure is thrown and shaped once, in `onError`, as `{"error":{"code","message"}}`.
 */
import { type Context, type Handler, Hono } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ApiError } from "./api_error.ts";
import type { Classifier } from "../model/classifier.ts";
import { type Preprocess, toDigits } from "./digits.ts";
import { ImageError, statusOf } from "../image/errors.ts";
import { DEFAULT_LIMITS, type Limits } from "./limits.ts";
import { drawingPage } from "./page.ts";
import { toPrediction } from "./prediction.ts";
import { readClassifyRequest } from "./request.ts";

/** What the app needs from its runtime. */
export interface AppOptions {
  /**
   * The classifier, started on first use, with whatever the runtime must start before an image can be
   * decoded (the Worker's decoders); return one memoised promise so an isolate starts it once.
   */
  classifier: () => Promise<Classifier>;
  /** Request limits; {@linkcode DEFAULT_LIMITS} for any not given. */
  limits?: Partial<Limits>;
  /** Answers GET / instead of the default: the drawing page for browsers, usage text for curl. */
  home?: Handler;
}

/**
 * Builds the app: POST /classify, GET /health, GET /model, GET / (the drawing page, or usage text).
 *
 * @example
 * ```ts
 * const app = createApp({ classifier: () => loadOnce() });
 * const res = await app.request("/classify", { method: "POST", body: png });
 * ```
 */
export function createApp(options: AppOptions): Hono {
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const classifier = () => startedClassifier(options.classifier);
  const app = new Hono();

  app.use(cors());
  // Cross-origin pages may call the API, so its responses may be read cross-origin too.
  app.use(secureHeaders({ crossOriginResourcePolicy: "cross-origin" }));

  app.get("/", options.home ?? home);

  app.get("/health", async (c) => {
    const { info } = await classifier();
    return c.json({ status: "ok", model: { name: info.name, sha256: info.sha256 } });
  });

  app.get("/model", async (c) => c.json((await classifier()).info));

  app.post("/classify", classifyHandler(classifier, limits));

  for (
    const [path, allow] of [["/", "GET"], ["/health", "GET"], ["/model", "GET"], [
      "/classify",
      "POST",
    ]] as const
  ) {
    app.all(path, (c) => {
      c.header("Allow", allow);
      throw new ApiError(405, "method_not_allowed", `${c.req.method} ${path}: use ${allow}`);
    });
  }

  app.notFound((c) =>
    errorResponse(c, 404, "not_found", `no route ${c.req.method} ${c.req.path}: see GET /`)
  );
  app.onError(answerError);

  return app;
}

/** POST /classify: parse → decode → preprocess → classify → JSON (one prediction, or a batch's). */
function classifyHandler(classifier: () => Promise<Classifier>, limits: Limits): Handler {
  return async function classify(c) {
    const preprocess = readPreprocess(c);
    const debug = c.req.query("debug") === "1";
    const { inputs, batch } = await readClassifyRequest(c.req.raw, limits);
    // Starting the classifier starts the isolate's decoders too: it comes before any decoding.
    const model = await classifier();
    const digits = await toDigits(inputs, { preprocess, limits });
    const bytes = digits.map((d) => new Uint8Array(d.buffer, d.byteOffset, d.length));
    const results = model.predict(bytes).map((probabilities, i) =>
      toPrediction(probabilities, model.info, debug ? digits[i] : undefined)
    );
    return c.json(batch ? { results } : results[0]);
  };
}

/** Every failure, shaped once as `{"error":{"code","message"}}`; a 5xx says nothing of its cause. */
function answerError(error: Error, c: Context): Response {
  if (error instanceof ApiError) {
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    return errorResponse(c, error.status, error.code, error.message);
  }
  if (error instanceof ImageError) {
    return errorResponse(c, statusOf(error.code), error.code, error.message);
  }
  if (error instanceof HTTPException && error.status < 500) {
    return errorResponse(c, error.status, "bad_request", error.message || "bad request");
  }
  console.error(error);
  return errorResponse(c, 500, "internal_error", "the server failed to answer this request");
}

async function startedClassifier(load: () => Promise<Classifier>): Promise<Classifier> {
  try {
    return await load();
  } catch (error) {
    // The loader's messages say what is wrong with the bundled model and how to fix it.
    const message = error instanceof Error ? error.message : String(error);
    throw new ApiError(503, "model_unavailable", `the model could not be loaded: ${message}`, {
      cause: error,
    });
  }
}

function readPreprocess(c: Context): Preprocess {
  const value = c.req.query("preprocess");
  if (value === undefined || value === "mnist") return "mnist";
  if (value === "none") return "none";
  throw new ApiError(
    400,
    "invalid_query",
    `'preprocess' must be 'none' or 'mnist': got '${value}'`,
  );
}

function errorResponse(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
): Response {
  return c.json({ error: { code, message } }, status);
}

const USAGE = `mnist-edge: handwritten digit classifier (MNIST CNN, tfjs on WebAssembly SIMD)

POST /classify   an image of one digit: PNG, JPEG, WebP, GIF or BMP
  curl -F image=@seven.png URL/classify                     (several -F image=@… fields: a batch)
  curl --data-binary @seven.jpg -H 'content-type: image/jpeg' URL/classify
  curl -H 'content-type: application/json' -d '{"image":"data:image/png;base64,…"}' URL/classify
  curl -H 'content-type: application/json' -d '{"pixels":[…784 numbers 0-255…]}' URL/classify
  ?preprocess=none   the image is already MNIST-format 28×28 (white ink on black)
  ?debug=1           add the 28×28 image the model saw
  → {"digit":7,"confidence":0.998,"probabilities":[…],"model":{"name":"…","sha256":"…"}}
GET /health      {"status":"ok","model":{…}}
GET /model       the model's architecture, parameters, normalisation and test accuracy
`;

/** Browsers (Accept: text/html) get the drawing page; curl and other clients the usage text. */
function home(c: Context): Response | Promise<Response> {
  c.header("Vary", "Accept");
  return c.req.header("accept")?.includes("text/html") ? drawingPage(c) : usage(c);
}

function usage(c: Context): Response {
  return c.text(USAGE.replaceAll("URL", new URL(c.req.url).origin));
}
