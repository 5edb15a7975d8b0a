/**
 * `deno task bench:edge`: server CPU per request of POST /classify in workerd, side by side with the
 * seed's PyTorch Net behind Flask/gunicorn with Pillow doing the same preprocessing
 * (bench/flask_classify.py), in the same run.
 *
 * Workerd: the built bundle on plain `workerd serve`. Flask: gunicorn, 2 sync workers, one torch
 * thread each. First `--warmup` requests of each ordinary upload, so the code they share is
 * compiled before any is measured; then for each upload, `--warmup` more (not counted), then
 * `--requests` from `--clients` concurrent clients on loopback, stopped early after `--seconds`. CPU
 * per request is the server's Δ(utime + stime) from /proc/<pid>/stat (fields 14 and 15, in clock
 * ticks) summed over its processes (workerd; gunicorn's master and workers) ÷ requests; with 10 ms
 * ticks, hundreds of requests make the tick negligible. Also p50 latency and peak RSS growth (VmHWM
 * after resetting it, or sampled VmRSS) over the RSS before the upload's warm-up.
 *
 * Uploads: a 280×280 grey PNG of an MNIST digit, a 640×480 JPEG photo, a 12 MP (4032×3024) phone
 * photo of a digit on paper (scripts/lib/phone_photos.ts, EXIF orientation 6, as a phone held
 * upright stores it), the 48 MP (8000×6000) fixture tests/fixtures/seven_48mp.jpg, and every hostile
 * upload of scripts/lib/hostile_uploads.ts, whose worst CPU per request is the figure; the
 * catalogue's cap-sized legitimate requests (`capSized`: a valid image at the pixel or decoding cap,
 * a full batch) are also reported apart, the worst single image and the worst batch, each against
 * the same 100 ms ceiling. POST /read of a written number — a 4-digit 1200×400 PNG and a 12 MP phone
 * photo of a 4-digit number (EXIF orientation 6), scripts/lib/number_images.ts — is measured beside
 * POST /classify of the same images (`read_ms`, `classify_same_ms`); the cap-sized requests are
 * sent to /read too, with a full batch of 64 such PNGs, under the same ceiling. A figure whose requests did not all get an answer that makes it stand
 * (200; for a hostile upload, any 4xx or 200 — never a 5xx or none) is printed with its statuses and
 * given as null in the JSON, its measurement under `invalid`; workerd answers to a hostile upload
 * that differ from the catalogue's are listed under `unexpected`.
 *
 * The last line printed is one JSON object with every figure. Run it alone on the machine:
 *
 *   flock /tmp/mnist-heavy.lock deno task bench:edge [--requests 500] [--hostile-requests 40]
 *     [--warmup 50] [--clients 4] [--seconds 60] [--max-rss-mb 3072] [--only workerd|flask]
 *     [--body multipart|raw] [--only-uploads read_png_1200x400 --only-uploads …]
 *
 * `--max-rss-mb` stops sending an upload once the server's RSS has grown that much (a bomb that a
 * decoder inflates whole); `--body raw` sends the image as the body instead of a multipart `image`;
 * `--only-uploads NAME` (repeatable) measures only the uploads named, e.g. to measure one new kind
 * without the six minutes of the whole run.
 */
import { blackOnWhitePng, type ClientImage, offCentreJpeg } from "./lib/client_images.ts";
import { hostileUploads } from "./lib/hostile_uploads.ts";
import { loadTestDigits } from "./lib/mnist_test_set.ts";
import { numberPhoto, numberPng, writeNumber } from "./lib/number_images.ts";
import { CAMERAS, phonePhoto } from "./lib/phone_photos.ts";
import { readableDigits, send, sendRaw } from "./lib/upload_client.ts";
import { freePort, startWorkerdServe } from "./lib/wrangler.ts";
import { parseFlags } from "./lib/flags.ts";

/** CPU per request the issue sets for workerd, in ms. */
const TARGETS_MS = {
  png_280: 1.0,
  jpeg_640x480: 2.5,
  jpeg_12mp: 30,
  jpeg_48mp: 100,
  worst_hostile: 100,
  worst_cap_single: 100,
  worst_cap_batch: 100,
};
const PYTHON = "/usr/bin/python3";
const GUNICORN = "/usr/bin/gunicorn";
const ROOT = new URL("../", import.meta.url).pathname;
const MB = 1024 * 1024;

const values = parseFlags("bench:edge", {
  requests: { type: "string", default: "500" },
  "hostile-requests": { type: "string", default: "40" },
  warmup: { type: "string", default: "50" },
  clients: { type: "string", default: "4" },
  seconds: { type: "string", default: "60" },
  "max-rss-mb": { type: "string", default: "3072" },
  only: { type: "string" },
  body: { type: "string", default: "multipart" },
  "only-uploads": { type: "string", multiple: true },
});
const requests = positive("requests"), hostileRequests = positive("hostile-requests");
const warmup = positive("warmup"), clients = positive("clients"), seconds = positive("seconds");
const maxRssGrowth = positive("max-rss-mb") * MB;
if (values.only !== undefined && values.only !== "workerd" && values.only !== "flask") {
  throw new RangeError(`'--only' must be workerd or flask: current value is ${values.only}`);
}
if (values.body !== "multipart" && values.body !== "raw") {
  throw new RangeError(`'--body' must be multipart or raw: current value is ${values.body}`);
}
const sides = values.only ? [values.only] : ["workerd", "flask"];

function positive(name: keyof typeof values): number {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(
      `'--${name}' must be a positive integer: current value is ${values[name]}`,
    );
  }
  return value;
}

if (sides.includes("flask")) await requireFlask();
const CLK_TCK = Number(await run("getconf", ["CLK_TCK"]));

// ---------------------------------------------------------------------------------------------
// Uploads

/** One upload kind: its request (built once, sent as often as asked) and the answers it may get. */
interface Upload {
  name: string;
  hostile: boolean;
  path: string;
  request: () => { init: RequestInit } | { raw: Uint8Array };
  /** What workerd should answer (the catalogue's statuses for a hostile upload). */
  statuses: number[];
  /** A legitimate request at the limits: a single image or a batch. */
  capSized?: "single" | "batch";
}

const { digits, labels } = await loadTestDigits();
const digit = digits[0]!, label = labels[0]!;
const png = blackOnWhitePng(digit);
const photo = await phonePhoto(digit, { label, camera: CAMERAS[0]!, orientation: 6, seed: 1 });
const photo48: ClientImage = {
  bytes: await Deno.readFile(new URL("../tests/fixtures/seven_48mp.jpg", import.meta.url)),
  type: "image/jpeg",
};
const common = (name: string, image: ClientImage): Upload => ({
  name,
  hostile: false,
  path: "/classify",
  request: () => ({ init: requestFor(image) }),
  statuses: [200],
});
// A written number, 2026, of test digits the model reads surely on their own: the cost of reading
// a number against the cost of /classify on the same image (which reads it as one digit, or, with a
// model that has the class, answers 422 not_a_digit: the same work either way).
const sure = await readableDigits(digits, labels, { count: 200, offset: 0 });
const numberDigits = [2, 0, 2, 6].map((d) => digits[sure.find((i) => labels[i] === d)!]!);
const numberCanvas = numberPng(writeNumber(numberDigits, {
  width: 1200,
  height: 400,
  left: 120,
  top: 90,
  side: 220,
  gap: 20,
}));
// Upright 3024×4032 (portrait), stored 4032×3024 for orientation 6, as a phone held upright does.
const numberPhoto12 = await numberPhoto(
  writeNumber(numberDigits, {
    width: 3024,
    height: 4032,
    left: 420,
    top: 1700,
    side: 520,
    gap: 40,
  }),
  { orientation: 6, seed: 1 },
);
const NUMBER_UPLOADS = { png_1200x400: numberCanvas, jpeg_12mp_number: numberPhoto12 };
const numberUploads = Object.entries(NUMBER_UPLOADS).flatMap(([name, image]) =>
  (["read", "classify"] as const).map((route): Upload => ({
    ...common(`${route}_${name}`, image),
    path: `/${route}`,
    statuses: route === "read" ? [200] : [200, 422],
  }))
);

const hostile: Upload[] = hostileUploads(digit, label, png.bytes).map((h) => ({
  ...h,
  hostile: true,
}));
// The legitimate requests at the caps, read as numbers: /read decodes to a larger map and cuts
// every image into candidates, all within the same per-request ceiling. And a full batch of numbers.
const capSizedReads: Upload[] = [
  ...hostile.filter((u) => u.capSized).map((u) => ({
    ...u,
    name: `/read: ${u.name}`,
    path: "/read",
    statuses: [...new Set([...u.statuses, 200, 413])],
  })),
  {
    name: "/read: a batch of 64 4-digit 1200×400 PNGs (legitimate, a full batch)",
    hostile: true,
    path: "/read",
    request: () => {
      const form = new FormData();
      for (let i = 0; i < 64; i++) {
        form.append("image", new Blob([numberCanvas.bytes], { type: "image/png" }), "n.png");
      }
      return { init: { method: "POST", body: form } };
    },
    statuses: [200, 413],
    capSized: "batch",
  },
];

const allUploads: Upload[] = [
  common("png_280", png),
  common("jpeg_640x480", offCentreJpeg(digit, 1)),
  common("jpeg_12mp", photo),
  common("jpeg_48mp", photo48),
  ...numberUploads,
  ...hostile,
  ...capSizedReads,
];
const only = values["only-uploads"];
const unknown = only?.filter((name) => !allUploads.some((u) => u.name === name)) ?? [];
if (unknown.length) {
  throw new RangeError(
    `'--only-uploads' names no upload: ${unknown.join(", ")}; the uploads are ` +
      allUploads.map((u) => `'${u.name}'`).join(", "),
  );
}
const uploads = only ? allUploads.filter((u) => only.includes(u.name)) : allUploads;
console.log(
  `uploads: 280×280 PNG ${png.bytes.length} B, 12 MP JPEG (${photo.name}) ${photo.bytes.length} B, ` +
    `48 MP JPEG ${photo48.bytes.length} B, ${uploads.filter((u) => u.hostile).length} hostile (` +
    `${uploads.filter((u) => u.capSized).length} of them legitimate at the caps)`,
);

function requestFor(image: ClientImage): RequestInit {
  if (values.body === "raw") {
    return { method: "POST", body: image.bytes, headers: { "content-type": image.type } };
  }
  const form = new FormData();
  form.append("image", new Blob([image.bytes], { type: image.type }), "upload");
  return { method: "POST", body: form };
}

// ---------------------------------------------------------------------------------------------
// Servers and their processes, from /proc

/** A server under test: where it listens and which processes do its work. */
interface Server {
  url: string;
  /** The Flask reference, which serves images only (no JSON, batches or budgets). */
  flask: boolean;
  pids(): Promise<number[]>;
}

/** Pid, process group and CPU ticks (utime + stime) of a process, from /proc/<pid>/stat. */
async function stat(pid: number): Promise<{ comm: string; pgrp: number; ticks: number }> {
  const text = await Deno.readTextFile(`/proc/${pid}/stat`);
  // pid (comm) state ppid pgrp …: comm may hold spaces, so split after its closing parenthesis.
  const comm = text.slice(text.indexOf("(") + 1, text.lastIndexOf(")"));
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" "); // fields[0] is field 3, state
  return { comm, pgrp: Number(fields[2]), ticks: Number(fields[11]) + Number(fields[12]) };
}

/** Every process in group `pgrp` (whose name is `comm`, when given). */
async function groupPids(pgrp: number, comm?: string): Promise<number[]> {
  const pids: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const s = await stat(Number(entry.name));
      if (s.pgrp === pgrp && (comm === undefined || s.comm === comm)) pids.push(Number(entry.name));
    } catch {
      // The process ended between readDir and read.
    }
  }
  return pids;
}

/** The process that listens on 127.0.0.1:`port`: the socket's inode in /proc/net/tcp, then its fd. */
async function listenerPid(port: number): Promise<number> {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const row = (await Deno.readTextFile("/proc/net/tcp")).split("\n")
    .map((line) => line.trim().split(/\s+/))
    .find((f) => f[1] === local && f[3] === "0A"); // 0A: LISTEN
  if (!row) throw new Error(`nothing listens on 127.0.0.1:${port}`);
  const socket = `socket:[${row[9]}]`;
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      for await (const fd of Deno.readDir(`/proc/${entry.name}/fd`)) {
        if (Deno.readLinkSync(`/proc/${entry.name}/fd/${fd.name}`) === socket) {
          return Number(entry.name);
        }
      }
    } catch {
      // Gone, or not ours to read.
    }
  }
  throw new Error(`no process holds the socket listening on 127.0.0.1:${port}`);
}

async function cpuTicks(pids: number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) total += await stat(pid).then((s) => s.ticks, () => 0);
  return total;
}

/** Summed VmRSS and VmHWM of `pids`, in bytes. */
async function memory(pids: number[]): Promise<{ rss: number; hwm: number }> {
  let rss = 0, hwm = 0;
  for (const pid of pids) {
    const status = await Deno.readTextFile(`/proc/${pid}/status`).catch(() => "");
    rss += Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) * 1024;
    hwm += Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) * 1024;
  }
  return { rss, hwm };
}

/** Resets VmHWM to the current RSS (clear_refs 5); false where the kernel or permissions refuse. */
async function resetPeak(pids: number[]): Promise<boolean> {
  try {
    for (const pid of pids) await Deno.writeTextFile(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

async function startWorkerd(): Promise<Server & AsyncDisposable> {
  const worker = await startWorkerdServe({ vars: { RATE_LIMIT: "off" } });
  const port = Number(new URL(worker.url).port);
  const { pgrp } = await stat(await listenerPid(port));
  return {
    url: worker.url,
    flask: false,
    pids: () => groupPids(pgrp, "workerd"),
    [Symbol.asyncDispose]: () => worker.stop(),
  };
}

async function startFlask(): Promise<Server & AsyncDisposable> {
  const port = freePort();
  // setsid: gunicorn leads a new process group, which its workers join; one signal stops them all.
  const child = new Deno.Command("setsid", {
    args: [
      GUNICORN,
      "--chdir",
      `${ROOT}bench`,
      "--workers",
      "2",
      "--worker-class",
      "sync",
      "--bind",
      `127.0.0.1:${port}`,
      "--log-level",
      "error",
      "flask_classify:app",
    ],
    env: { MNIST_MODEL: `${ROOT}models/mnist-cnn.safetensors`, OMP_NUM_THREADS: "1" },
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const stop = async () => {
    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      try {
        Deno.kill(-child.pid, signal);
      } catch {
        // The group has gone.
      }
      const done = await Promise.race([
        child.status.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 5_000)),
      ]);
      if (done) break;
    }
  };
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 60_000;;) {
    const status = await fetch(`${url}/health`).then(
      async (res) => (await res.body?.cancel(), res.status),
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error("gunicorn: /health did not answer 200 within 60 s");
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url, flask: true, pids: () => groupPids(child.pid), [Symbol.asyncDispose]: stop };
}

// ---------------------------------------------------------------------------------------------
// Measurement

/** What one upload cost one server. */
interface Measured {
  requests: number;
  /** Answers by status; 0 for none (timeout, reset). */
  statuses: Record<string, number>;
  cpu_ms: number;
  p50_ms: number;
  rss_growth_mb: number;
  /** Why the figure does not stand (no answer, a 5xx, a common upload not answered 200). */
  invalid?: string;
  /** Hostile answers, each a 4xx or 200, that are not among the catalogue's for the upload. */
  unexpected?: string;
  /** Why fewer than the requests asked for were sent. */
  note?: string;
}

/** Sends `count` requests from `clients` concurrent clients, stopping early at `until` or `stop()`. */
async function load(
  server: Server,
  upload: Upload,
  count: number,
  until: number,
  stop: () => boolean,
): Promise<{ statuses: Record<string, number>; times: number[]; sent: number }> {
  const statuses: Record<string, number> = {};
  const times: number[] = [];
  let sent = 0;
  const built = upload.request();
  const once = "raw" in built
    ? async () => (await sendRaw(server.url, built.raw)).status
    : async () => (await send(server.url, upload.path, built.init)).status;
  const client = async () => {
    while (sent < count && performance.now() < until && !stop()) {
      sent++;
      const started = performance.now();
      let status = 0;
      try {
        status = await once();
      } catch {
        // No answer: counted as status 0.
      }
      times.push(performance.now() - started);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return { statuses, times, sent };
}

async function measure(server: Server, upload: Upload): Promise<Measured> {
  const pids = await server.pids();
  const before = (await memory(pids)).rss;
  const exact = await resetPeak(pids);
  let peak = before;
  const sampler = setInterval(async () => {
    peak = Math.max(peak, (await memory(pids)).rss);
  }, 20);
  const overCeiling = () => peak - before > maxRssGrowth;
  try {
    const count = upload.hostile ? hostileRequests : requests;
    const warm = upload.hostile ? Math.min(2, warmup) : warmup;
    const deadline = performance.now() + seconds * 1000;
    await load(server, upload, warm, deadline, overCeiling);
    const ticks = await cpuTicks(pids);
    const { statuses, times, sent } = await load(server, upload, count, deadline, overCeiling);
    const cpu = (await cpuTicks(pids)) - ticks;
    const { hwm } = await memory(pids);
    peak = Math.max(peak, exact ? hwm : 0);
    const sorted = times.toSorted((a, b) => a - b);
    const measured: Measured = {
      requests: sent,
      statuses,
      cpu_ms: round(cpu * 1000 / CLK_TCK / Math.max(1, sent)),
      p50_ms: round(sorted[Math.floor(sorted.length / 2)] ?? NaN),
      rss_growth_mb: round((peak - before) / MB),
    };
    // A hostile upload's CPU stands whatever 4xx or 200 it got; the catalogue's answers are checked
    // by tests/uploads_e2e_test.ts, and a different one is only reported here. An ordinary upload's
    // stands with the answers it should get.
    const answered = (status: number) =>
      upload.hostile ? status > 0 && status < 500 : upload.statuses.includes(status);
    const list = (entries: [string, number][]) =>
      entries.map(([s, n]) => `${n} × ${s === "0" ? "no answer" : s}`).join(", ");
    const problems = Object.entries(statuses).filter(([s]) => !answered(Number(s)));
    if (problems.length) measured.invalid = list(problems);
    if (sent === 0) measured.invalid = "nothing sent";
    const surprises = Object.entries(statuses).filter(([s]) =>
      !server.flask && answered(Number(s)) && !upload.statuses.includes(Number(s))
    );
    if (surprises.length) {
      measured.unexpected = `${list(surprises)}, where the catalogue expects ${upload.statuses}`;
    }
    if (overCeiling()) measured.note = `stopped: RSS grew past ${maxRssGrowth / MB} MB`;
    else if (sent < count) measured.note = `stopped: ${seconds} s`;
    return measured;
  } finally {
    clearInterval(sampler);
  }
}

const round = (x: number) => Math.round(x * 100) / 100;

// ---------------------------------------------------------------------------------------------
// The run

const results: Record<string, Record<string, Measured>> = {};
for (const side of sides) {
  await using server = side === "workerd" ? await startWorkerd() : await startFlask();
  results[side] = {};
  // The Flask reference has only /classify.
  const served = uploads.filter((u) => !server.flask || u.path === "/classify");
  // The server first answers `--warmup` of each ordinary upload: the code they share is compiled
  // (workerd's V8 does it on background threads of the same process, which /proc counts) before
  // any kind is measured, so the first one measured does not pay for it.
  for (const upload of served.filter((u) => !u.hostile)) {
    await load(server, upload, warmup, performance.now() + seconds * 1000, () => false);
  }
  for (const upload of served) {
    const m = await measure(server, upload);
    results[side][upload.name] = m;
    console.log(
      `${side} ${upload.name}: ${m.cpu_ms} ms CPU/request over ${m.requests} requests, ` +
        `p50 ${m.p50_ms} ms, RSS +${m.rss_growth_mb} MB, statuses ${JSON.stringify(m.statuses)}` +
        (m.note ? ` (${m.note})` : "") + (m.invalid ? ` — INVALID: ${m.invalid}` : "") +
        (m.unexpected ? ` — unexpected: ${m.unexpected}` : ""),
    );
  }
}

/** Each kind's CPU per request (null when invalid), the worst hostile upload's, and what was wrong. */
function summary(side: string) {
  const measured = results[side];
  if (!measured) return undefined;
  const figure = (m: Measured) => (m.invalid ? null : m.cpu_ms);
  const hostile = uploads.filter((u) => u.hostile).map((u) => [u.name, measured[u.name]!] as const);
  const [worstCase, worst] = hostile.length
    ? hostile.reduce((a, b) => (b[1].cpu_ms > a[1].cpu_ms ? b : a))
    : [null, undefined];
  const anyInvalid = hostile.some(([, m]) => m.invalid);
  // Cap-sized legitimate requests, single images and batches apart: the worst of each.
  const worstOf = (kind: "single" | "batch") => {
    const cases = uploads.filter((u) => u.capSized === kind).map((u) =>
      [u.name, measured[u.name]!] as const
    );
    if (!cases.length) return { cpu: null, name: null };
    const [name, m] = cases.reduce((a, b) => (b[1].cpu_ms > a[1].cpu_ms ? b : a));
    return { cpu: cases.some(([, c]) => c.invalid) ? null : m.cpu_ms, name };
  };
  const single = worstOf("single"), batch = worstOf("batch");
  return {
    cpu_ms: {
      ...Object.fromEntries(
        uploads.filter((u) => !u.hostile && measured[u.name]).map((u) => [
          u.name,
          figure(measured[u.name]!),
        ]),
      ),
      worst_hostile: anyInvalid || !worst ? null : worst.cpu_ms,
      worst_hostile_case: worstCase,
      worst_cap_single: single.cpu,
      worst_cap_single_case: single.name,
      worst_cap_batch: batch.cpu,
      worst_cap_batch_case: batch.name,
    },
    hostile_cpu_ms: Object.fromEntries(hostile.map(([name, m]) => [name, m.cpu_ms])),
    // POST /read of each written number, and POST /classify of the same image.
    ...Object.fromEntries((["read", "classify"] as const).map((route) => [
      route === "read" ? "read_ms" : "classify_same_ms",
      Object.fromEntries(
        Object.keys(NUMBER_UPLOADS).filter((name) => measured[`${route}_${name}`])
          .map((name) => [name, figure(measured[`${route}_${name}`]!)]),
      ),
    ])) as {
      read_ms: Record<string, number | null>;
      classify_same_ms: Record<string, number | null>;
    },
    p50_ms: Object.fromEntries(
      uploads.filter((u) => measured[u.name]).map((u) => [u.name, measured[u.name]!.p50_ms]),
    ),
    rss_growth_mb: Math.max(...Object.values(measured).map((m) => m.rss_growth_mb)),
    notes: Object.fromEntries(
      Object.entries(measured).filter(([, m]) => m.note).map(([name, m]) => [name, m.note]),
    ),
    unexpected: Object.fromEntries(
      Object.entries(measured).filter(([, m]) => m.unexpected).map(([name, m]) => [
        name,
        m.unexpected,
      ]),
    ),
    invalid: Object.fromEntries(
      Object.entries(measured).filter(([, m]) => m.invalid).map(([name, m]) => [
        name,
        `${m.invalid} (measured ${m.cpu_ms} ms)`,
      ]),
    ),
  };
}

const workerd = summary("workerd"), flask = summary("flask");
const meets = workerd !== undefined &&
  Object.entries(TARGETS_MS).every(([name, target]) => {
    const value = (workerd.cpu_ms as Record<string, number | string | null>)[name];
    return typeof value === "number" && value <= target;
  });
console.log(JSON.stringify({
  workerd_cpu_ms: workerd?.cpu_ms,
  flask_cpu_ms: flask?.cpu_ms,
  targets: TARGETS_MS,
  meets_targets: meets,
  rss_growth_mb: workerd?.rss_growth_mb,
  flask_rss_growth_mb: flask?.rss_growth_mb,
  p50_ms: { workerd: workerd?.p50_ms, flask: flask?.p50_ms },
  hostile_cpu_ms: { workerd: workerd?.hostile_cpu_ms, flask: flask?.hostile_cpu_ms },
  read_ms: workerd?.read_ms,
  classify_same_ms: workerd?.classify_same_ms,
  invalid: { workerd: workerd?.invalid, flask: flask?.invalid },
  unexpected: { workerd: workerd?.unexpected },
  notes: { workerd: workerd?.notes, flask: flask?.notes },
  requests,
  hostile_requests: hostileRequests,
  clients,
  body: values.body,
  clk_tck: CLK_TCK,
  cpus: navigator.hardwareConcurrency,
}));

// ---------------------------------------------------------------------------------------------

async function run(command: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(command, { args, stderr: "inherit" }).output();
  if (!out.success) throw new Error(`${command} ${args.join(" ")} exited ${out.code}`);
  return new TextDecoder().decode(out.stdout).trim();
}

async function requireFlask(): Promise<void> {
  const probe = await new Deno.Command(PYTHON, {
    args: ["-c", "import torch, PIL, flask, numpy"],
    stderr: "null",
  }).output().catch(() => ({ code: 127 }));
  const gunicorn = await Deno.stat(GUNICORN).then(() => true, () => false);
  if (probe.code !== 0 || !gunicorn) {
    console.error(
      "Flask/PyTorch is missing: apt-get install -y python3-torch python3-pil python3-flask " +
        "gunicorn python3-numpy (or run with --only workerd)",
    );
    Deno.exit(3);
  }
}
