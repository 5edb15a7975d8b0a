"""Shows phone photos as a viewer does (Pillow's ImageOps.exif_transpose) and compares each with its
upright reference: prints one JSON line per photo with the EXIF Orientation Pillow read, the mean
absolute difference (grey levels) to the reference, and the smallest difference any other of the 8
orientations would give — so a right answer is told apart from a lucky one.

usage: /usr/bin/python3 exif_upright.py PHOTO.jpg REFERENCE.png [PHOTO REFERENCE ...]
"""
import json
import sys

import numpy as np
from PIL import Image, ImageOps

TRANSPOSES = [None, Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_180,
              Image.Transpose.FLIP_TOP_BOTTOM, Image.Transpose.TRANSPOSE, Image.Transpose.ROTATE_270,
              Image.Transpose.TRANSVERSE, Image.Transpose.ROTATE_90]


def grey(image, size):
    return np.asarray(image.convert("L").resize(size, Image.Resampling.BOX), dtype=np.float32)


def main(paths):
    for photo_path, reference_path in zip(paths[::2], paths[1::2]):
        reference = Image.open(reference_path)
        expected = np.asarray(reference.convert("L"), dtype=np.float32)
        photo = Image.open(photo_path)
        orientation = photo.getexif().get(0x0112)
        shown = ImageOps.exif_transpose(photo)
        mae = float(np.abs(grey(shown, reference.size) - expected).mean()) if shown.size[0] * reference.size[1] == shown.size[1] * reference.size[0] else None
        others = []
        for value, transpose in enumerate(TRANSPOSES, start=1):
            if value == orientation:
                continue
            other = photo if transpose is None else photo.transpose(transpose)
            if other.size[0] * reference.size[1] == other.size[1] * reference.size[0]:
                others.append(float(np.abs(grey(other, reference.size) - expected).mean()))
        print(json.dumps({"photo": photo_path, "orientation": orientation, "size": photo.size,
                          "shown": shown.size, "mae": mae, "best_other_mae": min(others)}))


if __name__ == "__main__":
    main(sys.argv[1:])
