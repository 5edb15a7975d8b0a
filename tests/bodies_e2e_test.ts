/**
 * Request bodies against the built bundle on plain `workerd serve`, over raw TCP, as broken and hostile
 * clients send them. Passing proves that in the production runtime a body cut short (shorter than its
 * Content-Length, a chunked body without its last chunk) is a 400 `body_incomplete` and never a 500 or a
 * logged stack, and that uploads parked one byte short cannot hold more than MAX_INFLIGHT_BODY_BYTES:
 * the ones past it are shed with 503 `overloaded` and Retry-After, workerd's RSS stays within the
 * ceiling, and /health answers after.
 */
import assert from "node:assert/strict";
import { startWorkerdServe } from "../scripts/lib/wrangler.ts";

const MiB = 1024 * 1024;
/** Low enough that two 5 MiB uploads fill it. */
const INFLIGHT_CEILING = 12 * MiB;
const PARKED_UPLOADS = 16;
const DECLARED = 5 * MiB;
const SENT = 4 * MiB;
/** Most the parked uploads may add to workerd's RSS: the ceiling and room for socket buffers. */
const PARKED_RSS_BUDGET = INFLIGHT_CEILING + 16 * MiB;
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const ascii = (text: string) => new TextEncoder().encode(text);

/** Writes all of `bytes`; false when the server closed the connection first. */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<boolean> {
  try {
    for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
    return true;
  } catch {
    return false;
  }
}

/** What the server sends until it closes, or until `ms` pass (then the connection is closed). */
async function answerWithin(conn: Deno.Conn, ms: number): Promise<string> {
  const timer = setTimeout(() => closeQuietly(conn), ms);
  const buffer = new Uint8Array(64 * 1024);
  let answer = "";
  try {
    for (let n; (n = await conn.read(buffer)) !== null;) {
      answer += new TextDecoder().decode(buffer.subarray(0, n));
    }
  } catch {
    // Closed by the timer: whatever came so far is the answer.
  } finally {
    clearTimeout(timer);
    closeQuietly(conn);
  }
  return answer;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/** Status, headers and JSON error code of a raw HTTP/1.1 answer. */
function parseAnswer(answer: string) {
  const [head = "", body = ""] = answer.split("\r\n\r\n", 2);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  const retryAfter = /^retry-after:\s*(\S+)$/im.exec(head)?.[1];
  let code: string | undefined;
  try {
    code = JSON.parse(body).error?.code;
  } catch {
    // Not JSON (or nothing): code stays undefined.
  }
  return { status, retryAfter, code };
}

/** Sends `head` and `body`, stops sending (half-close), and reads the answer. */
async function sendCutShort(port: number, head: string, body: Uint8Array) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(conn, ascii(head));
  await writeAll(conn, body);
  await conn.closeWrite();
  return parseAnswer(await answerWithin(conn, 10_000));
}

Deno.test("workerd serve: cut-short bodies are 400 and parked uploads are shed past the ceiling", async (t) => {
  await using worker = await startWorkerdServe({
    vars: { MAX_INFLIGHT_BODY_BYTES: String(INFLIGHT_CEILING), RATE_LIMIT: "off" },
  });
  const port = Number(new URL(worker.url).port);
  const healthy = async () => {
    const res = await fetch(`${worker.url}/health`, { signal: AbortSignal.timeout(10_000) });
    await res.body?.cancel();
    return res.status;
  };

  await t.step("a raw body shorter than its Content-Length", async () => {
    const answer = await sendCutShort(
      port,
      "POST /classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n",
      new Uint8Array(PNG_MAGIC),
    );
    assert.deepEqual(answer, { status: 400, retryAfter: undefined, code: "body_incomplete" });
    assert.equal(await healthy(), 200);
  });

  await t.step("a chunked body missing its last chunk", async () => {
    const answer = await sendCutShort(
      port,
      "POST /classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n",
      ascii(`${PNG_MAGIC.length.toString(16)}\r\n${String.fromCharCode(...PNG_MAGIC)}\r\n`),
    );
    assert.deepEqual(answer, { status: 400, retryAfter: undefined, code: "body_incomplete" });
    assert.equal(await healthy(), 200);
  });

  await t.step(`${PARKED_UPLOADS} uploads parked ${SENT} bytes into ${DECLARED}`, async () => {
    const rssBefore = await worker.workerdRssBytes();
    const head = ascii(
      `POST /classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: ${DECLARED}\r\n\r\n`,
    );
    const body = new Uint8Array(SENT);
    body.set(PNG_MAGIC);
    const conns: Deno.Conn[] = [];
    const writes: Promise<boolean>[] = [];
    try {
      for (let i = 0; i < PARKED_UPLOADS; i++) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        conns.push(conn);
        writes.push(writeAll(conn, head).then((ok) => ok && writeAll(conn, body)));
      }
      // A shed upload may stop being read before all is sent: wait for the writes at most 15 s.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(writes),
        new Promise((resolve) => timer = setTimeout(resolve, 15_000)),
      ]);
      clearTimeout(timer);
      const rssParked = await worker.workerdRssBytes();
      console.log(
        `  workerd RSS ${(rssBefore / MiB).toFixed(0)} MiB → ${(rssParked / MiB).toFixed(0)} MiB` +
          ` with ${PARKED_UPLOADS} uploads parked`,
      );
      assert.ok(
        rssParked - rssBefore <= PARKED_RSS_BUDGET,
        `parked uploads grew workerd's RSS by ${((rssParked - rssBefore) / MiB).toFixed(0)} MiB`,
      );

      // Shed uploads have their answer already; the parked ones are waiting for bytes, until closed.
      const answers = (await Promise.all(conns.map((conn) => answerWithin(conn, 3_000))))
        .map(parseAnswer);
      const shed = answers.filter((a) => a.status === 503);
      const parked = answers.filter((a) => a.status === 0);
      console.log(`  ${shed.length} shed with 503, ${parked.length} parked until closed`);
      assert.equal(shed.length + parked.length, PARKED_UPLOADS, JSON.stringify(answers));
      assert.ok(parked.length <= Math.floor(INFLIGHT_CEILING / DECLARED), `${parked.length} held`);
      for (const answer of shed) {
        assert.deepEqual(answer, { status: 503, retryAfter: "1", code: "overloaded" });
      }
    } finally {
      conns.forEach(closeQuietly);
      await Promise.all(writes);
    }
    assert.equal(await healthy(), 200);
  });

  await t.step("nothing was logged as a server error", () => {
    assert.doesNotMatch(worker.output(), /internal_error|Network connection lost|at .*worker\.js/);
  });
});
