"""Boolean-mask reads and writes: ``masked_select``, ``masked_scatter`` (and ``masked_scatter_``).

Both are compositions of differentiable ops (broadcast, indexing, ``where``), so every gradient order works.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.tensor import Tensor


def _mask(mask: Any, op: str) -> Any:
    m = mask.data if isinstance(mask, Tensor) else backend.asarray(mask, like=mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"{op}: expected BoolTensor for mask, got dtype {m.dtype}")
    return m


def _broadcast(x: Tensor, m: Any, op: str) -> tuple[Tensor, Any]:
    try:
        shape = np.broadcast_shapes(x.shape, m.shape)
    except ValueError:
        raise RuntimeError(f"{op}: the mask's shape {m.shape} does not broadcast with {x.shape}") from None
    xb = x if x.shape == shape else x.broadcast_to(shape)
    return xb, np.broadcast_to(m, shape)


def masked_select(input: Tensor, mask: Any, *, out: Any = None) -> Tensor:
    """torch's ``masked_select``: the 1-d tensor of ``input``'s entries where ``mask`` (broadcast) is True."""
    if out is not None:
        raise TypeError("masked_select(): out= is not supported")
    xb, mb = _broadcast(input, _mask(mask, "masked_select"), "masked_select")
    return xb.reshape(-1)[np.ascontiguousarray(mb).reshape(-1)]


def masked_scatter(input: Tensor, mask: Any, source: Tensor) -> Tensor:
    """torch's ``masked_scatter``: ``input`` with the positions where ``mask`` is True filled, in row-major
    order, by the first elements of ``source``."""
    from chainrule.ops.elementwise import where  # noqa: PLC0415

    if not isinstance(source, Tensor):
        raise TypeError(f"masked_scatter(): source must be a Tensor, got {type(source).__name__}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"masked_scatter(): expected source of dtype {input.dtype}, got {source.dtype}")
    xb, mb = _broadcast(input, _mask(mask, "masked_scatter"), "masked_scatter")
    n = int(mb.sum())
    if n > source.numel():
        raise RuntimeError(
            f"masked_scatter: expected source to have at least {n} elements, got {source.numel()}"
        )
    if source.numel() == 0:
        return xb.clone()
    # the k-th True position takes source's k-th element; the others read element 0 and are discarded
    pos = np.clip(np.cumsum(mb.reshape(-1)) - 1, 0, None).reshape(mb.shape)
    return where(mb, source.reshape(-1)[pos], xb)


def masked_scatter_(self: Tensor, mask: Any, source: Tensor) -> Tensor:
    """In-place :func:`masked_scatter` (the mask broadcasts to ``self``'s shape)."""
    from chainrule.ops.gather_scatter import in_place  # noqa: PLC0415

    return in_place(self, "masked_scatter_", source, lambda t: masked_scatter(t, mask, source))
