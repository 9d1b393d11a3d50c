"""Benchmark 3: one epoch of project 03's LeNet-style CNN (conv 5x5x16 -> max-pool 2 -> ReLU -> conv 5x5x32 ->
max-pool 2 -> ReLU -> 512-128-10, cross-entropy, Adam 1e-3, batch 64) on the 5,000 embedded MNIST training
digits, in float32.

Engines (``--engine``), each in its own process (run.py starts them):
  ours    autograd's Tensor engine: ``projects.catalog.p03_mnist.LeNet``, ``cross_entropy``, ``optim.Adam``;
  torch   PyTorch eager on the CPU (``--threads``, 2 by default): ``nn.Conv2d``/``MaxPool2d``/``Linear``,
          ``F.cross_entropy``, ``torch.optim.Adam``.
Both start from the same weights (ours, seed 0, copied into torch) and see the batches in the same order;
each repeat trains one epoch from those weights, and the median is reported.

    python benchmarks/bench_cnn.py --engine ours --repeats 3
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import emit, median, minibatch_epoch, mnist_5k, time_epochs  # noqa: E402

BATCH = 64
LR = 1e-3


def make_model():
    from projects.catalog.p03_mnist import LeNet

    return LeNet(28, 10, seed=0)


def make_ours(X, y, threads: int = 2):
    from autograd import Tensor, cross_entropy
    from autograd.optim import Adam

    start = make_model().state_dict()

    def setup():
        model = make_model()
        model.load_state_dict(start)
        return model, Adam(model.parameters(), lr=LR)

    def epoch(model, opt) -> float:
        return minibatch_epoch(model, opt, lambda m, s: cross_entropy(m(Tensor(X[s])), y[s]), len(X), BATCH)

    return setup, epoch


def make_torch(X, y, threads: int = 2):
    import torch
    from p03_cnn_accuracy import torch_lenet

    torch.set_num_threads(threads)
    Xt, yt = torch.from_numpy(X.reshape(-1, 1, 28, 28)), torch.from_numpy(y)
    ours = make_model()

    def setup():
        model = torch_lenet(ours)
        return model, torch.optim.Adam(model.parameters(), lr=LR)

    def epoch(model, opt) -> float:
        batch_loss = lambda m, s: torch.nn.functional.cross_entropy(m(Xt[s]), yt[s])
        return minibatch_epoch(model, opt, batch_loss, len(X), BATCH)

    return setup, epoch


ENGINES = {"ours": make_ours, "torch": make_torch}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=list(ENGINES), required=True)
    parser.add_argument("--repeats", type=int, default=3, help="epochs timed, each from the initial weights")
    parser.add_argument(
        "--threads", type=int, default=2, help="torch threads (NumPy's: OPENBLAS_NUM_THREADS)"
    )
    args = parser.parse_args()
    X, y = mnist_5k()
    setup, epoch = ENGINES[args.engine](X, y, args.threads)
    times, cpu, losses = time_epochs(setup, epoch, args.repeats)
    print(
        f"{args.engine}: median epoch {median(times):.3f} s over {args.repeats} "
        f"({', '.join(f'{x:.3f}' for x in times)}); last batch loss {losses[-1]:.4f}"
    )
    emit(
        {
            "engine": args.engine,
            "epoch_s": median(times),
            "times": times,
            "cpu": cpu,
            "threads": args.threads,
            "losses": losses,
        }
    )


if __name__ == "__main__":
    main()
