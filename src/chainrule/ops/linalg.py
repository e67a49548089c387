"""Linear algebra: matmul (1-D, 2-D and batched with broadcasting), dot, outer, einsum."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.function import Function
from chainrule.ops.shape import reshape, transpose, unsqueeze
from chainrule.tensor import Tensor, _new

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"  # string.ascii_letters, without the import


class MatMul(Function):
    def forward(self, a, b):
        return np.matmul(a, b)

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:
            return (gy * b if need_a else None), (gy * a if need_b else None)
        a2 = unsqueeze(a, 0) if a.ndim == 1 else a
        b2 = unsqueeze(b, -1) if b.ndim == 1 else b
        g = gy
        if a.ndim == 1:
            g = unsqueeze(g, -2)
        if b.ndim == 1:
            g = unsqueeze(g, -1)
        ga = matmul(g, transpose(b2, -1, -2)) if need_a else None
        gb = matmul(transpose(a2, -1, -2), g) if need_b else None
        if ga is not None and a.ndim == 1:
            ga = reshape(ga, ga.shape[:-2] + ga.shape[-1:])
        if gb is not None and b.ndim == 1:
            gb = reshape(gb, gb.shape[:-1])
        return ga, gb

    def _backward_arrays(self, gy):
        a, b = self.inputs
        if a.data.ndim < 2 or b.data.ndim < 2:
            return self.backward(_new(gy))
        need_a, need_b = self.needs_input_grad
        ga = np.matmul(gy, b.data.swapaxes(-1, -2)) if need_a else None
        gb = np.matmul(a.data.swapaxes(-1, -2), gy) if need_b else None
        return ga, gb


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics (1-D operands, broadcast batch dims)."""
    a = a if isinstance(a, Tensor) else Tensor(a)
    b = b if isinstance(b, Tensor) else Tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}"
        )
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned ({ka} != {kb})")
    return MatMul()(a, b)


mm = matmul


def dot(a: Tensor, b: Tensor) -> Tensor:
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"dot: expects two 1-D tensors, got shapes {a.shape} and {b.shape}")
    if a.shape != b.shape:
        raise ValueError(f"dot: the two tensors need the same size, got shapes {a.shape} and {b.shape}")
    return matmul(a, b)


def outer(a: Tensor, b: Tensor) -> Tensor:
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"outer: expects two 1-D tensors, got shapes {a.shape} and {b.shape}")
    return reshape(a, (-1, 1)) * reshape(b, (1, -1))


class Einsum(Function):
    uses_inputs = True

    def __init__(self, inputs_subs: list[str], out_subs: str):
        self.inputs_subs, self.out_subs = inputs_subs, out_subs

    def forward(self, *xs):
        spec = ",".join(self.inputs_subs) + "->" + self.out_subs
        return np.einsum(spec, *xs, optimize=len(xs) > 2)

    def backward(self, gy):
        grads = []
        for i, subs in enumerate(self.inputs_subs):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [(s, t) for j, (s, t) in enumerate(zip(self.inputs_subs, self.inputs)) if j != i]
            available = set(self.out_subs).union(*[set(s) for s, _ in others])
            kept = "".join(c for c in dict.fromkeys(subs) if c in available)
            g = einsum(
                ",".join([self.out_subs] + [s for s, _ in others]) + "->" + kept, gy, *[t for _, t in others]
            )
            x = self.inputs[i]
            if kept != subs:
                g = _expand_subscripts(g, kept, subs, x.shape)
            grads.append(g)
        return tuple(grads)


def _expand_subscripts(g: Tensor, kept: str, subs: str, shape: tuple[int, ...]) -> Tensor:
    """Give a gradient over the letters ``kept`` the input's subscripts ``subs``: letters summed out within
    this operand are broadcast back; a repeated letter (a diagonal, as in ``'ii->i'``) goes on a diagonal."""
    from chainrule.ops.shape import broadcast_to  # noqa: PLC0415

    size = {c: shape[i] for i, c in enumerate(subs)}
    unique = "".join(dict.fromkeys(subs))  # ``kept`` lists a subset of these, in this order
    if kept != unique:
        g = reshape(g, tuple(size[c] if c in kept else 1 for c in unique))
        g = broadcast_to(g, tuple(size[c] for c in unique))
    if unique == subs:
        return g
    free = iter(c for c in _LETTERS if c not in subs)
    out, eyes, seen = [], [], set()
    for c in subs:
        if c in seen:
            d = next(free)
            out.append(d)
            eyes.append((c + d, size[c]))
        else:
            seen.add(c)
            out.append(c)
    equation = ",".join([unique] + [s for s, _ in eyes]) + "->" + "".join(out)
    eye = [_new(backend.to_device_of(np.eye(n, dtype=g.dtype), g.data)) for _, n in eyes]
    return einsum(equation, g, *eye)


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation (``'ij,jk->ik'``); the backward is itself an einsum."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ts = [t if isinstance(t, Tensor) else Tensor(t) for t in operands]
    eq = equation.replace(" ", "")
    if "." in eq:
        raise NotImplementedError("einsum: ellipsis ('...') is not supported; spell out the dimensions")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs = eq
        letters = re.sub(r"[^a-zA-Z]", "", lhs)
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    subs = lhs.split(",")
    if len(subs) != len(ts):
        raise ValueError(f"einsum: {equation!r} names {len(subs)} operands but {len(ts)} were given")
    for s, t in zip(subs, ts):
        if len(s) != t.ndim:
            raise ValueError(f"einsum: subscripts {s!r} do not match an operand of shape {t.shape}")
    return Einsum(subs, out)(*ts)
