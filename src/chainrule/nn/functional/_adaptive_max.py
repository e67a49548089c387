"""Adaptive max pooling: the max over torch's adaptive bins [floor(i·n/o), ceil((i+1)·n/o)) per dim.

Every bin's positions are gathered as one row of flat spatial indices (short bins padded with a repeat of
their first position, which cannot change a max or its first arg-max), the arg-max is found in NumPy, and
the output is a ``gather`` of the input at it: the gradient goes to the chosen element, every order works.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.nn.functional._conv import ShapeError
from chainrule.nn.functional._utils import as_tensor
from chainrule.ops import gather
from chainrule.tensor import Tensor, _new


def _bins(n: int, o: int) -> np.ndarray:
    """(o, longest bin) positions of each bin along one dim, short bins padded with their first position."""
    lo = (np.arange(o) * n) // o
    hi = -(-((np.arange(o) + 1) * n) // o)
    width = int((hi - lo).max())
    pos = lo[:, None] + np.arange(width)[None, :]
    return np.where(pos < hi[:, None], pos, lo[:, None])


def _window_index(spatial: tuple[int, ...], out: tuple[int, ...]) -> np.ndarray:
    """(prod(out), K): the flat spatial index of every position of every output's bin (row-major)."""
    per_dim = [_bins(n, o) for n, o in zip(spatial, out)]
    flat = np.zeros((1, 1), dtype=np.int64)
    for n, b in zip(spatial, per_dim):
        # combine (O, K) so far with this dim's (o, k): (O·o, K·k), row-major in both outputs and offsets
        flat = (flat[:, None, :, None] * n + b[None, :, None, :]).reshape(
            flat.shape[0] * b.shape[0], flat.shape[1] * b.shape[1]
        )
    return flat


def _argmax_first(win: np.ndarray) -> np.ndarray:
    """Index of the first maximum along the last axis, or of a NaN (which wins, as in torch)."""
    xp = backend.get_array_module(win)
    if win.dtype.kind == "f":
        nan = xp.isnan(win)
        if bool(nan.any()):
            return xp.where(nan.any(-1), xp.argmax(nan, -1), xp.argmax(xp.where(nan, 0, win), -1))
    return xp.argmax(win, -1)


def _output_size(output_size: Any, spatial: tuple[int, ...], nd: int, op: str) -> tuple[int, ...]:
    sizes = (
        (output_size,) * nd
        if isinstance(output_size, (int, np.integer)) or output_size is None
        else output_size
    )
    if len(sizes) != nd:
        raise ValueError(f"{op}: output_size must be an int or a tuple of {nd}, got {output_size!r}")
    out = tuple(s if o is None else int(o) for s, o in zip(spatial, sizes))
    if any(o <= 0 for o in out):
        raise ValueError(f"{op}: output_size must be positive, got {output_size!r}")
    return out


def _adaptive_max(nd: int, op: str, input: Tensor, output_size: Any, return_indices: bool) -> Any:  # noqa: A002
    x = as_tensor(input, op)
    if x.ndim not in (nd + 1, nd + 2) or any(s == 0 for s in x.shape[1:]):
        raise ShapeError(f"{op}: expected a non-empty {nd + 1}-D or {nd + 2}-D input, got shape {x.shape}")
    spatial = x.shape[-nd:]
    out = _output_size(output_size, spatial, nd, op)
    lead = x.shape[:-nd]
    flat_x = x.reshape(*lead, -1)
    index = backend.to_device_of(_window_index(spatial, out), x.data)  # (O, K)
    win = flat_x.data[..., index]  # (*lead, O, K)
    best = _argmax_first(win)
    chosen = np.take_along_axis(
        backend.get_array_module(win).broadcast_to(index, win.shape), best[..., None], -1
    )
    chosen = chosen[..., 0]  # (*lead, O): flat spatial index of each bin's max
    y = gather(flat_x, -1, chosen).reshape(*lead, *out)
    if not return_indices:
        return y
    return y, _new(chosen.reshape(*lead, *out).astype(np.int64))


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:  # noqa: A002
    """Max over torch's adaptive bins of (N, C, L) or (C, L) input (``return_indices``: the arg-max too)."""
    return _adaptive_max(1, "adaptive_max_pool1d", input, output_size, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:  # noqa: A002
    """Max into an (oh, ow) grid of adaptive bins (``None`` keeps a dim); indices are flat over (H, W).

    >>> import chainrule as cr
    >>> cr.nn.functional.adaptive_max_pool2d(cr.arange(16.0).reshape(1, 4, 4), 2)
    tensor([[[ 5.,  7.],
             [13., 15.]]])
    """
    return _adaptive_max(2, "adaptive_max_pool2d", input, output_size, return_indices)


def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:  # noqa: A002
    """Max into an (od, oh, ow) grid of adaptive bins; indices are flat over (D, H, W)."""
    return _adaptive_max(3, "adaptive_max_pool3d", input, output_size, return_indices)
