"""Check that a safetensors model file (e.g. the one our TypeScript trainer exports) loads
UNCHANGED into the seed tutorial's PyTorch Net and evaluate it on the 10,000 MNIST test images.

Expected tensors (all F32): conv.weight [32,1,3,3], conv.bias [32], fc.weight [10,5408]
(PyTorch's channel-first flatten order), fc.bias [10]; "__metadata__" may hold strings.
load_state_dict(strict=True) fails on any missing, extra or mis-shaped tensor; the file
format itself is validated strictly by safetensors_io.load_file.

Run:
    /usr/bin/python3 bench/check_torch_loads.py --model models/mnist-cnn.safetensors --data DIR

Prints the seed's "Test set: ..." line (accuracy with 2 decimals) and, as the last line,
a JSON object {"ok", "test_acc" (fraction), "test_loss", "test_correct", "tensors",
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

from pytorch_mnist import MnistIdx, Net  # bench/ is sys.path[0] when run as a script
from safetensors_io import load_file


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="safetensors file to check")
    parser.add_argument("--data", required=True, help="directory with the raw MNIST IDX files")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads(N)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    model = Net()
    try:
        tensors, metadata = load_file(args.model)
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
    with torch.no_grad():
        for data, target in test_loader:
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    total = len(test_loader.dataset)
    test_loss /= total
    print('Test set: Average loss: {:.4f}, Accuracy: {}/{} ({:.2f}%)'.format(
        test_loss, correct, total, 100. * correct / total))
    print(json.dumps({
        "ok": True, "test_acc": correct / total, "test_loss": test_loss,
        "test_correct": correct, "test_total": total,
        "tensors": {k: list(v.shape) for k, v in tensors.items()},
        "metadata": metadata, "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
