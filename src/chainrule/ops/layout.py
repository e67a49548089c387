"""Layout ops composed from reshape, permute, indexing and cat: narrow, select, unflatten, movedim, roll,
rot90, tile, repeat_interleave, ravel, view_as, reshape_as, unfold, sum_to_size, the ``H``/``mH`` properties,
and slice_scatter/select_scatter.

Results that torch returns as views (narrow, select, movedim, unfold...) are chainrule's recorded ops: the
basic-indexing and reshape ones are views as ``x[1:3]`` is; those built with an index gather are copies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.ops.index import getitem, index_select, setitem_
from chainrule.ops.shape import ShapeError, _axis, cat, flip, permute, repeat, reshape, sum_to, transpose
from chainrule.ops.shape import pad as _pad
from chainrule.tensor import Tensor, _shape_arg


def _int(value: Any, name: str, op: str) -> int:
    if isinstance(value, Tensor):
        if value.ndim or value.dtype.kind not in "iu":
            raise TypeError(
                f"{op}: {name} must be an int or a 0-d integer tensor, got {value.shape} {value.dtype}"
            )
        return int(value.item())
    if isinstance(value, (bool, float)) or not hasattr(value, "__index__"):
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__}")
    return int(value)


def _dim_key(ndim: int, dim: int, key: Any) -> tuple[Any, ...]:
    return (slice(None),) * dim + (key,) + (slice(None),) * (ndim - dim - 1)


def narrow(input: Tensor, dim: int, start: Any, length: int) -> Tensor:  # noqa: A002
    """``torch.narrow``: ``length`` entries of dim ``dim`` from ``start`` (negative ``start`` counts back)."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _axis(dim, input.ndim, "narrow")
    n = input.shape[d]
    s, length = _int(start, "start", "narrow"), _int(length, "length", "narrow")
    if not -n <= s <= n:
        raise IndexError(f"narrow: start {s} is out of range for dim {dim} of size {n}")
    s = s + n if s < 0 else s
    if length < 0 or s + length > n:
        raise RuntimeError(f"narrow: start ({s}) + length ({length}) exceeds dimension size ({n})")
    return getitem(input, _dim_key(input.ndim, d, slice(s, s + length)))


def narrow_copy(input: Tensor, dim: int, start: Any, length: int) -> Tensor:  # noqa: A002
    """:func:`narrow` as a new tensor (never a view)."""
    return narrow(input, dim, start, length).clone()


def select(input: Tensor, dim: int, index: Any) -> Tensor:  # noqa: A002
    """``torch.select``: the slice at ``index`` of dim ``dim``, that dim removed (``x[:, index]``)."""
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _axis(dim, input.ndim, "select")
    i, n = _int(index, "index", "select"), input.shape[d]
    if not -n <= i < n:
        raise IndexError(
            f"select(): index {i} out of range for tensor of size {input.shape} at dimension {d}"
        )
    return getitem(input, _dim_key(input.ndim, d, i % n))


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:  # noqa: A002
    """``torch.unflatten``: dim ``dim`` split into ``sizes`` (one of them may be -1)."""
    d = _axis(dim, max(input.ndim, 1), "unflatten")
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n = input.shape[d] if input.ndim else 1
    if -1 in sizes:
        known = int(np.prod([s for s in sizes if s != -1]))
        if sizes.count(-1) > 1 or known == 0 or n % known:
            raise RuntimeError(f"unflatten: sizes {sizes} don't multiply up to the size of dim {dim} ({n})")
        sizes = tuple(n // known if s == -1 else s for s in sizes)
    if int(np.prod(sizes)) != n:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} ({n})"
        )
    return reshape(input, input.shape[:d] + sizes + input.shape[d + 1 :])


def _dim_list(dims: Any, ndim: int, op: str) -> list[int]:
    dims = [dims] if isinstance(dims, (int, np.integer)) else list(dims)
    out = [_axis(int(d), max(ndim, 1), op) for d in dims]
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: repeated dim in {dims}")
    return out


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:  # noqa: A002
    """``torch.movedim`` (also ``moveaxis``): dims ``source`` moved to positions ``destination``."""
    src = _dim_list(source, input.ndim, "movedim")
    dst = _dim_list(destination, input.ndim, "movedim")
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source {source} and destination "
            f"{destination} have different lengths"
        )
    if input.ndim == 0:
        return input
    order = [d for d in range(input.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, tuple(order))


moveaxis = movedim


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:  # noqa: A002
    """``torch.roll``: entries shifted ``shifts`` places along ``dims`` (flattened when ``dims`` is None)."""
    shifts = [shifts] if isinstance(shifts, (int, np.integer)) else list(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: shifts {shifts} need dims when more than one is given")
        return reshape(roll(reshape(input, (-1,)), shifts, 0), input.shape)
    dims = [dims] if isinstance(dims, (int, np.integer)) else list(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(
            f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}"
        )
    out = input
    for shift, dim in zip(shifts, dims):
        d = _axis(int(dim), max(input.ndim, 1), "roll")
        n = out.shape[d] if out.ndim else 1
        s = int(shift) % n if n else 0
        if s and out.ndim:
            nd = out.ndim
            out = cat(
                [
                    getitem(out, _dim_key(nd, d, slice(n - s, n))),
                    getitem(out, _dim_key(nd, d, slice(0, n - s))),
                ],
                d,
            )
    return out


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:  # noqa: A002
    """``torch.rot90``: ``k`` quarter turns in the plane ``dims``, from the first dim towards the second."""
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"rot90: expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = _axis(dims[0], input.ndim, "rot90"), _axis(dims[1], input.ndim, "rot90")
    if d0 == d1:
        raise RuntimeError(
            f"rot90: expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}"
        )
    k = int(k) % 4
    if k == 1:
        return transpose(flip(input, d1), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return transpose(flip(input, d0), d0, d1)
    return input.clone()


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:  # noqa: A002
    """``torch.tile``: ``input`` repeated ``dims`` times per dim (missing leading counts are 1)."""
    reps = _shape_arg((dims,)) if not isinstance(dims, (int, np.integer)) else (int(dims),)
    reps = (1,) * (input.ndim - len(reps)) + reps
    return repeat(input, reps)


def repeat_interleave(
    input: Tensor,  # noqa: A002
    repeats: Any = None,
    dim: int | None = None,
    *,
    output_size: int | None = None,
) -> Tensor:
    """``torch.repeat_interleave``: each entry repeated ``repeats`` times (an int, or one count per entry)
    along ``dim`` (flattened first when None). With only a tensor of counts: the indices repeated."""
    if repeats is None:
        counts = input.data.astype(np.int64).reshape(-1)
        return Tensor(np.repeat(np.arange(counts.size), counts))
    x = reshape(input, (-1,)) if dim is None else input
    d = 0 if dim is None else _axis(dim, max(x.ndim, 1), "repeat_interleave")
    n = x.shape[d] if x.ndim else 1
    r = np.asarray(repeats.data if isinstance(repeats, Tensor) else repeats).astype(np.int64).reshape(-1)
    if r.size == 1:
        r = np.full(n, r[0])
    if r.size != n:
        raise RuntimeError(
            f"repeat_interleave: repeats must have the same size as input along dim, but got "
            f"repeats.size(0) = {r.size} and input.size({d}) = {n}"
        )
    if (r < 0).any():
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    idx = np.repeat(np.arange(n), r)
    if output_size is not None and int(output_size) != idx.size:
        raise RuntimeError(
            f"repeat_interleave: output_size {output_size} differs from the repeats' sum {idx.size}"
        )
    if x.ndim == 0:
        x = reshape(x, (1,))
    return index_select(x, d, idx)


def ravel(input: Tensor) -> Tensor:  # noqa: A002
    """``torch.ravel``: ``input`` as a 1-D tensor."""
    return reshape(input, (-1,))


def view_as(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """``input`` reshaped to ``other``'s shape."""
    return reshape(input, tuple(other.shape))


reshape_as = view_as


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:  # noqa: A002
    """``Tensor.unfold``: every window of ``size`` entries of ``dimension``, ``step`` apart, as a new last
    dim (the windows replace ``dimension``)."""
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    if input.ndim == 0:
        if size > 1:
            raise RuntimeError(f"unfold: maximum size for tensor at dimension 0 is 1 but size is {size}")
        return reshape(input, (size,))
    d = _axis(dimension, input.ndim, "unfold")
    n = input.shape[d]
    if size < 0 or size > n:
        raise RuntimeError(f"unfold: maximum size for tensor at dimension {d} is {n} but size is {size}")
    windows = (n - size) // step + 1
    idx = (np.arange(windows)[:, None] * step + np.arange(size)).reshape(-1)
    y = index_select(input, d, idx)
    y = reshape(y, (*input.shape[:d], windows, size, *input.shape[d + 1 :]))
    return movedim(y, d + 1, -1)


def sum_to_size(input: Tensor, *size: Any) -> Tensor:  # noqa: A002
    """``Tensor.sum_to_size``: ``input`` summed down to ``size`` (which must broadcast to its shape)."""
    try:
        return sum_to(input, *size)
    except ValueError as e:
        raise ShapeError(f"sum_to_size: size {_shape_arg(size)} is not expandable to {input.shape}") from e


def H(input: Tensor) -> Tensor:  # noqa: A002, N802
    """``Tensor.H``: the conjugate transpose of a matrix (0-d tensors as they are)."""
    if input.ndim not in (0, 2):
        raise RuntimeError(
            f"tensor.H is only supported on matrices (2-D tensors). Got {input.ndim}-D tensor."
        )
    return transpose(input, 0, 1) if input.ndim == 2 else input


def mH(input: Tensor) -> Tensor:  # noqa: A002, N802
    """``Tensor.mH``: the conjugate transpose of the last two dims."""
    if input.ndim < 2:
        raise RuntimeError(
            f"tensor.mH is only supported on matrices or batches of matrices. Got {input.ndim}-D tensor."
        )
    return transpose(input, -2, -1)


def slice_scatter(
    input: Tensor,  # noqa: A002
    src: Tensor,
    dim: int = 0,
    start: int | None = None,
    end: int | None = None,
    step: int = 1,
) -> Tensor:
    """``torch.slice_scatter``: a copy of ``input`` with ``input[..., start:end:step]`` set to ``src``."""
    d = _axis(dim, input.ndim, "slice_scatter")
    key = _dim_key(input.ndim, d, slice(start, end, step))
    want = input.data[key].shape
    if tuple(src.shape) != want:
        raise ShapeError(
            f"slice_scatter: expected src to have a size equal to the slice of self {want}, "
            f"got {tuple(src.shape)}"
        )
    out = input.clone()
    setitem_(out, key, src)
    return out


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:  # noqa: A002
    """``torch.select_scatter``: a copy of ``input`` with ``select(input, dim, index)`` set to ``src``."""
    d = _axis(dim, input.ndim, "select_scatter")
    i, n = _int(index, "index", "select_scatter"), input.shape[d]
    if not -n <= i < n:
        raise IndexError(f"select_scatter: index {i} out of range for dim {d} of size {n}")
    key = _dim_key(input.ndim, d, i % n)
    want = input.data[key].shape
    if tuple(src.shape) != want:
        raise ShapeError(
            f"select_scatter: expected src to have a size equal to the slice of self {want}, "
            f"got {tuple(src.shape)}"
        )
    out = input.clone()
    setitem_(out, key, src)
    return out


def constant_pad_nd(input: Tensor, pad: Sequence[int], value: float = 0) -> Tensor:  # noqa: A002
    """``torch.constant_pad_nd``: ``F.pad`` in constant mode (negative widths crop)."""
    return _pad(input, pad, "constant", value)


#: Tensor-only names (torch has no function of these names): methods and properties bound by chainrule.ops.
TENSOR_ONLY = {"unfold": unfold, "sum_to_size": sum_to_size, "H": property(H), "mH": property(mH)}
