/**
 * Reads a POST /classify body into the digits it carries, in order: multipart `image` fields, a raw image
 * body, or JSON with `image` (base64 or a data: URL) or `pixels` (a 28×28 MNIST-format grid).
 * Only the envelope is checked here; image bytes are judged by their magic bytes when decoded.
 */
import { ApiError } from "./api_error.ts";
import { PIXELS } from "./model.ts";

/** One digit as the client sent it: image bytes still to decode, or a ready 28×28 grid. */
export type DigitInput =
  | { kind: "image"; bytes: Uint8Array }
  | { kind: "pixels"; pixels: Uint8ClampedArray };

/** The digits of one request; `batch` when the client sent several `image` fields and gets a list back. */
export interface ClassifyRequest {
  inputs: DigitInput[];
  batch: boolean;
}

/**
 * Reads the body of a POST /classify request.
 *
 * @param request The request; its body is consumed.
 * @param maxBatch Most `image` fields a multipart body may carry.
 * @returns The digits in the order sent.
 * @throws ApiError 400 for a malformed envelope or an empty body, 413 for a batch over `maxBatch`.
 */
export async function readClassifyRequest(
  request: Request,
  maxBatch: number,
): Promise<ClassifyRequest> {
  const type = request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase() ?? "";
  if (type === "multipart/form-data") return await readMultipart(request, maxBatch);
  if (type === "application/json" || type.endsWith("+json")) {
    return { inputs: [await readJson(request)], batch: false };
  }
  // Anything else is taken as the image itself (curl --data-binary says x-www-form-urlencoded).
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.length === 0) {
    throw new ApiError(400, "empty_body", "the request has no body: send an image");
  }
  return { inputs: [{ kind: "image", bytes }], batch: false };
}

async function readMultipart(request: Request, maxBatch: number): Promise<ClassifyRequest> {
  let form: FormData;
  try {
    form = await request.formData();
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
    inputs.push({ kind: "image", bytes: new Uint8Array(await field.arrayBuffer()) });
  }
  return { inputs, batch: fields.length > 1 };
}

async function readJson(request: Request): Promise<DigitInput> {
  let body: unknown;
  try {
    body = JSON.parse(await request.text());
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
  if ("image" in body) return { kind: "image", bytes: decodeBase64Image(body.image) };
  if ("pixels" in body) return { kind: "pixels", pixels: readPixels(body.pixels) };
  throw new ApiError(
    400,
    "missing_image",
    'expected {"image": "<base64 or data: URL>"} or {"pixels": [784 numbers 0–255]}',
  );
}

/** Bytes of a base64 string or a `data:…;base64,` URL (what a canvas' toDataURL gives). */
function decodeBase64Image(value: unknown): Uint8Array {
  if (typeof value !== "string" || value.length === 0) {
    throw new ApiError(
      400,
      "invalid_base64",
      "'image' must be a non-empty base64 string or data: URL",
    );
  }
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
  let binary: string;
  try {
    binary = atob(base64);
  } catch (error) {
    throw new ApiError(400, "invalid_base64", "'image' is not valid base64", { cause: error });
  }
  if (binary.length === 0) throw new ApiError(400, "invalid_base64", "'image' decodes to no bytes");
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/** A 28×28 row-major grid of 0–255 values, rounded to bytes. */
function readPixels(value: unknown): Uint8ClampedArray {
  if (!Array.isArray(value) || value.length !== PIXELS) {
    const got = Array.isArray(value) ? `${value.length} numbers` : typeof value;
    throw new ApiError(
      400,
      "invalid_pixels",
      `'pixels' must be an array of ${PIXELS} numbers (28×28, row-major): got ${got}`,
    );
  }
  const pixels = new Uint8ClampedArray(PIXELS);
  for (let i = 0; i < PIXELS; i++) {
    const v: unknown = value[i];
    if (typeof v !== "number" || !(v >= 0 && v <= 255)) {
      throw new ApiError(
        400,
        "invalid_pixels",
        `'pixels' values must be numbers from 0 to 255: pixels[${i}] is ${JSON.stringify(v)}`,
      );
    }
    pixels[i] = Math.round(v);
  }
  return pixels;
}
