"""Training both models, and the two engines side by side.

The optimizer is microgpt's: Adam with beta1 = 0.85, beta2 = 0.99, eps = 1e-8, and a learning rate that
decays linearly, lr_t = lr (1 - t / steps) at step t = 0, 1, ..., steps - 1 (:class:`autograd.optim.Adam`, the
same update for Values and Tensors).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from autograd.optim import Adam
from projects.catalog.p11_gpt.model_scalar import ScalarGPT
from projects.catalog.p11_gpt.model_tensor import TensorGPT
from projects.lab.training import check_finite

Sequences = Sequence[Sequence[int]]


@dataclass(frozen=True)
class AdamSettings:
    lr: float = 0.01
    beta1: float = 0.85
    beta2: float = 0.99
    eps: float = 1e-8

    def optimizer(self, parameters: list) -> Adam:
        return Adam(parameters, lr=self.lr, betas=(self.beta1, self.beta2), eps=self.eps)


def linear_decay(base_lr: float, step: int, total: int) -> float:
    """lr_t = lr (1 - t / total): from lr at t = 0 down to lr / total at the last step."""
    return base_lr * (1.0 - step / total)


@dataclass
class TrainingRecord:
    """The loss of every step, the held-out NLL at some steps, and the time spent in training steps."""

    losses: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    val_nll: list[float] = field(default_factory=list)
    step_seconds: list[float] = field(default_factory=list)


def held_out_nll(model: TensorGPT, sequences: Sequences, pad: int) -> float:
    """Mean -log p per predicted token (nats per character, the end of the name counted as one)."""
    total, count = model.total_nll(sequences, pad)
    return total / count


def train_tensor(
    model: TensorGPT,
    train: Sequences,
    val: Sequences,
    pad: int,
    *,
    steps: int,
    batch_size: int,
    adam: AdamSettings,
    rng: np.random.Generator,
    eval_every: int,
    progress: Callable[[int, float], None] | None = None,
) -> TrainingRecord:
    """``steps`` Adam steps on batches of ``batch_size`` names, drawn without replacement epoch by epoch."""
    optimizer = adam.optimizer(model.parameters())
    record = TrainingRecord()
    batch_size = min(batch_size, len(train))
    order, position = rng.permutation(len(train)), 0
    for step in range(steps):
        if position + batch_size > len(order):
            order, position = rng.permutation(len(train)), 0
        batch = [train[i] for i in order[position : position + batch_size]]
        position += batch_size
        start = time.perf_counter()
        optimizer.lr = linear_decay(adam.lr, step, steps)
        optimizer.zero_grad()
        loss = model.batch_loss(batch, pad)
        loss.backward()
        optimizer.step()
        record.step_seconds.append(time.perf_counter() - start)
        record.losses.append(loss.item())
        check_finite(record.losses[-1], 1, step + 1, optimizer.lr)
        if (step + 1) % eval_every == 0 or step + 1 == steps:
            record.eval_steps.append(step + 1)
            record.val_nll.append(held_out_nll(model, val, pad))
        if progress is not None:
            progress(step, record.losses[-1])
    return record


def train_scalar(
    model: ScalarGPT,
    train: Sequences,
    *,
    steps: int,
    adam: AdamSettings,
    progress: Callable[[int, float], None] | None = None,
) -> TrainingRecord:
    """microgpt's loop: one name per step, ``train[step % len(train)]``."""
    optimizer = adam.optimizer(model.parameters())
    record = TrainingRecord()
    for step in range(steps):
        start = time.perf_counter()
        optimizer.lr = linear_decay(adam.lr, step, steps)
        optimizer.zero_grad()
        loss = model.loss([train[step % len(train)]])
        loss.backward()
        optimizer.step()
        record.step_seconds.append(time.perf_counter() - start)
        record.losses.append(loss.data)
        check_finite(loss.data, 1, step + 1, optimizer.lr)
        if progress is not None:
            progress(step, loss.data)
    return record


@dataclass
class Comparison:
    """Both engines trained side by side from the same weights, on the same names, step by step."""

    scalar_losses: list[float]
    tensor_losses: list[float]
    scalar_seconds: list[float]  # wall-clock time of each step
    tensor_seconds: list[float]
    gradient_agreement: float  # max |dL/dw scalar - dL/dw tensor| at the first step
    weight_agreement: float  # max |w scalar - w tensor| after the last step

    @property
    def loss_agreement(self) -> float:
        return float(np.max(np.abs(np.subtract(self.scalar_losses, self.tensor_losses))))

    @property
    def scalar_step_s(self) -> float:
        return float(np.median(self.scalar_seconds))

    @property
    def tensor_step_s(self) -> float:
        return float(np.median(self.tensor_seconds))


def compare_engines(
    scalar: ScalarGPT,
    tensor: TensorGPT,
    documents: Sequences,
    pad: int,
    *,
    adam: AdamSettings,
    schedule_steps: int,
) -> Comparison:
    """One step per document on each engine, alternating (so both see the same machine load): forward,
    backward and Adam update, timed; the learning rate follows microgpt's schedule over ``schedule_steps``."""
    optimizers = {
        "scalar": adam.optimizer(scalar.parameters()),
        "tensor": adam.optimizer(tensor.parameters()),
    }
    losses: dict[str, list[float]] = {"scalar": [], "tensor": []}
    seconds: dict[str, list[float]] = {"scalar": [], "tensor": []}
    gradient_agreement = math.nan
    for step, tokens in enumerate(documents):
        for engine, model in (("scalar", scalar), ("tensor", tensor)):
            optimizer = optimizers[engine]
            start = time.perf_counter()
            optimizer.lr = linear_decay(adam.lr, step, schedule_steps)
            optimizer.zero_grad()
            loss = model.loss([tokens]) if engine == "scalar" else model.batch_loss([tokens], pad)
            loss.backward()
            optimizer.step()
            seconds[engine].append(time.perf_counter() - start)
            losses[engine].append(float(np.asarray(loss.data)))
        if step == 0:  # the first step's gradients (they stay in .grad until the next zero_grad)
            g_s, g_t = scalar.gradients(), tensor.gradients()
            gradient_agreement = max(float(np.max(np.abs(g_s[k] - g_t[k]))) for k in g_s)
    w_s, w_t = scalar.weights(), tensor.weights()
    weight_agreement = max(float(np.max(np.abs(w_s[k] - w_t[k]))) for k in w_s)
    return Comparison(
        losses["scalar"],
        losses["tensor"],
        seconds["scalar"],
        seconds["tensor"],
        gradient_agreement,
        weight_agreement,
    )
