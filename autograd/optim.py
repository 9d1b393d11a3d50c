"""Optimizers and learning-rate schedules for Value and Tensor parameters alike.

Each update rule is written once, on NumPy arrays, in place. The Tensor parameters of one dtype live in
one flat buffer (each parameter's ``.data`` becomes a view into it), so that a step is a handful of passes
over one array instead of the same passes over every parameter: on small networks the per-call cost of
NumPy is a large part of an update. The scalar ``Value`` parameters are gathered into one float64 vector,
updated by the same rule, and written back.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from autograd.nn import reset_grads
from autograd.parallel import parts_for, split_work
from autograd.scalar import Value
from autograd.tensor import Tensor


class _Slot:
    """The packed data of many Values: one float64 vector, written back after each update."""

    def __init__(self, values: list[Value]) -> None:
        self.values = values
        self.state: dict[str, np.ndarray] = {}

    def gather(self) -> list[tuple[np.ndarray, np.ndarray, slice]]:
        """(data, grad, everything): new vectors, so the update may overwrite ``grad``."""
        data = np.fromiter((v.data for v in self.values), np.float64, len(self.values))
        grad = np.fromiter((v.grad for v in self.values), np.float64, len(self.values))
        return [(data, grad, slice(None))]

    def write_back(self, data: np.ndarray) -> None:
        for v, x in zip(self.values, data.tolist()):
            v.data = x


class _FlatSlot:
    """Tensors of one dtype whose ``.data`` are views into one flat buffer ``data``, updated at once.

    Each step their gradients are copied into one flat ``grad`` buffer, the optimizer's own: an update
    rule may overwrite it (Adam uses it as scratch space), never the tensors' ``.grad``. A tensor whose
    ``.data`` was replaced by another array (``p.data = ...``) is taken back in: its values are copied into
    the buffer and its ``.data`` is made a view again. A tensor without a gradient this step is left alone
    (as in PyTorch): then the others are updated one by one, on slices of the buffers.
    """

    def __init__(self, tensors: list[Tensor]) -> None:
        self.tensors = tensors
        sizes = [p.data.size for p in tensors]
        self.bounds = [slice(a, a + n) for a, n in zip(np.cumsum([0, *sizes[:-1]]).tolist(), sizes)]
        self.data = np.empty(sum(sizes), dtype=tensors[0].data.dtype)
        self.grad = np.empty_like(self.data)
        self.views: list[np.ndarray] = [np.empty(0)] * len(tensors)
        for i in range(len(tensors)):
            self._adopt(i)
        self.state: dict[str, np.ndarray] = {}

    def _adopt(self, i: int) -> None:
        p, where = self.tensors[i], self.bounds[i]
        if p.data.size != where.stop - where.start or p.data.dtype != self.data.dtype:
            raise ValueError(
                f"optimizer: a parameter changed from {self.data.dtype} size {where.stop - where.start}"
                f" to {p.data.dtype} shape {p.data.shape}; create the optimizer again"
            )
        self.data[where] = p.data.ravel()
        view = self.data[where].reshape(p.data.shape)
        p.data = self.views[i] = view

    def gather(self) -> list[tuple[np.ndarray, np.ndarray, slice]]:
        """(data, grad, where in the buffers) to update: the whole buffer, or one entry per tensor."""
        for i, p in enumerate(self.tensors):
            if p.data is not self.views[i]:
                self._adopt(i)
        present = [i for i, p in enumerate(self.tensors) if p.grad is not None]
        for i in present:
            self.grad[self.bounds[i]] = self.tensors[i].grad.ravel()
        if len(present) == len(self.tensors):
            return [(self.data, self.grad, slice(None))]
        return [(self.data[self.bounds[i]], self.grad[self.bounds[i]], self.bounds[i]) for i in present]

    def write_back(self, data: np.ndarray) -> None:
        pass  # the tensors' data are views into the buffer


class Optimizer:
    """Holds parameters (Values and/or Tensors) and updates them from their ``.grad`` on ``step()``."""

    def __init__(self, params: Iterable[Value | Tensor], lr: float) -> None:
        params = list({id(p): p for p in params}.values())  # each parameter once
        if not params:
            raise ValueError("optimizer got no parameters")
        self.params = params
        self.lr = lr
        self.steps = 0
        by_dtype: dict[np.dtype, list[Tensor]] = {}
        for p in params:
            if isinstance(p, Tensor):
                by_dtype.setdefault(p.data.dtype, []).append(p)
        self._slots: list[_Slot | _FlatSlot] = [_FlatSlot(group) for group in by_dtype.values()]
        values = [p for p in params if isinstance(p, Value)]
        if values:
            self._slots.append(_Slot(values))

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the parameters' gradients, as ``Module.zero_grad`` does (see ``autograd.nn.reset_grads``)."""
        reset_grads(self.params, set_to_none)

    def step(self) -> None:
        self.steps += 1
        for slot in self._slots:
            parts = slot.gather()
            if not parts:  # no backward pass reached these tensors this step
                continue
            if not slot.state:
                slot.state = self._new_state(slot.data if isinstance(slot, _FlatSlot) else parts[0][0])
            for data, grad, where in parts:
                state = slot.state if where == slice(None) else {k: a[where] for k, a in slot.state.items()}
                self._update_split(data, grad.reshape(data.shape), state)
            slot.write_back(parts[0][0])

    def _update_split(self, data: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        """``_update`` on contiguous pieces of the (1-D) buffers, on several threads when they are large
        (every rule here is element-wise: each entry's update reads only that entry of each buffer)."""
        if parts_for(data.size) == 1:  # no slicing of the buffers for one piece
            self._update(data, grad, state)
            return

        def update(piece: slice) -> None:
            self._update(data[piece], grad[piece], {key: array[piece] for key, array in state.items()})

        split_work(update, data.size)

    def _new_state(self, data: np.ndarray) -> dict[str, np.ndarray]:
        """The rule's buffers (moments, scratch space), zero, each shaped like ``data``."""
        return {}

    def _update(self, data: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        """Update ``data`` in place from ``grad``. ``grad`` is the optimizer's own copy of the gradients
        (see ``gather``): a rule may use it as scratch space once it has read what it needs."""
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
            size = slot.data.size if isinstance(slot, _FlatSlot) else len(slot.values)
            arrays = {k[len(prefix) :]: np.array(v) for k, v in state.items() if k.startswith(prefix)}
            if any(a.shape != (size,) for a in arrays.values()):
                raise ValueError("optimizer state_dict: its buffers do not fit these parameters")
            slot.state = arrays


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

    def _new_state(self, data: np.ndarray) -> dict[str, np.ndarray]:
        return {"velocity": np.zeros_like(data)} if self.momentum else {}

    def _update(self, data: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        g = grad + self.weight_decay * data if self.weight_decay else grad
        if self.momentum:  # (the first step: v = mu 0 + g = g, as PyTorch's first buffer)
            velocity = state["velocity"]
            velocity *= self.momentum
            velocity += g
            g = g + self.momentum * velocity if self.nesterov else velocity
        data -= self.lr * g


# float32's smallest normal number: moment entries below it are flushed to zero (see Adam)
_TINY32 = np.finfo(np.float32).tiny


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015).

    m = b1 m + (1 - b1) g,   v = b2 v + (1 - b2) g**2,
    w = w - lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps).
    ``weight_decay`` adds an L2 term to g (Adam) or shrinks w directly (AdamW, ``decoupled=True``).

    Computed in place in ten passes over memory: the moments are kept as the sums M = m / (1 - b1) and
    V = v / (1 - b2), so that  M = b1 M + g  and  V = b2 V + g**2  need no scaling of g, and then
    w -= a_t M / (sqrt(V) + e_t)  with  c_t = sqrt((1 - b2) / (1 - b2**t)),  e_t = eps / c_t  and
    a_t = lr (1 - b1) / ((1 - b1**t) c_t)  (the same value as the formula above). Once g has been added
    into M, its buffer (the optimizer's own copy) holds g**2 and then the step itself: four buffers of the
    parameters' size (w, g, M, V) instead of five, which on the MNIST MLP fit in a core's 2 MB L2 cache.

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

    def _new_state(self, data: np.ndarray) -> dict[str, np.ndarray]:
        return {"m_sum": np.zeros_like(data), "v_sum": np.zeros_like(data)}

    def _update(self, data: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        m, v = state["m_sum"], state["v_sum"]
        if self.weight_decay and self.decoupled:
            data *= 1 - self.lr * self.weight_decay
        elif self.weight_decay:
            grad += self.weight_decay * data
        t, b1, b2 = self.steps, self.beta1, self.beta2
        m *= b1
        m += grad
        step = grad  # from here on the gradient's buffer is scratch space: g**2, then the step
        np.multiply(grad, grad, out=step)
        v *= b2
        v += step
        c = math.sqrt((1 - b2) / (1 - b2**t))
        np.sqrt(v, out=step)
        step += self.eps / c
        np.divide(m, step, out=step)
        step *= self.lr * (1 - b1) / ((1 - b1**t) * c)
        data -= step
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

    def _new_state(self, data: np.ndarray) -> dict[str, np.ndarray]:
        state = {"square_avg": np.zeros_like(data), "scratch": np.zeros_like(data)}
        if self.centered:
            state["grad_avg"] = np.zeros_like(data)
        if self.momentum:
            state["momentum"] = np.zeros_like(data)
        return state

    def _update(self, data: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
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
