/** What the main app and the v2 sub-app share about their routes: 405s and the classifier's start. */
import type { Hono } from "hono";
import { ApiError } from "./api_error.ts";
import type { Classifier } from "../model/classifier.ts";
import type { AppEnv } from "./env.ts";

/**
 * 405 with `Allow` for a known path asked with another method, derived from the app's routes
 * themselves (GET implies HEAD). Call it after the routes are declared; the error is the app's own
 * `onError`'s to shape.
 */
export function refuseOtherMethods(app: Hono<AppEnv>): void {
  const allowed = new Map<string, Set<string>>();
  for (const { method, path } of app.routes) {
    if (method === "ALL") continue;
    const methods = allowed.get(path) ?? new Set<string>();
    methods.add(method);
    if (method === "GET") methods.add("HEAD");
    allowed.set(path, methods);
  }
  for (const [path, methods] of allowed) {
    const allow = [...methods].join(", ");
    app.all(path, (c) => {
      c.header("Allow", allow);
      throw new ApiError(405, "method_not_allowed", `${c.req.method} ${c.req.path}: use ${allow}`);
    });
  }
}

/** The classifier, or 503 `model_unavailable` with the loader's message (it says how to fix it). */
export async function startedClassifier(load: () => Promise<Classifier>): Promise<Classifier> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof ApiError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new ApiError(503, "model_unavailable", `the model could not be loaded: ${message}`, {
      cause: error,
    });
  }
}
