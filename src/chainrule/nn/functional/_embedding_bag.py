"""``embedding_bag``: sums, means or maxima of bags of embedding rows, without materialising the bags.

The rows are gathered with ``index_select`` (their gradient scatter-adds into ``weight``) and reduced per
bag with ``index_add`` (sum, mean) or a ``gather`` at each bag's per-feature arg-max (max), all
differentiable chainrule ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.nn.functional._sparse import _renorm_
from chainrule.nn.functional._utils import as_tensor
from chainrule.ops import gather, index_add, index_select, masked_fill
from chainrule.tensor import Tensor, _new


def _bags(idx: np.ndarray, offsets: Any, include_last_offset: bool) -> tuple[np.ndarray, np.ndarray, int]:
    """(flat indices, bag of each index, number of bags) for 2-D input or 1-D input with offsets."""
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "embedding_bag: if input is 2D, then offsets has to be None, as input is treated "
                "is a mini-batch of fixed length sequences."
            )
        b, n = idx.shape
        return idx.reshape(-1), np.repeat(np.arange(b), n), b
    if idx.ndim != 1:
        raise ValueError(
            f"embedding_bag: input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}"
        )
    if offsets is None:
        raise ValueError("embedding_bag: offsets has to be a 1D Tensor but got None")
    off = np.asarray(offsets.data if isinstance(offsets, Tensor) else offsets).astype(np.int64)
    if off.ndim != 1:
        raise ValueError(f"embedding_bag: offsets has to be a 1D Tensor, got shape {off.shape}")
    if off.size and off[0] != 0:
        raise RuntimeError(
            f"embedding_bag: offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
            f"has to start from position 0. However, got {off[0]}"
        )
    if off.size and (np.any(np.diff(off) < 0) or off[-1] > idx.size):
        raise RuntimeError(f"embedding_bag: offsets must be non-decreasing and at most len(input)={idx.size}")
    n_bags = max(off.size - 1, 0) if include_last_offset else off.size
    bag = np.searchsorted(off, np.arange(idx.size), side="right") - 1
    return idx, bag, n_bags


def _max_bags(rows: Tensor, bag: np.ndarray, n_bags: int, flat: np.ndarray, weight: Tensor) -> Tensor:
    """Per bag and feature the row with the largest value (the first of ties); empty bags give 0."""
    d = weight.shape[1]
    counts = np.bincount(bag, minlength=n_bags)
    width = max(int(counts.max()) if counts.size else 0, 1)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]]) if n_bags else np.zeros(0, np.int64)
    slot = np.arange(bag.size) - start[bag]
    pos = np.full((n_bags, width), -1, dtype=np.int64)
    pos[bag, slot] = np.arange(bag.size)
    vals = np.full((n_bags, width, d), -np.inf, dtype=weight.dtype)
    vals[bag, slot] = rows.data
    best = np.argmax(vals, axis=1)  # (bags, D): the slot of each feature's max
    entry = np.take_along_axis(pos, best, 1)
    empty = counts == 0
    widx = np.where(entry >= 0, flat[np.maximum(entry, 0)], 0)
    y = gather(weight, 0, backend.to_device_of(widx, weight.data))
    if empty.any():
        y = masked_fill(y, _new(backend.to_device_of(empty[:, None], weight.data)), 0.0)
    return y


def embedding_bag(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """Reduce bags of rows of ``weight`` (``mode`` sum/mean/max): rows of a 2-D ``input``, or the slices of a
    1-D ``input`` starting at ``offsets``; ``padding_idx`` entries are left out (of the count too).

    >>> import chainrule as cr
    >>> w = cr.arange(6.0).reshape(3, 2)
    >>> cr.nn.functional.embedding_bag(cr.tensor([0, 2, 1]), w, cr.tensor([0, 2]), mode="sum")
    tensor([[4., 6.],
            [2., 3.]])
    """
    w = as_tensor(weight, "embedding_bag", "weight")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding_bag: scale_grad_by_freq and sparse gradients are not supported")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request"
        )
    if w.ndim != 2:
        raise ValueError(f"embedding_bag: weight has to be a 2D Tensor, got shape {w.shape}")
    idx = np.asarray(input.data if isinstance(input, Tensor) else input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding_bag: input must be an integer tensor, got {idx.dtype}")
    flat, bag, n_bags = _bags(idx.astype(np.int64), offsets, include_last_offset)
    if flat.size and (flat.min() < 0 or flat.max() >= w.shape[0]):
        raise IndexError(f"embedding_bag: index out of range in self (indices must be in [0, {w.shape[0]}))")
    if max_norm is not None:  # torch rescales the looked-up rows of weight in place first
        _renorm_(w, flat, max_norm, norm_type)
    keep = bag < n_bags
    if padding_idx is not None:
        pad = padding_idx + w.shape[0] if padding_idx < 0 else padding_idx
        if not 0 <= pad < w.shape[0]:
            raise ValueError(f"embedding_bag: padding_idx must be within num_embeddings, got {padding_idx}")
        keep &= flat != pad
    where = np.flatnonzero(keep)
    flat, bag = flat[where], bag[where]
    rows = index_select(w, 0, backend.to_device_of(flat, w.data))
    if mode == "max":
        return _max_bags(rows, bag, n_bags, flat, w)
    if per_sample_weights is not None:
        psw = as_tensor(per_sample_weights, "embedding_bag", "per_sample_weights")
        if psw.shape != idx.shape:
            raise ValueError(
                f"embedding_bag: per_sample_weights must have the input's shape {idx.shape}, got {psw.shape}"
            )
        rows = rows * index_select(psw.reshape(-1), 0, backend.to_device_of(where, w.data)).unsqueeze(-1)
    bag_t = backend.to_device_of(bag, w.data)
    out = index_add(_new(backend.zeros((n_bags, w.shape[1]), rows.dtype, w.data)), 0, bag_t, rows)
    if mode == "mean":
        counts = np.maximum(np.bincount(bag, minlength=n_bags), 1).astype(w.dtype)
        out = out / _new(backend.to_device_of(counts[:, None], w.data))
    return out
