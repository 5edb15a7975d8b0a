/**
 * The Cloudflare Workers entry: the app from server/app.ts over the model bundled into the Worker.
 * The tfjs backend, the image decoders and the classifier start once per isolate, together, on the
 * first request that needs any of them (POST /classify awaits them before decoding), so the isolate's
 * start-up stays well inside the 1 s limit.
 */
import type { ExecutionContext } from "hono";
import { type App, createApp } from "./server/app.ts";
import type { Env } from "./server/env.ts";
import { useWasmBackend } from "./model/backend.ts";
import { type Classifier, loadClassifier } from "./model/classifier.ts";
import { initCodec, initWebpDecoder } from "./image/decode.ts";
import { limitsFrom } from "./server/limits.ts";
import {
  codecWasm,
  convPoolWasm,
  modelWeights,
  simdWasm,
  webpDecoderWasm,
} from "./worker_assets.js";
import manifest from "../models/mnist-cnn.json" with { type: "json" };

let classifier: Promise<Classifier> | undefined;

// A rejected load stays memoised: the bundled model cannot get better by retrying.
function startClassifier(): Promise<Classifier> {
  classifier ??= (async () => {
    await useWasmBackend({ tfjs: simdWasm, convPool: convPoolWasm });
    initCodec(codecWasm);
    await initWebpDecoder(webpDecoderWasm);
    return await loadClassifier(new Uint8Array(modelWeights), manifest);
  })();
  return classifier;
}

let app: App | undefined;

export default {
  // The vars arrive with the first request, so the app is built then, once per isolate; what may
  // change between requests (secrets, bindings) is read from `env` per request.
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
    try {
      app ??= createApp({ classifier: startClassifier, limits: limitsFrom({ ...env }) });
    } catch (error) {
      // A bad [vars] value is a deploy problem: say so in the API's error shape, not workerd's HTML.
      const message = `the Worker is misconfigured: ${(error as Error).message}`;
      return Response.json({ error: { code: "misconfigured", message } }, { status: 503 });
    }
    return app.fetch(request, env, ctx);
  },
};
