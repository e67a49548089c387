"""``Parameter``: a Tensor that a ``Module`` registers as learnable when assigned as an attribute."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.tensor import Tensor, as_array


class Parameter(Tensor):
    """A leaf Tensor with ``requires_grad=True`` that ``Module`` collects in ``parameters()``.

    Built from Python data it is float32; built from an array or a Tensor it keeps the dtype (and shares
    the memory, as ``torch.nn.Parameter`` does).

    >>> import chainrule as cr
    >>> p = cr.nn.Parameter([1.0, 2.0])
    >>> p.requires_grad, p.dtype
    (True, dtype('float32'))
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            array = np.empty((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            array = data.data
        else:
            array = as_array(data)
        super().__init__(array, requires_grad=False)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(
            self.detach() if not self.requires_grad else _plain(self)
        )

    def __deepcopy__(self, memo: dict[int, Any]) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        out = Parameter(self.data.copy(), self.requires_grad)
        if self.grad is not None:
            out.grad = self.grad.data.copy()
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (Parameter, (self.data, self.requires_grad))


def _plain(p: Parameter) -> Tensor:
    """A plain Tensor view of ``p`` that prints ``requires_grad=True`` like torch does."""
    t = Tensor(p.data)
    t.requires_grad = p.requires_grad
    return t


def is_parameter(obj: Any) -> bool:
    return isinstance(obj, Parameter)
