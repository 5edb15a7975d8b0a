/** What tests measure of a [28, 28] MNIST-format image (0 background … 255 ink). */

/**
 * Its ink: the total, the box's width, height and longer side, the box's clearance to the frame, and
 * the centre of mass.
 */
export function measureDigit(image: Uint8Array) {
  let x0 = 28, y0 = 28, x1 = -1, y1 = -1, total = 0, sx = 0, sy = 0;
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const v = image[y * 28 + x]!;
      if (v === 0) continue;
      x0 = Math.min(x0, x), x1 = Math.max(x1, x), y0 = Math.min(y0, y), y1 = Math.max(y1, y);
      total += v, sx += v * x, sy += v * y;
    }
  }
  const width = x1 - x0 + 1, height = y1 - y0 + 1;
  return {
    total,
    width,
    height,
    long: Math.max(width, height),
    margin: Math.min(x0, y0, 27 - x1, 27 - y1),
    cx: sx / total,
    cy: sy / total,
  };
}
