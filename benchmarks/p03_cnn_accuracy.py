"""Project 03's CNN on our engine and on PyTorch: the same network, weights, optimizer, batches, epochs.

    python benchmarks/p03_cnn_accuracy.py --engine torch --seed 0      # PyTorch 2.13 eager (CPU)
    python benchmarks/p03_cnn_accuracy.py --engine ours --seed 0       # backprop-lab (p03 --model cnn)
    python benchmarks/p03_cnn_accuracy.py --engine torch --dataset fashion-mnist \
        --data-dir /usr/share/datasets/fashion-mnist

``ours`` is exactly ``backprop-lab run mnist --model cnn --seed S``. ``torch`` replays that run with PyTorch:
the project's own data loading, its random number sequence (the same initial weights, copied into
``torch.nn`` layers; the same batch order; the same one-pixel shifts of the training digits), its training
loop (``projects.lab.training.fit``) and its settings (Adam 1e-3, batches of 64, 15 epochs), with
``torch.nn.Conv2d``/``MaxPool2d``/``Linear``, ``F.cross_entropy`` and ``torch.optim.Adam`` instead of ours.
Each prints and writes (``--out``) a JSON line with the test accuracy on the test set (10,000 digits for
MNIST). Run each engine in its own process (two thread pools on two cores slow each other).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def config_for(args: argparse.Namespace):
    from projects.catalog import p03_mnist

    return p03_mnist.Config(
        model="cnn",
        seed=args.seed,
        dataset=args.dataset,
        data_dir=args.data_dir,
        epochs=args.epochs,
        progress=False,
    )


def run_ours(args: argparse.Namespace) -> dict:
    import tempfile

    from projects.catalog import p03_mnist

    with tempfile.TemporaryDirectory() as folder:
        metrics = p03_mnist.run(config_for(args), Path(folder))
    return {
        k: metrics[k] for k in ("test_accuracy", "seconds_per_epoch", "epochs", "architecture", "n_train")
    }


class TorchAdam:
    """``torch.optim.Adam`` with the ``lr`` attribute the project's training loop reads."""

    def __init__(self, parameters, lr: float) -> None:
        import torch

        self.inner = torch.optim.Adam(parameters, lr=lr)
        self.lr = lr

    def zero_grad(self) -> None:
        self.inner.zero_grad()

    def step(self) -> None:
        self.inner.step()


def torch_lenet(ours):
    """torch.nn layers holding the same weights as our LeNet (Linear weights transposed: PyTorch's are
    (out, in), ours (in, out))."""
    import torch

    def conv(layer):
        module = torch.nn.Conv2d(layer.weight.shape[1], layer.weight.shape[0], layer.weight.shape[2:])
        with torch.no_grad():
            module.weight.copy_(torch.from_numpy(layer.weight.data))
            module.bias.copy_(torch.from_numpy(layer.bias.data))
        return module

    def linear(layer):
        module = torch.nn.Linear(*layer.weight.shape)
        with torch.no_grad():
            module.weight.copy_(torch.from_numpy(layer.weight.data.T.copy()))
            module.bias.copy_(torch.from_numpy(layer.bias.data))
        return module

    f, c = ours.features.layers, ours.classifier.layers
    return torch.nn.Sequential(
        conv(f[0]),
        torch.nn.MaxPool2d(2),
        torch.nn.ReLU(),
        conv(f[3]),
        torch.nn.MaxPool2d(2),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        linear(c[0]),
        torch.nn.ReLU(),
        linear(c[2]),
    )


def run_torch(args: argparse.Namespace) -> dict:
    """p03's run and train_tensor, step for step, with PyTorch doing the arithmetic."""
    import torch

    from projects.catalog import p03_mnist
    from projects.datasets.mnist import load_dataset
    from projects.lab.training import fit

    torch.set_num_threads(args.threads)
    config = config_for(args)
    rng = np.random.default_rng(config.seed)  # the same draws, in the same order, as p03_mnist.run
    data = load_dataset(config.dataset, config.data_dir, config.download)
    augment = p03_mnist.use_augmentation(config.augment, config.dataset)
    epochs, batch_size, lr, schedule = p03_mnist.training_settings(config)
    assert schedule == "constant"
    X_train, X_test = p03_mnist.flatten(data.train_images), p03_mnist.flatten(data.test_images)
    side = data.train_images.shape[1]
    ours = p03_mnist.build_model(config, data, int(rng.integers(2**31)))
    model = torch_lenet(ours)
    optimizer = TorchAdam(model.parameters(), lr)
    shift_rng = np.random.default_rng(rng.integers(2**63))

    def loss_fn(net, xb: np.ndarray, yb: np.ndarray):
        if augment:
            xb = p03_mnist.random_shift(xb, shift_rng, side)
        images = torch.from_numpy(np.ascontiguousarray(xb)).reshape(-1, 1, side, side)
        return torch.nn.functional.cross_entropy(net(images), torch.from_numpy(yb.astype(np.int64)))

    start = time.perf_counter()
    history = fit(
        model,
        optimizer,
        loss_fn,
        (X_train, data.train_labels),
        epochs=epochs,
        batch_size=batch_size,
        rng=rng,
        progress=False,
    )
    seconds = (time.perf_counter() - start) / len(history.epochs)
    with torch.no_grad():
        logits = torch.cat(
            [
                model(torch.from_numpy(X_test[i : i + 2048]).reshape(-1, 1, side, side))
                for i in range(0, len(X_test), 2048)
            ]
        ).numpy()
    accuracy = float((logits.argmax(axis=1) == data.test_labels).mean())
    return {
        "test_accuracy": round(accuracy, 4),
        "seconds_per_epoch": round(seconds, 3),
        "epochs": epochs,
        "architecture": ours.architecture,
        "n_train": len(X_train),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=["ours", "torch"], required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--epochs", type=int, default=None, help="default: the project's (15)")
    parser.add_argument(
        "--threads", type=int, default=2, help="torch threads (NumPy's: OPENBLAS_NUM_THREADS)"
    )
    parser.add_argument("--out", type=Path, help="also write the JSON line to this file")
    args = parser.parse_args()
    result = run_ours(args) if args.engine == "ours" else run_torch(args)
    result.update(engine=args.engine, seed=args.seed, dataset=args.dataset)
    line = json.dumps(result)
    print(line)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(line + "\n")


if __name__ == "__main__":
    main()
