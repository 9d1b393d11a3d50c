"""Run the benchmarks, each engine in its own process, and write benchmarks/RESULTS.md.

    python benchmarks/run.py              # what `make bench` runs
    python benchmarks/run.py --rounds 5   # more rounds: medians over more processes

Each round starts one fresh process per engine, in turn (micrograd, ours-plain, ours-dot; microgpt's
Value, ours; then ours, torch, numpy; every other round in the reverse order), so that no engine inherits
another's garbage or thread pools, none always runs first, and a change of machine load hits every engine
alike. Every process times several runs, each from a collected
heap with its own collection included; the tables give the median of all of an engine's runs, in wall
time and in CPU time of the process (all threads). The MNIST benchmark runs with 2 threads (the target's
setting) and again with 1 thread, which a busy machine disturbs far less. Ratios are what to compare
across machines. Bytes per recorded op (tracemalloc, a 100,000-op chain) are measured once per engine.

With ``--only``, the sections not run are kept from the existing RESULTS.md, marked with their date.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import REPO, machine, median, run_script  # noqa: E402

HERE = Path(__file__).resolve().parent
SCALAR_ENGINES = ["micrograd", "ours-plain", "ours-dot"]
MICROGPT_ENGINES = ["microgpt", "ours"]
MEMORY_ENGINES = ["ours", "microgpt", "micrograd"]
MNIST_ENGINES = ["ours", "torch", "numpy"]
CNN_ENGINES = ["ours", "torch"]
BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def have(module: str) -> bool:
    from importlib.util import find_spec

    return find_spec(module) is not None


def summarize(results: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """Median and best (minimum) over every timed run of one engine's processes; median CPU time.

    On a busy machine the best run is the one least disturbed by other work: the closest to what the
    engine itself costs (the convention of ``timeit``)."""
    wall = [t for r in results for t in r["times"]]
    cpu = [t for r in results for t in r["cpu"]]
    return {
        "wall": median(wall),
        "best": min(wall),
        "cpu": median(cpu),
        "runs": len(wall),
        "all": wall,
        **extra,
    }


def in_turn(engines: list[str], round_index: int) -> list[str]:
    """The order of a round's processes: as listed in even rounds, reversed in odd ones, so that no engine
    always runs first (right after the previous round's last process) or always last."""
    return list(engines) if round_index % 2 == 0 else list(reversed(engines))


def scalar_benchmark(rounds: int, steps: int) -> dict[str, dict[str, Any]]:
    engines = [e for e in SCALAR_ENGINES if e != "micrograd" or have("micrograd")]
    runs: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
    for r in range(rounds):
        for engine in in_turn(engines, r):
            n = max(2, steps // 3) if engine == "micrograd" else steps
            result = run_script(["benchmarks/bench_scalar.py", "--engine", engine, "--steps", str(n)])
            runs[engine].append(result)
            print(f"  round {r + 1}: {engine:10s} {median(result['times']) * 1e3:8.1f} ms/step", flush=True)
    return {
        e: summarize(rs, nodes=rs[0]["nodes"], loss=rs[0]["losses"][0], losses=rs[0]["losses"])
        for e, rs in runs.items()
    }


def microgpt_benchmark(rounds: int, steps: int) -> dict[str, dict[str, Any]]:
    runs: dict[str, list[dict[str, Any]]] = {e: [] for e in MICROGPT_ENGINES}
    for r in range(rounds):
        for engine in in_turn(MICROGPT_ENGINES, r):
            result = run_script(["benchmarks/bench_microgpt.py", "--engine", engine, "--steps", str(steps)])
            runs[engine].append(result)
            print(f"  round {r + 1}: {engine:10s} {median(result['times']) * 1e3:8.1f} ms/step", flush=True)
    return {e: summarize(rs, nodes=rs[0]["nodes"], losses=rs[0]["losses"]) for e, rs in runs.items()}


def memory_benchmark() -> dict[str, dict[str, float]]:
    engines = [e for e in MEMORY_ENGINES if e != "micrograd" or have("micrograd")]
    results = {}
    for engine in engines:
        results[engine] = run_script(["benchmarks/bench_memory.py", "--engine", engine])["bytes_per_op"]
        print(f"  {engine}: " + ", ".join(f"{v:.0f}" for v in results[engine].values()) + " bytes/op")
    return results


def thread_env(threads: int, base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env.update(OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    return env


def mnist_benchmark(
    rounds: int, repeats: int, threads: int, base_env: dict[str, str] | None = None, engines=None
) -> dict[str, Any]:
    engines = engines or [e for e in MNIST_ENGINES if e != "torch" or have("torch")]
    env = thread_env(threads, base_env)
    runs: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
    peaks: list[dict[str, float]] = []
    for r in range(rounds):
        # the peak once a round, in its own process too; the best of the rounds is the least disturbed
        peaks.append(
            run_script(["benchmarks/bench_mnist.py", "--engine", "sgemm", "--threads", str(threads)], env=env)
        )
        for engine in in_turn(engines, r):
            args = ["--engine", engine, "--repeats", str(repeats), "--threads", str(threads)]
            result = run_script(["benchmarks/bench_mnist.py", *args], env=env)
            runs[engine].append(result)
            print(
                f"  {threads} thread(s), round {r + 1}: {engine:6s} {median(result['times']):.3f} s/epoch",
                flush=True,
            )
    peak = {key: max(p[key] for p in peaks) for key in peaks[0] if key.endswith("gflops")}
    first = next(iter(runs.values()))[0]
    return {
        "threads": threads,
        "engines": {e: summarize(rs, loss=rs[0]["losses"][0]) for e, rs in runs.items()},
        "rounds": {e: [median(r["times"]) for r in rs] for e, rs in runs.items()},
        "flops": first["flops"],
        "data": first["data"],
        "peak": peak,
    }


def cnn_benchmark(rounds: int, repeats: int, threads: int) -> dict[str, Any]:
    """Project 03's CNN, one epoch on the 5,000 embedded digits: ours and PyTorch, alternating processes."""
    engines = [e for e in CNN_ENGINES if e != "torch" or have("torch")]
    env = thread_env(threads)
    runs: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
    for r in range(rounds):
        for engine in in_turn(engines, r):
            args = ["--engine", engine, "--repeats", str(repeats), "--threads", str(threads)]
            result = run_script(["benchmarks/bench_cnn.py", *args], env=env)
            runs[engine].append(result)
            seconds = median(result["times"])
            print(f"  {threads} thread(s), round {r + 1}: {engine:6s} {seconds:.3f} s/epoch", flush=True)
    engines_summary = {e: summarize(rs, loss=rs[0]["losses"][0]) for e, rs in runs.items()}
    return {"threads": threads, "engines": engines_summary, "loads": [load()]}


def blas_kernel(env: dict[str, str] | None) -> str:
    """OpenBLAS's kernel (threadpoolctl's 'architecture') as a fresh process with ``env`` sees it."""
    code = (
        "import numpy, threadpoolctl\n"
        "print(next((p['architecture'] for p in threadpoolctl.threadpool_info()"
        " if p['user_api'] == 'blas'), '?'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    return out.stdout.strip() or "unknown (threadpoolctl not installed)"


# ---- the report --------------------------------------------------------------------------------------------

SCALAR_TEXT = """\
One full-batch step of micrograd's demo: MLP(2, [16, 16, 1]), ReLU, 100 two-moons points, forward,
max-margin loss + 1e-4 L2, backward, SGD. `ours-plain` is our `Value` run through micrograd's own code
(the identical graph, node for node: the few extra micrograd nodes are constants it wraps in `Value`s);
`ours-dot` is our `autograd.nn.MLP(engine="scalar")`, one `Value.dot` node per neuron, with
`Value.sum` and `autograd.optim.SGD`. All three start from the same weights and compute the same loss
(last column). Times include each engine's garbage collection."""

MICROGPT_TEXT = """\
One training step of microgpt (its published algorithm, written into `benchmarks/bench_microgpt.py`):
token and position embeddings, RMSNorm, one layer of 4-head causal self-attention (n_embd 16, head_dim 4,
block_size 16), MLP of width 64 with ReLU, LM head, cross-entropy over the positions of one name (1990
US Census first names, shuffled with seed 42), Adam (beta1 0.85, beta2 0.99). The same code runs with
microgpt's 30-line `Value` (`microgpt`) and with `autograd.Value` (`ours`), from the same weights; the
losses of the first steps must agree to 1e-9 (last column: the largest difference). Our graph has fewer
nodes for the same arithmetic: a number operand is not wrapped in a node and `a / b` is one node (microgpt
writes it `a * b**-1`). Each timed step starts from a collected heap and ends with `gc.collect()`."""

MEMORY_TEXT = """\
Traced memory (tracemalloc) per recorded op on a chain of 100,000 ops `y = op(y)` kept alive: the node, its
result and derivative floats, and whatever else the engine allocates per op (tuples, labels, a `Value`
around a number operand)."""

MNIST_TEXT = """\
One epoch of MLP 784-128-64-10, ReLU, cross-entropy, Adam 1e-3, batch 128 (469 steps), on 60,000 x 784
float32 images: the real digits of `{data}` shuffled and tiled. The same initial weights and batch order
in all three (the last batch's loss agrees: last column). Each run is one epoch from the initial
weights, garbage collection included."""

WHERE_TIME_GOES = """\
## Where the time goes (cProfile and timers, 1 thread)

- Scalar engine (`ours-plain`, micrograd's demo step, best of 7, CPU time, collector off unless said):
  building the graph about 23 ms, the topological sort 14.5 ms, the chain-rule walk 9 ms, freeing the
  graph 3.4 ms; the same step with the collector on costs about 40 ms more (its generation-0/1 passes
  while the graph grows, one object per recorded op, and the final `gc.collect()`). A node is one object
  with eight slots: parents and local derivatives sit in slots, not tuples, and an op with a number keeps
  the number, not a label (made only when drawn), so an op costs 120 bytes (144 with a new derivative
  float) and one tracked object. Without an observer the one backward driver reads those slots directly
  and adds into `.grad`. micrograd's and microgpt's steps are dominated by the collector: micrograd's
  nodes hold closures that refer back to them, and microgpt's recursive `build_topo` closure keeps its
  `topo` list in a reference cycle, so each of their graphs is garbage only a full collection frees.
  `Value.dot` cuts the node count ninefold.
- Tensor engine, MNIST MLP with 2 threads (py-spy, 2,000 samples a second over 12 epochs): the five
  matrix products 61% of our epoch (x @ W1 and x^T G for W1's gradient most of it: the same calls, and the
  same time, in the NumPy loop), Adam 20%, the engine's own Python work 8% (recording, the topological
  sort, the chain-rule walk, the optimizer's calls: spread over a hundred lines, none above 0.6%),
  cross-entropy 4%, ReLU 3%, copying the gradients into the optimizer's buffer 2.5%. So the engine can beat
  the loop only in Adam and lose only in its overhead; the two now cancel. Adam keeps four buffers of
  the parameters' size (w, g, M, V; the gradient's copy becomes the scratch space), which fit a core's
  2 MB L2 cache; with a fifth it was about 50 us a step slower. Cross-entropy keeps softmax for its
  backward pass, and the log-sum-exp shift over 10 classes comes from a column-major copy (NumPy's
  max over a short last axis runs row by row, 3x slower). In an epoch every small NumPy call costs about
  3 us (the caches are cold after each large product), three times what it costs in a loop on its own.
  A linear layer is one `affine` node (x @ W + b, the bias added in place; the bias gradient as 1^T G).
  Every value and gradient stays float32 (tested in tests/test_tensor_ops.py).
- Element-wise work on two threads (`autograd.parallel`, used by the optimizers): NumPy releases the GIL
  inside each call, so an Adam step over 300,000 float32 parameters runs 1.7x faster split over two
  threads; over the MNIST MLP's 110,000 it does not (each call lasts a few microseconds, and the threads
  spend it handing the GIL over), nor did the convolution's per-tap copies, so neither is split.
- CNN: in 03's network max-pooling comes before ReLU (the same function: ReLU keeps the order of numbers),
  so ReLU runs on a quarter of the entries; the weight gradient is computed as (X_col G^T)^T, an order in
  which OpenBLAS runs these shapes (16 x 25 and 32 x 400 outputs, long inner axes) about 1.3-1.6x faster.
  The per-tap column copies and their adjoint (col2im) stay on one thread.
- PyTorch eager pays a larger per-op overhead than NumPy on these small matrices (with 1 thread it is
  the slowest of the three). With 2 threads only the matrix products of our engine and of the NumPy
  loop run on both cores; PyTorch also spreads Adam and the element-wise kernels over them."""


def _ratios(r: dict[str, Any], base: dict[str, Any] | None) -> str:
    """Ratios of run ``r`` to ``base``: median wall / best wall / median CPU."""
    if not base:
        return "n/a"
    return " / ".join(f"{r[k] / base[k]:.2f}x" for k in ("wall", "best", "cpu"))


def scalar_table(scalar: dict[str, dict[str, Any]]) -> list[str]:
    mg = scalar.get("micrograd")
    lines = [
        "| engine | step: median, best, CPU (ms) | nodes | nodes / s (median) | speed-up vs micrograd:"
        " median / best / CPU | runs | first loss |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for e, r in scalar.items():
        speed = " / ".join(f"{mg[k] / r[k]:.1f}x" for k in ("wall", "best", "cpu")) if mg else "n/a"
        lines.append(
            f"| {e} | {r['wall'] * 1e3:.1f}, {r['best'] * 1e3:.1f}, {r['cpu'] * 1e3:.1f} | {r['nodes']:,} | "
            f"{r['nodes'] / r['wall']:,.0f} | {speed} | {r['runs']} | {r['loss']:.6f} |"
        )
    return lines


def microgpt_table(results: dict[str, dict[str, Any]]) -> list[str]:
    ref = results["microgpt"]
    lines = [
        "| engine | step: median, best, CPU (ms) | nodes (first step) | speed-up vs microgpt's Value:"
        " median / best / CPU | runs | largest loss difference |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for e, r in results.items():
        speed = " / ".join(f"{ref[k] / r[k]:.2f}x" for k in ("wall", "best", "cpu"))
        diff = max(abs(a - b) for a, b in zip(r["losses"], ref["losses"]))
        lines.append(
            f"| {e} | {r['wall'] * 1e3:.1f}, {r['best'] * 1e3:.1f}, {r['cpu'] * 1e3:.1f} | {r['nodes']:,} |"
            f" {speed} | {r['runs']} | {diff:.1e} |"
        )
    lines += [
        "",
        "Every run (ms): "
        + "; ".join(f"{e} " + " ".join(f"{t * 1e3:.0f}" for t in r["all"]) for e, r in results.items()),
    ]
    return lines


def memory_table(results: dict[str, dict[str, float]]) -> list[str]:
    engines = list(results)
    ops = list(results[engines[0]])
    lines = ["| op | " + " | ".join(engines) + " |", "| --- |" + " ---: |" * len(engines)]
    for op in ops:
        cells = [f"{results[e][op]:.0f}" if op in results[e] else "-" for e in engines]
        lines.append(f"| `{op}` | " + " | ".join(cells) + " |")
    return lines


def kept_section(path: Path, number: int, heading: str) -> list[str]:
    """A section of the existing report (from ``heading`` to the next "## "), with the date it was written."""
    if not path.exists():
        return []
    text = path.read_text()
    date = re.search(r"on (\d{4}-\d\d-\d\d \d\d:\d\d UTC)", text)
    match = re.search(rf"^## \d+\. {re.escape(heading)}.*?(?=^## (?!#))", text, flags=re.S | re.M)
    if not match:
        return []
    head, _, body = match.group(0).partition("\n")
    head = re.sub(r"^## \d+\.", f"## {number}.", head)
    if "(Not run this time" in body:  # kept once already: its note has the original date
        return ["", head, body.rstrip()]
    note = f"(Not run this time: kept from the run of {date.group(1) if date else 'an earlier date'}.)"
    return ["", head, "", note, body.rstrip()]


CNN_TEXT = """\
One epoch of project 03's LeNet-style CNN (`backprop-lab run mnist --model cnn`): conv 5x5x16, max-pool 2,
ReLU, conv 5x5x32, max-pool 2, ReLU (pooling first: the same function as ReLU first), linear 512-128-10,
cross-entropy, Adam 1e-3, batch 64 (79 steps), on the 5,000 embedded training digits in float32. The same
initial weights and batch order in both (the last batch's loss agrees: last column). Each run is one epoch
from the initial weights."""


def cnn_table(c: dict[str, Any]) -> list[str]:
    eng = c["engines"]
    torch_r = eng.get("torch")
    lines = [
        f"**{c['threads']} thread(s)** (load average after: {c['loads'][-1]}).",
        "",
        "| engine | epoch: median, best, CPU (s) | vs PyTorch: median / best / CPU | runs | last loss |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for e, r in eng.items():
        lines.append(
            f"| {e} | {r['wall']:.3f}, {r['best']:.3f}, {r['cpu']:.3f} | {_ratios(r, torch_r)} |"
            f" {r['runs']} | {r['loss']:.4f} |"
        )
    runs = "; ".join(f"{e} " + " ".join(f"{t:.2f}" for t in r["all"]) for e, r in eng.items())
    return [*lines, "", f"Every run (s): {runs}"]


def mnist_table(m: dict[str, Any]) -> list[str]:
    eng, peak, flops = m["engines"], m["peak"], m["flops"]
    torch_r, numpy_r = eng.get("torch"), eng.get("numpy")
    gflop = flops / 1e9
    lines = [
        f"**{m['threads']} thread(s).** sgemm peak measured in this run (2048^3 float32 products, best of 5"
        " in each round, best round):"
        f" NumPy {peak['numpy_gflops']:.0f} GFLOP/s"
        + (f", PyTorch {peak['torch_gflops']:.0f} GFLOP/s" if "torch_gflops" in peak else "")
        + f"; {gflop:.2f} GFLOP an epoch, so the floor is {gflop / peak['numpy_gflops']:.3f} s.",
        "",
        "| engine | epoch: median, best, CPU (s) | vs PyTorch: median / best / CPU |"
        " vs NumPy: median / best / CPU | fraction of sgemm peak (best) | runs | last loss |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for e, r in eng.items():
        vs_torch, vs_numpy = _ratios(r, torch_r), _ratios(r, numpy_r)
        lines.append(
            f"| {e} | {r['wall']:.3f}, {r['best']:.3f}, {r['cpu']:.3f} | {vs_torch} | {vs_numpy} | "
            f"{gflop / peak['numpy_gflops'] / r['best']:.0%} | {r['runs']} | {r['loss']:.4f} |"
        )
    lines += [
        "",
        "Every run (s): "
        + "; ".join(f"{e} " + " ".join(f"{t:.2f}" for t in r["all"]) for e, r in eng.items()),
    ]
    rounds = m.get("rounds", {})
    if "ours" in rounds and "numpy" in rounds:
        # a round's processes run back to back, so a slow drift of the machine's speed hits them alike
        ratios = [a / b for a, b in zip(rounds["ours"], rounds["numpy"])]
        lines += [
            "",
            "Round by round (each round runs the engines back to back), ours / NumPy: "
            + ", ".join(f"{x:.2f}" for x in ratios)
            + f"; median of the rounds' ratios {median(ratios):.2f}x.",
        ]
    return lines


def write_results(
    path: Path,
    facts: dict[str, str],
    command: str,
    scalar: dict | None,
    mnist: list[dict],
    blas_note: str,
    loads: list[str],
    microgpt: dict | None = None,
    memory: dict | None = None,
    cnn: list[dict] | None = None,
) -> str:
    previous = path
    lines = [
        "# Benchmark results",
        "",
        f"Written by `{command}` on {facts['date']}. Ratios are what to compare; absolute times depend on",
        "the machine and on its load. The load averages before and after the run are in the table: other",
        "work on a 2-core machine slows the multi-threaded BLAS runs most (wall time), so CPU time is given",
        "beside it and the MNIST benchmark is repeated with 1 thread.",
        "",
        "| machine | |",
        "| --- | --- |",
    ]
    for key in ("uname", "cpu", "cores", "python", "numpy", "torch", "micrograd", "blas", *BLAS_VARS):
        if key in facts:
            lines.append(f"| {key} | {facts[key]} |")
    lines.append(f"| load average (1, 5, 15 min) before / after | {loads[0]} / {loads[-1]} |")
    if scalar:
        lines += ["", "## 1. Scalar engine vs micrograd 0.1.0", "", SCALAR_TEXT, "", *scalar_table(scalar)]
    else:
        lines += kept_section(previous, 1, "Scalar engine vs micrograd")
    if microgpt:
        lines += ["", "## 2. Scalar engine on microgpt's training step", "", MICROGPT_TEXT, ""]
        lines += microgpt_table(microgpt)
    else:
        lines += kept_section(previous, 2, "Scalar engine on microgpt")
    if memory:
        lines += ["", "## 3. Bytes per recorded op", "", MEMORY_TEXT, "", *memory_table(memory)]
    else:
        lines += kept_section(previous, 3, "Bytes per recorded op")
    if mnist:
        lines += [
            "",
            "## 4. Tensor engine vs PyTorch CPU eager and hand-written NumPy",
            "",
            MNIST_TEXT.format(data=Path(mnist[0]["data"]).name),
        ]
        for m in mnist:
            lines += ["", *mnist_table(m)]
        lines += ["", "### OpenBLAS core type", "", blas_note]
    else:
        lines += kept_section(previous, 4, "Tensor engine vs PyTorch")
    if cnn:
        lines += ["", "## 5. Tensor engine vs PyTorch CPU eager: a convolutional network", "", CNN_TEXT]
        for c in cnn:
            lines += ["", *cnn_table(c)]
    else:
        lines += kept_section(previous, 5, "Tensor engine vs PyTorch CPU eager: a convolutional")
    lines += [
        "",
        WHERE_TIME_GOES,
        "",
        "## Reproduce",
        "",
        "```",
        "make bench       # installs the bench extras (micrograd, torch, threadpoolctl), then runs:",
        command,
        "python benchmarks/bench_scalar.py --engine ours-dot --steps 10      # one engine, one process",
        "python benchmarks/bench_microgpt.py --engine ours --steps 10 --split",
        "python benchmarks/bench_memory.py --engine ours",
        "OPENBLAS_NUM_THREADS=2 python benchmarks/bench_mnist.py --engine ours --repeats 3 --threads 2",
        "OPENBLAS_NUM_THREADS=2 python benchmarks/bench_cnn.py --engine ours --repeats 3 --threads 2",
        "python benchmarks/p03_cnn_accuracy.py --engine torch --seed 0   # test accuracy, 15 epochs",
        "```",
        "",
    ]
    text = "\n".join(lines)
    path.write_text(text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=4, help="processes per engine (default 4)")
    parser.add_argument(
        "--scalar-steps", type=int, default=9, help="timed steps per process (micrograd: 1/3)"
    )
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per MNIST process")
    parser.add_argument("--threads", type=int, nargs="+", default=[2, 1], help="MNIST thread settings")
    parser.add_argument("--microgpt-steps", type=int, default=5, help="timed microgpt steps per process")
    parser.add_argument(
        "--only",
        choices=["scalar", "microgpt", "memory", "mnist", "cnn"],
        nargs="+",
        help="run these benchmarks",
    )
    parser.add_argument("--cnn-epochs", type=int, default=2, help="timed epochs per CNN process")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    command = "python benchmarks/run.py" + "".join(f" {shlex.quote(a)}" for a in sys.argv[1:])
    facts = machine()
    facts["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    loads = [load()]
    print(f"{facts['cpu']}, {facts['cores']} cores, load {loads[0]}", flush=True)
    scalar, microgpt, memory, mnist, blas_note = None, None, None, [], ""
    only = set(args.only or ["scalar", "microgpt", "memory", "mnist", "cnn"])
    if "scalar" in only:
        print("benchmark 1: scalar engine vs micrograd", flush=True)
        scalar = scalar_benchmark(args.rounds, args.scalar_steps)
    if "microgpt" in only:
        print("benchmark 2: scalar engine on microgpt's step", flush=True)
        microgpt = microgpt_benchmark(args.rounds, args.microgpt_steps)
    if "memory" in only:
        print("benchmark 3: bytes per recorded op", flush=True)
        memory = memory_benchmark()
    if "mnist" in only:
        print("benchmark 4: tensor engine vs PyTorch and NumPy", flush=True)
        mnist = [mnist_benchmark(args.rounds, args.epochs, threads) for threads in args.threads]
        set_vars = {k: os.environ[k] for k in BLAS_VARS if k in os.environ}
        kernel = blas_kernel(None)
        if set_vars:
            print("  again with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset", flush=True)
            unset = {k: v for k, v in os.environ.items() if k not in BLAS_VARS}
            threads = args.threads[0]
            again = mnist_benchmark(args.rounds, args.epochs, threads, unset, engines=["ours", "numpy"])
            blas_note = (
                f"Set here: {', '.join(f'{k}={v}' for k, v in set_vars.items())} (OpenBLAS kernel {kernel})."
                f" With both unset (kernel {blas_kernel(unset)}), {threads} thread(s): ours"
                f" {again['engines']['ours']['wall']:.3f} s, NumPy {again['engines']['numpy']['wall']:.3f} s,"
                f" sgemm {again['peak']['numpy_gflops']:.0f} GFLOP/s (the tables above: as set)."
            )
        else:
            blas_note = (
                "Neither OPENBLAS_CORETYPE nor OPENBLAS_L2_SIZE is set in this run's environment, so there"
                f" is nothing to unset: OpenBLAS chose its kernel itself ({kernel})."
            )
    cnn = []
    if "cnn" in only:
        print("benchmark 5: tensor engine vs PyTorch on a CNN", flush=True)
        cnn = [cnn_benchmark(args.rounds, args.cnn_epochs, threads) for threads in args.threads]
    loads.append(load())
    text = write_results(args.out, facts, command, scalar, mnist, blas_note, loads, microgpt, memory, cnn)
    print()
    print(text)
    print(f"written to {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}")


if __name__ == "__main__":
    main()
