// Type-checked against the DOM library: src/server/page/deno.json.
/**
 * The drawing page's script, inlined by src/server/page.ts as a module script whose sha256 the page's
 * CSP allows. It sends what POST /read works on and no more: the pad averaged down here to 450×150
 * grey (a digit written across the pad's height stays ~100 px tall, well above MNIST's 28) and
 * encoded as PNG as soon as the pen lifts (no idle-time canvas encoding on the way), and a photo
 * decoded by the browser (EXIF orientation applied), shrunk to ≤ 1024 px and re-encoded as JPEG.
 * The answer is shown whole, and each digit with its confidence, the 28×28 image the model saw and
 * its box drawn over the pad or the photo. When the server requires an API token (401), it asks for one once, keeps it in localStorage and
 * re-sends the request with it; over the rate limit (429) it waits Retry-After and retries once.
 */
export {};

/** The pad is sent this many times smaller each way: 3×3 pad pixels averaged into one. */
const SHRINK = 3;
/**
 * Grey is sent in steps of this much (16 levels): a third fewer bytes than 256 levels once deflated
 * (a four-digit number 4.9 → 3.1 KB), a change of at most 3% of a pixel the server then resamples.
 */
const GREY_STEP = 17;
/** A photo is sent at most this long on its long side. */
const PHOTO_SIDE = 1024;
/** Send after the pen rests this long, and at least this often while it keeps moving. */
const PAUSE_MS = 60;
const MOVING_MS = 400;
/** Where the API token the person entered is kept (this origin's localStorage). */
const TOKEN_KEY = "mnist-edge-token";
/** What a Bearer header may carry (RFC 6750 §2.1, b64token), as the server checks it. */
const B64TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @returns {T}
 */
function $(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return /** @type {T} */ (element);
}

/** @type {HTMLCanvasElement} */
const pad = $("pad");
const ctx = /** @type {CanvasRenderingContext2D} */ (pad.getContext("2d", {
  willReadFrequently: true,
}));
/** @type {HTMLImageElement} */
const photo = $("photo");
/** Each digit's box over the pad or photo, in pixels of the image sent (its viewBox). */
const boxes = /** @type {SVGSVGElement} */ (/** @type {unknown} */ ($("boxes")));
const msg = $("msg"), result = $("result"), prediction = $("prediction"), sent = $("sent");
const digitList = $("digits");
/** @type {HTMLFormElement} */
const auth = $("auth");
/** @type {HTMLInputElement} */
const tokenInput = $("token");
const keyed = $("keyed");
const WIDTH = pad.width, HEIGHT = pad.height, INK = HEIGHT * 0.085;
const SENT_WIDTH = WIDTH / SHRINK, SENT_HEIGHT = HEIGHT / SHRINK;

/** The pointer drawing now, or null. */
let drawing = /** @type {number | null} */ (null);
/** @type {[number, number]} */
let last = [0, 0];
/** The pending send while the pen moves, or 0. */
let timer = /** @type {ReturnType<typeof setTimeout> | 0} */ (0);
let firstChange = 0, requests = 0;
/** @type {AbortController | null} */
let inFlight = null;

/**
 * One request ready to go: sent again as it is after a token is entered or a 429's wait.
 * `size` is the image's in pixels (the boxes' unit), null when the browser could not read it.
 * @typedef {{ width: number, height: number }} Size
 * @typedef {{ seq: number, form: FormData, source: "pad" | "file", size: Size | null,
 *   retried: boolean }} Outgoing
 */
/** The newest request, held while the token form is up. @type {Outgoing | null} */
let parked = null;
/** The pending retry after a 429, or 0. */
let retry = /** @type {ReturnType<typeof setTimeout> | 0} */ (0);
/** The API token sent with every request, or "" while the server has not asked for one. */
let token = storedToken();

/**
 * @param {string} text
 * @param {boolean} [error]
 */
function say(text, error = false) {
  msg.textContent = text;
  msg.classList.toggle("error", error);
}

function blank() {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, WIDTH, HEIGHT);
  ctx.lineCap = ctx.lineJoin = "round";
  ctx.lineWidth = INK;
  ctx.strokeStyle = ctx.fillStyle = "#000";
  photo.hidden = true;
  if (photo.src) URL.revokeObjectURL(photo.src);
  photo.removeAttribute("src");
  boxes.replaceChildren(); // they were the photo's, or the cleared pad's
}

/**
 * What POST /read answers: `text` is the digits left to right, lines top to bottom joined by "\n";
 * each digit's box is in pixels of the image sent, `pixels` (with ?debug=1) its 28×28 image.
 * @typedef {{ x: number, y: number, width: number, height: number }} Box
 * @typedef {{ digit: number, confidence: number, box: Box, pixels?: number[] }} ReadDigit
 * @typedef {{ text: string, digits: ReadDigit[] }} Reading
 */

const SVG = "http://www.w3.org/2000/svg";

/**
 * Shows a reading (or nothing): the number, a tile for each digit, and each digit's box over the
 * image it was read from.
 *
 * @param {Reading | null} reading
 * @param {Size | null} size The image sent, in the boxes' pixels; null draws no boxes.
 */
function showReading(reading, size) {
  prediction.textContent = reading?.text ?? "";
  digitList.replaceChildren(...(reading?.digits ?? []).map(digitTile));
  boxes.replaceChildren();
  if (!reading || !size) return;
  boxes.setAttribute("viewBox", `0 0 ${size.width} ${size.height}`);
  for (const { digit, box } of reading.digits) {
    const rect = document.createElementNS(SVG, "rect");
    for (const [name, value] of Object.entries(box)) rect.setAttribute(name, String(value));
    rect.dataset.digit = String(digit);
    boxes.append(rect);
  }
}

/**
 * One digit read: the 28×28 image the model saw, the digit, and a bar of its confidence.
 *
 * @param {ReadDigit} read
 * @param {number} index Its place in the number, from 0.
 */
function digitTile({ digit, confidence, pixels }, index) {
  const tile = document.createElement("li");
  tile.dataset.testid = "digit";
  tile.dataset.digit = String(digit);
  tile.dataset.confidence = confidence.toFixed(4);
  const seen = document.createElement("canvas");
  seen.width = seen.height = 28;
  seen.setAttribute("role", "img");
  seen.setAttribute(
    "aria-label",
    `Digit ${index + 1}, read as ${digit}: the 28 by 28 image the model saw`,
  );
  const img = new ImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    img.data.set([pixels?.[i] ?? 0, pixels?.[i] ?? 0, pixels?.[i] ?? 0, 255], i * 4);
  }
  /** @type {CanvasRenderingContext2D} */ (seen.getContext("2d")).putImageData(img, 0, 0);
  const value = document.createElement("b");
  value.textContent = String(digit);
  const pct = document.createElement("span");
  pct.textContent = `${Math.round(confidence * 100)}%`;
  const bar = document.createElement("span"), fill = document.createElement("i");
  bar.className = "bar";
  fill.style.width = `${(confidence * 100).toFixed(1)}%`;
  bar.append(fill);
  tile.append(seen, value, pct, bar);
  return tile;
}

/**
 * What the live region says of a reading: for one digit as before, for a number how sure the model
 * is of its least sure digit.
 *
 * @param {Reading} reading
 */
function readingSays({ text, digits }) {
  const [first] = digits;
  if (!first) return "The model found no digits there.";
  if (digits.length === 1) {
    const pct = Math.round(first.confidence * 100);
    return `Looks like a ${first.digit}${
      pct < 60 ? `, but only ${pct}% sure.` : ` (${pct}% sure).`
    }`;
  }
  let least = 0;
  digits.forEach((d, i) => {
    if (d.confidence < (digits[least]?.confidence ?? 1)) least = i;
  });
  const weakest = /** @type {ReadDigit} */ (digits[least]);
  const pct = Math.floor(weakest.confidence * 100), number = text.replaceAll("\n", " / ");
  return pct < 60
    ? `Reads ${number}, but digit ${
      least + 1
    } of ${digits.length} (a ${weakest.digit}) is only ${pct}% sure.`
    : `Reads ${number} (every digit at least ${pct}% sure).`;
}

/** @param {boolean} on */
function busy(on) {
  result.setAttribute("aria-busy", String(on));
}

/** @param {string} text */
function showSent(text) {
  sent.textContent = text;
}

function clearAll() {
  clearTimeout(timer);
  clearTimeout(retry);
  timer = retry = 0;
  requests++;
  inFlight?.abort();
  blank();
  showReading(null, null);
  showSent("");
  busy(false);
  say("The pad is empty: write a number, or drop an image file on it.");
}

/**
 * Prepares one image and posts it, unless a newer request has started meanwhile.
 * The sequence number is taken before any await, so an older answer can never land after it.
 * The result stays aria-busy from the first change until the newest answer is shown.
 *
 * @param {() => Promise<{ body: Blob, name: string, what: string, size: Size | null,
 *   preview?: () => void }>} prepare
 *   Encodes the image; `preview` shows it, only while this is still the newest request.
 * @param {"pad" | "file"} source
 */
async function read(prepare, source) {
  const seq = ++requests;
  inFlight?.abort();
  clearTimeout(retry);
  busy(true);
  let prepared;
  try {
    prepared = await prepare();
  } catch {
    if (seq !== requests) return;
    showReading(null, null);
    say("This browser could not prepare that image: try another.", true);
    busy(false);
    return;
  }
  if (seq !== requests) return;
  const { body, name, what, size, preview } = prepared;
  preview?.();
  const form = new FormData();
  form.append("image", body, name);
  showSent(`Sent ${what}: ${body.size.toLocaleString("en")} bytes.`);
  sent.dataset.bytes = String(body.size);
  await post({ seq, form, source, size, retried: false });
}

/**
 * POSTs a prepared request, with the API token when there is one, and shows the answer unless a
 * newer request has started meanwhile. A 401 parks it behind the token form, a 429 waits.
 *
 * @param {Outgoing} out
 */
async function post(out) {
  const { seq, form, source, size } = out;
  if (seq !== requests) return;
  if (!auth.hidden) {
    // The server asked for a token and none is entered yet: this request waits for it.
    parked = out;
    if (!timer && drawing === null) busy(false);
    return;
  }
  const controller = inFlight = new AbortController();
  const sentToken = token;
  busy(true);
  try {
    // Always with each digit's 28×28 image: the page shows what the model saw.
    const res = await fetch("/read?debug=1", {
      method: "POST",
      body: form,
      headers: sentToken ? { authorization: `Bearer ${sentToken}` } : {},
      signal: controller.signal,
    });
    const answer = await res.json().catch(() => null);
    if (seq !== requests) return;
    if (res.ok) {
      showReading(answer, size);
      say(readingSays(answer));
      return;
    }
    showReading(null, null);
    const error = answer?.error ?? { code: "", message: `the server answered ${res.status}` };
    if (error.code === "unauthorized" || error.code === "invalid_authorization") {
      askForToken(out, sentToken);
    } else if (res.status === 429 && error.code === "rate_limited") {
      pause(out, retryAfterSeconds(res));
    } else if (error.code === "no_ink") {
      say("The model found no digits there: write larger and darker.", true);
    } else if (error.code === "not_a_digit") {
      say("That does not look like a digit to the model: write the digits 0–9.", true);
    } else if (source === "file") say(`That file was rejected: ${error.message}`, true);
    else say(`The reader could not answer: ${error.message}`, true);
  } catch (e) {
    if (seq !== requests || /** @type {Error} */ (e).name === "AbortError") return;
    showReading(null, null);
    say(
      "Could not reach the reader (network error). Check your connection, then write or upload again.",
      true,
    );
  } finally {
    if (seq === requests && !timer && drawing === null) busy(false);
  }
}

/** The token kept from an earlier visit, or "" (also when this browser keeps no storage). */
function storedToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? "";
  } catch {
    return "";
  }
}

/**
 * Sends `value` with every request from now on and keeps it for the next visit; "" forgets it.
 *
 * @param {string} value
 */
function keepToken(value) {
  token = value;
  try {
    if (value) localStorage.setItem(TOKEN_KEY, value);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // No storage (a private window, or it is full): the token lasts as long as the page.
  }
  keyed.hidden = !value;
}

/**
 * Shows the token form and parks `out` until a token is saved. A token the server refused is
 * forgotten, so it is not sent again.
 *
 * @param {Outgoing} out
 * @param {string} sentToken The token `out` went with, or "".
 */
function askForToken(out, sentToken) {
  parked = out;
  if (sentToken && sentToken === token) keepToken("");
  auth.hidden = false;
  tokenInput.value = "";
  tokenInput.setAttribute("aria-invalid", String(!!sentToken));
  say(
    sentToken
      ? "The server did not accept that API token. Check it and enter it again."
      : "This server asks for an API token before it reads digits: enter it below.",
    !!sentToken,
  );
  tokenInput.focus();
}

/** @param {SubmitEvent} e */
function saveToken(e) {
  e.preventDefault(); // handled here: the page's CSP allows no form submission
  const value = tokenInput.value.trim();
  if (!B64TOKEN.test(value)) {
    tokenInput.setAttribute("aria-invalid", "true");
    say(
      "An API token is made of letters, digits and . _ ~ + / - (then any =): check it and enter it again.",
      true,
    );
    tokenInput.focus();
    return;
  }
  keepToken(value);
  auth.hidden = true;
  tokenInput.value = "";
  tokenInput.removeAttribute("aria-invalid");
  const out = parked;
  parked = null;
  if (out && out.seq === requests) post(out);
  else say("API token saved: write a number, or upload an image.");
}

/**
 * The wait a 429 asks for, in whole seconds: Retry-After as seconds or an HTTP date, 5 s without it.
 *
 * @param {Response} res
 */
function retryAfterSeconds(res) {
  const header = res.headers.get("retry-after") ?? "";
  const seconds = /^\d+$/.test(header) ? Number(header) : (Date.parse(header) - Date.now()) / 1000;
  return Math.min(600, Math.max(1, Math.ceil(Number.isFinite(seconds) ? seconds : 5)));
}

/**
 * Over the rate limit: says so calmly and sends `out` once more after the wait, if nothing newer
 * has been drawn by then (a newer request is sent on its own).
 *
 * @param {Outgoing} out
 * @param {number} seconds
 */
function pause(out, seconds) {
  const again = out.retried ? `Write again in ${seconds} s.` : `Trying again in ${seconds} s.`;
  say(`Taking a short break — too many requests. ${again}`);
  if (out.retried) return;
  clearTimeout(retry);
  retry = setTimeout(() => {
    retry = 0;
    post({ ...out, retried: true });
  }, seconds * 1000);
}

/** @param {Uint8Array} bytes */
function crc32(bytes) {
  let crc = -1;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

/**
 * A grey 8-bit PNG of `grey` (`width` × `height`, rows top to bottom), deflated by CompressionStream
 * (zlib format, as PNG wants it).
 *
 * @param {Uint8Array} grey
 * @param {number} width
 * @param {number} height
 * @returns {Promise<Blob>}
 */
async function greyPng(grey, width, height) {
  const rows = new Uint8Array((width + 1) * height); // each row: filter type 0, then its pixels
  for (let y = 0; y < height; y++) {
    rows.set(grey.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  }
  const zlib = new Uint8Array(
    await new Response(new Blob([rows]).stream().pipeThrough(new CompressionStream("deflate")))
      .arrayBuffer(),
  );
  /**
   * @param {string} type
   * @param {Uint8Array} data
   */
  const chunk = (type, data) => {
    const out = new Uint8Array(12 + data.length), view = new DataView(out.buffer);
    view.setUint32(0, data.length);
    for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
    out.set(data, 8);
    view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
    return out;
  };
  const header = new Uint8Array(13), view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 0, 0, 0, 0], 8); // 8-bit grey, deflate, no interlace
  const signature = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);
  const parts = [
    signature,
    chunk("IHDR", header),
    chunk("IDAT", zlib),
    chunk("IEND", new Uint8Array()),
  ];
  return new Blob(parts, { type: "image/png" });
}

/**
 * The pad's pixels now, averaged down to SENT_WIDTH × SENT_HEIGHT grey (dark ink on white) in steps
 * of GREY_STEP.
 */
function padGrey() {
  const { data } = ctx.getImageData(0, 0, WIDTH, HEIGHT);
  const grey = new Uint8Array(SENT_WIDTH * SENT_HEIGHT), sums = new Uint32Array(SENT_WIDTH);
  for (let y = 0; y < SENT_HEIGHT; y++) {
    sums.fill(0);
    for (let sy = y * SHRINK; sy < (y + 1) * SHRINK; sy++) {
      for (let sx = 0, i = sy * WIDTH * 4; sx < WIDTH; sx++, i += 4) {
        const x = (sx / SHRINK) | 0;
        sums[x] = (sums[x] ?? 0) + (data[i] ?? 0);
      }
    }
    for (let x = 0; x < SENT_WIDTH; x++) {
      grey[y * SENT_WIDTH + x] = Math.round((sums[x] ?? 0) / (SHRINK * SHRINK * GREY_STEP)) *
        GREY_STEP;
    }
  }
  return grey;
}

function sendPad() {
  clearTimeout(timer);
  timer = 0;
  const grey = padGrey(); // read now, synchronously: later strokes belong to the next request
  read(async () => ({
    body: await greyPng(grey, SENT_WIDTH, SENT_HEIGHT),
    name: "pad.png",
    what: `the pad as a ${SENT_WIDTH}×${SENT_HEIGHT} grey PNG`,
    size: { width: SENT_WIDTH, height: SENT_HEIGHT },
  }), "pad");
}

/** Sends once the pen rests for PAUSE_MS, and at least every MOVING_MS while it keeps moving. */
function changed() {
  busy(true);
  const now = performance.now();
  if (!timer) firstChange = now;
  clearTimeout(timer);
  timer = setTimeout(
    sendPad,
    Math.max(0, Math.min(PAUSE_MS, firstChange + MOVING_MS - now)),
  );
}

/**
 * @param {{ clientX: number, clientY: number }} e
 * @returns {[number, number]}
 */
function at(e) {
  const r = pad.getBoundingClientRect();
  return [(e.clientX - r.left) * WIDTH / r.width, (e.clientY - r.top) * HEIGHT / r.height];
}

pad.addEventListener("pointerdown", (e) => {
  if (drawing !== null || e.button !== 0) return;
  e.preventDefault();
  pad.setPointerCapture(e.pointerId);
  if (!photo.hidden) blank();
  drawing = e.pointerId;
  last = at(e);
  ctx.beginPath();
  ctx.arc(last[0], last[1], INK / 2, 0, 2 * Math.PI);
  ctx.fill();
  changed();
});
pad.addEventListener("pointermove", (e) => {
  if (e.pointerId !== drawing) return;
  ctx.beginPath();
  ctx.moveTo(last[0], last[1]);
  for (const c of e.getCoalescedEvents?.() ?? [e]) {
    last = at(c);
    ctx.lineTo(last[0], last[1]);
  }
  ctx.stroke();
  changed();
});
for (const type of ["pointerup", "pointercancel"]) {
  pad.addEventListener(type, (e) => {
    if (/** @type {PointerEvent} */ (e).pointerId !== drawing) return;
    drawing = null;
    sendPad(); // pen-up: answer now, not after the pause
  });
}

/**
 * The photo as the browser shows it (EXIF orientation applied), at most PHOTO_SIDE on its long
 * side, as JPEG with its size; null when the browser cannot decode the file.
 *
 * @param {File} file
 * @returns {Promise<{ jpeg: Blob, size: Size } | null>}
 */
async function shrinkPhoto(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    return null;
  }
  const scale = Math.min(1, PHOTO_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(width, height);
  const small = /** @type {OffscreenCanvasRenderingContext2D} */ (canvas.getContext("2d"));
  small.fillStyle = "#fff"; // transparent pixels become paper, not black
  small.fillRect(0, 0, width, height);
  small.imageSmoothingQuality = "high";
  small.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  return {
    jpeg: await canvas.convertToBlob({ type: "image/jpeg", quality: 0.9 }),
    size: { width, height },
  };
}

/**
 * Shows `image` as the photo, revoking the object URL of the one it replaces.
 *
 * @param {Blob} image
 * @param {string} name
 */
function showPhoto(image, name) {
  if (photo.src) URL.revokeObjectURL(photo.src);
  photo.src = URL.createObjectURL(image);
  photo.alt = `Uploaded: ${name}`;
  photo.hidden = false;
}

/** @param {File | undefined} file */
function upload(file) {
  if (!file) return;
  clearAll();
  say(`Reading ${file.name}…`);
  read(async () => {
    const shrunk = await shrinkPhoto(file);
    const preview = () => showPhoto(shrunk?.jpeg ?? file, file.name);
    return shrunk
      ? {
        body: shrunk.jpeg,
        name: "photo.jpg",
        what: `${file.name} as a JPEG (${file.size.toLocaleString("en")} bytes chosen)`,
        size: shrunk.size,
        preview,
      }
      : {
        body: file,
        name: file.name,
        what: `${file.name} as it is (the browser cannot read it)`,
        size: null,
        preview,
      };
  }, "file");
}

/** @param {Event} e */
function chosen(e) {
  const input = /** @type {HTMLInputElement} */ (e.target);
  upload(input.files?.[0]);
  input.value = "";
}

$("clear").addEventListener("click", clearAll);
auth.addEventListener("submit", saveToken);
$("forget").addEventListener("click", () => {
  keepToken("");
  say("The API token is forgotten: this browser no longer sends it.");
});
$("file").addEventListener("change", chosen);
$("camera").addEventListener("change", chosen);
const drop = $("drop");
drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  upload(e.dataTransfer?.files[0]);
});
document.addEventListener("paste", (e) => upload(e.clipboardData?.files[0]));
photo.addEventListener("error", () => {
  photo.hidden = true;
});

blank();
showReading(null, null);
keyed.hidden = !token;
