/**
 * The seed's figures as SVG files beside the model: the training-loss curve, accuracy per epoch, and
 * (the seed's closing suggestion) a sheet of the test digits the model gets wrong.
 */
import { encode as encodePng } from "fast-png";
import type { Split } from "../data/mnist.ts";
import { IMAGE_SIDE, PIXELS } from "../model/model.ts";
import type { EpochSummary } from "./loop.ts";

const W = 640, H = 360, PAD = { left: 56, right: 40, top: 32, bottom: 44 };
const FONT = `font-family="system-ui, sans-serif" font-size="12"`;
const TITLE = `font-family="system-ui, sans-serif" font-size="14" font-weight="bold"`;

function svg(width: number, height: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect width="100%" height="100%" fill="white"/>${body}</svg>\n`;
}

/** A line chart with axes, ticks and a title; `series` share the axes. */
function lineChart(
  title: string,
  xLabel: string,
  yLabel: string,
  series: { points: [number, number][]; color: string; width: number; dots?: boolean }[],
  yRange: [number, number],
  xTicks: number[],
): string {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const [x0, x1] = [Math.min(...xs, xTicks[0]!), Math.max(...xs, xTicks.at(-1)!)];
  const [y0, y1] = yRange;
  const px = (x: number) => PAD.left + ((x - x0) / (x1 - x0 || 1)) * (W - PAD.left - PAD.right);
  const py = (y: number) =>
    H - PAD.bottom - ((y - y0) / (y1 - y0 || 1)) * (H - PAD.top - PAD.bottom);
  const parts: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const y = y0 + ((y1 - y0) * i) / 5;
    parts.push(
      `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${py(y)}" y2="${py(y)}" stroke="#e5e5e5"/>`,
      `<text x="${PAD.left - 6}" y="${py(y) + 4}" text-anchor="end" ${FONT}>${+y.toFixed(
        3,
      )}</text>`,
    );
  }
  for (const x of xTicks) {
    parts.push(
      `<text x="${px(x)}" y="${H - PAD.bottom + 16}" text-anchor="middle" ${FONT}>${x}</text>`,
    );
  }
  for (const s of series) {
    const d = s.points.map(([x, y], i) => `${i ? "L" : "M"}${px(x).toFixed(1)},${py(y).toFixed(1)}`)
      .join("");
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.width}"/>`);
    if (s.dots) {
      for (const [x, y] of s.points) {
        parts.push(
          `<circle cx="${px(x)}" cy="${py(y)}" r="4" fill="${s.color}"/>`,
          `<text x="${px(x)}" y="${py(y) - 9}" text-anchor="middle" ${FONT}>${
            (y * 100).toFixed(2)
          }%</text>`,
        );
      }
    }
  }
  parts.push(
    `<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${
      H - PAD.bottom
    }" stroke="#333"/>`,
    `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${H - PAD.bottom}" y2="${
      H - PAD.bottom
    }" stroke="#333"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" ${TITLE}>${title}</text>`,
    `<text x="${W / 2}" y="${H - 8}" text-anchor="middle" ${FONT}>${xLabel}</text>`,
    `<text x="14" y="${H / 2}" text-anchor="middle" ${FONT} transform="rotate(-90 14 ${
      H / 2
    })">${yLabel}</text>`,
  );
  return svg(W, H, parts.join(""));
}

/** Training loss of every step (faint) and its running mean over `window` steps. */
export function lossCurveSvg(losses: number[], stepsPerEpoch: number, window = 50): string {
  const raw = losses.map((l, i) => [(i + 1) / stepsPerEpoch, l] as [number, number]);
  const smooth: [number, number][] = [];
  let sum = 0;
  losses.forEach((l, i) => {
    sum += l - (i >= window ? losses[i - window]! : 0);
    if (i + 1 >= Math.min(window, losses.length)) {
      smooth.push([(i + 1) / stepsPerEpoch, sum / Math.min(window, i + 1)]);
    }
  });
  const epochs = Math.ceil(losses.length / stepsPerEpoch);
  // Scale to the loss after the first few steps; the first steps' larger losses are drawn at the top.
  const settled = Math.max(...losses.slice(Math.floor(losses.length / 20)));
  const top = Math.min(2.5, Math.ceil(settled * 10) / 10);
  const clip = (points: [number, number][]) =>
    points.map(([x, y]) => [x, Math.min(y, top)] as [number, number]);
  return lineChart(
    "Training loss (NLL)",
    "epoch",
    "loss",
    [
      { points: clip(raw), color: "#9ecae1", width: 1 },
      { points: clip(smooth), color: "#08519c", width: 2 },
    ],
    [0, top],
    Array.from({ length: epochs + 1 }, (_, i) => i),
  );
}

/** Accuracy after each epoch, on the split each summary names. */
export function accuracySvg(epochs: EpochSummary[]): string {
  const points = epochs.map((e) => [e.epoch, e.accuracy] as [number, number]);
  const low = Math.max(0, Math.floor(Math.min(...points.map((p) => p[1])) * 100 - 1) / 100);
  const on = epochs[0]?.accuracyOn ?? "test";
  return lineChart(
    `Accuracy per epoch (${on} set)`,
    "epoch",
    "accuracy",
    [{
      points,
      color: "#d94801",
      width: 2,
      dots: true,
    }],
    [low, 1],
    epochs.map((e) => e.epoch),
  );
}

/** A sheet of up to `max` misclassified images, each captioned "true → predicted". */
export function errorsSvg(split: Split, predictions: Uint8Array, max = 60): string {
  const wrong: number[] = [];
  for (let i = 0; i < split.count && wrong.length < max; i++) {
    if (predictions[i] !== split.labels[i]) wrong.push(i);
  }
  const cols = 10, scale = 2, cell = IMAGE_SIDE * scale + 16, caption = 16;
  const rows = Math.max(1, Math.ceil(wrong.length / cols));
  const parts = [
    `<text x="8" y="18" ${TITLE}>Misclassified test digits (true → predicted), first ${wrong.length}</text>`,
  ];
  wrong.forEach((index, k) => {
    const x = 8 + (k % cols) * cell, y = 28 + Math.floor(k / cols) * (cell + caption);
    // MNIST is white ink on black; show it as ink on paper.
    const pixels = split.images.subarray(index * PIXELS, (index + 1) * PIXELS).map((v) => 255 - v);
    const png = encodePng({
      width: IMAGE_SIDE,
      height: IMAGE_SIDE,
      data: pixels,
      channels: 1,
      depth: 8,
    });
    const href = `data:image/png;base64,${btoa(String.fromCharCode(...png))}`;
    parts.push(
      `<image x="${x}" y="${y}" width="${IMAGE_SIDE * scale}" height="${
        IMAGE_SIDE * scale
      }" style="image-rendering:pixelated" href="${href}"/>`,
      `<text x="${x + (IMAGE_SIDE * scale) / 2}" y="${
        y + IMAGE_SIDE * scale + 13
      }" text-anchor="middle" ${FONT}>${split.labels[index]} → ${predictions[index]}</text>`,
    );
  });
  return svg(16 + cols * cell, 36 + rows * (cell + caption), parts.join(""));
}
