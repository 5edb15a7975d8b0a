"""Make the PyTorch parity fixture for the TypeScript loader + forward pass.

Builds the seed tutorial's Net with torch.manual_seed(0), trains it briefly and
deterministically (the first 100 unshuffled training batches of 64, Adam defaults,
1 thread: a few seconds) so the weights are realistic, then writes
  tests/fixtures/torch_net.safetensors   conv.weight [32,1,3,3], conv.bias [32],
                                         fc.weight [10,5408], fc.bias [10]; all F32
  tests/fixtures/torch_net_logits.json   {"torch", "images" (raw IDX bytes 0-255 of test
                                         images 0..7, 784 ints each), "labels", "log_probs"
                                         (Net.forward in eval mode), "logits" (fc output
                                         before log_softmax), "pred", "logits_note", ...}
The TS side normalises the raw pixels itself with (x/255 - 0.1307)/0.3081 (NCHW [n,1,28,28]).
The JSON is written as json.dumps(indent=2) + newline, which is already `deno fmt` canonical.

Run:
    /usr/bin/python3 bench/make_torch_fixture.py --data DIR [--out tests/fixtures]
"""

import argparse
import json
import os
import sys

try:
    import torch
    import torch.nn.functional as F
    import torch.optim as optim
except ImportError as e:
    print(f"PyTorch missing ({e}): install with `apt-get install -y python3-torch "
          "python3-numpy` and run with /usr/bin/python3", file=sys.stderr)
    sys.exit(3)

from pytorch_mnist import MEAN, STD, MnistIdx, Net, read_idx
from safetensors_io import load_file, save_file

N_IMAGES = 8
TRAIN_BATCHES = 100
BATCH_SIZE = 64


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="directory with the raw MNIST IDX files")
    parser.add_argument("--out", default="tests/fixtures", help="output directory")
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(0)

    model = Net()
    optimizer = optim.Adam(model.parameters())
    loader = torch.utils.data.DataLoader(MnistIdx(args.data, train=True), batch_size=BATCH_SIZE)
    model.train()
    for batch_idx, (data, target) in enumerate(loader):
        if batch_idx == TRAIN_BATCHES:
            break
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
    print(f"trained {TRAIN_BATCHES} batches of {BATCH_SIZE}, last loss {loss.item():.4f}")

    os.makedirs(args.out, exist_ok=True)
    st_path = os.path.join(args.out, "torch_net.safetensors")
    save_file(model.state_dict(), st_path,
              metadata={"format": "pt", "source": "bench/make_torch_fixture.py",
                        "torch": torch.__version__})

    # Reload from the file we just wrote so the logits are those of the stored weights.
    tensors, _ = load_file(st_path)
    model = Net()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=True)
    model.eval()

    raw = read_idx(os.path.join(args.data, "t10k-images-idx3-ubyte"))[:N_IMAGES]
    labels = read_idx(os.path.join(args.data, "t10k-labels-idx1-ubyte"))[:N_IMAGES]
    x = torch.from_numpy(raw.astype("float32") / 255.0).unsqueeze(1)  # [n,1,28,28]
    x = (x - MEAN) / STD
    with torch.no_grad():
        log_probs = model(x)
        h = F.max_pool2d(F.relu(model.conv(x)), 2)
        logits = model.fc(torch.flatten(h, 1))
    assert torch.allclose(F.log_softmax(logits, dim=1), log_probs)

    fixture = {
        "torch": torch.__version__,
        "images": [[int(p) for p in img.reshape(-1)] for img in raw],
        "labels": [int(v) for v in labels],
        "log_probs": [[float(v) for v in row] for row in log_probs],
        "logits": [[float(v) for v in row] for row in logits],
        "pred": [int(v) for v in log_probs.argmax(dim=1)],
        "logits_note": "output of Net.forward in eval mode (log-softmax) for the normalised "
                       "images; 'logits' is the fc output before log_softmax",
        "images_note": f"raw bytes 0-255 of MNIST t10k images 0..{N_IMAGES - 1}, row-major "
                       "28x28; normalise as (x/255 - 0.1307)/0.3081, NCHW [n,1,28,28]",
        "weights": "torch_net.safetensors (F32; conv.weight [32,1,3,3], conv.bias [32], "
                   "fc.weight [10,5408] in channel-first flatten order, fc.bias [10])",
        "training": f"torch.manual_seed(0), Adam defaults, first {TRAIN_BATCHES} unshuffled "
                    f"training batches of {BATCH_SIZE}, 1 thread",
    }
    json_path = os.path.join(args.out, "torch_net_logits.json")
    with open(json_path, "w") as f:
        f.write(json.dumps(fixture, indent=2) + "\n")
    print(f"wrote {st_path} ({os.path.getsize(st_path)} bytes) and {json_path}")
    print("labels", fixture["labels"], "pred", fixture["pred"])


if __name__ == "__main__":
    main()
