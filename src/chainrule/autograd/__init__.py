"""``chainrule.autograd``: the autograd API under torch's names.

``Function`` here is torch-style (``forward(ctx, ...)`` on Tensors, ``F.apply(...)``); ``chainrule.Function``
stays DeZero-style (``forward`` on arrays). Everything else is the same object as at the top level.
"""

from __future__ import annotations

from typing import Any

from chainrule._autograd import backward as _backward
from chainrule._autograd import grad
from chainrule._grad_mode import (
    detect_anomaly,
    enable_grad,
    inference_mode,
    is_anomaly_enabled,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from chainrule.autograd import functional
from chainrule.autograd.function import Function, FunctionCtx
from chainrule.tensor import Tensor
from chainrule.testing import gradcheck, gradgradcheck

__all__ = [
    "Function",
    "FunctionCtx",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "functional",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "inference_mode",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "set_grad_enabled",
]


def backward(
    tensors: Tensor | Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> None:
    """``torch.autograd.backward``: accumulate the gradients of one or several ``tensors`` into ``.grad``."""
    outputs = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    _backward(outputs, None if grad_tensors is None else list(grad_tensors), retain_graph, create_graph)
