"""Stochastic gradient descent with optional (Nesterov) momentum, as ``torch.optim.SGD``."""

from __future__ import annotations

from typing import Any

from chainrule.optim.optimizer import Optimizer
from chainrule.tensor import Tensor, _new


class SGD(Optimizer):
    r"""``p -= lr * g`` where ``g`` is the gradient (plus ``weight_decay * p``), optionally through momentum.

    With momentum :math:`\mu` and dampening :math:`\tau`: ``b = g`` on the first step, then
    ``b = mu * b + (1 - tau) * g``; the step uses ``b`` (or ``g + mu * b`` with ``nesterov=True``).

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0], requires_grad=True)
    >>> opt = cr.optim.SGD([w], lr=0.5, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    >>> round(w.item(), 4)  # 1 - 0.5*2 = 0, then 0 - 0.5*(0.9*2 + 0) = -0.9
    -0.9
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum and zero dampening, got "
                f"momentum={group['momentum']}, dampening={group['dampening']}"
            )

    def _update(self, group: dict[str, Any], params: list[Tensor]) -> None:
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay, nesterov = group["weight_decay"], group["nesterov"]
        for p in params:
            d = p.data
            g = self._decayed_grad(p, group["maximize"], weight_decay)
            if momentum != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = _new(g.astype(d.dtype, copy=True))
                    state["momentum_buffer"] = buf
                else:
                    b = buf.data
                    b *= momentum
                    b += (1 - dampening) * g
                g = g + momentum * buf.data if nesterov else buf.data
            d += -lr * g
