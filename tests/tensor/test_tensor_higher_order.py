"""Higher-order gradients: ``create_graph``, ``chainrule.grad``, ``jacobian``/``hessian``, Newton's method and
a WGAN-GP gradient penalty, each compared with torch (float64)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr


def _f(x):  # noqa: ANN001, ANN202
    return x**4 - 2 * x**2


def test_quartic_first_and_second_derivatives_at_two(torch) -> None:  # noqa: ANN001
    """f = x⁴ − 2x²: f'(2) = 4·8 − 4·2 = 24, f''(2) = 12·4 − 4 = 44."""
    x = cr.tensor(2.0, dtype="float64", requires_grad=True)
    y = _f(x)
    y.backward(create_graph=True)
    g = x.grad
    assert float(g) == 24.0 and g.requires_grad
    x.grad = None
    g.backward()
    assert float(x.grad) == 44.0

    x = cr.tensor(2.0, dtype="float64", requires_grad=True)
    (g,) = cr.grad(_f(x), x, create_graph=True)
    (gg,) = cr.grad(g, x)
    t = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (tg,) = torch.autograd.grad(_f(t), t, create_graph=True)
    (tgg,) = torch.autograd.grad(tg, t)
    assert (float(g), float(gg)) == (tg.item(), tgg.item()) == (24.0, 44.0)
    assert x.grad is None  # grad() returns gradients without touching .grad


def test_third_derivative_matches_torch(torch) -> None:  # noqa: ANN001
    values = np.array([-1.3, 0.2, 0.9])
    x = cr.tensor(values, requires_grad=True)
    t = torch.tensor(values, requires_grad=True)
    g = x.tanh().sin().sum()
    tg = torch.sin(torch.tanh(t)).sum()
    for _ in range(3):
        (g,) = cr.grad(g, x, create_graph=True)
        (tg,) = torch.autograd.grad(tg, t, create_graph=True)
        np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-10)
        g, tg = g.sum(), tg.sum()


def test_grad_api_like_torch_autograd_grad() -> None:
    a = cr.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    b = cr.tensor([3.0, 4.0], dtype="float64", requires_grad=True)
    unused = cr.tensor([0.0], dtype="float64", requires_grad=True)
    y = a * b
    ga, gb = cr.grad([y], [a, b], grad_outputs=[cr.tensor([1.0, 10.0], dtype="float64")], retain_graph=True)
    np.testing.assert_array_equal(ga.numpy(), [3.0, 40.0])
    np.testing.assert_array_equal(gb.numpy(), [1.0, 20.0])
    assert not ga.requires_grad
    with pytest.raises(RuntimeError, match="not used"):
        cr.grad(y.sum(), [a, unused], retain_graph=True)
    ga, gu = cr.grad(y.sum(), [a, unused], allow_unused=True, retain_graph=True)
    assert gu is None
    with pytest.raises(RuntimeError, match="single-element"):
        cr.grad(y, a)
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.grad(y.sum(), cr.tensor([1.0]))
    (gs,) = cr.grad([y.sum(), (a * a).sum()], a)  # several outputs: gradients add up
    np.testing.assert_array_equal(gs.numpy(), b.numpy() + 2 * a.numpy())
    with pytest.raises(RuntimeError):  # retain_graph defaults to create_graph (False): the graph is gone
        cr.grad(y.sum(), a)


def test_grad_of_a_non_leaf_input(torch) -> None:  # noqa: ANN001
    x = cr.tensor([0.5, 1.5], dtype="float64", requires_grad=True)
    h = x.exp()
    (gh,) = cr.grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.numpy(), 2 * np.exp([0.5, 1.5]))


def _mlp_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "W1": rng.standard_normal((3, 5)) * 0.7,
        "b1": rng.standard_normal(5) * 0.1,
        "W2": rng.standard_normal((5, 1)) * 0.7,
        "b2": rng.standard_normal(1) * 0.1,
        "real": rng.standard_normal((4, 3)),
        "fake": rng.standard_normal((4, 3)),
        "eps": rng.random((4, 1)),
    }


def _gradient_penalty(m, p):  # noqa: ANN001, ANN202
    """WGAN-GP: D(x̂) on interpolates, then mean((‖∇_x̂ D(x̂)‖₂ − 1)²), written once for both libraries."""
    x_hat = p["eps"] * p["real"] + (1 - p["eps"]) * p["fake"]
    x_hat.requires_grad_(True)
    d = (m.tanh(x_hat @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]).sum()
    autograd = cr if m is cr else m.autograd
    (g,) = autograd.grad(d, x_hat, create_graph=True)
    norm = ((g * g).sum(1) + 1e-12) ** 0.5
    return ((norm - 1) ** 2).mean()


def test_wgan_gp_gradient_penalty_backprops_to_the_critic_weights_like_torch(torch) -> None:  # noqa: ANN001
    arrays = _mlp_inputs(np.random.default_rng(7))
    weights = ("W1", "b1", "W2", "b2")
    cp = {k: cr.tensor(v, requires_grad=k in weights) for k, v in arrays.items()}
    tp = {k: torch.tensor(v, requires_grad=k in weights) for k, v in arrays.items()}
    gp, tgp = _gradient_penalty(cr, cp), _gradient_penalty(torch, tp)
    np.testing.assert_allclose(float(gp), tgp.item(), rtol=1e-10)
    gp.backward()
    tgp.backward()
    for k in ("W1", "b1", "W2"):
        np.testing.assert_allclose(cp[k].grad.numpy(), tp[k].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)
    assert cp["b2"].grad is None and tp["b2"].grad is None  # ∇_x D does not depend on the output bias


def test_newtons_method_converges_on_a_1d_function() -> None:
    """Minimise f(x) = x⁴ − 2x² from x = 2 with x ← x − f'(x)/f''(x); the minimum is at x = 1."""
    x = cr.tensor(2.0, dtype="float64", requires_grad=True)
    for _ in range(10):
        (g,) = cr.grad(_f(x), x, create_graph=True)
        (gg,) = cr.grad(g, x)
        with cr.no_grad():
            x = cr.tensor(float(x) - float(g) / float(gg), dtype="float64", requires_grad=True)
    assert abs(float(x) - 1.0) < 1e-12


def test_newtons_method_for_a_root_with_backward_and_grad_reset() -> None:
    """DeZero-style: y.backward(create_graph=True), read x.grad, reset, backward again for f''."""
    x = cr.tensor(1.0, dtype="float64", requires_grad=True)
    for _ in range(30):
        y = x**3 - 2.0  # root 2^(1/3) of f; Newton on f itself
        y.backward()
        with cr.no_grad():
            x.sub_(float(y) / float(x.grad))
        x.grad = None
    assert abs(float(x) - 2 ** (1 / 3)) < 1e-12


@settings(max_examples=max(2, settings.default.max_examples // 3))
@given(n_in=st.integers(1, 3), n_out=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_jacobian_matches_torch_functional(n_in: int, n_out: int, seed: int) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(n_in), rng.standard_normal((n_out, n_in))

    def f(m):  # noqa: ANN001, ANN202
        return lambda x, w: ((w @ x).tanh() * x.sum(), (x * x).sum())

    ours = cr.jacobian(f(cr), (cr.tensor(a), cr.tensor(b)))
    theirs = torch.autograd.functional.jacobian(f(torch), (torch.tensor(a), torch.tensor(b)))
    for i in range(2):
        for j in range(2):
            assert ours[i][j].shape == tuple(theirs[i][j].shape)
            np.testing.assert_allclose(ours[i][j].numpy(), theirs[i][j].numpy(), rtol=1e-10, atol=1e-12)
            assert not ours[i][j].requires_grad


def test_jacobian_shapes_for_single_and_tuple_arguments(torch) -> None:  # noqa: ANN001
    x = np.array([[0.5, -1.0, 2.0], [1.0, 0.1, -0.3]])
    single = cr.jacobian(lambda t: t.exp(), cr.tensor(x))
    assert single.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(single.numpy(), torch.autograd.functional.jacobian(torch.exp, torch.tensor(x)))
    outs = cr.jacobian(lambda t: (t.sum(), t * 2), cr.tensor(x))
    assert isinstance(outs, tuple) and outs[0].shape == (2, 3) and outs[1].shape == (2, 3, 2, 3)
    ins = cr.jacobian(lambda s, t: s * t, (cr.tensor(x[0]), cr.tensor(x[1])))
    assert isinstance(ins, tuple) and ins[0].shape == (3, 3)
    np.testing.assert_allclose(ins[0].numpy(), np.diag(x[1]))


def test_jacobian_of_an_independent_output_is_zero_or_raises_when_strict() -> None:
    x, y = cr.tensor([1.0, 2.0], dtype="float64"), cr.tensor([3.0], dtype="float64")
    j = cr.jacobian(lambda a, b: a * 2, (x, y))
    np.testing.assert_array_equal(j[1].numpy(), np.zeros((2, 1)))
    with pytest.raises(RuntimeError, match="independent"):
        cr.jacobian(lambda a, b: a * 2, (x, y), strict=True)
    with pytest.raises(TypeError, match="Tensor"):
        cr.jacobian(lambda a: a, [1.0, 2.0])


def test_hessian_matches_torch_functional(torch) -> None:  # noqa: ANN001
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(3), rng.standard_normal((2, 3))

    def f(m):  # noqa: ANN001, ANN202
        return lambda x, w: ((w @ x).sin().sum() + (x**3).sum()) * (w * w).sum()

    ours = cr.hessian(f(cr), (cr.tensor(a), cr.tensor(b)))
    theirs = torch.autograd.functional.hessian(f(torch), (torch.tensor(a), torch.tensor(b)))
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(ours[i][j].numpy(), theirs[i][j].numpy(), rtol=1e-10, atol=1e-12)
    single = cr.hessian(lambda x: (x.exp() * x).sum(), cr.tensor(a))
    np.testing.assert_allclose(single.numpy(), np.diag(np.exp(a) * (a + 2)), rtol=1e-12, atol=1e-14)
    assert np.allclose(single.numpy(), single.numpy().T)
    with pytest.raises(RuntimeError, match="single-element"):
        cr.hessian(lambda x: x * 2, cr.tensor(a))


def test_hessian_with_create_graph_is_differentiable(torch) -> None:  # noqa: ANN001
    x = cr.tensor([0.4, -0.8], dtype="float64", requires_grad=True)
    h = cr.hessian(lambda t: (t**4).sum(), x, create_graph=True)
    assert h.requires_grad
    h.sum().backward()  # d/dx of trace-like sum of 12x² on the diagonal = 24x
    np.testing.assert_allclose(x.grad.numpy(), 24 * x.numpy(), rtol=1e-12)


def test_hessian_vector_product_equals_double_backward(torch) -> None:  # noqa: ANN001
    a = np.array([0.3, -1.2, 0.8])
    v = np.array([1.0, 0.5, -2.0])
    x = cr.tensor(a, requires_grad=True)
    (g,) = cr.grad((x.sin() * x.exp()).sum(), x, create_graph=True)
    (hv,) = cr.grad((g * cr.tensor(v)).sum(), x)
    t = torch.tensor(a)
    _, thv = torch.autograd.functional.hvp(lambda s: (s.sin() * s.exp()).sum(), t, torch.tensor(v))
    np.testing.assert_allclose(hv.numpy(), thv.numpy(), rtol=1e-12)
