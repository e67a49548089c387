"""Adagrad, as ``torch.optim.Adagrad``."""

from __future__ import annotations

from typing import Any

from chainrule import backend
from chainrule.optim.optimizer import Optimizer
from chainrule.tensor import Tensor


class Adagrad(Optimizer):
    """Per-coordinate steps shrinking with the summed squared gradients: ``s += g^2``,
    ``p -= lr / (1 + (t-1)*lr_decay) * g / (sqrt(s) + eps)``.

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0], requires_grad=True)
    >>> opt = cr.optim.Adagrad([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()  # the first step is lr * g / |g| = 0.1
    >>> round(w.item(), 6)
    0.9
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        self._init_state(self.param_groups[-1])

    def _init_state(self, group: dict[str, Any]) -> None:
        for p in group["params"]:
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["sum"] = self._buffer(p, group["initial_accumulator_value"])

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        if group["lr_decay"] < 0.0:
            raise ValueError(f"Invalid lr_decay value: {group['lr_decay']}")
        if group["initial_accumulator_value"] < 0.0:
            raise ValueError(f"Invalid initial_accumulator_value value: {group['initial_accumulator_value']}")

    def _update(self, group: dict[str, Any], params: list[Tensor]) -> None:
        lr, lr_decay, eps, weight_decay = group["lr"], group["lr_decay"], group["eps"], group["weight_decay"]
        for p in params:
            xp = backend.get_array_module(p.data)
            d = p.data
            g = self._decayed_grad(p, group["maximize"], weight_decay)
            state = self.state[p]
            if not state:
                self._init_state({**group, "params": [p]})
            state["step"] += 1
            step = state["step"]
            clr = lr / (1 + (step - 1) * lr_decay)
            s = state["sum"].data
            s += g * g
            std = xp.sqrt(s)
            std += eps
            d += -clr * g / std
