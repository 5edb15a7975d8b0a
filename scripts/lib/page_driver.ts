/**
 * Drives the drawing page in headless Chromium (Debian's, through playwright-core) as a person would:
 * strokes with the mouse or one finger, then waits for the answer. A probe installed before the
 * page's own script times pen-up → answer inside the page with performance.now(), so the figure is
 * the page's, not the test runner's.
 */
import assert from "node:assert/strict";
import { type Browser, type CDPSession, chromium, type Page } from "playwright-core";
import { type DrawnDigit, strokePath } from "./drawn_digits.ts";

const CHROMIUM = "/usr/bin/chromium";

/** What the page shows once it has settled. */
export interface Shown {
  prediction: string;
  message: string;
  /** The 28×28 image the model saw, as text: one row a line, darker characters for brighter ink. */
  seen: string;
}

/** What the probe records, read back after an answer. */
export interface Probe {
  /** performance.now() at the last pointerup on the page. */
  penUp: number;
  /** performance.now() when the prediction was last written. */
  answered: number;
  /** Times the live region's text was written. */
  announcements: number;
  /** pointercancel events: the browser took a stroke over to scroll or zoom. */
  cancels: number;
}

/** The part of the page's globals the probe and the readers touch (tests have no DOM library). */
interface PageGlobals {
  __probe: Probe;
  addEventListener(type: string, listener: () => void, capture: boolean): void;
  document: {
    addEventListener(type: string, listener: () => void): void;
    getElementById(id: string): PageElement | null;
  };
  MutationObserver: new (callback: () => void) => {
    observe(target: PageElement, options: Record<string, boolean>): void;
  };
}

interface PageElement {
  ariaBusy: string | null;
}

/** The part of a canvas element read here. */
interface Canvas2d {
  getContext(kind: "2d"): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}

/** Starts headless Chromium with nothing running in the background to skew timings. */
export async function launchChromium(): Promise<Browser> {
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

/** Installs the pen-up → answer probe; call before the page loads. */
export async function installProbe(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const g = globalThis as unknown as PageGlobals;
    const probe: Probe = { penUp: 0, answered: 0, announcements: 0, cancels: 0 };
    g.__probe = probe;
    g.addEventListener("pointerup", () => probe.penUp = performance.now(), true);
    g.addEventListener("pointercancel", () => probe.cancels++, true);
    g.document.addEventListener("DOMContentLoaded", () => {
      const watch = (id: string, seen: () => void) =>
        new g.MutationObserver(seen).observe(g.document.getElementById(id)!, {
          childList: true,
          characterData: true,
          subtree: true,
        });
      watch("prediction", () => probe.answered = performance.now());
      watch("msg", () => probe.announcements++);
    });
  });
}

/** The probe's figures now. */
export async function readProbe(page: Page): Promise<Probe> {
  return await page.evaluate(() => ({ ...(globalThis as unknown as PageGlobals).__probe }));
}

/** Pen-up → answer of the last digit drawn, in ms, as the page measured it. */
export async function penUpToAnswerMs(page: Page): Promise<number> {
  const { penUp, answered } = await readProbe(page);
  assert.ok(penUp > 0 && answered > penUp, `answer at ${answered} ms, pen-up at ${penUp} ms`);
  return answered - penUp;
}

/** Presses, moves and releases the mouse along each stroke, as a hand would. */
export async function drawWithMouse(page: Page, drawn: DrawnDigit): Promise<void> {
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

/** Draws each stroke with one finger: touch events through the DevTools protocol. */
export async function drawWithFinger(
  page: Page,
  cdp: CDPSession,
  drawn: DrawnDigit,
): Promise<void> {
  const box = await page.getByTestId("pad").boundingBox();
  assert.ok(box, "the pad is on screen");
  for (const stroke of drawn.strokes) {
    const path = strokePath(stroke, drawn.place, box.width).map(([x, y]) => ({
      x: box.x + x,
      y: box.y + y,
    }));
    await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [path[0]!] });
    for (const point of path.slice(1)) {
      await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: [point] });
    }
    await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  }
}

/** Waits until the newest answer (or refusal) is on screen, then reads it. */
export async function settled(page: Page): Promise<Shown> {
  // Checked every frame: a locator's polling backs off to a second, longer than an answer takes.
  await page.waitForFunction(() =>
    (globalThis as unknown as PageGlobals).document.getElementById("result")?.ariaBusy === "false"
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

/** Clicks Clear and waits for the empty pad. */
export async function clear(page: Page): Promise<Shown> {
  await page.getByTestId("clear").click();
  return await settled(page);
}

/** The bytes the page says it sent for the last request. */
export async function bytesSent(page: Page): Promise<number> {
  return Number(await page.getByTestId("sent").getAttribute("data-bytes"));
}

/** The middle value of `values` (the upper one of the two middles for an even count), and the largest. */
export function medianAndMax(values: number[]): { p50: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: sorted[Math.floor(sorted.length / 2)] ?? NaN, max: sorted.at(-1) ?? NaN };
}
