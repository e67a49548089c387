"""chainrule: autodiff you can read, from a scalar engine to a PyTorch-shaped deep-learning library on NumPy.

>>> import chainrule as cr
>>> x = cr.tensor(0.5, dtype="float64", requires_grad=True)
>>> y = cr.square(cr.exp(cr.square(x)))
>>> y.backward()
>>> print(f"{x.grad.item():.12f}")
3.297442541400

Only NumPy is imported here; optional libraries (matplotlib, tqdm, safetensors, torch, onnx, cupy) load on
first use.
"""

from __future__ import annotations

import numpy as _np

# The autograd package first: chainrule.tensor reads its grad-mode state.
from chainrule.autograd import (
    detect_anomaly,
    enable_grad,
    grad,
    inference_mode,
    is_anomaly_enabled,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from chainrule.autograd.engine import backward as _backward_many
from chainrule.autograd.function import Function
from chainrule.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    empty_permuted,
    empty_strided,
    eye,
    fill,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    scalar_tensor,
    tensor,
    tril_indices,
    triu_indices,
    zeros,
    zeros_like,
)
from chainrule.ops import *  # noqa: F403
from chainrule.ops import __all__ as _ops_all
from chainrule.random import manual_seed
from chainrule.sampling import bernoulli, multinomial, normal
from chainrule.tensor import Tensor, Variable, is_tensor

__version__ = "0.1.0"

float16 = _np.float16
float32 = _np.float32
float64 = _np.float64
int32 = _np.int32
int64 = _np.int64
bool_ = _np.bool_
long = _np.int64
half = _np.float16
double = _np.float64
int8 = _np.int8
int16 = _np.int16
uint8 = _np.uint8
short = _np.int16
complex64 = _np.complex64
complex128 = _np.complex128
# torch's short names (``cr.float`` is float32, ``cr.int`` int32, ``cr.bool`` bool): they shadow the builtins
# in this module only, which does not call them.
float = _np.float32  # noqa: A001
int = _np.int32  # noqa: A001
bool = _np.bool_  # noqa: A001

_LAZY = {
    "autograd": "chainrule.autograd",
    "testing": "chainrule.testing",
    "nn": "chainrule.nn",
    "optim": "chainrule.optim",
    "data": "chainrule.data",
    "datasets": "chainrule.datasets",
    "scalar": "chainrule.scalar",
    "viz": "chainrule.viz",
    "interop": "chainrule.interop",
    "onnx": "chainrule.onnx",
    "backend": "chainrule.backend",
    "functional": "chainrule.functional",
    "special": "chainrule.special",
}
_LAZY_ATTRS = {
    "numerical_diff": ("chainrule.autograd.gradcheck", "numerical_diff"),
    "numerical_grad": ("chainrule.autograd.gradcheck", "numerical_grad"),
    "gradcheck": ("chainrule.autograd.gradcheck", "gradcheck"),
    "gradgradcheck": ("chainrule.autograd.gradcheck", "gradgradcheck"),
    "jacobian": ("chainrule.autograd.functional", "jacobian"),
    "hessian": ("chainrule.autograd.functional", "hessian"),
    "explain": ("chainrule.explain", "explain"),
    "save": ("chainrule.io", "save"),
    "load": ("chainrule.io", "load"),
}


def __getattr__(name: str) -> object:
    """Submodules and helpers that pull in more code are imported on first use."""
    import importlib  # noqa: PLC0415

    if name in _LAZY:
        return importlib.import_module(_LAZY[name])
    if name in _LAZY_ATTRS:
        module, attr = _LAZY_ATTRS[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")


def autograd_backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False) -> None:  # noqa: ANN001
    """``torch.autograd.backward`` for several outputs at once."""
    _backward_many(list(tensors), grad_tensors, retain_graph, create_graph)


__all__ = [
    "Function",
    "Tensor",
    "Variable",
    "__version__",
    "arange",
    "as_tensor",
    "autograd_backward",
    "detect_anomaly",
    "empty",
    "enable_grad",
    "explain",
    "eye",
    "from_numpy",
    "full",
    "full_like",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "hessian",
    "inference_mode",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "is_tensor",
    "jacobian",
    "linspace",
    "load",
    "manual_seed",
    "no_grad",
    "numerical_diff",
    "numerical_grad",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "randperm",
    "save",
    "set_grad_enabled",
    "tensor",
    "zeros",
    "zeros_like",
    "bernoulli",
    "empty_like",
    "empty_permuted",
    "empty_strided",
    "fill",
    "logspace",
    "multinomial",
    "normal",
    "randint_like",
    "scalar_tensor",
    "tril_indices",
    "triu_indices",
    *_ops_all,
]
