"""PyTorch reference for mnist-edge's second network, `cnn2` (src/model/archs/cnn2.ts), trained
with the same recipe as `deno task train --model cnn2`: the same layers and initialisation
(PyTorch's defaults), Adam (lr 2e-3) annealed along a cosine step by step, batch 64, 6 epochs,
the training digits shuffled every epoch and augmented (random rotation, scale, shear and
translation, then dilation or erosion with the same probabilities as src/data/augment.ts; half
the digits untouched), and
one "not a digit" image for every five digits, labelled 10. The negatives are the ones our trainer
renders (src/data/negatives.ts), written by `deno task bench:vs-pytorch` into --negatives as raw
bytes [epochs, K, 28, 28], so both sides learn from the same images.

Run (Debian's PyTorch: apt-get install -y python3-torch python3-numpy):
    /usr/bin/python3 bench/pytorch_cnn2.py --data DIR --negatives FILE --threads 2

The last line printed is one JSON object: train_s (the training loop), test_acc (digits read
right, "not a digit" counting as wrong), test_total, threads, epochs, torch.
"""

import argparse
import json
import math
import os
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:
    print(f"PyTorch/numpy missing ({e}): install with `apt-get install -y python3-torch "
          "python3-numpy` and run with /usr/bin/python3", file=sys.stderr)
    sys.exit(3)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_mnist import read_idx  # noqa: E402

MEAN, STD = 0.1307, 0.3081
BATCH_SIZE, EPOCHS, LR = 64, 6, 2e-3


class Cnn2(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 7 * 7, 192)
        self.fc2 = nn.Linear(192, 11)
        self.dropout = nn.Dropout(0.25)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.dropout(torch.flatten(x, 1))
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


def augment(x):
    """Random affine about the centre (bilinear), then dilation (p 0.2) or erosion (p 0.1); half
    the images are left as they are."""
    n = x.shape[0]
    u = lambda: torch.rand(n) * 2 - 1  # noqa: E731
    angle, shear = u() * math.radians(12), u() * math.radians(12)
    scale = 1 + u() * 0.12
    c, s = torch.cos(angle), torch.sin(angle)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = c / scale
    theta[:, 0, 1] = (-s + c * torch.tan(shear)) / scale
    theta[:, 1, 0] = s / scale
    theta[:, 1, 1] = (c + s * torch.tan(shear)) / scale
    theta[:, 0, 2] = u() * 2.5 / 14
    theta[:, 1, 2] = u() * 2.5 / 14
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    y = F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")
    r = torch.rand(n).view(n, 1, 1, 1)
    dilated, eroded = F.max_pool2d(y, 3, 1, 1), -F.max_pool2d(-y, 3, 1, 1)
    y = torch.where(r < 0.2, dilated, torch.where(r > 0.9, eroded, y))
    # half the digits untouched, as AUGMENT_DEFAULTS.untouched: else blur alone tells digits from
    # the (crisp) negatives, and crisp test digits are refused
    untouched = (torch.rand(n) < 0.5).view(n, 1, 1, 1)
    return torch.where(untouched, x, y)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="directory with the 4 raw MNIST IDX files")
    parser.add_argument("--negatives", required=True, help="raw bytes [epochs, K, 28, 28]")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--val-split", type=int, default=5000,
                        help="leave out the last N training digits, as our trainer holds them out")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)

    digits = torch.from_numpy(read_idx(os.path.join(args.data, "train-images-idx3-ubyte")).copy())
    labels = torch.from_numpy(read_idx(os.path.join(args.data, "train-labels-idx1-ubyte")).astype(np.int64))
    if args.val_split:
        digits, labels = digits[:-args.val_split], labels[:-args.val_split]
    test_x = torch.from_numpy(read_idx(os.path.join(args.data, "t10k-images-idx3-ubyte")).copy())
    test_y = torch.from_numpy(read_idx(os.path.join(args.data, "t10k-labels-idx1-ubyte")).astype(np.int64))
    raw = np.fromfile(args.negatives, dtype=np.uint8)
    negatives = torch.from_numpy(raw.reshape(EPOCHS, -1, 28, 28).copy())
    per_epoch = negatives.shape[1]
    ink = lambda b: b.float().div(255).unsqueeze(1)  # noqa: E731  [N, 1, 28, 28] in 0..1
    norm = lambda x: (x - MEAN) / STD  # noqa: E731

    model = Cnn2()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    count = len(digits) + per_epoch
    steps = EPOCHS * math.ceil(count / BATCH_SIZE)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * step / steps)))

    t_train = time.perf_counter()
    model.train()
    for epoch in range(EPOCHS):
        order = torch.randperm(count)
        for start in range(0, count, BATCH_SIZE):
            ids = order[start:start + BATCH_SIZE]
            is_digit = ids < len(digits)
            d, k = ids[is_digit], ids[~is_digit] - len(digits)
            x = torch.cat([augment(ink(digits[d])), ink(negatives[epoch, k])])
            y = torch.cat([labels[d], torch.full((len(k),), 10)])
            loss = F.nll_loss(model(norm(x)), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    train_s = time.perf_counter() - t_train

    model.eval()
    with torch.no_grad():
        correct = (model(norm(ink(test_x))).argmax(1) == test_y).sum().item()
    print(json.dumps({
        "train_s": round(train_s, 3), "test_acc": correct / len(test_y), "test_total": len(test_y),
        "threads": torch.get_num_threads(), "epochs": EPOCHS, "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
