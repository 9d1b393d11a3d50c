"""Optimizers and learning-rate schedules for Value and Tensor parameters alike.

Each update rule is written once, on NumPy arrays. A Tensor parameter is updated in place; the scalar
``Value`` parameters are gathered into one float64 vector, updated by the same rule, and written back.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from autograd.nn import reset_grads
from autograd.scalar import Value
from autograd.tensor import Tensor


class _Slot:
    """One array the update rule works on: a Tensor's own data, or the packed data of many Values."""

    def __init__(self, tensor: Tensor | None = None, values: list[Value] | None = None) -> None:
        self.tensor, self.values = tensor, values
        self.state: dict[str, np.ndarray] = {}

    def data_and_grad(self) -> tuple[np.ndarray, np.ndarray | None]:
        if self.tensor is not None:
            return self.tensor.data, self.tensor.grad
        assert self.values is not None
        data = np.fromiter((v.data for v in self.values), np.float64, len(self.values))
        grad = np.fromiter((v.grad for v in self.values), np.float64, len(self.values))
        return data, grad

    def write_back(self, data: np.ndarray) -> None:
        if self.values is not None:
            for v, x in zip(self.values, data.tolist()):
                v.data = x


class Optimizer:
    """Holds parameters (Values and/or Tensors) and updates them from their ``.grad`` on ``step()``."""

    def __init__(self, params: Iterable[Value | Tensor], lr: float) -> None:
        params = list(params)
        if not params:
            raise ValueError("optimizer got no parameters")
        self.params = params
        self.lr = lr
        self.steps = 0
        values = [p for p in params if isinstance(p, Value)]
        self._slots = [_Slot(tensor=p) for p in params if isinstance(p, Tensor)]
        if values:
            self._slots.append(_Slot(values=values))

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the parameters' gradients, as ``Module.zero_grad`` does (see ``autograd.nn.reset_grads``)."""
        reset_grads(self.params, set_to_none)

    def step(self) -> None:
        self.steps += 1
        for slot in self._slots:
            data, grad = slot.data_and_grad()
            if grad is None:  # a tensor no backward pass reached this step
                continue
            self._update(data, grad, slot.state)
            slot.write_back(data)

    def _update(self, data: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Moment buffers and step count, as arrays (for checkpoints)."""
        out: dict[str, Any] = {"steps": np.array(self.steps), "lr": np.array(self.lr)}
        for i, slot in enumerate(self._slots):
            for key, array in slot.state.items():
                out[f"{i}.{key}"] = array
        return out

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps = int(state["steps"])
        self.lr = float(state["lr"])
        for i, slot in enumerate(self._slots):
            prefix = f"{i}."
            slot.state = {k[len(prefix) :]: np.array(v) for k, v in state.items() if k.startswith(prefix)}


class SGD(Optimizer):
    """Stochastic gradient descent.

    g = grad + weight_decay * w;   with momentum mu:  v = mu v + g,  g = v  (Nesterov: g = g + mu v);
    w = w - lr g.
    """

    def __init__(
        self,
        params: Iterable[Value | Tensor],
        lr: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if nesterov and momentum <= 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        self.momentum, self.nesterov, self.weight_decay = momentum, nesterov, weight_decay

    def _update(self, data: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        g = grad + self.weight_decay * data if self.weight_decay else grad
        if self.momentum:
            velocity = state.get("velocity")
            if velocity is None:
                velocity = state["velocity"] = np.array(g, dtype=data.dtype, copy=True)
            else:
                velocity *= self.momentum
                velocity += g
            g = g + self.momentum * velocity if self.nesterov else velocity
        data -= self.lr * g


# float32's smallest normal number: moment entries below it are flushed to zero (see Adam)
_TINY32 = np.finfo(np.float32).tiny


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015).

    m = b1 m + (1 - b1) g,   v = b2 v + (1 - b2) g**2,
    w = w - lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps),
    computed in place as  w -= lr_t m / (sqrt(v) + eps_t)  with lr_t = lr sqrt(1 - b2**t) / (1 - b1**t) and
    eps_t = eps sqrt(1 - b2**t) (the same value, fewer passes over memory).
    ``weight_decay`` adds an L2 term to g (Adam) or shrinks w directly (AdamW, ``decoupled=True``).

    Moments of parameters whose gradient stays zero (dead units, always-blank pixels) decay towards
    float32 subnormals, on which every pass is several times slower; every 100 steps they are flushed to 0.
    """

    def __init__(
        self,
        params: Iterable[Value | Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.beta1, self.beta2 = betas
        self.eps, self.weight_decay, self.decoupled = eps, weight_decay, decoupled

    def _update(self, data: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        if not state:
            state["m"], state["v"], state["scratch"] = (np.zeros_like(data) for _ in range(3))
        m, v, scratch = state["m"], state["v"], state["scratch"]
        if self.weight_decay and self.decoupled:
            data *= 1 - self.lr * self.weight_decay
        elif self.weight_decay:
            grad = grad + self.weight_decay * data
        t = self.steps
        b1, b2 = self.beta1, self.beta2
        m *= b1
        np.multiply(grad, 1 - b1, out=scratch)
        m += scratch
        v *= b2
        np.multiply(grad, grad, out=scratch)
        scratch *= 1 - b2
        v += scratch
        correction2 = math.sqrt(1 - b2**t)
        np.sqrt(v, out=scratch)
        scratch += self.eps * correction2
        np.divide(m, scratch, out=scratch)
        scratch *= self.lr * correction2 / (1 - b1**t)
        data -= scratch
        if t % 100 == 0 and data.dtype == np.float32:
            m[np.abs(m) < _TINY32] = 0
            v[v < _TINY32] = 0


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): w -= lr * weight_decay * w each step."""

    def __init__(
        self,
        params: Iterable[Value | Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, decoupled=True)


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), as ``torch.optim.RMSprop``.

    g = grad + weight_decay w;   v = alpha v + (1 - alpha) g**2;
    centered: a = alpha a + (1 - alpha) g and the denominator is sqrt(v - a**2) + eps, else sqrt(v) + eps;
    with momentum mu:  b = mu b + g / denominator,  w -= lr b;   without:  w -= lr g / denominator.
    """

    def __init__(
        self,
        params: Iterable[Value | Tensor],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        super().__init__(params, lr)
        if not 0 <= alpha <= 1:
            raise ValueError(f"RMSprop: alpha must be in [0, 1], got {alpha}")
        self.alpha, self.eps, self.weight_decay = alpha, eps, weight_decay
        self.momentum, self.centered = momentum, centered

    def _update(self, data: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        if not state:
            state["square_avg"], state["scratch"] = np.zeros_like(data), np.zeros_like(data)
            if self.centered:
                state["grad_avg"] = np.zeros_like(data)
            if self.momentum:
                state["momentum"] = np.zeros_like(data)
        v, scratch = state["square_avg"], state["scratch"]
        if self.weight_decay:
            grad = grad + self.weight_decay * data
        alpha = self.alpha
        v *= alpha
        np.multiply(grad, grad, out=scratch)
        scratch *= 1 - alpha
        v += scratch
        if self.centered:
            a = state["grad_avg"]
            a *= alpha
            a += (1 - alpha) * grad
            np.multiply(a, a, out=scratch)
            np.subtract(v, scratch, out=scratch)
            np.sqrt(scratch, out=scratch)
        else:
            np.sqrt(v, out=scratch)
        scratch += self.eps
        np.divide(grad, scratch, out=scratch)
        if self.momentum:
            buffer = state["momentum"]
            buffer *= self.momentum
            buffer += scratch
            np.multiply(buffer, self.lr, out=scratch)
        else:
            scratch *= self.lr
        data -= scratch
        if self.steps % 100 == 0 and data.dtype == np.float32:
            v[v < _TINY32] = 0


class StepLR:
    """lr = base_lr * gamma ** (epoch // step_size); call ``step()`` once per epoch."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.optimizer, self.step_size, self.gamma = optimizer, step_size, gamma
        self.base_lr, self.epoch = optimizer.lr, 0

    def step(self) -> float:
        self.epoch += 1
        self.optimizer.lr = self.base_lr * self.gamma ** (self.epoch // self.step_size)
        return self.optimizer.lr


class CosineLR:
    """lr = min_lr + (base_lr - min_lr) (1 + cos(pi t / total)) / 2, for t = 0 .. total; call ``step()``."""

    def __init__(self, optimizer: Optimizer, total: int, min_lr: float = 0.0) -> None:
        self.optimizer, self.total, self.min_lr = optimizer, total, min_lr
        self.base_lr, self.t = optimizer.lr, 0

    def step(self) -> float:
        self.t = min(self.t + 1, self.total)
        cosine = (1 + math.cos(math.pi * self.t / self.total)) / 2
        self.optimizer.lr = self.min_lr + (self.base_lr - self.min_lr) * cosine
        return self.optimizer.lr
