"""How cnn2's shape was chosen: small two-conv-block networks trained in PyTorch with the recipe
of `deno task train` (Adam, lr annealed along a cosine step by step, shuffled batches, dropout
0.25 before and after the hidden layer), scored on the last 5,000 MNIST training images held out
(never on the test set, which is what the README reports).

    /usr/bin/python3 bench/pytorch_arch_search.py --data DIR [--c1 16 --c2 32 --hidden 128]
        [--epochs 4] [--aug 1] [--bn 0] [--lr 2e-3] [--bs 64] [--threads 2]

Each conv block: Conv2d 3×3 "same" → [BatchNorm] → ReLU → MaxPool 2×2. The augmentation (--aug 1)
is the one bench/pytorch_cnn2.py applies. The last line printed is one JSON object.
Results on this machine: docs/training.md, "A second architecture".
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_cnn2 import augment  # noqa: E402
from pytorch_mnist import read_idx  # noqa: E402

p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
p.add_argument("--data", required=True)
p.add_argument("--epochs", type=int, default=4)
p.add_argument("--aug", type=int, default=0)
p.add_argument("--bn", type=int, default=0)
p.add_argument("--lr", type=float, default=2e-3)
p.add_argument("--bs", type=int, default=64)
p.add_argument("--hidden", type=int, default=128)
p.add_argument("--c1", type=int, default=16)
p.add_argument("--c2", type=int, default=32)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(1)

images = torch.tensor(read_idx(os.path.join(a.data, "train-images-idx3-ubyte")).copy())
labels = torch.tensor(read_idx(os.path.join(a.data, "train-labels-idx1-ubyte")).astype(np.int64))
x = images.float().div(255).unsqueeze(1)
train_x, train_y, val_x, val_y = x[:55000], labels[:55000], x[55000:], labels[55000:]
norm = lambda t: (t - 0.1307) / 0.3081  # noqa: E731


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, a.c1, 3, padding=1)
        self.c2 = nn.Conv2d(a.c1, a.c2, 3, padding=1)
        self.b1 = nn.BatchNorm2d(a.c1) if a.bn else nn.Identity()
        self.b2 = nn.BatchNorm2d(a.c2) if a.bn else nn.Identity()
        features = a.c2 * 49
        self.f1 = nn.Linear(features, a.hidden) if a.hidden else None
        self.f2 = nn.Linear(a.hidden or features, 10)
        self.d = nn.Dropout(0.25)

    def forward(self, t):
        t = F.max_pool2d(F.relu(self.b1(self.c1(t))), 2)
        t = F.max_pool2d(F.relu(self.b2(self.c2(t))), 2)
        t = self.d(torch.flatten(t, 1))
        if self.f1:
            t = self.d(F.relu(self.f1(t)))
        return F.log_softmax(self.f2(t), 1)


model = Net()
opt = torch.optim.Adam(model.parameters(), lr=a.lr)
steps = a.epochs * math.ceil(len(train_x) / a.bs)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps)))
t0 = time.time()
for epoch in range(a.epochs):
    model.train()
    order = torch.randperm(len(train_x))
    for i in range(0, len(train_x), a.bs):
        idx = order[i:i + a.bs]
        xb = augment(train_x[idx]) if a.aug else train_x[idx]
        loss = F.nll_loss(model(norm(xb)), train_y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    model.eval()
    with torch.no_grad():
        acc = (model(norm(val_x)).argmax(1) == val_y).float().mean().item()
    print(f"epoch {epoch + 1}: validation {acc * 100:.2f}% after {time.time() - t0:.1f} s", flush=True)
print(json.dumps({**vars(a), "val_acc": acc, "seconds": round(time.time() - t0, 1),
                  "params": sum(q.numel() for q in model.parameters())}))
