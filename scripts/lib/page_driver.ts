/**
 * Drives the drawing page in headless Chromium (Debian's, through playwright-core) as a person would:
 * strokes with the mouse or one finger — one digit of scripts/lib/drawn_digits.ts, or a number
 * written with them side by side across the pad — then waits for the answer. A probe installed
 * before the page's own script times pen-up → answer inside the page with performance.now(), so the
 * figure is the page's, not the test runner's.
 */
import assert from "node:assert/strict";
import { type Browser, type CDPSession, chromium, type Page } from "playwright-core";
import { DRAWN_DIGITS, type DrawnDigit, type Point, strokePath } from "./drawn_digits.ts";

const CHROMIUM = "/usr/bin/chromium";

/**
 * What to write on the pad: one drawn digit, in a square in the middle of the pad with its own size
 * and place there; or a number as text, its digits drawn side by side ({@linkcode numberStrokes}).
 */
export type Writing = DrawnDigit | string;

/** What the page shows once it has settled. */
export interface Shown {
  prediction: string;
  message: string;
  /** Each digit read: the digit, its confidence and its box over the pad or photo. */
  digits: ShownDigit[];
  /** The 28×28 images the model saw, side by side, as text: one row a line, darker characters for
   * brighter ink. */
  seen: string;
}

/** One digit's tile and box as the page shows them. */
export interface ShownDigit {
  digit: number;
  confidence: number;
  /** In pixels of the image sent, as the server answered it. */
  box: { x: number; y: number; width: number; height: number };
}

/** A digit of a written number stands this much of the pad's height tall (less if it must fit). */
const NUMBER_HEIGHT = 0.62;
/** The pen's width as a fraction of the pad's height (the page's INK). */
const PEN = 0.085;
/** Between two digits' strokes: the pen's width and this much of the pad's height of paper. */
const PAPER_BETWEEN = 0.1;
/** A number fills at most this much of the pad's width. */
const FILL = 0.9;

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

/** The part of a digit's tile read here. */
interface Tile {
  dataset: { digit: string; confidence: string };
  querySelector(s: "canvas"): {
    getContext(kind: "2d"): {
      getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
    };
  };
}

/** The part of a box drawn over the pad read here. */
interface BoxRect {
  getAttribute(name: string): string | null;
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

/**
 * The digits of `text` as drawn digits side by side, left to right, with `place`s in units of the
 * pad's height (left from the pad's left edge): each the same height, a pen's width and a little
 * paper apart, gently up and down as a hand goes, the whole number centred. Each digit is drawn in
 * one of its two hands, taking turns along the number.
 *
 * @param text Decimal digits.
 * @param aspect The pad's width over its height.
 * @throws RangeError When `text` holds anything but digits, or none.
 */
export function numberStrokes(text: string, aspect: number): DrawnDigit[] {
  if (!/^\d+$/.test(text)) {
    throw new RangeError(`a number must be decimal digits: current value is "${text}"`);
  }
  const drawn = [...text].map((c, i) => {
    const hands = DRAWN_DIGITS.filter((d) => d.digit === Number(c));
    return hands[i % hands.length]!;
  });
  // The ink's left and right, in pad heights, of each digit at NUMBER_HEIGHT with its box at 0.
  const extents = drawn.map((d) => {
    const xs = d.strokes.flatMap((stroke) =>
      strokePath(stroke, { left: 0, top: 0, height: NUMBER_HEIGHT }, 1).map(([x]) => x)
    );
    return { left: Math.min(...xs), right: Math.max(...xs) };
  });
  const gap = PEN + PAPER_BETWEEN;
  const natural = extents.reduce((sum, e) => sum + e.right - e.left, 0) + gap * (drawn.length - 1);
  const scale = Math.min(1, (FILL * aspect) / natural), height = NUMBER_HEIGHT * scale;
  let x = (aspect - natural * scale) / 2;
  return drawn.map((d, i) => {
    const { left, right } = extents[i]!;
    const bob = ((i * 2) % 3 - 1) * 0.03; // -0.03, +0.03, 0, …: not ruled
    const place = { left: x - left * scale, top: (1 - height) / 2 + bob, height };
    x += (right - left) * scale + gap * scale;
    return { ...d, place };
  });
}

/** The strokes of `what` in pixels of a pad `width` × `height`, as the mouse or finger goes. */
export function padStrokes(what: Writing, width: number, height: number): Point[][] {
  const aspect = width / height;
  const digits = typeof what === "string" ? numberStrokes(what, aspect) : [{
    ...what,
    // A digit's place is in a square pad's side: that square, in the middle of this pad.
    place: { ...what.place, left: what.place.left + (aspect - 1) / 2 },
  }];
  return digits.flatMap((d) => d.strokes.map((stroke) => strokePath(stroke, d.place, height)));
}

/** Presses, moves and releases the mouse along each stroke, as a hand would. */
export async function drawWithMouse(page: Page, what: Writing): Promise<void> {
  const box = await page.getByTestId("pad").boundingBox();
  assert.ok(box, "the pad is on screen");
  for (const stroke of padStrokes(what, box.width, box.height)) {
    const [first, ...rest] = stroke;
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
  what: Writing,
): Promise<void> {
  const box = await page.getByTestId("pad").boundingBox();
  assert.ok(box, "the pad is on screen");
  for (const stroke of padStrokes(what, box.width, box.height)) {
    const path = stroke.map(([x, y]) => ({ x: box.x + x, y: box.y + y }));
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
  const tiles = await page.getByTestId("digit").evaluateAll((elements) =>
    (elements as unknown as Tile[]).map((tile) => {
      const { data } = tile.querySelector("canvas").getContext("2d").getImageData(0, 0, 28, 28);
      const rows: string[] = [];
      for (let y = 0; y < 28; y++) {
        let row = "";
        for (let x = 0; x < 28; x++) {
          row += " .:-=+*#%@"[Math.floor(data[(y * 28 + x) * 4]! / 25.6)];
        }
        rows.push(row);
      }
      return {
        digit: Number(tile.dataset.digit),
        confidence: Number(tile.dataset.confidence),
        rows,
      };
    })
  );
  const boxes = await page.locator("#boxes rect").evaluateAll((rects) =>
    (rects as unknown as BoxRect[]).map((rect) => {
      const [x, y, width, height] = ["x", "y", "width", "height"].map((name) =>
        Number(rect.getAttribute(name))
      );
      return { x: x!, y: y!, width: width!, height: height! };
    })
  );
  const seen = Array.from({ length: 28 }, (_, y) => tiles.map((t) => t.rows[y]).join(" "));
  return {
    prediction: await page.getByTestId("prediction").innerText(),
    message: await page.getByTestId("message").innerText(),
    digits: tiles.map(({ digit, confidence }, i) => ({
      digit,
      confidence,
      box: boxes[i] ?? { x: NaN, y: NaN, width: NaN, height: NaN },
    })),
    seen: seen.join("\n"),
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
