"""Adam and AdamW, as ``torch.optim.Adam`` / ``torch.optim.AdamW`` (same update, same state names)."""

from __future__ import annotations

from typing import Any

from chainrule import backend
from chainrule.optim.optimizer import Optimizer
from chainrule.tensor import Tensor


def lerp_(a: Any, b: Any, weight: float) -> None:
    """``a += weight * (b - a)`` in place, evaluated as torch's ``lerp_`` is (for bitwise-close results)."""
    if abs(weight) < 0.5:
        a += weight * (b - a)
    else:
        a[...] = b - (b - a) * (1 - weight)


class Adam(Optimizer):
    r"""Adaptive moments: ``m = b1*m + (1-b1)*g``, ``v = b2*v + (1-b2)*g^2``,
    ``p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``.

    ``weight_decay`` adds ``weight_decay * p`` to the gradient (L2); ``amsgrad`` uses the running maximum
    of ``v``.

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = cr.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()  # the first Adam step moves every coordinate by about lr
    >>> w
    tensor([ 0.9, -0.9], requires_grad=True)
    """

    _decoupled = False

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        betas = group["betas"]
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        group["betas"] = tuple(betas)

    def _update(self, group: dict[str, Any], params: list[Tensor]) -> None:
        lr, eps, weight_decay, amsgrad = group["lr"], group["eps"], group["weight_decay"], group["amsgrad"]
        beta1, beta2 = group["betas"]
        for p in params:
            xp = backend.get_array_module(p.data)
            d = p.data
            g = self._decayed_grad(p, group["maximize"], 0.0 if self._decoupled else weight_decay)
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = self._buffer(p)
                state["exp_avg_sq"] = self._buffer(p)
                if amsgrad:
                    state["max_exp_avg_sq"] = self._buffer(p)
            state["step"] += 1
            step = state["step"]
            if self._decoupled and weight_decay != 0:
                d *= 1 - lr * weight_decay
            m, v = state["exp_avg"].data, state["exp_avg_sq"].data
            lerp_(m, g, 1 - beta1)
            v *= beta2
            v += (1 - beta2) * g * g
            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            step_size = lr / bias_correction1
            bias_correction2_sqrt = bias_correction2**0.5
            if amsgrad:
                if "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = self._buffer(p)
                v_max = state["max_exp_avg_sq"].data
                xp.maximum(v_max, v, out=v_max)
                v = v_max
            denom = xp.sqrt(v) / bias_correction2_sqrt
            denom += eps
            d += -step_size * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` before the Adam step.

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0], requires_grad=True)
    >>> opt = cr.optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> w.grad = cr.tensor([0.0])
    >>> opt.step()  # zero gradient: only the decay acts, 1 * (1 - 0.1 * 0.5)
    >>> round(w.item(), 6)
    0.95
    """

    _decoupled = True

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
