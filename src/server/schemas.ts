/**
 * The API's shapes as zod schemas: what validates requests (the query, the JSON body) is what
 * /openapi.json describes, and the responses are described by the same types the handlers build, so
 * the document cannot drift from the code.
 */
import { z } from "@hono/zod-openapi";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ODDS_TO_ANSWER } from "../model/classifier.ts";
import { PIXELS } from "../model/model.ts";
import { MODEL_NAME } from "../model/registry.ts";

/** Every `code` an error answer may carry; docs/api.md says when each is sent. */
export const ERROR_CODES = [
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
  "bad_request",
  "invalid_image",
  "unauthorized",
  "not_found",
  "unknown_model",
  "method_not_allowed",
  "body_too_large",
  "image_too_large",
  "request_over_budget",
  "too_many_images",
  "unsupported_media_type",
  "no_ink",
  "not_a_digit",
  "rate_limited",
  "internal_error",
  "model_unavailable",
  "misconfigured",
  "overloaded",
] as const;

/** A machine-readable reason for an error answer. */
export type ErrorCode = typeof ERROR_CODES[number];

/** `{"error":{"code","message"}}`: every error of the main routes. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES),
    message: z.string().openapi({ description: "What went wrong and what to send instead." }),
  }),
}).openapi("Error");

const ModelRef = z.object({
  name: z.string().openapi({ example: "mnist-cnn" }),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
}).openapi("ModelRef");

/** What POST /classify answers for one digit. */
export const Prediction = z.object({
  digit: z.number().int().min(0).max(9),
  confidence: z.number().min(0).max(1),
  probabilities: z.array(z.number().min(0).max(1)).length(10).openapi({
    description:
      "The (calibrated) probabilities of the digits 0–9; with not_a_digit they sum to 1. With a " +
      "partner: the geometric mean of both networks', scaled to 1 − not_a_digit.",
  }),
  not_a_digit: z.number().min(0).max(1).openapi({
    description: "The model's probability that the image is not a digit (0 from a model without " +
      `that class). Unless the likeliest digit is ${ODDS_TO_ANSWER[0]} times likelier (a 1: ` +
      `${ODDS_TO_ANSWER[1]} times), the answer is 422 not_a_digit instead.`,
  }),
  model: ModelRef,
  partner: ModelRef.optional().openapi({
    description: "The network also asked which digit it is (models/index.json's partners).",
  }),
  debug: z.object({
    width: z.literal(28),
    height: z.literal(28),
    pixels: z.array(z.number().int().min(0).max(255)).length(PIXELS),
  }).optional().openapi({
    description: "With ?debug=1: the 28×28 image the model saw, row-major, 0 background, 255 ink.",
  }),
}).openapi("Prediction");

/** A multipart batch's answer: one prediction per `image` field, in order. */
export const PredictionBatch = z.object({ results: z.array(Prediction) }).openapi(
  "PredictionBatch",
);

/** A rectangle in pixels of the upright original image (after EXIF orientation). */
export const Box = z.object({
  x: z.number().int().min(0).openapi({ description: "Left edge, from the image's left." }),
  y: z.number().int().min(0).openapi({ description: "Top edge, from the image's top." }),
  width: z.number().int().min(1),
  height: z.number().int().min(1),
}).openapi("Box");

/** One digit of a number POST /read read. */
export const ReadDigit = z.object({
  digit: z.number().int().min(0).max(9),
  confidence: z.number().min(0).max(1).openapi({
    description: "The model's softmax probability of `digit` for this piece of writing.",
  }),
  box: Box,
  pixels: z.array(z.number().int().min(0).max(255)).length(PIXELS).optional().openapi({
    description: "With ?debug=1: the 28×28 image the model saw, row-major, 0 background, 255 ink.",
  }),
}).openapi("ReadDigit");

/** What POST /read answers for one image. */
export const ReadResult = z.object({
  text: z.string().regex(/^[0-9]+(\n[0-9]+)*$/).openapi({
    description: "The digits in reading order; lines of writing top to bottom, joined by `\\n`.",
    example: "2026",
  }),
  digits: z.array(ReadDigit).min(1).openapi({
    description:
      "One per digit of `text`, in the same order (lines top to bottom, each left to right).",
  }),
  model: ModelRef,
}).openapi("ReadResult");

/** A multipart batch's answer on POST /read: one result per `image` field, in order. */
export const ReadBatch = z.object({ results: z.array(ReadResult) }).openapi("ReadBatch");

/** `{"image"}`: an image file in JSON. */
export const ImageJson = z.object({
  image: z.string().min(1).openapi({
    description: "The image file as base64, or a data: URL (what a canvas' toDataURL gives).",
    example: "data:image/png;base64,iVBORw0KGgo…",
  }),
}).openapi("ImageJson");

/** `{"pixels"}`: a ready MNIST-format grid. */
export const PixelsJson = z.object({
  pixels: z.array(z.number().min(0).max(255)).length(PIXELS).openapi({
    description:
      "A 28×28 MNIST-format grid, row-major, light ink (255) on black (0), used as given.",
  }),
}).openapi("PixelsJson");

/** The JSON body forms of POST /classify: the field present says which. */
export const ClassifyJson = z.union([ImageJson, PixelsJson]).openapi("ClassifyJson");

/** A registered model's name, as `?model=` takes it. */
export const ModelName = z.string().regex(
  MODEL_NAME,
  "a model name is 1–64 characters of a–z, 0–9 and - (GET /model lists the models)",
);

const modelQuery = ModelName.optional().openapi({
  description: "The model that answers, by name (GET /model lists them); the default if absent. " +
    "A name no model has: 404 `unknown_model`.",
  example: "mnist-cnn",
});

/** POST /classify's query. */
export const ClassifyQuery = z.object({
  model: modelQuery,
  preprocess: z.enum(["mnist", "none"]).optional().openapi({
    description: "`none`: the image is already MNIST-format 28×28 (white ink on black).",
  }),
  debug: z.enum(["0", "1"]).optional().openapi({
    description: "`1` adds the 28×28 image the model saw.",
  }),
});

/** POST /read's query. */
export const ReadQuery = z.object({
  model: ModelName.optional().openapi({
    description: "The model that reads, by name (GET /model lists them); the reader if absent " +
      "(GET /model's `reader`). A name no model has: 404 `unknown_model`.",
    example: "mnist-cnn2",
  }),
  preprocess: z.enum(["mnist", "none"]).optional().openapi({
    description: "`none`: each image is already one MNIST-format 28×28 digit (white ink on black).",
  }),
  debug: z.enum(["0", "1"]).optional().openapi({
    description: "`1` adds each digit's 28×28 image, as the model saw it.",
  }),
});

/** GET /health. */
export const Health = z.object({ status: z.literal("ok"), model: ModelRef }).openapi("Health");

/**
 * A model's manifest, as training wrote it; the fields every manifest has are described, and any
 * others (calibration, figures) pass as they are.
 */
export const ModelManifest = z.looseObject({
  format: z.string(),
  version: z.number().int(),
  name: z.string(),
  weights: z.looseObject({ file: z.string(), sha256: z.string(), bytes: z.number().int() }),
  architecture: z.looseObject({
    arch: z.string(),
    description: z.string(),
    parameters: z.number().int(),
    normalization: z.object({ mean: z.number(), std: z.number() }),
  }),
  training: z.record(z.string(), z.unknown()).openapi({
    description: "The recipe: epochs, batch size, optimiser, schedule, seed, time taken.",
  }),
  dataset: z.record(z.string(), z.unknown()).openapi({
    description: "The data it was trained and tested on, with its checksums.",
  }),
  test: z.looseObject({
    accuracy: z.number(),
    loss: z.number(),
    per_class_accuracy: z.array(z.number()).optional(),
    confusion_matrix: z.array(z.array(z.number().int())).optional().openapi({
      description: "Row: the true digit; column: the digit read.",
    }),
  }).openapi({ description: "On MNIST's 10,000 test digits." }),
  created_at: z.string(),
}).openapi("ModelManifest");

/** GET /model/{name}: a model's card, its served facts and its manifest whole. */
export const ModelCard = z.object({
  name: ModelName,
  sha256: z.string(),
  format: z.string(),
  version: z.number().int(),
  architecture: z.string().openapi({ description: "The layers, in words." }),
  parameters: z.number().int(),
  normalization: z.object({ mean: z.number(), std: z.number() }),
  test: z.object({ accuracy: z.number(), loss: z.number() }),
  trained_at: z.string(),
  manifest: ModelManifest,
}).openapi("ModelCard");

/**
 * GET /model: the default model's card (the shape GET /model had when it served one model), the
 * default's name, the reader's, the partners, and every model's card in the index's order.
 */
export const ModelList = ModelCard.extend({
  default: ModelName.openapi({ description: "The model that answers when none is named." }),
  reader: ModelName.openapi({
    description: "The model POST /read uses when none is named: one trained on digits cut " +
      "from written numbers.",
  }),
  partners: z.record(ModelName, ModelName).openapi({
    description: "Per model, the network POST /classify also asks which digit an image is: the " +
      "digits' probabilities are both networks', whether it is a digit the model's alone.",
    example: { "mnist-cnn2": "mnist-cnn2-read" },
  }),
  models: z.array(ModelCard).openapi({
    description: "Every model served, the default among them.",
  }),
}).openapi("ModelList");

/** GET /model/{name}'s path. */
export const ModelPath = z.object({
  name: z.string().openapi({
    param: { name: "name", in: "path" },
    example: "mnist-cnn",
    description: "A model's name, as GET /model lists them.",
  }),
});

/** The headers an error answer may carry, by status. */
const ERROR_HEADERS: Partial<Record<string, Record<string, object>>> = {
  400: {
    "WWW-Authenticate": {
      description:
        'With `invalid_authorization`: `Bearer realm="mnist-edge", error="invalid_request"`.',
      schema: { type: "string" },
    },
  },
  401: {
    "WWW-Authenticate": {
      description: '`Bearer realm="mnist-edge"`, with `error="invalid_token"` for a wrong token.',
      schema: { type: "string" },
      required: true,
    },
  },
  429: {
    "Retry-After": {
      description: "Seconds until this client's budget is renewed.",
      schema: { type: "integer", minimum: 1 },
      required: true,
    },
  },
  503: {
    "Retry-After": {
      description: "With `overloaded`: seconds to wait before sending again.",
      schema: { type: "integer", minimum: 1 },
    },
  },
};

/**
 * Error responses for a route's `responses`, each with its body's schema and the headers its status
 * may carry (`Retry-After`, `WWW-Authenticate`).
 *
 * @param schema The app's error body: {@linkcode ErrorBody}, or v2's.
 * @param table A description for each status.
 */
export function errorResponses(
  schema: z.ZodType,
  table: Partial<Record<ContentfulStatusCode, string>>,
) {
  return Object.fromEntries(
    Object.entries(table).map(([status, description]) => [status, {
      description: description!,
      ...(ERROR_HEADERS[status] ? { headers: ERROR_HEADERS[status] } : {}),
      content: { "application/json": { schema } },
    }]),
  );
}
