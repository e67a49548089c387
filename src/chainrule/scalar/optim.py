"""Optimizers for Scalar parameters, with PyTorch's update rules.

Parameters whose ``derivative`` is ``None`` (not reached by the last backward pass) are
skipped, as PyTorch skips parameters whose ``.grad`` is ``None``.

>>> from chainrule.scalar import Scalar
>>> w = Scalar(1.0).requires_grad_()
>>> opt = SGD([w], lr=0.1)
>>> (w * w).backward(); opt.step(); w.data
0.8
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from chainrule.scalar.scalar import Scalar

__all__ = ["SGD", "Adam", "Momentum", "Optimizer"]


def _check_nonnegative(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not value >= 0.0:
        raise ValueError(f"{name} must be non-negative, got {value}")
    return float(value)


class Optimizer:
    """Base class: holds the parameter list; subclasses implement :meth:`step`."""

    def __init__(self, params: Iterable[Scalar], lr: float) -> None:
        self.params: list[Scalar] = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        for p in self.params:
            if not isinstance(p, Scalar):
                raise TypeError(f"optimizer parameters must be Scalars, got {type(p).__name__}")
        self.lr = _check_nonnegative("lr", lr)

    def zero_grad(self) -> None:
        """Reset every parameter's ``derivative`` to ``None``."""
        for p in self.params:
            p.derivative = None

    def step(self) -> None:
        """Update every parameter from its ``derivative``."""
        raise NotImplementedError


class SGD(Optimizer):
    """Plain gradient descent: ``p -= lr * dp``."""

    def step(self) -> None:
        lr = self.lr
        for p in self.params:
            g = p.derivative
            if g is not None:
                p.data -= lr * g


class Momentum(Optimizer):
    """SGD with (heavy-ball) momentum, as ``torch.optim.SGD(momentum=m)``.

    ``buf = dp`` on the first step, then ``buf = momentum * buf + dp``; ``p -= lr * buf``.
    """

    def __init__(self, params: Iterable[Scalar], lr: float, momentum: float = 0.9) -> None:
        super().__init__(params, lr)
        self.momentum = _check_nonnegative("momentum", momentum)
        self._buffers: list[float | None] = [None] * len(self.params)

    def step(self) -> None:
        lr, momentum, buffers = self.lr, self.momentum, self._buffers
        for k, p in enumerate(self.params):
            g = p.derivative
            if g is None:
                continue
            buf = buffers[k]
            buf = g if buf is None else momentum * buf + g
            buffers[k] = buf
            p.data -= lr * buf


class Adam(Optimizer):
    """Adam (Kingma & Ba), exactly as ``torch.optim.Adam`` without weight decay or amsgrad.

    ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g^2``, and
    ``p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``, with a step count ``t``
    per parameter (it advances only on steps where the parameter has a derivative).
    """

    def __init__(
        self,
        params: Iterable[Scalar],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair, got {betas!r}")
        for k, beta in enumerate(betas):
            if not 0.0 <= _check_nonnegative(f"betas[{k}]", beta) < 1.0:
                raise ValueError(f"betas[{k}] must be in [0, 1), got {beta}")
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = _check_nonnegative("eps", eps)
        n = len(self.params)
        self._m = [0.0] * n
        self._v = [0.0] * n
        self._t = [0] * n

    def step(self) -> None:
        lr, eps = self.lr, self.eps
        beta1, beta2 = self.betas
        w1 = 1.0 - beta1
        m_all, v_all, t_all = self._m, self._v, self._t
        for k, p in enumerate(self.params):
            g = p.derivative
            if g is None:
                continue
            t = t_all[k] + 1
            t_all[k] = t
            # m moves towards g by (1 - beta1), written as PyTorch's lerp evaluates it.
            m = m_all[k]
            m = m_all[k] = m + w1 * (g - m) if w1 < 0.5 else g - (g - m) * (1.0 - w1)
            v = v_all[k] = beta2 * v_all[k] + (1.0 - beta2) * g * g
            step_size = lr / (1.0 - beta1**t)
            denom = math.sqrt(v) / math.sqrt(1.0 - beta2**t) + eps
            p.data -= step_size * (m / denom)
