/**
 * Reads the input tensor of an inference request into MNIST-format digits (784 bytes each, 0
 * background, 255 ink): the shape is judged first, then the data is copied once into one buffer
 * sized from the shape, each element checked as it is copied.
 */
import { ApiError, describeValue } from "../api_error.ts";
import { IMAGE_SIDE, PIXELS } from "../../model/model.ts";
import type { V2InferenceEnvelope } from "./schemas.ts";

/** An input tensor whose shape, name and datatype have passed the request schema. */
export type InputTensor = V2InferenceEnvelope["inputs"][number];

/**
 * The digits of an input tensor, in order.
 *
 * @param input The tensor: shape `[N,28,28]` or `[N,784]`; UINT8 (integers 0–255) or FP32 (0–1,
 *   scaled by 255 and rounded); data flat (N×784 numbers) or nested as the shape.
 * @param maxBatch The most digits one request may carry.
 * @returns N digits of 784 bytes, views of one buffer.
 * @throws ApiError 400 `invalid_tensor` for another shape, an empty batch, data whose length or
 *   nesting does not match the shape, or a value that is not a number in the datatype's range;
 *   413 `too_many_images` when N is over `maxBatch`.
 */
export function readDigits(input: InputTensor, maxBatch: number): Uint8Array[] {
  const { shape, datatype, data } = input;
  const batch = shape[0]!;
  const flat = shape.length === 2 && shape[1] === PIXELS;
  const grid = shape.length === 3 && shape[1] === IMAGE_SIDE && shape[2] === IMAGE_SIDE;
  if (!flat && !grid) {
    throw invalid(
      `shape [${shape.join(",")}] is not a batch of 28×28 digits: send [N,28,28] or [N,784]`,
    );
  }
  if (batch === 0) throw invalid("the batch is empty: shape [0,…] has no digit to classify");
  if (batch > maxBatch) {
    throw new ApiError(
      413,
      "too_many_images",
      `a batch holds at most ${maxBatch} digits: this one has ${batch}`,
    );
  }
  const bytes = new Uint8Array(batch * PIXELS);
  const copy: Copy = { bytes, count: 0, scale: datatype === "UINT8" ? 1 : 255, datatype };
  if (data.length === bytes.length && !Array.isArray(data[0])) {
    copyValues(data, copy, []);
  } else if (Array.isArray(data[0])) {
    copyNested(data, shape, 0, [], copy);
  } else {
    throw invalid(
      `data holds ${data.length} values where shape [${shape.join(",")}] needs ${bytes.length}`,
    );
  }
  return Array.from({ length: batch }, (_, i) => bytes.subarray(i * PIXELS, (i + 1) * PIXELS));
}

/** Where the values go and how they are scaled. */
interface Copy {
  bytes: Uint8Array;
  count: number;
  scale: number;
  datatype: InputTensor["datatype"];
}

/** Copies one innermost array of values, refusing the first that is no number in range. */
function copyValues(values: unknown[], copy: Copy, path: number[]): void {
  const { bytes, scale, datatype } = copy;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value !== "number" || !inRange(value, datatype)) {
      throw invalid(`data${indices(path)}[${i}] is ${describeValue(value)}: ${RANGES[datatype]}`);
    }
    bytes[copy.count++] = Math.round(value * scale);
  }
}

/** Copies data nested as the shape (`[N][28][28]` or `[N][784]`), refusing any other nesting. */
function copyNested(
  data: unknown[],
  shape: number[],
  level: number,
  path: number[],
  copy: Copy,
): void {
  if (data.length !== shape[level]) {
    throw invalid(
      `data${indices(path)} holds ${data.length} values where shape [${shape.join(",")}] needs ${
        shape[level]
      }: nest the data as the shape, or send it flat`,
    );
  }
  if (level === shape.length - 1) return copyValues(data, copy, path);
  for (let i = 0; i < data.length; i++) {
    const item = data[i];
    if (!Array.isArray(item)) {
      throw invalid(
        `data${indices(path)}[${i}] is ${describeValue(item)} where an array of ${
          shape[level + 1]
        } values belongs: nest the data as the shape, or send it flat`,
      );
    }
    path.push(i);
    copyNested(item, shape, level + 1, path, copy);
    path.pop();
  }
}

function indices(path: number[]): string {
  return path.map((i) => `[${i}]`).join("");
}

const RANGES = {
  UINT8: "UINT8 values must be integers from 0 to 255",
  FP32: "FP32 values must be numbers from 0 to 1",
} as const;

function inRange(value: number, datatype: InputTensor["datatype"]): boolean {
  return datatype === "UINT8"
    ? Number.isInteger(value) && value >= 0 && value <= 255
    : value >= 0 && value <= 1;
}

function invalid(message: string): ApiError {
  return new ApiError(400, "invalid_tensor", message);
}
