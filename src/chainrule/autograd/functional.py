"""Whole Jacobians and Hessians, like ``torch.autograd.functional``, built on ``chainrule.grad``.

One reverse pass per output element (row of the Jacobian); with ``create_graph=True`` the result is itself
differentiable, which is how ``hessian`` is made: the Jacobian of the gradient.

>>> import chainrule as cr
>>> x = cr.tensor([1.0, 2.0], dtype="float64")
>>> cr.jacobian(lambda t: t * t, x)
tensor([[2., 0.],
        [0., 4.]], dtype=float64)
>>> cr.hessian(lambda t: (t**3).sum(), x)
tensor([[ 6.,  0.],
        [ 0., 12.]], dtype=float64)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule import backend
from chainrule.autograd.engine import grad
from chainrule.autograd.grad_mode import enable_grad
from chainrule.ops.shape import reshape, stack
from chainrule.tensor import Tensor, _new

__all__ = ["hessian", "jacobian"]


def _as_tuple(obj: Any, what: str, fn: str) -> tuple[bool, tuple[Tensor, ...]]:
    """(whether obj was a tuple/list, its Tensors); TypeError naming the bad element otherwise."""
    is_tuple = isinstance(obj, (tuple, list))
    items = tuple(obj) if is_tuple else (obj,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            where = f"{what}[{i}]" if is_tuple else what
            raise TypeError(f"{fn}: {where} must be a Tensor, got {type(t).__name__}")
    return is_tuple, items


def _prepare_inputs(inputs: Sequence[Tensor], create_graph: bool) -> tuple[Tensor, ...]:
    """Fresh leaves to differentiate with respect to (kept in the outer graph when ``create_graph``)."""
    out = []
    for x in inputs:
        if x.dtype.kind not in "fc":
            raise TypeError(f"jacobian/hessian: inputs must be floating point, got dtype {x.dtype}")
        if create_graph and x.requires_grad:
            out.append(x)
        else:
            out.append(_new(x.data, requires_grad=True))
    return tuple(out)


def _finish(t: Tensor, create_graph: bool) -> Tensor:
    return t if create_graph else t.detach()


def jacobian(
    func: Callable[..., Any],
    inputs: Tensor | Sequence[Tensor],
    create_graph: bool = False,
    strict: bool = False,
) -> Any:
    """The Jacobian of ``func`` at ``inputs``, shaped ``output.shape + input.shape``.

    As in ``torch.autograd.functional.jacobian``: a Tensor for one input and one output; a tuple over inputs
    (or over outputs) when one side is a tuple; a tuple of tuples ``J[i][j]`` (output i, input j) when both
    are. ``strict=True`` raises when an output does not depend on an input (otherwise that block is zero).
    """
    in_tuple, xs = _as_tuple(inputs, "inputs", "jacobian")
    xs = _prepare_inputs(xs, create_graph)
    with enable_grad():
        outputs = func(*xs)
        out_tuple, ys = _as_tuple(outputs, "outputs of the function", "jacobian")
        blocks = [_jacobian_block(y, i, xs, create_graph, strict) for i, y in enumerate(ys)]
    result = tuple(tuple(_finish(b, create_graph) for b in row) for row in blocks)
    if out_tuple and in_tuple:
        return result
    if out_tuple:
        return tuple(row[0] for row in result)
    if in_tuple:
        return result[0]
    return result[0][0]


def _jacobian_block(
    y: Tensor, index: int, xs: tuple[Tensor, ...], create_graph: bool, strict: bool
) -> list[Tensor]:
    """d y / d x for every x: one reverse pass per element of ``y``, rows stacked and reshaped."""
    if y.dtype.kind not in "fc":
        raise TypeError(f"jacobian: output {index} has dtype {y.dtype}; outputs must be floating point")
    n = y.data.size
    rows: list[list[Tensor]] = [[] for _ in xs]
    for k in range(n):
        grads: tuple[Tensor | None, ...] = (None,) * len(xs)
        if y.requires_grad:
            onehot = backend.zeros((n,), y.dtype, like=y.data)  # on y's device
            onehot[k] = 1
            grads = grad(
                y,
                xs,
                _new(onehot.reshape(y.shape)),
                retain_graph=True,
                create_graph=create_graph,
                allow_unused=True,
            )
        for j, (g, x) in enumerate(zip(grads, xs)):
            if g is None:
                if strict:
                    raise RuntimeError(
                        f"jacobian: output {index} is independent of input {j}; "
                        "strict=True does not allow a zero Jacobian"
                    )
                g = _new(backend.zeros(x.shape, x.dtype, like=x.data))
            rows[j].append(g)
    out = []
    for j, x in enumerate(xs):
        if n == 0:
            out.append(_new(backend.zeros(y.shape + x.shape, x.dtype, like=x.data)))
        else:
            out.append(reshape(stack(rows[j]), y.shape + x.shape))
    return out


def hessian(
    func: Callable[..., Any],
    inputs: Tensor | Sequence[Tensor],
    create_graph: bool = False,
    strict: bool = False,
) -> Any:
    """The Hessian of a scalar-valued ``func``, shaped ``input.shape + input.shape``.

    For a tuple of inputs, a tuple of tuples ``H[i][j]`` = d²f / dx_i dx_j, as in
    ``torch.autograd.functional.hessian``.
    """
    in_tuple, xs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*args: Tensor) -> tuple[Tensor, ...]:
        out = func(*args)
        if not isinstance(out, Tensor):
            raise TypeError(f"hessian: the function must return a Tensor, got {type(out).__name__}")
        if out.data.size != 1:
            raise RuntimeError(
                f"hessian: the function must return a single-element Tensor, got shape {out.shape}"
            )
        if not out.requires_grad:
            if strict:
                raise RuntimeError("hessian: the output does not depend on the inputs (strict=True)")
            return tuple(_new(backend.zeros(a.shape, a.dtype, like=a.data)) for a in args)
        gs = grad(out.reshape(()), args, create_graph=True, allow_unused=True)
        result = []
        for i, (g, a) in enumerate(zip(gs, args)):
            if g is None:
                if strict:
                    raise RuntimeError(f"hessian: the output is independent of input {i} (strict=True)")
                g = _new(backend.zeros(a.shape, a.dtype, like=a.data))
            result.append(g)
        return tuple(result)

    h = jacobian(gradient, xs, create_graph=create_graph, strict=strict)
    return h if in_tuple else h[0][0]
