"""Element-wise work on more than one core.

NumPy runs a matrix product on every core it is given (through its BLAS), but an element-wise pass
(``m *= b1``, ``np.sqrt``) or a strided copy on one. Both release Python's global interpreter lock while
they run, so cutting a large array into n contiguous pieces and handing the pieces to n threads runs those
passes n at a time. The optimizers' updates use it: each piece gets exactly the arithmetic it would have
had on one thread, so the results are bit for bit the same whatever the thread count.

It pays only for long passes. Each NumPy call takes the lock back when it ends, so two threads that make
many short calls (a few microseconds each) spend their time handing the lock to each other: an Adam step
over 300,000 float32 parameters ran 1.7x faster on two threads, one over 110,000 (the MNIST MLP) no
faster, and the convolution's per-tap copies (tens of microseconds each) not at all.

The thread count is ``set_num_threads(n)``; by default it follows the BLAS settings
(``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``: the first one set), else the cores this
process may use. Work smaller than ``MIN_ITEMS`` numbers stays on the calling thread: handing a piece to
another thread costs tens of microseconds, more than a pass over a small array.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

MIN_ITEMS = 1 << 16  # numbers a piece must hold at least: for less, one thread is faster
_ENVIRONMENT = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

_threads: int | None = None
_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _default_threads() -> int:
    for name in _ENVIRONMENT:
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def get_num_threads() -> int:
    """How many threads element-wise work is split over (see the module docstring)."""
    global _threads
    if _threads is None:
        _threads = _default_threads()
    return _threads


def set_num_threads(n: int) -> None:
    """Split element-wise work over ``n`` threads from now on (1: never split), as torch.set_num_threads."""
    global _threads, _pool
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: the thread count must be a positive integer, got {n!r}")
    with _lock:
        _threads = n
        if _pool is not None:
            _pool.shutdown(wait=True)
            _pool = None


def _worker_pool() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=get_num_threads() - 1, thread_name_prefix="autograd")
        return _pool


def _forget_pool() -> None:
    """After ``fork`` the child has none of the parent's threads: it starts a pool of its own when needed."""
    global _pool, _lock
    _pool, _lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def pieces(total: int, parts: int) -> list[slice]:
    """``range(total)`` cut into ``parts`` contiguous slices whose lengths differ by at most one."""
    bounds = [total * i // parts for i in range(parts + 1)]
    return [slice(a, b) for a, b in zip(bounds, bounds[1:])]


def parts_for(total: int) -> int:
    """How many pieces ``split_work`` cuts ``range(total)`` into: one per thread, each of at least
    ``MIN_ITEMS`` numbers (so 1 when the work is small or there is one thread)."""
    return max(1, min(get_num_threads(), total // MIN_ITEMS))


def split_work(work: Callable[[slice], None], total: int) -> None:
    """Run ``work(piece)`` for contiguous pieces of ``range(total)`` (:func:`parts_for` of them) that together
    cover it once, on as many threads at a time (the calling thread takes the first piece). ``work`` must
    touch only its own piece of every output."""
    parts = parts_for(total)
    if parts == 1:
        work(slice(0, total))
        return
    first, *rest = pieces(total, parts)
    pool = _worker_pool()
    futures = [pool.submit(work, piece) for piece in rest]
    try:
        work(first)
    finally:
        for future in futures:
            future.result()
