"""Random programs of 2-8 ops (unary, broadcasting binary, reductions over random dims, reshapes and
transposes) give the same values and gradients as torch in float64."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr


class Lib:
    def __init__(self, mod: Any) -> None:
        self.mod, self.is_torch = mod, mod is not cr

    def leaf(self, a: np.ndarray) -> Any:
        if self.is_torch:
            return self.mod.tensor(a, dtype=self.mod.float64, requires_grad=True)
        return cr.tensor(a, dtype="float64", requires_grad=True)

    def softplus(self, x: Any) -> Any:
        if self.is_torch:
            return self.mod.nn.functional.softplus(x)
        return cr.softplus(x)

    def maximum(self, a: Any, b: Any) -> Any:
        return self.mod.maximum(a, b)

    def numpy(self, t: Any) -> np.ndarray:
        return t.detach().numpy() if self.is_torch else np.asarray(t.data)


UNARY = {
    "tanh": lambda L, x: x.tanh(),
    "sin": lambda L, x: x.sin(),
    "sigmoid": lambda L, x: x.sigmoid(),
    "exp_tanh": lambda L, x: x.tanh().exp(),
    "softplus": lambda L, x: L.softplus(x),
    "hypot1": lambda L, x: (x * x + 1).sqrt(),
    "log1p_sq": lambda L, x: (x * x).log1p(),
    "neg": lambda L, x: -x,
    "cube": lambda L, x: x**3,
    "affine": lambda L, x: 0.5 * x - 1.5,
}
BINARY = {
    "add": lambda L, a, b: a + b,
    "sub": lambda L, a, b: a - b,
    "rsub": lambda L, a, b: b - a,
    "mul": lambda L, a, b: a * b,
    "div": lambda L, a, b: a / (b * b + 1),
    "maximum": lambda L, a, b: L.maximum(a, b),
}
REDUCE = {
    "sum": lambda x, dims, keep: x.sum(dim=dims, keepdim=keep),
    "mean": lambda x, dims, keep: x.mean(dim=dims, keepdim=keep),
    "amax": lambda x, dims, keep: x.amax(dim=dims, keepdim=keep),
    "logsumexp": lambda x, dims, keep: x.logsumexp(dim=dims, keepdim=keep),
    "var": lambda x, dims, keep: x.var(dim=dims, keepdim=keep),
}


def _broadcasts(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


@st.composite
def programs(draw: st.DrawFn, max_ops: int = 8) -> tuple[list[np.ndarray], list[tuple], np.ndarray]:
    """Leaves (mutually broadcastable shapes), a list of steps, and the seed gradient for the output."""
    shapes = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=4)
    ).input_shapes
    elements = st.floats(-2, 2, allow_nan=False, allow_infinity=False, width=64)
    leaves = [draw(hnp.arrays(np.float64, s, elements=elements)) for s in shapes]
    pool = list(shapes)  # shapes of the values built so far (leaves first)
    cur = draw(st.integers(0, len(pool) - 1))
    steps: list[tuple] = [("start", cur)]
    shape = pool[cur]
    for _ in range(draw(st.integers(2, max_ops))):
        kinds = ["unary", "binary"] + (["reduce", "shape"] if len(shape) else ["shape"])
        kind = draw(st.sampled_from(kinds))
        if kind == "unary":
            steps.append(("unary", draw(st.sampled_from(sorted(UNARY)))))
        elif kind == "binary":
            partners = [i for i, s in enumerate(pool) if _broadcasts(shape, s)]
            other = draw(st.sampled_from(partners))
            steps.append(("binary", draw(st.sampled_from(sorted(BINARY))), other))
            shape = np.broadcast_shapes(shape, pool[other])
        elif kind == "reduce":
            name = draw(st.sampled_from(sorted(REDUCE)))
            dims = tuple(sorted(draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
            dims = tuple(d - len(shape) if draw(st.booleans()) else d for d in dims)  # negative dims too
            keep = draw(st.booleans())
            if name == "var" and int(np.prod([shape[d] for d in dims])) < 2:
                name = "sum"  # the variance of one element divides by zero (in both libraries)
            steps.append(("reduce", name, dims, keep))
            axes = {d % len(shape) for d in dims}
            shape = tuple(1 if i in axes else n for i, n in enumerate(shape) if keep or i not in axes)
        else:
            op = draw(st.sampled_from(["flatten", "reverse", "permute", "unsqueeze", "squeeze", "T"]))
            if op == "flatten":
                steps.append(("reshape", (-1,)))
                shape = (int(np.prod(shape, dtype=int)),)
            elif op == "reverse":
                steps.append(("reshape", shape[::-1]))
                shape = shape[::-1]
            elif op == "permute":
                perm = tuple(draw(st.permutations(range(len(shape)))))
                steps.append(("permute", perm))
                shape = tuple(shape[p] for p in perm)
            elif op == "unsqueeze":
                d = draw(st.integers(-len(shape) - 1, len(shape)))
                steps.append(("unsqueeze", d))
                shape = list(shape)
                shape.insert(d % (len(shape) + 1), 1)
                shape = tuple(shape)
            elif op == "squeeze":
                steps.append(("squeeze",))
                shape = tuple(s for s in shape if s != 1)
            else:
                steps.append(("transpose",))
                shape = shape[:-2] + shape[-2:][::-1] if len(shape) >= 2 else shape
        pool.append(shape)
    seed = draw(hnp.arrays(np.float64, shape, elements=elements))
    return leaves, steps, seed


def run(L: Lib, leaves: list[np.ndarray], steps: list[tuple], seed: np.ndarray) -> tuple[np.ndarray, list]:
    xs = [L.leaf(a) for a in leaves]
    values = list(xs)
    cur = values[steps[0][1]]
    for step in steps[1:]:
        kind = step[0]
        if kind == "unary":
            cur = UNARY[step[1]](L, cur)
        elif kind == "binary":
            cur = BINARY[step[1]](L, cur, values[step[2]])
        elif kind == "reduce":
            cur = REDUCE[step[1]](cur, step[2], step[3])
        elif kind == "reshape":
            cur = cur.reshape(step[1])
        elif kind == "permute":
            cur = cur.permute(step[1])
        elif kind == "unsqueeze":
            cur = cur.unsqueeze(step[1])
        elif kind == "squeeze":
            cur = cur.squeeze()
        elif kind == "transpose":
            cur = cur.transpose(-2, -1) if cur.ndim >= 2 else cur
        values.append(cur)
    out = L.numpy(cur)
    grad = L.mod.tensor(seed, dtype=L.mod.float64) if L.is_torch else cr.tensor(seed, dtype="float64")
    cur.backward(grad)
    return out, [None if x.grad is None else L.numpy(x.grad) for x in xs]


def check(leaves: list[np.ndarray], steps: list[tuple], seed: np.ndarray) -> None:
    import torch

    ref_out, ref_grads = run(Lib(torch), leaves, steps, seed)
    assume(np.isfinite(ref_out).all() and all(g is None or np.isfinite(g).all() for g in ref_grads))
    with np.errstate(all="ignore"):
        out, grads = run(Lib(cr), leaves, steps, seed)
    np.testing.assert_allclose(out, ref_out, rtol=1e-9, atol=1e-12, err_msg=f"values of {steps}")
    for i, (g, ref) in enumerate(zip(grads, ref_grads)):
        if ref is None:
            assert g is None or not np.any(g), f"leaf {i} gets a gradient torch does not give: {steps}"
        else:
            assert g is not None, f"leaf {i} got no gradient: {steps}"
            np.testing.assert_allclose(g, ref, rtol=1e-8, atol=1e-10, err_msg=f"grad of leaf {i}: {steps}")


@settings(max_examples=40)
@given(programs())
def test_random_programs_match_torch(program: tuple) -> None:
    check(*program)


@pytest.mark.deep
@settings(max_examples=3000)
@given(programs())
def test_random_programs_match_torch_deep(program: tuple) -> None:
    check(*program)
