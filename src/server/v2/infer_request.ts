/**
 * Reads the body of `POST /v2/models/{name}/infer`: once, as a stream, within the body limits; its
 * JSON bounded before it is parsed, validated with the request schema, and its tensor read into
 * digits.
 */
import { ApiError } from "../api_error.ts";
import { readBody } from "../body.ts";
import type { Limits } from "../limits.ts";
import { PIXELS } from "../../model/model.ts";
import { checkJsonCost } from "../json_cost.ts";
import { MAX_PARAMETERS, V2InferenceEnvelope } from "./schemas.ts";
import { readDigits } from "./tensor.ts";

/** The limits {@linkcode readInferenceRequest} enforces. */
export type InferenceLimits = Pick<Limits, "maxBodyBytes" | "maxInflightBodyBytes" | "maxBatch">;

/** An inference request, read. */
export interface InferenceRequest {
  /** The request without its tensor data. */
  request: V2InferenceEnvelope;
  /** The input tensor's digits, 784 bytes each (0 background, 255 ink), in order. */
  digits: Uint8Array[];
  /** The body's size. */
  bodyBytes: number;
}

/**
 * Deepest nesting the request needs: the object, `inputs`, an input, its `data`, and `data` nested
 * as `[N][28][28]`.
 */
export const MAX_JSON_DEPTH = 6;
/** Commas a request may hold beyond its digits' values: keys, shape, parameters, outputs. */
export const EXTRA_JSON_COMMAS = 1024;

const EXPECTED = 'expected {"inputs": [{"name": "image", "shape": [N, 28, 28], ' +
  '"datatype": "UINT8", "data": [N×784 integers 0–255]}]}';

/**
 * Reads an inference request's body.
 *
 * @param raw The request; its body is consumed.
 * @param limits The body cap, the isolate's in-flight ceiling and the most digits in a batch.
 * @returns The request, its digits and its size.
 * @throws ApiError 415 `unsupported_media_type` for a body that is not declared JSON; 400
 *   `invalid_json` for JSON that is malformed, too deep or too long; 400 `invalid_request` for a
 *   request the schema refuses; 400 `invalid_tensor` / 413 `too_many_images` for its tensor (see
 *   {@linkcode readDigits}); and what {@linkcode readBody} throws.
 */
export async function readInferenceRequest(
  raw: Request,
  limits: InferenceLimits,
): Promise<InferenceRequest> {
  const type = raw.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase() ?? "";
  if (type !== "application/json" && !type.endsWith("+json")) {
    throw new ApiError(
      415,
      "unsupported_media_type",
      `send the inference request as JSON, with Content-Type: application/json (got '${type}'); ` +
        "the binary tensor extension is not supported",
    );
  }
  return await readBody(raw, limits, (bytes) => {
    if (bytes.length === 0) {
      throw new ApiError(400, "empty_body", `the request has no body: ${EXPECTED}`);
    }
    // A batch of maxBatch digits sent flat holds maxBatch × 784 values.
    checkJsonCost(bytes, {
      maxDepth: MAX_JSON_DEPTH,
      maxCommas: limits.maxBatch * PIXELS + EXTRA_JSON_COMMAS,
    }, EXPECTED);
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(bytes));
    } catch (error) {
      throw new ApiError(400, "invalid_json", "the body is not valid JSON", { cause: error });
    }
    checkParameterCounts(body);
    const parsed = V2InferenceEnvelope.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue?.path.map((key) =>
        typeof key === "number" ? `[${key}]` : `.${String(key)}`
      )
        .join("").replace(/^\./, "").slice(0, 60);
      throw new ApiError(
        400,
        "invalid_request",
        `${path ? `'${path}'` : "the request"} is invalid: ${issue?.message}; ${EXPECTED}`,
      );
    }
    const request = parsed.data;
    return {
      request,
      digits: readDigits(request.inputs[0]!, limits.maxBatch),
      bodyBytes: bytes.length,
    };
  });
}

/**
 * Refuses a `parameters` object (the request's, its input's or an output's) with more than
 * {@linkcode MAX_PARAMETERS} names before zod checks its values: the JSON's value budget is sized for
 * tensor data, and zod would otherwise build an error for each of tens of thousands of them.
 */
function checkParameterCounts(body: unknown): void {
  const at = (value: unknown, key: string | number): unknown =>
    typeof value === "object" && value !== null
      ? (value as Record<string, unknown>)[key]
      : undefined;
  const outputs = at(body, "outputs");
  const owners = [
    ["parameters", body],
    ["inputs[0].parameters", at(at(body, "inputs"), 0)],
    ...(Array.isArray(outputs) ? outputs.slice(0, 2) : []).map((o, i) => [
      `outputs[${i}].parameters`,
      o,
    ]),
  ] as const;
  for (const [path, owner] of owners) {
    const parameters = at(owner, "parameters");
    if (typeof parameters !== "object" || parameters === null) continue;
    let count = 0;
    for (const _ in parameters) {
      if (++count > MAX_PARAMETERS) {
        throw new ApiError(
          400,
          "invalid_request",
          `'${path}' holds more than ${MAX_PARAMETERS} parameters; ${EXPECTED}`,
        );
      }
    }
  }
}
