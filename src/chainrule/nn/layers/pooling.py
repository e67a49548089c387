"""Pooling layers. ``stride`` defaults to ``kernel_size`` (non-overlapping windows), as in torch."""

from __future__ import annotations

from typing import Any

from chainrule.nn import functional as F
from chainrule.nn.layers._factory import check_input_ndim, check_non_negative, check_positive
from chainrule.nn.module import Module
from chainrule.tensor import Tensor

_SHAPES = {1: "(N, C, L) or (C, L)", 2: "(N, C, H, W) or (C, H, W)", 3: "(N, C, D, H, W) or (C, D, H, W)"}


def _check_window(name: str, kernel_size: Any, stride: Any, padding: Any, **positive: Any) -> None:
    """Errors naming the layer for a non-positive ``kernel_size`` (or ``positive``) or ``stride`` (``None``
    allowed) and a negative ``padding``."""
    check_positive(name, kernel_size=kernel_size, **positive)
    if stride is not None:
        check_positive(name, stride=stride)
    check_non_negative(name, padding=padding)


class _PoolNd(Module):
    """``_nd`` spatial dims; inputs are (N, C, *spatial) or unbatched (C, *spatial)."""

    _nd = 2

    def _check_input(self, x: Tensor) -> None:
        nd = self._nd
        check_input_ndim(type(self).__name__, x, (nd + 1, nd + 2), _SHAPES[nd])


class _MaxPoolNd(_PoolNd):
    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        _check_window(type(self).__name__, kernel_size, stride, padding, dilation=dilation)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        self._check_input(input)
        pool = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[self._nd - 1]
        return pool(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    """Applies :func:`chainrule.nn.functional.max_pool1d`."""

    _nd = 1


class MaxPool2d(_MaxPoolNd):
    """Max over (kh, kw) windows; the gradient goes to the first maximum of each window.

    >>> import chainrule as cr
    >>> cr.nn.MaxPool2d(2)(cr.randn(1, 3, 28, 28)).shape
    (1, 3, 14, 14)
    """

    _nd = 2


class MaxPool3d(_MaxPoolNd):
    """Applies :func:`chainrule.nn.functional.max_pool3d`."""

    _nd = 3


class _AvgPoolNd(_PoolNd):
    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        _check_window(type(self).__name__, kernel_size, stride, padding)
        if self._nd == 1:  # torch keeps AvgPool1d's arguments as 1-tuples
            kernel_size = _single(kernel_size)
            stride = _single(stride) if stride is not None else None
            padding = _single(padding)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode, self.count_include_pad = padding, ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        nd = self._nd
        self._check_input(input)
        if nd == 1:
            return F.avg_pool1d(
                input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad
            )
        pool = F.avg_pool2d if nd == 2 else F.avg_pool3d
        return pool(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


def _single(v: Any) -> tuple[int, ...]:
    return tuple(v) if isinstance(v, (tuple, list)) else (v,)


class AvgPool1d(_AvgPoolNd):
    """Applies :func:`chainrule.nn.functional.avg_pool1d`."""

    _nd = 1

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """Mean over (kh, kw) windows."""

    _nd = 2


class AvgPool3d(_AvgPoolNd):
    """Applies :func:`chainrule.nn.functional.avg_pool3d`."""

    _nd = 3


class _AdaptiveAvgPoolNd(_PoolNd):
    def __init__(self, output_size: Any) -> None:
        super().__init__()
        sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,)
        for s in sizes:
            if s is not None:
                check_positive(type(self).__name__, output_size=s)
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check_input(input)
        pool = (F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d)[self._nd - 1]
        return pool(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Applies :func:`chainrule.nn.functional.adaptive_avg_pool1d`."""

    _nd = 1


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average into a fixed (oh, ow) grid whatever the input size (``AdaptiveAvgPool2d(1)``: global)."""

    _nd = 2


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Applies :func:`chainrule.nn.functional.adaptive_avg_pool3d`."""

    _nd = 3


class _AdaptiveMaxPoolNd(_AdaptiveAvgPoolNd):
    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        self._check_input(input)
        pool = (F.adaptive_max_pool1d, F.adaptive_max_pool2d, F.adaptive_max_pool3d)[self._nd - 1]
        return pool(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Applies :func:`chainrule.nn.functional.adaptive_max_pool1d`."""

    _nd = 1


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max into a fixed (oh, ow) grid of adaptive bins whatever the input size."""

    _nd = 2


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Applies :func:`chainrule.nn.functional.adaptive_max_pool3d`."""

    _nd = 3


class _MaxUnpoolNd(_PoolNd):
    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        _check_window(type(self).__name__, kernel_size, stride, padding)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:  # noqa: A002
        unpool = (F.max_unpool1d, F.max_unpool2d, F.max_unpool3d)[self._nd - 1]
        return unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Applies :func:`chainrule.nn.functional.max_unpool1d` (the inverse of ``MaxPool1d``'s indices)."""

    _nd = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """Applies :func:`chainrule.nn.functional.max_unpool2d`."""

    _nd = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """Applies :func:`chainrule.nn.functional.max_unpool3d`."""

    _nd = 3
