"""Pixel and channel shuffles: pure reshapes and permutations (differentiable to every order for free)."""

from __future__ import annotations

from chainrule.nn.functional._conv import ShapeError
from chainrule.nn.functional._utils import as_tensor
from chainrule.tensor import Tensor


def _factor(value: int, name: str, op: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{op}: {name} must be greater than 0, but got {value}")
    return value


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:  # noqa: A002
    """(*, C·r², H, W) -> (*, C, H·r, W·r) with r = ``upscale_factor``, as torch.

    >>> import chainrule as cr
    >>> cr.nn.functional.pixel_shuffle(cr.zeros(1, 8, 2, 3), 2).shape
    (1, 2, 4, 6)
    """
    x = as_tensor(input, "pixel_shuffle")
    r = _factor(upscale_factor, "upscale_factor", "pixel_shuffle")
    if x.ndim < 3:
        raise ShapeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got {x.shape}")
    *lead, c, h, w = x.shape
    if c % (r * r):
        raise ShapeError(
            f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
            f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}"
        )
    n = len(lead)
    y = x.reshape(*lead, c // (r * r), r, r, h, w)
    y = y.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:  # noqa: A002
    """(*, C, H·r, W·r) -> (*, C·r², H, W): the inverse of :func:`pixel_shuffle`."""
    x = as_tensor(input, "pixel_unshuffle")
    r = _factor(downscale_factor, "downscale_factor", "pixel_unshuffle")
    if x.ndim < 3:
        raise ShapeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got {x.shape}")
    *lead, c, h, w = x.shape
    if h % r or w % r:
        raise ShapeError(
            f"pixel_unshuffle expects height ({h}) and width ({w}) to be divisible by downscale_factor ({r})"
        )
    n = len(lead)
    y = x.reshape(*lead, c, h // r, r, w // r, r)
    y = y.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:  # noqa: A002
    """(N, C, *) with channels regrouped: (N, g, C/g, *) transposed to (N, C/g, g, *), as torch."""
    x = as_tensor(input, "channel_shuffle")
    g = _factor(groups, "groups", "channel_shuffle")
    if x.ndim < 3:
        raise ShapeError(f"channel_shuffle expects input to have at least 3 dimensions, but got {x.shape}")
    n, c, *rest = x.shape
    if c % g:
        raise ShapeError(f"channel_shuffle: number of channels ({c}) must be divisible by groups ({g})")
    return x.reshape(n, g, c // g, *rest).swapaxes(1, 2).reshape(x.shape)
