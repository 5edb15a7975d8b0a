/**
 * The load generator of `deno task bench:edge` and `deno task bench:load`: N clients, each sending one
 * request after another for a bounded time, every answer read to the end and counted.
 */

/** What {@linkcode measureLoad} saw. */
export interface LoadResult {
  clients: number;
  /** Requests sent (each one answered 200, failed or timed out: `sent = ok + errors + dropped`). */
  sent: number;
  /** Answered 200 and read to the end. */
  ok: number;
  /** Answered with another status. */
  errors: number;
  /** No answer: connection refused or reset, or none within `timeoutMs`. */
  dropped: number;
  req_per_s: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

/** Options for {@linkcode measureLoad}. */
export interface LoadOptions {
  clients: number;
  seconds: number;
  /** A request without an answer after this long counts as dropped. Default 10,000 ms. */
  timeoutMs?: number;
}

/**
 * Sends `request` to `url` from `clients` concurrent clients for `seconds`; latency of the 200s.
 *
 * @example
 * ```ts ignore
 * const r = await measureLoad(`${worker.url}/classify`, () => ({ method: "POST", body: png }), {
 *   clients: 8,
 *   seconds: 5,
 * });
 * ```
 */
export async function measureLoad(
  url: string,
  request: () => RequestInit,
  options: LoadOptions,
): Promise<LoadResult> {
  const { clients, seconds, timeoutMs = 10_000 } = options;
  const times: number[] = [];
  let sent = 0, errors = 0, dropped = 0;
  const until = performance.now() + seconds * 1000;
  const client = async () => {
    while (performance.now() < until) {
      const started = performance.now();
      sent++;
      let res: Response;
      try {
        res = await fetch(url, { ...request(), signal: AbortSignal.timeout(timeoutMs) });
        await res.arrayBuffer();
      } catch {
        dropped++;
        continue;
      }
      if (res.status === 200) times.push(performance.now() - started);
      else errors++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, client));
  const elapsed = (performance.now() - started) / 1000;
  const sorted = times.toSorted((a, b) => a - b);
  const at = (q: number) =>
    round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);
  return {
    clients,
    sent,
    ok: times.length,
    errors,
    dropped,
    req_per_s: round(times.length / elapsed),
    p50_ms: at(0.5),
    p99_ms: at(0.99),
    max_ms: round(sorted.at(-1) ?? NaN),
  };
}

const round = (x: number) => Math.round(x * 100) / 100;
