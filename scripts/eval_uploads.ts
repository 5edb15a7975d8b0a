/**
 * `deno task eval:uploads`: the full set of phone photos and retina screenshots through the built
 * bundle on plain `workerd serve` — every camera (12, 8, 3, 2 MP) × every EXIF orientation × 2 digits,
 * and both screens in RGB and RGBA — printing accuracy and refusals per kind, per orientation and per
 * digit. The last line is one JSON object: {"right", "total", "accuracy", "refused"}.
 *
 * usage: deno task eval:uploads [--per-pair N] [--offset K]
 *   N digits per camera × orientation (default 2); K the first test-set index tried (default 3001;
 *   another K measures the same pipeline on other digits).
 */
import { loadTestDigits } from "./lib/mnist_test_set.ts";
import { CAMERAS, ORIENTATIONS, SCREENS, uploadSet } from "./lib/phone_photos.ts";
import { readableDigits, send, uploadInit } from "./lib/upload_client.ts";
import { startWorkerdServe } from "./lib/wrangler.ts";
import { parseFlags } from "./lib/flags.ts";

const values = parseFlags("eval:uploads", {
  "per-pair": { type: "string" },
  offset: { type: "string", default: "3001" },
});
const offset = Number(values.offset);
if (!Number.isSafeInteger(offset) || offset < 0 || offset >= 10_000) {
  console.error(`'--offset' must be an integer from 0 to 9999: current value is ${values.offset}`);
  Deno.exit(2);
}
const perPair = Number(values["per-pair"] ?? 2);
if (!Number.isSafeInteger(perPair) || perPair < 1 || perPair > 20) {
  console.error(
    `'--per-pair' must be an integer from 1 to 20: current value is ${values["per-pair"]}`,
  );
  Deno.exit(2);
}
const photos = CAMERAS.length * ORIENTATIONS.length * perPair;
const screenshots = SCREENS.length * 2;

const { digits, labels } = await loadTestDigits();
// Other digits than the e2e test's (offset 5): this set is for measuring, not for tuning to.
const chosen = await readableDigits(digits, labels, { count: photos + screenshots, offset });

/** Right, refused (a 4xx/5xx answer or none) and total, for one group of uploads. */
type Tally = { right: number; refused: number; total: number };
const groups = new Map<string, Tally>();
const count = (group: string, right: boolean, refused: boolean) => {
  const tally = groups.get(group) ?? { right: 0, refused: 0, total: 0 };
  groups.set(group, {
    right: tally.right + Number(right),
    refused: tally.refused + Number(refused),
    total: tally.total + 1,
  });
};

await using worker = await startWorkerdServe({ vars: { RATE_LIMIT: "off" } });
console.log(
  `${photos} photos and ${screenshots} screenshots through workerd serve at ${worker.url}`,
);
let k = 0;
for await (
  const upload of uploadSet({
    photoDigits: chosen.slice(0, photos),
    screenshotDigits: chosen.slice(photos),
    digits,
    labels,
  })
) {
  const answer = await send(worker.url, "/classify", uploadInit(upload, k++ % 2 === 1))
    .catch((e: Error) => ({ status: 0, body: e.message, json: undefined }));
  const right = answer.status === 200 && answer.json?.digit === upload.label;
  const refused = answer.status !== 200;
  const orientation = /orientation (\d)/.exec(upload.name)?.[1];
  count(upload.kind, right, refused);
  if (orientation) count(`orientation ${orientation}`, right, refused);
  count(`digit ${upload.label}`, right, refused);
  count("all", right, refused);
  const said = refused
    ? `refused: ${answer.status} ${answer.json?.error?.code ?? answer.body.slice(0, 80)}`
    : `read ${answer.json?.digit}`;
  console.log(`${right ? "✓" : "✗"} ${upload.name} (label ${upload.label}): ${said}`);
}

console.log("");
for (const [group, { right, refused, total }] of groups) {
  if (group === "all") continue;
  console.log(
    `${group.padEnd(28)} ${String(right).padStart(3)}/${total} right` +
      ` (${(100 * right / total).toFixed(1)}%), ${refused} refused`,
  );
}
const all = groups.get("all") ?? { right: 0, refused: 0, total: 0 };
console.log(JSON.stringify({
  right: all.right,
  total: all.total,
  accuracy: all.total ? Number((all.right / all.total).toFixed(4)) : 0,
  refused: all.refused,
}));
