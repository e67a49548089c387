"""Shared helpers for layer constructors: empty float32 parameters and argument checks."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.nn.parameter import Parameter


def empty_param(shape: tuple[int, ...], device: Any = None, dtype: Any = None) -> Parameter:
    """An uninitialised (zero) float32 Parameter, or of ``dtype``, on ``device``."""
    dt = np.dtype(np.float32 if dtype is None else dtype)
    if dt.kind not in "fc":
        raise TypeError(f"layer parameters must be floating point, got dtype={dt}")
    data = np.zeros(shape, dtype=dt)
    if device is not None and backend.parse_device(device) != "cpu":
        data = backend.to_device(data, "cuda")
    return Parameter(data)


def check_positive(layer: str, **values: Any) -> None:
    """ValueError naming the layer and the argument when a size is not a positive int."""
    for name, v in values.items():
        items = v if isinstance(v, (tuple, list)) else (v,)
        for item in items:
            if not isinstance(item, (int, np.integer)) or isinstance(item, bool):
                raise TypeError(f"{layer}: {name} must be an int (or a tuple of ints), got {v!r}")
            if item <= 0:
                raise ValueError(f"{layer}: {name} must be positive, got {v!r}")


def check_non_negative(layer: str, **values: Any) -> None:
    for name, v in values.items():
        items = v if isinstance(v, (tuple, list)) else (v,)
        for item in items:
            if not isinstance(item, (int, np.integer)) or isinstance(item, bool):
                raise TypeError(f"{layer}: {name} must be an int (or a tuple of ints), got {v!r}")
            if item < 0:
                raise ValueError(f"{layer}: {name} must be non-negative, got {v!r}")


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
