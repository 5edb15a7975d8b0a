"""Check that a safetensors model file (e.g. one our TypeScript trainer exports) loads into the
equivalent PyTorch module and evaluate it on the 10,000 MNIST test images.

The seed's Net (tensors conv.weight [32,1,3,3], conv.bias [32], fc.weight [10,5408] in PyTorch's
channel-first flatten order, fc.bias [10]) must load UNCHANGED: all F32. cnn2's files
(conv1.*, conv2.*, fc1.*, fc2.*, an eleventh output "not a digit") load into
bench/pytorch_cnn2.py's Cnn2 after the stored types are widened: F16 to float32, and each I8
tensor w to w * s (s its `<name>.scale`, a scale per row), the `.scale` entries dropped.
load_state_dict(strict=True) fails on any missing, extra or mis-shaped tensor; the file format
itself is validated strictly by safetensors_io.load_file.

Run:
    /usr/bin/python3 bench/check_torch_loads.py --model models/mnist-cnn.safetensors --data DIR

Prints the seed's "Test set: ..." line (accuracy with 2 decimals; for cnn2, "not a digit" counts
as wrong, and the likeliest digit's accuracy follows) and, as the last line, a JSON object {"ok",
"test_acc" (fraction), "test_loss", "test_correct", "digit_correct" (cnn2), "tensors",
"metadata", "torch"}. Exit status: 0 ok, 1 file or state_dict rejected, 3 torch missing.
"""

import argparse
import json
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError as e:
    print(f"PyTorch missing ({e}): install with `apt-get install -y python3-torch "
          "python3-numpy` and run with /usr/bin/python3", file=sys.stderr)
    sys.exit(3)

import numpy as np

from pytorch_cnn2 import Cnn2  # bench/ is sys.path[0] when run as a script
from pytorch_mnist import MnistIdx, Net
from safetensors_io import load_file


def widened(tensors):
    """cnn2's stored tensors as float32: F16 widened, each I8 tensor times its per-row scales."""
    out = {}
    for name, t in tensors.items():
        if name.endswith(".scale"):
            continue
        if t.dtype == np.int8:
            scale = tensors.get(name + ".scale")
            if scale is None or scale.shape != (t.shape[0],):
                raise ValueError(f"{name}: an I8 tensor needs {name}.scale of shape [{t.shape[0]}]")
            t = t.astype(np.float32) * scale.astype(np.float32).reshape(-1, *[1] * (t.ndim - 1))
        out[name] = t.astype(np.float32)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="safetensors file to check")
    parser.add_argument("--data", required=True, help="directory with the raw MNIST IDX files")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads(N)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    try:
        tensors, metadata = load_file(args.model)
        cnn2 = "conv1.weight" in tensors
        model = Cnn2() if cnn2 else Net()
        if cnn2:
            tensors = widened(tensors)
        bad = {k: str(v.dtype) for k, v in tensors.items() if str(v.dtype) != "float32"}
        if bad:
            raise ValueError(f"expected F32 tensors, got {bad}")
        model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=True)
    except (ValueError, RuntimeError, KeyError, UnicodeDecodeError) as e:
        print(f"REJECTED {args.model}: {e}")
        print(json.dumps({"ok": False, "error": str(e)}))
        sys.exit(1)

    test_dataset = MnistIdx(args.data, train=False)
    test_loader = torch.utils.data.DataLoader(test_dataset, batch_size=1000)
    model.eval()
    test_loss = 0
    correct = 0
    digit_correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
            digit = output[:, :10].argmax(dim=1, keepdim=True)
            digit_correct += digit.eq(target.view_as(digit)).sum().item()
    total = len(test_loader.dataset)
    test_loss /= total
    print('Test set: Average loss: {:.4f}, Accuracy: {}/{} ({:.2f}%)'.format(
        test_loss, correct, total, 100. * correct / total))
    if cnn2:
        print('The likeliest digit: {}/{} ({:.2f}%)'.format(
            digit_correct, total, 100. * digit_correct / total))
    print(json.dumps({
        "ok": True, "test_acc": correct / total, "test_loss": test_loss,
        "test_correct": correct, "test_total": total,
        **({"digit_correct": digit_correct} if cnn2 else {}),
        "tensors": {k: list(v.shape) for k, v in tensors.items()},
        "metadata": metadata, "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
