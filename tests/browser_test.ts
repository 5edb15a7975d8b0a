/**
 * The drawing page at GET / in a real browser (headless Chromium through playwright-core) against the
 * Worker in the real runtime (`wrangler dev`, local workerd). Passing proves that every digit 0–9 drawn
 * with the mouse the way people draw — thick strokes, off-centre, not filling the pad — is read right
 * live, that an uploaded photo is classified, that a rejected upload, an empty pad and a network
 * failure each say so, and that the page runs under its own strict Content-Security-Policy.
 * Screenshots (light, dark, phone) land in test-output/; docs/screenshot*.png are copies of them.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type Browser, chromium, type Page } from "playwright-core";
import { offCentreJpeg } from "./support/client_images.ts";
import { DRAWN_DIGITS, type DrawnDigit, strokePath } from "./support/drawn_digits.ts";
import { loadTestDigits } from "./support/mnist_test_set.ts";
import { startWranglerDev } from "./support/wrangler.ts";

const CHROMIUM = "/usr/bin/chromium";
const OUTPUT = new URL("../test-output/", import.meta.url).pathname;
/** The digit on screen in the light and dark screenshots. */
const SCREENSHOT_DIGIT = DRAWN_DIGITS.find((d) => d.digit === 7)!;

/** What the page shows once it has settled. */
interface Shown {
  prediction: string;
  message: string;
  /** The 28×28 image the model saw, as text: one row a line, darker characters for brighter ink. */
  seen: string;
}

/** The part of the page's window read here (the test is type-checked without the DOM library). */
interface Window {
  document: {
    getElementById(id: string): { ariaBusy: string | null } | null;
    documentElement: { scrollWidth: number };
  };
}

/** The part of a canvas element read here (the test is type-checked without the DOM library). */
interface Canvas2d {
  getContext(kind: "2d"): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}

async function launchChromium(): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** Presses, moves and releases the mouse along each stroke, as a hand would. */
async function draw(page: Page, drawn: DrawnDigit): Promise<void> {
  const box = await page.getByTestId("pad").boundingBox();
  assert.ok(box, "the pad is on screen");
  for (const stroke of drawn.strokes) {
    const [first, ...rest] = strokePath(stroke, drawn.place, box.width);
    await page.mouse.move(box.x + first![0], box.y + first![1]);
    await page.mouse.down();
    for (const [x, y] of rest) await page.mouse.move(box.x + x, box.y + y, { steps: 1 });
    await page.mouse.up();
  }
}

/** Waits until the newest answer (or refusal) is on screen, then reads it. */
async function settled(page: Page): Promise<Shown> {
  // Checked every frame: a locator's polling backs off to a second, longer than an answer takes.
  await page.waitForFunction(() =>
    (globalThis as unknown as Window).document.getElementById("result")?.ariaBusy === "false"
  );
  const seen = await page.getByTestId("seen").evaluate((element) => {
    const { data } = (element as unknown as Canvas2d).getContext("2d").getImageData(0, 0, 28, 28);
    const rows: string[] = [];
    for (let y = 0; y < 28; y++) {
      let row = "";
      for (let x = 0; x < 28; x++) row += " .:-=+*#%@"[Math.floor(data[(y * 28 + x) * 4]! / 25.6)];
      rows.push(row);
    }
    return rows.join("\n");
  });
  return {
    prediction: await page.getByTestId("prediction").innerText(),
    message: await page.getByTestId("message").innerText(),
    seen,
  };
}

async function clear(page: Page): Promise<Shown> {
  await page.getByTestId("clear").click();
  return await settled(page);
}

Deno.test("the drawing page reads digits drawn with the mouse, uploads, and explains failures", async (t) => {
  await Deno.mkdir(OUTPUT, { recursive: true });
  await using worker = await startWranglerDev();
  const browser = await launchChromium();
  await using _closed = { [Symbol.asyncDispose]: () => browser.close() };
  const context = await browser.newContext({
    viewport: { width: 960, height: 760 },
    reducedMotion: "reduce", // bars at their final length in screenshots
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  // Failed requests are logged too; the steps below cause two on purpose (415 and a cut network).
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) {
      problems.push(`console: ${m.text()}`);
    }
  });

  const res = await page.goto(worker.url);
  assert.equal(res?.status(), 200);
  assert.match(res.headers()["content-security-policy"] ?? "", /script-src 'sha256-/);

  await t.step("every digit 0–9, drawn with the mouse in two hands, is read right", async () => {
    const wrong: string[] = [];
    for (const drawn of DRAWN_DIGITS) {
      await clear(page);
      await draw(page, drawn);
      const shown = await settled(page);
      console.log(`  drew ${drawn.digit} (${drawn.style}) → ${shown.message}`);
      if (shown.prediction !== String(drawn.digit)) {
        wrong.push(
          `drew ${drawn.digit} (${drawn.style}), the page says ${shown.prediction}; ` +
            `the model saw:\n${shown.seen}`,
        );
      }
      if (drawn === SCREENSHOT_DIGIT) {
        await page.screenshot({ path: `${OUTPUT}page-light.png`, fullPage: true });
        await page.emulateMedia({ colorScheme: "dark" });
        await page.screenshot({ path: `${OUTPUT}page-dark.png`, fullPage: true });
        await page.emulateMedia({ colorScheme: "light" });
      }
    }
    assert.deepEqual(wrong, []);
  });

  await t.step("the ten bars show the probabilities, the answer's the longest", async () => {
    const values = await Promise.all(
      Array.from(
        { length: 10 },
        async (_, d) => Number(await page.getByTestId(`prob-${d}`).getAttribute("data-value")),
      ),
    );
    assert.ok(Math.abs(values.reduce((a, b) => a + b) - 1) < 0.01, `${values}`);
    assert.equal(values.indexOf(Math.max(...values)), Number((await settled(page)).prediction));
  });

  await t.step("an uploaded photo of a digit is classified", async () => {
    const { digits, labels } = await loadTestDigits();
    const index = labels.indexOf(3);
    const photo = offCentreJpeg(digits[index]!, 5);
    await page.getByTestId("file").setInputFiles({
      name: "three.jpg",
      mimeType: photo.type,
      buffer: Buffer.from(photo.bytes),
    });
    const shown = await settled(page);
    assert.equal(shown.prediction, "3", `${shown.message}; the model saw:\n${shown.seen}`);
  });

  await t.step("a file that is not an image is rejected with the server's reason", async () => {
    await page.getByTestId("file").setInputFiles({
      name: "notes.txt",
      mimeType: "text/plain",
      buffer: Buffer.from("not a digit"),
    });
    const shown = await settled(page);
    assert.equal(shown.prediction, "");
    assert.match(shown.message, /^That file was rejected: .+/);
  });

  await t.step("a cleared pad says it is empty", async () => {
    const shown = await clear(page);
    assert.equal(shown.prediction, "");
    assert.match(shown.message, /pad is empty/);
    await page.screenshot({ path: `${OUTPUT}page-empty.png`, fullPage: true });
  });

  await t.step("a network failure says so", async () => {
    await page.route("**/classify**", (route) => route.abort("internetdisconnected"));
    await draw(page, DRAWN_DIGITS[1]!);
    const shown = await settled(page);
    await page.unroute("**/classify**");
    assert.equal(shown.prediction, "");
    assert.match(shown.message, /network error/);
  });

  await t.step("on a phone the pad fits the screen and still reads a digit", async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      reducedMotion: "reduce",
      hasTouch: true,
    });
    const small = await phone.newPage();
    await small.goto(worker.url);
    const box = await small.getByTestId("pad").boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `pad at ${JSON.stringify(box)}`);
    const width = await small.evaluate(() =>
      (globalThis as unknown as Window).document.documentElement.scrollWidth
    );
    assert.ok(width <= 390, `the page is ${width} px wide: it scrolls sideways`);
    await draw(small, DRAWN_DIGITS[4]!);
    assert.equal((await settled(small)).prediction, "4");
    await small.screenshot({ path: `${OUTPUT}page-phone.png`, fullPage: true });
    await phone.close();
  });

  assert.deepEqual(problems, [], "no script errors or CSP violations");
});
