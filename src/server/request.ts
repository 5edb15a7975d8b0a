/**
 * Reads a POST /classify body into the digits it carries, in order: multipart `image` fields, a raw image
 * body, or JSON with `image` (base64 or a data: URL) or `pixels` (a 28×28 MNIST-format grid).
 * The envelope is checked here, before anything is parsed or decoded; an image's bytes only by their
 * magic numbers (the decoder judges the rest).
 */
import { ApiError, describeValue } from "./api_error.ts";
import { type BodyLimits, readBody } from "./body.ts";
import { countDelimiters } from "./_delimiters.ts";
import { checkJsonCost } from "./json_cost.ts";
import type { Limits } from "./limits.ts";
import { PIXELS } from "../model/model.ts";
import { sniffFormat } from "../image/decode.ts";
import { ImageJson, PixelsJson } from "./schemas.ts";
import type { ZodError } from "zod";

/** One digit as the client sent it: image bytes still to decode, or a ready 28×28 grid. */
export type DigitInput =
  | { kind: "image"; bytes: Uint8Array }
  | { kind: "pixels"; pixels: Uint8ClampedArray };

/** The digits of one request; `batch` when the client sent several `image` fields and gets a list back. */
export interface ClassifyRequest {
  inputs: DigitInput[];
  batch: boolean;
  /** The body's size, for the request log. */
  bodyBytes: number;
}

/** The limits {@linkcode readClassifyRequest} enforces. */
export type RequestLimits = BodyLimits & Pick<Limits, "maxBatch">;

/** Deepest nesting the accepted JSON shapes need: the object, then the `pixels` array. */
export const MAX_JSON_DEPTH = 2;
/** Most values (commas outside strings) JSON may carry: 784 pixels and a few keys fit well inside. */
export const MAX_JSON_COMMAS = 1024;
/** Parts a multipart body may carry beyond `maxBatch` (other fields a form may add) before it is refused. */
export const EXTRA_MULTIPART_PARTS = 8;

/**
 * Reads the body of a POST /classify request: once, as a stream, within the body limits, refusing a
 * hostile envelope (deep or long JSON, a flood of multipart parts, bytes that are no image) before
 * parsing it.
 *
 * @param request The request; its body is consumed.
 * @param limits The body cap, the isolate's in-flight ceiling and the most images in a batch.
 * @returns The digits in the order sent.
 * @throws ApiError 400 for a malformed or incomplete envelope or an empty body, 413 for a body or batch
 *   over its limit, 415 for bytes that are no supported image, 503 when the isolate holds too many
 *   bodies already (see {@linkcode readBody}).
 */
export async function readClassifyRequest(
  request: Request,
  limits: RequestLimits,
): Promise<ClassifyRequest> {
  const contentType = request.headers.get("content-type") ?? "";
  const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return await readBody(request, limits, async (bytes) => {
    const bodyBytes = bytes.length;
    if (type === "multipart/form-data") {
      return { ...await readMultipart(bytes, contentType, limits.maxBatch), bodyBytes };
    }
    if (type === "application/json" || type.endsWith("+json")) {
      return { inputs: [readJson(bytes)], batch: false, bodyBytes };
    }
    // Anything else is taken as the image itself (curl --data-binary says x-www-form-urlencoded).
    if (bytes.length === 0) {
      throw new ApiError(400, "empty_body", "the request has no body: send an image");
    }
    return { inputs: [{ kind: "image", bytes: checkedImage(bytes) }], batch: false, bodyBytes };
  });
}

async function readMultipart(
  bytes: Uint8Array<ArrayBuffer>,
  contentType: string,
  maxBatch: number,
): Promise<Omit<ClassifyRequest, "bodyBytes">> {
  countParts(bytes, boundaryOf(contentType), maxBatch + EXTRA_MULTIPART_PARTS);
  let form: FormData;
  try {
    form = await new Response(bytes, { headers: { "content-type": contentType } }).formData();
  } catch (error) {
    throw new ApiError(400, "invalid_multipart", "the multipart body could not be parsed", {
      cause: error,
    });
  }
  const fields = form.getAll("image");
  if (fields.length === 0) {
    throw new ApiError(
      400,
      "missing_image",
      "the form has no 'image' field: send the file as image, e.g. curl -F image=@digit.png",
    );
  }
  if (fields.length > maxBatch) {
    throw new ApiError(
      413,
      "too_many_images",
      `a batch holds at most ${maxBatch} images: this one has ${fields.length}`,
    );
  }
  const inputs: DigitInput[] = [];
  for (const field of fields) {
    if (typeof field === "string") {
      throw new ApiError(400, "invalid_multipart", "the 'image' field must be a file, not text");
    }
    inputs.push({ kind: "image", bytes: checkedImage(new Uint8Array(await field.arrayBuffer())) });
  }
  return { inputs, batch: fields.length > 1 };
}

/** The boundary parameter of a multipart Content-Type (RFC 2046: 1–70 characters, maybe quoted). */
function boundaryOf(contentType: string): string {
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))\s*(?:;|$)/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) {
    throw new ApiError(
      400,
      "invalid_multipart",
      "multipart/form-data needs a boundary of 1 to 70 characters: Content-Type: multipart/form-data; boundary=…",
    );
  }
  return boundary;
}

/**
 * Counts the parts by their delimiters, stopping at the first one past `maxParts`: refuses a flood of
 * parts before the form parser builds an entry for each.
 */
function countParts(bytes: Uint8Array, boundary: string, maxParts: number): void {
  // Searched in the bytes themselves: a text copy of a 5 MiB body would be 5 MiB more to collect.
  const delimiter = new TextEncoder().encode(`--${boundary}`);
  // The closing delimiter (--boundary--) ends the last part and starts none.
  const { count } = countDelimiters(bytes, delimiter, maxParts + 2);
  if (count > maxParts + 1) {
    throw new ApiError(
      413,
      "too_many_images",
      `a multipart body holds at most ${maxParts} parts (${
        maxParts - EXTRA_MULTIPART_PARTS
      } images): this one has more`,
    );
  }
  if (count === 0) {
    throw new ApiError(
      400,
      "invalid_multipart",
      `the multipart body has no part: none starts with the boundary '--${boundary}'`,
    );
  }
}

const EXPECTED_JSON =
  'expected {"image": "<base64 or data: URL>"} or {"pixels": [784 numbers 0–255]}';

function readJson(bytes: Uint8Array): DigitInput {
  checkJsonCost(bytes, { maxDepth: MAX_JSON_DEPTH, maxCommas: MAX_JSON_COMMAS }, EXPECTED_JSON);
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new ApiError(400, "invalid_json", "the body is not valid JSON", { cause: error });
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ApiError(
      400,
      "invalid_json",
      'expected a JSON object: {"image": …} or {"pixels": […]}',
    );
  }
  // The schemas /openapi.json publishes decide, each for the field the client chose.
  if ("image" in body) {
    const parsed = ImageJson.safeParse(body);
    if (!parsed.success) {
      throw new ApiError(
        400,
        "invalid_base64",
        "'image' must be a non-empty base64 string or data: URL",
      );
    }
    return { kind: "image", bytes: decodeBase64Image(parsed.data.image) };
  }
  if ("pixels" in body) {
    const parsed = PixelsJson.safeParse(body);
    if (!parsed.success) throw pixelsRefusal(body.pixels, parsed.error);
    return { kind: "pixels", pixels: Uint8ClampedArray.from(parsed.data.pixels, Math.round) };
  }
  throw new ApiError(400, "missing_image", EXPECTED_JSON);
}

/** What is wrong with `pixels`: its length, or the first value out of range. */
function pixelsRefusal(value: unknown, error: ZodError): ApiError {
  if (!Array.isArray(value) || value.length !== PIXELS) {
    const got = Array.isArray(value) ? `${value.length} numbers` : typeof value;
    return new ApiError(
      400,
      "invalid_pixels",
      `'pixels' must be an array of ${PIXELS} numbers (28×28, row-major): got ${got}`,
    );
  }
  const at = error.issues.find((issue) => typeof issue.path[1] === "number")?.path[1] as
    | number
    | undefined;
  const shown = at === undefined ? "" : `: pixels[${at}] is ${describeValue(value[at])}`;
  return new ApiError(
    400,
    "invalid_pixels",
    `'pixels' values must be numbers from 0 to 255${shown}`,
  );
}

/** Bytes of a base64 string or a `data:…;base64,` URL (what a canvas' toDataURL gives). */
function decodeBase64Image(value: string): Uint8Array {
  let base64 = value;
  if (value.startsWith("data:")) {
    const comma = value.indexOf(",");
    if (comma < 0 || !value.slice(0, comma).endsWith(";base64")) {
      throw new ApiError(
        400,
        "invalid_base64",
        "'image' must be a base64 data: URL (data:…;base64,…)",
      );
    }
    base64 = value.slice(comma + 1);
  }
  // The first 36 characters (27 bytes) hold all sniffFormat needs (a BMP's 26-byte header the most):
  // judge them before decoding the rest.
  const head = base64.slice(0, 128).replace(/\s/g, "").slice(0, 36);
  if (head.length === 36) checkedImage(fromBase64(head));
  const bytes = fromBase64(base64);
  if (bytes.length === 0) throw new ApiError(400, "invalid_base64", "'image' decodes to no bytes");
  return checkedImage(bytes);
}

function fromBase64(base64: string): Uint8Array {
  let binary: string;
  try {
    binary = atob(base64);
  } catch (error) {
    throw new ApiError(400, "invalid_base64", "'image' is not valid base64", { cause: error });
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * The bytes, when the decoder's own sniffing names them PNG, JPEG, GIF, WebP or BMP; refused as the
 * decoder would refuse them (415 `unsupported_media_type`), before anything is decoded.
 */
function checkedImage(bytes: Uint8Array): Uint8Array {
  if (sniffFormat(bytes) === null) {
    throw new ApiError(
      415,
      "unsupported_media_type",
      "Not a supported image: send PNG, JPEG, GIF, WebP or BMP",
    );
  }
  return bytes;
}
