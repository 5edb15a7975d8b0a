/**
 * Glyphs of Debian's font packages as ink, for the reading evaluation's sets (font_digits.ts,
 * non_digits.ts): the fonts, the packages that hold them, and their glyphs rasterised by Pillow
 * (render_glyphs.py, one Python process per call).
 *
 * @example
 * ```ts ignore
 * const [seven] = await renderGlyphs([{ font: HANDWRITING_FONTS[0]!, text: "7", height: 120 }]);
 * ```
 */
import { PYTHON } from "./pillow.ts";

/** A font file of a Debian package. */
export interface Font {
  /** Short name for reports: "Kristi", "Comic Neue Bold". */
  name: string;
  path: string;
  /** The Debian package that installs `path`. */
  package: string;
}

const font = (name: string, path: string, pkg: string): Font => ({ name, path, package: pkg });
const BWHT = "/usr/share/fonts/opentype/bwht/BecauseWe";
const COMIC = "/usr/share/fonts/opentype/comic-neue/ComicNeue-";
const DKG = "/usr/share/fonts/truetype/fifthhorseman/dkg";

/**
 * Handwriting fonts of Debian bookworm whose digits look written by hand. Left out: Femke Klaver
 * (hollow outlines, as no one writes), Cabin Sketch (hatched fills), Lobster and Leckerli One
 * (display lettering).
 */
export const HANDWRITING_FONTS: readonly Font[] = [
  ...["Build", "Connect", "Create", "Learn", "Mentor", "Organize"].map((style) =>
    font(`Because We ${style}`, `${BWHT}${style}-Regular.otf`, "fonts-bwht")
  ),
  ...["Regular", "Bold", "Italic", "Light"].map((style) =>
    font(`Comic Neue ${style}`, `${COMIC}${style}.otf`, "fonts-comic-neue")
  ),
  ...["Regular", "Bold"].map((style) =>
    font(
      `Dancing Script ${style}`,
      `/usr/share/fonts/opentype/dancingscript/DancingScript-${style}.otf`,
      "fonts-dancingscript",
    )
  ),
  font(
    "Kaushan Script",
    "/usr/share/fonts/opentype/kaushanscript/KaushanScript-Regular.otf",
    "fonts-kaushanscript",
  ),
  font("Breip", "/usr/share/fonts/truetype/breip/Breip.ttf", "fonts-breip"),
  font("dkg", `${DKG}.ttf`, "fonts-dkg-handwriting"),
  font("dkg Bold", `${DKG}Bd.ttf`, "fonts-dkg-handwriting"),
  font("dkg Italic", `${DKG}It.ttf`, "fonts-dkg-handwriting"),
  font("Humor Sans", "/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf", "fonts-humor-sans"),
  font("Kristi", "/usr/share/fonts/truetype/kristi/Kristi.ttf", "fonts-kristi"),
  font("Rufscript", "/usr/share/fonts/truetype/rufscript/Rufscript010.ttf", "fonts-rufscript"),
  font(
    "Ecolier",
    "/usr/share/fonts/truetype/ecolier-court/Ecolier-court.ttf",
    "fonts-ecolier-court",
  ),
];

/** Ordinary type, for letters and symbols that are typed rather than written. */
export const PRINT_FONTS: readonly Font[] = [
  font("DejaVu Sans", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "fonts-dejavu-core"),
  font(
    "DejaVu Sans Bold",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "fonts-dejavu-core",
  ),
  font("DejaVu Serif", "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", "fonts-dejavu-core"),
  font(
    "DejaVu Sans Mono",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "fonts-dejavu-core",
  ),
  ...["Sans-Regular", "Serif-Regular", "Sans-Italic", "Serif-Bold"].map((style) =>
    font(
      `Liberation ${style.replace("-", " ")}`,
      `/usr/share/fonts/truetype/liberation/Liberation${style}.ttf`,
      "fonts-liberation",
    )
  ),
];

/**
 * What a run needs and this machine lacks: the Debian packages of missing fonts (Pillow's
 * `python3-pil` first when Python cannot import it), empty when all is there.
 */
export async function missingPackages(
  fonts: readonly Font[] = [...HANDWRITING_FONTS, ...PRINT_FONTS],
): Promise<string[]> {
  const missing = new Set<string>();
  const probe = await new Deno.Command(PYTHON, {
    args: ["-c", "import PIL.ImageFont"],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => undefined);
  if (!probe?.success) missing.add("python3-pil");
  for (const { path, package: pkg } of fonts) {
    try {
      await Deno.stat(path);
    } catch {
      missing.add(pkg);
    }
  }
  return [...missing];
}

/** One glyph to draw. */
export interface GlyphJob {
  font: Font;
  /** One character (or a short string drawn as one piece of ink). */
  text: string;
  /** The ink's height in pixels, before it is turned. */
  height: number;
  /** Pixels of outline in the ink's colour around every stroke: a faux bold. Default 0. */
  stroke?: number;
  /** Degrees, anticlockwise. Default 0. */
  angle?: number;
}

/** A glyph's ink: coverage 0–255 per pixel, rows top to bottom, cropped to the ink. */
export interface Glyph {
  width: number;
  height: number;
  ink: Uint8Array;
}

/**
 * Draws `jobs` with Pillow, in one Python process.
 *
 * @returns One glyph per job, in order; `undefined` where the font has no such glyph.
 * @throws Error with Python's message when it fails (no Pillow, a missing font file).
 */
export async function renderGlyphs(jobs: readonly GlyphJob[]): Promise<(Glyph | undefined)[]> {
  const script = new URL("./render_glyphs.py", import.meta.url).pathname;
  const child = new Deno.Command(PYTHON, {
    args: [script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const request = JSON.stringify({
    jobs: jobs.map((job) => ({
      font: job.font.path,
      text: job.text,
      height: job.height,
      stroke: Math.round(job.stroke ?? 0),
      angle: job.angle ?? 0,
    })),
  });
  const writer = child.stdin.getWriter();
  const writing = writer.write(new TextEncoder().encode(request)).then(() => writer.close());
  const [{ success, stdout, stderr }] = await Promise.all([child.output(), writing]);
  if (!success) {
    throw new Error(`render_glyphs.py failed: ${new TextDecoder().decode(stderr).trim()}`);
  }
  const view = new DataView(stdout.buffer, stdout.byteOffset, stdout.byteLength);
  const glyphs: (Glyph | undefined)[] = [];
  let at = 0;
  for (const job of jobs) {
    if (at + 5 > stdout.length) throw new Error(`render_glyphs.py stopped before "${job.text}"`);
    const drawn = view.getUint8(at) === 1;
    const width = view.getUint16(at + 1, true), height = view.getUint16(at + 3, true);
    at += 5;
    glyphs.push(drawn ? { width, height, ink: stdout.slice(at, at + width * height) } : undefined);
    at += drawn ? width * height : 0;
  }
  return glyphs;
}
