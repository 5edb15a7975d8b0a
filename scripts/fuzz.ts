/**
 * `deno task fuzz`: hostile requests to POST /classify, POST /read and POST
 * /v2/models/mnist-cnn/infer on a `wrangler dev` (real workerd) it starts on loopback. Every answer
 * must be a JSON 4xx or a valid 200 in the route's shape (scripts/lib/fuzz.ts judges), GET /health
 * must answer after every batch, and workerd's resident memory is sampled after every batch.
 * A failure replays from its seed, case index and routes:
 * `deno task fuzz --seed S --route R --from I --requests 1`.
 *
 * `--route all` (the default) sends case i to classify, read and v2 in turn (i mod 3); the image
 * cases are the same generators on /classify and /read, so `--route classify` replays runs made
 * before /read and /v2 were fuzzed.
 *
 * The last line printed is one JSON object with every figure. Exit 1 on any failure.
 *
 *   deno task fuzz [--seed 1] [--requests 10000] [--seconds 600] [--concurrency 8] [--from 0]
 *                  [--route all|classify|read|v2] [--max-rss-mib 2048] [--runtime wrangler|workerd]
 *
 * `--runtime workerd` fuzzes the built bundle on plain `workerd serve`, the production runtime
 * without wrangler dev's proxy, whose own memory grows with every request.
 */
import { buildCorpus, type FuzzReport, type Route, ROUTES, runFuzz } from "./lib/fuzz.ts";
import { loadTestDigits } from "./lib/mnist_test_set.ts";
import { startWorkerdServe, startWranglerDev } from "./lib/wrangler.ts";
import { parseFlags } from "./lib/flags.ts";

const values = parseFlags("fuzz", {
  seed: { type: "string", default: "1" },
  requests: { type: "string", default: "10000" },
  seconds: { type: "string", default: "600" },
  concurrency: { type: "string", default: "8" },
  from: { type: "string", default: "0" },
  "max-rss-mib": { type: "string", default: "2048" },
  // wrangler: `wrangler dev`, as the issue asks; workerd: the built bundle on plain `workerd serve`
  runtime: { type: "string", default: "wrangler" },
  route: { type: "string", default: "all" },
});
const seed = whole("seed", 0), requests = whole("requests", 1), seconds = whole("seconds", 1);
const concurrency = whole("concurrency", 1), from = whole("from", 0);

function whole(name: keyof typeof values, min: number): number {
  const value = Number(values[name]);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(
      `'--${name}' must be an integer ≥ ${min}: current value is ${values[name]}`,
    );
  }
  return value;
}

const route = values.route;
if (route !== "all" && !(ROUTES as readonly string[]).includes(route)) {
  throw new RangeError(
    `'--route' must be all, ${ROUTES.join(", ")}: current value is ${route}`,
  );
}
const routes: readonly Route[] = route === "all" ? ROUTES : [route as Route];

const { digits } = await loadTestDigits();
// Eight test digits, one of each of 0–7, spread over the set.
const corpus = await buildCorpus([3, 2, 1, 18, 4, 8, 11, 0].map((i) => digits[i]!));
const mib = (bytes: number) => Math.round(bytes / 1024 / 1024 * 10) / 10;

if (values.runtime !== "wrangler" && values.runtime !== "workerd") {
  throw new RangeError(
    `'--runtime' must be wrangler or workerd: current value is ${values.runtime}`,
  );
}
await using worker = values.runtime === "workerd"
  ? await startWorkerdServe({ vars: { RATE_LIMIT: "off" } })
  : await startWranglerDev({ vars: { RATE_LIMIT: "off" } });
const rss: number[] = [await worker.workerdRssBytes()];
console.log(`${values.runtime} on ${worker.url}; workerd RSS at start ${mib(rss[0]!)} MiB`);
const report: FuzzReport = await runFuzz(worker.url, corpus, {
  seed,
  requests,
  seconds,
  concurrency,
  from,
  routes,
  afterBatch: async (r) => {
    rss.push(await worker.workerdRssBytes());
    console.log(
      `${r.requests} requests in ${r.seconds} s, ${r.failureCount} failures,` +
        ` health ok, workerd RSS ${mib(rss.at(-1)!)} MiB`,
    );
  },
});

if (report.unhealthy) console.log(`FAIL ${report.unhealthy}`);
for (const f of report.failures) {
  console.log(`FAIL seed ${seed} case ${f.index} (${f.name}): ${f.problem}`);
}
const sorted = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).sort());
console.log(`statuses: ${JSON.stringify(sorted(report.statuses))}`);
console.log(`error codes: ${JSON.stringify(sorted(report.codes))}`);
const byRoute = Object.fromEntries(
  Object.entries(report.routes).map(([name, r]) => [name, {
    requests: r.requests,
    statuses: sorted(r.statuses),
    failures: r.failureCount,
    slowest_ms: r.slowest?.ms,
    slowest_case: r.slowest && `${r.slowest.index} (${r.slowest.name}) → ${r.slowest.status}`,
  }]),
);
for (const [name, r] of Object.entries(byRoute)) console.log(`${name}: ${JSON.stringify(r)}`);
const summary = {
  seed,
  from,
  routes,
  requests: report.requests,
  seconds: report.seconds,
  req_per_s: Math.round(report.requests / report.seconds),
  statuses: sorted(report.statuses),
  codes: sorted(report.codes),
  failures: report.failureCount,
  by_route: Object.fromEntries(
    Object.entries(byRoute).map(([name, r]) => [name, {
      requests: r.requests,
      failures: r.failures,
      slowest_ms: r.slowest_ms,
    }]),
  ),
  healthy: !report.unhealthy,
  workerd_rss_mib: {
    start: mib(rss[0]!),
    min: mib(Math.min(...rss)),
    max: mib(Math.max(...rss)),
    end: mib(rss.at(-1)!),
  },
  cpus: navigator.hardwareConcurrency,
};
console.log(JSON.stringify(summary));
// wrangler dev's own runtime grows about 0.04 MiB a request even for a hello-world Worker (README,
// "Fuzzing"), so the bound checked is a ceiling, the kind a decompression bomb breaks: the GIF
// frame bug found here took workerd to 4.7 GB within 418 requests.
const maxRssMib = whole("max-rss-mib", 1);
if (mib(Math.max(...rss)) > maxRssMib) console.log(`FAIL workerd RSS over ${maxRssMib} MiB`);
if (report.failureCount > 0 || report.unhealthy || mib(Math.max(...rss)) > maxRssMib) {
  Deno.exitCode = 1;
}
