/**
 * GET / through `app.request()`, no server or browser: browsers get the drawing page, curl gets the
 * usage text. Passing proves the page carries the hooks the browser test (browser_test.ts) relies on,
 * has a wide pad for a number, offers the phone's camera and a form for an API token, stays small,
 * shows curl calling POST /read and sending a token only when the server requires one, and that its
 * inline script — src/server/page/client.js as
 * it is on disk — is exactly the one its Content-Security-Policy allows.
 */
import assert from "node:assert/strict";
import { createApp } from "../src/server/app.ts";
import { createModelRegistry } from "../src/model/registry.ts";

const app = createApp({
  models: createModelRegistry(
    { default: "mnist-cnn", models: ["mnist-cnn"] },
    () => Promise.reject(new Error("GET / needs no model")),
  ),
});
const BROWSER = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" };
/**
 * The page should load in one round trip on a slow phone connection: TCP's first window is ten
 * segments, ~14 KB, of the gzipped page as the edge sends it.
 */
const PAGE_BUDGET_GZIP_BYTES = 14 * 1024;

async function gzipSize(text: string): Promise<number> {
  const gzipped = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(gzipped).arrayBuffer()).byteLength;
}

Deno.test("GET / gives browsers the drawing page with its test hooks", async () => {
  const res = await app.request("http://mnist.test/", { headers: BROWSER });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
  assert.equal(res.headers.get("vary"), "Accept");
  const page = await res.text();
  for (
    const hook of [
      "pad",
      "boxes",
      "clear",
      "prediction",
      "digits",
      "file",
      "camera",
      "sent",
      "token",
      "token-save",
      "token-forget",
    ]
  ) {
    assert.match(page, new RegExp(`data-testid="${hook}"`), hook);
  }
  const pad = /<canvas id="pad" [^>]*width="(\d+)" height="(\d+)"/.exec(page);
  assert.ok(pad, "the pad has a size");
  assert.equal(Number(pad[1]), 3 * Number(pad[2]), "the pad is three times as wide as tall");
  assert.match(page, /#pad\{[^}]*aspect-ratio:3[;}]/, "and shown so");
  assert.match(page, /curl -F image=@number\.png http:\/\/mnist\.test\/read\n/);
  assert.match(page, /&#39;http:\/\/mnist\.test\/read\?debug=1&#39;/);
  assert.match(page, /<input [^>]*data-testid="camera"[^>]*capture="environment"/);
  assert.match(page, /<input type="password" id="token" data-testid="token"/);
  assert.match(page, /<label for="token">API token<\/label>/);
  assert.match(page, /<form class="auth" id="auth" hidden>/, "the token form waits for a 401");
  assert.doesNotMatch(page, /Authorization: Bearer/, "an open server needs no token");
  const bytes = await gzipSize(page);
  assert.ok(bytes <= PAGE_BUDGET_GZIP_BYTES, `the page is ${bytes} bytes gzipped`);
});

Deno.test("GET / shows curl sending an API token when the server requires one", async () => {
  const res = await app.request("http://mnist.test/", { headers: BROWSER }, {
    API_TOKENS: "first-token, second-token",
  });
  assert.equal(res.status, 200);
  const examples = /<pre><code>([\s\S]*?)<\/code><\/pre>/.exec(await res.text())?.[1] ?? "";
  const lines = examples.split("\n");
  assert.equal(lines.length, 4);
  for (const line of lines) {
    assert.match(
      line,
      /^curl -H &#39;Authorization: Bearer &lt;token&gt;&#39; .*\/(read|classify)/,
    );
  }
  assert.doesNotMatch(examples, /first-token|second-token/, "the tokens themselves stay secret");
});

Deno.test("GET / allows only the page's own inline script", async () => {
  const res = await app.request("/", { headers: BROWSER });
  const csp = res.headers.get("content-security-policy") ?? "";
  const script = /<script type="module">([\s\S]*)<\/script>/.exec(await res.text())?.[1] ?? "";
  assert.equal(
    script,
    await Deno.readTextFile(new URL("../src/server/page/client.js", import.meta.url)),
  );
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(script));
  const hash = btoa(String.fromCharCode(...new Uint8Array(digest)));
  assert.match(csp, /default-src 'none'/);
  assert.ok(csp.includes(`script-src 'sha256-${hash}'`), csp);
});

Deno.test("GET / gives curl the usage text", async () => {
  const res = await app.request("http://mnist.test/", { headers: { accept: "*/*" } });
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
  const usage = await res.text();
  assert.match(usage, /POST \/classify/);
  assert.match(usage, /POST \/read/);
});
