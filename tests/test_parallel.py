"""autograd.parallel: element-wise work split over threads gives the same bits as one thread, covers every
entry once, and stays on one thread for small work."""

from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pytest

from autograd import Tensor, parallel
from autograd.optim import SGD, Adam, AdamW, RMSprop


@pytest.fixture
def threads():
    """Set the thread count for one test and put the previous one back."""
    before = parallel.get_num_threads()
    yield parallel.set_num_threads
    parallel.set_num_threads(before)


@pytest.mark.parametrize("total, parts", [(10, 3), (7, 7), (100_003, 2), (5, 1)])
def test_pieces_cover_the_range_once_in_order(total, parts) -> None:
    cut = parallel.pieces(total, parts)
    assert len(cut) == parts
    assert [i for piece in cut for i in range(total)[piece]] == list(range(total))
    assert max(p.stop - p.start for p in cut) - min(p.stop - p.start for p in cut) <= 1


def test_large_work_runs_on_several_threads_and_small_work_on_the_caller(threads) -> None:
    threads(2)
    seen: list[tuple[slice, str]] = []
    record = lambda piece: seen.append((piece, threading.current_thread().name))  # noqa: E731
    parallel.split_work(record, 4 * parallel.MIN_ITEMS)
    assert sorted(p.start for p, _ in seen) == [0, 2 * parallel.MIN_ITEMS]
    names = {name for _, name in seen}
    assert len(names) == 2 and threading.current_thread().name in names
    seen.clear()
    parallel.split_work(record, parallel.MIN_ITEMS)  # too little to be worth a second thread
    assert seen == [(slice(0, parallel.MIN_ITEMS), threading.current_thread().name)]


def test_an_error_in_a_piece_reaches_the_caller(threads) -> None:
    threads(2)

    def fail_on_the_second_piece(piece: slice) -> None:
        if piece.start > 0:
            raise ValueError("piece failed")

    with pytest.raises(ValueError, match="piece failed"):
        parallel.split_work(fail_on_the_second_piece, 4 * parallel.MIN_ITEMS)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2"])
def test_the_thread_count_must_be_a_positive_integer(bad) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        parallel.set_num_threads(bad)


def test_the_default_follows_the_blas_settings(monkeypatch) -> None:
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    assert parallel._default_threads() == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "5")
    assert parallel._default_threads() == 5


def _train(make, threads_used: int, set_threads) -> list[np.ndarray]:
    set_threads(threads_used)
    rng = np.random.default_rng(0)
    params = [Tensor(rng.normal(size=s).astype(np.float32), requires_grad=True) for s in [(400, 400), (400,)]]
    optimizer = make(params)
    for _ in range(5):
        for p in params:
            p.grad = rng.normal(size=p.data.shape).astype(np.float32)
        optimizer.step()
    return [p.data.copy() for p in params]


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: Adam(ps, lr=1e-2, weight_decay=1e-2),
        lambda ps: AdamW(ps, lr=1e-2),
        lambda ps: SGD(ps, lr=1e-2, momentum=0.9, nesterov=True),
        lambda ps: RMSprop(ps, lr=1e-2, centered=True, momentum=0.5),
    ],
    ids=["adam", "adamw", "sgd", "rmsprop"],
)
def test_an_optimizer_step_on_two_threads_gives_the_same_bits_as_on_one(make, threads) -> None:
    assert 400 * 400 > 2 * parallel.MIN_ITEMS  # large enough to be split
    one, two = _train(make, 1, threads), _train(make, 2, threads)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_child_starts_its_own_threads(threads) -> None:
    threads(2)
    parallel.split_work(lambda piece: None, 4 * parallel.MIN_ITEMS)  # the parent's pool exists
    pid = os.fork()
    if pid == 0:  # the child: the parent's worker threads are not here; a split must still finish
        signal.alarm(30)  # a child that hangs is killed, and the test fails instead of hanging
        done = []
        parallel.split_work(lambda piece: done.append(piece), 4 * parallel.MIN_ITEMS)
        os._exit(0 if len(done) == 2 else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
