"""Convolution layers: ``Conv1d``, ``Conv2d``, ``Conv3d``, ``ConvTranspose1d``, ``ConvTranspose2d``."""

from __future__ import annotations

from typing import Any

from chainrule.nn import functional as F
from chainrule.nn.functional._conv import transposed_out_size
from chainrule.nn.functional._utils import ntuple
from chainrule.nn.layers._factory import (
    check_conv_dtype,
    check_input_ndim,
    check_non_negative,
    check_positive,
    empty_param,
    reset_kaiming,
)
from chainrule.nn.module import Module
from chainrule.tensor import Tensor

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
_SHAPES = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}


class _ConvNd(Module):
    """Shared constructor, initialisation and repr of convolutions (torch's argument names and defaults)."""

    _nd = 2
    transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        output_padding: Any = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name, nd = type(self).__name__, self._nd
        check_positive(name, in_channels=in_channels, out_channels=out_channels, groups=groups)
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        self.kernel_size = ntuple(kernel_size, nd, "kernel_size", name)
        self.stride = ntuple(stride, nd, "stride", name)
        self.dilation = ntuple(dilation, nd, "dilation", name)
        check_positive(name, kernel_size=self.kernel_size, stride=self.stride, dilation=self.dilation)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"{name}: invalid padding string {padding!r}, should be one of ('valid', 'same')"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            if self.transposed:
                raise ValueError(f"{name}: padding must be an int or a tuple of ints, got {padding!r}")
            self.padding: Any = padding
        else:
            self.padding = ntuple(padding, nd, "padding", name)
            check_non_negative(name, padding=self.padding)
        self.output_padding = ntuple(output_padding, nd, "output_padding", name)
        check_non_negative(name, output_padding=self.output_padding)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        if self.transposed and padding_mode != "zeros":
            raise ValueError(f'{name}: only "zeros" padding mode is supported for {name}')
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.padding_mode = padding_mode
        if self.transposed:
            shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        else:
            shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = empty_param(shape, device, dtype)
        if bias:
            self.bias = empty_param((self.out_channels,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_kaiming(self.weight, self.bias)

    def _check(self, x: Tensor) -> None:
        nd = self._nd
        check_input_ndim(type(self).__name__, x, (nd + 1, nd + 2), _SHAPES[nd])
        channels = x.shape[-nd - 1]
        if channels != self.in_channels:
            raise ValueError(
                f"{type(self).__name__}: expected input with {self.in_channels} channels (in_channels), "
                "got input "
                f"of shape {x.shape} with {channels}"
            )
        check_conv_dtype(x, self.weight, self.bias, self.transposed)

    def extra_repr(self) -> str:
        nd = self._nd
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if isinstance(self.padding, str) or self.padding != (0,) * nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            0,
            device,
            dtype,
        )

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check(input)
        conv = (F.conv1d, F.conv2d, F.conv3d)[self._nd - 1]
        if self.padding_mode == "zeros":
            return conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        if isinstance(self.padding, str):
            if self.padding == "valid":
                pads = [0] * (2 * self._nd)
            else:
                pads = []
                for d, k in zip(reversed(self.dilation), reversed(self.kernel_size)):
                    total = d * (k - 1)
                    pads += [total // 2, total - total // 2]
        else:
            pads = [p for p in reversed(self.padding) for _ in range(2)]
        padded = F.pad(input, pads, mode=self.padding_mode)
        return conv(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class Conv1d(_Conv):
    """1-D convolution over (N, C_in, L); weight (C_out, C_in/groups, k)."""

    _nd = 1


class Conv2d(_Conv):
    """2-D convolution over (N, C_in, H, W); weight (C_out, C_in/groups, kh, kw), torch's default init.

    >>> import chainrule as cr
    >>> conv = cr.nn.Conv2d(1, 8, 3, padding=1)
    >>> conv(cr.randn(2, 1, 28, 28)).shape
    (2, 8, 28, 28)
    """

    _nd = 2


class Conv3d(_Conv):
    """3-D convolution over (N, C_in, D, H, W)."""

    _nd = 3


class _ConvTranspose(_ConvNd):
    transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Any = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            output_padding,
            device,
            dtype,
        )

    def _output_padding(self, x: Tensor, output_size: Any) -> tuple[int, ...]:
        if output_size is None:
            return self.output_padding
        nd = self._nd
        sizes = list(output_size)[-nd:]
        if len(sizes) != nd:
            raise ValueError(
                f"{type(self).__name__}: output_size must have {nd} or {nd + 2} elements, got {output_size}"
            )
        result = []
        for i in range(nd):
            smallest = transposed_out_size(
                x.shape[x.ndim - nd + i],
                self.kernel_size[i],
                self.stride[i],
                self.padding[i],
                self.dilation[i],
                0,
            )
            if not smallest <= sizes[i] < smallest + self.stride[i]:
                raise ValueError(
                    f"{type(self).__name__}: requested an output size of {sizes}, but valid sizes range from "
                    f"{smallest} to {smallest + self.stride[i] - 1} in dim {i}"
                )
            result.append(int(sizes[i] - smallest))
        return tuple(result)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:  # noqa: A002
        self._check(input)
        out_pad = self._output_padding(input, output_size)
        conv = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self._nd - 1]
        return conv(
            input, self.weight, self.bias, self.stride, self.padding, out_pad, self.groups, self.dilation
        )


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-D convolution; weight (C_in, C_out/groups, k)."""

    _nd = 1


class ConvTranspose2d(_ConvTranspose):
    """Transposed 2-D convolution (upsampling); weight (C_in, C_out/groups, kh, kw)."""

    _nd = 2


class ConvTranspose3d(_ConvTranspose):
    """Transposed 3-D convolution; weight (C_in, C_out/groups, kd, kh, kw)."""

    _nd = 3
