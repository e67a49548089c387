"""Linear algebra: matmul (1-D, 2-D and batched with broadcasting), dot, outer, einsum."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.function import Function
from chainrule.ops.shape import reshape
from chainrule.tensor import Tensor, _new

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"  # string.ascii_letters, without the import


class MatMul(Function):
    """``a @ b`` with NumPy's rules: a 1-d operand is a row (left) or a column (right) for the product."""

    rule_takes_arrays = True

    def forward(self, a, b):
        return np.matmul(a, b)

    def backward(self, gy):
        a, b = self.inputs_like(gy)
        need_a, need_b = self.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:  # a dot product
            return (gy * b if need_a else None), (gy * a if need_b else None)
        # Treat 1-d operands as matrices (a row on the left, a column on the right), and gy to match.
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        g = gy
        if a.ndim == 1:
            g = g.reshape((*g.shape[:-1], 1, g.shape[-1]))
        if b.ndim == 1:
            g = g.reshape((*g.shape, 1))
        ga = g @ b2.mT if need_a else None
        gb = a2.mT @ g if need_b else None
        if ga is not None and a.ndim == 1:  # drop the row axis again (batch axes are summed by the engine)
            ga = ga.reshape(ga.shape[:-2] + ga.shape[-1:])
        if gb is not None and b.ndim == 1:
            gb = gb.reshape(gb.shape[:-1])
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
    da, db = a.data.dtype, b.data.dtype
    if da is not db and da != db:
        raise _dtype_mismatch("matmul", [a, b])
    return MatMul()(a, b)


def mm(a: Any, b: Any) -> Tensor:
    """The product of two matrices (2-D only, as ``torch.mm``; ``matmul`` broadcasts)."""
    a = a if isinstance(a, Tensor) else Tensor(a)
    b = b if isinstance(b, Tensor) else Tensor(b)
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expects two matrices (2-D), got shapes {a.shape} and {b.shape}")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mm: shapes {a.shape} and {b.shape} cannot be multiplied ({a.shape[1]} != {b.shape[0]})"
        )
    return matmul(a, b)


def bmm(a: Any, b: Any) -> Tensor:
    """Batched matrix product of (B, n, k) and (B, k, p), as ``torch.bmm`` (no broadcasting).

    >>> import chainrule as cr
    >>> cr.bmm(cr.ones(4, 2, 3), cr.ones(4, 3, 5)).shape
    (4, 2, 5)
    """
    a = a if isinstance(a, Tensor) else Tensor(a)
    b = b if isinstance(b, Tensor) else Tensor(b)
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"bmm: expects two 3-D tensors (batch, n, k), got shapes {a.shape} and {b.shape}")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(
            f"bmm: shapes {a.shape} and {b.shape} do not fit: expected the second as "
            f"({a.shape[0]}, {a.shape[2]}, p)"
        )
    return matmul(a, b)


def _dtype_mismatch(op: str, ts: list[Tensor]) -> RuntimeError:
    """torch's error for a matrix product of different dtypes (it does not promote), naming shapes too."""
    operands = ", ".join(f"{t.data.dtype} (shape {t.shape})" for t in ts)
    return RuntimeError(
        f"{op}: expected all operands to have the same dtype, but got {operands}; "
        "convert one with .to(dtype), e.g. .float() or .double(), first"
    )


def dot(a: Tensor, b: Tensor) -> Tensor:
    """The inner product of two 1-D tensors of the same length (``torch.dot``)."""
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"dot: expects two 1-D tensors, got shapes {a.shape} and {b.shape}")
    if a.shape != b.shape:
        raise ValueError(f"dot: the two tensors need the same size, got shapes {a.shape} and {b.shape}")
    return matmul(a, b)


def outer(a: Tensor, b: Tensor) -> Tensor:
    """The outer product of two 1-D tensors: shape ``(len(a), len(b))`` (``torch.outer``)."""
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
    """Einstein summation (``'ij,jk->ik'``), as ``torch.einsum``; the backward is itself an einsum.

    ``...`` stands for the leading (or in-between) dimensions not named by letters; they broadcast across
    operands like NumPy batch dimensions, and so do named dimensions of size 1. Without ``->`` the output is
    the ``...`` dimensions, then the letters used once, in alphabetical order (capitals first).

    >>> import chainrule as cr
    >>> a, b = cr.ones(5, 1, 2, 3), cr.ones(4, 3, 2)
    >>> cr.einsum('...ij,...jk->...ik', a, b).shape
    (5, 4, 2, 2)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ts = [t if isinstance(t, Tensor) else Tensor(t) for t in operands]
    subs, out, spare = _parse_einsum(equation, [t.shape for t in ts])
    first = ts[0].data.dtype if ts else None
    if any(t.data.dtype is not first and t.data.dtype != first for t in ts):
        raise _dtype_mismatch("einsum", ts)
    ts = _broadcast_operands(equation, subs, ts, spare)
    return Einsum(subs, out)(*ts)


def _parse_einsum(equation: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str, str]:
    """The input subscripts with ``...`` spelled out as letters the equation does not use, the output
    subscripts (the implicit output when there is no ``->``), and the letters that stand for ``...``."""
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    if "->" in out:
        raise ValueError(f"einsum: {equation!r} has more than one '->'")
    subs = lhs.split(",")
    if len(subs) != len(shapes):
        raise ValueError(f"einsum: {equation!r} names {len(subs)} operands but {len(shapes)} were given")
    for part in [*subs, out]:
        bad = set(part.replace("...", "")) - set(_LETTERS)
        if bad or part.count("...") > 1:
            what = f"{sorted(bad)[0]!r}" if bad else "'...' twice"
            raise ValueError(f"einsum: invalid subscripts {part!r} in {equation!r} (found {what})")
    n_ellipsis = 0
    for s, shape in zip(subs, shapes):
        named = len(s.replace("...", ""))
        if "..." in s:
            if named > len(shape):
                raise ValueError(
                    f"einsum: subscripts {s!r} name {named} dimensions, more than the {len(shape)} of an "
                    f"operand of shape {shape}"
                )
            n_ellipsis = max(n_ellipsis, len(shape) - named)
        elif named != len(shape):
            raise ValueError(f"einsum: subscripts {s!r} do not match an operand of shape {shape}")
    if n_ellipsis:
        unused = [c for c in _LETTERS if c not in eq]
        if len(unused) < n_ellipsis:
            raise ValueError(f"einsum: {equation!r} has too many dimensions for 52 subscript letters")
        spare = "".join(unused[:n_ellipsis])
        subs = [
            s.replace("...", spare[n_ellipsis - (len(shape) - len(s) + 3) :]) if "..." in s else s
            for s, shape in zip(subs, shapes)
        ]
    else:
        spare = ""
        subs = [s.replace("...", "") for s in subs]
    letters = "".join(subs)
    if arrow:
        out = out.replace("...", spare)
        for c in out:
            if out.count(c) > 1:
                raise ValueError(f"einsum: output subscript {c!r} appears more than once in {equation!r}")
            if c not in letters:
                raise ValueError(f"einsum: output subscript {c!r} of {equation!r} is in no input")
    else:
        named = letters.translate({ord(c): None for c in spare})
        out = spare + "".join(sorted(c for c in set(named) if named.count(c) == 1))
    return subs, out, spare


def _broadcast_operands(equation: str, subs: list[str], ts: list[Tensor], spare: str) -> list[Tensor]:
    """Operands with every dimension of size 1 broadcast to its subscript's size in the other operands (as
    torch does, for ``...`` and named dimensions alike); a ValueError naming the shapes where sizes clash."""
    from chainrule.ops.shape import broadcast_to  # noqa: PLC0415

    size: dict[str, tuple[int, int]] = {}  # letter -> (its size other than 1, the operand that has it)
    for i, (s, t) in enumerate(zip(subs, ts)):
        for c, n in zip(s, t.shape):
            if s.count(c) > 1 and len({m for d, m in zip(s, t.shape) if d == c}) > 1:
                raise _size_clash(equation, c, ts, i, i, spare)
            seen = size.get(c)
            if seen is None or (seen[0] == 1 and n != 1):
                size[c] = (n, i)
            elif n not in (1, seen[0]):
                raise _size_clash(equation, c, ts, seen[1], i, spare)
    out = []
    for s, t in zip(subs, ts):
        target = tuple(size[c][0] for c in s)
        out.append(t if target == t.shape else broadcast_to(t, target))
    return out


def _size_clash(equation: str, c: str, ts: list[Tensor], i: int, j: int, spare: str) -> ValueError:
    where = f"operand {i} of shape {ts[i].shape}"
    if i != j:
        where += f" and operand {j} of shape {ts[j].shape}"
    what = f"subscript {c!r}" if c not in spare else f"'...' dimension {spare.index(c) - len(spare)}"
    return ValueError(f"Einsum: {what} of {equation!r} has sizes that neither match nor broadcast: {where}")
