"""Shared helpers for layer constructors: empty float32 parameters, default init and argument checks."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule import backend
from chainrule.nn import init
from chainrule.nn.parameter import Parameter

if TYPE_CHECKING:
    from chainrule.tensor import Tensor


def empty_param(shape: tuple[int, ...], device: Any = None, dtype: Any = None) -> Parameter:
    """An uninitialised (zero) float32 Parameter, or of ``dtype``, on ``device``."""
    dt = np.dtype(np.float32 if dtype is None else dtype)
    if dt.kind not in "fc":
        raise TypeError(f"layer parameters must be floating point, got dtype={dt}")
    data = np.zeros(shape, dtype=dt)
    if device is not None and backend.parse_device(device) != "cpu":
        data = backend.to_device(data, "cuda")
    return Parameter(data)


def reset_kaiming(weight: Tensor, bias: Tensor | None) -> None:
    """torch's default init of ``Linear`` and ``Conv*``: ``kaiming_uniform_(a=sqrt(5))`` weight,
    bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


def _check_ints(layer: str, values: dict[str, Any], minimum: int, what: str) -> None:
    """TypeError for a non-int, ValueError (``must be {what}``) for an int below ``minimum``."""
    for name, v in values.items():
        items = v if isinstance(v, (tuple, list)) else (v,)
        for item in items:
            if not isinstance(item, (int, np.integer)) or isinstance(item, bool):
                raise TypeError(f"{layer}: {name} must be an int (or a tuple of ints), got {v!r}")
            if item < minimum:
                raise ValueError(f"{layer}: {name} must be {what}, got {v!r}")


def check_positive(layer: str, **values: Any) -> None:
    """ValueError naming the layer and the argument when a size is not a positive int."""
    _check_ints(layer, values, 1, "positive")


def check_non_negative(layer: str, **values: Any) -> None:
    """ValueError naming the layer and the argument when a size is not a non-negative int."""
    _check_ints(layer, values, 0, "non-negative")


def check_input_ndim(layer: str, x: Any, allowed: tuple[int, ...], expected: str) -> None:
    """ValueError for a wrong input rank, naming the layer and the expected shape."""
    ndim = getattr(x, "ndim", None)
    if ndim not in allowed:
        shape = getattr(x, "shape", None)
        dims = " or ".join(f"{d}-D" for d in allowed)
        raise ValueError(f"{layer}: expected {dims} input {expected}, got input of shape {shape}")


def check_dropout(layer: str, p: float) -> None:
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0 <= p <= 1:
        raise ValueError(f"{layer}: dropout probability has to be between 0 and 1, but got {p!r}")


# torch's names for dtypes in its error messages: "Double" in matmul's, "double" in convolution's.
_TORCH_NAMES = {
    "float16": ("Half", "c10::Half"),
    "float32": ("Float", "float"),
    "float64": ("Double", "double"),
    "complex64": ("ComplexFloat", "c10::complex<float>"),
    "complex128": ("ComplexDouble", "c10::complex<double>"),
    "int8": ("Char", "signed char"),
    "uint8": ("Byte", "unsigned char"),
    "int16": ("Short", "short int"),
    "int32": ("Int", "int"),
    "int64": ("Long", "long int"),
    "bool": ("Bool", "bool"),
}


def _torch_name(dtype: Any, conv: bool) -> str:
    names = _TORCH_NAMES.get(np.dtype(dtype).name)
    return names[conv] if names else np.dtype(dtype).name


def check_matmul_dtype(x: Any, weight: Tensor) -> None:
    """torch's RuntimeError for an input whose dtype is not the weight's (never a silent promotion)."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None and np.dtype(dtype) != weight.dtype:
        raise RuntimeError(
            "mat1 and mat2 must have the same dtype, but got "
            f"{_torch_name(dtype, False)} and {_torch_name(weight.dtype, False)}"
        )


def check_conv_dtype(x: Any, weight: Tensor, bias: Tensor | None, transposed: bool) -> None:
    """torch's RuntimeError for a convolution input whose dtype is not the weight's."""
    dtype = getattr(x, "dtype", None)
    if dtype is None or np.dtype(dtype) == weight.dtype:
        return
    # torch names the bias when there is one (forward convolutions); otherwise the weight is the mismatch.
    other = "bias" if bias is not None and not transposed else "weight"
    raise RuntimeError(
        f"Input type ({_torch_name(dtype, True)}) and {other} type ({_torch_name(weight.dtype, True)}) "
        "should be the same"
    )


def check_same_dtypes(**tensors: Any) -> None:
    """torch's RuntimeError for ``Bilinear``: every input and parameter (None skipped) shares one dtype."""
    present = {name: t.dtype for name, t in tensors.items() if t is not None and hasattr(t, "dtype")}
    if len({np.dtype(d) for d in present.values()}) > 1:
        listed = ", ".join(f"{name}: {_torch_name(d, True)}" for name, d in present.items())
        raise RuntimeError(f"All tensors must have the same dtype, got {listed}")
