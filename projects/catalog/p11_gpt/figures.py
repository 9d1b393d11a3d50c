"""Project 11's figures: the two engines' losses in one plot, the training curve, the samples, attention."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from matplotlib.ticker import MaxNLocator

from projects.catalog.p11_gpt.train import Comparison, TrainingRecord
from viz.plots import plt, save_figure


def plot_engines(comparison: Comparison, path: Path, batched: tuple[int, float] | None = None) -> Path:
    """Top: both engines' loss at each side-by-side step (the curves coincide). Bottom: their difference.
    ``batched``: (names per step, seconds per step) of the tensor training, for the time per name."""
    steps = np.arange(1, len(comparison.scalar_losses) + 1)
    scalar, tensor = np.array(comparison.scalar_losses), np.array(comparison.tensor_losses)
    ratio = comparison.scalar_step_s / max(comparison.tensor_step_s, 1e-12)
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(7.5, 5.2), sharex=True, gridspec_kw={"height_ratios": [2, 1]}
    )
    top.plot(
        steps,
        scalar,
        "o-",
        lw=4,
        ms=7,
        alpha=0.45,
        label=f"scalar Value ({comparison.scalar_step_s * 1e3:.1f} ms/step)",
    )
    top.plot(
        steps,
        tensor,
        "x--",
        lw=1.3,
        color="C3",
        label=f"Tensor, float64 ({comparison.tensor_step_s * 1e3:.2f} ms/step)",
    )
    title = f"Same weights, same names, one name a step: the Tensor step is {ratio:.0f}x faster"
    if batched is not None:
        names, seconds = batched
        title += (
            f"\n(batched, {names} names a step: {comparison.scalar_step_s * names / seconds:.0f}x per name)"
        )
    top.set(ylabel="loss (mean -log p per character)", title=title)
    top.legend()
    difference = np.abs(scalar - tensor)
    floor = 1e-18
    bottom.semilogy(steps, np.maximum(difference, floor), "o", ms=4, color="k")
    bottom.set(
        xlabel="step (one name each, microgpt's training loop)",
        ylabel="|scalar - tensor|",
        title=f"largest difference {difference.max():.2g} (0 drawn at {floor:g})",
    )
    bottom.set_ylim(floor / 3, max(1e-12, float(difference.max()) * 10))
    bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_training(record: TrainingRecord, bigram_nll: float, path: Path, title: str) -> Path:
    """Each step's training loss (faint) and its moving average, the held-out NLL, the bigram's line."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    steps = np.arange(1, len(record.losses) + 1)
    ax.plot(steps, record.losses, lw=0.6, alpha=0.35, color="C0", label="training loss (each step)")
    window = max(1, min(50, len(steps) // 10))
    if window > 1:
        smooth = np.convolve(record.losses, np.ones(window) / window, mode="valid")
        ax.plot(steps[window - 1 :], smooth, color="C0", label=f"training loss ({window}-step mean)")
    if record.val_nll:
        ax.plot(record.eval_steps, record.val_nll, "o-", ms=3, color="C3", label="held-out NLL")
    ax.axhline(bigram_nll, color="k", ls="--", lw=1, label=f"bigram, held out ({bigram_nll:.3f})")
    ax.set(xlabel="step", ylabel="nats per character", title=title)
    low = min([bigram_nll, *record.val_nll, *record.losses])
    ax.set_ylim(low - 0.15, min(max(record.losses), bigram_nll + 1.5))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return save_figure(fig, path)


def plot_samples(samples: Sequence[str], known: set[str], temperature: float, path: Path) -> Path:
    """The sampled names in two columns; those that are not in the data set in bold."""
    fig, ax = plt.subplots(figsize=(6.0, 0.32 * ((len(samples) + 1) // 2) + 1.2))
    ax.axis("off")
    rows = (len(samples) + 1) // 2
    for i, name in enumerate(samples):
        column, row = divmod(i, rows)
        new = name not in known
        ax.text(
            0.05 + 0.5 * column,
            1 - (row + 0.5) / max(rows, 1),
            f"{i + 1:2d}. {name or '(empty)'}" + ("" if new else "   (in the data)"),
            family="monospace",
            weight="bold" if new else "normal",
            color="k" if new else "0.45",
            va="center",
            transform=ax.transAxes,
        )
    novel = sum(name not in known for name in samples)
    ax.set_title(f"{len(samples)} names sampled at temperature {temperature:g}: {novel} new (bold)")
    return save_figure(fig, path)


def plot_attention(
    attention: np.ndarray, characters: Sequence[str], traced: tuple[int, int], path: Path
) -> Path:
    """Every head's attention weights over one name: row t (the position predicting the next character)
    spreads its weight over the positions 0..t; the traced head and position are outlined."""
    heads = attention.shape[0]
    fig, axes = plt.subplots(1, heads, figsize=(2.6 * heads + 0.6, 3.0), squeeze=False)
    labels = list(characters)
    for h, ax in enumerate(axes[0]):
        ax.imshow(attention[h], cmap="Blues", vmin=0, vmax=1)
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_title(f"head {h}")
        ax.set_xlabel("attends to")
        if h == traced[0]:
            t = traced[1]
            ax.add_patch(plt.Rectangle((-0.5, t - 0.5), t + 1, 1, fill=False, ec="C3", lw=2))
    axes[0][0].set_ylabel("position")
    fig.suptitle("attention weights (row t: how position t mixes positions 0..t)")
    fig.tight_layout()
    return save_figure(fig, path)
