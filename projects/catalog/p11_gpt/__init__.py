"""Project 11: a character-level GPT on both engines (microgpt's model, from the same weights).

The model is microgpt's (Karpathy, 2026): token and position embeddings, RMSNorm, one layer of 4-head
causal self-attention (n_embd 16, head_dim 4, context 16), an MLP of width 64 with ReLU, residual
connections and an LM head, trained with Adam (beta1 0.85, beta2 0.99) and a linearly decaying learning rate
to predict each next character of a name. It is written twice:

* :mod:`.model_scalar`: microgpt's style, lists of ``Value``s, one token at a time, one name per step;
* :mod:`.model_tensor`: matrices on the Tensor engine, a batch of names padded to the longest, a causal mask
  in the attention and a mask on the loss.

``--engine both`` (the default) first trains the two from the same initial weights side by side for a few
steps in float64, one name per step on each, and compares their losses (they agree to rounding) and their
time per step; then it trains the tensor model on batches. ``--engine tensor`` only trains;
``--engine scalar`` trains the scalar model with microgpt's loop (and evaluates it on the Tensor engine,
which gives the same numbers faster).

Quality is the held-out negative log-likelihood per character (the end of a name counts as one), beside an
add-one smoothed bigram count model's on the same split. Names are sampled at a temperature, and one
attention head's softmax and weighted sum at one position is written as a tracer stepper page.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autograd.errors import UsageError, check_options
from projects.catalog.p11_gpt.architecture import Sizes, initial_weights
from projects.catalog.p11_gpt.data import (
    UNKNOWN_CHOICES,
    Bigram,
    Documents,
    Vocabulary,
    read_documents,
    split,
    token_sequences,
    vocabulary,
)
from projects.catalog.p11_gpt.model_scalar import ScalarGPT
from projects.catalog.p11_gpt.model_tensor import TensorGPT
from projects.catalog.p11_gpt.train import (
    AdamSettings,
    Comparison,
    TrainingRecord,
    compare_engines,
    held_out_nll,
    train_scalar,
    train_tensor,
)
from projects.lab.config import RunConfig, option

ENGINES = ("both", "tensor", "scalar")
STEPPER_PAGE = "attention_head.html"


@dataclass
class Config(RunConfig):
    """Settings of project 11 (each field is a command-line flag: ``block_size`` is ``--block-size``)."""

    data: str | None = option(
        None,
        "A UTF-8 text file of one name (document) a line (default: the embedded 1990 US Census first names).",
    )
    alphabet: str | None = option(
        None,
        "The characters a name may contain (default: any printable character); the vocabulary is those used.",
    )
    unknown: str = option(
        "error",
        "A line with a character outside the alphabet: error (stop, naming the line) or skip (leave it out).",
    )
    held_out: float = option(0.1, "Share of the names held out for the validation NLL (chosen by the seed).")
    engine: str = option(
        "both",
        "both: the engines side by side for --compare-steps, then tensor training; tensor: only the "
        "training; scalar: train the scalar model with microgpt's loop.",
    )
    n_embd: int = option(16, "Embedding width C.")
    n_head: int = option(4, "Attention heads (head_dim = n_embd / n_head).")
    n_layer: int = option(1, "Transformer blocks.")
    block_size: int = option(16, "Context: the most positions (predictions) per name.")
    mlp_width: int = option(64, "Hidden width of the MLP.")
    init_std: float = option(0.08, "Standard deviation of the N(0, std^2) initial weights.")
    steps: int = option(2000, "Adam steps of the tensor model.", quick=300)
    batch_size: int = option(32, "Names per tensor step (padded to the longest, with a mask).", quick=16)
    lr: float = option(0.01, "Adam's learning rate, decaying linearly to 0 over the steps.")
    beta1: float = option(0.85, "Adam's beta1.")
    beta2: float = option(0.99, "Adam's beta2.")
    scalar_steps: int = option(
        1000,
        "Steps of the scalar model with --engine scalar (one name each; also the length of the "
        "learning-rate schedule of the side-by-side steps).",
        quick=20,
    )
    compare_steps: int = option(
        10, "Steps both engines take side by side from the same weights, one name each, in float64.", quick=3
    )
    eval_every: int = option(100, "Compute the held-out NLL every this many tensor steps.", quick=100)
    temperature: float = option(
        0.5, "Sampling temperature: logits are divided by it (below 1: likelier names)."
    )
    num_samples: int = option(20, "Names sampled for the report.")
    trace_name: str | None = option(
        None,
        "The name whose attention head is traced (default: the first held-out name of 4 or more letters).",
    )
    trace_position: int = option(2, "The position traced (0 reads BOS, t reads the t-th character).")
    trace_head: int = option(0, "The head traced.")


EXPLANATION = """\
# 11 A GPT on both engines

microgpt's model (Karpathy, 2026): a one-layer GPT over characters (token and position embeddings, RMSNorm,
4-head causal self-attention with n_embd 16, an MLP of width 64, an LM head; 4,192 weights for 26 letters)
learns to continue names, one character at a time, from the 1990 US Census first names (10% held out).
It is written twice: on the scalar engine in microgpt's style (lists of `Value`s, one name per step) and
on the Tensor engine (a batch of names padded to the longest, a causal mask in the attention, a mask on the
loss).

* `engines.png`: both engines trained from the same weights on the same names, one name per step, in float64:
  the two loss curves lie on top of each other (the bottom panel: their difference, rounding only), and the
  legend gives each engine's time per step (forward, backward and Adam update of one name). The ratio is what
  "everything else is just for efficiency" is worth on this model.
* `training_curve.png`: the tensor model's training loss per step and its held-out negative log-likelihood
  per character (the end of a name counts as a character), against the bigram count model's (add-one
  smoothing, fitted on the same training names): the GPT, which sees up to 16 characters back, goes below
  the model that sees one.
* `samples.png`: 20 names sampled at the temperature (logits divided by it before the softmax); bold: names
  that are not in the data.
* `attention.png`: every head's attention weights over one held-out name; row t is how the position reading
  the t-th character mixes the positions 0..t (causal: nothing to the right). The outlined row is traced in
  `attention_head.html`.
* `attention_head.html`: open it in a browser and step through the backward pass of one head's softmax and
  weighted sum at that position, node by node, with the model's own numbers. Its root is
  L = sum_j g_j o_j where g_j is the full model's dLoss/do_j, so each gradient on the page is the training
  loss's own gradient through that head.
"""


def _check(config: Config) -> None:
    """Every option in range, before anything is read or trained (one UsageError line otherwise)."""
    positive = (
        "n_embd",
        "n_head",
        "n_layer",
        "block_size",
        "mlp_width",
        "steps",
        "batch_size",
        "scalar_steps",
        "compare_steps",
        "eval_every",
    )
    checks = [
        (config.engine in ENGINES, f"--engine {config.engine!r}: choose {', '.join(ENGINES)}"),
        (config.unknown in UNKNOWN_CHOICES, f"--unknown {config.unknown!r}: choose error or skip"),
    ]
    checks += [
        (
            getattr(config, name) >= 1,
            f"--{name.replace('_', '-')} must be at least 1 (got {getattr(config, name)})",
        )
        for name in positive
    ]
    checks += [
        (
            config.n_embd % config.n_head == 0,
            f"--n-embd {config.n_embd} is not divisible by --n-head {config.n_head}",
        ),
        (0 < config.held_out < 1, f"--held-out must be between 0 and 1 (got {config.held_out})"),
        (_positive(config.lr), f"--lr must be a positive number (got {config.lr})"),
        (_positive(config.init_std), f"--init-std must be a positive number (got {config.init_std})"),
        (
            _positive(config.temperature),
            f"--temperature must be a positive number (got {config.temperature})",
        ),
        (0 <= config.beta1 < 1 and 0 <= config.beta2 < 1, "--beta1 and --beta2 must be in [0, 1)"),
        (config.num_samples >= 0, f"--num-samples must be 0 or more (got {config.num_samples})"),
        (
            0 <= config.trace_position < config.block_size,
            f"--trace-position must be in 0..{config.block_size - 1} (got {config.trace_position})",
        ),
        (
            0 <= config.trace_head < config.n_head,
            f"--trace-head must be in 0..{config.n_head - 1} (got {config.trace_head})",
        ),
    ]
    check_options(checks)


def _positive(x: float) -> bool:
    return x > 0 and math.isfinite(x)


def traced_name(config: Config, vocab: Vocabulary, val_documents: list[str]) -> str:
    """The name whose attention is traced: ``--trace-name`` (checked against the vocabulary and the
    position), else the first held-out name long enough, else the longest."""
    if config.trace_name is not None:
        name = config.trace_name.strip()
        if not name:
            raise UsageError("--trace-name is empty")
        unknown = next((c for c in name if c not in vocab.chars), None)
        if unknown is not None:
            raise UsageError(
                f"--trace-name {name!r}: the character {unknown!r} is not in the data's alphabet "
                f"({''.join(vocab.chars)})"
            )
        if len(name) < config.trace_position:
            raise UsageError(
                f"--trace-name {name!r} has {len(name)} characters; --trace-position "
                f"{config.trace_position} needs at least {config.trace_position}"
            )
        return name
    wanted = max(config.trace_position, 4)
    fits = [d for d in val_documents if wanted <= len(d) < config.block_size]
    return fits[0] if fits else max(val_documents, key=len)


def _progress(config: Config, total: int, desc: str) -> Any:
    from tqdm import tqdm

    show = sys.stderr.isatty() if config.progress is None else config.progress
    return tqdm(total=total, desc=desc, disable=not show, leave=False, unit="step")


@dataclass
class Prepared:
    """The data as both models see it, and what every random choice after the split starts from."""

    documents: Documents
    vocab: Vocabulary
    sizes: Sizes
    train_docs: list[str]
    val_docs: list[str]
    train: list[list[int]]  # token sequences
    val: list[list[int]]
    initial: dict[str, np.ndarray]  # the initial weights, the same for both engines
    order_rng: np.random.Generator  # the order of the names
    sample_rng: np.random.Generator  # the samples


def prepare(config: Config) -> Prepared:
    """Read the names, split them, tokenize them and draw the initial weights (all from ``config.seed``)."""
    documents = read_documents(config.data, config.alphabet, config.unknown)
    rng = np.random.default_rng(config.seed)
    train_docs, val_docs = split(documents.documents, config.held_out, rng)
    vocab = vocabulary(documents.documents)
    sizes = Sizes(
        vocab.size, config.n_embd, config.n_head, config.n_layer, config.block_size, config.mlp_width
    )
    initial = initial_weights(sizes, rng, config.init_std)
    order_rng, sample_rng = (np.random.default_rng(s) for s in rng.integers(2**63, size=2))
    return Prepared(
        documents,
        vocab,
        sizes,
        train_docs,
        val_docs,
        token_sequences(train_docs, vocab, sizes.block_size),
        token_sequences(val_docs, vocab, sizes.block_size),
        initial,
        order_rng,
        sample_rng,
    )


def side_by_side(config: Config, data: Prepared) -> Comparison:
    """Both engines from the same weights, one training name a step, for ``--compare-steps`` steps."""
    order = data.order_rng.permutation(len(data.train))
    names = [data.train[order[i % len(order)]] for i in range(config.compare_steps)]
    return compare_engines(
        ScalarGPT(data.initial, data.sizes),
        TensorGPT(data.initial, data.sizes),
        names,
        data.vocab.bos,
        adam=_adam(config),
        schedule_steps=max(config.scalar_steps, config.compare_steps),
    )


@dataclass
class Trained:
    """A trained model's weights, its training record, its samples and the time per step."""

    weights: dict[str, np.ndarray]
    record: TrainingRecord
    samples: list[str]
    step_s: float  # median seconds per training step
    names_per_step: int
    title: str


def train_scalar_model(config: Config, data: Prepared) -> Trained:
    """microgpt's loop on the scalar engine; the held-out NLL from a Tensor copy (same numbers, faster)."""
    model = ScalarGPT(data.initial, data.sizes)
    order = data.order_rng.permutation(len(data.train))
    with _progress(config, config.scalar_steps, "scalar GPT") as bar:
        record = train_scalar(
            model,
            [data.train[i] for i in order],
            steps=config.scalar_steps,
            adam=_adam(config),
            progress=lambda step, loss: bar.update(1),
        )
    weights = model.weights()
    record.eval_steps = [config.scalar_steps]
    record.val_nll = [held_out_nll(TensorGPT(weights, data.sizes), data.val, data.vocab.bos)]
    bos = data.vocab.bos
    samples = [
        data.vocab.decode(model.sample(bos, config.temperature, data.sample_rng))
        for _ in range(config.num_samples)
    ]
    title = f"scalar engine, {config.scalar_steps} steps of one name"
    return Trained(weights, record, samples, float(np.median(record.step_seconds)), 1, title)


def train_tensor_model(config: Config, data: Prepared) -> Trained:
    """Adam on batches of names on the Tensor engine, the held-out NLL every ``--eval-every`` steps."""
    model = TensorGPT(data.initial, data.sizes)
    batch_size = min(config.batch_size, len(data.train))
    with _progress(config, config.steps, "tensor GPT") as bar:
        record = train_tensor(
            model,
            data.train,
            data.val,
            data.vocab.bos,
            steps=config.steps,
            batch_size=batch_size,
            adam=_adam(config),
            rng=data.order_rng,
            eval_every=config.eval_every,
            progress=lambda step, loss: bar.update(1),
        )
    drawn = model.sample(config.num_samples, data.vocab.bos, config.temperature, data.sample_rng)
    title = f"Tensor engine, {config.steps} steps of {batch_size} names"
    step_s = float(np.median(record.step_seconds))
    return Trained(model.weights(), record, [data.vocab.decode(s) for s in drawn], step_s, batch_size, title)


def _adam(config: Config) -> AdamSettings:
    return AdamSettings(config.lr, config.beta1, config.beta2)


def comparison_metrics(comparison: Comparison, trained: Trained) -> dict[str, Any]:
    """The side-by-side numbers; per_name_ratio: a scalar step against one name's share of a batched
    tensor training step."""
    per_name = trained.step_s / trained.names_per_step
    return {
        "loss_agreement": comparison.loss_agreement,
        "scalar_step_s": round(comparison.scalar_step_s, 5),
        "tensor_step_s": round(comparison.tensor_step_s, 6),
        "step_ratio": round(comparison.scalar_step_s / max(comparison.tensor_step_s, 1e-12), 1),
        "per_name_ratio": round(comparison.scalar_step_s / max(per_name, 1e-12), 1),
        "gradient_agreement": comparison.gradient_agreement,
        "weight_agreement": comparison.weight_agreement,
        "compare_steps": len(comparison.scalar_losses),
    }


def run(config: Config, out_dir: Path) -> dict[str, Any]:
    """Read the names, train (and compare), evaluate, sample, trace; write the figures into ``out_dir``."""
    from projects.catalog.p11_gpt import figures
    from projects.catalog.p11_gpt.attention_trace import trace_head

    _check(config)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = prepare(config)
    name = traced_name(config, data.vocab, data.val_docs)  # checked before any training
    bigram_val_nll = Bigram.fit(data.train, data.vocab.size).nll(data.val)
    comparison = side_by_side(config, data) if config.engine == "both" else None
    start = time.perf_counter()
    trained = (
        train_scalar_model(config, data) if config.engine == "scalar" else train_tensor_model(config, data)
    )
    train_seconds = time.perf_counter() - start

    metrics: dict[str, Any] = {
        "val_nll": round(trained.record.val_nll[-1], 6),
        "bigram_val_nll": round(bigram_val_nll, 6),
    }
    if comparison is not None:
        metrics.update(comparison_metrics(comparison, trained))
        figures.plot_engines(comparison, out_dir / "engines.png", (trained.names_per_step, trained.step_s))
    step_name = "scalar_step_s" if config.engine == "scalar" else "tensor_train_step_s"
    metrics[step_name] = round(trained.step_s, 5)
    figures.plot_training(trained.record, bigram_val_nll, out_dir / "training_curve.png", trained.title)
    known = set(data.documents.documents)
    figures.plot_samples(trained.samples, known, config.temperature, out_dir / "samples.png")

    tokens = token_sequences([name], data.vocab, data.sizes.block_size)[0]
    position = min(config.trace_position, len(tokens) - 2)
    trace = trace_head(trained.weights, data.sizes, tokens, position, config.trace_head)
    characters = ["BOS", *name][: len(tokens) - 1]
    figures.plot_attention(
        trace.attention, characters, (config.trace_head, position), out_dir / "attention.png"
    )
    stepper = _write_stepper(trace, out_dir / STEPPER_PAGE, name, characters[position])
    return {
        **metrics,
        "samples": trained.samples,
        "novel_samples": sum(s not in known for s in trained.samples),
        "final_train_loss": round(float(np.mean(trained.record.losses[-50:])), 4),
        "train_seconds": round(train_seconds, 2),
        "engine": config.engine,
        "steps": config.scalar_steps if config.engine == "scalar" else config.steps,
        "parameters": data.sizes.parameter_count(),
        "vocab_size": data.vocab.size,
        "n_train": len(data.train_docs),
        "n_val": len(data.val_docs),
        "train_characters": sum(len(s) - 1 for s in data.train),
        "truncated_names": sum(len(d) + 1 > data.sizes.block_size for d in data.documents.documents),
        "skipped_lines": data.documents.skipped_lines,
        "data_source": data.documents.source,
        "traced": {"name": name, "position": position, "head": config.trace_head, "page": stepper},
        "figures": ["engines.png", "training_curve.png", "samples.png", "attention.png"],
    }


def _write_stepper(trace: Any, path: Path, name: str, character: str) -> str | None:
    """The stepper page, or None (with a warning) where Graphviz's ``dot`` is missing."""
    from projects.catalog.p11_gpt.attention_trace import write_head_stepper

    context = f"The name {name!r}, position {trace.position} (reading {character!r}), head {trace.head}"
    try:
        write_head_stepper(trace, path, context)
    except UsageError as e:
        if "dot` was not found" not in str(e):
            raise
        print(f"warning: {e}; {path.name} was not written", file=sys.stderr)
        return None
    return path.name
