/**
 * The drawing page at GET / in a real browser (headless Chromium through playwright-core) against the
 * Worker in the real runtime (`wrangler dev`, local workerd). Passing proves that the 20 digits of
 * scripts/lib/drawn_digits.ts drawn with the mouse, and five drawn with one finger on an emulated
 * phone, are each read right live, as one digit; that numbers of two to four digits written with
 * those strokes side by side across the pad, with the mouse and with a finger, are read right, each
 * digit boxed over the pad where it was written; that the page answers soon after pen-up (a loose
 * p50 bound only: `deno task bench:page` measures the real figure); that the pad goes out as a small
 * grey PNG; that a phone photo of a number is read as that number with each digit's box on the photo,
 * and a 12 MP phone photo turned by its EXIF orientation is read right and sent shrunk; that screen readers
 * get one live answer and a labelled pad, Clear is reachable from the keyboard and text meets WCAG AA
 * contrast in light and dark; that a rejected upload, an empty pad and a network failure each say so;
 * that over the rate limit it waits calmly and retries the newest drawing once; that on a server
 * requiring an API token it asks for one, says when one is refused, keeps the right one across a
 * reload and forgets it when asked; and that the page runs under its own strict
 * Content-Security-Policy. Both servers run with `RATE_LIMIT = "off"`: the test draws faster than a
 * person. Screenshots (light, dark, phone, the token form) land in test-output/; docs/screenshot*.png
 * are copies of some of them.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Browser, Page } from "playwright-core";
import { offCentreJpeg } from "../scripts/lib/client_images.ts";
import { DRAWN_DIGITS, strokePath } from "../scripts/lib/drawn_digits.ts";
import { loadTestDigits } from "../scripts/lib/mnist_test_set.ts";
import { type Box, numberPhoto, overlap, writeNumber } from "../scripts/lib/number_images.ts";
import {
  bytesSent,
  clear,
  drawWithFinger,
  drawWithMouse,
  installProbe,
  launchChromium,
  medianAndMax,
  numberStrokes,
  padStrokes,
  penUpToAnswerMs,
  readProbe,
  settled,
  type Shown,
  type Writing,
} from "../scripts/lib/page_driver.ts";
import { startWranglerDev } from "../scripts/lib/wrangler.ts";

const OUTPUT = new URL("../test-output/", import.meta.url).pathname;
/** Numbers written with the mouse across the pad; the last is on screen in the light and dark screenshots. */
const NUMBERS = ["42", "907", "31", "586", "1234", "2026"];
/** The pad goes out at this size: the unit of the boxes the server answers. */
const SENT = { width: 450, height: 150 };
/** How far a box may stray past the ink drawn, in pixels sent: the server finds ink on a smaller map. */
const BOX_SLACK = 3;
/** The pad as a grey PNG: one digit, and a number of four. */
const PAD_DIGIT_BYTES = 2048, PAD_NUMBER_BYTES = 4096;
/** Loose enough for a loaded CI machine; the page without client-side encoding took 1,162 ms. */
const PEN_UP_P50_BOUND_MS = 400;
/** WCAG AA: 4.5:1 for text, 3:1 for large text (≥ 24 px, or ≥ 18.66 px bold). */
const AA_TEXT = 4.5, AA_LARGE_TEXT = 3;
/** The phone's screen in CSS pixels (an iPhone SE's). */
const PHONE = { width: 375, height: 667 };
/** The API token of the private server, and one it does not accept. */
const TOKEN = "page-test.token_1", WRONG_TOKEN = "not-the-token";

/** The page's globals read by these tests (they have no DOM library). */
interface Globals {
  document: {
    activeElement: { id: string } | null;
    getElementById(id: string): { textContent: string | null } | null;
  };
  localStorage: { getItem(key: string): string | null };
}

/** Collects script errors and CSP violations; failed requests are expected in some steps. */
function watchProblems(page: Page, problems: string[]): void {
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) {
      problems.push(`console: ${m.text()}`);
    }
  });
}

/** Elements with text of their own whose colour falls short of AA against what is behind them. */
async function lowContrastText(page: Page): Promise<string[]> {
  return await page.evaluate(({ text, large }) => {
    interface Styled {
      tagName: string;
      id: string;
      textContent: string | null;
      childNodes: ArrayLike<{ nodeType: number; textContent: string | null }>;
      parentElement: Styled | null;
      checkVisibility(): boolean;
    }
    interface Style {
      color: string;
      backgroundColor: string;
      fontSize: string;
      fontWeight: string;
    }
    const g = globalThis as unknown as {
      document: { querySelectorAll(s: string): Styled[] };
      getComputedStyle(e: Styled): Style;
    };
    const rgba = (css: string) => (css.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r, gr, b]: number[]) => {
      const lin = (c: number) => (c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      return 0.2126 * lin(r!) + 0.7152 * lin(gr!) + 0.0722 * lin(b!);
    };
    const behind = (e: Styled | null): number[] => {
      for (; e; e = e.parentElement) {
        const bg = rgba(g.getComputedStyle(e).backgroundColor);
        if ((bg[3] ?? 1) > 0) return bg;
      }
      return [255, 255, 255];
    };
    const short: string[] = [];
    for (const e of g.document.querySelectorAll("body *")) {
      const own = Array.from(e.childNodes).some((n) => n.nodeType === 3 && n.textContent?.trim());
      if (!own || !e.checkVisibility()) continue;
      const style = g.getComputedStyle(e);
      const [fg, bg] = [luminance(rgba(style.color)), luminance(behind(e))];
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      const px = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
      const needed = px >= 24 || (px >= 18.66 && bold) ? large : text;
      if (ratio < needed) {
        short.push(
          `${e.tagName}#${e.id} "${e.textContent?.trim().slice(0, 30)}": ${ratio.toFixed(2)}`,
        );
      }
    }
    return short;
  }, { text: AA_TEXT, large: AA_LARGE_TEXT });
}

/** A 4032×3024 JPEG as a phone stores a portrait photo: pixels on their side, EXIF Orientation 6. */
async function portraitPhoneJpeg(browser: Browser, digit: Uint8Array): Promise<Uint8Array> {
  const page = await browser.newPage();
  const base64 = await page.evaluate(async (ink: number[]) => {
    interface Ctx {
      fillStyle: string;
      imageSmoothingQuality: string;
      fillRect(x: number, y: number, w: number, h: number): void;
      createImageData(w: number, h: number): { data: Uint8ClampedArray };
      putImageData(img: unknown, x: number, y: number): void;
      drawImage(src: unknown, x: number, y: number, w?: number, h?: number): void;
      translate(x: number, y: number): void;
      rotate(a: number): void;
    }
    interface Canvas {
      getContext(kind: "2d"): Ctx;
      convertToBlob(o: { type: string; quality: number }): Promise<Blob>;
    }
    const { OffscreenCanvas } = globalThis as unknown as {
      OffscreenCanvas: new (w: number, h: number) => Canvas;
    };
    // Upright: paper with grain and a darker corner, the digit 1,800 px tall, a little off-centre.
    const upright = new OffscreenCanvas(3024, 4032), up = upright.getContext("2d");
    const paper = up.createImageData(3024, 4032);
    for (let i = 0, p = 0; i < 3024 * 4032; i++, p += 4) {
      const shade = 236 - ((i % 3024) + i / 3024) / 300 + Math.random() * 16;
      paper.data[p] = shade;
      paper.data[p + 1] = shade - 3;
      paper.data[p + 2] = shade - 10;
      paper.data[p + 3] = 255;
    }
    up.putImageData(paper, 0, 0);
    const small = new OffscreenCanvas(28, 28), ctx = small.getContext("2d");
    const img = ctx.createImageData(28, 28);
    ink.forEach((v, i) => img.data.set([40, 40, 40, v], i * 4));
    ctx.putImageData(img, 0, 0);
    up.imageSmoothingQuality = "high";
    up.drawImage(small, 500, 1300, 1800, 1800);
    // Stored as the sensor saw it: turned a quarter anticlockwise, 4032 wide.
    const stored = new OffscreenCanvas(4032, 3024), out = stored.getContext("2d");
    out.translate(0, 3024);
    out.rotate(-Math.PI / 2);
    out.drawImage(upright, 0, 0);
    const bytes = new Uint8Array(
      await (await stored.convertToBlob({ type: "image/jpeg", quality: 0.92 })).arrayBuffer(),
    );
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary);
  }, Array.from(digit));
  await page.close();
  return withExifOrientation(new Uint8Array(Buffer.from(base64, "base64")), 6);
}

/** `jpeg` with an EXIF APP1 segment holding only Orientation, placed after SOI and any JFIF APP0. */
function withExifOrientation(jpeg: Uint8Array, orientation: number): Uint8Array {
  const app1 = new Uint8Array(36), view = new DataView(app1.buffer);
  app1.set([0xff, 0xe1]);
  view.setUint16(2, app1.length - 2); // the length counts itself, not the marker
  app1.set([0x45, 0x78, 0x69, 0x66, 0, 0], 4); // "Exif\0\0"
  app1.set([0x4d, 0x4d, 0, 42], 10); // TIFF, big-endian
  view.setUint32(14, 8); // IFD0 right after the TIFF header
  view.setUint16(18, 1); // one entry:
  view.setUint16(20, 0x0112); // Orientation,
  view.setUint16(22, 3); // SHORT,
  view.setUint32(24, 1); // one value,
  view.setUint16(28, orientation); // left-justified in the value field
  view.setUint32(32, 0); // no IFD1
  assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8], "a JPEG starts with SOI");
  let at = 2;
  if (jpeg[2] === 0xff && jpeg[3] === 0xe0) at += 2 + ((jpeg[4]! << 8) | jpeg[5]!);
  const out = new Uint8Array(jpeg.length + app1.length);
  out.set(jpeg.subarray(0, at));
  out.set(app1, at);
  out.set(jpeg.subarray(at), at + app1.length);
  return out;
}

/** The id of the element with the keyboard focus, or "". */
async function focusedId(page: Page): Promise<string> {
  return await page.evaluate(() =>
    (globalThis as unknown as Globals).document.activeElement?.id ?? ""
  );
}

/** Waits until the page shows a digit (not "–"), e.g. after a retry it scheduled itself. */
async function predictionShown(page: Page): Promise<void> {
  await page.waitForFunction(() =>
    ((globalThis as unknown as Globals).document.getElementById("prediction")?.textContent ??
      "") !==
      ""
  );
}

/**
 * Where each digit of `what` was drawn, in pixels sent: the box around its pen's path (the ink
 * reaches half a pen's width further).
 */
function drawnBoxes(what: Writing): Box[] {
  const digits = typeof what === "string" ? numberStrokes(what, SENT.width / SENT.height) : [what];
  return digits.map((d) => {
    const points = typeof what === "string"
      ? d.strokes.flatMap((stroke) => strokePath(stroke, d.place, SENT.height))
      : padStrokes(d, SENT.width, SENT.height).flat();
    const xs = points.map(([x]) => x), ys = points.map(([, y]) => y);
    const [x, y] = [Math.min(...xs), Math.min(...ys)];
    return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
  });
}

/**
 * What is wrong with the page's reading of `what` (written on the pad), or "": the number, one tile
 * per digit with its 28×28 image, and each digit's box around the ink drawn for it.
 */
function misread(what: Writing, shown: Shown): string {
  const text = typeof what === "string" ? what : String(what.digit);
  const said = `wrote ${text}, the page says ${
    JSON.stringify(shown.prediction)
  } (${shown.message})`;
  if (shown.prediction !== text) return `${said}; the model saw:\n${shown.seen}`;
  if (shown.digits.map((d) => d.digit).join("") !== text) {
    return `${said}, but its tiles show ${JSON.stringify(shown.digits)}`;
  }
  const drawn = drawnBoxes(what);
  for (const [i, { box, confidence }] of shown.digits.entries()) {
    const ink = drawn[i]!;
    const around = box.x <= ink.x + BOX_SLACK && box.y <= ink.y + BOX_SLACK &&
      box.x + box.width >= ink.x + ink.width - BOX_SLACK &&
      box.y + box.height >= ink.y + ink.height - BOX_SLACK;
    const tight = box.width <= ink.width + 40 && box.height <= ink.height + 40;
    if (!around || !tight) {
      return `${said}: digit ${i + 1}'s box ${JSON.stringify(box)} is not around its ink ` +
        JSON.stringify(ink);
    }
    if (!(confidence > 0 && confidence <= 1)) return `${said}: digit ${i + 1} at ${confidence}`;
  }
  if (!/[^ \n]/.test(shown.seen)) return `${said}, but the 28×28 images are blank`;
  return "";
}

/** The Nth occurrence of each digit of `text` in the MNIST test set, in order. */
function testDigitsOf(text: string, digits: Uint8Array[], labels: ArrayLike<number>): Uint8Array[] {
  const seen = new Map<number, number>(); // label → occurrences taken so far
  return [...text].map((c) => {
    const label = Number(c);
    let skip = seen.get(label) ?? 0;
    seen.set(label, skip + 1);
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] === label && skip-- === 0) return digits[i]!;
    }
    throw new RangeError(`the test set has too few ${label}s`);
  });
}

/** Chromium's accessibility tree of the page, as role, name and live-region politeness. */
async function accessibilityTree(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  const { nodes } = await cdp.send("Accessibility.getFullAXTree");
  await cdp.detach();
  return nodes.filter((n) => !n.ignored).map((n) => ({
    role: String(n.role?.value ?? ""),
    name: String(n.name?.value ?? ""),
    live: String(n.properties?.find((p) => p.name === "live")?.value.value ?? ""),
    focusable: n.properties?.some((p) => p.name === "focusable" && p.value.value) ?? false,
  }));
}

Deno.test("the drawing page reads digits drawn with mouse and finger, photos, and explains failures", async (t) => {
  await Deno.mkdir(OUTPUT, { recursive: true });
  await using worker = await startWranglerDev({ vars: { RATE_LIMIT: "off" } });
  const browser = await launchChromium();
  await using _closed = { [Symbol.asyncDispose]: () => browser.close() };
  const context = await browser.newContext({
    viewport: { width: 960, height: 760 },
    reducedMotion: "reduce", // bars at their final length in screenshots
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  watchProblems(page, problems);
  await installProbe(page);
  let readAnswers = 0;
  page.on("response", (r) => {
    if (r.url().includes("/read")) readAnswers++;
  });

  const res = await page.goto(worker.url);
  assert.equal(res?.status(), 200);
  assert.match(res.headers()["content-security-policy"] ?? "", /script-src 'sha256-/);

  await t.step(
    "20 digits drawn with the mouse in two hands are read right, soon after pen-up",
    async () => {
      const wrong: string[] = [], latencies: number[] = [], sent: number[] = [];
      for (const drawn of DRAWN_DIGITS) {
        await clear(page);
        await drawWithMouse(page, drawn);
        const shown = await settled(page);
        latencies.push(await penUpToAnswerMs(page));
        sent.push(await bytesSent(page));
        console.log(`  drew ${drawn.digit} (${drawn.style}) → ${shown.message}`);
        const problem = misread(drawn, shown);
        if (problem) wrong.push(`${problem} [${drawn.style}]`);
      }
      assert.deepEqual(wrong, []);
      const { p50, max } = medianAndMax(latencies);
      console.log(`  pen-up → answer: p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms`);
      console.log(
        `  bytes sent per drawing: p50 ${medianAndMax(sent).p50}, max ${Math.max(...sent)}`,
      );
      assert.ok(p50 <= PEN_UP_P50_BOUND_MS, `pen-up → answer p50 ${p50.toFixed(1)} ms`);
      assert.ok(Math.max(...sent) <= PAD_DIGIT_BYTES, `the pad went out as ${sent} bytes`);
      assert.match(
        await page.getByTestId("sent").innerText(),
        new RegExp(`the pad as a ${SENT.width}×${SENT.height} grey PNG`),
      );
    },
  );

  await t.step(
    "numbers of 2–4 digits written with the mouse across the pad are read right, each digit boxed",
    async () => {
      const wrong: string[] = [], latencies: number[] = [], sent: number[] = [];
      for (const number of NUMBERS) {
        await clear(page);
        await drawWithMouse(page, number);
        const shown = await settled(page);
        latencies.push(await penUpToAnswerMs(page));
        sent.push(await bytesSent(page));
        console.log(`  wrote ${number} → ${shown.message}`);
        const problem = misread(number, shown);
        if (problem) wrong.push(problem);
      }
      // The last number stays on screen for the screenshots.
      await page.screenshot({ path: `${OUTPUT}page-light.png`, fullPage: true });
      await page.emulateMedia({ colorScheme: "dark" });
      await page.screenshot({ path: `${OUTPUT}page-dark.png`, fullPage: true });
      await page.emulateMedia({ colorScheme: "light" });
      assert.deepEqual(wrong, []);
      const { p50, max } = medianAndMax(latencies);
      console.log(`  pen-up → answer: p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms`);
      console.log(`  bytes sent per number: ${sent.join(", ")}`);
      assert.ok(Math.max(...sent) <= PAD_NUMBER_BYTES, `the pad went out as ${sent} bytes`);
      assert.equal(
        await page.locator("#boxes rect").count(),
        NUMBERS.at(-1)!.length,
        "one box over the pad for each digit",
      );
    },
  );

  await t.step(
    "screen readers get one live answer, a labelled pad and a Clear button",
    async () => {
      await clear(page);
      const before = { ...(await readProbe(page)), answers: readAnswers };
      await drawWithMouse(page, DRAWN_DIGITS[3]!);
      const shown = await settled(page);
      const after = await readProbe(page);
      const announced = after.announcements - before.announcements;
      const answers = readAnswers - before.answers;
      assert.ok(
        announced >= 1 && announced <= answers,
        `the live region was written ${announced} times for ${answers} answers`,
      );
      const tree = await accessibilityTree(page);
      const live = tree.filter((n) => n.live === "polite" || n.live === "assertive");
      assert.deepEqual(live.map((n) => n.role), ["status"], "one live region");
      assert.ok(tree.some((n) => n.name === shown.message), "the answer is in the tree");
      assert.ok(tree.some((n) => n.role === "image" || n.role === "img"), "the pad is an image");
      assert.ok(
        tree.some((n) => /^Drawing pad: write a number/.test(n.name)),
        "the pad is labelled",
      );
      assert.ok(tree.some((n) => n.role === "button" && n.name === "Clear" && n.focusable));
      // Tab from the top of the page reaches Clear, and Enter clears.
      await page.locator("body").focus();
      let focused = "";
      for (let i = 0; i < 10 && focused !== "clear"; i++) {
        await page.keyboard.press("Tab");
        focused = await focusedId(page);
      }
      assert.equal(focused, "clear", "Tab reaches Clear");
      await page.keyboard.press("Enter");
      assert.match((await settled(page)).message, /pad is empty/);
    },
  );

  await t.step(
    "scrolled to the end, then cleared: the pad stays put under the pen as answers come",
    async () => {
      const scrolled = () =>
        page.evaluate(() => (globalThis as unknown as { scrollY: number }).scrollY);
      await drawWithMouse(page, "42");
      await settled(page);
      await page.evaluate(() =>
        (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 1e4)
      );
      await clear(page); // the page gets shorter: the browser scrolls back, to the end
      const before = await scrolled();
      assert.ok(before > 0, "the page is scrolled");
      await drawWithMouse(page, "586");
      const shown = await settled(page);
      assert.equal(await scrolled(), before, "the page scrolled while writing");
      assert.equal(misread("586", shown), "");
    },
  );

  await t.step("text meets WCAG AA contrast, light and dark", async () => {
    await clear(page);
    await drawWithMouse(page, "907"); // the tiles' text is checked too
    assert.equal(misread("907", await settled(page)), "");
    assert.deepEqual(await lowContrastText(page), [], "light");
    await page.emulateMedia({ colorScheme: "dark" });
    assert.deepEqual(await lowContrastText(page), [], "dark");
    await page.emulateMedia({ colorScheme: "light" });
  });

  await t.step("an uploaded photo of a digit is classified", async () => {
    const { digits, labels } = await loadTestDigits();
    // The test set's first 3 (index 18) is one the model is only 59% sure of, /read's finer map
    // tips it to 8 at 60%; this step is about the upload path, so it sends the next 3 (read at
    // 1.00 either way).
    const index = labels.indexOf(3, labels.indexOf(3) + 1);
    const photo = offCentreJpeg(digits[index]!, 5);
    await page.getByTestId("file").setInputFiles({
      name: "three.jpg",
      mimeType: photo.type,
      buffer: Buffer.from(photo.bytes),
    });
    const shown = await settled(page);
    assert.equal(shown.prediction, "3", `${shown.message}; the model saw:\n${shown.seen}`);
  });

  await t.step(
    "a phone photo of a number is read as that number, each digit boxed on the photo",
    async () => {
      const { digits, labels } = await loadTestDigits();
      const text = "2049";
      const number = writeNumber(testDigitsOf(text, digits, labels), {
        width: 1600,
        height: 1200,
        left: 210,
        top: 460,
        side: 280,
        gap: 20,
      });
      const photo = await numberPhoto(number, { orientation: 6, seed: 16 });
      await page.getByTestId("file").setInputFiles({
        name: "IMG_2049.jpg",
        mimeType: photo.type,
        buffer: Buffer.from(photo.bytes),
      });
      const shown = await settled(page);
      console.log(`  a photo of ${text}: ${await bytesSent(page)} bytes sent → ${shown.message}`);
      assert.equal(shown.prediction, text, `${shown.message}; the model saw:\n${shown.seen}`);
      assert.ok(await page.locator("#photo").isVisible(), "the photo is shown");
      // The boxes are in pixels of the JPEG sent (the upright photo shrunk): their viewBox.
      const viewBox = (await page.locator("#boxes").getAttribute("viewBox") ?? "").split(" ");
      const scale = Number(viewBox[2]) / number.width;
      assert.equal(Number(viewBox[3]), Math.round(number.height * scale), "upright, shrunk");
      for (const [i, { box }] of shown.digits.entries()) {
        const truth = number.boxes[i]!;
        const expected = {
          x: truth.x * scale,
          y: truth.y * scale,
          width: truth.width * scale,
          height: truth.height * scale,
        };
        assert.ok(
          overlap(box, expected) >= 0.5,
          `digit ${i + 1}: box ${JSON.stringify(box)}, its ink at ${JSON.stringify(expected)}`,
        );
      }
    },
  );

  await t.step(
    "of two quick uploads, the newer one's photo is shown and the older one's URL is not kept",
    async () => {
      const racing = await context.newPage();
      racing.setDefaultTimeout(10_000);
      watchProblems(racing, problems);
      // The older upload's shrink waits until the test lets it go; object URLs are tracked.
      await racing.addInitScript(() => {
        const g = globalThis as unknown as {
          createImageBitmap: (source: { name?: string }, ...rest: unknown[]) => Promise<unknown>;
          URL: { createObjectURL(b: unknown): string; revokeObjectURL(u: string): void };
          OffscreenCanvas: { prototype: { convertToBlob(...a: unknown[]): Promise<unknown> } };
          releaseSlow: () => void;
          liveUrls: Set<string>;
          shrunk: number;
        };
        const gate = new Promise<void>((resolve) => g.releaseSlow = resolve);
        const decode = g.createImageBitmap;
        g.createImageBitmap = async (source, ...rest) => {
          if (source.name?.startsWith("slow")) await gate;
          return await decode(source, ...rest);
        };
        g.shrunk = 0;
        const encode = g.OffscreenCanvas.prototype.convertToBlob;
        g.OffscreenCanvas.prototype.convertToBlob = async function (...args) {
          const blob = await encode.apply(this, args);
          g.shrunk++;
          return blob;
        };
        g.liveUrls = new Set();
        const { createObjectURL, revokeObjectURL } = g.URL;
        g.URL.createObjectURL = (b) => {
          const url = createObjectURL(b);
          g.liveUrls.add(url);
          return url;
        };
        g.URL.revokeObjectURL = (url) => {
          g.liveUrls.delete(url);
          revokeObjectURL(url);
        };
      });
      await racing.goto(worker.url);
      const { digits, labels } = await loadTestDigits();
      const upload = async (name: string, digit: number) => {
        const photo = offCentreJpeg(digits[labels.indexOf(digit)]!, 5);
        await racing.getByTestId("file").setInputFiles({
          name,
          mimeType: photo.type,
          buffer: Buffer.from(photo.bytes),
        });
      };
      await upload("slow-three.jpg", 3);
      await upload("seven.jpg", 7);
      assert.equal((await settled(racing)).prediction, "7");
      await racing.evaluate(() => (globalThis as unknown as { releaseSlow(): void }).releaseSlow());
      await racing.waitForFunction(() =>
        (globalThis as unknown as { shrunk: number }).shrunk === 2
      );
      const shown = await racing.evaluate(() => {
        const g = globalThis as unknown as {
          document: { getElementById(id: string): { src: string; alt: string } };
          liveUrls: Set<string>;
        };
        const photo = g.document.getElementById("photo");
        return { src: photo.src, alt: photo.alt, live: [...g.liveUrls] };
      });
      assert.equal((await settled(racing)).prediction, "7");
      assert.equal(
        shown.alt,
        "Uploaded: seven.jpg",
        "the photo beside the answer is the newer one",
      );
      assert.deepEqual(shown.live, [shown.src], "only the shown photo's object URL is kept");
      await racing.close();
    },
  );

  await t.step(
    "a 12 MP portrait phone photo is turned upright, read right and sent small",
    async () => {
      const { digits, labels } = await loadTestDigits();
      const photo = await portraitPhoneJpeg(browser, digits[labels.indexOf(7)]!);
      await page.getByTestId("file").setInputFiles({
        name: "IMG_0007.jpg",
        mimeType: "image/jpeg",
        buffer: Buffer.from(photo),
      });
      const shown = await settled(page);
      const sent = await bytesSent(page);
      console.log(
        `  12 MP photo: ${photo.length} bytes chosen, ${sent} bytes sent → ${shown.message}`,
      );
      assert.equal(shown.prediction, "7", `${shown.message}; the model saw:\n${shown.seen}`);
      assert.ok(sent > 0 && sent <= 300 * 1024, `${sent} bytes sent`);
    },
  );

  await t.step(
    "a file that is not an image is sent as it is and rejected with the server's reason",
    async () => {
      await page.getByTestId("file").setInputFiles({
        name: "notes.txt",
        mimeType: "text/plain",
        buffer: Buffer.from("not a digit"),
      });
      const shown = await settled(page);
      assert.equal(shown.prediction, "");
      assert.match(shown.message, /^That file was rejected: .+/);
      assert.equal(await bytesSent(page), "not a digit".length);
    },
  );

  await t.step("a cleared pad says it is empty", async () => {
    const shown = await clear(page);
    assert.equal(shown.prediction, "");
    assert.match(shown.message, /pad is empty/);
    await page.screenshot({ path: `${OUTPUT}page-empty.png`, fullPage: true });
  });

  await t.step(
    "over the rate limit, the page says so calmly and retries the newest drawing once",
    async () => {
      let refusing = true, refused = 0, passed = 0;
      await page.route("**/read**", async (route) => {
        if (!refusing) {
          passed++;
          return await route.continue();
        }
        refused++;
        await route.fulfill({
          status: 429,
          headers: { "retry-after": "1" },
          contentType: "application/json",
          body: JSON.stringify({
            error: { code: "rate_limited", message: "too many requests: try again in 1 s" },
          }),
        });
      });
      await clear(page);
      const drawn = DRAWN_DIGITS[6]!;
      await drawWithMouse(page, drawn);
      const waiting = await settled(page); // the newest drawing's request was refused
      refusing = false;
      assert.equal(waiting.prediction, "");
      assert.equal(
        waiting.message,
        "Taking a short break — too many requests. Trying again in 1 s.",
      );
      assert.doesNotMatch(
        await page.getByTestId("message").getAttribute("class") ?? "",
        /error/,
        "not shown as an error",
      );
      await predictionShown(page);
      const shown = await settled(page);
      await page.unroute("**/read**");
      assert.equal(shown.prediction, String(drawn.digit), shown.message);
      assert.ok(refused >= 1, `${refused} requests refused`);
      assert.equal(passed, 1, "only the newest drawing is sent again, once");
    },
  );

  await t.step("a network failure says so", async () => {
    await page.route("**/read**", (route) => route.abort("internetdisconnected"));
    await drawWithMouse(page, DRAWN_DIGITS[1]!);
    const shown = await settled(page);
    await page.unroute("**/read**");
    assert.equal(shown.prediction, "");
    assert.match(shown.message, /network error/);
  });

  await t.step(
    "on a phone, five digits and a number written with one finger are read right and nothing scrolls",
    async () => {
      const phone = await browser.newContext({
        viewport: PHONE, // a small phone: the page must scroll there, but not while drawing
        deviceScaleFactor: 2,
        isMobile: true,
        hasTouch: true,
        reducedMotion: "reduce",
      });
      const small = await phone.newPage();
      small.setDefaultTimeout(10_000);
      watchProblems(small, problems);
      await installProbe(small);
      await small.goto(worker.url);
      const box = await small.getByTestId("pad").boundingBox();
      assert.ok(
        box && box.x >= 0 && box.x + box.width <= PHONE.width && box.width >= PHONE.width - 32,
        `the pad spans the screen: ${JSON.stringify(box)}`,
      );
      const size = () =>
        small.evaluate(() => {
          const g = globalThis as unknown as {
            document: { documentElement: { scrollWidth: number; scrollHeight: number } };
            innerHeight: number;
            scrollY: number;
          };
          const { scrollWidth, scrollHeight } = g.document.documentElement;
          return { scrollWidth, scrollHeight, innerHeight: g.innerHeight, scrollY: g.scrollY };
        });
      const start = await size();
      assert.ok(
        start.scrollWidth <= PHONE.width,
        `the page is ${start.scrollWidth} px wide: it scrolls sideways`,
      );
      assert.ok(
        start.scrollHeight > start.innerHeight,
        "the page is taller than the screen, so could scroll",
      );
      assert.ok(
        await small.getByTestId("camera").isVisible(),
        "Take a photo is offered on a phone",
      );
      assert.equal(await small.getByTestId("camera").getAttribute("capture"), "environment");

      const cdp = await phone.newCDPSession(small);
      const wrong: string[] = [];
      for (
        const what of [
          DRAWN_DIGITS[2]!,
          DRAWN_DIGITS[4]!,
          DRAWN_DIGITS[7]!,
          DRAWN_DIGITS[13]!,
          DRAWN_DIGITS[16]!,
          "3705",
        ]
      ) {
        await clear(small);
        await drawWithFinger(small, cdp, what);
        const shown = await settled(small);
        const wrote = typeof what === "string" ? what : what.digit;
        console.log(`  wrote ${wrote} with a finger → ${shown.message}`);
        const problem = misread(what, shown);
        if (problem) wrong.push(problem);
      }
      // One screen, as the phone shows it: a full-page capture drops the touch media features.
      await small.screenshot({ path: `${OUTPUT}page-phone.png` });
      assert.deepEqual(wrong, []);
      assert.equal((await size()).scrollY, 0, "drawing scrolled the page");
      assert.equal((await readProbe(small)).cancels, 0, "the browser took a stroke over");
      await phone.close();
    },
  );

  assert.deepEqual(problems, [], "no script errors or CSP violations");
});

Deno.test("on a server that requires an API token, the page asks for one once and keeps it", async (t) => {
  await Deno.mkdir(OUTPUT, { recursive: true });
  await using worker = await startWranglerDev({
    vars: { API_TOKENS: `another-token,${TOKEN}`, RATE_LIMIT: "off" },
  });
  const browser = await launchChromium();
  await using _closed = { [Symbol.asyncDispose]: () => browser.close() };
  const page = await browser.newPage({
    viewport: { width: 960, height: 760 },
    reducedMotion: "reduce",
  });
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  watchProblems(page, problems);
  /** The Authorization header of each POST /read, "" when none was sent. */
  const sent: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("/read")) sent.push(r.headers()["authorization"] ?? "");
  });
  const tokenInput = page.getByTestId("token"), save = page.getByTestId("token-save");
  const [first, second] = [DRAWN_DIGITS[0]!, DRAWN_DIGITS[9]!];
  assert.equal((await page.goto(worker.url))?.status(), 200, "the page itself stays open");

  await t.step("a drawing is not read without a token: the page asks for one", async () => {
    assert.equal(await tokenInput.isVisible(), false, "no form before the server asks");
    await drawWithMouse(page, first);
    const shown = await settled(page);
    assert.equal(shown.prediction, "");
    assert.equal(
      shown.message,
      "This server asks for an API token before it reads digits: enter it below.",
    );
    assert.ok(await tokenInput.isVisible());
    assert.equal(await tokenInput.getAttribute("type"), "password");
    assert.equal(await focusedId(page), "token", "the form has the keyboard");
    assert.ok(sent.length >= 1 && sent.every((a) => a === ""), `${sent}`);
    await page.screenshot({ path: `${OUTPUT}page-token.png`, fullPage: true });
    assert.deepEqual(await lowContrastText(page), [], "light");
    await page.emulateMedia({ colorScheme: "dark" });
    assert.deepEqual(await lowContrastText(page), [], "dark");
    await page.screenshot({ path: `${OUTPUT}page-token-dark.png`, fullPage: true });
    await page.emulateMedia({ colorScheme: "light" });
  });

  await t.step("a wrong token is refused plainly, and the page asks again", async () => {
    await tokenInput.fill(WRONG_TOKEN);
    await save.click();
    const shown = await settled(page);
    assert.equal(shown.prediction, "");
    assert.equal(
      shown.message,
      "The server did not accept that API token. Check it and enter it again.",
    );
    assert.ok(await tokenInput.isVisible());
    assert.equal(await tokenInput.inputValue(), "");
    assert.equal(await tokenInput.getAttribute("aria-invalid"), "true");
    assert.equal(sent.at(-1), `Bearer ${WRONG_TOKEN}`);
  });

  await t.step("with the right token the same drawing is sent again and read right", async () => {
    const before = sent.length;
    await tokenInput.fill(TOKEN);
    await save.click();
    const shown = await settled(page);
    assert.equal(shown.prediction, String(first.digit), `${shown.message}\n${shown.seen}`);
    assert.equal(await tokenInput.isVisible(), false);
    assert.deepEqual(sent.slice(before), [`Bearer ${TOKEN}`], "sent once, with the token");
    assert.ok(await page.getByTestId("token-forget").isVisible());
  });

  await t.step("after a reload the kept token is sent without asking", async () => {
    await page.reload();
    const before = sent.length;
    await drawWithMouse(page, second);
    const shown = await settled(page);
    assert.equal(shown.prediction, String(second.digit), `${shown.message}\n${shown.seen}`);
    assert.equal(await tokenInput.isVisible(), false);
    const since = sent.slice(before);
    assert.ok(since.length >= 1 && since.every((a) => a === `Bearer ${TOKEN}`), `${since}`);
  });

  await t.step("Forget it: the token is dropped and the next drawing asks again", async () => {
    await page.getByTestId("token-forget").click();
    assert.equal(
      await page.evaluate(() =>
        (globalThis as unknown as Globals).localStorage.getItem("mnist-edge-token")
      ),
      null,
    );
    assert.equal(await page.getByTestId("token-forget").isVisible(), false);
    await clear(page);
    await drawWithMouse(page, first);
    const shown = await settled(page);
    assert.equal(shown.prediction, "");
    assert.match(shown.message, /asks for an API token/);
    assert.equal(sent.at(-1), "");
  });

  assert.deepEqual(problems, [], "no script errors or CSP violations");
});
