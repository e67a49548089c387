"""Corpus: Tensor methods people call without thinking, and the ops at their edges."""

from __future__ import annotations

import numpy as np
from corpus_harness import Lib, outcome, program, warned

A = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -1.5]])
B = np.array([[1.0, 2.0, 3.0], [-0.5, 0.0, -1.5]])


@program
def comparison_methods(lib: Lib) -> dict:
    a, b = lib.arr(A), lib.arr(B)
    return {
        "eq": a.eq(b),
        "ne": a.ne(b),
        "lt": a.lt(b),
        "le": a.le(b),
        "gt": a.gt(0),
        "ge": a.ge(0.5),
        "ops": [a == b, a != b, a < b, a <= b, a > b, a >= b],
        "dtype": (a == b).dtype,
        "equal": lib.equal(a, a.clone()),
    }


@program
def logical_methods(lib: Lib) -> dict:
    a, b = lib.arr(A), lib.arr(B)
    p, q = a > 0, b > 0
    return {
        "and": p.logical_and(q),
        "or": p.logical_or(q),
        "not": p.logical_not(),
        "xor": p.logical_xor(q),
        "on_floats": a.logical_and(b),
        "fn": lib.logical_not(a),
        "ops": [p & q, p | q, ~p],
    }


@program
def softmax_and_log_softmax_methods(lib: Lib) -> dict:
    x = lib.arr(A, requires_grad=True)
    s = x.softmax(dim=1)
    ls = x.log_softmax(-1)
    s0 = x.softmax(0)
    (s[:, 0].sum() + ls[1, 2] + s0[0, 1]).backward()
    return {"s": s, "ls": ls, "s0": s0, "grad": x.grad, "rows_sum": s.sum(1)}


@program
def allclose_and_isclose(lib: Lib) -> dict:
    a = lib.arr([1.0, 2.0, float("nan")])
    b = lib.arr([1.0 + 1e-9, 2.0, float("nan")])
    return {
        "method": a[:2].allclose(b[:2]),
        "fn": lib.allclose(a[:2], b[:2] + 1e-3),
        "nan": a.allclose(b),
        "nan_eq": a.allclose(b, equal_nan=True),
        "isclose": a.isclose(b),
        "type": type(a.allclose(b)).__name__,
    }


@program
def std_var_positional_unbiased(lib: Lib) -> dict:
    x = lib.arr(A, requires_grad=True)
    outs = [
        x.std(False),
        x.var(False),
        x.std(),
        x.var(),
        x.std(1),
        x.var(0, keepdim=True),
        x.std(dim=1, unbiased=False),
    ]
    sum(o.sum() for o in outs).backward()
    return {"outs": outs, "grad": x.grad}


@program
def std_var_correction_keyword(lib: Lib) -> dict:
    x = lib.arr(A)
    return {"c0": x.var(correction=0), "c2": x.std(dim=1, correction=2), "mean": x.mean((0, 1))}


@program
def masked_fill_tensor_value_gradient(lib: Lib) -> dict:
    x = lib.arr(A, requires_grad=True)
    v = lib.arr(5.0, requires_grad=True)
    mask = lib.tensor(A > 0)
    y = x.masked_fill(mask, v)
    (y * lib.arr(np.arange(6.0).reshape(2, 3))).sum().backward()
    z = lib.arr(A).masked_fill(~mask, float("-inf")).softmax(-1)
    return {"y": y, "gx": x.grad, "gv": v.grad, "z": z}


@program
def hardtanh_relu6_at_clip_points(lib: Lib) -> dict:
    x = lib.arr([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 6.0, 7.0], requires_grad=True)
    (lib.F.hardtanh(x) * 2 + lib.F.relu6(x) * 3).sum().backward()
    g1 = x.grad.clone()
    x.grad = None
    lib.F.hardtanh(x, -0.5, 0.5).sum().backward()
    g2 = x.grad.clone()
    x.grad = None
    (lib.nn.ReLU6()(x) + lib.nn.Hardtanh()(x)).sum().backward()
    return {"g1": g1, "g2": g2, "g3": x.grad, "relu_at_0": _grad(lib, lambda t: t.relu(), 0.0)}


def _grad(lib: Lib, f, at: float):  # noqa: ANN001, ANN202
    x = lib.arr(at, requires_grad=True)
    f(x).backward()
    return x.grad


@program
def rsqrt_sqrt_log_edges(lib: Lib) -> dict:
    edges = [float("-inf"), -1.0, 0.0, 1e-300, 4.0, float("inf"), float("nan")]
    x = lib.arr(edges, requires_grad=True)
    y = x.rsqrt()
    y.sum().backward()
    return {
        "rsqrt": y,
        "grad": x.grad,
        "sqrt": lib.arr(edges).sqrt(),
        "log": lib.arr(edges).log(),
        "fn": lib.rsqrt(lib.arr(edges)),
    }


@program
def softmax_without_dim_warns(lib: Lib) -> dict:
    x3 = lib.arr(np.arange(24.0).reshape(2, 3, 4) / 10)
    x2 = lib.arr(A)
    v3, w3 = warned(lambda: lib.F.softmax(x3), "dim")
    v2, w2 = warned(lambda: lib.F.log_softmax(x2), "dim")
    v1, w1 = warned(lambda: lib.F.softmax(lib.arr([1.0, 2.0])), "dim")
    return {"v3": v3, "w3": w3, "v2": v2, "w2": w2, "v1": v1, "w1": w1}


@program
def reductions_and_argmax(lib: Lib) -> dict:
    x = lib.arr(A, requires_grad=True)
    mx = x.max()
    vals, idx = x.max(dim=1)
    amax = x.argmax(1)
    (mx + vals.sum() + x.min(0).values.sum() + x.amax(1).sum()).backward()
    return {"mx": mx, "vals": vals, "idx": idx, "argmax": amax, "argmax_all": x.argmax(), "grad": x.grad}


@program
def clamp_and_where(lib: Lib) -> dict:
    x = lib.arr([-2.0, -1.0, 0.0, 1.0, 2.0], requires_grad=True)
    y = x.clamp(-1.0, 1.0) + lib.where(x > 0, x * 2, x * -3) + x.clamp(min=0.0)
    y.sum().backward()
    return {"y": y, "grad": x.grad}


@program
def shape_methods(lib: Lib) -> dict:
    x = lib.arr(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    y = x.permute(2, 0, 1).reshape(4, -1).transpose(0, 1).unsqueeze(0).squeeze(0).flatten()
    (y * lib.arr(np.arange(24.0))).sum().backward()
    return {
        "y": y,
        "grad": x.grad,
        "size": x.size(),
        "size1": x.size(1),
        "shape": x.shape,
        "dim": x.dim(),
        "numel": x.numel(),
        "view": x.view(6, 4).shape,
        "view_bad": outcome(lambda: x.view(5, 5)),
    }


@program
def dtype_conversions(lib: Lib) -> dict:
    x = lib.arr([1.7, -2.2])
    return {
        "float": x.float().dtype,
        "long": x.long(),
        "int": x.int(),
        "bool": x.bool(),
        "to": x.to(lib.float32).dtype,
        "half": x.half().dtype,
        "default": lib.tensor([1.0]).dtype,
        "int_default": lib.tensor([1]).dtype,
        "mixed": (lib.tensor([1, 2]) + 0.5).dtype,
        "div": (lib.tensor([1, 2]) / 2).dtype,
    }


@program
def dtype_names(lib: Lib) -> dict:
    names = ["float16", "float32", "float64", "half", "float", "double", "int8", "uint8", "int16", "int32"]
    names += ["int64", "int", "long", "bool", "short", "complex64"]  # not bfloat16: NumPy has none
    present = {n: hasattr(lib, n) for n in names}
    made = {n: lib.tensor([1, 0], dtype=getattr(lib, n)).dtype for n in names if present[n]}
    return {"present": present, "made": made}
