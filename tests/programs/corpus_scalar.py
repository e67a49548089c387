"""Corpus: the scalar engine against torch float64 0-d tensors, and the micrograd / DeZero step programs.

On torch a "scalar" is a 0-d float64 tensor; on chainrule it is a ``chainrule.scalar.Scalar``. Programs read
values with ``float()`` and gradients with :func:`grad`, so both sides return plain floats.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from corpus_harness import Lib, outcome, program

INF, NAN = math.inf, math.nan


def S(lib: Lib, value: float, requires_grad: bool = True):  # noqa: ANN201, N802
    """A scalar leaf: a 0-d float64 tensor on torch, a Scalar on chainrule."""
    if lib.is_torch:
        return lib.tensor(float(value), dtype=lib.float64, requires_grad=requires_grad)
    from chainrule.scalar import Scalar  # noqa: PLC0415

    s = Scalar(value)
    return s.requires_grad_() if requires_grad else s


def grad(lib: Lib, s) -> float | None:  # noqa: ANN001
    g = s.grad if lib.is_torch else s.derivative
    return None if g is None else float(g)


def clear(lib: Lib, s) -> None:  # noqa: ANN001
    if lib.is_torch:
        s.grad = None
    else:
        s.derivative = None


def _value_and_grad(lib: Lib, fn, at: float) -> tuple:  # noqa: ANN001
    x = S(lib, at)
    y = fn(x)
    y.backward()
    return float(y), grad(lib, x)


@program
def scalar_comparisons_are_python_bools(lib: Lib) -> dict:
    a, b = S(lib, -1.0), S(lib, 2.0)
    loss = S(lib, 0.005, requires_grad=False)
    return {
        "gt0": bool(a > 0),
        "lt": bool(a < b),
        "if_small": "done" if loss < 0.01 else "go on",
        "sorted": [float(v) for v in sorted([b, a, S(lib, 0.5)])],
        "max": float(max([a, b, S(lib, 1.0)])),
        "min": float(min(a, b)),
        "bool_zero": bool(S(lib, 0.0)),
        "bool_neg": bool(a),
        "eq": bool(S(lib, 2.0) == b),
    }


@program
def scalar_hand_written_relu_with_if(lib: Lib) -> dict:
    def relu(x):  # noqa: ANN001, ANN202
        return x if x > 0 else x * 0

    out = []
    for v in [-2.0, 0.0, 3.0]:
        out.append(_value_and_grad(lib, lambda x: relu(x) * 2 + 1, v))
    masked = _value_and_grad(lib, lambda x: x * (x > 0) * 3, 1.5)
    return {"relu": out, "masked": masked}


@program
def scalar_number_protocols(lib: Lib) -> dict:
    x = S(lib, 2.71828, requires_grad=False)
    return {
        "f4": f"{x:.4f}",
        "e": f"{x:.2e}",
        "float": float(x),
        "int": int(S(lib, -3.9, requires_grad=False)),
        "round": round(float(x), 2),
        "floor": math.floor(float(x)),
        "sqrt": math.sqrt(x),
    }


@program
def scalar_ieee_edges(lib: Lib) -> dict:
    cases = {
        "relu_nan": (lambda x: x.relu(), NAN),
        "pow400": (lambda x: x**400, 10.0),
        "sin_inf": (lambda x: x.sin(), INF),
        "cos_ninf": (lambda x: x.cos(), -INF),
        "log_neg": (lambda x: x.log(), -1.0),
        "log_0": (lambda x: x.log(), 0.0),
        "sqrt_neg": (lambda x: x.sqrt(), -1.0),
        "div_0": (lambda x: x / 0.0, 1.0),
        "rdiv_0": (lambda x: 1.0 / x, 0.0),
        "zero_over_0": (lambda x: x / 0.0, 0.0),
        "frac_pow_neg": (lambda x: x**0.5, -2.0),
        "zero_pow_neg": (lambda x: x**-1.0, 0.0),
        "two_pow_big": (lambda x: 2.0**x, 2000.0),
        "zero_pow_x": (lambda x: 0.0**x, -1.0),
        "exp_big": (lambda x: x.exp(), 1000.0),
        "mul_big": (lambda x: x * x, 1e200),
        "tanh_inf": (lambda x: x.tanh(), INF),
        "sigmoid_nan": (lambda x: x.sigmoid(), NAN),
        "abs_nan": (lambda x: abs(x), NAN),
        "sqrt_0_pow": (lambda x: x**0.5, 0.0),
        "neg_cube": (lambda x: x**3.0, -2.0),
    }
    return {name: _value_and_grad(lib, fn, at) for name, (fn, at) in cases.items()}


@program
def scalar_binary_edges(lib: Lib) -> dict:
    out = {}
    for name, fn, a, b in [
        ("div", lambda x, y: x / y, 3.0, 0.0),
        ("pow", lambda x, y: x**y, -2.0, 2.0),
        ("pow_zero_base", lambda x, y: x**y, 0.0, 2.0),
        ("sub_inf", lambda x, y: x - y, INF, INF),
        ("mul_inf_zero", lambda x, y: x * y, INF, 0.0),
    ]:
        x, y = S(lib, a), S(lib, b)
        z = fn(x, y)
        z.backward()
        out[name] = (float(z), grad(lib, x), grad(lib, y))
    return out


@program
def scalar_micrograd_lecture_expression(lib: Lib) -> dict:
    """The micrograd README's expression: g = 24.7041, dg/da = 138.8338, dg/db = 645.5773."""
    a, b = S(lib, -4.0), S(lib, 2.0)
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    return {"g": float(g), "da": grad(lib, a), "db": grad(lib, b)}


@program
def scalar_micrograd_neuron_training(lib: Lib) -> dict:
    """The micrograd lecture's MLP(3, [4, 4, 1]) on four points, trained by hand for 10 steps."""
    rng = np.random.default_rng(0)
    sizes = [3, 4, 4, 1]
    layers = [
        [([S(lib, w) for w in rng.uniform(-1, 1, n_in)], S(lib, rng.uniform(-1, 1))) for _ in range(n_out)]
        for n_in, n_out in itertools.pairwise(sizes)
    ]
    parameters = [p for layer in layers for ws, b in layer for p in [*ws, b]]
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]

    def forward(x):  # noqa: ANN001, ANN202
        for layer in layers:
            x = [sum((w * xi for w, xi in zip(ws, x)), b).tanh() for ws, b in layer]
        return x[0]

    losses = []
    for _ in range(10):
        loss = sum((forward(x) - y) ** 2 for x, y in zip(xs, ys))
        for p in parameters:
            clear(lib, p)
        loss.backward()
        for p in parameters:
            p.data += -0.05 * grad(lib, p)
        losses.append(float(loss))
    return {"losses": losses, "params": [float(p) for p in parameters], "improved": losses[-1] < losses[0]}


@program
def scalar_backward_accumulates(lib: Lib) -> dict:
    x = S(lib, 3.0)
    y = x * x
    y.backward()
    first = grad(lib, x)
    (x * 2).backward()
    acc = grad(lib, x)
    clear(lib, x)
    return {
        "first": first,
        "acc": acc,
        "cleared": grad(lib, x),
        "const": outcome(lambda: S(lib, 1.0, False).backward()),
    }


# ---------------------------------------------------------------------- DeZero's steps on the tensor engine
@program
def dezero_step09_square_exp_square(lib: Lib) -> dict:
    x = lib.arr(0.5, requires_grad=True)
    y = lib.square(lib.exp(lib.square(x)))
    y.backward()
    return {"y": y, "grad": x.grad}


@program
def dezero_step24_test_functions(lib: Lib) -> dict:
    def sphere(x, y):  # noqa: ANN001, ANN202
        return x**2 + y**2

    def matyas(x, y):  # noqa: ANN001, ANN202
        return 0.26 * (x**2 + y**2) - 0.48 * x * y

    def goldstein(x, y):  # noqa: ANN001, ANN202
        a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
        b = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
        return a * b

    out = {}
    for f in (sphere, matyas, goldstein):
        x, y = lib.arr(1.0, requires_grad=True), lib.arr(1.0, requires_grad=True)
        z = f(x, y)
        z.backward()
        out[f.__name__] = (z, x.grad, y.grad)
    return out


@program
def dezero_step28_rosenbrock_descent(lib: Lib) -> dict:
    x0, x1 = lib.arr(0.0, requires_grad=True), lib.arr(2.0, requires_grad=True)
    for _ in range(100):
        y = 100 * (x1 - x0**2) ** 2 + (x0 - 1) ** 2
        x0.grad = None
        x1.grad = None
        y.backward()
        x0.data -= 0.001 * x0.grad.data
        x1.data -= 0.001 * x1.grad.data
    return {"x0": x0, "x1": x1}


@program
def dezero_step33_newton_with_double_backprop(lib: Lib) -> dict:
    x = lib.arr(2.0, requires_grad=True)
    path = []
    for _ in range(6):
        y = x**4 - 2 * x**2
        (gx,) = lib.autograd.grad(y, x, create_graph=True)
        (gx2,) = lib.autograd.grad(gx, x)
        with lib.no_grad():
            x -= gx / gx2
        path.append(x.item())
    return {"path": path}


@program
def dezero_step34_sin_higher_derivatives(lib: Lib) -> dict:
    x = lib.arr(1.0, requires_grad=True)
    y = lib.sin(x)
    derivs = []
    for _ in range(4):
        (y,) = lib.autograd.grad(y, x, create_graph=True)
        derivs.append(y.item())
    return {"derivs": derivs}


@program
def dezero_step42_linear_regression(lib: Lib) -> dict:
    rng = np.random.default_rng(0)
    xs = rng.random((100, 1))
    x, y = lib.arr(xs), lib.arr(5 + 2 * xs + rng.random((100, 1)))
    W, b = lib.arr(np.zeros((1, 1)), requires_grad=True), lib.arr(np.zeros(1), requires_grad=True)
    for _ in range(50):
        loss = lib.F.mse_loss(x @ W + b, y)
        W.grad = None
        b.grad = None
        loss.backward()
        W.data -= 0.1 * W.grad.data
        b.data -= 0.1 * b.grad.data
    return {"W": W, "b": b, "loss": loss}


@program
def micrograd_expression_on_tensors(lib: Lib) -> dict:
    """The micrograd README's expression on 0-d tensors, written with ``+=`` as in the README."""
    a, b = lib.arr(-4.0, requires_grad=True), lib.arr(2.0, requires_grad=True)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    return {"g": g, "da": a.grad, "db": b.grad}


@program
def scalar_optimizers_and_losses_against_torch(lib: Lib) -> dict:
    """chainrule.scalar's SGD, Momentum, Adam and losses against torch.optim and torch's F on 0-d tensors."""
    rng = np.random.default_rng(5)
    xs = rng.standard_normal((6, 2))
    ys = (xs[:, 0] > 0).astype(float)
    out = {}
    for name in ("sgd", "momentum", "adam"):
        w = [S(lib, v) for v in rng.standard_normal(3)]
        if lib.is_torch:
            opt = {
                "sgd": lambda p: lib.optim.SGD(p, lr=0.1),
                "momentum": lambda p: lib.optim.SGD(p, lr=0.1, momentum=0.9),
                "adam": lambda p: lib.optim.Adam(p, lr=0.1),
            }[name](w)
        else:
            from chainrule.scalar import optim  # noqa: PLC0415

            opt = {
                "sgd": lambda p: optim.SGD(p, lr=0.1),
                "momentum": lambda p: optim.Momentum(p, lr=0.1, momentum=0.9),
                "adam": lambda p: optim.Adam(p, lr=0.1),
            }[name](w)
        losses = []
        for _ in range(5):
            opt.zero_grad()
            logits = [w[0] * float(x0) + w[1] * float(x1) + w[2] for x0, x1 in xs]
            if lib.is_torch:
                loss = lib.F.binary_cross_entropy_with_logits(lib.stack(logits), lib.arr(ys))
                loss = loss + lib.F.mse_loss(lib.stack([z.sigmoid() for z in logits]), lib.arr(ys))
            else:
                from chainrule.scalar import losses as L  # noqa: PLC0415, N812

                loss = L.binary_cross_entropy_with_logits(logits, list(ys)) + L.mse(
                    [z.sigmoid() for z in logits], list(ys)
                )
            loss.backward()
            opt.step()
            losses.append(float(loss))
        out[name] = {"losses": losses, "w": [float(v) for v in w]}
    return out
