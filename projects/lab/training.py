"""The training loop every project shares: a small loop, and callbacks for everything around it.

A project supplies the pieces that differ (how a batch becomes a loss, how to evaluate) and gets the rest::

    history = fit(model, optimizer, loss_fn, (X, y), epochs=20, batch_size=128, rng=rng,
                  evaluate=lambda: {"val_loss": ..., "val_accuracy": ...},
                  callbacks=[EarlyStopping(patience=3), Checkpoint(path, resume=True, config={...})])

``loss_fn(model, X_batch, y_batch)`` returns a single-element ``Tensor`` or a ``Value``; ``fit`` calls
``zero_grad``, ``backward`` and ``step`` around it. Each concern is a :class:`Callback` of its own, testable
alone:

* :class:`DivergenceGuard` (always on): stops with the epoch, the step and a hint that fits the cause when
  the data holds inf/NaN (an overflow in the data), the loss becomes NaN or infinite, the loss explodes
  (:data:`DIVERGENCE_FACTOR` times its first value) or the weights stop being finite (the learning rate);
* :class:`Progress` (always on): a tqdm bar on a terminal (``progress``), and a plain line at most every
  few seconds through the :data:`HEARTBEAT` when the runner has switched it on (no terminal: ``make run``);
* :class:`GoalStop`: ``on_epoch_end(epoch, history)`` returning True stops training (a goal reached);
* :class:`EarlyStopping`: stop once ``monitor`` has not improved for ``patience`` epochs, restore the best;
* :class:`Checkpoint`: written atomically after every epoch, with the configuration it belongs to;
  ``resume=True`` continues from it (refusing one from another configuration) and ends exactly as an
  uninterrupted run would.
"""

from __future__ import annotations

import json
import math
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Mapping, Sequence

import numpy as np
from tqdm import tqdm

from autograd.errors import TrainingError, UsageError
from autograd.files import read_npz, write_npz
from autograd.nn import Module
from autograd.optim import Optimizer

LossFn = Callable[[Module, Any, Any], Any]

DIVERGENCE_FACTOR = 1e8
"""A loss above this many times its first value (or 1, if larger) has diverged."""
HEARTBEAT_INTERVAL_S = 5.0
"""Seconds between two plain progress lines (so a learner never waits more than about that in silence)."""


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


@dataclass
class Loop:
    """What the callbacks see of a training run, and may change: where it starts, when it stops, which
    weights it ends with."""

    model: Module
    optimizer: Optimizer
    rng: np.random.Generator
    epochs: int
    history: History = field(default_factory=History)
    start_epoch: int = 1
    best_state: dict[str, np.ndarray] | None = None  # weights to restore at the end (early stopping)

    def stop(self) -> None:
        """Stop after the current epoch."""
        self.history.stopped_early = True


@dataclass
class Batch:
    """One step: its epoch, its number (from 1) among ``steps``, its loss and its inputs."""

    epoch: int
    step: int
    steps: int
    loss: float
    inputs: Any


class Callback:
    """Hooks of the training loop; each does nothing unless overridden. ``order`` sorts the callbacks
    given to :func:`fit` (a checkpoint, last, saves what the others decided)."""

    order = 50

    def on_train_begin(self, loop: Loop) -> None:
        """Before the first epoch (a checkpoint restores the run here)."""

    def on_batch(self, loop: Loop, batch: Batch) -> None:
        """After a batch's loss is computed, before its backward pass and step."""

    def on_epoch_end(self, loop: Loop, epoch: int, record: dict[str, float]) -> None:
        """After the epoch's record is in ``loop.history``; ``loop.stop()`` ends training here."""

    def on_train_end(self, loop: Loop) -> None:
        """After the last epoch, or when training is interrupted by an error."""


# --------------------------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------------------------


def loss_value(loss: Any) -> float:
    """The float inside a Value or a single-element Tensor."""
    data = loss.data
    return float(data) if isinstance(data, float) else float(np.asarray(data).reshape(()))


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
    shuffle: bool = True,
    progress: bool | None = None,
    desc: str = "train",
    on_epoch_end: Callable[[int, History], bool | None] | None = None,
    callbacks: Sequence[Callback] = (),
) -> History:
    """Train ``model`` for up to ``epochs`` epochs and return the per-epoch history.

    ``evaluate()`` runs after each epoch and its numbers are recorded beside ``train_loss`` (the mean loss
    of the epoch's batches). Always on: :class:`DivergenceGuard` and :class:`Progress` (``progress``: a bar
    on True, none on False, on a terminal only on None; ``desc`` names the run). ``on_epoch_end(epoch,
    history)`` is a :class:`GoalStop`. ``callbacks``: :class:`EarlyStopping`, :class:`Checkpoint`, ...
    """
    X, y = train
    if len(X) == 0:
        raise UsageError("no training examples")
    extra = [GoalStop(on_epoch_end)] if on_epoch_end is not None else []
    hooks = [
        DivergenceGuard(),
        Progress(desc, progress),
        *sorted([*extra, *callbacks], key=lambda c: c.order),
    ]
    loop = Loop(model, optimizer, rng, epochs)
    try:
        for hook in hooks:
            hook.on_train_begin(loop)
        for epoch in range(loop.start_epoch, epochs + 1):
            record = _train_epoch(loop, hooks, loss_fn, X, y, epoch, batch_size, shuffle)
            if evaluate is not None:
                record.update(evaluate())
            loop.history.record(epoch, record)
            for hook in hooks:
                hook.on_epoch_end(loop, epoch, record)
            if loop.history.stopped_early:
                break
    finally:
        for hook in hooks:
            hook.on_train_end(loop)
    if loop.best_state is not None:
        model.load_state_dict(loop.best_state)
    model.eval()
    return loop.history


def _train_epoch(
    loop: Loop,
    hooks: Sequence[Callback],
    loss_fn: LossFn,
    X: Any,
    y: Any,
    epoch: int,
    batch_size: int,
    shuffle: bool,
) -> dict[str, float]:
    """One pass over the batches: loss, the callbacks' look at it, backward, step. Returns the record."""
    loop.model.train()
    losses = []
    batches = _batches(len(X), batch_size, loop.rng, shuffle)
    for step, index in enumerate(batches, start=1):
        loop.optimizer.zero_grad()
        inputs = _take(X, index)
        loss = loss_fn(loop.model, inputs, _take(y, index))
        batch = Batch(epoch, step, len(batches), loss_value(loss), inputs)
        for hook in hooks:
            hook.on_batch(loop, batch)
        loss.backward()
        loop.optimizer.step()
        losses.append(batch.loss)
    loop.model.eval()
    return {"train_loss": float(np.mean(losses))}


# --------------------------------------------------------------------------------------------------------
# NaN, inf and divergence
# --------------------------------------------------------------------------------------------------------


def non_finite_count(data: Any) -> int:
    """How many inf or NaN values a batch of inputs (an array, or lists of numbers) holds; 0 if it is not
    numeric."""
    try:
        array = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        return 0
    return int(array.size - np.count_nonzero(np.isfinite(array)))


def check_finite(loss: float, epoch: int, step: int, lr: float) -> None:
    """Stop with a clear message when the loss is NaN or infinite (for a loop of its own; :func:`fit`
    has :class:`DivergenceGuard`)."""
    if not math.isfinite(loss):
        raise TrainingError(
            f"loss became {loss} at epoch {epoch}, step {step}: training diverged; "
            f"try a lower learning rate (now {lr:g})"
        )


def _parameters_finite(model: Module) -> bool:
    for p in model.parameters():
        data = p.data
        if isinstance(data, float):
            if not math.isfinite(data):
                return False
        elif not np.all(np.isfinite(np.asarray(data))):  # (asarray: also a torch tensor, in benchmarks)
            return False
    return True


DATA_HINT = "an overflow in the data (values too large to compute with), not the learning rate"


class DivergenceGuard(Callback):
    """Stops training with one clear line, before anything is plotted, when

    * the training inputs hold inf or NaN (before the first step): the data overflowed;
    * a batch's loss is NaN or infinite: the data, if that batch's inputs are not finite, else the
      learning rate;
    * the loss exceeds :data:`DIVERGENCE_FACTOR` times its first value (at least 1): the learning rate;
    * a weight is no longer finite after an epoch: the learning rate.
    """

    order = 0

    def __init__(self, factor: float = DIVERGENCE_FACTOR) -> None:
        self.factor = factor
        self.first: float | None = None

    def on_train_begin(self, loop: Loop) -> None:
        self.first = loop.history["train_loss"][0] if loop.history.metrics.get("train_loss") else None

    def _lr_hint(self, loop: Loop) -> str:
        return f"try a lower learning rate (now {loop.optimizer.lr:g})"

    def on_batch(self, loop: Loop, batch: Batch) -> None:
        where = f"at epoch {batch.epoch}, step {batch.step}"
        if batch.epoch == loop.start_epoch and batch.step == 1:
            bad = non_finite_count(batch.inputs)
            if bad:
                raise TrainingError(
                    f"the training inputs hold {bad} inf or nan value(s) {where}, before any step: "
                    + DATA_HINT
                )
        if not math.isfinite(batch.loss):
            bad = non_finite_count(batch.inputs)
            hint = f"its inputs hold {bad} inf or nan value(s): {DATA_HINT}" if bad else self._lr_hint(loop)
            raise TrainingError(f"loss became {batch.loss} {where}: training diverged; {hint}")
        if self.first is None:
            self.first = batch.loss
        limit = self.factor * max(abs(self.first), 1.0)
        if batch.loss > limit:
            raise TrainingError(
                f"loss became {batch.loss:.4g} {where} (from {self.first:.4g} at the start): training "
                f"diverged; {self._lr_hint(loop)}"
            )

    def on_epoch_end(self, loop: Loop, epoch: int, record: dict[str, float]) -> None:
        if not _parameters_finite(loop.model):
            raise TrainingError(
                f"the weights became inf or nan in epoch {epoch}: training diverged; {self._lr_hint(loop)}"
            )


# --------------------------------------------------------------------------------------------------------
# Progress: a bar on a terminal, a plain line every few seconds otherwise
# --------------------------------------------------------------------------------------------------------


class Heartbeat:
    """Plain progress lines for output that is not a terminal (``make run``, a log file), so that a run is
    never silent for long: after :meth:`start`, a line ``NAME: TEXT [N s]`` whenever ``interval`` seconds
    have passed since the last one. TEXT is what the training loop last reported (:meth:`beat`: epoch,
    step, loss), or "still working" when it reported nothing new (evaluating, drawing). A background thread
    checks every half second (:meth:`tick`), so the lines come even when no training step runs; without
    it (``thread=False``), only :meth:`beat` and :meth:`tick` print. ``clock`` (seconds) and ``stream`` can
    be replaced: tests use a fake clock. Off until started."""

    def __init__(
        self,
        interval: float = HEARTBEAT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        stream: IO[str] | None = None,
        thread: bool = True,
    ) -> None:
        self.interval, self.clock, self.stream, self.thread = interval, clock, stream, thread
        self.name: str | None = None
        self.started = self.last = 0.0
        self.text, self.fresh = "", False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self.name is not None

    def start(self, name: str, announce: bool = False) -> None:
        """Switch on for the run ``name``; ``announce``: say that it started."""
        self.stop()
        with self._lock:
            self.name = name
            self.started = self.last = self.clock()
            self.text, self.fresh = "", False
        if announce:
            self._print(f"{name}: started")
        if self.thread:
            self._stop.clear()
            self._worker = threading.Thread(target=self._run, name="heartbeat", daemon=True)
            self._worker.start()

    def stop(self) -> None:
        """Switch off (and end the background thread)."""
        self._stop.set()
        if self._worker is not None:
            self._worker.join()
            self._worker = None
        self.name = None

    def beat(self, text: str) -> bool:
        """Record the loop's progress ``text``; print it if a line is due. Return whether it printed."""
        if self.name is None:
            return False
        with self._lock:
            self.text, self.fresh = text, True
        return self.tick()

    def tick(self) -> bool:
        """Print a line if ``interval`` seconds have passed since the last one; return whether it did."""
        with self._lock:
            if self.name is None:
                return False
            now = self.clock()
            if now - self.last < self.interval:
                return False
            self.last = now
            text = self.text if self.fresh else "still working"
            self.fresh = False
            line = f"{self.name}: {text} [{now - self.started:.0f} s]"
        self._print(line)
        return True

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.tick()

    def _print(self, line: str) -> None:
        try:
            print(line, file=self.stream or sys.stderr, flush=True)
        except (OSError, ValueError):  # a closed or full stream: progress is not worth an error
            pass


HEARTBEAT = Heartbeat()
"""The process's heartbeat; the runner starts it for each project when stderr is not a terminal."""


class Progress(Callback):
    """A tqdm bar per epoch (``show``: True, False, or None for "only on a terminal"), and a line through
    the ``heartbeat`` (when it is switched on) naming the epoch, the step and the loss."""

    order = 1

    def __init__(
        self, desc: str = "train", show: bool | None = None, heartbeat: Heartbeat | None = None
    ) -> None:
        self.desc = desc
        self.show = show
        self.heartbeat = heartbeat if heartbeat is not None else HEARTBEAT
        self.bar: tqdm | None = None

    def on_train_begin(self, loop: Loop) -> None:
        if self.show is None:
            self.show = sys.stderr.isatty()

    def on_batch(self, loop: Loop, batch: Batch) -> None:
        if self.show:
            if self.bar is None:
                self.bar = tqdm(
                    total=batch.steps,
                    desc=f"{self.desc} {batch.epoch}/{loop.epochs}",
                    leave=False,
                    unit="batch",
                )
            self.bar.update(1)
            if batch.step % 20 == 0:
                self.bar.set_postfix(loss=f"{batch.loss:.4f}")
        self.heartbeat.beat(
            f"{self.desc}: epoch {batch.epoch}/{loop.epochs}, step {batch.step}/{batch.steps}, "
            f"loss {batch.loss:.4g}"
        )

    def on_epoch_end(self, loop: Loop, epoch: int, record: dict[str, float]) -> None:
        self._close()

    def on_train_end(self, loop: Loop) -> None:
        self._close()

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# --------------------------------------------------------------------------------------------------------
# Stopping: on a goal, early
# --------------------------------------------------------------------------------------------------------


class GoalStop(Callback):
    """``goal(epoch, history)`` after each epoch; training stops when it returns True (a goal reached)."""

    order = 10

    def __init__(self, goal: Callable[[int, History], bool | None]) -> None:
        self.goal = goal

    def on_epoch_end(self, loop: Loop, epoch: int, record: dict[str, float]) -> None:
        if self.goal(epoch, loop.history) is True:
            loop.stop()


class EarlyStopping(Callback):
    """Stop once ``monitor`` (lower is better; ``train_loss`` when it is not recorded) has not improved
    for ``patience`` epochs, and end with the best epoch's weights. Its state is read from the history
    (so a resumed run carries on exactly), except the best weights, which a checkpoint keeps."""

    order = 20

    def __init__(self, patience: int, monitor: str = "val_loss") -> None:
        if patience < 1:
            raise UsageError(f"patience must be at least 1, got {patience}")
        self.patience, self.monitor = patience, monitor

    def on_epoch_end(self, loop: Loop, epoch: int, record: dict[str, float]) -> None:
        history = loop.history
        scores = history.metrics.get(self.monitor, history["train_loss"])
        best = 0
        for k, score in enumerate(scores):
            if score < scores[best]:
                best = k
        if best == len(scores) - 1:  # this epoch is the best so far (the first one counts as such)
            loop.best_state = loop.model.state_dict()
            history.best_epoch = epoch
        if len(scores) - 1 - best >= self.patience:
            loop.stop()


# --------------------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------------------


def _plain(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The configuration as JSON gives it back (tuples as lists, paths as strings)."""
    return None if config is None else json.loads(json.dumps(dict(config), default=str))


class Checkpoint(Callback):
    """After every epoch, write ``path`` (``.npz``, atomically): weights, optimizer moments, history,
    random states (the loop's and those of ``rngs``: augmentation, say), the best weights when early
    stopping, and ``config``, the settings the run depends on.

    With ``resume``, training continues from ``path`` and ends as an uninterrupted run would. Refused
    (UsageError) when there is no checkpoint, when it is unreadable or from another model, when its
    ``config`` differs (the differing fields are named), or when it is already past ``epochs``.
    """

    order = 100

    def __init__(
        self,
        path: str | Path,
        resume: bool = False,
        config: Mapping[str, Any] | None = None,
        rngs: Sequence[np.random.Generator] = (),
    ) -> None:
        self.path, self.resume, self.config, self.rngs = Path(path), resume, _plain(config), list(rngs)

    def on_epoch_end(self, loop: Loop, epoch: int, record: dict[str, float]) -> None:
        arrays = {f"model/{k}": v for k, v in loop.model.state_dict().items()}
        arrays.update({f"optim/{k}": np.asarray(v) for k, v in loop.optimizer.state_dict().items()})
        if loop.best_state is not None:
            arrays.update({f"best/{k}": v for k, v in loop.best_state.items()})
        meta = {
            "epoch": epoch,
            "history": loop.history.to_json(),
            "rng": loop.rng.bit_generator.state,
            "rngs": [g.bit_generator.state for g in self.rngs],
            "config": self.config,
        }
        arrays["meta"] = np.array(json.dumps(meta))
        write_npz(self.path, arrays)

    def on_train_begin(self, loop: Loop) -> None:
        if not self.resume:
            return
        if not self.path.is_file():
            raise UsageError(f"--resume: no checkpoint at {self.path}")
        files, meta = self._read(loop.model)
        self._check_config(meta.get("config"))
        epoch = int(meta["epoch"])
        if epoch > loop.epochs:
            raise UsageError(
                f"cannot resume from {self.path}: it is at epoch {epoch}, past the {loop.epochs} epochs "
                "asked for; ask for at least as many, or run without --resume"
            )
        try:
            loop.model.load_state_dict({k[6:]: v for k, v in files.items() if k.startswith("model/")})
            loop.optimizer.load_state_dict({k[6:]: v for k, v in files.items() if k.startswith("optim/")})
            loop.history = History.from_json(meta["history"])
            loop.rng.bit_generator.state = meta["rng"]
            for generator, state in zip(self.rngs, meta.get("rngs", []), strict=True):
                generator.bit_generator.state = state
        except (ValueError, KeyError, TypeError) as e:
            raise UsageError(f"cannot resume from {self.path}: {e}") from None
        loop.best_state = {k[5:]: v for k, v in files.items() if k.startswith("best/")} or None
        loop.start_epoch = loop.epochs + 1 if loop.history.stopped_early else epoch + 1

    def _read(self, model: Module) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The checkpoint's arrays (model shapes checked before anything large is read) and its meta."""
        state = model.state_dict()
        shapes = {f"model/{k}": v.shape for k, v in state.items()}
        weight_bytes = sum(v.nbytes for v in state.values())
        try:
            files = read_npz(self.path, shapes, max_bytes=8 * weight_bytes + 16 * 2**20)
        except UsageError as e:
            raise UsageError(f"cannot resume: {e}") from None
        try:
            meta = json.loads(str(files["meta"]))
            if not isinstance(meta, dict) or "epoch" not in meta:
                raise ValueError("no epoch recorded")
        except (KeyError, ValueError) as e:
            raise UsageError(f"cannot resume from {self.path}: no readable record of the run ({e})") from None
        return files, meta

    def _check_config(self, saved: Any) -> None:
        if self.config is None:
            return
        if not isinstance(saved, dict):
            raise UsageError(
                f"cannot resume from {self.path}: it records no configuration (an older version's?); "
                "run without --resume"
            )
        differing = [k for k in sorted(set(saved) | set(self.config)) if saved.get(k) != self.config.get(k)]
        if differing:
            shown = "; ".join(f"{k}: {saved.get(k)!r} there, {self.config.get(k)!r} now" for k in differing)
            raise UsageError(
                f"cannot resume from {self.path}: it is from another configuration ({shown}); "
                "use the same options, or run without --resume"
            )
