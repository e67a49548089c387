"""torch's in-place method forms (``x.exp_()``, ``x.masked_fill_(m, v)``...) and the one helper behind them.

``t.<op>_(*args)`` computes the out-of-place ``<op>(t, *args)``, checks that the result has ``t``'s shape
and that its dtype casts into ``t``'s under torch's rule (within a kind, or bool into anything: a float
result into an int tensor raises, a comparison into a float tensor stores 0./1.), writes it into ``t``'s
memory (so views of ``t`` see it) and bumps ``t``'s version. When autograd records (grad mode on and ``t``
or a tensor argument requires grad), ``t`` becomes the result in the graph through ``index._snapshot`` /
``index._rebind``, with torch's refusals: a leaf that requires grad, a view of a tensor in a graph.

The methods are generated from ONE table, :data:`INPLACE_METHODS` (name -> the out-of-place op's name).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.autograd.grad_mode import state as _grad_state
from chainrule.tensor import Tensor, _new, bump_version

#: torch's ScalarType names, for the cast error message torch gives.
_TORCH_NAMES = {
    "float16": "Half",
    "float32": "Float",
    "float64": "Double",
    "complex64": "ComplexFloat",
    "complex128": "ComplexDouble",
    "int8": "Char",
    "int16": "Short",
    "int32": "Int",
    "int64": "Long",
    "uint8": "Byte",
    "bool": "Bool",
}


def _torch_name(dtype: Any) -> str:
    name = str(np.dtype(dtype)) if not hasattr(dtype, "name") else str(dtype)
    return _TORCH_NAMES.get(name, name)


def _can_cast(src: Any, dst: Any) -> bool:
    """torch's ``canCast``: no float into an integer or bool, no complex into a real, no number into bool."""
    src, dst = np.dtype(src), np.dtype(dst)
    if src.kind == "b":
        return True
    return np.can_cast(src, dst, "same_kind")


def _tensor_args(args: tuple, kwargs: dict) -> list[Tensor]:
    found = []
    for a in (*args, *kwargs.values()):
        if isinstance(a, Tensor):
            found.append(a)
        elif isinstance(a, (tuple, list)):
            found.extend(b for b in a if isinstance(b, Tensor))
    return found


def _check_result(t: Tensor, name: str, out: Tensor) -> None:
    if out.shape != t.shape:
        raise RuntimeError(f"{name}: output with shape {t.shape} doesn't match the result shape {out.shape}")
    if out.dtype != t.dtype and not _can_cast(out.dtype, t.dtype):
        raise RuntimeError(
            f"result type {_torch_name(out.dtype)} can't be cast to the desired output type "
            f"{_torch_name(t.dtype)}"
        )


def inplace_op(
    t: Tensor,
    name: str,
    compute: Callable[[Tensor], Tensor],
    *others: Any,
    through_copy: bool = True,
) -> Tensor:
    """Replace ``t``'s values by ``compute(t)`` in place, as torch's ``name`` (e.g. ``"exp_"``) does.

    ``others`` are the op's other arguments (those that are tensors requiring grad make it recorded).
    ``compute`` sees a snapshot of ``t`` when the op is recorded, so a backward that reads ``t``'s old value
    still gets it. ``through_copy`` (the default) puts a copy node after ``compute`` in the graph: ``t``
    becomes that node's output, so an op whose backward reads its own output (exp, sigmoid, sqrt...) keeps
    it unchanged; ``False`` only for ops whose backward does not (index.inplace's add/sub/mul...).
    """
    from chainrule.ops.index import (  # noqa: PLC0415 (index imports the tensor module; loaded by now)
        _check_in_place_anomaly,
        _functional,
        _rebind,
        _snapshot,
        check_graph_target,
    )

    if not isinstance(t, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(t).__name__}")
    records = _grad_state.grad_enabled and (
        t.requires_grad or any(a.requires_grad for a in _tensor_args(others, {}))
    )
    if not records:
        out = compute(t)
        _check_result(t, name, out)
        result = out.data
        if _grad_state.anomaly:
            _check_in_place_anomaly(name, result)
        try:
            t.data[...] = result  # the same memory: views of ``t`` see the change, as in torch
        except ValueError as exc:  # a read-only array (expand/broadcast_to output)
            raise RuntimeError(f"{name}: cannot modify this tensor in place: {exc}; clone() it") from None
        bump_version(t)
        return t
    check_graph_target(t, name)
    old = _snapshot(t)
    out = compute(old)
    _check_result(t, name, out)
    if out.requires_grad and t.dtype.kind not in "fc":
        raise TypeError(f"{name}: cannot write a result that requires grad into a tensor of dtype {t.dtype}")
    if through_copy or out is old or (out.creator is not None and out.creator.is_view):
        out = _functional(old, "copy", out)
    if out.dtype != t.dtype:
        out = out.to(t.dtype)
    return _rebind(t, out, old)


# ---------------------------------------------------------------------------- metadata-changing forms
def _reshape_in_place(t: Tensor, name: str, compute: Callable[[Tensor], Tensor]) -> Tensor:
    """``t_``/``transpose_``/``swapaxes_``/``squeeze_``/``unsqueeze_``: ``t`` takes the new shape (a view of
    its own memory, so earlier views still share it) and its version goes up; recorded like the others (a
    leaf that requires grad is refused, as torch refuses it)."""
    from chainrule.ops.index import _functional, _snapshot, check_graph_target  # noqa: PLC0415

    new_data = compute(_new(t.data)).data  # the op on the bare array: a NumPy view of t's memory
    if new_data.size and not np.shares_memory(new_data, t.data):  # pragma: no cover - the ops return views
        raise RuntimeError(f"{name}: the result is not a view of the tensor's memory")
    records = _grad_state.grad_enabled and t.requires_grad
    if not records:
        t._data = new_data
        bump_version(t)
        return t
    check_graph_target(t, name)
    import weakref  # noqa: PLC0415

    old = _snapshot(t)
    view = compute(old)
    out = _functional(view, "copy", view)  # a copy node: t's creator is not a view op
    creator = t.creator
    refs = creator.output_refs()
    refs = tuple(weakref.ref(old) if ref() is t else ref for ref in refs)
    creator._output_refs = refs if len(refs) > 1 else refs[0]
    priors = getattr(t, "_prior", None)
    if priors is None:
        t._prior = [weakref.ref(old)]
    else:
        priors.append(weakref.ref(old))
    t._data = new_data
    t.creator, t.generation, t._requires_grad = out.creator, out.generation, out._requires_grad
    out.creator._output_refs = weakref.ref(t)
    bump_version(t)
    return t


_SHAPE_METHODS: dict[str, str] = {
    "squeeze_": "squeeze",
    "unsqueeze_": "unsqueeze",
    "transpose_": "transpose",
    "swapaxes_": "swapaxes",
    "t_": "t",
}

#: Every generated in-place method: name -> the out-of-place op (a ``chainrule.ops`` name) it computes.
INPLACE_METHODS: dict[str, str] = {
    **{
        f"{n}_": n
        for n in [
            "abs",
            "acos",
            "acosh",
            "addbmm",
            "addcdiv",
            "addcmul",
            "addmm",
            "addmv",
            "addr",
            "arccos",
            "arccosh",
            "arcsin",
            "arcsinh",
            "arctan",
            "arctanh",
            "asin",
            "asinh",
            "atan2",
            "atan",
            "atanh",
            "baddbmm",
            "ceil",
            "clamp_max",
            "clamp_min",
            "clip",
            "copysign",
            "cos",
            "cosh",
            "cumprod",
            "cumsum",
            "deg2rad",
            "digamma",
            "eq",
            "erf",
            "erfc",
            "erfinv",
            "exp2",
            "exp",
            "expm1",
            "fix",
            "float_power",
            "floor",
            "floor_divide",
            "fmod",
            "frac",
            "ge",
            "gt",
            "heaviside",
            "hypot",
            "i0",
            "ldexp",
            "le",
            "lerp",
            "lgamma",
            "log10",
            "log1p",
            "log2",
            "log",
            "logical_and",
            "logical_not",
            "logical_or",
            "logical_xor",
            "logit",
            "lt",
            "masked_fill",
            "mvlgamma",
            "nan_to_num",
            "ne",
            "neg",
            "nextafter",
            "polygamma",
            "rad2deg",
            "reciprocal",
            "relu",
            "remainder",
            "renorm",
            "round",
            "rsqrt",
            "sgn",
            "sigmoid",
            "sign",
            "sin",
            "sinc",
            "sinh",
            "sqrt",
            "square",
            "tan",
            "tanh",
            "true_divide",
            "trunc",
            "xlogy",
        ]
    },
    **_SHAPE_METHODS,
}


def _make_method(name: str) -> Callable[..., Tensor]:
    base_name = INPLACE_METHODS[name]

    if name in _SHAPE_METHODS:

        def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
            return _reshape_in_place(self, name, lambda x: getattr(Tensor, base_name)(x, *args, **kwargs))

    elif name == "float_power_":

        def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
            if self.dtype not in (np.float64, np.complex128):
                raise RuntimeError(
                    f"the base given to float_power_ has dtype {_torch_name(self.dtype)} but the operation's "
                    "result requires dtype Double"
                )
            return inplace_op(self, name, lambda x: getattr(Tensor, base_name)(x, *args, **kwargs), *args)

    else:

        def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
            fn = getattr(Tensor, base_name)
            return inplace_op(self, name, lambda x: fn(x, *args, **kwargs), *args, *kwargs.values())

    method.__name__ = name
    method.__qualname__ = f"Tensor.{name}"
    method.__doc__ = f"In-place :meth:`Tensor.{base_name}` (torch's ``Tensor.{name}``): writes into ``self``."
    method.__signature__ = inspect.signature(getattr(Tensor, base_name))  # type: ignore[attr-defined]
    return method


def _make_function(name: str) -> Callable[..., Tensor]:
    method = getattr(Tensor, name)

    def function(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:  # noqa: A002
        return method(input, *args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"In-place ``{INPLACE_METHODS[name]}`` of ``input`` (torch's ``torch.{name}``)."
    function.__signature__ = getattr(method, "__signature__", None)  # type: ignore[attr-defined]
    return function


def bind() -> dict[str, Callable[..., Tensor]]:
    """Attach every method of :data:`INPLACE_METHODS` to Tensor; return the top-level functions torch has
    (``torch.exp_``, ``torch.relu_``...: those in :data:`FUNCTIONS`)."""
    for name in INPLACE_METHODS:
        if not hasattr(Tensor, name):
            setattr(Tensor, name, _make_method(name))
    return {name: _make_function(name) for name in FUNCTIONS}


#: The in-place forms torch also spells as top-level functions (``torch.exp_(x)``).
FUNCTIONS = tuple(
    [
        "abs_",
        "acos_",
        "acosh_",
        "addmv_",
        "arccos_",
        "arccosh_",
        "arcsin_",
        "arcsinh_",
        "arctan_",
        "arctanh_",
        "asin_",
        "asinh_",
        "atan_",
        "atanh_",
        "ceil_",
        "clamp_max_",
        "clamp_min_",
        "clip_",
        "cos_",
        "cosh_",
        "deg2rad_",
        "erf_",
        "erfc_",
        "exp2_",
        "exp_",
        "expm1_",
        "fix_",
        "floor_",
        "frac_",
        "i0_",
        "ldexp_",
        "log10_",
        "log1p_",
        "log2_",
        "log_",
        "logit_",
        "nan_to_num_",
        "neg_",
        "rad2deg_",
        "reciprocal_",
        "relu_",
        "round_",
        "rsqrt_",
        "sigmoid_",
        "sin_",
        "sinc_",
        "sinh_",
        "sqrt_",
        "square_",
        "tan_",
        "tanh_",
        "trunc_",
        "xlogy_",
    ]
)
