/**
 * `deno task eval:reading`: how well the served model reads what people write, and refuses what is
 * not a digit — four sets of our own, none used in training, through the built bundle on plain
 * `workerd serve`, one image per POST /classify:
 *
 * - fonts: 2,100 digits in 21 handwriting fonts (scripts/lib/font_digits.ts) as canvas exports,
 *   scans, screenshots and phone photos;
 * - photos: 126 phone photos and retina screenshots of MNIST test digits and font digits, half in
 *   thick strokes (scripts/lib/photo_digits.ts);
 * - non-digits: 420 letters, symbols, doodles, scribbles, noise, blank pictures and paper
 *   (scripts/lib/non_digits.ts), where refused means 422 `not_a_digit` or `no_ink`;
 * - pixels: the 10,000 MNIST test digits as `{"pixels"}` JSON, sent 16 at a time: how many are
 *   refused (a good model refuses at most 1 %) and the accuracy of the rest;
 * - clients: the 10,000 MNIST test digits as clients send them, digit i the way
 *   tests/worker_e2e_test.ts's kind i mod 7 does (scripts/lib/client_images.ts: PNG, canvas data:
 *   URL, off-centre JPEG, WebP, GIF, BMP, 28×28 PNG), refusals counted wrong: the whole set the e2e
 *   test's 560 digits are drawn from.
 *
 * Each set's line is printed as it finishes, then its groups (per font, form, kind…); the last line
 * is one JSON object with every figure. Only the total run time is timed (benches time things).
 *
 * usage: deno task eval:reading [--model NAME] [--only fonts|photos|non-digits|pixels|clients]
 *   [--seed N]
 *   NAME is sent as ?model=NAME to /classify; N replaces each generated set's own seed.
 */
import { parseArgs } from "node:util";
import { missingPackages } from "./lib/glyphs.ts";
import { DEFAULT_SEED as FONT_SEED, fontDigits } from "./lib/font_digits.ts";
import { DEFAULT_SEED as PHOTO_SEED, photoDigits } from "./lib/photo_digits.ts";
import { DEFAULT_SEED as NON_DIGIT_SEED, nonDigits } from "./lib/non_digits.ts";
import { loadTestDigits } from "./lib/mnist_test_set.ts";
import { asBody, CLIENT_KINDS, type ClientKind } from "./lib/client_images.ts";
import { startWorkerdServe } from "./lib/wrangler.ts";

const USAGE = "usage: deno task eval:reading [--model NAME] " +
  "[--only fonts|photos|non-digits|pixels|clients] [--seed N]";
const SETS = ["fonts", "photos", "non-digits", "pixels", "clients"] as const;
type SetName = typeof SETS[number];
const REQUEST_TIMEOUT_MS = 60_000;
/** Uploads in flight while the next is made: the machine's two cores, one generating, one serving. */
const IN_FLIGHT = 2;
/** `{"pixels"}` requests in flight. */
const PIXEL_BATCH = 16;
/** What a reader may answer for writing that is not a digit. */
const REFUSALS = ["not_a_digit", "no_ink"];

/** Says what was wrong with the command line, and how to use it, and exits with status 2. */
function refuse(message: string): never {
  console.error(`eval:reading: ${message}\n${USAGE}`);
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
      options: { model: { type: "string" }, only: { type: "string" }, seed: { type: "string" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    refuse((error as Error).message);
  }
  if (values.only !== undefined && !SETS.includes(values.only as SetName)) {
    refuse(`'--only' must be one of ${SETS.join(", ")}: current value is ${values.only}`);
  }
  let seed: number | undefined;
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!/^\d+$/.test(values.seed) || !Number.isSafeInteger(seed) || seed > 0xffffffff) {
      refuse(`'--seed' must be an integer from 0 to 4294967295: current value is ${values.seed}`);
    }
  }
  if (values.model !== undefined && !/^[\w.-]{1,64}$/.test(values.model)) {
    refuse(
      `'--model' must be a model name (letters, digits, . _ -): current value is ${values.model}`,
    );
  }
  return { model: values.model, only: values.only as SetName | undefined, seed };
}

/** A server's answer: its status, error code and digit. */
interface Answer {
  status: number;
  code?: string;
  digit?: number;
  model?: { name?: string; sha256?: string };
}

async function classify(url: string, init: RequestInit): Promise<Answer> {
  try {
    const res = await fetch(url, {
      ...init,
      method: "POST",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    try {
      const json = JSON.parse(text);
      return {
        status: res.status,
        code: json?.error?.code,
        digit: json?.digit,
        model: json?.model,
      };
    } catch {
      return { status: res.status, code: text.slice(0, 40) };
    }
  } catch (error) {
    return { status: 0, code: (error as Error).name };
  }
}

/** What one group scored: digits read right, refused (422 not_a_digit/no_ink), other errors. */
interface Tally {
  total: number;
  right: number;
  refused: number;
  notADigit: number;
  noInk: number;
  /** Answers that are neither a reading nor a refusal (4xx/5xx of another code, no answer). */
  errors: number;
}

const emptyTally = (): Tally => ({
  total: 0,
  right: 0,
  refused: 0,
  notADigit: 0,
  noInk: 0,
  errors: 0,
});
const share = (part: number, whole: number) => whole ? Number((part / whole).toFixed(4)) : 0;
const percent = (part: number, whole: number) =>
  whole ? `${(100 * part / whole).toFixed(1)}%`.padStart(6) : "     –";

/** Tallies of one set, by group name ("all", "font Kristi", "form scan"…). */
class Groups {
  readonly tallies = new Map<string, Tally>();
  /** Digits the server gave to things that are not digits. */
  readonly readAs = new Array<number>(10).fill(0);

  count(names: string[], answer: Answer, label?: number) {
    const refused = answer.status === 422 && REFUSALS.includes(answer.code ?? "");
    const read = answer.status === 200 && typeof answer.digit === "number";
    if (read && label === undefined) this.readAs[answer.digit!]!++;
    for (const name of names) {
      const t = this.tallies.get(name) ?? emptyTally();
      t.total++;
      t.right += Number(read && answer.digit === label);
      t.refused += Number(refused);
      t.notADigit += Number(refused && answer.code === "not_a_digit");
      t.noInk += Number(refused && answer.code === "no_ink");
      t.errors += Number(!read && !refused);
      this.tallies.set(name, t);
    }
  }

  get(name: string): Tally {
    return this.tallies.get(name) ?? emptyTally();
  }

  /** Groups whose names start with `prefix`, by name (digits 0 to 9, not as they came). */
  named(prefix: string): [string, Tally][] {
    return [...this.tallies].filter(([name]) => name.startsWith(prefix))
      .sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true }));
  }

  /** Groups whose names start with `prefix`, without it, as JSON figures. */
  figures(prefix: string, digits: boolean) {
    return Object.fromEntries(
      this.named(prefix).map(([name, t]) => [name.slice(prefix.length), figuresOf(t, digits)]),
    );
  }

  /** Prints every group but "all", in the order of `prefixes`. */
  print(prefixes: string[], digits: boolean) {
    for (const prefix of prefixes) {
      for (const [name, t] of this.named(prefix)) {
        console.log(`  ${name.padEnd(40)} ${line(t, digits)}`);
      }
    }
  }
}

/** One group's figures: digits read right (digit sets) or refusals (non-digits). */
function figuresOf(t: Tally, digits: boolean) {
  return {
    total: t.total,
    ...(digits ? { right: t.right, accuracy: share(t.right, t.total) } : {}),
    refused: t.refused,
    refused_share: share(t.refused, t.total),
    not_a_digit: t.notADigit,
    no_ink: t.noInk,
    errors: t.errors,
  };
}

function line(t: Tally, digits: boolean): string {
  const errors = t.errors ? `, ${t.errors} errors` : "";
  return digits
    ? `${String(t.right).padStart(5)}/${t.total} right ${
      percent(t.right, t.total)
    }, ${t.refused} refused${errors}`
    : `${String(t.refused).padStart(5)}/${t.total} refused ${percent(t.refused, t.total)} ` +
      `(not_a_digit ${t.notADigit}, no_ink ${t.noInk})${errors}`;
}

/**
 * Sends each upload, IN_FLIGHT at a time, the next made while the server reads the last: as a raw
 * body with its type, or as `send` makes its request; `count` records each answer.
 */
async function sendAll<T extends { bytes: Uint8Array<ArrayBuffer>; type: string }>(
  url: string,
  uploads: AsyncGenerator<T>,
  count: (upload: T, answer: Answer) => void,
  send: (upload: T) => RequestInit = asBody,
): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  for await (const upload of uploads) {
    const request: Promise<void> = classify(url, send(upload)).then((answer) => {
      count(upload, answer);
      inFlight.delete(request);
    });
    inFlight.add(request);
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

/** Test digit i as client kind i mod 7 sends it (encoded with seed i), with its label. */
async function* clientUploads(digits: Uint8Array[], labels: Uint8Array) {
  for (let i = 0; i < digits.length; i++) {
    const kind: ClientKind = CLIENT_KINDS[i % CLIENT_KINDS.length]!;
    yield { ...(await kind.encode(digits[i]!, i)), kind, label: labels[i]! };
  }
}

const flags = readFlags(Deno.args);
const chosen: SetName[] = flags.only ? [flags.only] : [...SETS];
if (chosen.some((set) => set !== "pixels" && set !== "clients")) {
  const missing = await missingPackages();
  if (missing.length) {
    console.error(
      `eval:reading: the sets are drawn with Debian's fonts and Pillow, and this machine lacks ` +
        `${missing.join(", ")}.\nInstall them: sudo apt-get install ${missing.join(" ")}` +
        `\n(or measure the MNIST test digits only: deno task eval:reading --only pixels or --only clients)`,
    );
    Deno.exit(2);
  }
}
const started = performance.now();
await using worker = await startWorkerdServe({ vars: { RATE_LIMIT: "off" } });
const health = await (await fetch(`${worker.url}/health`)).json();
const query = flags.model ? `?model=${encodeURIComponent(flags.model)}` : "";
const classifyUrl = `${worker.url}/classify${query}`;
console.log(
  `eval:reading through workerd serve at ${worker.url}: model ${health?.model?.name} ` +
    `(${String(health?.model?.sha256).slice(0, 12)})${
      flags.model ? `, asked for ${flags.model}` : ""
    }`,
);
/** The model that answered, as the answers name it (the first answer that names one). */
let answeredBy: Answer["model"];
const noteModel = (answer: Answer) => (answeredBy ??= answer.model);

const report: Record<string, unknown> = {};

if (chosen.includes("fonts")) {
  const seed = flags.seed ?? FONT_SEED, groups = new Groups();
  await sendAll(classifyUrl, fontDigits({ seed }), (digit, answer) => {
    noteModel(answer);
    groups.count(
      [
        "all",
        `font ${digit.font}`,
        `form ${digit.form}`,
        `kind ${digit.kind}`,
        `stroke ${digit.bold ? "bold" : "regular"}`,
        `digit ${digit.label}`,
      ],
      answer,
      digit.label,
    );
  });
  console.log(`\nfonts: handwriting-font digits ${line(groups.get("all"), true)}`);
  groups.print(["font ", "form ", "kind ", "stroke ", "digit "], true);
  report.fonts = {
    seed,
    ...figuresOf(groups.get("all"), true),
    fonts: groups.figures("font ", true),
    forms: groups.figures("form ", true),
    kinds: groups.figures("kind ", true),
    strokes: groups.figures("stroke ", true),
    digits: groups.figures("digit ", true),
  };
}

if (chosen.includes("photos")) {
  const seed = flags.seed ?? PHOTO_SEED, groups = new Groups();
  await sendAll(classifyUrl, photoDigits({ seed }), (photo, answer) => {
    noteModel(answer);
    groups.count(
      [
        "all",
        `medium ${photo.medium}`,
        `kind ${photo.kind}`,
        `source ${photo.source}`,
        `stroke ${photo.bold ? "bold" : "regular"}`,
        `${photo.medium}, ${photo.source}, ${photo.bold ? "bold" : "regular"}`,
      ],
      answer,
      photo.label,
    );
  });
  console.log(`\nphotos: phone photos and screenshots ${line(groups.get("all"), true)}`);
  groups.print(["medium ", "kind ", "source ", "stroke ", "photo, ", "screenshot, "], true);
  report.photos = {
    seed,
    ...figuresOf(groups.get("all"), true),
    media: groups.figures("medium ", true),
    kinds: groups.figures("kind ", true),
    sources: groups.figures("source ", true),
    strokes: groups.figures("stroke ", true),
  };
}

if (chosen.includes("non-digits")) {
  const seed = flags.seed ?? NON_DIGIT_SEED, groups = new Groups();
  await sendAll(classifyUrl, nonDigits({ seed }), (item, answer) => {
    noteModel(answer);
    const form = item.form.split(",")[0]!;
    groups.count(
      ["all", `kind ${item.kind}`, `${item.kind}: ${item.detail}`, `form ${form}`],
      answer,
    );
  });
  console.log(`\nnon-digits: ${line(groups.get("all"), false)}`);
  groups.print(["kind ", "form "], false);
  const details = Object.fromEntries(
    [...groups.tallies].filter(([name]) => name.includes(": ")).map((
      [name, t],
    ) => [name, figuresOf(t, false)]),
  );
  report.non_digits = {
    seed,
    ...figuresOf(groups.get("all"), false),
    read_as: groups.readAs,
    kinds: groups.figures("kind ", false),
    forms: groups.figures("form ", false),
    details,
  };
}

if (chosen.includes("pixels")) {
  const { digits, labels } = await loadTestDigits(), groups = new Groups();
  for (let start = 0; start < digits.length; start += PIXEL_BATCH) {
    const batch = digits.slice(start, start + PIXEL_BATCH);
    const answers = await Promise.all(batch.map((digit) =>
      classify(classifyUrl, {
        body: JSON.stringify({ pixels: [...digit] }),
        headers: { "content-type": "application/json" },
      })
    ));
    answers.forEach((answer, i) => {
      noteModel(answer);
      groups.count(["all", `digit ${labels[start + i]}`], answer, labels[start + i]!);
    });
  }
  const all = groups.get("all"), answered = all.total - all.refused - all.errors;
  console.log(
    `\npixels: MNIST test digits as {"pixels"}: ${all.refused}/${all.total} refused ` +
      `(${percent(all.refused, all.total).trim()}; at most 1 % for a good model), ` +
      `${all.right}/${answered} of the rest right (${percent(all.right, answered).trim()})` +
      `${all.errors ? `, ${all.errors} errors` : ""}`,
  );
  groups.print(["digit "], true);
  report.pixels = {
    ...figuresOf(all, true),
    answered,
    answered_accuracy: share(all.right, answered),
    refused_at_most_1_percent: all.refused <= all.total / 100,
    digits: groups.figures("digit ", true),
  };
}

if (chosen.includes("clients")) {
  const { digits, labels } = await loadTestDigits(), groups = new Groups();
  await sendAll(classifyUrl, clientUploads(digits, labels), (upload, answer) => {
    noteModel(answer);
    groups.count(
      ["all", `kind ${upload.kind.name}`, `digit ${upload.label}`],
      answer,
      upload.label,
    );
  }, (upload) => upload.kind.send(upload));
  console.log(`\nclients: MNIST test digits as clients send them ${line(groups.get("all"), true)}`);
  groups.print(["kind ", "digit "], true);
  report.clients = {
    ...figuresOf(groups.get("all"), true),
    kinds: groups.figures("kind ", true),
    digits: groups.figures("digit ", true),
  };
}

console.log(JSON.stringify({
  model: {
    name: answeredBy?.name ?? health?.model?.name ?? null,
    sha256: answeredBy?.sha256 ?? health?.model?.sha256 ?? null,
  },
  asked_model: flags.model ?? null,
  only: flags.only ?? null,
  refusals: REFUSALS,
  ...report,
  seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
}));
