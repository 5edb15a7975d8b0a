/**
 * Checks real answers against the app's own OpenAPI document: the operation must exist, the status must
 * be one it documents, the headers it requires must be there, and a JSON body must match that
 * response's schema (JSON Schema 2020-12, as OpenAPI 3.1 uses, by Ajv). Used by the tests in Deno
 * and against workerd.
 *
 * @example
 * ```ts ignore
 * const check = answerChecker(await (await fetch(`${url}/openapi.json`)).json());
 * assert.deepEqual(await check("post", "/classify", res), []);
 * ```
 */
import { Ajv2020 } from "ajv/dist/2020.js";

/** An OpenAPI 3.1 document, as far as the checker reads it. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
}

interface ResponseObject {
  headers?: Record<string, { required?: boolean }>;
  content?: Record<string, { schema?: unknown }>;
}

/**
 * A checker of answers against `document`.
 *
 * @param document The OpenAPI 3.1 document (as GET /openapi.json serves it).
 * @returns `check(method, path, response)`: the ways the answer disagrees with the document, or [].
 *   `path` is the document's template (`/v2/models/{name}/infer`). The response body is read.
 */
export function answerChecker(
  document: OpenApiDocument,
): (method: string, path: string, response: Response) => Promise<string[]> {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema(document as object, "openapi.json");
  return async (method, path, response) => {
    const text = await response.text();
    const operation = document.paths[path]?.[method.toLowerCase()];
    if (!operation) return [`${method} ${path} is not in the document`];
    const status = String(response.status);
    const documented = operation.responses[status] ?? operation.responses.default;
    if (!documented) return [`${method} ${path} does not document status ${status}: ${text}`];
    const missing = Object.entries(documented.headers ?? {})
      .filter(([name, header]) => header.required && !response.headers.has(name))
      .map(([name]) => `${method} ${path} ${status}: no ${name} header`);
    if (missing.length) return missing;
    const type = response.headers.get("content-type")?.split(";")[0]?.trim() ?? "";
    const content = documented.content ?? {};
    if (!(type in content)) {
      return [
        `${method} ${path} ${status}: ${type} is not among ${Object.keys(content).join(", ")}`,
      ];
    }
    if (type !== "application/json") return [];
    const pointer = ["paths", path, method.toLowerCase(), "responses", status, "content", type]
      .map((part) => part.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");
    const validate = ajv.getSchema(`openapi.json#/${pointer}/schema`);
    if (!validate) return [`${method} ${path} ${status}: no schema for ${type}`];
    if (validate(JSON.parse(text))) return [];
    return (validate.errors ?? []).map((e) =>
      `${method} ${path} ${status}: ${e.instancePath || "/"} ${e.message} (${text.slice(0, 200)})`
    );
  };
}
