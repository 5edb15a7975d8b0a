/**
 * The Open Inference Protocol v2 shapes (KServe's `open_inference_rest.yaml` and
 * `inference_rest.md`) as zod schemas, narrowed to what this server accepts: one input tensor of
 * 28×28 MNIST-format digits and one output tensor of their ten probabilities. The inference request
 * is validated with them and /openapi.json is generated from them.
 */
import { z } from "@hono/zod-openapi";
import { IMAGE_SIDE, NUM_CLASSES, PIXELS } from "../../model/model.ts";

/** The model's one input tensor. */
export const INPUT_NAME = "image";
/** The model's one output tensor. */
export const OUTPUT_NAME = "probabilities";
/** The input datatypes accepted: bytes 0–255, or floats 0–1 (scaled by 255 and rounded). */
export const INPUT_DATATYPES = ["UINT8", "FP32"] as const;
/** What the model's metadata declares: `-1` is the batch, of 1 to `maxBatch` digits. */
export const INPUT_SHAPE = [-1, IMAGE_SIDE, IMAGE_SIDE] as const;
/** The other input shape accepted: each digit flattened, row-major. */
export const FLAT_INPUT_SHAPE = [-1, PIXELS] as const;
export const OUTPUT_SHAPE = [-1, NUM_CLASSES] as const;

/** `{"error": "…"}`: every error of the v2 routes, as the protocol has it. */
export const V2Error = z.object({
  error: z.string().openapi({ description: "What went wrong and what to send instead." }),
}).openapi("V2Error");

/** Most name/value pairs one `parameters` object may hold (checked before its values are). */
export const MAX_PARAMETERS = 32;

/** `$parameters`: name/value pairs; the protocol defines none, and none change this answer. */
export const V2Parameters = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
  .openapi("V2Parameters", {
    description: `Name/value pairs, at most ${MAX_PARAMETERS}; accepted and ignored (this server ` +
      "defines no parameters).",
    maxProperties: MAX_PARAMETERS,
  });

/** Tensor data in JSON: row-major, flat or nested as the shape is. */
export type TensorData = (number | TensorData)[];

/**
 * `$tensor_data`, numbers only (the protocol also allows strings and booleans, which a server may
 * refuse): flat, or nested as the tensor's shape.
 */
export const V2TensorData: z.ZodType<TensorData> = z.lazy(() =>
  z.array(z.union([z.number(), V2TensorData]))
).openapi("V2TensorData", {
  description: "The tensor's elements in row-major order: one flat array, or arrays nested as " +
    "the shape (e.g. [N][28][28]).",
});

/** `$metadata_tensor`. */
export const V2MetadataTensor = z.object({
  name: z.string(),
  datatype: z.string(),
  shape: z.array(z.number().int().min(-1)).openapi({
    description: "-1 for a dimension of any size (the batch).",
  }),
}).openapi("V2MetadataTensor");

const requestInputFields = {
  name: z.literal(INPUT_NAME),
  shape: z.array(z.number().int().min(0)).min(2).max(3).openapi({
    description:
      `[N, ${IMAGE_SIDE}, ${IMAGE_SIDE}] or [N, ${PIXELS}]; N from 1 to the batch limit.`,
    example: [1, IMAGE_SIDE, IMAGE_SIDE],
  }),
  datatype: z.enum(INPUT_DATATYPES).openapi({
    description: "UINT8: integers 0–255; FP32: numbers 0–1. MNIST format: 0 background, full ink.",
  }),
  parameters: V2Parameters.optional(),
};

/** `$request_input`: the digits, `[N,28,28]` or `[N,784]`. */
export const V2RequestInput = z.object({ ...requestInputFields, data: V2TensorData }).openapi(
  "V2RequestInput",
);

/** `$request_output`. */
export const V2RequestOutput = z.object({
  name: z.literal(OUTPUT_NAME),
  parameters: V2Parameters.optional(),
}).openapi("V2RequestOutput");

const inferenceRequestFields = {
  id: z.string().max(256).optional().openapi({ description: "Echoed in the response." }),
  parameters: V2Parameters.optional(),
  outputs: z.array(V2RequestOutput).max(1).optional().openapi({
    description: "The outputs to return (there is one, `probabilities`); all when absent.",
  }),
};

/** `$inference_request`, as /openapi.json describes it. */
export const V2InferenceRequest = z.object({
  ...inferenceRequestFields,
  inputs: z.array(V2RequestInput).min(1).max(1),
}).openapi("V2InferenceRequest");

/**
 * {@linkcode V2InferenceRequest} as requests are validated: the same fields, but an input's `data`
 * is only checked to be an array here. Its elements are checked by `readDigits` as it copies them,
 * once, against the shape and datatype (zod would walk up to 50,176 of them a second time).
 */
export const V2InferenceEnvelope = z.object({
  ...inferenceRequestFields,
  inputs: z.array(
    z.object({
      ...requestInputFields,
      data: z.custom<unknown[]>(Array.isArray, { message: "must be an array (tensor data)" }),
    }),
  ).min(1).max(1),
});

/** A validated inference request; its tensor data still to be read. */
export type V2InferenceEnvelope = z.infer<typeof V2InferenceEnvelope>;

/** `$response_output`: the ten probabilities of each digit, `[N,10]` FP32, flat. */
export const V2ResponseOutput = z.object({
  name: z.literal(OUTPUT_NAME),
  shape: z.array(z.number().int().min(0)),
  datatype: z.literal("FP32"),
  parameters: V2Parameters.optional(),
  data: z.array(z.number()).openapi({
    description: "Softmax probabilities of the digits 0–9 for each digit, flat, row-major.",
  }),
}).openapi("V2ResponseOutput");

/** `$inference_response`. */
export const V2InferenceResponse = z.object({
  model_name: z.string(),
  model_version: z.string().optional().openapi({
    description: "Only when the request named a version.",
  }),
  id: z.string().optional().openapi({ description: "The request's `id`, when it had one." }),
  parameters: V2Parameters.optional(),
  outputs: z.array(V2ResponseOutput),
}).openapi("V2InferenceResponse");

/** The inference response's type. */
export type V2InferenceResponse = z.infer<typeof V2InferenceResponse>;

/** `$metadata_server_response`. */
export const V2ServerMetadata = z.object({
  name: z.string(),
  version: z.string(),
  extensions: z.array(z.string()),
}).openapi("V2ServerMetadata");

/** `$live_server_response`. */
export const V2ServerLive = z.object({ live: z.boolean() }).openapi("V2ServerLive");

/**
 * `$ready_server_response`: inference_rest.md names its field `live`, KServe's and MLServer's
 * servers `ready`; both are sent.
 */
export const V2ServerReady = z.object({ live: z.boolean(), ready: z.boolean() }).openapi(
  "V2ServerReady",
);

/** `$metadata_model_response`. */
export const V2ModelMetadata = z.object({
  name: z.string(),
  versions: z.array(z.string()).optional(),
  platform: z.string(),
  inputs: z.array(V2MetadataTensor),
  outputs: z.array(V2MetadataTensor),
}).openapi("V2ModelMetadata");

/** The model metadata's type. */
export type V2ModelMetadata = z.infer<typeof V2ModelMetadata>;

/** `$ready_model_response`. */
export const V2ModelReady = z.object({ name: z.string(), ready: z.boolean() }).openapi(
  "V2ModelReady",
);

/** The path of a model route. */
export const ModelParams = z.object({
  name: z.string().openapi({
    param: { name: "name", in: "path" },
    example: "mnist-cnn",
    description: "A registered model's name, as GET /model lists them (GET /v2/models/{name} " +
      "answers its metadata).",
  }),
});

/** The path of a route naming a model version. */
export const VersionParams = ModelParams.extend({
  version: z.string().openapi({
    param: { name: "version", in: "path" },
    description: "The model's version: the sha256 of its weights, as its metadata lists.",
  }),
});
