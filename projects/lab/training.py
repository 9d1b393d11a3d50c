"""The training loop every project shares: mini-batches, a progress bar, a NaN/inf guard, early stopping,
atomic checkpoints and resuming.

A project supplies the pieces that differ (how a batch becomes a loss, how to evaluate) and gets the rest::

    history = fit(model, optimizer, loss_fn, (X, y), epochs=20, batch_size=128, rng=rng,
                  evaluate=lambda: {"val_loss": ..., "val_accuracy": ...}, patience=3)

``loss_fn(model, X_batch, y_batch)`` returns a single-element ``Tensor`` or a ``Value``; ``fit`` calls
``zero_grad``, ``backward`` and ``step`` around it.
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from tqdm import tqdm

from autograd.errors import TrainingError, UsageError
from autograd.files import write_npz
from autograd.nn import Module
from autograd.optim import Optimizer

LossFn = Callable[[Module, Any, Any], Any]


@dataclass
class History:
    """Per-epoch records: ``train_loss`` plus whatever ``evaluate`` returned, and why training stopped."""

    epochs: list[int] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    stopped_early: bool = False
    best_epoch: int | None = None

    def record(self, epoch: int, values: dict[str, float]) -> None:
        self.epochs.append(epoch)
        for key, value in values.items():
            self.metrics.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list[float]:
        return self.metrics[key]

    def to_json(self) -> dict[str, Any]:
        return {
            "epochs": self.epochs,
            "metrics": self.metrics,
            "stopped_early": self.stopped_early,
            "best_epoch": self.best_epoch,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> History:
        return cls(
            list(data["epochs"]),
            {k: list(v) for k, v in data["metrics"].items()},
            bool(data["stopped_early"]),
            data["best_epoch"],
        )


def loss_value(loss: Any) -> float:
    """The float inside a Value or a single-element Tensor."""
    data = loss.data
    return float(data) if isinstance(data, float) else float(np.asarray(data).reshape(()))


def check_finite(loss: float, epoch: int, step: int, lr: float) -> None:
    """Stop with a clear message when the loss is NaN or infinite."""
    if not math.isfinite(loss):
        raise TrainingError(
            f"loss became {loss} at epoch {epoch}, step {step}: training diverged; "
            f"try a lower learning rate (now {lr:g})"
        )


def _batches(n: int, batch_size: int, rng: np.random.Generator, shuffle: bool) -> list[np.ndarray]:
    order = rng.permutation(n) if shuffle else np.arange(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def _take(data: Any, index: np.ndarray) -> Any:
    return data[index] if isinstance(data, np.ndarray) else [data[i] for i in index]


def fit(
    model: Module,
    optimizer: Optimizer,
    loss_fn: LossFn,
    train: tuple[Any, Any],
    *,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    evaluate: Callable[[], dict[str, float]] | None = None,
    monitor: str = "val_loss",
    patience: int | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    resume: bool = False,
    shuffle: bool = True,
    progress: bool | None = None,
    desc: str = "train",
    on_epoch_end: Callable[[int, History], bool | None] | None = None,
) -> History:
    """Train ``model`` for up to ``epochs`` epochs and return the per-epoch history.

    * ``evaluate()`` runs after each epoch (in eval mode, without recording a graph is up to it) and its
      numbers are recorded beside ``train_loss`` (the mean loss of the epoch's batches).
    * Early stopping: with ``patience``, training stops once ``monitor`` (lower is better) has not improved
      for that many epochs, and the best weights are restored.
    * ``checkpoint``: a ``.npz`` path written atomically after every epoch (weights, optimizer moments,
      history, random state, and the best weights so far when early stopping); with ``resume=True``
      training continues from it, and ends exactly as an uninterrupted run would.
    * ``on_epoch_end(epoch, history)`` runs after each epoch's record; if it returns ``True``, training
      stops after this epoch (a goal reached, say) and ``history.stopped_early`` is set.
    """
    X, y = train
    n = len(X)
    if n == 0:
        raise UsageError("no training examples")
    history = History()
    start_epoch = 1
    best_score, best_state, waited = math.inf, None, 0
    if resume:
        if checkpoint is None or not Path(checkpoint).exists():
            raise UsageError(f"--resume: no checkpoint at {checkpoint}")
        start_epoch, history, rng_state, best_state = _load_checkpoint(Path(checkpoint), model, optimizer)
        rng.bit_generator.state = rng_state
        if history.stopped_early:  # the run had already stopped: there is nothing left to do
            start_epoch = epochs + 1
        if patience is not None and history.epochs:
            scores = history.metrics.get(monitor, history["train_loss"])
            best_score = min(scores)
            waited = len(scores) - 1 - int(np.argmin(scores))
    show = sys.stderr.isatty() if progress is None else progress
    for epoch in range(start_epoch, epochs + 1):
        model.train()
        losses = []
        batches = _batches(n, batch_size, rng, shuffle)
        bar = tqdm(batches, desc=f"{desc} {epoch}/{epochs}", disable=not show, leave=False, unit="batch")
        for step, index in enumerate(bar, start=1):
            optimizer.zero_grad()
            loss = loss_fn(model, _take(X, index), _take(y, index))
            value = loss_value(loss)
            check_finite(value, epoch, step, optimizer.lr)
            loss.backward()
            optimizer.step()
            losses.append(value)
            if step % 20 == 0:
                bar.set_postfix(loss=f"{value:.4f}")
        bar.close()
        model.eval()
        record = {"train_loss": float(np.mean(losses))}
        if evaluate is not None:
            record.update(evaluate())
        history.record(epoch, record)
        goal_reached = on_epoch_end is not None and on_epoch_end(epoch, history) is True
        if patience is not None:
            score = record.get(monitor, record["train_loss"])
            if score < best_score:
                best_score, best_state, waited = score, model.state_dict(), 0
                history.best_epoch = epoch
            else:
                waited += 1
        if checkpoint is not None:
            _save_checkpoint(Path(checkpoint), epoch, model, optimizer, history, rng, best_state)
        if goal_reached or (patience is not None and waited >= patience):
            history.stopped_early = True
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history


def _save_checkpoint(
    path: Path,
    epoch: int,
    model: Module,
    optimizer: Optimizer,
    history: History,
    rng: np.random.Generator,
    best_state: dict[str, np.ndarray] | None = None,
) -> None:
    arrays = {f"model/{k}": v for k, v in model.state_dict().items()}
    arrays.update({f"optim/{k}": np.asarray(v) for k, v in optimizer.state_dict().items()})
    if best_state is not None:
        arrays.update({f"best/{k}": v for k, v in best_state.items()})
    arrays["meta"] = np.array(
        json.dumps({"epoch": epoch, "history": history.to_json(), "rng": rng.bit_generator.state})
    )
    write_npz(path, arrays)


def _load_checkpoint(
    path: Path, model: Module, optimizer: Optimizer
) -> tuple[int, History, dict[str, Any], dict[str, np.ndarray] | None]:
    """Restore model and optimizer in place; return the next epoch, the history, the random state and the
    best weights so far (None when the run did not use early stopping)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            files = {k: data[k] for k in data.files}
        meta = json.loads(str(files["meta"]))
        model.load_state_dict({k[6:]: v for k, v in files.items() if k.startswith("model/")})
        optimizer.load_state_dict({k[6:]: v for k, v in files.items() if k.startswith("optim/")})
        best = {k[5:]: v for k, v in files.items() if k.startswith("best/")} or None
    except (OSError, ValueError, KeyError) as e:
        raise UsageError(f"cannot resume from {path}: {e}") from None
    return int(meta["epoch"]) + 1, History.from_json(meta["history"]), meta["rng"], best
