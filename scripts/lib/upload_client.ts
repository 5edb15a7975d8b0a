/**
 * Sends uploads to a running Worker and measures what each costs it: the answer, and workerd's
 * resident memory sampled while the request is in flight. Used by tests/uploads_e2e_test.ts and
 * scripts/eval_uploads.ts. Traffic goes only to the loopback URL given.
 */
import { startBackend } from "../../src/deno.ts";
import { loadClassifier } from "../../src/model/classifier.ts";
import type { Upload } from "./phone_photos.ts";

const MODEL = new URL("../../models/mnist-cnn", import.meta.url).pathname;
/** How often RSS is read while a request is in flight. */
const SAMPLE_MS = 20;
/** No request may take longer than this; a hung one counts as failed, not as a hang of the suite. */
export const REQUEST_TIMEOUT_MS = 60_000;
/** Longest body of an answer kept (answers are small JSON). */
const ANSWER_KEPT = 64 * 1024;

/**
 * `count` test digits the committed model reads right with probability ≥ 0.9 in their own 28×28
 * form, taken every `step` from `offset`: the upload path is then what a wrong answer measures.
 */
export async function readableDigits(
  digits: Uint8Array[],
  labels: Uint8Array,
  options: { count: number; offset: number; step?: number },
): Promise<number[]> {
  await startBackend("wasm");
  const classifier = await loadClassifier(
    await Deno.readFile(`${MODEL}.safetensors`),
    JSON.parse(await Deno.readTextFile(`${MODEL}.json`)),
  );
  const step = options.step ?? 97, chosen: number[] = [];
  for (let k = 0; chosen.length < options.count && k < digits.length; k++) {
    const index = (options.offset + k * step) % digits.length;
    const probabilities = classifier.predict([digits[index]!])[0]!;
    if (probabilities[labels[index]!]! >= 0.9) chosen.push(index);
  }
  return chosen;
}

/** An answer: its status and parsed JSON body (undefined when it is not JSON). */
export interface Answer {
  status: number;
  body: string;
  json?: { digit?: number; error?: { code?: string } };
}

/** How a request went: the answer (or why there was none) and workerd's RSS before, at peak and after. */
export interface Measured {
  answer?: Answer;
  failure?: string;
  rssBefore: number;
  rssPeak: number;
}

const parse = (status: number, body: string): Answer => {
  try {
    return { status, body, json: JSON.parse(body) };
  } catch {
    return { status, body };
  }
};

/** POSTs an upload as a raw body with its Content-Type, or as a multipart `image` file. */
export function uploadInit(upload: Upload, multipart: boolean): RequestInit {
  if (!multipart) {
    return { method: "POST", body: upload.bytes, headers: { "content-type": upload.type } };
  }
  const form = new FormData();
  form.append("image", new Blob([upload.bytes], { type: upload.type }), "upload");
  return { method: "POST", body: form };
}

/** Sends `init` with fetch and reads the answer, within REQUEST_TIMEOUT_MS. */
export async function send(url: string, path: string, init: RequestInit): Promise<Answer> {
  const res = await fetch(`${url}${path}`, {
    ...init,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return parse(res.status, (await res.text()).slice(0, ANSWER_KEPT));
}

/**
 * Writes raw HTTP/1.1 bytes to the server, closes the sending side (the body ends there, short or
 * not) and reads the answer until the server closes, within REQUEST_TIMEOUT_MS.
 */
export async function sendRaw(url: string, raw: Uint8Array): Promise<Answer> {
  const { hostname, port } = new URL(url);
  if (hostname !== "127.0.0.1") {
    throw new RangeError(`Raw requests go to 127.0.0.1 only: got ${hostname}`);
  }
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const timer = setTimeout(() => conn.close(), REQUEST_TIMEOUT_MS);
  try {
    for (let at = 0; at < raw.length;) at += await conn.write(raw.subarray(at));
    await conn.closeWrite();
    const chunks: Uint8Array<ArrayBuffer>[] = [], buffer = new Uint8Array(16 * 1024);
    let kept = 0;
    for (let n; (n = await conn.read(buffer)) !== null && kept < ANSWER_KEPT;) {
      chunks.push(buffer.slice(0, n));
      kept += n;
    }
    const text = new TextDecoder().decode(await new Blob(chunks).arrayBuffer());
    const [head = "", ...rest] = text.split("\r\n\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
    let body = rest.join("\r\n\r\n");
    if (/^transfer-encoding:\s*chunked/im.test(head)) body = unchunk(body);
    if (!status) throw new Error(`no HTTP answer (${text.length} bytes: ${text.slice(0, 80)})`);
    return parse(status, body);
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // Closed by the timer.
    }
  }
}

/** The payload of a chunked HTTP body. */
function unchunk(body: string): string {
  let out = "", at = 0;
  for (let guard = 0; guard < 10_000; guard++) {
    const eol = body.indexOf("\r\n", at), size = parseInt(body.slice(at, eol), 16);
    if (eol < 0 || !(size > 0)) break;
    out += body.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
  return out;
}

/**
 * Runs `request` while reading workerd's RSS every SAMPLE_MS, and returns the answer with the RSS
 * before and the highest seen (sampling stops when the request settles, at most REQUEST_TIMEOUT_MS).
 */
export async function measure(
  rss: () => Promise<number>,
  request: () => Promise<Answer>,
): Promise<Measured> {
  const rssBefore = await rss();
  let rssPeak = rssBefore, done = false;
  const sampling = (async () => {
    const deadline = Date.now() + REQUEST_TIMEOUT_MS + 5_000;
    for (
      let i = 0;
      !done && i < (REQUEST_TIMEOUT_MS + 5_000) / SAMPLE_MS && Date.now() < deadline;
      i++
    ) {
      rssPeak = Math.max(rssPeak, await rss().catch(() => 0));
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
    }
  })();
  let outcome: { answer?: Answer; failure?: string };
  try {
    outcome = { answer: await request() };
  } catch (e) {
    outcome = { failure: (e as Error).message };
  }
  done = true;
  await sampling;
  rssPeak = Math.max(rssPeak, await rss().catch(() => 0));
  return { ...outcome, rssBefore, rssPeak };
}

/**
 * Waits (at most `tries` × 100 ms) for RSS to fall to `ceiling`, as a server that gave the memory
 * back does; returns the last reading.
 */
export async function settledRss(
  rss: () => Promise<number>,
  ceiling: number,
  tries = 30,
): Promise<number> {
  let now = await rss();
  for (let i = 0; i < tries && now > ceiling; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    now = await rss();
  }
  return now;
}

export const MB = 1024 * 1024;
