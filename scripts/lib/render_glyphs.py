"""Rasterises glyphs with Pillow (FreeType) for scripts/lib/glyphs.ts.

Reads one JSON object from stdin: {"jobs": [{"font", "text", "height", "stroke", "angle"}, ...]}.
For each job, in order, writes to stdout: a status byte (1 drawn, 0 the font has no such glyph),
width and height (uint16, little-endian), then width x height bytes of ink coverage (0-255, rows
top to bottom), cropped to the ink. The glyph's ink is `height` px tall before it is turned by
`angle` degrees (anticlockwise); `stroke` px of outline in the ink's colour make a faux bold.
"""
import json
import struct
import sys

from PIL import Image, ImageDraw, ImageFont

# A code point no font here draws: what the font shows for a glyph it lacks (.notdef).
ABSENT = "\U0010fffd"
REFERENCE = 200

fonts = {}
heights = {}
notdef = {}


def font_at(path, size):
    key = (path, size)
    if key not in fonts:
        fonts[key] = ImageFont.truetype(path, size)
    return fonts[key]


def draw(path, size, text, stroke):
    font = font_at(path, size)
    left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    pad = 4 + stroke
    image = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 0)
    ImageDraw.Draw(image).text(
        (pad - left, pad - top), text, font=font, fill=255, stroke_width=stroke, stroke_fill=255
    )
    return image


def ink_height(path, text):
    """The glyph's ink height at REFERENCE px, so a job's size can be set from the height it wants."""
    key = (path, text)
    if key not in heights:
        box = draw(path, REFERENCE, text, 0).getbbox()
        heights[key] = box[3] - box[1] if box else 0
    return heights[key]


def lacks(path, text):
    if path not in notdef:
        notdef[path] = draw(path, REFERENCE, ABSENT, 0).tobytes()
    return draw(path, REFERENCE, text, 0).tobytes() == notdef[path]


def main():
    jobs = json.load(sys.stdin)["jobs"]
    out = sys.stdout.buffer
    for job in jobs:
        path, text = job["font"], job["text"]
        measured = ink_height(path, text)
        if measured == 0 or lacks(path, text):
            out.write(struct.pack("<BHH", 0, 0, 0))
            continue
        size = max(4, round(REFERENCE * job["height"] / measured))
        image = draw(path, size, text, int(job.get("stroke", 0)))
        angle = float(job.get("angle", 0))
        if angle:
            image = image.rotate(angle, resample=Image.BICUBIC, expand=True)
        box = image.getbbox()
        image = image.crop(box) if box else image.crop((0, 0, 1, 1))
        out.write(struct.pack("<BHH", 1, image.width, image.height))
        out.write(image.tobytes())
    out.flush()


main()
