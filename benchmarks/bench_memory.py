"""Benchmark 4: bytes per recorded op, measured with tracemalloc on a chain of 100,000 ops.

For each engine and each kind of op, ``y = op(y)`` is applied 100,000 times starting from a leaf and the
chain is kept alive; the growth of traced memory divided by the number of ops is what one recorded op
costs (its node, its result and derivative floats, any tuples, labels or wrapped constants).
A number operand (``y * 1.0001``) is measured beside a Value operand (``y * w``).

    python benchmarks/bench_memory.py --engine ours
"""

from __future__ import annotations

import argparse
import gc
import sys
import tracemalloc
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import emit  # noqa: E402

CHAIN = 100_000


def chains(Value: Any) -> dict[str, Callable[[Any, Any, int], Any]]:
    """op name -> f(y, w, i): the next link of the chain (w is a leaf Value)."""
    ops: dict[str, Callable[[Any, Any, int], Any]] = {
        "y * w (Value operand)": lambda y, w, i: y * w,
        "y * 1.0001 (number operand)": lambda y, w, i: y * 1.0001,
        "y + w (Value operand)": lambda y, w, i: y + w,
        "y + 0.5 (number operand)": lambda y, w, i: y + 0.5,
        "y * 1.000001, y + 0.5 alternating": lambda y, w, i: y * 1.000001 if i % 2 == 0 else y + 0.5,
    }
    if hasattr(Value, "tanh"):
        ops["tanh(y)"] = lambda y, w, i: y.tanh()
    if hasattr(Value, "relu"):
        ops["relu(y)"] = lambda y, w, i: y.relu()
    return ops


def value_class(engine: str) -> Any:
    if engine == "microgpt":
        from bench_microgpt import MicroGPTValue

        return MicroGPTValue
    if engine == "micrograd":
        from micrograd.engine import Value

        return Value
    from autograd import Value

    return Value


def bytes_per_op(Value: Any, link: Callable[[Any, Any, int], Any], n: int = CHAIN) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        x, w = Value(1.0), Value(1.0000001)
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        y = x
        for i in range(n):
            y = link(y, w, i)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del y  # (freed outside the measurement)
    return (after - before) / n


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=["ours", "microgpt", "micrograd"], required=True)
    parser.add_argument("--ops", type=int, default=CHAIN)
    args = parser.parse_args()
    Value = value_class(args.engine)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * args.ops))  # micrograd frees chains recursively
    result = {name: bytes_per_op(Value, link, args.ops) for name, link in chains(Value).items()}
    for name, b in result.items():
        print(f"{args.engine}: {name:36s} {b:7.1f} bytes/op")
    emit({"engine": args.engine, "bytes_per_op": result, "ops": args.ops})


if __name__ == "__main__":
    main()
