"""Corpus: custom functions (torch style; DeZero style against a torch-style twin), hooks, retain_grad."""

from __future__ import annotations

import numpy as np
from corpus_harness import Lib, outcome, program


def _torch_style_exp(lib: Lib):  # noqa: ANN202
    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):  # noqa: ANN001, ANN205
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, gy):  # noqa: ANN001, ANN205
            (y,) = ctx.saved_tensors
            return gy * y

    return Exp


@program
def autograd_function_torch_style(lib: Lib) -> dict:
    exp = _torch_style_exp(lib)
    x = lib.arr([0.0, 0.5, -1.0], requires_grad=True)
    y = exp.apply(x)
    (y * lib.arr([1.0, 2.0, 3.0])).sum().backward()
    return {"y": y, "grad": x.grad, "rg": y.requires_grad, "has_fn": y.grad_fn is not None}


@program
def autograd_function_two_inputs_needs_input_grad(lib: Lib) -> dict:
    class MulAdd(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, c):  # noqa: ANN001, ANN205
            ctx.save_for_backward(a, b)
            ctx.c = c
            return a * b + c

        @staticmethod
        def backward(ctx, g):  # noqa: ANN001, ANN205
            a, b = ctx.saved_tensors
            ga = g * b if ctx.needs_input_grad[0] else None
            gb = g * a if ctx.needs_input_grad[1] else None
            return ga, gb, None

    a = lib.arr([1.0, 2.0], requires_grad=True)
    b = lib.arr([3.0, -1.0])
    y = MulAdd.apply(a, b, 0.5)
    y.sum().backward()
    return {"y": y, "ga": a.grad, "b_grad_none": b.grad is None}


@program
def autograd_function_under_no_grad(lib: Lib) -> dict:
    exp = _torch_style_exp(lib)
    x = lib.arr([1.0], requires_grad=True)
    with lib.no_grad():
        y = exp.apply(x)
    return {"y": y, "rg": y.requires_grad}


@program
def dezero_style_function_matches_torch_twin(lib: Lib) -> dict:
    """chainrule's DeZero-style ``Function`` (chainrule only) against torch's ``autograd.Function`` twin."""
    x = lib.arr([0.3, -1.2, 2.0], requires_grad=True)
    if lib.is_torch:

        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, t):  # noqa: ANN001, ANN205
                ctx.save_for_backward(t)
                return t**2

            @staticmethod
            def backward(ctx, gy):  # noqa: ANN001, ANN205
                (t,) = ctx.saved_tensors
                return 2 * t * gy

        y = Square.apply(x)
    else:

        class Square(lib.Function):
            def forward(self, t):  # noqa: ANN001, ANN202
                return t**2

            def backward(self, gy):  # noqa: ANN001, ANN202
                return 2 * self.inputs[0] * gy

        y = Square()(x)
    (y.exp()).sum().backward()
    return {"y": y, "grad": x.grad}


@program
def dezero_cleargrad_unchain_retain_grad(lib: Lib) -> dict:
    """DeZero's ``cleargrad``, ``backward(retain_grad=True)``, ``unchain_backward`` vs torch's spellings."""
    x = lib.arr([1.0, 2.0], requires_grad=True)
    a = x * 3
    b = a.exp().sum()
    if lib.is_torch:
        a.retain_grad()
        b.backward()
    else:
        b.backward(retain_grad=True)
    ga, gx = a.grad.clone(), x.grad.clone()
    c = x * 2
    if lib.is_torch:
        x.grad = None
        a = a.detach()
        c.detach_()
    else:
        x.cleargrad()
        b.unchain_backward()
        c.unchain()
    return {
        "ga": ga,
        "gx": gx,
        "cleared": x.grad is None,
        "a_cut": a.grad_fn is None,
        "c_cut": c.grad_fn is None,
    }


@program
def register_hook_and_remove(lib: Lib) -> dict:
    x = lib.arr([1.0, 2.0, 3.0], requires_grad=True)
    seen = []
    h1 = x.register_hook(lambda g: seen.append(g.clone()))
    h2 = x.register_hook(lambda g: g * 2)
    (x**2).sum().backward()
    first = x.grad.clone()
    h2.remove()
    x.grad = None
    (x**2).sum().backward()
    h1.remove()
    x.grad = None
    (x**2).sum().backward()
    return {"first": first, "second": x.grad, "seen": seen, "calls": len(seen)}


@program
def hook_on_intermediate(lib: Lib) -> dict:
    x = lib.arr([1.0, -1.0], requires_grad=True)
    y = x * 2
    grads = []
    y.register_hook(lambda g: grads.append(g))
    z = (y**3).sum()
    z.backward()
    return {"hooked": grads, "grad": x.grad, "y_grad_none": y.grad is None}


@program
def retain_grad_on_intermediate(lib: Lib) -> dict:
    x = lib.arr([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    h = x.tanh()
    h.retain_grad()
    loss = (h * lib.arr([[1.0, -1.0], [2.0, 0.5]])).sum()
    loss.backward()
    return {"h_grad": h.grad, "x_grad": x.grad, "retains": h.retains_grad, "leaf_retains": x.retains_grad}


@program
def non_leaf_grad_access_warns(lib: Lib) -> dict:
    x = lib.arr([1.0], requires_grad=True)
    y = x * 2
    y.sum().backward()
    return {"y_grad_none": y.grad is None}


@program
def inplace_on_leaf_outside_no_grad_refused(lib: Lib) -> dict:
    w = lib.arr([1.0, 2.0], requires_grad=True)

    def isub() -> None:
        nonlocal w
        w -= 1.0

    return {
        "isub": outcome(isub),
        "add_": outcome(lambda: w.add_(1.0)),
        "setitem": outcome(lambda: w.__setitem__(0, 5.0)),
        "zero_": outcome(lambda: w.zero_()),
        "unchanged": w,
        "version": w._version,
    }


@program
def inplace_on_saved_tensor_detected(lib: Lib) -> dict:
    x = lib.arr([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    z = y.exp()
    w = (y * y).sum()
    y.add_(1.0)
    return {"raises": outcome(lambda: w.backward()), "z": z}


@program
def autograd_grad_function(lib: Lib) -> dict:
    x = lib.arr([0.5, 1.5], requires_grad=True)
    y = (x**3).sum()
    (g,) = lib.autograd.grad(y, x, create_graph=True)
    (gg,) = lib.autograd.grad(g.sum(), x)
    return {"g": g, "gg": gg, "x_grad_none": x.grad is None}


@program
def backward_on_non_scalar_needs_gradient(lib: Lib) -> dict:
    x = lib.arr([1.0, 2.0], requires_grad=True)
    y = x * 2
    r = outcome(lambda: y.backward())
    y.backward(lib.arr([1.0, 0.5]))
    c = lib.arr([1.0])
    return {"raises": r, "grad": x.grad, "no_grad_raises": outcome(lambda: (c * 2).sum().backward())}


@program
def detach_shares_and_detach_inplace(lib: Lib) -> dict:
    x = lib.arr(np.array([1.0, 2.0]), requires_grad=True)
    d = x.detach()
    with lib.no_grad():
        x.mul_(2)
    return {"d": d, "d_rg": d.requires_grad, "same_memory": bool((d == x).all())}


@program
def second_backward_without_retain_graph(lib: Lib) -> dict:
    x = lib.arr([1.0, 2.0], requires_grad=True)
    cheap = (x * 2).sum()  # saves no tensor: torch lets it run twice
    cheap.backward()
    again = outcome(lambda: cheap.backward())
    costly = (x * x).sum()  # saves x: the second pass needs retain_graph
    costly.backward()
    refused = outcome(lambda: costly.backward())
    return {"again": again, "refused": refused, "grad": x.grad}
