/**
 * Optional API tokens: when the secret `API_TOKENS` holds any, a route behind {@linkcode apiTokens}
 * answers only requests with `Authorization: Bearer <one of them>`; unset, it is open to everyone.
 *
 * @example
 * ```ts ignore
 * app.use("/classify", apiTokens());
 * ```
 */
import type { MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { ApiError } from "../api_error.ts";
import type { AppEnv, Env } from "../env.ts";

/** The realm of every `WWW-Authenticate` challenge (RFC 6750 §3). */
export const REALM = "mnist-edge";

/** What a Bearer header may carry (RFC 6750 §2.1, b64token): bearerAuth refuses anything else. */
const B64TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

// The secret is the same string for every request of a deployment: parse it (and build its checker) once.
let cached:
  | { raw: string; tokens: string[]; check: MiddlewareHandler<AppEnv> | undefined }
  | undefined;

/**
 * The tokens `API_TOKENS` holds: comma-separated, whitespace trimmed, empty entries ignored.
 *
 * @param env The Worker's bindings (or Deno's environment).
 * @returns The tokens; empty when none are configured and the inference routes are open.
 */
export function tokensFrom(env: Pick<Env, "API_TOKENS"> | undefined): string[] {
  return parse(env?.API_TOKENS ?? "").tokens;
}

/**
 * Requires `Authorization: Bearer <token>` with one of `API_TOKENS` (compared in constant time by
 * Hono's `bearerAuth`); passes every request when `API_TOKENS` is unset or empty. Read per request,
 * so the tokens of a new `wrangler secret put API_TOKENS` hold from the first request that sees them.
 *
 * @returns The middleware.
 * @throws ApiError 401 `unauthorized` without a token or with a wrong one (`WWW-Authenticate:
 *   Bearer realm="mnist-edge"`, plus `error="invalid_token"` for a wrong one); 400
 *   `invalid_authorization` when the header is not `Bearer <token>`; 503 `misconfigured` when a
 *   configured token holds characters no Bearer header can carry.
 */
export function apiTokens(): MiddlewareHandler<AppEnv> {
  return async function apiTokens(c, next) {
    const { check } = parse(c.env?.API_TOKENS ?? "");
    if (!check) return await next();
    await check(c, next);
  };
}

function parse(raw: string): NonNullable<typeof cached> {
  if (cached?.raw === raw) return cached;
  const tokens = raw.split(",").map((token) => token.trim()).filter((token) => token !== "");
  const unusable = tokens.findIndex((token) => !B64TOKEN.test(token));
  // A token no client can send would lock everyone out silently: say so on every request instead.
  const check: MiddlewareHandler<AppEnv> | undefined = unusable >= 0
    ? () => {
      throw new ApiError(
        503,
        "misconfigured",
        `API_TOKENS entry ${unusable + 1} holds characters a Bearer header cannot carry ` +
          "(allowed: A–Z, a–z, 0–9 and . _ ~ + / -, then any number of =)",
      );
    }
    : tokens.length
    ? bearerAuth({
      token: tokens,
      // bearerAuth answers in plain text; these turn each of its refusals into the API's error shape.
      noAuthenticationHeader: { message: () => refuse(401, "") },
      // Another scheme (Basic, …) is no Bearer attempt at all: RFC 6750 §3 asks for the bare challenge.
      invalidAuthenticationHeader: {
        message: (c) =>
          /^bearer /i.test(c.req.header("authorization") ?? "")
            ? refuse(400, ', error="invalid_request"')
            : refuse(401, ""),
      },
      invalidToken: { message: () => refuse(401, ', error="invalid_token"') },
    })
    : undefined;
  cached = { raw, tokens, check };
  return cached;
}

function refuse(status: 400 | 401, error: string): never {
  const headers = { "www-authenticate": `Bearer realm="${REALM}"${error}` };
  if (status === 400) {
    throw new ApiError(
      400,
      "invalid_authorization",
      "the Authorization header must be `Bearer <token>`, the token made of A–Z, a–z, 0–9 and . _ ~ + / -",
      { headers },
    );
  }
  throw new ApiError(
    401,
    "unauthorized",
    error
      ? "the API token is not one this server accepts"
      : "this server requires an API token: send `Authorization: Bearer <token>`",
    { headers },
  );
}
