/**
 * The request body layer through `app.request()` and direct calls, no server: bodies read once within
 * their cap, cut-short bodies answered 400, bodies in flight bounded per isolate, hostile JSON and
 * multipart refused before they are parsed. Passing proves each refusal comes with its status and code
 * and that the work stopped where the budget says: bytes pulled from the stream, JSON.parse, atob and
 * the form parser are never handed the hostile input. The same cases against workerd are in
 * bodies_e2e_test.ts.
 */
import assert from "node:assert/strict";
import { createApp } from "../src/server/app.ts";
import { createModelRegistry } from "../src/model/registry.ts";
import { inflightBodyBytes } from "../src/server/body.ts";
import { DEFAULT_LIMITS, type Limits } from "../src/server/limits.ts";
import { countDelimiters } from "../src/server/_delimiters.ts";
import {
  EXTRA_MULTIPART_PARTS,
  MAX_JSON_COMMAS,
  readClassifyRequest,
} from "../src/server/request.ts";

const MiB = 1024 * 1024;
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** An app that never gets as far as classifying: these tests stop at the body. */
function appWith(limits: Partial<Limits> = {}) {
  return createApp({
    models: createModelRegistry(
      { default: "mnist-cnn", models: ["mnist-cnn"] },
      () => Promise.reject(new Error("the classifier is not needed here")),
    ),
    limits,
    log: () => {},
  });
}

/**
 * A body that hands out `chunks` one read at a time (nothing is queued ahead of a read), then closes
 * or errors with `end`; `pulled` counts the bytes the server asked for.
 */
function meteredBody(chunks: Uint8Array[], end: "close" | Error = "close") {
  const meter = { pulled: 0, started: Promise.withResolvers<void>() };
  let next = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      meter.started.resolve();
      const chunk = chunks[next++];
      if (chunk) {
        meter.pulled += chunk.length;
        controller.enqueue(chunk);
      } else if (end === "close") controller.close();
      else controller.error(end);
    },
  }, { highWaterMark: 0 });
  return { stream, meter };
}

function post(body: BodyInit, headers: Record<string, string>): RequestInit {
  return { method: "POST", body, headers };
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  const text = await res.text();
  assert.doesNotMatch(text, /\bat .*\.(ts|js):\d+/, "no stack trace");
  return JSON.parse(text).error;
}

/**
 * A parked upload: hands out `first`, then waits until `giveUp()` before failing as a lost connection
 * would, so the test decides when it ends.
 */
function parkedBody(first: Uint8Array) {
  const started = Promise.withResolvers<void>();
  const gate = Promise.withResolvers<void>();
  let sent = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      started.resolve();
      if (!sent) {
        sent = true;
        controller.enqueue(first);
        return;
      }
      await gate.promise;
      controller.error(workerdConnectionLost());
    },
  }, { highWaterMark: 0 });
  return { stream, started: started.promise, giveUp: () => gate.resolve() };
}

/** What workerd throws from a body read when the client stops sending (see src/server/body.ts). */
const workerdConnectionLost = () =>
  Object.assign(new Error("Network connection lost."), { retryable: true });

/** Calls `fn` with `console.error` recorded (and silenced) for its duration. */
async function recordingErrors<T>(
  fn: () => T | Promise<T>,
): Promise<{ result: T; logged: unknown[] }> {
  const logged: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    return { result: await fn(), logged };
  } finally {
    console.error = original;
  }
}

Deno.test("a Content-Length over MAX_BODY_BYTES is refused before a byte is read", async () => {
  const { stream, meter } = meteredBody([new Uint8Array(1000)]);
  const res = await appWith({ maxBodyBytes: 1000 }).request(
    "/classify",
    post(stream, { "content-type": "image/png", "content-length": "1001" }),
  );
  assert.equal(res.status, 413);
  assert.equal((await errorOf(res)).code, "body_too_large");
  assert.equal(meter.pulled, 0);
  await stream.cancel();
});

Deno.test("a Content-Length that is not a byte count is refused before a byte is read", async () => {
  const { stream, meter } = meteredBody([new Uint8Array(PNG_MAGIC)]);
  const res = await appWith().request(
    "/classify",
    post(stream, { "content-type": "image/png", "content-length": "-8" }),
  );
  assert.equal(res.status, 400);
  assert.equal((await errorOf(res)).code, "invalid_content_length");
  assert.equal(meter.pulled, 0);
  await stream.cancel();
});

Deno.test("a body that runs over MAX_BODY_BYTES while streaming stops being read", async () => {
  const { stream, meter } = meteredBody(Array.from({ length: 100 }, () => new Uint8Array(1000)));
  const res = await appWith({ maxBodyBytes: 5000 }).request(
    "/classify",
    post(stream, { "content-type": "image/png" }),
  );
  assert.equal(res.status, 413);
  assert.equal((await errorOf(res)).code, "body_too_large");
  assert.equal(meter.pulled, 6000, "the chunk that passed the cap is the last one read");
  assert.equal(inflightBodyBytes(), 0);
});

Deno.test("a body cut short is 400 body_incomplete, with nothing logged", async (t) => {
  const cases: [string, Error][] = [
    ["workerd: Network connection lost.", workerdConnectionLost()],
    [
      "Deno.serve: BadResource",
      new Deno.errors.BadResource("Cannot read request body as underlying resource unavailable"),
    ],
  ];
  for (const [name, error] of cases) {
    await t.step(name, async () => {
      const { stream } = meteredBody([new Uint8Array(PNG_MAGIC), new Uint8Array(500)], error);
      const { result: res, logged } = await recordingErrors(() =>
        appWith().request("/classify", post(stream, { "content-type": "image/png" }))
      );
      assert.equal(res.status, 400);
      assert.equal((await errorOf(res)).code, "body_incomplete");
      assert.deepEqual(logged, []);
      assert.equal(inflightBodyBytes(), 0);
    });
  }
});

Deno.test("a body shorter than its Content-Length is 400 body_incomplete", async () => {
  const { stream } = meteredBody([new Uint8Array(PNG_MAGIC)]);
  const res = await appWith().request(
    "/classify",
    post(stream, { "content-type": "image/png", "content-length": "1000" }),
  );
  assert.equal(res.status, 400);
  assert.equal((await errorOf(res)).code, "body_incomplete");
});

Deno.test("any other failure of the body stream stays a 500 and is logged", async () => {
  const { stream } = meteredBody([new Uint8Array(10)], new TypeError("a bug, not the client"));
  const { result: res, logged } = await recordingErrors(() =>
    appWith().request("/classify", post(stream, { "content-type": "image/png" }))
  );
  assert.equal(res.status, 500);
  assert.equal((await errorOf(res)).code, "internal_error");
  assert.equal(logged.length, 1);
  assert.equal(inflightBodyBytes(), 0);
});

Deno.test("a declared Content-Length holds nothing in flight until its bytes arrive", async () => {
  const app = appWith({ maxBodyBytes: 6000, maxInflightBodyBytes: 10_000 });
  // Three parked uploads declare 18,000 bytes between them, almost twice the ceiling, and send 100 each.
  const parked = Array.from({ length: 3 }, () => parkedBody(new Uint8Array(100)));
  const answers = parked.map((p) =>
    app.request(
      "/classify",
      post(p.stream, { "content-type": "image/png", "content-length": "6000" }),
    )
  );
  try {
    await Promise.all(parked.map((p) => p.started));
    await waitForInflight(300);
    const declared = meteredBody([new Uint8Array(5000)]);
    const res = await app.request(
      "/classify",
      post(declared.stream, { "content-type": "image/png", "content-length": "5000" }),
    );
    assert.equal(res.status, 415, "read whole and judged as an image, not shed");
    assert.equal((await errorOf(res)).code, "unsupported_media_type");
    assert.equal(declared.meter.pulled, 5000);
    assert.equal(inflightBodyBytes(), 300, "only the bytes the parked uploads sent are held");
  } finally {
    parked.forEach((p) => p.giveUp());
  }
  for (const answer of answers) assert.equal((await answer).status, 400);
  assert.equal(inflightBodyBytes(), 0);
});

Deno.test("bodies in flight past MAX_INFLIGHT_BODY_BYTES are shed with 503 and Retry-After", async () => {
  const app = appWith({ maxBodyBytes: 6000, maxInflightBodyBytes: 10_000 });
  // A parked upload: the 6000 bytes it sent are held while it waits to send the rest.
  const parked = parkedBody(new Uint8Array(6000));
  const parkedAnswer = app.request(
    "/classify",
    post(parked.stream, { "content-type": "image/png", "content-length": "6000" }),
  );
  try {
    await parked.started;
    await waitForInflight(6000);
    await assertShedWhileParked(app);
  } finally {
    parked.giveUp();
  }
  // The parked client gives up: its bytes are released and the next upload is accepted.
  const parkedRes = await parkedAnswer;
  assert.equal(parkedRes.status, 400);
  assert.equal((await errorOf(parkedRes)).code, "body_incomplete");
  assert.equal(inflightBodyBytes(), 0);
  const accepted = await app.request("/classify", post("seven", { "content-type": "text/plain" }));
  assert.equal((await errorOf(accepted)).code, "unsupported_media_type");
});

/** Waits (a macrotask at a time, at most 100) until the bodies in flight hold `bytes`. */
async function waitForInflight(bytes: number) {
  for (let i = 0; i < 100 && inflightBodyBytes() !== bytes; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  assert.equal(inflightBodyBytes(), bytes);
}

async function assertShedWhileParked(app: ReturnType<typeof appWith>) {
  // A body is shed at the first chunk whose bytes, with those it has still to send, cannot fit beside
  // the 6000 held: with a Content-Length of 5000 its first, without one the chunk that passes 10,000.
  const cases: [string, Record<string, string>, number][] = [
    ["declared", { "content-length": "5000" }, 1000],
    ["chunked", {}, 5000],
  ];
  for (const [name, headers, pulled] of cases) {
    const streamed = meteredBody(Array.from({ length: 5 }, () => new Uint8Array(1000)));
    const shed = await app.request(
      "/classify",
      post(streamed.stream, { "content-type": "image/png", ...headers }),
    );
    assert.equal(shed.status, 503, name);
    assert.equal(shed.headers.get("retry-after"), "1");
    assert.equal((await errorOf(shed)).code, "overloaded");
    assert.equal(streamed.meter.pulled, pulled, `${name}: bytes read before it was shed`);
    assert.equal(inflightBodyBytes(), 6000, "only the parked upload is still held");
  }
}

/** Calls `fn` with JSON.parse recorded: the length of every text it was given. */
async function recordingJsonParse<T>(
  fn: () => T | Promise<T>,
): Promise<{ result: T; parsed: number[] }> {
  const parsed: number[] = [];
  const original = JSON.parse;
  JSON.parse = (text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
    parsed.push(text.length);
    return original(text, reviver);
  };
  try {
    return { result: await fn(), parsed };
  } finally {
    JSON.parse = original;
  }
}

Deno.test("JSON deeper or longer than the accepted shapes is refused before JSON.parse", async (t) => {
  const half = Math.floor((5 * MiB - 32) / 2);
  const cases: [string, string, RegExp][] = [
    ["5 MiB of nested arrays", `{"pixels":${"[".repeat(half)}${"]".repeat(half)}}`, /nested/],
    ["nested objects", '{"image":{"a":{"b":1}}}', /nested/],
    ["2.6 million values", `{"pixels":[${"0,".repeat(half - 8)}0]}`, /values/],
    [
      `${MAX_JSON_COMMAS + 2} values`,
      `{"pixels":[${"0,".repeat(MAX_JSON_COMMAS + 1)}0]}`,
      /values/,
    ],
  ];
  for (const [name, body, message] of cases) {
    await t.step(name, async () => {
      const { result: res, parsed } = await recordingJsonParse(() =>
        appWith().request("/classify", post(body, { "content-type": "application/json" }))
      );
      assert.equal(res.status, 400);
      const error = await errorOf(res);
      assert.equal(error.code, "invalid_json");
      assert.match(error.message, message);
      assert.match(error.message, /\{"pixels": \[784 numbers/, "says what was expected");
      assert.deepEqual(parsed, [], "JSON.parse never ran");
    });
  }
  await t.step("strings may hold brackets and commas", async () => {
    const tricky = `{"note":"${'[{,\\"'.repeat(2000)}","pixels":[${"0,".repeat(783)}0]}`;
    const res = await appWith().request(
      "/classify",
      post(tricky, { "content-type": "application/json" }),
    );
    // Accepted and parsed: the handler went on to start the classifier, which this app refuses.
    assert.equal((await errorOf(res)).code, "model_unavailable", "parsed, not invalid_json");
  });
});

/** Calls `fn` with atob recorded: the length of every string it decoded. */
async function recordingAtob<T>(
  fn: () => T | Promise<T>,
): Promise<{ result: T; decoded: number[] }> {
  const decoded: number[] = [];
  const original = globalThis.atob;
  globalThis.atob = (data: string) => {
    decoded.push(data.length);
    return original(data);
  };
  try {
    return { result: await fn(), decoded };
  } finally {
    globalThis.atob = original;
  }
}

Deno.test("a JSON image is judged by its first bytes before the rest is decoded", async (t) => {
  const pdf = btoa("%PDF-1.7\n") + "A".repeat(4 * MiB);
  for (
    const [name, image] of [["base64", pdf], ["data: URL", `data:image/png;base64,${pdf}`]] as const
  ) {
    await t.step(name, async () => {
      const { result: res, decoded } = await recordingAtob(() =>
        appWith().request(
          "/classify",
          post(JSON.stringify({ image }), { "content-type": "application/json" }),
        )
      );
      assert.equal(res.status, 415);
      assert.equal((await errorOf(res)).code, "unsupported_media_type");
      assert.deepEqual(decoded, [36], "only the first 36 characters were decoded");
    });
  }
});

/** A multipart body by hand: `parts` as [name, value, filename?], joined by `--boundary`. */
function multipartBody(boundary: string, parts: [string, string | Uint8Array, string?][]) {
  const encoder = new TextEncoder();
  const chunks: Uint8Array[] = [];
  for (const [name, value, filename] of parts) {
    const file = filename ? `; filename="${filename}"\r\nContent-Type: image/png` : "";
    chunks.push(
      encoder.encode(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${file}\r\n\r\n`,
      ),
      typeof value === "string" ? encoder.encode(value) : value,
      encoder.encode("\r\n"),
    );
  }
  chunks.push(encoder.encode(`--${boundary}--\r\n`));
  return new Blob(chunks as BlobPart[]);
}

/** Calls `fn` counting how often Response#formData (the form parser) ran. */
async function countingFormData<T>(
  fn: () => T | Promise<T>,
): Promise<{ result: T; parses: number }> {
  const original = Response.prototype.formData;
  let parses = 0;
  Response.prototype.formData = function (this: Response) {
    parses++;
    return original.call(this);
  };
  try {
    return { result: await fn(), parses };
  } finally {
    Response.prototype.formData = original;
  }
}

Deno.test("a multipart flood of parts is refused before the form is parsed", async () => {
  const field = '--b0undary\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n';
  const body = `${field.repeat(80_000)}--b0undary--\r\n`;
  const { result: res, parses } = await countingFormData(() =>
    appWith().request(
      "/classify",
      post(body, { "content-type": "multipart/form-data; boundary=b0undary" }),
    )
  );
  assert.equal(res.status, 413);
  assert.equal((await errorOf(res)).code, "too_many_images");
  assert.equal(parses, 0);
});

Deno.test("countDelimiters() counts a delimiter in at most 2 comparisons a byte, however near the misses", () => {
  const encoder = new TextEncoder();
  const delimiter = encoder.encode(`--${"-".repeat(70)}`);
  // 5 MiB of 71 dashes and an x: every x ends a near-match of the 72-byte delimiter.
  const filler = encoder.encode(`${"-".repeat(71)}x`.repeat(Math.ceil(5 * MiB / 72)));
  const body = new Uint8Array(filler.length + 3 * delimiter.length);
  body.set(delimiter);
  body.set(filler, delimiter.length);
  body.set(delimiter, delimiter.length + filler.length);
  body.set(delimiter, 2 * delimiter.length + filler.length);
  const found = countDelimiters(body, delimiter, 10);
  assert.equal(found.count, 3);
  assert.ok(found.comparisons <= 2 * body.length, `${found.comparisons} comparisons`);
  assert.equal(countDelimiters(body, delimiter, 2).count, 2, "stops at stopAfter");
  // Occurrences do not overlap, and a partial match falls back rather than restarting.
  assert.equal(countDelimiters(encoder.encode("aaaaa"), encoder.encode("aa"), 10).count, 2);
  assert.equal(countDelimiters(encoder.encode("aabaabaaab"), encoder.encode("aaab"), 10).count, 1);
});

Deno.test("a 5 MiB multipart body of near-delimiters is counted and parsed", async () => {
  const boundary = "-".repeat(70);
  const png = new Uint8Array([...PNG_MAGIC, 0, 0, 0, 0]);
  const filler = `${"-".repeat(71)}x`.repeat(Math.floor((5 * MiB - 1024) / 72));
  const body = multipartBody(boundary, [["note", filler], ["image", png, "a.png"]]);
  const read = await readClassifyRequest(
    new Request("http://x/classify", {
      method: "POST",
      body,
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
    }),
    { ...DEFAULT_LIMITS, maxBatch: 1 },
  );
  assert.deepEqual(read, {
    inputs: [{ kind: "image", bytes: png }],
    batch: false,
    bodyBytes: body.size,
  });
});

Deno.test("a multipart body with no part names its boundary as text", async () => {
  const res = await appWith().request(
    "/classify",
    post(multipartBody("b", [["image", "x", "a.png"]]), {
      "content-type": "multipart/form-data; boundary=zzz",
    }),
  );
  const { code, message } = await errorOf(res);
  assert.equal(code, "invalid_multipart");
  assert.match(message, /boundary '--zzz'$/);
});

Deno.test("readClassifyRequest() judges image bytes by the decoder's sniffFormat", async (t) => {
  const ascii = (text: string, length: number) => {
    const bytes = new Uint8Array(length);
    bytes.set(new TextEncoder().encode(text));
    return bytes;
  };
  const request = (body: BodyInit, type: string) =>
    new Request("http://x/classify", { method: "POST", body, headers: { "content-type": type } });
  // Both start with a magic the decoder knows, and neither is an image it would read.
  for (
    const [name, bytes] of [["GIF8 without 7a or 9a", ascii("GIF8xa", 64)], [
      "a 10-byte BM",
      ascii("BM", 10),
    ]] as const
  ) {
    await t.step(name, async () => {
      await assert.rejects(readClassifyRequest(request(bytes, "image/gif"), DEFAULT_LIMITS), {
        status: 415,
        code: "unsupported_media_type",
        message: "Not a supported image: send PNG, JPEG, GIF, WebP or BMP",
      });
    });
  }
  await t.step("a BMP in JSON base64 passes the check of its first characters", async () => {
    const bmp = ascii("BM", 64);
    const image = btoa(String.fromCharCode(...bmp));
    const read = await readClassifyRequest(
      request(JSON.stringify({ image }), "application/json"),
      DEFAULT_LIMITS,
    );
    assert.deepEqual(read.inputs, [{ kind: "image", bytes: bmp }]);
  });
});

Deno.test("multipart refusals: no boundary, no part, a part that is no image", async (t) => {
  const png = new Uint8Array([...PNG_MAGIC, 0, 0, 0, 0]);
  const cases: [string, string, Blob, number, string][] = [
    [
      "no boundary",
      "multipart/form-data",
      multipartBody("b", [["image", png, "a.png"]]),
      400,
      "invalid_multipart",
    ],
    [
      "a boundary over 70 characters",
      `multipart/form-data; boundary=${"b".repeat(71)}`,
      multipartBody("b".repeat(71), [["image", png, "a.png"]]),
      400,
      "invalid_multipart",
    ],
    [
      "no part with that boundary",
      "multipart/form-data; boundary=zzz",
      multipartBody("b", [["image", png, "a.png"]]),
      400,
      "invalid_multipart",
    ],
    [
      "an image part that is a PDF",
      "multipart/form-data; boundary=b",
      multipartBody("b", [["image", "%PDF-1.7", "a.png"]]),
      415,
      "unsupported_media_type",
    ],
  ];
  for (const [name, contentType, body, status, code] of cases) {
    await t.step(name, async () => {
      const res = await appWith().request("/classify", post(body, { "content-type": contentType }));
      assert.equal(res.status, status);
      assert.equal((await errorOf(res)).code, code);
    });
  }
});

Deno.test("readClassifyRequest() reads a batch with extra fields up to maxBatch + EXTRA_MULTIPART_PARTS parts", async () => {
  const png = new Uint8Array([...PNG_MAGIC, 1, 2, 3]);
  const limits = { ...DEFAULT_LIMITS, maxBatch: 2 };
  const parts: [string, string | Uint8Array, string?][] = [
    ["image", png, "a.png"],
    ["image", png, "b.png"],
    ...Array.from({ length: EXTRA_MULTIPART_PARTS }, () => ["note", "hi"] as [string, string]),
  ];
  const request = (body: Blob) =>
    new Request("http://x/classify", {
      method: "POST",
      body,
      headers: { "content-type": 'multipart/form-data; boundary="b"' },
    });
  const read = await readClassifyRequest(request(multipartBody("b", parts)), limits);
  assert.equal(read.batch, true);
  assert.deepEqual(read.inputs, [{ kind: "image", bytes: png }, { kind: "image", bytes: png }]);

  await assert.rejects(
    readClassifyRequest(request(multipartBody("b", [...parts, ["note", "one more"]])), limits),
    { status: 413, code: "too_many_images" },
  );
  assert.equal(inflightBodyBytes(), 0);
});

Deno.test("readClassifyRequest() returns raw, base64 and pixel digits as sent", async () => {
  const png = new Uint8Array([...PNG_MAGIC, 9, 9]);
  const request = (body: BodyInit, type: string) =>
    new Request("http://x/classify", { method: "POST", body, headers: { "content-type": type } });
  assert.deepEqual(await readClassifyRequest(request(png, "image/png"), DEFAULT_LIMITS), {
    inputs: [{ kind: "image", bytes: png }],
    batch: false,
    bodyBytes: png.length,
  });
  const base64 = btoa(String.fromCharCode(...png));
  for (const image of [base64, `data:image/png;base64,${base64}`]) {
    const read = await readClassifyRequest(
      request(JSON.stringify({ image }), "application/json"),
      DEFAULT_LIMITS,
    );
    assert.deepEqual(read.inputs, [{ kind: "image", bytes: png }]);
  }
  const pixels = Array.from({ length: 784 }, (_, i) => i % 256);
  const read = await readClassifyRequest(
    request(JSON.stringify({ pixels }), "application/json"),
    DEFAULT_LIMITS,
  );
  assert.deepEqual(read.inputs, [{ kind: "pixels", pixels: Uint8ClampedArray.from(pixels) }]);
});

Deno.test("readClassifyRequest() refuses bytes that are no image in every envelope, before decoding", async (t) => {
  const pdf = new TextEncoder().encode("%PDF-1.7\n%âãÏÓ\n");
  const envelopes: [string, BodyInit, string][] = [
    ["raw body", pdf, "application/pdf"],
    [
      "JSON base64",
      JSON.stringify({ image: btoa(String.fromCharCode(...pdf)) }),
      "application/json",
    ],
    [
      "JSON base64 under 16 characters",
      JSON.stringify({ image: btoa("%PDF") }),
      "application/json",
    ],
    ["multipart", multipartBody("b", [["image", pdf, "a.pdf"]]), "multipart/form-data; boundary=b"],
  ];
  for (const [name, body, type] of envelopes) {
    await t.step(name, async () => {
      const request = new Request("http://x/classify", {
        method: "POST",
        body,
        headers: { "content-type": type },
      });
      await assert.rejects(readClassifyRequest(request, DEFAULT_LIMITS), {
        status: 415,
        code: "unsupported_media_type",
      });
    });
  }
});

Deno.test("a refused value is named, not echoed whole: a 100 KB string in 'pixels'", async () => {
  const pixels = ["x".repeat(100_000), ...new Array(783).fill(0)];
  const res = await appWith().request(
    "/classify",
    post(JSON.stringify({ pixels }), { "content-type": "application/json" }),
  );
  assert.equal(res.status, 400);
  const { code, message } = await errorOf(res);
  assert.equal(code, "invalid_pixels");
  assert.match(message, /pixels\[0\] is "x{39}…$/);
  assert.ok(message.length < 200);
});
