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
from projects.lab.training import Checkpoint, EarlyStopping, History, fit


def moons(n: int = 48) -> tuple[np.ndarray, np.ndarray]:
    return two_moons(n, 0.2, np.random.default_rng(7))


def bce(model: Module, X: np.ndarray, y: np.ndarray) -> Tensor:
    return binary_cross_entropy_with_logits(model(Tensor(X, dtype=np.float64)), y.reshape(-1, 1))


def new_model(seed: int = 3) -> MLP:
    return MLP([2, 6, 1], "tanh", seed=seed, dtype=np.float64)


def weights_equal(a: Module, b: Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)


def training_error(lr: float, loss_fn, data, epochs: int, batch_size: int) -> str:
    """The message of the TrainingError that ``fit`` must stop with (SGD at ``lr`` on a new model)."""
    model = new_model()
    with pytest.raises(TrainingError) as info:
        fit(
            model,
            SGD(model.parameters(), lr=lr),
            loss_fn,
            data,
            epochs=epochs,
            batch_size=batch_size,
            rng=np.random.default_rng(0),
            progress=False,
        )
    return str(info.value)


# ---- the NaN / inf guard --------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_loss_stops_with_epoch_step_and_hint(bad: float) -> None:
    X, y = moons(32)
    calls = {"n": 0}

    def loss_fn(model: Module, xb: np.ndarray, yb: np.ndarray) -> Tensor:
        calls["n"] += 1
        loss = bce(model, xb, yb)
        return loss * bad if calls["n"] == 7 else loss  # the 7th batch: epoch 2, step 3 (4 batches/epoch)

    message = training_error(0.1, loss_fn, (X, y), epochs=5, batch_size=8)
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
        callbacks=[EarlyStopping(patience=3)],
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
        callbacks=[
            *([EarlyStopping(patience)] if patience is not None else []),
            *([Checkpoint(checkpoint, resume=resume)] if checkpoint is not None else []),
        ],
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
            callbacks=[Checkpoint(tmp_path / "c.npz", resume=True)],
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


# ---- each callback on its own ------------------------------------------------------------------------------


def test_guard_names_an_overflow_in_the_data_not_the_learning_rate() -> None:
    X, y = moons(16)
    X[3, 1] = np.inf  # what standardizing values near 1e308 gives
    message = training_error(1e-9, bce, (X, y), epochs=2, batch_size=4)
    assert "overflow in the data" in message and "epoch 1, step 1" in message
    assert "lower learning rate" not in message


def test_guard_stops_a_loss_that_explodes_while_still_finite() -> None:
    from projects.lab.training import Batch, DivergenceGuard, Loop

    model = new_model()
    guard = DivergenceGuard(factor=100.0)
    loop = Loop(model, SGD(model.parameters(), lr=3.0), np.random.default_rng(0), epochs=5)
    guard.on_train_begin(loop)
    guard.on_batch(loop, Batch(1, 1, 4, 0.7, np.zeros((2, 2))))
    guard.on_batch(loop, Batch(1, 2, 4, 99.0, np.zeros((2, 2))))  # 141 x the first loss, within the floor
    with pytest.raises(
        TrainingError, match=r"loss became 101 at epoch 1, step 3 .*lower learning rate \(now 3\)"
    ):
        guard.on_batch(loop, Batch(1, 3, 4, 101.0, np.zeros((2, 2))))


def test_guard_stops_when_a_weight_is_no_longer_finite() -> None:
    from projects.lab.training import DivergenceGuard, Loop

    model = new_model()
    loop = Loop(model, SGD(model.parameters(), lr=1e6), np.random.default_rng(0), epochs=5)
    DivergenceGuard().on_epoch_end(loop, 1, {"train_loss": 1.0})  # finite: nothing happens
    model.parameters()[0].data[0, 0] = np.nan
    with pytest.raises(TrainingError, match="weights became inf or nan in epoch 2"):
        DivergenceGuard().on_epoch_end(loop, 2, {"train_loss": 1.0})


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_heartbeat_prints_at_most_one_line_per_interval_and_nothing_until_started() -> None:
    import io

    from projects.lab.training import Heartbeat

    clock, stream = FakeClock(), io.StringIO()
    beat = Heartbeat(interval=5.0, clock=clock, stream=stream, thread=False)
    clock.now += 60
    assert not beat.beat("ignored: not started")
    beat.start("03-mnist", announce=True)
    printed = []
    for _ in range(100):  # 100 steps of 0.4 s: 40 s
        clock.now += 0.4
        printed.append(beat.beat("epoch 1/3"))
    lines = stream.getvalue().splitlines()
    assert lines[0] == "03-mnist: started"
    assert len(lines) == 1 + 7 and sum(printed) == 7  # at 5.2, 10.4, ..., 36.4 s: never 10 s of silence
    assert lines[1] == "03-mnist: epoch 1/3 [5 s]"
    beat.stop()
    clock.now += 60
    assert not beat.beat("stopped")


def test_progress_feeds_the_heartbeat_with_epoch_step_and_loss() -> None:
    import io

    from projects.lab.training import Heartbeat, Progress

    clock, stream = FakeClock(), io.StringIO()
    beat = Heartbeat(interval=5.0, clock=clock, stream=stream, thread=False)
    beat.start("02-xor")

    class SlowLoss:  # every batch takes 3 s on the fake clock
        def __call__(self, model, xb, yb):
            clock.now += 3.0
            return bce(model, xb, yb)

    X, y = moons(16)
    model = new_model()
    fit(
        model,
        SGD(model.parameters(), lr=0.1),
        SlowLoss(),
        (X, y),
        epochs=2,
        batch_size=4,
        rng=np.random.default_rng(0),
        callbacks=[Progress("xor", False, beat)],
        progress=False,
    )
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4  # 8 batches, 24 s: a line every 6 s (two batches), never more than 10 s apart
    assert lines[0].startswith("02-xor: xor: epoch 1/2, step 2/4, loss ") and lines[0].endswith("[6 s]")


def test_early_stopping_alone_reads_its_state_from_the_history() -> None:
    from projects.lab.training import Loop

    model = new_model()
    loop = Loop(model, SGD(model.parameters(), lr=0.1), np.random.default_rng(0), epochs=10)
    stopper = EarlyStopping(patience=2)
    for epoch, score in enumerate([0.5, 0.3, 0.3, 0.4], start=1):
        loop.history.record(epoch, {"train_loss": 1.0, "val_loss": score})
        stopper.on_epoch_end(loop, epoch, {})
    assert loop.history.best_epoch == 2 and loop.history.stopped_early  # a tie is no improvement
    with pytest.raises(UsageError, match="patience"):
        EarlyStopping(patience=0)


def test_goal_stop_alone() -> None:
    from projects.lab.training import GoalStop, Loop

    model = new_model()
    loop = Loop(model, SGD(model.parameters(), lr=0.1), np.random.default_rng(0), epochs=10)
    goal = GoalStop(lambda epoch, history: epoch >= 3)
    goal.on_epoch_end(loop, 2, {})
    assert not loop.history.stopped_early
    goal.on_epoch_end(loop, 3, {})
    assert loop.history.stopped_early


def config_run(path: Path, epochs: int, config: dict, resume: bool = False, extra_seed: int = 0):
    X, y = moons(40)
    model = new_model(seed=5)
    extra = np.random.default_rng(extra_seed)  # a generator the loss uses (augmentation, say)
    draws: list[float] = []

    def noisy(m: Module, xb: np.ndarray, yb: np.ndarray) -> Tensor:
        draws.append(float(extra.normal()))
        return bce(m, xb + 0.01 * draws[-1], yb)

    history = fit(
        model,
        Adam(model.parameters(), lr=0.03),
        noisy,
        (X, y),
        epochs=epochs,
        batch_size=10,
        rng=np.random.default_rng(11),
        progress=False,
        callbacks=[Checkpoint(path, resume=resume, config=config, rngs=[extra])],
    )
    return model, history


def test_a_checkpoint_keeps_further_random_generators(tmp_path: Path) -> None:
    whole, whole_history = config_run(tmp_path / "a.npz", 4, {"hidden": 6})
    config_run(tmp_path / "b.npz", 2, {"hidden": 6})
    resumed, resumed_history = config_run(tmp_path / "b.npz", 4, {"hidden": 6}, resume=True, extra_seed=99)
    assert weights_equal(whole, resumed) and resumed_history.to_json() == whole_history.to_json()


def test_resume_refuses_another_configuration_naming_the_fields(tmp_path: Path) -> None:
    config_run(tmp_path / "c.npz", 2, {"activation": "tanh", "lr": 0.03, "hidden": [6]})
    with pytest.raises(UsageError) as info:
        config_run(tmp_path / "c.npz", 3, {"activation": "relu", "lr": 0.03, "hidden": (6,)}, resume=True)
    assert "another configuration (activation: 'tanh' there, 'relu' now)" in str(info.value)


def test_resume_refuses_a_checkpoint_past_the_epochs_asked_for(tmp_path: Path) -> None:
    config_run(tmp_path / "d.npz", 3, {})
    with pytest.raises(UsageError, match="at epoch 3, past the 2 epochs asked for"):
        config_run(tmp_path / "d.npz", 2, {}, resume=True)


@pytest.mark.parametrize("damage", ["truncate", "empty", "garbage"])
def test_a_damaged_checkpoint_is_a_usage_error(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "e.npz"
    config_run(path, 1, {})
    data = path.read_bytes()
    path.write_bytes(
        {"truncate": data[: len(data) // 2], "empty": b"", "garbage": b"PK\x03\x04" + data[:40]}[damage]
    )
    with pytest.raises(UsageError, match="cannot resume"):
        config_run(path, 2, {}, resume=True)


def test_heartbeat_speaks_between_training_steps_too() -> None:
    """Drawing or evaluating, with no training step to report: a tick still prints a line every interval."""
    import io

    from projects.lab.training import Heartbeat

    clock, stream = FakeClock(), io.StringIO()
    beat = Heartbeat(interval=5.0, clock=clock, stream=stream, thread=False)
    beat.start("04-visualizer", announce=True)
    clock.now += 6
    assert beat.beat("moons: epoch 80/80, step 7/7, loss 0.05")
    for _ in range(30):  # 15 s of drawing, ticked every half second as the background thread does
        clock.now += 0.5
        beat.tick()
    assert stream.getvalue().splitlines() == [
        "04-visualizer: started",
        "04-visualizer: moons: epoch 80/80, step 7/7, loss 0.05 [6 s]",
        "04-visualizer: still working [11 s]",
        "04-visualizer: still working [16 s]",
        "04-visualizer: still working [21 s]",
    ]


def test_heartbeat_thread_starts_and_stops() -> None:
    import io

    from projects.lab.training import Heartbeat

    beat = Heartbeat(interval=3600.0, stream=io.StringIO())
    beat.start("x")
    assert beat._worker is not None and beat._worker.is_alive()
    beat.stop()
    assert beat._worker is None and not beat.enabled
