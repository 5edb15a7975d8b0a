/**
 * Confidence calibration by temperature scaling (Guo et al. 2017, "On Calibration of Modern Neural
 * Networks"): one number T divides the logits, fitted to minimise the negative log-likelihood of
 * held-out images, so that a served "95% sure" is right about 95% of the time. It never changes
 * which class wins. The expected calibration error (ECE, 15 equal-width bins of the top
 * probability) says how far confidence and accuracy are apart, before and after.
 *
 * Shape letters: N images, L classes; logits are [N, L] row-major.
 */

/** Mean negative log-likelihood of `labels` under softmax(logits / t). */
export function nllAt(logits: Float32Array, labels: ArrayLike<number>, classes: number, t: number) {
  let sum = 0;
  const n = labels.length;
  for (let i = 0; i < n; i++) {
    const row = logits.subarray(i * classes, (i + 1) * classes);
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v / t);
    let z = 0;
    for (const v of row) z += Math.exp(v / t - max);
    sum += Math.log(z) + max - row[labels[i]!]! / t;
  }
  return sum / n;
}

/**
 * The temperature in [0.05, 20] that minimises the held-out NLL: a golden-section search on log t
 * (the NLL is unimodal in t for a fixed set of logits).
 */
export function fitTemperature(
  logits: Float32Array,
  labels: ArrayLike<number>,
  classes: number,
): number {
  if (logits.length !== labels.length * classes) {
    throw new RangeError(`${labels.length} labels need ${labels.length * classes} logits`);
  }
  let lo = Math.log(0.05), hi = Math.log(20);
  const phi = (Math.sqrt(5) - 1) / 2;
  let a = hi - phi * (hi - lo), b = lo + phi * (hi - lo);
  let fa = nllAt(logits, labels, classes, Math.exp(a)),
    fb = nllAt(logits, labels, classes, Math.exp(b));
  for (let i = 0; i < 60; i++) {
    if (fa < fb) {
      hi = b, b = a, fb = fa, a = hi - phi * (hi - lo);
      fa = nllAt(logits, labels, classes, Math.exp(a));
    } else {
      lo = a, a = b, fa = fb, b = lo + phi * (hi - lo);
      fb = nllAt(logits, labels, classes, Math.exp(b));
    }
  }
  return Math.exp((lo + hi) / 2);
}

/**
 * Expected calibration error of softmax(logits / t): the mean over `bins` equal-width bins of the
 * top probability of |accuracy − mean confidence|, weighted by the share of images in the bin.
 */
export function expectedCalibrationError(
  logits: Float32Array,
  labels: ArrayLike<number>,
  classes: number,
  t = 1,
  bins = 15,
): number {
  const n = labels.length;
  const count = new Float64Array(bins),
    right = new Float64Array(bins),
    sure = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const row = logits.subarray(i * classes, (i + 1) * classes);
    let best = 0, max = -Infinity;
    row.forEach((v, c) => {
      if (v > row[best]!) best = c;
      max = Math.max(max, v / t);
    });
    let z = 0;
    for (const v of row) z += Math.exp(v / t - max);
    const confidence = Math.exp(row[best]! / t - max) / z;
    const bin = Math.min(bins - 1, Math.floor(confidence * bins));
    count[bin]! += 1;
    sure[bin]! += confidence;
    if (best === labels[i]) right[bin]! += 1;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    if (count[b]) ece += Math.abs(right[b]! - sure[b]!) / n;
  }
  return ece;
}
