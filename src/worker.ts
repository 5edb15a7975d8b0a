/**
 * The Cloudflare Workers entry: the app from server/app.ts over the models the build bundled
 * (worker_models.js, from models/index.json). The tfjs backend and the image decoders start once per
 * isolate, with the first model a request needs (POST /classify awaits them before decoding); each
 * model starts on its own first use, so the isolate's start-up stays well inside the 1 s limit.
 */
import type { ExecutionContext } from "hono";
import { type App, createApp } from "./server/app.ts";
import type { Env } from "./server/env.ts";
import { useWasmBackend } from "./model/backend.ts";
import { createModelRegistry } from "./model/registry.ts";
import { initCodec, initWebpDecoder } from "./image/decode.ts";
import { limitsFrom } from "./server/limits.ts";
import { codecWasm, convPoolWasm, layersWasm, simdWasm, webpDecoderWasm } from "./worker_assets.js";
import { modelFiles, modelIndex } from "./worker_models.js";

/** What must run before any model loads or any image is decoded; the registry runs it once. */
async function startRuntime(): Promise<void> {
  await useWasmBackend({ tfjs: simdWasm, convPool: convPoolWasm, layers: layersWasm });
  initCodec(codecWasm);
  await initWebpDecoder(webpDecoderWasm);
}

let app: App | undefined;

export default {
  // The vars arrive with the first request, so the app is built then, once per isolate; what may
  // change between requests (secrets, bindings) is read from `env` per request.
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
    try {
      app ??= createApp({
        models: createModelRegistry(modelIndex, modelFiles, { start: startRuntime }),
        limits: limitsFrom({ ...env }),
      });
    } catch (error) {
      // A bad [vars] value or model index is a deploy problem: say so in the API's error shape, not
      // workerd's HTML.
      const message = `the Worker is misconfigured: ${(error as Error).message}`;
      return Response.json({ error: { code: "misconfigured", message } }, { status: 503 });
    }
    return app.fetch(request, env, ctx);
  },
};
