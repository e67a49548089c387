"""RMSprop, as ``torch.optim.RMSprop`` (optionally centered, with momentum)."""

from __future__ import annotations

from typing import Any

from chainrule import backend
from chainrule.optim.adam import lerp_
from chainrule.optim.optimizer import Optimizer
from chainrule.tensor import Tensor


class RMSprop(Optimizer):
    """Divide the gradient by its running RMS: ``v = alpha*v + (1-alpha)*g^2``, ``p -= lr*g/(sqrt(v) + eps)``.

    ``centered=True`` subtracts the squared running mean of ``g`` from ``v``; ``momentum > 0`` accumulates
    ``b = momentum*b + g / (sqrt(v) + eps)`` and steps by ``lr * b``.

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0], requires_grad=True)
    >>> opt = cr.optim.RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward()
    >>> opt.step()  # v = 0.01 * 4, step = 0.01 * 2 / 0.2
    >>> round(w.item(), 6)
    0.9
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        if group["alpha"] < 0.0:
            raise ValueError(f"Invalid alpha value: {group['alpha']}")

    def _update(self, group: dict[str, Any], params: list[Tensor]) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        weight_decay, momentum, centered = group["weight_decay"], group["momentum"], group["centered"]
        for p in params:
            xp = backend.get_array_module(p.data)
            d = p.data
            g = self._decayed_grad(p, group["maximize"], weight_decay)
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["square_avg"] = self._buffer(p)
                if momentum > 0:
                    state["momentum_buffer"] = self._buffer(p)
                if centered:
                    state["grad_avg"] = self._buffer(p)
            state["step"] += 1
            square_avg = state["square_avg"].data
            square_avg *= alpha
            square_avg += (1 - alpha) * g * g
            if centered:
                if "grad_avg" not in state:
                    state["grad_avg"] = self._buffer(p)
                grad_avg = state["grad_avg"].data
                lerp_(grad_avg, g, 1 - alpha)
                avg = xp.sqrt(square_avg + -1 * grad_avg * grad_avg)
            else:
                avg = xp.sqrt(square_avg)
            avg += eps
            if momentum > 0:
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = self._buffer(p)
                buf = state["momentum_buffer"].data
                buf *= momentum
                buf += g / avg
                d += -lr * buf
            else:
                d += -lr * g / avg
