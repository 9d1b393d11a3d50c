"""Benchmark 2: one epoch of MLP 784-128-64-10 (ReLU, cross-entropy, Adam 1e-3, batch 128) on 60,000 MNIST
images (the real digits, shuffled and tiled), in float32.

Engines (``--engine``), each in its own process (run.py starts them):
  ours    autograd's Tensor engine: ``MLP(..., engine="tensor")``, ``cross_entropy``, ``optim.Adam``;
  torch   PyTorch eager on the CPU (``--threads``, 2 by default): ``nn.Linear``/``ReLU``, ``F.cross_entropy``,
          ``torch.optim.Adam`` (its default, the foreach implementation);
  numpy   hand-written NumPy: forward, backward and Adam written out for this network, in place;
  ours-nograph  our ops' own forward/backward functions and ``optim.Adam`` called in order without a graph:
          what ``ours`` costs minus the engine's bookkeeping (a diagnostic; run.py does not run it);
  sgemm   the peak: a 2048 x 2048 x 2048 float32 matrix product in NumPy (and torch, if installed).
All three networks start from the same weights (our MLP's He/Xavier init, seed 0) and see the batches in
the same order; each repeat trains one epoch from those weights, and the median is reported.

    python benchmarks/bench_mnist.py --engine ours --repeats 3
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import batches, emit, median, minibatch_epoch, mnist_60k, time_epochs  # noqa: E402

SIZES = [784, 128, 64, 10]
BATCH = 128
LR = 1e-3


def epoch_flops(n: int = 60000) -> int:
    """Multiply-adds x 2 of one epoch: forward X W for each layer, backward dW for each layer and dX for
    every layer but the first (the images need no gradient)."""
    forward = sum(a * b for a, b in zip(SIZES[:-1], SIZES[1:]))
    backward = forward + sum(a * b for a, b in zip(SIZES[1:-1], SIZES[2:]))
    return 2 * n * (forward + backward)


def initial_weights() -> list[tuple[np.ndarray, np.ndarray]]:
    from autograd.nn import MLP

    state = MLP(SIZES, activation="relu", engine="tensor", seed=0).state_dict()
    return [(state[f"net.{2 * i}.weight"], state[f"net.{2 * i}.bias"]) for i in range(len(SIZES) - 1)]


# ---- ours ------------------------------------------------------------------------------------------------


def make_ours(X, y, weights, threads: int = 2):
    """(NumPy's BLAS threads come from OPENBLAS_NUM_THREADS.)"""
    from autograd import Tensor, cross_entropy
    from autograd.nn import MLP
    from autograd.optim import Adam

    def setup():
        model = MLP(SIZES, activation="relu", engine="tensor", seed=0)
        model.load_state_dict(
            {
                f"net.{2 * i}.{k}": a
                for i, (W, b) in enumerate(weights)
                for k, a in (("weight", W), ("bias", b))
            }
        )
        return model, Adam(model.parameters(), lr=LR)

    def epoch(model, opt) -> float:
        return minibatch_epoch(model, opt, lambda m, s: cross_entropy(m(Tensor(X[s])), y[s]), len(X), BATCH)

    return setup, epoch


def make_ours_without_graph(X, y, weights, threads: int = 2):
    """The NumPy work our engine does for this network (its ops' own forward and backward functions, ReLU
    as ``sign(z) * g``, 1ᵀG for the biases, ``optim.Adam``), written out in order with no graph: no
    Tensor per result, no topological sort, no chain-rule walk. Its time against ``ours`` is what the
    engine's bookkeeping costs (not run by run.py: ``--engine ours-nograph``)."""
    from autograd import Tensor, ops
    from autograd.optim import Adam

    def setup():
        params = [Tensor(a.copy(), requires_grad=True) for W, b in weights for a in (W, b)]
        return params, Adam(params, lr=LR)

    def epoch(params, opt) -> float:
        one = np.float32(1.0)
        for s in batches(len(X), BATCH):
            W1, c1, W2, c2, W3, c3 = (p.data for p in params)
            x, labels = X[s], y[s].astype(np.intp, copy=False)
            h1 = ops.ReLU.forward(ops.Context((True,)), ops.Affine.forward(ops.Context(()), x, W1, c1))
            h2 = ops.ReLU.forward(ops.Context((True,)), ops.Affine.forward(ops.Context(()), h1, W2, c2))
            logits = ops.Affine.forward(ops.Context(()), h2, W3, c3)
            ctx = ops.Context((True, False))
            loss = ops.CrossEntropy.forward(ctx, logits, labels)
            g, _ = ops.CrossEntropy.backward(ctx, one)
            for i, (h_in, w, h_out) in enumerate([(h2, W3, None), (h1, W2, h2), (x, W1, h1)]):
                if h_out is not None:  # through the ReLU that made this layer's input
                    mask = np.sign(h_out)
                    mask *= g
                    g = mask
                ctx = ops.Context((i < 2, True, True))
                ctx.saved = (h_in, w)
                g_in, params[4 - 2 * i].grad, params[5 - 2 * i].grad = ops.Affine.backward(ctx, g)
                g = g_in
            opt.step()
        return float(loss)

    return setup, epoch


# ---- PyTorch ---------------------------------------------------------------------------------------------


def make_torch(X, y, weights, threads: int = 2):
    import torch

    torch.set_num_threads(threads)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def setup():
        layers = []
        for i, (W, b) in enumerate(weights):
            linear = torch.nn.Linear(*W.shape)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(W.T.copy()))
                linear.bias.copy_(torch.from_numpy(b))
            layers += [linear, torch.nn.ReLU()] if i < len(weights) - 1 else [linear]
        model = torch.nn.Sequential(*layers)
        return model, torch.optim.Adam(model.parameters(), lr=LR)

    def epoch(model, opt) -> float:
        batch_loss = lambda m, s: torch.nn.functional.cross_entropy(m(Xt[s]), yt[s])
        return minibatch_epoch(model, opt, batch_loss, len(X), BATCH)

    return setup, epoch


# ---- hand-written NumPy ----------------------------------------------------------------------------------


def make_numpy(X, y, weights, threads: int = 2):
    """Forward, backward and Adam for this network written out by hand, in place where possible."""
    b1, b2, eps = 0.9, 0.999, 1e-8

    def setup():
        params = [a.astype(np.float32) for W, b in weights for a in (W.copy(), b.copy())]
        state = [(np.zeros_like(p), np.zeros_like(p), np.empty_like(p)) for p in params]
        return params, [state, 0]

    def epoch(params, opt) -> float:
        state = opt[0]
        W1, c1, W2, c2, W3, c3 = params
        for s in batches(len(X), BATCH):
            x, labels = X[s], y[s]
            n = len(labels)
            # forward
            h1 = x @ W1
            h1 += c1
            np.maximum(h1, 0, out=h1)
            h2 = h1 @ W2
            h2 += c2
            np.maximum(h2, 0, out=h2)
            z = h2 @ W3
            z += c3
            z -= z.max(axis=1, keepdims=True)
            np.exp(z, out=z)
            z /= z.sum(axis=1, keepdims=True)  # softmax probabilities
            loss = -np.log(z[np.arange(n), labels]).mean()
            # backward: dL/dz = (p - onehot) / n
            z[np.arange(n), labels] -= 1
            z /= np.float32(n)
            grads = [None] * 6
            grads[4], grads[5] = h2.T @ z, z.sum(axis=0)
            d2 = z @ W3.T
            d2 *= h2 > 0
            grads[2], grads[3] = h1.T @ d2, d2.sum(axis=0)
            d1 = d2 @ W2.T
            d1 *= h1 > 0
            grads[0], grads[1] = x.T @ d1, d1.sum(axis=0)
            # Adam, in place: w -= lr_t m / (sqrt(v) + eps_t)
            opt[1] += 1
            t = opt[1]
            c2_ = math.sqrt(1 - b2**t)
            lr_t, eps_t = LR * c2_ / (1 - b1**t), eps * c2_
            for p, g, (m, v, scratch) in zip(params, grads, state):
                m *= b1
                np.multiply(g, 1 - b1, out=scratch)
                m += scratch
                v *= b2
                np.multiply(g, g, out=scratch)
                scratch *= 1 - b2
                v += scratch
                np.sqrt(v, out=scratch)
                scratch += eps_t
                np.divide(m, scratch, out=scratch)
                scratch *= lr_t
                p -= scratch
        return float(loss)

    return setup, epoch


# ---- the peak ----------------------------------------------------------------------------------------------


def sgemm_peak(n: int = 2048, repeats: int = 5, threads: int = 2) -> dict[str, float]:
    """GFLOP/s of the best of ``repeats`` n x n x n float32 products, in NumPy and (if present) torch."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    a @ b
    best = min(_time(lambda: a @ b) for _ in range(repeats))
    out = {"numpy_gflops": 2 * n**3 / best / 1e9}
    try:
        import torch

        torch.set_num_threads(threads)
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        ta @ tb
        out["torch_gflops"] = 2 * n**3 / min(_time(lambda: ta @ tb) for _ in range(repeats)) / 1e9
    except ImportError:
        pass
    return out


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


ENGINES = {
    "ours": make_ours,
    "torch": make_torch,
    "numpy": make_numpy,
    "ours-nograph": make_ours_without_graph,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=[*ENGINES, "sgemm"], required=True)
    parser.add_argument("--repeats", type=int, default=3, help="epochs timed, each from the initial weights")
    parser.add_argument(
        "--threads",
        type=int,
        default=2,
        help="torch threads (NumPy's: set OPENBLAS_NUM_THREADS, as run.py does)",
    )
    args = parser.parse_args()
    if args.engine == "sgemm":
        peak = sgemm_peak(threads=args.threads)
        print(", ".join(f"{k} {v:.1f}" for k, v in peak.items()))
        emit({"engine": "sgemm", **peak})
        return
    X, y, folder = mnist_60k()
    setup, epoch = ENGINES[args.engine](X, y, initial_weights(), args.threads)
    times, cpu, losses = time_epochs(setup, epoch, args.repeats)
    t = median(times)
    print(
        f"{args.engine}: median epoch {t:.3f} s over {args.repeats} "
        f"({', '.join(f'{x:.3f}' for x in times)}); "
        f"last batch loss {losses[-1]:.4f}; data {folder}"
    )
    emit(
        {
            "engine": args.engine,
            "epoch_s": t,
            "times": times,
            "cpu": cpu,
            "threads": args.threads,
            "losses": losses,
            "data": folder,
            "flops": epoch_flops(),
        }
    )


if __name__ == "__main__":
    main()
