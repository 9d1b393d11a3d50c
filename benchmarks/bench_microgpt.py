"""Benchmark 3: one training step of microgpt, with microgpt's own 30-line ``Value`` and with ours.

microgpt (Karpathy, 2026) trains a one-layer GPT on names with a scalar autograd engine. Its algorithm is
written out below, parameterized by the ``Value`` class: token and position embeddings, RMSNorm, one layer
of 4-head causal self-attention (n_embd 16, head_dim 4, block_size 16), an MLP of width 64 with ReLU, the
LM head; cross-entropy over the positions of one name; Adam (lr 0.01 decaying linearly over 1000 steps,
beta1 0.85, beta2 0.99). One name per step, from the 1990 US Census first names, shuffled with seed 42.

Engines (``--engine``):
  microgpt   microgpt's ``Value`` as published (``__slots__``, children and local gradients as tuples,
             recursive topological sort, gradients accumulated straight into ``.grad``);
  ours       ``autograd.Value`` in the same code: the same arithmetic, the same loss (to 1e-9); our graph
             has fewer nodes (a number operand is no extra node, ``a / b`` is one node, not two).

    python benchmarks/bench_microgpt.py --engine ours --steps 10
    python benchmarks/bench_microgpt.py --engine ours --split     # forward / backward, collector off
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import REPO, count_nodes, emit, median, timed_both  # noqa: E402

NAME_FILES = [
    base / "shared" / "data" / "names" / "first_names_census1990.txt"
    for base in (REPO.parent, REPO.parent.parent)
]

N_LAYER, N_EMBD, BLOCK_SIZE, N_HEAD = 1, 16, 16, 4
HEAD_DIM = N_EMBD // N_HEAD
LEARNING_RATE, BETA1, BETA2, EPS_ADAM, NUM_STEPS = 0.01, 0.85, 0.99, 1e-8, 1000


# ---- microgpt's Value, as published ------------------------------------------------------------------------


class MicroGPTValue:
    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data, children=(), local_grads=()):
        self.data = data
        self.grad = 0
        self._children = children
        self._local_grads = local_grads

    def __add__(self, other):
        other = other if isinstance(other, MicroGPTValue) else MicroGPTValue(other)
        return MicroGPTValue(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other):
        other = other if isinstance(other, MicroGPTValue) else MicroGPTValue(other)
        return MicroGPTValue(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, other):
        return MicroGPTValue(self.data**other, (self,), (other * self.data ** (other - 1),))

    def log(self):
        return MicroGPTValue(math.log(self.data), (self,), (1 / self.data,))

    def exp(self):
        return MicroGPTValue(math.exp(self.data), (self,), (math.exp(self.data),))

    def relu(self):
        return MicroGPTValue(max(0, self.data), (self,), (float(self.data > 0),))

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1

    def backward(self):
        topo = []
        visited = set()

        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v._children:
                    build_topo(child)
                topo.append(v)

        build_topo(self)
        self.grad = 1
        for v in reversed(topo):
            for child, local_grad in zip(v._children, v._local_grads):
                child.grad += local_grad * v.grad


# ---- microgpt's model and training step, parameterized by the Value class ----------------------------------


def linear(x, w):
    return [sum(wi * xi for wi, xi in zip(wo, x)) for wo in w]


def softmax(logits):
    max_val = max(val.data for val in logits)
    exps = [(val - max_val).exp() for val in logits]
    total = sum(exps)
    return [e / total for e in exps]


def rmsnorm(x):
    ms = sum(xi * xi for xi in x) / len(x)
    scale = (ms + 1e-5) ** -0.5
    return [xi * scale for xi in x]


def gpt(state_dict, token_id, pos_id, keys, values):
    tok_emb = state_dict["wte"][token_id]
    pos_emb = state_dict["wpe"][pos_id]
    x = [t + p for t, p in zip(tok_emb, pos_emb)]
    x = rmsnorm(x)  # not redundant: the residual path's backward goes through it
    for li in range(N_LAYER):
        x_residual = x
        x = rmsnorm(x)
        q = linear(x, state_dict[f"layer{li}.attn_wq"])
        k = linear(x, state_dict[f"layer{li}.attn_wk"])
        v = linear(x, state_dict[f"layer{li}.attn_wv"])
        keys[li].append(k)
        values[li].append(v)
        x_attn = []
        for h in range(N_HEAD):
            hs = h * HEAD_DIM
            q_h = q[hs : hs + HEAD_DIM]
            k_h = [ki[hs : hs + HEAD_DIM] for ki in keys[li]]
            v_h = [vi[hs : hs + HEAD_DIM] for vi in values[li]]
            attn_logits = [
                sum(q_h[j] * k_h[t][j] for j in range(HEAD_DIM)) / HEAD_DIM**0.5 for t in range(len(k_h))
            ]
            attn_weights = softmax(attn_logits)
            head_out = [sum(attn_weights[t] * v_h[t][j] for t in range(len(v_h))) for j in range(HEAD_DIM)]
            x_attn.extend(head_out)
        x = linear(x_attn, state_dict[f"layer{li}.attn_wo"])
        x = [a + b for a, b in zip(x, x_residual)]
        x_residual = x
        x = rmsnorm(x)
        x = linear(x, state_dict[f"layer{li}.mlp_fc1"])
        x = [xi.relu() for xi in x]
        x = linear(x, state_dict[f"layer{li}.mlp_fc2"])
        x = [a + b for a, b in zip(x, x_residual)]
    return linear(x, state_dict["lm_head"])


def load_names(path: Path | None) -> list[str]:
    for candidate in [path] if path else NAME_FILES:
        if candidate is not None and candidate.exists():
            docs = [line.strip() for line in candidate.read_text().splitlines() if line.strip()]
            random.seed(42)
            random.shuffle(docs)
            return docs
    raise SystemExit(f"no names file: {', '.join(map(str, NAME_FILES))} (use --names)")


def initial_weights(vocab_size: int) -> dict[str, list[list[float]]]:
    """microgpt's initialization: N(0, 0.08) for every matrix, drawn in its order (after the shuffle)."""

    def matrix(nout, nin, std=0.08):
        return [[random.gauss(0, std) for _ in range(nin)] for _ in range(nout)]

    weights = {"wte": matrix(vocab_size, N_EMBD), "wpe": matrix(BLOCK_SIZE, N_EMBD)}
    weights["lm_head"] = matrix(vocab_size, N_EMBD)
    for i in range(N_LAYER):
        for name, shape in [
            ("attn_wq", (N_EMBD, N_EMBD)),
            ("attn_wk", (N_EMBD, N_EMBD)),
            ("attn_wv", (N_EMBD, N_EMBD)),
            ("attn_wo", (N_EMBD, N_EMBD)),
            ("mlp_fc1", (4 * N_EMBD, N_EMBD)),
            ("mlp_fc2", (N_EMBD, 4 * N_EMBD)),
        ]:
            weights[f"layer{i}.{name}"] = matrix(*shape)
    return weights


class Trainer:
    """microgpt's training loop, one step at a time, on the given Value class."""

    def __init__(self, Value, docs: list[str]) -> None:
        self.docs = docs
        self.uchars = sorted(set("".join(docs)))
        self.bos = len(self.uchars)
        weights = initial_weights(len(self.uchars) + 1)
        self.state_dict = {k: [[Value(w) for w in row] for row in m] for k, m in weights.items()}
        self.params = [p for mat in self.state_dict.values() for row in mat for p in row]
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)
        self.step_index = 0
        self.loss = math.nan
        self.root = None

    def forward(self):
        doc = self.docs[self.step_index % len(self.docs)]
        tokens = [self.bos] + [self.uchars.index(ch) for ch in doc] + [self.bos]
        n = min(BLOCK_SIZE, len(tokens) - 1)
        keys, values = [[] for _ in range(N_LAYER)], [[] for _ in range(N_LAYER)]
        losses = []
        for pos_id in range(n):
            token_id, target_id = tokens[pos_id], tokens[pos_id + 1]
            logits = gpt(self.state_dict, token_id, pos_id, keys, values)
            probs = softmax(logits)
            loss_t = -probs[target_id].log()
            losses.append(loss_t)
        return (1 / n) * sum(losses)

    def update(self) -> None:
        """Adam with bias correction and a linearly decaying learning rate; gradients reset after use."""
        step = self.step_index
        lr_t = LEARNING_RATE * (1 - step / NUM_STEPS)
        m, v = self.m, self.v
        for i, p in enumerate(self.params):
            m[i] = BETA1 * m[i] + (1 - BETA1) * p.grad
            v[i] = BETA2 * v[i] + (1 - BETA2) * p.grad**2
            m_hat = m[i] / (1 - BETA1 ** (step + 1))
            v_hat = v[i] / (1 - BETA2 ** (step + 1))
            p.data -= lr_t * m_hat / (v_hat**0.5 + EPS_ADAM)
            p.grad = 0
        self.step_index += 1

    def step(self) -> None:
        loss = self.forward()
        loss.backward()
        self.loss = loss.data
        self.update()


def value_class(engine: str):
    if engine == "microgpt":
        return MicroGPTValue
    from autograd import Value

    return Value


def split_times(trainer: Trainer, steps: int) -> dict[str, float]:
    """Median forward, backward and update times with the cyclic collector off (diagnostic only)."""
    fwd, bwd, upd = [], [], []
    for _ in range(steps):
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            loss = trainer.forward()
            t1 = time.perf_counter()
            loss.backward()
            t2 = time.perf_counter()
            trainer.loss = loss.data
            trainer.update()
            t3 = time.perf_counter()
            del loss
        finally:
            gc.enable()
        fwd.append(t1 - t0)
        bwd.append(t2 - t1)
        upd.append(t3 - t2)
    return {"forward": median(fwd), "backward": median(bwd), "update": median(upd)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=["microgpt", "ours"], required=True)
    parser.add_argument("--steps", type=int, default=5, help="timed steps (the median is reported)")
    parser.add_argument("--names", type=Path, help="names file (default: ../shared/data/names/...)")
    parser.add_argument("--split", action="store_true", help="also time forward/backward, collector off")
    args = parser.parse_args()
    docs = load_names(args.names)
    trainer = Trainer(value_class(args.engine), docs)
    nodes = count_nodes(trainer.forward())
    times, cpu, losses = [], [], []
    for _ in range(args.steps):
        wall, used = timed_both(trainer.step)
        times.append(wall)
        cpu.append(used)
        losses.append(trainer.loss)
    t = median(times)
    print(
        f"{args.engine}: median step {t * 1e3:.1f} ms over {args.steps} (best {min(times) * 1e3:.1f}),"
        f" {nodes} nodes in the first step's graph; losses {', '.join(f'{v:.12f}' for v in losses)}"
    )
    result = {
        "engine": args.engine,
        "step_s": t,
        "times": times,
        "cpu": cpu,
        "nodes": nodes,
        "losses": losses,
    }
    if args.split:
        split = split_times(Trainer(value_class(args.engine), docs), args.steps)
        print("  collector off: " + ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in split.items()))
        result["split"] = split
    emit(result)


if __name__ == "__main__":
    main()
