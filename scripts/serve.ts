/**
 * The same app as the Worker, on Deno.serve, for users without Cloudflare tooling (and Deno Deploy).
 *
 *   deno task serve [--port 8000] [--hostname 127.0.0.1] [--models DIR]
 *
 * `--models DIR` (default models/) holds index.json and the files of each model it lists.
 * Limits come from MAX_BODY_BYTES, MAX_PIXELS, MAX_DECODE_WORK, MAX_BATCH and MAX_INFLIGHT_BODY_BYTES in the environment,
 * as in wrangler.toml; API_TOKENS and RATE_LIMIT too (the Worker's secret and var). The in-isolate rate
 * limiter stands in for Cloudflare's binding.
 */
import { createApp } from "../src/server/app.ts";
import { MODELS_DIR, openLocalModels } from "../src/deno.ts";
import { limitsFrom } from "../src/server/limits.ts";
import type { Env } from "../src/server/env.ts";
import { parseFlags } from "./lib/flags.ts";

const values = parseFlags("serve", {
  port: { type: "string", default: "8000" },
  hostname: { type: "string", default: "127.0.0.1" },
  models: { type: "string", default: MODELS_DIR },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  throw new RangeError(
    `'--port' must be an integer from 0 to 65535: current value is ${values.port}`,
  );
}

const models = await openLocalModels(values.models);
const env: Env = Deno.env.toObject();
const app = createApp({ models, limits: limitsFrom({ ...env }) });
// Fail at start, not on the first request, when a model is bad: every manifest is checked against
// its weights, and the default model is started; the others start on their first use.
await Promise.all(models.names.map((name) => models.card(name)));
await models.classifier();
// No Cloudflare in front: the rate limiter's client address is the connection's, never a header a
// client sent.
Deno.serve({ port, hostname: values.hostname }, (request, info) => {
  const headers = new Headers(request.headers);
  headers.set("cf-connecting-ip", info.remoteAddr.hostname);
  return app.fetch(new Request(request, { headers }), env);
});
