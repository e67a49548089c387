"""torch-style custom functions: ``class F(cr.autograd.Function)`` with static ``forward(ctx, ...)`` and
``backward(ctx, *grads)``, called as ``F.apply(...)``.

``forward`` takes and returns Tensors and runs without recording (as in torch); ``backward`` gets one
gradient per output and returns one per ``forward`` argument (None for non-tensors or unneeded ones).
Written with tensor ops, ``backward`` is itself differentiable (``create_graph=True``).

>>> import chainrule as cr
>>> class Cube(cr.autograd.Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x ** 3
...     @staticmethod
...     def backward(ctx, gy):
...         (x,) = ctx.saved_tensors
...         return 3 * x ** 2 * gy
>>> x = cr.tensor(2.0, requires_grad=True)
>>> Cube.apply(x).backward()
>>> float(x.grad)
12.0

The DeZero style, ``class F(cr.Function)`` with ``forward`` on arrays, is ``chainrule.Function``.
"""

from __future__ import annotations

import weakref
from typing import Any

from chainrule.autograd import function as _function
from chainrule.autograd.grad_mode import no_grad
from chainrule.autograd.grad_mode import state as _grad_state
from chainrule.tensor import Tensor

__all__ = ["Function", "FunctionCtx"]


class FunctionCtx:
    """The ``ctx`` handed to ``forward`` and ``backward``: saved tensors and flags; set any attribute."""

    needs_input_grad: tuple[bool, ...]

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self._saved: tuple[Any, ...] = ()
        self._non_differentiable: set[int] = set()

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save Tensors or None, got {type(t).__name__}")
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple[Tensor | None, ...]:
        out = []
        for t in self._saved:
            if isinstance(t, weakref.ref):  # an output of forward, held weakly (it holds this ctx)
                t = t()
                if t is None:
                    raise RuntimeError("a saved output of this Function has been freed")
            out.append(t)
        return tuple(out)

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Outputs (of ``forward``) that get no gradient and do not require grad."""
        self._non_differentiable.update(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        """Accepted for torch compatibility: missing output gradients are always given as zeros."""


class _Node(_function.Function):
    """The graph node of one ``apply``: runs the user's static methods with the ctx."""

    def __init__(self, fn: type[Function], args: tuple[Any, ...], ctx: FunctionCtx) -> None:
        self.fn, self.args, self.ctx = fn, args, ctx
        self.tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]

    @property
    def name(self) -> str:
        return f"{self.fn.__name__}Backward"

    def forward(self, *arrays: Any) -> Any:
        with no_grad():
            out = self.fn.forward(self.ctx, *self.args)
        self.returned = out if isinstance(out, tuple) else (out,)
        for i, t in enumerate(self.returned):
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"{self.fn.__name__}.forward must return Tensors, got {type(t).__name__} (output {i})"
                )
        datas = tuple(t.data for t in self.returned)
        return datas if isinstance(out, tuple) else datas[0]

    def backward(self, *grads: Tensor) -> Any:
        result = self.fn.backward(self.ctx, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) != len(self.args):
            raise RuntimeError(
                f"function {self.name} returned an incorrect number of gradients "
                f"(expected {len(self.args)}, got {len(result)})"
            )
        return tuple(result[i] for i in self.tensor_positions)


class Function:
    """Base class of torch-style custom functions (see the module docstring)."""

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("a custom Function must define a @staticmethod forward(ctx, ...)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Any) -> Any:
        raise NotImplementedError("a custom Function must define a @staticmethod backward(ctx, *grads)")

    @classmethod
    def apply(cls, *args: Any) -> Any:
        recording = _grad_state.grad_enabled
        needs = tuple(isinstance(a, Tensor) and a.requires_grad and recording for a in args)
        ctx = FunctionCtx(needs)
        node = _Node(cls, args, ctx)
        tensors = [args[i] for i in node.tensor_positions]
        if not tensors:  # nothing to record: just run forward
            return node.fn.forward(ctx, *args)
        out = node(*tensors)
        outs = out if isinstance(out, tuple) else (out,)
        _fix_saved_outputs(ctx, node.returned, outs)
        for returned, o in zip(node.returned, outs):
            if id(returned) in ctx._non_differentiable:
                o._requires_grad, o.creator = False, None
        return out


def _fix_saved_outputs(ctx: FunctionCtx, returned: tuple[Tensor, ...], outs: tuple[Tensor, ...]) -> None:
    """Saved outputs of ``forward`` become the recorded outputs (weakly held), so that ``backward`` formulas
    using them are differentiable (create_graph)."""
    index = {id(t): i for i, t in enumerate(returned)}
    if any(id(t) in index for t in ctx._saved):
        ctx._saved = tuple(weakref.ref(outs[index[id(t)]]) if id(t) in index else t for t in ctx._saved)
