/**
 * Runs the Worker in the real runtime for tests and benches: `wrangler dev` (local workerd) on a free
 * loopback port, ready once GET /health answers 200, stopped with its whole process group.
 *
 * @example
 * ```ts ignore
 * await using worker = await startWranglerDev();
 * const res = await fetch(`${worker.url}/health`);
 * ```
 */

/** The pinned wrangler, run by Deno (wrangler wants a newer Node than the machine's). */
export const WRANGLER = "npm:wrangler@4.164.0";
/** The workerd that wrangler 4.164.0 runs, on its own. */
export const WORKERD = "npm:workerd@1.20261117.1";

const ROOT = new URL("../../", import.meta.url).pathname;
const OUTPUT_KEPT = 64 * 1024;

/** A running `wrangler dev`. */
export interface WranglerDev extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  /** How long the fresh isolate took to answer its first request (GET /health: tfjs and model start). */
  readonly firstRequestMs: number;
  /** The fresh isolate's answer to its first request: GET /health, or the `firstRequest` asked for. */
  readonly firstAnswer: { status: number; body: string };
  /** The last 64 KiB of wrangler's stdout and stderr. */
  output(): string;
  /** Resident memory of the workerd processes wrangler runs (the Worker's and its proxy's), in bytes. */
  workerdRssBytes(): Promise<number>;
  /** Stops wrangler and every process it started (workerd included); safe to call twice. */
  stop(): Promise<void>;
}

/** Options for {@linkcode startWranglerDev}. */
export interface WranglerDevOptions {
  /**
   * Worker vars overriding wrangler.toml's, e.g. `{ MAX_BODY_BYTES: "1024" }`. Anything that sends
   * more than a person drawing would — load tests, benches, fuzzing — passes `{ RATE_LIMIT: "off" }`:
   * rate limiting is on unless asked, as it is when deployed.
   */
  vars?: Record<string, string>;
  /** How long to wait for /health to answer 200, in ms. Default 120,000 (first start bundles). */
  timeoutMs?: number;
}

/**
 * Starts `wrangler dev` on a free loopback port and waits until GET /health answers 200.
 *
 * @throws Error with wrangler's output when it exits early or /health does not answer in time.
 */
export async function startWranglerDev(options: WranglerDevOptions = {}): Promise<WranglerDev> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const [port, inspectorPort] = [freePort(), freePort()];
  const vars = Object.entries(options.vars ?? {}).flatMap(([key, value]) => [
    "--var",
    `${key}:${value}`,
  ]);
  return await startService(
    "wrangler dev",
    [
      WRANGLER,
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      ...vars,
    ],
    `http://127.0.0.1:${port}`,
    timeoutMs,
  );
}

/**
 * Builds the Worker (`scripts/build.ts`, the bundle `wrangler deploy` would upload) and serves it
 * with plain `workerd serve` — the production runtime without wrangler dev's proxy and tooling —
 * on a free loopback port, with wrangler.toml's [vars] (`vars` overrides any of them; pass
 * `{ RATE_LIMIT: "off" }` to load it). It has no `[[ratelimits]]` binding, so the app's in-isolate
 * fallback counts with the same numbers.
 */
export async function startWorkerdServe(
  options: {
    timeoutMs?: number;
    /** Text bindings over wrangler.toml's [vars], as {@linkcode WranglerDevOptions.vars}. */
    vars?: Record<string, string>;
    /** The isolate's first request instead of GET /health (it must answer 200). */
    firstRequest?: { path: string; init: RequestInit };
  } = {},
): Promise<WranglerDev> {
  const dir = await Deno.makeTempDir({ prefix: "mnist-edge-workerd-" });
  await buildWorker(`${dir}/dist`);
  const files = [...Deno.readDirSync(`${dir}/dist`)].map((e) => e.name);
  const module = (name: string) =>
    name.endsWith(".wasm") ? `wasm = embed "dist/${name}"` : `data = embed "dist/${name}"`;
  const vars = Object.entries({
    ...Object.fromEntries(
      [...Deno.readTextFileSync(`${ROOT}wrangler.toml`).matchAll(/^(MAX_\w+) = (\d+)$/gm)]
        .map(([, name, value]) => [name, value]),
    ),
    ...options.vars,
  });
  const port = freePort();
  await Deno.writeTextFile(
    `${dir}/config.capnp`,
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "dist/worker.js"),
${
      files.filter((f) => /\.(wasm|safetensors)$/.test(f)).map((f) =>
        `    (name = "${f}", ${module(f)}),`
      )
        .join("\n")
    }
  ],
  compatibilityDate = "${
      /^compatibility_date = "(.+)"$/m.exec(Deno.readTextFileSync(`${ROOT}wrangler.toml`))![1]
    }",
  bindings = [${vars.map(([name, value]) => `(name = "${name}", text = "${value}")`).join(", ")}],
);
`,
  );
  const worker = await startService(
    "workerd serve",
    [WORKERD, "serve", `${dir}/config.capnp`],
    `http://127.0.0.1:${port}`,
    options.timeoutMs ?? 60_000,
    options.firstRequest,
  );
  const stop = async () => {
    await worker.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  return { ...worker, stop, [Symbol.asyncDispose]: stop };
}

/** `deno task build --outdir <outdir>`: the bundle `wrangler deploy` would upload. */
export async function buildWorker(outdir: string): Promise<void> {
  const build = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}scripts/build.ts`, "--outdir", outdir],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
    env: { WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
  }).output();
  if (!build.success) throw new Error(`build failed: ${new TextDecoder().decode(build.stderr)}`);
}

/** Runs `deno run -A <args>` as the leader of a new process group and waits for GET /health. */
async function startService(
  label: string,
  args: string[],
  url: string,
  timeoutMs: number,
  firstRequest?: { path: string; init: RequestInit },
): Promise<WranglerDev> {
  // setsid: the child is the leader of a new process group, so one signal reaches workerd too.
  const child = new Deno.Command("setsid", {
    args: [Deno.execPath(), "run", "-A", ...args],
    cwd: ROOT,
    env: { WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      output = (output + text).slice(-OUTPUT_KEPT);
    }
  };
  const reading = Promise.all([collect(child.stdout), collect(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      signalGroup(child.pid, "SIGTERM");
      const timer = new Promise<"timeout">((resolve) => {
        const id = setTimeout(() => resolve("timeout"), 5_000);
        status.finally(() => clearTimeout(id));
      });
      await Promise.race([status, timer]);
      // Whatever of the group outlived the leader (or ignored SIGTERM) goes now.
      signalGroup(child.pid, "SIGKILL");
      await status;
      await reading;
    })();
    return stopping;
  };

  const deadline = Date.now() + timeoutMs;
  let firstRequestMs = 0;
  let firstAnswer = { status: 0, body: "" };
  for (let last = "no answer yet";;) {
    if (exited) {
      await stop();
      throw new Error(`${label} exited before /health answered:\n${output}`);
    }
    const started = performance.now();
    const health = await ask(url, firstRequest ?? { path: "/health", init: {} });
    // Until workerd listens, nothing reaches the isolate: the first answer is its first request.
    if (health.status === 200) {
      firstRequestMs = performance.now() - started;
      firstAnswer = health;
      break;
    }
    if (health.status === 503) {
      // The Worker runs but its model does not load: waiting will not help.
      await stop();
      throw new Error(`${label}: the Worker is up but unhealthy: ${health.body}\n${output}`);
    }
    if (health.status) last = `${health.status} ${health.body}`;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `${label}: ${
          firstRequest?.path ?? "/health"
        } did not answer 200 within ${timeoutMs} ms (last: ${last}):\n${output}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }

  return {
    url,
    firstRequestMs,
    firstAnswer,
    output: () => output,
    workerdRssBytes: () => workerdRssBytes(child.pid),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * VmRSS summed over the workerd processes in wrangler's process group, from /proc.
 * @throws Error when no workerd is found in the group (it died, or this is not Linux).
 */
async function workerdRssBytes(group: number): Promise<number> {
  let total = 0, found = 0;
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      // pid (comm) state ppid pgrp …: comm may hold spaces, so split after its closing parenthesis.
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const pgrp = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      if (pgrp !== group || comm !== "workerd") continue;
      const status = await Deno.readTextFile(`/proc/${entry.name}/status`);
      const kib = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
      if (Number.isFinite(kib)) [total, found] = [total + kib * 1024, found + 1];
    } catch {
      // The process ended between readDir and read.
    }
  }
  if (found) return total;
  throw new Error(`no workerd process in wrangler's process group ${group}`);
}

/** A request's status and body, or status 0 while nothing listens yet. */
async function ask(
  url: string,
  request: { path: string; init: RequestInit },
): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(`${url}${request.path}`, {
      ...request.init,
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: await res.text() };
  } catch {
    return { status: 0, body: "" };
  }
}

/** A port that was free a moment ago: bind port 0, read what the kernel chose, release it. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

function signalGroup(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(-pid, signal);
  } catch {
    // ESRCH: the whole group has already gone.
  }
}
