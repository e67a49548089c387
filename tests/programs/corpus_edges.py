"""Corpus: ties, boundaries and the functional helpers people reach for (one_hot, normalize, pad...)."""

from __future__ import annotations

import numpy as np
from corpus_harness import Lib, outcome, program

TIES = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, -1.0]])


@program
def max_min_with_ties_split_gradients(lib: Lib) -> dict:
    out = {}
    for name, f in {
        "max_all": lambda t: t.max(),
        "min_all": lambda t: t.min(),
        "amax_dim": lambda t: t.amax(dim=1).sum(),
        "amin_dim": lambda t: t.amin(dim=0).sum(),
        "maximum": lambda t: lib.maximum(t, lib.arr(np.full((2, 3), 2.0))).sum(),
        "minimum": lambda t: lib.minimum(t, lib.arr(np.full((2, 3), 3.0))).sum(),
        "clamp_bounds": lambda t: t.clamp(2.0, 3.0).sum(),
        "relu_shifted": lambda t: (t - 2).relu().sum(),
        "abs_shifted": lambda t: (t - 2).abs().sum(),
    }.items():
        x = lib.arr(TIES, requires_grad=True)
        y = f(x)
        y.backward()
        out[name] = (y, x.grad)
    return out


@program
def max_with_dim_returns_values_and_indices(lib: Lib) -> dict:
    x = lib.arr([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], requires_grad=True)
    r = x.max(dim=1, keepdim=True)
    r.values.sum().backward()
    m = lib.max(x, 0)
    return {
        "values": r.values,
        "indices": r.indices,
        "grad": x.grad,
        "tuple": (m[0], m[1]),
        "argmin": x.argmin(1),
    }


@program
def one_hot_and_label_helpers(lib: Lib) -> dict:
    y = lib.tensor([0, 2, 1, 2])
    oh = lib.F.one_hot(y, num_classes=4)
    return {
        "one_hot": oh,
        "inferred": lib.F.one_hot(y),
        "float": oh.float().sum(0),
        "bad": outcome(lambda: lib.F.one_hot(lib.tensor([0, 5]), num_classes=3)),
    }


@program
def normalize_cosine_and_pad(lib: Lib) -> dict:
    x = lib.arr([[3.0, 4.0], [0.0, 0.0], [1.0, -1.0]], requires_grad=True)
    n = lib.F.normalize(x, dim=1)
    c = lib.F.cosine_similarity(x, lib.arr([[1.0, 0.0]]), dim=1)
    p = lib.F.pad(x, (1, 2))
    (n.sum() + c.sum() + (p * 2).sum()).backward()
    return {"n": n, "c": c, "p": p, "grad": x.grad}


@program
def norms_and_reductions_over_dim_lists(lib: Lib) -> dict:
    x = lib.arr(np.arange(24.0).reshape(2, 3, 4) - 10, requires_grad=True)
    outs = [
        x.sum(dim=(0, 2)),
        x.mean(dim=[0]),
        x.norm(),
        x.norm(dim=1),
        x.norm(p=1, dim=(1, 2)),
        x.logsumexp(dim=-1),
        x.var(dim=(0, 1), keepdim=True),
    ]
    sum(o.sum() for o in outs).backward()
    return {"outs": outs, "grad": x.grad}


@program
def functional_linear_and_embedding(lib: Lib) -> dict:
    rng = np.random.default_rng(31)
    x = lib.arr(rng.standard_normal((2, 3)), requires_grad=True)
    w = lib.arr(rng.standard_normal((4, 3)), requires_grad=True)
    b = lib.arr(rng.standard_normal(4), requires_grad=True)
    table = lib.arr(rng.standard_normal((5, 2)), requires_grad=True)
    y = lib.F.linear(x, w, b)
    e = lib.F.embedding(lib.tensor([4, 0, 4]), table)
    (y.sum() + (e**2).sum()).backward()
    return {"y": y, "e": e, "gx": x.grad, "gw": w.grad, "gb": b.grad, "gt": table.grad}


@program
def autograd_grad_options(lib: Lib) -> dict:
    x = lib.arr([1.0, 2.0], requires_grad=True)
    z = lib.arr([3.0], requires_grad=True)
    y = x**2
    (gx,) = lib.autograd.grad(y, x, grad_outputs=lib.arr([1.0, 0.5]), retain_graph=True)
    unused = lib.autograd.grad(y.sum(), [x, z], allow_unused=True, retain_graph=True)
    refused = outcome(lambda: lib.autograd.grad(y.sum(), [x, z], retain_graph=True))
    w = (x * 3).sum() + (z * 2).sum()
    w.backward(inputs=[z])
    return {
        "gx": gx,
        "unused": (unused[0], unused[1] is None),
        "refused": refused,
        "only_z": (x.grad is None, z.grad),
    }


@program
def inplace_on_parameter_slices_under_no_grad(lib: Lib) -> dict:
    w = lib.arr(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (w**2).sum().backward()
    with lib.no_grad():
        w[0] -= 0.1 * w.grad[0]
        w[:, 2] *= 0.5
        w[w > 3] = 3.0
    (w * 2).sum().backward()
    return {"w": w, "grad": w.grad, "leaf": w.is_leaf}


@program
def detach_inplace_and_requires_grad_toggle(lib: Lib) -> dict:
    x = lib.arr([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.detach_()
    x.requires_grad_(False)
    z = x * 3
    x.requires_grad_(True)
    w = (x * 4).sum()
    w.backward()
    return {"y_rg": y.requires_grad, "y_leaf": y.is_leaf, "z_rg": z.requires_grad, "grad": x.grad}
