"""torch's ``*_copy`` ops: the same values as the view op of the same name, always as new tensors (writing
into one never changes its input)."""

from __future__ import annotations

from typing import Any

from chainrule.ops.diagonal import diagonal
from chainrule.ops.elementwise import clone
from chainrule.ops.layout import unfold
from chainrule.ops.shape import expand, permute, reshape, squeeze, transpose, unbind, unsqueeze
from chainrule.ops.stacking import split_with_sizes
from chainrule.tensor import Tensor


def alias_copy(input: Tensor) -> Tensor:  # noqa: A002
    """``torch.alias_copy``: a copy of ``input``."""
    return clone(input)


def expand_copy(input: Tensor, size: Any, *, implicit: bool = False) -> Tensor:  # noqa: A002
    """``torch.expand_copy``: :func:`expand` as a new tensor."""
    return clone(expand(input, size))


def view_copy(input: Tensor, size: Any) -> Tensor:  # noqa: A002
    """``torch.view_copy``: ``input.view(size)`` as a new tensor (a dtype ``size`` is not supported)."""
    if not isinstance(size, (tuple, list, int)) and not hasattr(size, "__index__"):
        raise TypeError(
            f"view_copy: size must be a shape, got {type(size).__name__} (dtype views unsupported)"
        )
    return clone(reshape(input, size))


def permute_copy(input: Tensor, dims: Any) -> Tensor:  # noqa: A002
    """``torch.permute_copy``."""
    return clone(permute(input, dims))


def t_copy(input: Tensor) -> Tensor:  # noqa: A002
    """``torch.t_copy``: the transpose of a matrix (0-d and 1-d as they are), as a new tensor."""
    return clone(input.t())


def transpose_copy(input: Tensor, dim0: int, dim1: int) -> Tensor:  # noqa: A002
    """``torch.transpose_copy``."""
    return clone(transpose(input, dim0, dim1))


def unsqueeze_copy(input: Tensor, dim: int) -> Tensor:  # noqa: A002
    """``torch.unsqueeze_copy``."""
    return clone(unsqueeze(input, dim))


def squeeze_copy(input: Tensor, dim: Any = None) -> Tensor:  # noqa: A002
    """``torch.squeeze_copy``."""
    return clone(squeeze(input, dim))


def diagonal_copy(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """``torch.diagonal_copy``."""
    return diagonal(input, offset, dim1, dim2)  # chainrule's diagonal is a copy already


def unbind_copy(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """``torch.unbind_copy``."""
    return tuple(clone(t) for t in unbind(input, dim))


def unfold_copy(input: Tensor, dimension: int, size: int, step: int) -> Tensor:  # noqa: A002
    """``torch.unfold_copy``: ``Tensor.unfold`` as a new tensor."""
    return clone(unfold(input, dimension, size, step))


def split_with_sizes_copy(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """``torch.split_with_sizes_copy``."""
    return tuple(clone(t) for t in split_with_sizes(input, split_sizes, dim))
