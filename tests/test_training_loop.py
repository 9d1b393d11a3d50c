"""The shared training loop (projects.lab.training.fit): NaN guard, early stopping, goal stop,
checkpoints that resume into exactly the uninterrupted result, and checkpoints written atomically."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import autograd.nn
from autograd import Tensor, binary_cross_entropy_with_logits
from autograd.errors import TrainingError, UsageError
from autograd.nn import MLP, Module
from autograd.optim import SGD, Adam
from projects.datasets.synthetic import two_moons
from projects.lab.training import History, fit


def moons(n: int = 48) -> tuple[np.ndarray, np.ndarray]:
    return two_moons(n, 0.2, np.random.default_rng(7))


def bce(model: Module, X: np.ndarray, y: np.ndarray) -> Tensor:
    return binary_cross_entropy_with_logits(model(Tensor(X, dtype=np.float64)), y.reshape(-1, 1))


def new_model(seed: int = 3) -> MLP:
    return MLP([2, 6, 1], "tanh", seed=seed, dtype=np.float64)


def weights_equal(a: Module, b: Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)


# ---- the NaN / inf guard --------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_loss_stops_with_epoch_step_and_hint(bad: float) -> None:
    X, y = moons(32)
    calls = {"n": 0}

    def loss_fn(model: Module, xb: np.ndarray, yb: np.ndarray) -> Tensor:
        calls["n"] += 1
        loss = bce(model, xb, yb)
        return loss * bad if calls["n"] == 7 else loss  # the 7th batch: epoch 2, step 3 (4 batches/epoch)

    model = new_model()
    with pytest.raises(TrainingError) as info:
        fit(
            model,
            SGD(model.parameters(), lr=0.1),
            loss_fn,
            (X, y),
            epochs=5,
            batch_size=8,
            rng=np.random.default_rng(0),
            progress=False,
        )
    message = str(info.value)
    assert "epoch 2, step 3" in message
    assert "lower learning rate" in message and "0.1" in message


def test_divergence_from_a_huge_learning_rate_is_caught() -> None:
    X, y = moons(32)
    model = MLP([2, 8, 1], "relu", seed=0, dtype=np.float64)

    def mse(m: Module, xb: np.ndarray, yb: np.ndarray) -> Tensor:
        out = m(Tensor(xb, dtype=np.float64))
        return ((out - Tensor(yb.reshape(-1, 1) * 1e3, dtype=np.float64)) ** 2).mean()

    with pytest.raises(TrainingError, match="diverged"), np.errstate(over="ignore", invalid="ignore"):
        fit(
            model,
            SGD(model.parameters(), lr=1e6),
            mse,
            (X, y),
            epochs=50,
            batch_size=32,
            rng=np.random.default_rng(0),
            progress=False,
        )


# ---- early stopping and stopping on a goal ---------------------------------------------------------------


def scripted_evaluate(optimizer: SGD, steps_per_epoch: int, script: list[float]):
    """val_loss from a script, indexed by the epoch just finished (the optimizer's step count survives a
    checkpoint, so this works across a resume too)."""

    def evaluate() -> dict[str, float]:
        return {"val_loss": script[optimizer.steps // steps_per_epoch - 1]}

    return evaluate


def test_early_stopping_restores_the_best_weights() -> None:
    X, y = moons(32)
    model = new_model()
    optimizer = SGD(model.parameters(), lr=0.2)
    states: list[dict[str, np.ndarray]] = []
    history = fit(
        model,
        optimizer,
        bce,
        (X, y),
        epochs=10,
        batch_size=16,
        rng=np.random.default_rng(1),
        evaluate=scripted_evaluate(optimizer, 2, [1.0, 0.4, 0.6, 0.7, 0.8, 0.9, 0.3, 0.2, 0.1, 0.1]),
        patience=3,
        progress=False,
        on_epoch_end=lambda epoch, h: states.append(model.state_dict()),
    )
    assert history.stopped_early
    assert history.epochs == [1, 2, 3, 4, 5]  # no improvement in epochs 3, 4, 5: stop
    assert history.best_epoch == 2
    final = model.state_dict()
    assert all(np.array_equal(final[k], states[1][k]) for k in final)  # epoch 2's weights are back
    assert not all(np.array_equal(final[k], states[-1][k]) for k in final)


def test_on_epoch_end_returning_true_stops_training() -> None:
    X, y = moons(16)
    model = new_model()
    history = fit(
        model,
        SGD(model.parameters(), lr=0.1),
        bce,
        (X, y),
        epochs=20,
        batch_size=16,
        rng=np.random.default_rng(0),
        progress=False,
        on_epoch_end=lambda epoch, h: epoch == 4,
    )
    assert history.epochs == [1, 2, 3, 4]
    assert history.stopped_early


def test_progress_bar_is_shown_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    X, y = moons(16)
    model = new_model()
    fit(
        model,
        SGD(model.parameters(), lr=0.1),
        bce,
        (X, y),
        epochs=2,
        batch_size=8,
        rng=np.random.default_rng(0),
        progress=True,
        desc="demo",
    )
    assert "demo 2/2" in capsys.readouterr().err


# ---- checkpoints and resuming ----------------------------------------------------------------------------


def train(
    epochs: int,
    checkpoint: Path | None,
    resume: bool = False,
    patience: int | None = None,
    script: list[float] | None = None,
    rng_seed: int = 11,
) -> tuple[MLP, History]:
    """Adam on shuffled mini-batches: the optimizer moments and the batch order must both survive."""
    X, y = moons(40)
    model = new_model(seed=5 if not resume else 99)  # a resumed run starts from other weights on purpose
    optimizer = Adam(model.parameters(), lr=0.03)
    evaluate = scripted_evaluate(optimizer, 4, script) if script else None
    history = fit(
        model,
        optimizer,
        bce,
        (X, y),
        epochs=epochs,
        batch_size=10,
        rng=np.random.default_rng(rng_seed if not resume else 12345),
        evaluate=evaluate,
        patience=patience,
        checkpoint=checkpoint,
        resume=resume,
        progress=False,
    )
    return model, history


def test_resume_gives_the_uninterrupted_result(tmp_path: Path) -> None:
    whole, whole_history = train(6, tmp_path / "a.npz")
    train(3, tmp_path / "b.npz")  # interrupted after epoch 3
    resumed, resumed_history = train(6, tmp_path / "b.npz", resume=True)
    assert weights_equal(whole, resumed)
    assert resumed_history.to_json() == whole_history.to_json()


def test_resume_with_early_stopping_restores_the_same_best_weights(tmp_path: Path) -> None:
    script = [1.0, 0.4, 0.6, 0.7, 0.8, 0.9]
    whole, whole_history = train(6, tmp_path / "a.npz", patience=3, script=script)
    assert whole_history.stopped_early and whole_history.best_epoch == 2
    train(3, tmp_path / "b.npz", patience=3, script=script)  # stopped before the patience ran out
    resumed, resumed_history = train(6, tmp_path / "b.npz", resume=True, patience=3, script=script)
    assert resumed_history.to_json() == whole_history.to_json()
    assert weights_equal(whole, resumed)  # the best weights (epoch 2) came back from the checkpoint


def test_resume_without_a_checkpoint_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no checkpoint"):
        train(2, tmp_path / "missing.npz", resume=True)


def test_resume_from_another_architecture_is_a_usage_error(tmp_path: Path) -> None:
    train(1, tmp_path / "c.npz")
    X, y = moons(40)
    other = MLP([2, 3, 1], "tanh", dtype=np.float64)
    with pytest.raises(UsageError, match="cannot resume"):
        fit(
            other,
            SGD(other.parameters(), lr=0.1),
            bce,
            (X, y),
            epochs=2,
            batch_size=10,
            rng=np.random.default_rng(0),
            checkpoint=tmp_path / "c.npz",
            resume=True,
            progress=False,
        )


def test_checkpoint_is_written_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ckpt.npz"
    train(2, path)
    before = path.read_bytes()

    def failing_savez(file, **arrays):  # writes half a file, then the disk "fails"
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(autograd.nn.np, "savez", failing_savez)
    with pytest.raises(OSError, match="disk full"):
        train(4, path, resume=True)
    monkeypatch.undo()
    assert path.read_bytes() == before  # the old checkpoint is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.npz"]  # and no temporary file is left
    _, history = train(2, path, resume=True)  # it still loads: nothing left to do after epoch 2
    assert history.epochs == [1, 2]
