"""``chainrule.autograd``: the one place the backprop algorithm lives, under torch's names.

Read it in this order (``docs/engine.md`` walks through it):

- ``function.py``: the ``Function`` contract (``forward`` on arrays, one ``backward`` rule on Tensors) and
  how a call is recorded into the graph;
- ``engine.py``: the backprop loop, written once for first-order passes and for ``create_graph``;
- ``grad_mode.py`` / ``anomaly_mode.py``: the per-thread switches; ``skeleton.py``: what a freed graph keeps
  for drawing; ``functional.py`` (jacobian, hessian) and ``gradcheck.py``: tools built on the engine.

``chainrule.autograd.Function`` is torch-style (``forward(ctx, ...)`` on Tensors, ``F.apply(...)``, in
``custom_function.py``); ``chainrule.Function`` is the DeZero-style op base class of ``function.py``.
"""

from __future__ import annotations

from typing import Any

# grad_mode first: every other module here (and chainrule.tensor) reads its per-thread state.
from chainrule.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

from chainrule.autograd.anomaly_mode import detect_anomaly, is_anomaly_enabled  # isort: skip
from chainrule.autograd.engine import backward as _backward  # isort: skip
from chainrule.autograd.engine import grad  # isort: skip
from chainrule.autograd import functional  # isort: skip
from chainrule.autograd.custom_function import Function, FunctionCtx  # isort: skip
from chainrule.autograd.gradcheck import gradcheck, gradgradcheck  # isort: skip
from chainrule.tensor import Tensor  # isort: skip

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
