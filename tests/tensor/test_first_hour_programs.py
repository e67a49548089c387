"""Issue #13's engine cases, each against torch: in-place operators, owned ``.grad``, ``.data`` writes, grad
mode, number protocols, tensor methods, hooks, DeZero's names, and the op edges beginners meet."""

from __future__ import annotations

import threading
import warnings
from typing import Any

import numpy as np
import pytest

import chainrule as cr

LIBS = ["chainrule", "torch"]


@pytest.fixture(params=LIBS)
def m(request: pytest.FixtureRequest, torch: Any) -> Any:
    return cr if request.param == "chainrule" else torch


def _both(fn: Any, torch: Any) -> tuple[Any, Any]:
    return fn(cr), fn(torch)


def _np(t: Any) -> np.ndarray:
    return np.asarray(t.detach().numpy())


# ---------------------------------------------------------------------------- in-place operators
def _sgd_on_parameters(m: Any) -> list[float]:
    m.manual_seed(0)
    w = m.tensor([[0.5, -1.0], [2.0, 0.1]], dtype=m.float64, requires_grad=True)
    b = m.tensor([0.0, 0.3], dtype=m.float64, requires_grad=True)
    x = m.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]], dtype=m.float64)
    y = m.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=m.float64)
    params = [w, b]
    losses = []
    for _ in range(20):
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        with m.no_grad():
            for p in params:
                p -= 0.1 * p.grad
                p.grad.zero_()
        losses.append(loss.item())
    return losses


def test_hand_written_sgd_with_minus_equals_trains_like_torch(torch: Any) -> None:
    ours, theirs = _both(_sgd_on_parameters, torch)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert ours[-1] < ours[0] / 2


@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/="])
def test_augmented_assignment_keeps_the_object_on_a_bare_leaf(op: str, torch: Any) -> None:
    def run(m: Any) -> tuple[np.ndarray, bool, bool]:
        w = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
        same = w
        (w * w).sum().backward()
        with m.no_grad():
            exec(f"w {op} 0.5 * w.grad", {}, {"w": w})  # noqa: S102
        return _np(same), same.requires_grad, same.is_leaf

    ours, theirs = _both(run, torch)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    assert ours[1:] == theirs[1:] == (True, True)


def test_in_place_on_a_leaf_outside_no_grad_is_refused_like_torch(m: Any) -> None:
    w = m.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        w += 1


def test_augmented_assignment_in_a_graph_is_recorded(torch: Any) -> None:
    def run(m: Any) -> tuple[np.ndarray, ...]:
        a = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
        b = m.tensor([3.0, -1.0], dtype=m.float64, requires_grad=True)
        y = a * 2
        y *= b
        y += a
        y /= b + 5
        y **= 2
        y.sum().backward()
        return _np(y), _np(a.grad), _np(b.grad)

    for o, t in zip(*_both(run, torch)):
        np.testing.assert_allclose(o, t, rtol=1e-12)


def test_in_place_dtype_rules_like_torch(m: Any) -> None:
    z = m.zeros(3)
    z += m.ones(3, dtype=m.float64)
    assert z.dtype == m.float32
    i = m.tensor([1, 2])
    i *= 2
    for bad in ("i /= 2", "i += 1.5"):
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
            exec(bad, {}, {"i": i})  # noqa: S102
    with pytest.raises(RuntimeError):
        z += m.ones(2, 3)


def test_micrograd_readme_expression_with_plus_equals(torch: Any) -> None:
    def run(m: Any) -> tuple[float, float, float]:
        a = m.tensor(-4.0, dtype=m.float64, requires_grad=True)
        b = m.tensor(2.0, dtype=m.float64, requires_grad=True)
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
        return g.item(), a.grad.item(), b.grad.item()

    ours, theirs = _both(run, torch)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(ours, (24.7041, 138.8338, 645.5773), atol=1e-4)


def test_a_value_read_by_backward_and_then_changed_still_raises(m: Any) -> None:
    a = m.tensor([1.0, 2.0], requires_grad=True)
    y = a * 1
    z = y * y  # reads y
    y += 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


# ---------------------------------------------------------------------------- .grad and .data
@pytest.mark.parametrize(
    "make",
    [
        lambda w: w.sum(),  # sum backward broadcasts
        lambda w: (w + w.detach()).sum(),  # Add hands one array to both inputs
        lambda w: w.mean() * 3,
        lambda w: w.expand(4, 2, 3).sum(),
    ],
)
def test_grad_is_an_owned_writable_array(make: Any, torch: Any) -> None:
    w = cr.ones(2, 3, requires_grad=True)
    other = cr.ones(2, 3, requires_grad=True)
    (make(w) + (other * 1).sum()).backward()
    g = w.grad.data
    assert g.flags.writeable and g.flags.c_contiguous and g.base is None and g.shape == (2, 3)
    w.grad.zero_()
    w.grad.fill_(2.0)
    w.grad += 1
    w.grad.data[0, 0] = 9.0
    np.testing.assert_array_equal(w.grad.numpy(), [[9, 3, 3], [3, 3, 3]])
    np.testing.assert_array_equal(other.grad.numpy(), np.ones((2, 3)))  # not aliased


def test_grads_of_two_inputs_of_one_add_are_not_shared(m: Any) -> None:
    a, b = m.ones(3, requires_grad=True), m.ones(3, requires_grad=True)
    (a + b).sum().backward()
    a.grad.zero_()
    assert b.grad.tolist() == [1.0, 1.0, 1.0]


def test_grad_after_create_graph_is_writable(m: Any) -> None:
    x = m.ones(3, requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    x.grad.zero_()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_data_assignment_of_a_tensor_stores_its_array(torch: Any) -> None:
    def run(m: Any) -> tuple[Any, ...]:
        w = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
        (w * w).sum().backward()
        w.data = w.data - 0.5 * w.grad
        r = repr(w)
        w.data = m.zeros(2, 2, dtype=m.float64)
        return _np(w), w.requires_grad, w.is_leaf, tuple(w.shape), "requires_grad=True" in r

    ours, theirs = _both(run, torch)
    np.testing.assert_array_equal(ours[0], theirs[0])
    assert ours[1:] == theirs[1:]
    assert isinstance(cr.ones(2).data, np.ndarray)  # chainrule's .data stays the NumPy array


def test_data_assignment_rejects_junk() -> None:
    w = cr.ones(2)
    for junk in ([1.0, 2.0], 3.0, "x", None):
        with pytest.raises(TypeError, match=r"Tensor\.data must be a Tensor or an array"):
            w.data = junk
    assert repr(w) == "tensor([1., 1.])"


# ---------------------------------------------------------------------------- grad mode
def test_set_grad_enabled_as_decorator_and_context_manager(m: Any) -> None:
    @m.set_grad_enabled(False)
    def inside() -> bool:
        return m.is_grad_enabled()

    assert m.is_grad_enabled() and not inside() and m.is_grad_enabled()
    with m.set_grad_enabled(False):
        assert not m.is_grad_enabled()
        with m.enable_grad():
            assert m.is_grad_enabled()
        assert not m.is_grad_enabled()
    assert m.is_grad_enabled()
    m.set_grad_enabled(False)  # a plain call switches now, as in torch
    assert not m.is_grad_enabled()
    m.set_grad_enabled(True)


def test_no_grad_and_enable_grad_decorate_with_or_without_parentheses(m: Any) -> None:
    @m.no_grad()
    def a() -> bool:
        return m.is_grad_enabled()

    @m.no_grad
    def b() -> bool:
        return m.is_grad_enabled()

    @m.enable_grad()
    def c() -> bool:
        return m.is_grad_enabled()

    assert (a(), b(), m.is_grad_enabled()) == (False, False, True)
    with m.no_grad():
        assert c() and not m.is_grad_enabled()


def test_a_decorated_generator_runs_each_step_in_the_mode(m: Any) -> None:
    @m.no_grad()
    def steps() -> Any:
        for _ in range(2):
            yield m.is_grad_enabled()

    assert list(steps()) == [False, False] and m.is_grad_enabled()


def test_grad_mode_is_per_thread(m: Any) -> None:
    seen = []
    with m.no_grad():
        t = threading.Thread(target=lambda: seen.append(m.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_inference_mode(m: Any) -> None:
    x = m.ones(2, requires_grad=True)
    with m.inference_mode():
        y = x * 2
        assert m.is_inference_mode_enabled() and not m.is_grad_enabled()
    assert not y.requires_grad and not m.is_inference_mode_enabled() and m.is_grad_enabled()

    @m.inference_mode()
    def f() -> bool:
        return m.is_inference_mode_enabled()

    assert f() and not m.is_inference_mode_enabled()


# ---------------------------------------------------------------------------- ops beginners meet
@pytest.mark.parametrize("call", ["std(False)", "var(False)", "std(True)", "var(1, False)", "std(0)"])
def test_std_var_positional_unbiased(call: str, torch: Any) -> None:
    a = [[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]]
    ours, theirs = _both(lambda m: eval(f"m.tensor(a, dtype=m.float64).{call}", {"m": m, "a": a}), torch)  # noqa: S307
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-12)


def test_masked_fill_with_a_0d_tensor_value_gets_the_masked_grad_sum(torch: Any) -> None:
    def run(m: Any) -> tuple[np.ndarray, ...]:
        x = m.tensor([1.0, 2.0, 3.0], dtype=m.float64, requires_grad=True)
        v = m.tensor(5.0, dtype=m.float64, requires_grad=True)
        y = x.masked_fill(x > 1.5, v)
        (y * m.tensor([1.0, 2.0, 3.0], dtype=m.float64)).sum().backward()
        return _np(y), _np(x.grad), _np(v.grad)

    for o, t in zip(*_both(run, torch)):
        np.testing.assert_array_equal(o, t)


def test_rsqrt_edges(torch: Any) -> None:
    def run(m: Any) -> tuple[np.ndarray, np.ndarray]:
        x = m.tensor([-np.inf, -1.0, 0.0, 4.0, np.inf], dtype=m.float64, requires_grad=True)
        y = m.rsqrt(x)
        y.sum().backward()
        return _np(y), _np(x.grad)

    for o, t in zip(*_both(run, torch)):
        np.testing.assert_array_equal(o, t)


def test_floor_divide_and_remainder(torch: Any) -> None:
    def run(m: Any) -> tuple[np.ndarray, ...]:
        x = m.tensor([5.0, -7.0], dtype=m.float64, requires_grad=True)
        y = m.tensor([2.0, 3.0], dtype=m.float64, requires_grad=True)
        (x % y).sum().backward()
        ints = m.tensor([5, -7])
        return _np(x // 2), _np(x % 3), _np(x.grad), _np(y.grad), _np(ints // 2), _np(7 % m.tensor([3, -3]))

    for o, t in zip(*_both(run, torch)):
        np.testing.assert_array_equal(o, t)


def test_sort_topk_argsort_nonzero(torch: Any) -> None:
    def run(m: Any) -> list[np.ndarray]:
        x = m.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]], dtype=m.float64, requires_grad=True)
        v, i = x.sort(dim=1, descending=True)
        t = x.topk(2, dim=0, largest=False)
        (v[:, 0].sum() + t.values.sum()).backward()
        return [
            _np(v),
            _np(i),
            _np(t.values),
            _np(t.indices),
            _np(x.argsort()),
            _np(x.nonzero()),
            _np(x.grad),
        ]

    for o, t in zip(*_both(run, torch)):
        np.testing.assert_array_equal(o, t)


# ---------------------------------------------------------------------------- number protocols, methods
def test_number_protocols(m: Any) -> None:
    s, i = m.tensor(2.5), m.tensor(3)
    assert f"{s:.3f}" == "2.500" and f"{i:d}" == "3" and f"{s}" == "2.5"
    assert float(s) == 2.5 and int(s) == 2 and [0, 1, 2, 3][i] == 3 and bool(m.tensor([1.0]))
    for fn, exc in [
        (lambda: format(m.tensor([1.5]), ".2f"), TypeError),
        (lambda: float(m.ones(2)), ValueError),
        (lambda: int(m.ones(2)), ValueError),
        (lambda: m.ones(2).item(), RuntimeError),
        (lambda: bool(m.ones(2)), RuntimeError),
        (lambda: bool(m.ones(0)), RuntimeError),
        (lambda: [1, 2][m.tensor(1.0)], TypeError),
        (lambda: round(s), TypeError),  # torch has no __round__ either: use x.round()
    ]:
        with pytest.raises(exc):
            fn()


def test_float_of_a_tensor_that_requires_grad_warns() -> None:
    x = cr.tensor(1.5, requires_grad=True)
    with pytest.warns(UserWarning, match="Converting a tensor with requires_grad=True to a scalar"):
        assert float(x * 2) == 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        float((x * 2).detach())


def test_reading_grad_of_a_non_leaf_warns(m: Any) -> None:
    x = m.ones(2, requires_grad=True)
    y = x * 2
    y.sum().backward()
    with pytest.warns(UserWarning, match="is not a leaf Tensor is being accessed"):
        assert y.grad is None


@pytest.mark.parametrize(
    "expr",
    [
        "x.eq(y)", "x.ne(y)", "x.lt(y)", "x.le(y)", "x.gt(2.0)", "x.ge(y)",
        "(x > 1).logical_and(y > 1)", "(x > 1).logical_or(y > 1)", "(x > 1).logical_not()",
        "(x > 1).logical_xor(y > 1)", "x.allclose(y)", "x.allclose(x)", "x.isclose(y)",
        "x.softmax(0)", "x.log_softmax(dim=0)", "x.round()", "(x * 1.26).round(decimals=1)",
        "x.is_floating_point()", "m.equal(x, x)", "m.equal(x, y)", "x.reshape(2, 2).t()",
    ],
)  # fmt: skip
def test_tensor_methods(expr: str, torch: Any) -> None:
    def run(m: Any) -> Any:
        x = m.tensor([0.5, 1.5, 2.5, 3.0], dtype=m.float64)
        y = m.tensor([0.5, 2.0, 2.0, 3.0], dtype=m.float64)
        out = eval(expr, {"m": m, "x": x, "y": y})  # noqa: S307
        return out if isinstance(out, bool) else _np(out)

    ours, theirs = _both(run, torch)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


# ---------------------------------------------------------------------------- hooks and DeZero's names
def test_register_hook_on_leaves_and_non_leaves_with_remove(torch: Any) -> None:
    def run(m: Any) -> list[Any]:
        seen = []
        x = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
        y = x * 3
        z = (y * y).sum()
        h = y.register_hook(lambda g: g * 10)
        x.register_hook(lambda g: seen.append(_np(g)))
        z.backward(retain_graph=True)
        first = _np(x.grad)
        h.remove()
        x.grad = None
        z.backward(retain_graph=True)
        (g,) = m.autograd.grad(z, x, create_graph=True)
        return [first, _np(x.grad), seen, _np(g)]

    ours, theirs = _both(run, torch)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-12)


def test_register_hook_needs_requires_grad(m: Any) -> None:
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        m.ones(2).register_hook(lambda g: g)


def test_retain_grad_matches_torch(torch: Any) -> None:
    def run(m: Any) -> list[np.ndarray]:
        x = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
        y = x.exp()
        y.retain_grad()
        (y * y).sum().backward(retain_graph=True)
        (y * y).sum().backward()
        return [_np(y.grad), _np(x.grad)]

    for o, t in zip(*_both(run, torch)):
        np.testing.assert_allclose(o, t, rtol=1e-12)


def test_dezero_names() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    a = x * 3
    b = a.exp().sum()
    b.backward(retain_grad=True)  # DeZero: keeps every intermediate gradient (and the graph)
    np.testing.assert_allclose(a.grad.numpy(), np.exp(a.data), rtol=1e-6)
    assert b.grad.item() == 1.0
    x.cleargrad()
    assert x.grad is None
    b.unchain_backward()
    assert a.creator is None and b.creator is not None
    c = x * 2
    c.unchain()
    assert c.creator is None and c.is_leaf
    d = (x * 2).sum()
    d.backward()
    with pytest.raises(RuntimeError, match="freed the graph"):
        d.unchain_backward()


def test_backward_inputs_accumulates_only_those(torch: Any) -> None:
    def run(m: Any) -> tuple[bool, np.ndarray]:
        x = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
        z = m.tensor([3.0], dtype=m.float64, requires_grad=True)
        ((x * 3).sum() + (z * 2).sum()).backward(inputs=[z])
        return x.grad is None, _np(z.grad)

    ours, theirs = _both(run, torch)
    assert ours[0] == theirs[0] is True
    np.testing.assert_array_equal(ours[1], theirs[1])


def test_requires_grad_and_grad_assignment_rules(m: Any) -> None:
    x = m.ones(2, requires_grad=True)
    y = x * 2
    for flag in (False, True):
        with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables"):
            y.requires_grad = flag
    with pytest.raises(RuntimeError):
        m.tensor([1, 2]).requires_grad = True
    d = x.detach()
    d.requires_grad = True
    assert d.requires_grad and d.is_leaf
    for bad in (m.tensor([1, 2]), m.ones(3), m.ones(2, dtype=m.float64)):
        with pytest.raises(RuntimeError, match="attempting to assign a gradient"):
            x.grad = bad
