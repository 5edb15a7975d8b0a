/**
 * `deno task eval:numbers`: the set of written numbers (scripts/lib/written_numbers.ts) through the
 * built bundle on plain `workerd serve`, read by POST /read, beside the ceiling the model allows —
 * each digit cut out of the upright picture with its true box (and a margin of 15 % of the box's
 * longer side, as a client would crop) and read by POST /classify with the model /read uses (GET
 * /model's `reader`), one batch per number.
 *
 * Prints, per form, per kind, touching or not and per length: numbers read exactly right, and digits
 * right — counted along the alignment of the reading with the truth that needs the fewest edits
 * (a missed, an extra or a wrong digit is one edit; the digits right are the matches on that path,
 * so one missed digit does not make the rest wrong) — for /read and for the true boxes. The last
 * line is one JSON object with every figure. Only the total run time is timed (benches time things).
 *
 * usage: deno task eval:numbers [--count N] [--seed S] [--source test|train] [--only FORM]
 *   N numbers (default 300), seed S (default that of the reported set), MNIST test digits (the
 *   reported set) or training digits (for tuning), FORM one of canvas, scan, photo.
 */
import { parseArgs } from "node:util";
import { createRequire } from "node:module";
import { decode as decodePng, encode as encodePng } from "fast-png";
import decodeJpeg, { init as initJpegDecoder } from "@jsquash/jpeg/decode.js";
import { type Orientation, type Picture, storeForOrientation } from "./lib/phone_photos.ts";
import {
  DEFAULT_SEED,
  type DigitBox,
  NUMBER_FORMS,
  type NumberForm,
  type WrittenNumber,
  writtenNumbers,
} from "./lib/written_numbers.ts";
import { startWorkerdServe } from "./lib/wrangler.ts";

const USAGE =
  "usage: deno task eval:numbers [--count N] [--seed S] [--source test|train] [--only canvas|scan|photo]";
/** A crop reaches this share of the true box's longer side beyond each of its edges. */
const CROP_MARGIN = 0.15;
const REQUEST_TIMEOUT_MS = 60_000;

/** Says what was wrong with the command line, and how to use it, and exits with status 2. */
function refuse(message: string): never {
  console.error(`eval:numbers: ${message}\n${USAGE}`);
  Deno.exit(2);
}

/** The command line, checked. */
function readFlags(args: string[]) {
  if (args.includes("--help")) {
    console.log(USAGE);
    Deno.exit(0);
  }
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        count: { type: "string", default: "300" },
        seed: { type: "string", default: String(DEFAULT_SEED) },
        source: { type: "string", default: "test" },
        only: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    refuse((error as Error).message);
  }
  const integer = (name: string, text: string, min: number, max: number) => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
      refuse(`'--${name}' must be an integer from ${min} to ${max}: current value is ${text}`);
    }
    return value;
  };
  const count = integer("count", values.count, 1, 100_000);
  const seed = integer("seed", values.seed, 0, 0xffffffff);
  if (values.source !== "test" && values.source !== "train") {
    refuse(`'--source' must be test or train: current value is ${values.source}`);
  }
  if (values.only !== undefined && !NUMBER_FORMS.includes(values.only as NumberForm)) {
    refuse(`'--only' must be one of ${NUMBER_FORMS.join(", ")}: current value is ${values.only}`);
  }
  return {
    count,
    seed,
    source: values.source as "test" | "train",
    only: values.only as NumberForm | undefined,
  };
}

/** POSTs `images` as multipart `image` fields; the status and the parsed JSON (if any). */
async function post(
  url: string,
  path: string,
  images: { bytes: Uint8Array<ArrayBuffer>; type: string }[],
): Promise<{ status: number; json: Record<string, unknown> | undefined; body: string }> {
  const form = new FormData();
  for (const image of images) {
    form.append("image", new Blob([image.bytes], { type: image.type }), "number");
  }
  try {
    const res = await fetch(`${url}${path}`, {
      method: "POST",
      body: form,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = await res.text();
    try {
      return { status: res.status, json: JSON.parse(body), body };
    } catch {
      return { status: res.status, json: undefined, body };
    }
  } catch (error) {
    return { status: 0, json: undefined, body: (error as Error).message };
  }
}

/**
 * The true boxes' crops read by POST /classify as one batch. A batch with a crop the model calls
 * "not a digit" (one holding much of a touching neighbour) is refused whole, so its crops are then
 * read one by one and a refused crop is a missed digit: the other digits still count.
 */
async function readTrueBoxes(
  url: string,
  model: string,
  crops: { bytes: Uint8Array<ArrayBuffer>; type: string }[],
): Promise<{ ceiling: string; ceilingRefused: number }> {
  const path = `/classify?model=${model}`;
  const answer = await post(url, path, crops);
  if (answer.status === 200) {
    const results = (answer.json?.results ?? [answer.json]) as ({ digit?: number } | undefined)[];
    return { ceiling: results.map((r) => r?.digit ?? "?").join(""), ceilingRefused: 0 };
  }
  if (crops.length === 1) return { ceiling: "", ceilingRefused: 1 };
  let ceiling = "", ceilingRefused = 0;
  for (const crop of crops) {
    const one = await post(url, path, [crop]);
    const digit = (one.json as { digit?: number } | undefined)?.digit;
    if (one.status === 200 && digit !== undefined) ceiling += digit;
    else ceilingRefused++;
  }
  return { ceiling, ceilingRefused };
}

let jpegDecoderReady: Promise<void> | undefined;

/**
 * The picture a viewer shows: PNGs as they are, JPEGs decoded by mozjpeg (@jsquash/jpeg, not the
 * server's decoder) as stored (`preserveOrientation: false` leaves the EXIF tag unapplied), then
 * turned by the orientation the number was written with (which tests/phone_photos_test.ts checks
 * against Pillow's exif_transpose).
 */
async function uprightPicture(number: WrittenNumber): Promise<Picture> {
  let stored: Picture;
  if (number.type === "image/png") {
    const png = decodePng(number.bytes);
    const pixels = png.width * png.height, data = new Uint8ClampedArray(pixels * 4);
    const channels = png.channels, source = png.data as Uint8Array;
    if (png.depth !== 8) throw new Error(`${number.name}: a ${png.depth}-bit PNG`);
    for (let p = 0; p < pixels; p++) {
      const at = p * channels;
      const [r, g, b] = channels >= 3
        ? [source[at]!, source[at + 1]!, source[at + 2]!]
        : [source[at]!, source[at]!, source[at]!];
      const a = channels === 4 ? source[at + 3]! : channels === 2 ? source[at + 1]! : 255;
      data.set([r, g, b, a], p * 4);
    }
    stored = { width: png.width, height: png.height, data };
  } else {
    jpegDecoderReady ??= (async () => {
      const path = createRequire(import.meta.url).resolve(
        "@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm",
      );
      const init = initJpegDecoder as unknown as (module: WebAssembly.Module) => Promise<void>;
      await init(await WebAssembly.compile(await Deno.readFile(path)));
    })();
    await jpegDecoderReady;
    const image = await decodeJpeg(number.bytes.buffer, { preserveOrientation: false });
    stored = { width: image.width, height: image.height, data: image.data as Uint8ClampedArray };
  }
  // storeForOrientation applies the inverse of a viewer's turn; 6 and 8 are each other's inverse.
  const view: Orientation = number.orientation === 6
    ? 8
    : number.orientation === 8
    ? 6
    : number.orientation;
  const upright = storeForOrientation(stored, view);
  if (upright.width !== number.width || upright.height !== number.height) {
    throw new Error(
      `${number.name}: shown ${upright.width}×${upright.height}, expected ${number.width}×${number.height}`,
    );
  }
  return upright;
}

/** The box grown by CROP_MARGIN of its longer side, inside the picture, as an RGBA PNG. */
function cropPng(
  picture: Picture,
  box: DigitBox,
): { bytes: Uint8Array<ArrayBuffer>; type: string } {
  const margin = Math.round(CROP_MARGIN * Math.max(box.width, box.height));
  const x0 = Math.max(0, box.x - margin), y0 = Math.max(0, box.y - margin);
  const x1 = Math.min(picture.width, box.x + box.width + margin);
  const y1 = Math.min(picture.height, box.y + box.height + margin);
  const width = x1 - x0, height = y1 - y0, data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const from = ((y0 + y) * picture.width + x0) * 4;
    data.set(picture.data.subarray(from, from + width * 4), y * width * 4);
  }
  return {
    bytes: new Uint8Array(encodePng({ width, height, data, channels: 4 })),
    type: "image/png",
  };
}

/**
 * The digits of `truth` that `read` gets right: the matches along the alignment with the fewest
 * edits (insertions, deletions, substitutions), the most matches among those.
 */
function digitsRight(truth: string, read: string): number {
  // cost[i][j], matches[i][j]: best alignment of truth[0, i) with read[0, j).
  const rows = truth.length + 1, cols = read.length + 1;
  const cost = Array.from(
    { length: rows },
    (_, i) => Array.from({ length: cols }, (_, j) => i + j),
  );
  const matches = Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const same = truth[i - 1] === read[j - 1];
      const options: [number, number][] = [
        [cost[i - 1]![j - 1]! + (same ? 0 : 1), matches[i - 1]![j - 1]! + (same ? 1 : 0)],
        [cost[i - 1]![j]! + 1, matches[i - 1]![j]!],
        [cost[i]![j - 1]! + 1, matches[i]![j - 1]!],
      ];
      options.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
      [cost[i]![j], matches[i]![j]] = options[0]!;
    }
  }
  return matches[truth.length]![read.length]!;
}

/** What one group of numbers scored. */
interface Tally {
  numbers: number;
  digits: number;
  /** POST /read: numbers exactly right, digits right, numbers with the right digit count, refused. */
  read: { right: number; digitsRight: number; countRight: number; refused: number };
  /** True boxes through POST /classify, and the crops it did not read (called "not a digit"). */
  ceiling: { right: number; digitsRight: number; cropsRefused: number };
}

const emptyTally = (): Tally => ({
  numbers: 0,
  digits: 0,
  read: { right: 0, digitsRight: 0, countRight: 0, refused: 0 },
  ceiling: { right: 0, digitsRight: 0, cropsRefused: 0 },
});

const percent = (part: number, whole: number) =>
  whole ? `${(100 * part / whole).toFixed(1)}%`.padStart(6) : "     –";
const share = (part: number, whole: number) => whole ? Number((part / whole).toFixed(4)) : 0;

const flags = readFlags(Deno.args);
const started = performance.now();
const groups = new Map<string, Tally>();
let readMissing = false;

await using worker = await startWorkerdServe({ vars: { RATE_LIMIT: "off" } });
console.log(
  `${flags.count} written numbers (MNIST ${flags.source} digits, seed ${flags.seed}${
    flags.only ? `, ${flags.only} only` : ""
  }) through workerd serve at ${worker.url}`,
);

// The true boxes are read by the model that reads numbers.
const models = await (await fetch(`${worker.url}/model`)).json() as {
  default: string;
  reader?: string;
};
const reader = models.reader ?? models.default;
console.log(`models: /read and the true boxes by ${reader}`);

const numbers = writtenNumbers(flags);
// The next number is written while the server reads this one.
let next = numbers.next();
while (true) {
  const { value: number, done } = await next;
  if (done) break;
  next = numbers.next();

  let read: string | undefined, readRefused = false, said = "";
  if (!readMissing) {
    const answer = await post(worker.url, "/read", [number]);
    if (answer.status === 404) {
      readMissing = true;
      console.log(
        "POST /read answers 404: this build has no /read yet — measuring the ceiling (true boxes) only",
      );
    } else if (answer.status === 200 && typeof answer.json?.text === "string") {
      read = answer.json.text;
      said = `read "${read}"`;
    } else {
      readRefused = true;
      read = "";
      const error = answer.json?.error as { code?: string } | undefined;
      said = `refused: ${answer.status} ${error?.code ?? answer.body.slice(0, 80)}`;
    }
  }

  const picture = await uprightPicture(number);
  const crops = number.boxes.map((box) => cropPng(picture, box));
  const { ceiling, ceilingRefused } = await readTrueBoxes(worker.url, reader, crops);

  const names = [
    "all",
    `form ${number.form}`,
    `kind ${number.kind}`,
    number.touching ? "touching" : "not touching",
    `length ${number.text.length}`,
  ];
  for (const name of names) {
    const tally = groups.get(name) ?? emptyTally();
    tally.numbers++;
    tally.digits += number.text.length;
    if (read !== undefined) {
      tally.read.right += Number(read === number.text);
      tally.read.digitsRight += digitsRight(number.text, read);
      tally.read.countRight += Number(read.length === number.text.length);
      tally.read.refused += Number(readRefused);
    }
    tally.ceiling.right += Number(ceiling === number.text);
    tally.ceiling.digitsRight += digitsRight(number.text, ceiling);
    tally.ceiling.cropsRefused += ceilingRefused;
    groups.set(name, tally);
  }
  const mark = (ok: boolean) => ok ? "✓" : "✗";
  console.log(
    `${read === undefined ? " " : mark(read === number.text)} ${mark(ceiling === number.text)} ` +
      `${number.name}: ${said ? `${said}, ` : ""}true boxes read "${ceiling}"${
        ceilingRefused ? ` (${ceilingRefused} refused)` : ""
      }`,
  );
}

console.log(
  `\n${"".padEnd(18)} ${"numbers".padStart(7)} ${"digits".padStart(6)}` +
    `   /read: numbers  digits  count   true boxes: numbers  digits`,
);
/** Groups in the order printed: all, forms, kinds, touching or not, lengths. */
const ORDER = ["all", "form ", "kind ", "touching", "not touching", "length "];
const rank = (name: string) => ORDER.findIndex((start) => name.startsWith(start));
const printed = [...groups].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
for (const [name, t] of printed) {
  const readColumns = readMissing
    ? "     –       –      –"
    : `${percent(t.read.right, t.numbers)}  ${percent(t.read.digitsRight, t.digits)} ${
      percent(t.read.countRight, t.numbers)
    }`;
  console.log(
    `${name.padEnd(18)} ${String(t.numbers).padStart(7)} ${String(t.digits).padStart(6)}` +
      `          ${readColumns}                ${percent(t.ceiling.right, t.numbers)}  ${
        percent(t.ceiling.digitsRight, t.digits)
      }`,
  );
}

/** One group's figures, for the JSON line. */
const figures = (t: Tally) => ({
  numbers: t.numbers,
  digits: t.digits,
  read: readMissing ? null : {
    right: t.read.right,
    accuracy: share(t.read.right, t.numbers),
    digits_right: t.read.digitsRight,
    digit_accuracy: share(t.read.digitsRight, t.digits),
    count_right: t.read.countRight,
    refused: t.read.refused,
  },
  ceiling: {
    right: t.ceiling.right,
    accuracy: share(t.ceiling.right, t.numbers),
    digits_right: t.ceiling.digitsRight,
    digit_accuracy: share(t.ceiling.digitsRight, t.digits),
    crops_refused: t.ceiling.cropsRefused,
  },
});
const all = groups.get("all") ?? emptyTally();
const byPrefix = (prefix: string) =>
  Object.fromEntries(
    [...groups].filter(([name]) => name.startsWith(prefix)).map((
      [name, t],
    ) => [name.slice(prefix.length), figures(t)]),
  );
console.log(JSON.stringify({
  source: flags.source,
  seed: flags.seed,
  count: flags.count,
  only: flags.only ?? null,
  read_available: !readMissing,
  model: reader,
  digit_alignment: "fewest edits",
  ...figures(all),
  forms: byPrefix("form "),
  kinds: byPrefix("kind "),
  touching: figures(groups.get("touching") ?? emptyTally()),
  not_touching: figures(groups.get("not touching") ?? emptyTally()),
  lengths: byPrefix("length "),
  seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
}));
