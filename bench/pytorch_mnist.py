"""PyTorch reference for mnist-edge: the seed tutorial's MNIST CNN ("Knock Knock! Deep
Learning, Day 9", after pytorch/examples/mnist), kept as close to the tutorial as possible.

Same Net, same train()/test() loops and print formats, Adam with default settings,
batch 64, 2 epochs, log interval 10, DataLoader without shuffling, and the
Normalize((0.1307,), (0.3081,)) transform. Differences from the seed:
  * data comes from the four raw IDX files in --data DIR, through the seed's torchvision
    MNIST + transforms (--loader torchvision, the default; needs python3-torchvision) or
    through a leaner numpy Dataset (--loader numpy), instead of torchvision's download;
  * flags --threads, --epochs, --seed (torch.manual_seed, default 1) and --save;
  * instead of the seed's torch.save/torch.load of mnist_cnn.pt, --save PATH writes the
    state_dict as safetensors and the model is re-loaded from it (strict) before testing;
  * the last line printed is one JSON object with the timings and results.

Run (Debian's PyTorch: apt-get install -y python3-torch python3-numpy):
    flock /tmp/heavy.lock /usr/bin/python3 bench/pytorch_mnist.py --data DIR --threads 2 \
        [--epochs 2] [--seed 1] [--save models/torch-ref.safetensors]

JSON fields: train_s (wall time of train() only), test_s, total_s (train + save/load +
test), load_s (reading the IDX files, not in total_s), test_acc (fraction 0..1),
test_correct, test_total, test_loss (mean NLL), threads, epochs, seed, torch (version).
"""

import argparse
import json
import os
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.optim as optim
except ImportError as e:
    print(f"PyTorch/numpy missing ({e}): install with `apt-get install -y python3-torch "
          "python3-numpy` and run with /usr/bin/python3", file=sys.stderr)
    sys.exit(3)

MEAN, STD = 0.1307, 0.3081


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv = nn.Conv2d(1, 32, 3)
        self.dropout = nn.Dropout2d(0.25)
        self.fc = nn.Linear(5408, 10)

    def forward(self, x):
        x = self.conv(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout(x)
        x = torch.flatten(x, 1)
        x = self.fc(x)
        output = F.log_softmax(x, dim=1)
        return output


def read_idx(path):
    """Read a raw (uncompressed) IDX file of unsigned bytes into a numpy array."""
    with open(path, "rb") as f:
        buf = f.read()
    zero, dtype, ndim = buf[0:2], buf[2], buf[3]
    if zero != b"\0\0" or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    shape = tuple(int.from_bytes(buf[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


class MnistIdx(torch.utils.data.Dataset):
    """MNIST from raw IDX files; item i is (normalised [1,28,28] float32 tensor, int label),
    i.e. what torchvision's MNIST + ToTensor() + Normalize((0.1307,), (0.3081,)) yields."""

    def __init__(self, root, train):
        prefix = "train" if train else "t10k"
        self.images = read_idx(os.path.join(root, f"{prefix}-images-idx3-ubyte"))
        self.labels = read_idx(os.path.join(root, f"{prefix}-labels-idx1-ubyte"))
        assert len(self.images) == len(self.labels)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        x = torch.from_numpy(self.images[i].astype(np.float32) / 255.0).unsqueeze(0)  # ToTensor
        return (x - MEAN) / STD, int(self.labels[i])  # Normalize


def torchvision_datasets(root):
    """The seed's own data pipeline: torchvision's MNIST + ToTensor + Normalize, reading the same
    raw IDX files (linked into the MNIST/raw folder torchvision looks in; nothing is downloaded)."""
    import tempfile
    from torchvision import datasets, transforms
    home = tempfile.mkdtemp(prefix="torchvision-mnist-")
    os.makedirs(os.path.join(home, "MNIST", "raw"))
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        os.symlink(os.path.abspath(os.path.join(root, name)), os.path.join(home, "MNIST", "raw", name))
    transform = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize((0.1307,), (0.3081,))  # mean and std for the MNIST training set
    ])
    return (datasets.MNIST(home, train=True, download=False, transform=transform),
            datasets.MNIST(home, train=False, transform=transform))


def train(model, train_loader, optimizer, epochs, log_interval):
    model.train()
    for epoch in range(1, epochs + 1):
        for batch_idx, (data, target) in enumerate(train_loader):
            # Clear gradient
            optimizer.zero_grad()
            # Forward propagation
            output = model(data)
            # Negative log likelihood loss
            loss = F.nll_loss(output, target)
            # Back propagation
            loss.backward()
            # Parameter update
            optimizer.step()
            # Log training info
            if batch_idx % log_interval == 0:
                print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                    epoch, batch_idx * len(data), len(train_loader.dataset),
                    100. * batch_idx / len(train_loader), loss.item()))


def test(model, test_loader):
    """The seed's test(); additionally returns (mean loss, correct) for the JSON line."""
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():  # disable gradient calculation for efficiency
        for data, target in test_loader:
            # Prediction
            output = model(data)
            # Compute loss & accuracy
            test_loss += F.nll_loss(output, target, reduction='sum').item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()  # how many predictions in this batch are correct
    test_loss /= len(test_loader.dataset)
    # Log testing info
    print('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'.format(
        test_loss, correct, len(test_loader.dataset),
        100. * correct / len(test_loader.dataset)))
    return test_loss, correct


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="directory with the 4 raw MNIST IDX files")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads(N)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1, help="torch.manual_seed")
    parser.add_argument("--save", metavar="PATH.safetensors", help="write the trained state_dict")
    parser.add_argument("--loader", choices=("torchvision", "numpy"), default="torchvision",
                        help="the seed's torchvision pipeline (default) or a leaner numpy Dataset")
    args = parser.parse_args()

    # Training settings
    BATCH_SIZE = 64
    EPOCHS = args.epochs
    LOG_INTERVAL = 10

    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)

    # Load dataset
    t0 = time.perf_counter()
    if args.loader == "torchvision":
        train_dataset, test_dataset = torchvision_datasets(args.data)
    else:
        train_dataset, test_dataset = MnistIdx(args.data, train=True), MnistIdx(args.data, train=False)
    train_loader = torch.utils.data.DataLoader(train_dataset, batch_size=BATCH_SIZE)
    test_loader = torch.utils.data.DataLoader(test_dataset, batch_size=BATCH_SIZE)
    load_s = time.perf_counter() - t0

    # Create network & optimizer
    model = Net()
    optimizer = optim.Adam(model.parameters())

    # Train
    t_train = time.perf_counter()
    train(model, train_loader, optimizer, EPOCHS, LOG_INTERVAL)
    train_s = time.perf_counter() - t_train

    # Save and load model (safetensors instead of the seed's torch.save of mnist_cnn.pt)
    if args.save:
        from safetensors_io import load_file, save_file
        save_file(model.state_dict(), args.save,
                  metadata={"format": "pt", "source": "bench/pytorch_mnist.py",
                            "torch": torch.__version__})
        tensors, _ = load_file(args.save)
        model = Net()
        model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})

    # Test
    t_test = time.perf_counter()
    test_loss, correct = test(model, test_loader)
    t_end = time.perf_counter()

    total = len(test_loader.dataset)
    print(json.dumps({
        "train_s": round(train_s, 3), "test_acc": correct / total, "test_loss": test_loss,
        "threads": torch.get_num_threads(), "torch": torch.__version__,
        "total_s": round(t_end - t_train, 3), "test_s": round(t_end - t_test, 3),
        "load_s": round(load_s, 3), "test_correct": correct, "test_total": total,
        "epochs": EPOCHS, "seed": args.seed, "saved": args.save, "loader": args.loader,
    }))


if __name__ == "__main__":
    main()
