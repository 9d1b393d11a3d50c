"""``backprop-lab compare``: the same MLP, from the same weights, trained on both engines.

A 2-h-h-1 tanh MLP is built on the scalar engine (every weight a ``Value``) and copied into a float64
tensor-engine MLP with ``load_state_dict(scalar.state_dict())``. Both are trained by full-batch SGD on the
same two-moons points with the mean binary cross-entropy of p = sigmoid(z),

    L = mean_i [softplus(z_i) - y_i z_i],    dL/dz_i = (p_i - y_i) / N,

built from ``Value.softplus`` on one side and the fused ``binary_cross_entropy_with_logits`` op on the
other. Both run through the shared training loop (:func:`projects.lab.training.fit`). Since both compute the
same float64 arithmetic (in a different order), their losses agree to about 1e-12, epoch after epoch,
while the tensor engine is orders of magnitude faster: one NumPy call per layer instead of one Python
object per multiplication.

Writes ``compare.png`` (both loss curves in one plot, and their difference), ``metrics.json``
(``max_loss_difference``, ``scalar_seconds``, ``tensor_seconds``, ``time_ratio``, ...) and
``explanation.md`` into ``--out`` (default ``runs/compare``).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from autograd import Tensor, Value, binary_cross_entropy_with_logits
from autograd.errors import UsageError
from autograd.nn import MLP, Module
from autograd.optim import SGD
from projects.datasets.synthetic import two_moons
from projects.lab import runner
from projects.lab.config import RunConfig, option
from projects.lab.engines import SideBySide, train_side_by_side
from projects.lab.registry import COMPARE

EXPLANATION = """\
The same 2-h-h-1 tanh MLP, from the same initial weights, trained by full-batch SGD on the same two-moons
points: once on the scalar engine (one `Value` per number) and once on the tensor engine in float64.

**compare.png**: left, the training loss per epoch of both engines: the curves lie on top of each other.
Right, the absolute difference between them (log scale; epochs where the two agree to the last bit are
marked x on the bottom line): float64 rounding only (around 1e-16 to 1e-12),
because both engines perform the same arithmetic in a slightly different order. The title gives the
time each engine took and their ratio.
"""


@dataclass
class Config(RunConfig):
    """Settings of the engine comparison."""

    epochs: int = option(100, "Full-batch SGD steps.", low=1, high=10_000)
    hidden: int = option(8, "Width of both hidden layers.", low=1, high=64)
    points: int = option(
        100, "Two-moons points (the scalar engine keeps a Python object per number).", low=4, high=2000
    )
    noise: float = option(0.15, "Standard deviation of the noise added to the moons.")
    lr: float = option(0.5, "SGD learning rate.")


# --------------------------------------------------------------------------------------------------------
# Command-line wiring (see projects.lab.cli): the runner runs it, like a project, into --out
# --------------------------------------------------------------------------------------------------------


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the weights")
    runner.add_config_arguments(parser, Config)
    parser.add_argument("--out", type=Path, default=Path("runs/compare"), help="output folder")


def main(name: str, args: argparse.Namespace) -> int:
    settings = runner.RunSettings(
        out=args.out.parent,
        seed=args.seed,
        progress=False,
        folder=args.out,
        gallery=(args.out.parent / "index.html").exists(),  # refresh a gallery the folder sits in
    )
    result = runner.run_one(COMPARE, settings, runner.given_options(args, Config))
    metrics, config = result.metrics, result.metrics["config"]
    width = config["hidden"]
    print(
        f"scalar and tensor engines, {config['epochs']} epochs of a 2-{width}-{width}-1 MLP on "
        f"{config['points']} points:\n"
        f"  largest loss difference {metrics['max_loss_difference']:.3g} "
        f"(final losses {metrics['scalar_final_loss']:.6f} and {metrics['tensor_final_loss']:.6f})\n"
        f"  scalar {metrics['scalar_seconds']:.2f} s, tensor {metrics['tensor_seconds']:.3f} s: "
        f"the tensor engine is {metrics['time_ratio']:.0f}x faster\n"
        f"wrote {args.out / 'compare.png'} and {args.out / 'metrics.json'}"
    )
    return 0


def compare(config: Config, out_dir: str | Path) -> dict[str, Any]:
    """Run the comparison into ``out_dir`` through the runner (metrics, record, figure); return the record."""
    folder = Path(out_dir)
    settings = runner.RunSettings(
        out=folder.parent, seed=config.seed, folder=folder, gallery=(folder.parent / "index.html").exists()
    )
    return runner.run_one(COMPARE, settings, config=config).metrics


# --------------------------------------------------------------------------------------------------------
# The comparison
# --------------------------------------------------------------------------------------------------------


def scalar_loss(model: Module, inputs: Sequence[Sequence[float]], targets: Sequence[float]) -> Value:
    """L = mean_i [softplus(z_i) - y_i z_i], one Value graph for the whole batch."""
    total: Value | float = 0.0
    for x, t in zip(inputs, targets):
        z = model(list(x))[0]
        total = total + (z.softplus() - float(t) * z)
    return total * (1.0 / len(inputs))  # type: ignore[return-value]


def tensor_loss(model: Module, inputs: np.ndarray, targets: np.ndarray) -> Tensor:
    """The same loss with the tensor engine's fused op."""
    return binary_cross_entropy_with_logits(model(Tensor(inputs, dtype=np.float64)), targets.reshape(-1, 1))


def validate(config: Config) -> None:
    if config.epochs < 1:
        raise UsageError(f"--epochs must be at least 1, got {config.epochs}")
    if config.hidden < 1:
        raise UsageError(f"--hidden must be at least 1, got {config.hidden}")
    if config.points < 4:
        raise UsageError(f"--points must be at least 4, got {config.points}")
    if not config.lr > 0:
        raise UsageError(f"--lr must be positive, got {config.lr}")


def run(config: Config, out_dir: Path) -> dict[str, Any]:
    """Train both engines from the same weights, draw ``compare.png`` into ``out_dir``; return the metrics."""
    validate(config)
    out_dir = Path(out_dir)
    rng = np.random.default_rng(config.seed)
    X, y = two_moons(config.points, config.noise, rng)
    sizes = [2, config.hidden, config.hidden, 1]
    scalar = MLP(sizes, "tanh", engine="scalar", seed=int(rng.integers(2**31)))
    tensor = MLP(sizes, "tanh", engine="tensor", dtype=np.float64)
    result = train_side_by_side(
        scalar,
        tensor,
        (scalar_loss, tensor_loss),
        (X, y),
        lambda parameters: SGD(parameters, lr=config.lr),
        epochs=config.epochs,
        batch_size=len(X),  # full batch: one step per epoch
        order_seed=0,
        shuffle=False,
        scalar_data=(X.tolist(), y.tolist()),
    )
    differences = np.abs(result.scalar_losses - result.tensor_losses)
    _plot(result, differences, config, out_dir / "compare.png")
    return {
        "max_loss_difference": result.loss_agreement,
        "scalar_seconds": result.scalar_seconds,
        "tensor_seconds": result.tensor_seconds,
        "time_ratio": result.time_ratio,
        "max_weight_difference": result.weights_agreement,
        "scalar_final_loss": float(result.scalar_losses[-1]),
        "tensor_final_loss": float(result.tensor_losses[-1]),
        "scalar_losses": result.scalar_losses.tolist(),
        "tensor_losses": result.tensor_losses.tolist(),
        "figures": ["compare.png"],
    }


def _plot(result: SideBySide, differences: np.ndarray, config: Config, path: Path) -> None:
    from viz.plots import plt, save_figure  # matplotlib only when drawing

    scalar_losses, tensor_losses = result.scalar_losses, result.tensor_losses
    scalar_seconds, tensor_seconds = result.scalar_seconds, result.tensor_seconds
    epochs = np.arange(1, len(scalar_losses) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11.0, 4.2))
    left.plot(
        epochs, scalar_losses, lw=4, alpha=0.45, color="C0", label=f"scalar engine ({scalar_seconds:.2f} s)"
    )
    left.plot(
        epochs, tensor_losses, "--", lw=1.5, color="C3", label=f"tensor engine ({tensor_seconds:.3f} s)"
    )
    left.set(xlabel="epoch", ylabel="cross-entropy", title="training loss, same weights, same data")
    left.grid(alpha=0.3)
    left.legend()
    floor = 1e-18  # exact agreement (a difference of 0) is drawn on this line of the log scale
    equal = differences == 0
    right.plot(epochs[~equal], differences[~equal], "o", ms=3, color="k", label="difference")
    right.plot(epochs[equal], np.full(equal.sum(), floor), "x", ms=4, color="C2", label="exactly equal")
    right.set_yscale("log")
    right.set_ylim(floor / 3, max(1e-12, float(differences.max()) * 10))
    right.set(xlabel="epoch", ylabel="|scalar - tensor|", title=f"difference (max {differences.max():.2g})")
    right.grid(alpha=0.3)
    right.legend(loc="upper right", fontsize=8)
    fig.suptitle(
        f"2-{config.hidden}-{config.hidden}-1 tanh MLP, {config.points} points: "
        f"the tensor engine is {scalar_seconds / max(tensor_seconds, 1e-9):.0f}x faster"
    )
    save_figure(fig, path)


CompareConfig = Config  # the name this module's settings had before it became a runner project
