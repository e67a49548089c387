"""Helpers shared by the functional ops: argument normalisation and loss reductions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.tensor import Tensor, _new


def ntuple(value: Any, n: int, name: str, op: str, minimum: int | None = None) -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints as an ``n``-tuple, checked against ``minimum``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        out = (int(value),) * n
    elif isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) == 1 and n > 1:
            value = tuple(value) * n
        if len(value) != n or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value
        ):
            raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
        out = tuple(int(v) for v in value)
    else:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {type(value).__name__}")
    if minimum is not None and any(v < minimum for v in out):
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return out


def as_tensor(x: Any, op: str, name: str = "input") -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return _new(x)
    raise TypeError(f"{op}(): argument '{name}' must be a Tensor, not {type(x).__name__}")


def legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """torch's mapping of the deprecated ``size_average``/``reduce`` flags to ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def check_reduction(reduction: str, op: str, extra: tuple[str, ...] = ()) -> None:
    if reduction not in ("none", "mean", "sum", *extra):
        raise ValueError(f"{op}: {reduction} is not a valid value for reduction")


def resolve_reduction(
    size_average: bool | None, reduce: bool | None, reduction: str, op: str, extra: tuple[str, ...] = ()
) -> str:
    """``legacy_reduction`` then ``check_reduction``: the ``reduction`` a loss will apply."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, op, extra)
    return reduction


def reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
