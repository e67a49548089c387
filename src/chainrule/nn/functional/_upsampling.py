"""``interpolate`` and the ``upsample_*`` aliases, separable along each spatial axis with torch's coordinates.

Every mode is a gather of a few source positions per output position along one axis (``index_select``)
times constant weights, one axis after another: the gradient is index_select's scatter-add, so every
derivative order works, and each output reads only its taps (as torch does: an ``inf`` elsewhere in the
row stays out of it). Source coordinates follow ATen's ``UpSample.h`` exactly: nearest modes in float32
(as torch computes them for every dtype), linear and cubic modes in the input's dtype.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.nn.functional._conv import ShapeError
from chainrule.nn.functional._pooling import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d
from chainrule.nn.functional._utils import as_tensor
from chainrule.ops import index_select
from chainrule.tensor import Tensor, _new

_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
#: The input rank each interpolating mode needs (the nearest modes and area take 3-, 4- and 5-D).
_RANK = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}
_CUBIC_A = -0.75


def _nearest_index(n_in: int, n_out: int, scale: float | None, exact: bool) -> np.ndarray:
    """ATen's ``nearest_idx``/``nearest_exact_idx``: floor(dst · scale) in float32, clamped."""
    dst = np.arange(n_out)
    if not exact and n_out == n_in:
        return dst
    if not exact and n_out == 2 * n_in:
        return dst >> 1
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(n_in) / np.float32(n_out)
    if exact:
        src = np.floor(((dst + 0.5) * np.float64(s)).astype(np.float32))
    else:
        src = np.floor(dst.astype(np.float32) * s)
    return np.minimum(src.astype(np.int64), n_in - 1)


def _source(n_in: int, n_out: int, scale: float | None, align_corners: bool, cubic: bool, dtype: Any):
    """(floor index, fraction) of each output's source coordinate: ``area_pixel_compute_source_index``
    then (linear modes) ``guard_index_and_lambda``, in ``dtype``."""
    t = np.dtype(dtype).type
    if align_corners:
        s = t(n_in - 1) / t(n_out - 1) if n_out > 1 else t(0)
    else:
        s = t(1.0 / scale) if scale is not None and scale > 0 else t(n_in) / t(n_out)
    dst = np.arange(n_out).astype(dtype)
    if align_corners:
        src = s * dst
    else:
        src = s * (dst + t(0.5)) - t(0.5)
        if not cubic:
            src = np.maximum(src, t(0))
    if cubic:  # the bicubic kernel floors without clamping (its taps are clamped instead)
        i0 = np.floor(src).astype(np.int64)
        return i0, (src - i0.astype(dtype)).astype(dtype)
    i0 = np.clip(np.floor(src).astype(np.int64), 0, n_in - 1)
    lam = np.clip(src - i0.astype(dtype), 0, 1).astype(dtype)
    return i0, lam


def _taps(n_in: int, n_out: int, scale: float | None, mode: str, align_corners: bool, dtype: Any):
    """[(source index per output, weight per output or None)] for one axis."""
    if mode in ("nearest", "nearest-exact"):
        return [(_nearest_index(n_in, n_out, scale, mode == "nearest-exact"), None)]
    cubic = mode == "bicubic"
    i0, lam = _source(n_in, n_out, scale, align_corners, cubic, dtype)
    if not cubic:
        i1 = i0 + (i0 < n_in - 1)
        return [(i0, 1 - lam), (i1, lam)]
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    weights = (far(lam + 1), near(lam), near(1 - lam), far(2 - lam))
    return [(np.clip(i0 - 1 + j, 0, n_in - 1), w.astype(dtype)) for j, w in enumerate(weights)]


def _resample_axis(x: Tensor, axis: int, taps: list) -> Tensor:
    """Sum over taps of x gathered along ``axis`` times the tap's weights (broadcast along ``axis``)."""
    out = None
    trailing = (1,) * (x.ndim - axis - 1)
    for idx, w in taps:
        part = index_select(x, axis, backend.to_device_of(idx, x.data))
        if w is not None:
            part = part * _new(backend.to_device_of(w.reshape(-1, *trailing), x.data))
        out = part if out is None else out + part
    return out


def _per_dim(value: Any, nd: int, name: str) -> list[Any]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != nd:
            raise ValueError(
                f"Input and {name} must have the same number of spatial dimensions, but got input with "
                f"spatial dimensions of {nd} and {name} of {list(value)}."
            )
        return list(value)
    return [value] * nd


def _output_size(x: Tensor, nd: int, size: Any, scale_factor: Any) -> tuple[list[int], list[Any] | None]:
    """Output spatial size and the per-dim scale factors (None when ``size`` is given)."""
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    spatial = x.shape[2:]
    if size is not None:
        out = [int(s) for s in _per_dim(size, nd, "output size")]
        scales = None
    else:
        scales = [float(s) for s in _per_dim(scale_factor, nd, "scale_factor")]
        out = [math.floor(float(n) * s) for n, s in zip(spatial, scales)]
    if any(o <= 0 for o in out):
        raise ValueError(f"interpolate: output size must be positive, got {out} for input of shape {x.shape}")
    return out, scales


def _check_mode(x: Tensor, mode: str, align_corners: bool | None, antialias: bool) -> None:
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: unknown mode {mode!r}, expected one of {_MODES}")
    if align_corners is not None and mode in ("nearest", "nearest-exact", "area"):
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: linear | bilinear | "
            "bicubic | trilinear"
        )
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if x.ndim not in (3, 4, 5) or (mode in _RANK and x.ndim != _RANK[mode]):
        need = f"{_RANK[mode]}D" if mode in _RANK else "3D, 4D or 5D"
        raise NotImplementedError(f"interpolate: got {x.ndim}D input, but {mode} mode needs {need} input")
    if any(s == 0 for s in x.shape[1:]):
        raise ShapeError(f"interpolate: expected non-empty channel and spatial dims, got shape {x.shape}")


def interpolate(
    input: Tensor,  # noqa: A002
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resample (N, C, *spatial) to ``size`` or ``spatial · scale_factor`` (torch's modes and coordinates).

    >>> import chainrule as cr
    >>> x = cr.arange(4.0).reshape(1, 1, 4)
    >>> cr.nn.functional.interpolate(x, size=2, mode="linear")
    tensor([[[0.5, 2.5]]])
    """
    x = as_tensor(input, "interpolate")
    _check_mode(x, mode, align_corners, antialias)
    nd = x.ndim - 2
    out, scales = _output_size(x, nd, size, scale_factor)
    if mode == "area":
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[nd - 1](x, out)
    if recompute_scale_factor:
        scales = None  # the kernels then use in/out, as torch
    if x.dtype.kind != "f":
        raise TypeError(f"interpolate: expected a floating point input, got {x.dtype}")
    y = x
    for i in range(nd):
        scale = None if scales is None else scales[i]
        taps = _taps(x.shape[2 + i], out[i], scale, mode, bool(align_corners), x.dtype)
        y = _resample_axis(y, 2 + i, taps)
    return y


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:  # noqa: A002
    """``interpolate(input, size, scale_factor, mode="nearest")`` (torch's deprecated alias)."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:  # noqa: A002
    """``interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)`` (torch's alias)."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def upsample(
    input: Tensor,  # noqa: A002
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """``interpolate`` under its deprecated name."""
    return interpolate(input, size, scale_factor, mode, align_corners)
