/**
 * The drawing page at GET /: a wide pad to write a number on (mouse, pen or finger), live answers with
 * each digit's confidence, its box over the pad and the 28×28 image the model saw, photo upload (or
 * the phone's camera), and how to do the same from curl. One self-contained HTML document with inline
 * CSS and the script from page/client.js, no framework: it calls the same POST /read as curl does.
 */
import type { Context } from "hono";
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { AppEnv } from "./env.ts";
import { tokensFrom } from "./middleware/api_tokens.ts";
// The browser script as text, inlined as it is on disk: the hash in the CSP is the hash of this file.
import SCRIPT from "./page/client.js" with { type: "text" };

// overflow-anchor:none — an answer's tiles appearing below the pad must not scroll the page, and
// so move the pad, under a pen that is still writing.
const STYLE = `
:root{color-scheme:light dark;--bg:#f6f6f3;--fg:#1b1b1b;--muted:#5d5d5d;--card:#fff;--line:#d5d5d0;
--accent:#2557d6;--bad:#b3261e}
@media (prefers-color-scheme:dark){:root{--bg:#15171a;--fg:#ececec;--muted:#a4a4a4;--card:#1f2226;
--line:#3a3e44;--accent:#8ab0ff;--bad:#ff8a80}#pad{filter:invert(.92)}}
*{box-sizing:border-box}[hidden]{display:none!important}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.45 system-ui,sans-serif;
overflow-anchor:none}
main{max-width:50rem;margin:0 auto;padding:.8rem 1rem}
h1{font-size:1.4rem;margin:0}h2{font-size:1rem;margin:1.2rem 0 .5rem}
p{margin:.3rem 0}.muted{color:var(--muted)}
.drop{position:relative;border:2px dashed var(--line);border-radius:12px;padding:4px;background:var(--card);
margin-top:.6rem}
.drop.over{border-color:var(--accent)}
#pad{display:block;width:100%;aspect-ratio:3;border-radius:8px;touch-action:none;cursor:crosshair}
#photo,#boxes{position:absolute;inset:4px;width:calc(100% - 8px);height:calc(100% - 8px);
pointer-events:none}
#photo{object-fit:contain;background:#fff;border-radius:8px}
#boxes{overflow:visible}
#boxes rect{fill:none;stroke:var(--accent);stroke-width:2px;vector-effect:non-scaling-stroke}
.tools{display:flex;gap:.5rem;margin-top:.6rem;flex-wrap:wrap;align-items:center}
button,.pick{font:inherit;padding:.45rem .9rem;border-radius:8px;border:1px solid var(--line);
background:var(--card);color:var(--fg);cursor:pointer}
.pick:focus-within,button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.pick input{position:absolute;opacity:0;width:1px;height:1px}
@media (hover:hover) and (pointer:fine){.camera{display:none}}
.answer{display:flex;flex-wrap:wrap;align-items:center;gap:.2rem 1rem;margin-top:.8rem}
#prediction{flex:none;max-width:100%;overflow-wrap:anywhere;font-size:4rem;font-weight:700;line-height:1;
min-width:3rem;text-align:center;white-space:pre-line;font-variant-numeric:tabular-nums}
#prediction:empty::before{content:"–";color:var(--muted)}
#msg{flex:1 1 12rem;min-height:3em}#msg.error{color:var(--bad)}
[aria-busy=true] #prediction{opacity:.5}
#digits{list-style:none;padding:0;margin:.6rem 0;display:flex;flex-wrap:wrap;gap:.5rem}
#digits li{display:grid;grid-template-columns:1fr auto;gap:.2rem .4rem;align-items:baseline;width:5.2rem;
padding:.4rem;border:1px solid var(--line);border-radius:8px;background:var(--card);
font-variant-numeric:tabular-nums}
#digits canvas{grid-column:1/-1;width:100%;aspect-ratio:1;image-rendering:pixelated;background:#000}
#digits b{font-size:1.2rem}
.bar{grid-column:1/-1;height:.5rem;background:var(--bg);border-radius:4px;overflow:hidden}
.bar i{display:block;height:100%;background:var(--accent)}
pre{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.6rem;overflow-x:auto;
font-size:.85rem}
a{color:var(--accent)}p code{overflow-wrap:anywhere}
.auth{display:flex;flex-wrap:wrap;gap:.4rem .5rem;align-items:center;margin:.6rem 0;padding:.6rem;
border:1px solid var(--line);border-radius:8px;background:var(--card)}
.auth p{flex-basis:100%;font-size:.9rem}
#token{font:inherit;flex:1 1 6rem;min-width:0;padding:.4rem .5rem;border-radius:8px;
border:1px solid var(--muted);background:var(--bg);color:var(--fg)}
#token:focus-visible{outline:3px solid var(--accent);outline-offset:1px}
#token[aria-invalid=true]{border-color:var(--bad)}
#keyed button{padding:.1rem .5rem;font-size:.9rem}
@media (max-width:40rem){main{padding:.6rem .5rem}.hint{display:none}#prediction{font-size:3rem}
#msg{min-height:0}}
`;

/**
 * The "use it from curl" lines, joined here so formatting the template cannot indent them. When the
 * server requires an API token, each line sends one.
 */
function curlExamples(origin: string, needsToken: boolean): string {
  const curl = needsToken ? "curl -H 'Authorization: Bearer <token>'" : "curl";
  return [
    `${curl} -F image=@number.png ${origin}/read`,
    `${curl} --data-binary @number.jpg -H 'content-type: image/jpeg' ${origin}/read`,
    `${curl} -F image=@number.png '${origin}/read?debug=1'   # + each digit's 28×28 image`,
    `${curl} -F image=@digit.png ${origin}/classify   # one digit, with all ten probabilities`,
  ].join("\n");
}

let scriptHash: Promise<string> | undefined;

/** The CSP source for the inline script: only this exact script may run. */
function scriptSource(): Promise<string> {
  scriptHash ??= crypto.subtle.digest("SHA-256", new TextEncoder().encode(SCRIPT)).then(
    (digest) => `'sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}'`,
  );
  return scriptHash;
}

/**
 * Answers GET / with the drawing page. The curl examples name the origin the page was asked for, and
 * send an API token when the server requires one (the page itself asks for one on its first 401).
 *
 * @param c The request's context.
 * @returns The page, with a Content-Security-Policy that allows nothing from other origins.
 */
export async function drawingPage(c: Context<AppEnv>): Promise<Response> {
  c.header(
    "Content-Security-Policy",
    `default-src 'none'; script-src ${await scriptSource()}; style-src 'unsafe-inline'; ` +
      "img-src blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  );
  return c.html(pageHtml(new URL(c.req.url).origin, tokensFrom(c.env).length > 0));
}

/**
 * The page itself: the pad with each digit's box over it, the answer with a tile for each digit
 * (filled in by the script), the API token form (hidden until the server asks for a token), the
 * curl lines.
 */
function pageHtml(
  origin: string,
  needsToken: boolean,
): HtmlEscapedString | Promise<HtmlEscapedString> {
  return html`
    <!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width,initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <title>mnist-edge: write a number</title>
        <style>${raw(STYLE)}</style>
      </head>
      <body>
        <main>
          <h1>Write a number</h1>
          <p
            class="muted">A small neural network trained on MNIST reads it digit by digit as you write.</p>
          <section aria-label="Drawing pad">
            <div class="drop" id="drop">
              <canvas id="pad" data-testid="pad" width="1350" height="450" role="img"
                aria-label="Drawing pad: write a number with mouse, pen or finger, or drop an image file here"></canvas>
              <img id="photo" hidden alt="">
              <svg id="boxes" data-testid="boxes" aria-hidden="true"></svg>
            </div>
            <div class="tools">
              <button type="button" id="clear" data-testid="clear">Clear</button>
              <label
                class="pick">Upload an image…<input type="file" id="file" data-testid="file" accept="image/*"></label>
              <label
                class="pick camera">Take a photo<input type="file" id="camera" data-testid="camera"
                accept="image/*" capture="environment"></label>
              <p class="muted hint">No mouse or touch? Upload a photo or scan of a number.</p>
            </div>
          </section>
          <section id="result" aria-label="Prediction" aria-busy="false">
            <div class="answer">
              <div id="prediction" data-testid="prediction" aria-hidden="true"></div>
              <p id="msg" data-testid="message" role="status" aria-live="polite"
                aria-atomic="true">Write a number on the pad: the answer updates as you write.</p>
            </div>
            <form class="auth" id="auth" hidden>
              <label for="token">API token</label>
              <input type="password" id="token" data-testid="token" autocomplete="current-password"
                spellcheck="false" aria-describedby="token-note">
              <button type="submit" id="token-save" data-testid="token-save">Save</button>
              <p class="muted" id="token-note">This server is private. The token is kept in this
                browser and sent only to this site.</p>
            </form>
            <p class="muted" id="keyed" hidden>This browser sends your saved API token.
              <button type="button" id="forget" data-testid="token-forget">Forget it</button></p>
            <ol id="digits" data-testid="digits" aria-label="Each digit read, left to right"></ol>
            <p
              class="muted">Each box on the pad is one digit as the server found it. Above, what the model saw of each: cropped, scaled to 20×20 and centred in 28×28, as in MNIST, and how sure it is.</p>
            <p class="muted" id="sent" data-testid="sent"></p>
          </section>
          <h2>Use it from curl</h2>
          <pre><code>${curlExamples(origin, needsToken)}</code></pre>
          <p class="muted">PNG, JPEG, WebP, GIF or BMP. Answers
    <code>{"text":"42","digits":[{"digit":4,"confidence":0.99,"box":{…}},…]}</code>, boxes in the
    image's pixels. See also <a href="/model">/model</a>, <a href="/health">/health</a> and
    <a href="/openapi.json">/openapi.json</a>.</p>
        </main>
        <script type="module">${raw(SCRIPT)}</script>
      </body>
    </html>
  `;
}
