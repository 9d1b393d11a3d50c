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
``explanation.md`` into ``--out`` (default ``runs/compare``), all or nothing: they are made in a temporary
folder inside ``--out`` and moved into place only once all three are complete. The sizes are bounded
(see :class:`CompareConfig`): the scalar engine keeps one Python object per number.
"""

from __future__ import annotations

import argparse
import os
import textwrap
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from autograd import Tensor, Value, binary_cross_entropy_with_logits
from autograd.errors import UsageError
from autograd.files import remove_if_empty, remove_path, temporary_dir, write_json, write_text
from autograd.nn import MLP, Module
from autograd.optim import SGD
from projects.datasets.synthetic import two_moons
from projects.lab.config import RunConfig, check_bounds, option
from projects.lab.training import History, fit

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
class CompareConfig(RunConfig):
    """Settings of the engine comparison."""

    seed: int = option(0, "", low=0, high=2**32 - 1)
    epochs: int = option(100, "", low=1, high=10_000)
    hidden: int = option(8, "", low=1, high=64)
    points: int = option(100, "", low=4, high=2000)
    noise: float = option(0.15, "")
    lr: float = option(0.5, "")


# --------------------------------------------------------------------------------------------------------
# Command-line wiring (see projects.lab.cli)
# --------------------------------------------------------------------------------------------------------


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    defaults = CompareConfig()
    parser.add_argument("--seed", type=int, default=defaults.seed, help="seed of the data and the weights")
    parser.add_argument("--epochs", type=int, default=defaults.epochs, help="full-batch SGD steps, 1..10000")
    parser.add_argument(
        "--hidden", type=int, default=defaults.hidden, help="width of both hidden layers, 1..64"
    )
    parser.add_argument("--points", type=int, default=defaults.points, help="two-moons points, 4..2000")
    parser.add_argument("--lr", type=float, default=defaults.lr, help="SGD learning rate")
    parser.add_argument("--out", type=Path, default=Path("runs/compare"), help="output folder")


def main(name: str, args: argparse.Namespace) -> int:
    config = CompareConfig(
        seed=args.seed, epochs=args.epochs, hidden=args.hidden, points=args.points, lr=args.lr
    )
    metrics = compare(config, args.out)
    print(
        f"scalar and tensor engines, {config.epochs} epochs of a 2-{config.hidden}-{config.hidden}-1 MLP on "
        f"{config.points} points:\n"
        f"  largest loss difference {metrics['max_loss_difference']:.3g} "
        f"(final losses {metrics['scalar_final_loss']:.6f} and {metrics['tensor_final_loss']:.6f})\n"
        f"  scalar {metrics['scalar_seconds']:.2f} s, tensor {metrics['tensor_seconds']:.3f} s: "
        f"the tensor engine is {metrics['time_ratio']:.0f}x faster\n"
        f"wrote {args.out / 'compare.png'} and {args.out / 'metrics.json'}"
    )
    return 0


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


def _train(model: MLP, loss_fn: Any, data: tuple[Any, Any], config: CompareConfig) -> tuple[History, float]:
    optimizer = SGD(model.parameters(), lr=config.lr)
    start = time.perf_counter()
    history = fit(
        model,
        optimizer,
        loss_fn,
        data,
        epochs=config.epochs,
        batch_size=len(data[0]),
        rng=np.random.default_rng(0),
        shuffle=False,
        progress=False,
        desc=model.engine,
    )
    return history, time.perf_counter() - start


def validate(config: CompareConfig) -> None:
    check_bounds(config)
    if config.epochs < 1:
        raise UsageError(f"--epochs must be at least 1, got {config.epochs}")
    if config.hidden < 1:
        raise UsageError(f"--hidden must be at least 1, got {config.hidden}")
    if config.points < 4:
        raise UsageError(f"--points must be at least 4, got {config.points}")
    if not config.lr > 0:
        raise UsageError(f"--lr must be positive, got {config.lr}")


def compare(config: CompareConfig, out_dir: str | Path) -> dict[str, Any]:
    """Train both engines, write the figure, metrics and explanation into ``out_dir``; return the metrics."""
    validate(config)
    out_dir = Path(out_dir)
    wall_start = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    X, y = two_moons(config.points, config.noise, rng)
    sizes = [2, config.hidden, config.hidden, 1]
    weights_seed = int(rng.integers(2**31))
    scalar = MLP(sizes, "tanh", engine="scalar", seed=weights_seed)
    tensor = MLP(sizes, "tanh", engine="tensor", dtype=np.float64)
    tensor.load_state_dict(scalar.state_dict())  # the very same starting weights

    scalar_history, scalar_seconds = _train(scalar, scalar_loss, (X.tolist(), y.tolist()), config)
    tensor_history, tensor_seconds = _train(tensor, tensor_loss, (X, y), config)
    scalar_losses = np.array(scalar_history["train_loss"])
    tensor_losses = np.array(tensor_history["train_loss"])
    differences = np.abs(scalar_losses - tensor_losses)
    final_s, final_t = scalar.state_dict(), tensor.state_dict()
    weight_difference = max(float(np.max(np.abs(final_s[k] - final_t[k]))) for k in final_s)
    ratio = scalar_seconds / max(tensor_seconds, 1e-9)

    from projects.lab.runner import versions  # the runner's record of versions, shared

    metrics: dict[str, Any] = {
        "max_loss_difference": float(differences.max()),
        "scalar_seconds": scalar_seconds,
        "tensor_seconds": tensor_seconds,
        "time_ratio": ratio,
        "max_weight_difference": weight_difference,
        "scalar_final_loss": float(scalar_losses[-1]),
        "tensor_final_loss": float(tensor_losses[-1]),
        "scalar_losses": scalar_losses.tolist(),
        "tensor_losses": tensor_losses.tolist(),
        "project": "compare",
        "seed": config.seed,
        "config": asdict(config),
        "versions": versions(),
        "wall_time_s": round(time.perf_counter() - wall_start, 3),
        "figures": ["compare.png"],
    }
    created = not (out_dir.exists() or out_dir.is_symlink())
    staging = temporary_dir(out_dir, prefix=".compare.")  # all three files, or none
    try:
        _plot(
            scalar_losses,
            tensor_losses,
            differences,
            scalar_seconds,
            tensor_seconds,
            config,
            staging / "compare.png",
        )
        write_json(staging / "metrics.json", metrics)
        write_text(staging / "explanation.md", textwrap.dedent(EXPLANATION).strip() + "\n")
        for name in ("compare.png", "metrics.json", "explanation.md"):
            os.replace(staging / name, out_dir / name)
    except BaseException:
        remove_path(staging)
        if created:
            remove_if_empty(out_dir)
        raise
    remove_path(staging)
    if (out_dir.parent / "index.html").exists():  # the folder sits in a gallery: refresh it
        from projects.lab.report import write_index

        write_index(out_dir.parent)
    return metrics


def _plot(
    scalar_losses: np.ndarray,
    tensor_losses: np.ndarray,
    differences: np.ndarray,
    scalar_seconds: float,
    tensor_seconds: float,
    config: CompareConfig,
    path: Path,
) -> None:
    from viz.plots import plt, save_figure  # matplotlib only when drawing

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
