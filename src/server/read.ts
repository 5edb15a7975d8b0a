/**
 * POST /read: an image of a written number → its digits in reading order, each with the model's
 * confidence and its box in pixels of the upright original. parse → decode at READ_MAX_SIDE → cut
 * each image into candidate digits (segmentNumber) → ONE forward pass over every candidate of every
 * image → each image's best reading (chooseReading) → JSON.
 */
import type { z } from "@hono/zod-openapi";
import type { Handler } from "hono";
import {
  chooseReading,
  type DigitCandidate,
  type MapBox,
  READ_MAX_SIDE,
  type Reading,
  segmentNumber,
} from "../image/read.ts";
import type { DecodedImage, DecodeLimits } from "../image/decode.ts";
import { ImageError } from "../image/errors.ts";
import {
  bestDigit,
  type Classifier,
  isNotADigit,
  type ModelInfo,
  type Scores,
} from "../model/classifier.ts";
import type { ModelRegistry } from "../model/registry.ts";
import {
  checkRequestBudget,
  type DecodedImageInfo,
  decodeInput,
  fromMnistInput,
  type Preprocess,
  requireInk,
} from "./digits.ts";
import type { AppEnv } from "./env.ts";
import { readImageRequest } from "./_routes.ts";
import type { Limits } from "./limits.ts";
import type { DigitInput } from "./request.ts";
import type { Box as BoxSchema, ReadResult as ReadResultSchema } from "./schemas.ts";

/** A rectangle in pixels of the upright original image. */
export type Box = z.infer<typeof BoxSchema>;
/** What POST /read answers for one image. */
export type ReadResult = z.infer<typeof ReadResultSchema>;

/** One input cut into the pieces the model scores, with how to read them and where they are. */
export interface Sheet {
  candidates: DigitCandidate[];
  /** The reading, given what the model says of each candidate, in order. */
  choose(scores: Scores[]): Reading;
  /** Where a candidate is, in pixels of the upright original. */
  boxOf(box: MapBox): Box;
}

/**
 * The handler of POST /read. It accepts what /classify accepts, within the same limits: a multipart
 * batch answers `{"results"}` in order; `?debug=1` adds each digit's 28×28 image.
 *
 * @param models The app's models: `?model=` names one, else the reader (models/index.json's
 *   `reader`, the default unless it names another; 404 `unknown_model`, 503 `model_unavailable`
 *   when it cannot start).
 * @param limits The request's body, batch and decoding limits.
 */
export function readHandler(models: ModelRegistry, limits: Limits): Handler<AppEnv> {
  return async function read(c) {
    const { preprocess, debug, inputs, batch, model } = await readImageRequest(
      c,
      models,
      limits,
      models.readerModel,
    );
    const log = c.var.log;
    const { sheets, images } = await toSheets(inputs, { preprocess, limits });
    if (images.length) log.images = images;
    const results = readSheets(sheets, model, { debug });
    log.digits = results.flatMap((result) =>
      result.digits.map(({ digit, confidence }) => ({ digit, confidence }))
    );
    return c.json(batch ? { results } : results[0]);
  };
}

/**
 * What cutting one image into digits and scoring them costs beyond its decoding, in the decoding
 * budget's units (~0.5 ns each): bench:edge measured POST /read of a 4-digit 1200×400 PNG at 8.1 ms
 * of CPU in workerd against 2.5 ms for /classify of the same image. Counted for each image of a
 * batch before any is decoded, so a batch whose reading would pass the per-request ceiling is
 * refused (413 `request_over_budget`) for the price of reading its headers.
 */
export const READ_IMAGE_WORK = 12 * 1024 * 1024;

/**
 * Most candidate digits the model scores for one request. Its forward pass costs ~0.07 ms a digit
 * in a batch (256: ~17 ms), on top of what the decoding budget allows; one image has at most
 * MAX_CANDIDATES (src/image/read.ts), so a batch of many long numbers may pass it.
 */
export const MAX_REQUEST_CANDIDATES = 256;

/**
 * Each input cut into candidate digits, in order. The request's decoding work is judged from every
 * image's header before any is decoded, as for /classify.
 *
 * @param inputs Image bytes or ready grids, from {@linkcode readClassifyRequest}.
 * @param options `preprocess: "none"` takes each image as one MNIST-format digit; `limits` price
 *   each image and, summed, the request.
 * @returns A sheet per input, and each image input's format and upright size.
 * @throws ImageError with the code the HTTP layer maps to 400/413/415/422 (`no_ink` for a blank
 *   image or grid, `request_over_budget` past {@linkcode MAX_REQUEST_CANDIDATES}).
 */
export async function toSheets(
  inputs: DigitInput[],
  options: { preprocess: Preprocess; limits: DecodeLimits },
): Promise<{ sheets: Sheet[]; images: DecodedImageInfo[] }> {
  // With ?preprocess=none every image is one 28×28 digit, decoded and priced as by /classify.
  checkRequestBudget(
    inputs,
    options.limits,
    options.preprocess === "none" ? {} : { maxSide: READ_MAX_SIDE, imageWork: READ_IMAGE_WORK },
  );
  const sheets: Sheet[] = [];
  const images: DecodedImageInfo[] = [];
  let candidates = 0;
  for (const input of inputs) {
    const sheet = await toSheet(input, options, images);
    candidates += sheet.candidates.length;
    // Refused as soon as it is known, before more images are cut or any is scored.
    if (candidates > MAX_REQUEST_CANDIDATES) {
      throw new ImageError(
        "request_over_budget",
        `These ${inputs.length} images hold at least ${candidates} possible digits to score; ` +
          `one request may have ${MAX_REQUEST_CANDIDATES}: send fewer images`,
      );
    }
    sheets.push(sheet);
  }
  return { sheets, images };
}

async function toSheet(
  input: DigitInput,
  options: { preprocess: Preprocess; limits: DecodeLimits },
  images: DecodedImageInfo[],
): Promise<Sheet> {
  if (input.kind === "pixels") return digitSheet(requireInk(input.pixels));
  const { limits } = options;
  if (options.preprocess === "none") {
    const image = await decodeInput(input.bytes, { background: 0, limits }, images);
    return digitSheet(fromMnistInput(image));
  }
  const image = await decodeInput(
    input.bytes,
    { background: 255, limits, maxSide: READ_MAX_SIDE },
    images,
  );
  return numberSheet(image);
}

const MNIST_SIDE = 28;

/**
 * A ready MNIST-format digit (`{"pixels"}`, or an image with `?preprocess=none`): one candidate,
 * read as one digit, whose box is the whole 28×28 field.
 */
export function digitSheet(pixels: Uint8ClampedArray): Sheet {
  const whole = { x: 0, y: 0, width: MNIST_SIDE, height: MNIST_SIDE };
  return {
    candidates: [{ box: whole, pixels }],
    choose: () => ({ lines: [[0]] }),
    boxOf: () => whole,
  };
}

/**
 * A decoded image of a written number, cut into candidates on its working map.
 *
 * @throws ImageError `no_ink` when the map holds no writing.
 */
export function numberSheet(image: Pick<DecodedImage, "map" | "width" | "height">): Sheet {
  const segmentation = segmentNumber(image.map);
  return {
    candidates: segmentation.candidates,
    choose: (scores) => chooseReading(segmentation, scores),
    boxOf: (box) => originalBox(box, image.map, image),
  };
}

/**
 * A box on the working map in pixels of the upright original: a map pixel is `width / map.width`
 * original pixels across and `height / map.height` down. Rounded to whole pixels and clamped to the
 * image, at least one pixel each way.
 *
 * @param box On the map.
 * @param map The working map's size.
 * @param image The upright original's size.
 */
export function originalBox(
  box: MapBox,
  map: { width: number; height: number },
  image: { width: number; height: number },
): Box {
  const sx = image.width / map.width, sy = image.height / map.height;
  const x = clamp(Math.round(box.x * sx), 0, image.width - 1);
  const y = clamp(Math.round(box.y * sy), 0, image.height - 1);
  const right = clamp(Math.round((box.x + box.width) * sx), x + 1, image.width);
  const bottom = clamp(Math.round((box.y + box.height) * sy), y + 1, image.height);
  return { x, y, width: right - x, height: bottom - y };
}

/**
 * Reads every sheet with one forward pass over all their candidates: the model's cost per request
 * is one batch, however the images were cut.
 *
 * @param sheets The request's inputs, cut.
 * @param model The classifier.
 * @param options `debug` adds each digit's 28×28 image.
 * @returns One result per sheet, in order.
 * @throws ImageError `no_ink` for a sheet whose reading holds nothing, `not_a_digit` for one whose
 *   pieces the model all finds likelier not digits.
 */
export function readSheets(
  sheets: Sheet[],
  model: Classifier,
  options: { debug: boolean },
): ReadResult[] {
  // candidates: [N, 784] over all sheets, in order; scores: N × (10 digits and "not a digit").
  const candidates = sheets.flatMap((sheet) => sheet.candidates);
  const scores = candidates.length
    ? model.score(
      candidates.map(({ pixels }) =>
        new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length)
      ),
    )
    : [];
  let first = 0;
  return sheets.map((sheet) => {
    const own = scores.slice(first, first += sheet.candidates.length);
    return readSheet(sheet, own, model.info, options.debug);
  });
}

/**
 * A sheet's reading: the cut whose pieces the digits' probabilities explain best (a piece that is
 * not a digit — two digits merged, a stray mark — scores low on every digit), without the chosen
 * pieces the model finds likelier not digits.
 */
function readSheet(
  sheet: Sheet,
  scores: Scores[],
  model: ModelInfo,
  debug: boolean,
): ReadResult {
  const chosen = sheet.choose(scores).lines
    .map((line) => line.filter((index) => !isNotADigit(scores[index]!)));
  if (!chosen.some((line) => line.length) && sheet.candidates.length) {
    throw new ImageError("not_a_digit", "the writing in the image does not look like digits");
  }
  const lines = chosen.filter((line) => line.length > 0);
  const digits = lines.flat().map((index) => {
    const candidate = sheet.candidates[index]!;
    const { digit, confidence } = bestDigit(scores[index]!.digits);
    return {
      digit,
      confidence,
      box: sheet.boxOf(candidate.box),
      ...(debug ? { pixels: Array.from(candidate.pixels) } : {}),
    };
  });
  if (!digits.length) throw new ImageError("no_ink", "no digit was found in the image");
  let at = 0;
  const text = lines.map((line) => digits.slice(at, at += line.length).map((d) => d.digit).join(""))
    .join("\n");
  return { text, digits, model: { name: model.name, sha256: model.sha256 } };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
