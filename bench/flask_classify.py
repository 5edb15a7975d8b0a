"""The seed's PyTorch Net behind Flask, with Pillow doing the preprocessing: the reference
`deno task bench:edge` measures the Worker against (server CPU per request).

POST /classify takes one image, as a multipart part (any field name) or as the raw body, and
answers {"digit", "probabilities"} like the Worker. GET /health answers {"status": "ok"}.

Per request: Image.open → draft("L", (112, 112)) (JPEG: libjpeg's DCT scaling decodes a 12 MP
photo at 1/8 a side) → ImageOps.exif_transpose → convert("L") → box-reduced to ≤ 112 px a side →
the MNIST recipe in numpy (ink made bright, background removed, cropped to the ink, fitted to
20×20 keeping the aspect, centred by mass in 28×28) → Net forward → JSON. Pillow's
MAX_IMAGE_PIXELS check (DecompressionBombError) stays on.

Run (Debian: apt-get install -y python3-torch python3-pil python3-flask gunicorn python3-numpy):
    MNIST_MODEL=models/mnist-cnn.safetensors gunicorn --chdir bench -w 2 -k sync \\
        -b 127.0.0.1:8000 flask_classify:app
"""

import io
import os

import numpy as np
import torch
from flask import Flask, jsonify, request
from PIL import Image, ImageOps

from pytorch_mnist import MEAN, STD, Net
from safetensors_io import load_file

WORKING_MAX_SIDE = 112  # as the Worker: everything after decoding runs on ≤ 112 px a side
MIN_CONTRAST = 48  # of 255: less than this above the background is not ink
BOX, FIELD = 20, 28  # MNIST: the digit fitted to 20×20, centred by mass in 28×28

torch.set_num_threads(1)
MODEL_PATH = os.environ.get(
    "MNIST_MODEL",
    os.path.join(os.path.dirname(__file__), "..", "models", "mnist-cnn.safetensors"),
)
net = Net()
tensors, _ = load_file(MODEL_PATH)
net.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=True)
net.eval()

app = Flask(__name__)


class NoInk(ValueError):
    pass


def decode(data):
    """Bytes → grey Pillow image, decoded at (about) the working size, upright."""
    image = Image.open(io.BytesIO(data))
    image.draft("L", (WORKING_MAX_SIDE, WORKING_MAX_SIDE))
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # Transparency composited over white, as a canvas export is dark ink on transparent.
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    image = image.convert("L")
    factor = -(-max(image.size) // WORKING_MAX_SIDE)
    return image.reduce(factor) if factor > 1 else image


def to_mnist(image):
    """Grey image → [28, 28] float32, 0 background … 1 ink."""
    # a: [H, W], ink bright
    a = np.asarray(image, dtype=np.float32)
    if np.median(a) >= 128:
        a = 255 - a
    a = np.clip(a - np.percentile(a, 25), 0, None)
    peak = a.max()
    if peak < MIN_CONTRAST:
        raise NoInk("nothing stands out from the background")
    ys, xs = np.nonzero(a >= max(peak / 2, MIN_CONTRAST / 2))
    a = a[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    a = np.clip(a * (255 / peak), 0, 255)
    h, w = a.shape
    scale = BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    box = np.asarray(Image.fromarray(a.astype(np.uint8)).resize(size, Image.BOX), dtype=np.float32)
    # Centre by mass: the box's centre of mass lands on the field's centre.
    total = box.sum()
    yy, xx = np.indices(box.shape)
    cy, cx = (yy * box).sum() / total, (xx * box).sum() / total
    top = int(np.clip(round(FIELD / 2 - 0.5 - cy), 0, FIELD - box.shape[0]))
    left = int(np.clip(round(FIELD / 2 - 0.5 - cx), 0, FIELD - box.shape[1]))
    field = np.zeros((FIELD, FIELD), dtype=np.float32)
    field[top:top + box.shape[0], left:left + box.shape[1]] = box
    return field / 255


def error(status, code, message):
    return jsonify({"error": {"code": code, "message": message}}), status


@app.get("/health")
def health():
    return jsonify({"status": "ok"})


@app.post("/classify")
def classify():
    try:
        if request.mimetype == "multipart/form-data":
            part = next(iter(request.files.values()), None)
            data = part.read() if part is not None else b""
        else:
            data = request.get_data()
    except Exception as e:  # gunicorn's NoMoreData, werkzeug's ClientDisconnected: a cut-short body
        return error(400, "body_incomplete", f"the body ended early: {type(e).__name__}")
    if not data:
        return error(400, "no_image", "the request carries no image")
    try:
        digit = to_mnist(decode(data))
    except Image.DecompressionBombError as e:
        return error(413, "image_too_large", str(e))
    except NoInk as e:
        return error(422, "no_ink", str(e))
    except (OSError, ValueError, SyntaxError) as e:  # what Pillow raises for a corrupt image
        return error(400, "invalid_image", str(e))
    # x: [1, 1, 28, 28], normalised as in training
    x = torch.from_numpy((digit - MEAN) / STD).reshape(1, 1, FIELD, FIELD)
    with torch.no_grad():
        probabilities = net(x).exp()[0]
    return jsonify({
        "digit": int(probabilities.argmax()),
        "probabilities": [round(float(p), 6) for p in probabilities],
    })
