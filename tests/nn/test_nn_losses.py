"""Every loss against torch.nn.functional (float64 values and gradients, second order where it applies), and
finite losses and gradients for logits of ±1e4 in float32."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nn_parity import check_function_parity

import chainrule as cr
import chainrule.nn.functional as F

REDUCTIONS = ["mean", "sum", "none"]


@given(
    shape=st.sampled_from([(5, 4), (3, 4, 2), (2, 3, 2, 2), (4,)]),
    weighted=st.booleans(),
    ignore=st.booleans(),
    smoothing=st.sampled_from([0.0, 0.1, 0.4]),
    reduction=st.sampled_from(REDUCTIONS),
    seed=st.integers(0, 100),
)
def test_cross_entropy_class_indices(torch, shape, weighted, ignore, smoothing, reduction, seed) -> None:
    rng = np.random.default_rng(seed)
    c = shape[1] if len(shape) > 1 else shape[0]
    x = rng.standard_normal(shape) * 2
    target = rng.integers(0, c, (shape[0], *shape[2:]) if len(shape) > 1 else ())
    if ignore and target.ndim:
        target.reshape(-1)[0] = 1
        ignore_index = 1
    else:
        ignore_index = -100
    w = rng.uniform(0.2, 2.0, c) if weighted else None
    kw = {"ignore_index": ignore_index, "label_smoothing": smoothing, "reduction": reduction}
    check_function_parity(
        torch,
        lambda t: torch.nn.functional.cross_entropy(
            t, torch.tensor(target), None if w is None else torch.tensor(w), **kw
        ),
        lambda t: F.cross_entropy(t, cr.tensor(target), None if w is None else cr.tensor(w), **kw),
        [x],
    )


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_second_order(torch, smoothing: float, reduction: str) -> None:
    rng = np.random.default_rng(3)
    x, target, w = rng.standard_normal((4, 3, 2)), rng.integers(0, 3, (4, 2)), rng.uniform(0.5, 2, 3)
    kw = {"label_smoothing": smoothing, "reduction": reduction}
    check_function_parity(
        torch,
        lambda t: torch.nn.functional.cross_entropy(t, torch.tensor(target), torch.tensor(w), **kw),
        lambda t: F.cross_entropy(t, cr.tensor(target), cr.tensor(w), **kw),
        [x],
        second_order=True,
    )


def test_cross_entropy_is_one_fused_function() -> None:
    x = cr.randn(4, 3, requires_grad=True)
    loss = F.cross_entropy(x, cr.tensor([0, 1, 2, 1]))
    assert type(loss.creator).__name__ == "_SoftmaxCrossEntropy" and loss.creator.inputs == (x,)


@given(
    weighted=st.booleans(),
    smoothing=st.sampled_from([0.0, 0.25]),
    reduction=st.sampled_from(REDUCTIONS),
    shape=st.sampled_from([(4, 3), (2, 3, 5), (3,)]),
)
def test_cross_entropy_probability_targets(torch, weighted, smoothing, reduction, shape) -> None:
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape)
    p = rng.uniform(0, 1, shape)
    p /= p.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)
    w = rng.uniform(0.5, 2, shape[1] if len(shape) > 1 else shape[0]) if weighted else None
    kw = {"label_smoothing": smoothing, "reduction": reduction}
    check_function_parity(
        torch,
        lambda t, q: torch.nn.functional.cross_entropy(t, q, None if w is None else torch.tensor(w), **kw),
        lambda t, q: F.cross_entropy(t, q, None if w is None else cr.tensor(w), **kw),
        [x, p],
        second_order=True,
    )


def test_cross_entropy_all_ignored_is_nan_like_torch(torch) -> None:
    t = torch.nn.functional.cross_entropy(torch.zeros(2, 3), torch.tensor([-100, -100]))
    c = F.cross_entropy(cr.zeros(2, 3), cr.tensor([-100, -100]))
    assert np.isnan(float(c)) and np.isnan(float(t))


def test_cross_entropy_errors() -> None:
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        F.cross_entropy(cr.zeros(2, 3), cr.tensor([0, 3]))
    with pytest.raises(ValueError, match="expected target of shape"):
        F.cross_entropy(cr.zeros(2, 3), cr.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(cr.zeros(2, 3), cr.tensor([0, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(cr.zeros(2, 3), cr.tensor([0, 1]), reduction="avg")


@given(
    weighted=st.booleans(), reduction=st.sampled_from(REDUCTIONS), shape=st.sampled_from([(5, 4), (2, 4, 3)])
)
def test_nll_loss(torch, weighted, reduction, shape) -> None:
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape)
    target = rng.integers(0, 4, (shape[0], *shape[2:]))
    target.reshape(-1)[1] = -100
    w = rng.uniform(0.5, 2, 4) if weighted else None
    check_function_parity(
        torch,
        lambda t: torch.nn.functional.nll_loss(
            t, torch.tensor(target), None if w is None else torch.tensor(w), reduction=reduction
        ),
        lambda t: F.nll_loss(t, cr.tensor(target), None if w is None else cr.tensor(w), reduction=reduction),
        [x],
    )


REGRESSION = [
    ("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}), ("smooth_l1_loss", {"beta": 0.0}),
    ("huber_loss", {"delta": 0.7}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "kwargs"), REGRESSION, ids=[f"{n}{k}" for n, k in REGRESSION])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses(torch, name: str, kwargs: dict, reduction: str) -> None:
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((3, 4)) * 2, rng.standard_normal((3, 4))
    check_function_parity(
        torch,
        lambda a, b: getattr(torch.nn.functional, name)(a, b, reduction=reduction, **kwargs),
        lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kwargs),
        [x, y],
        second_order=name == "mse_loss",
    )


def test_mse_scales_by_element_count_not_batch() -> None:
    loss = F.mse_loss(cr.ones(4, 5), cr.zeros(4, 5))
    assert float(loss) == 1.0


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(torch, weighted: bool, reduction: str) -> None:
    rng = np.random.default_rng(5)
    x, t = rng.uniform(0.02, 0.98, (4, 3)), rng.uniform(0, 1, (4, 3))
    w = rng.uniform(0.5, 2, 3) if weighted else None
    check_function_parity(
        torch,
        lambda a, b: torch.nn.functional.binary_cross_entropy(
            a, b, None if w is None else torch.tensor(w), reduction=reduction
        ),
        lambda a, b: F.binary_cross_entropy(a, b, None if w is None else cr.tensor(w), reduction=reduction),
        [x, t],
    )


def test_binary_cross_entropy_clamps_logs_at_minus_100(torch) -> None:
    x, t = np.array([0.0, 1.0, 0.5]), np.array([1.0, 0.0, 1.0])
    check_function_parity(
        torch, torch.nn.functional.binary_cross_entropy, F.binary_cross_entropy, [x, t], atol=1e-6
    )
    with pytest.raises(RuntimeError, match="between 0 and 1"):  # torch's RuntimeError
        F.binary_cross_entropy(cr.tensor([1.5]), cr.tensor([1.0]))


@given(weighted=st.booleans(), pos=st.booleans(), reduction=st.sampled_from(REDUCTIONS))
def test_binary_cross_entropy_with_logits(torch, weighted, pos, reduction) -> None:
    rng = np.random.default_rng(6)
    x, t = rng.standard_normal((4, 3)) * 3, rng.uniform(0, 1, (4, 3))
    x[0, 0] = 0.0
    w = rng.uniform(0.5, 2, 3) if weighted else None
    pw = rng.uniform(0.5, 3, 3) if pos else None

    def tf(a, b):  # noqa: ANN001, ANN202
        return torch.nn.functional.binary_cross_entropy_with_logits(
            a,
            b,
            None if w is None else torch.tensor(w),
            reduction=reduction,
            pos_weight=None if pw is None else torch.tensor(pw),
        )

    def cf(a, b):  # noqa: ANN001, ANN202
        return F.binary_cross_entropy_with_logits(
            a,
            b,
            None if w is None else cr.tensor(w),
            reduction=reduction,
            pos_weight=None if pw is None else cr.tensor(pw),
        )

    check_function_parity(torch, tf, cf, [x, t], second_order=True)


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", ["batchmean", "mean", "sum", "none"])
def test_kl_div(torch, log_target: bool, reduction: str) -> None:
    rng = np.random.default_rng(8)
    x = np.log(rng.dirichlet(np.ones(4), 3))
    t = rng.dirichlet(np.ones(4), 3)
    if log_target:
        t = np.log(t)
    kw = {"reduction": reduction, "log_target": log_target}
    check_function_parity(
        torch, lambda a, b: torch.nn.functional.kl_div(a, b, **kw), lambda a, b: F.kl_div(a, b, **kw), [x, t]
    )
    if not log_target:  # a zero target contributes 0·log 0 = 0 (its own gradient is undefined: not compared)
        t[0, 1] = 0.0
        check_function_parity(
            torch,
            lambda a: torch.nn.functional.kl_div(a, torch.tensor(t), **kw),
            lambda a: F.kl_div(a, cr.tensor(t), **kw),
            [x],
        )


@pytest.mark.parametrize(
    "loss_fn",
    [
        lambda x: F.cross_entropy(x, cr.tensor([0, 1, 2])),
        lambda x: F.cross_entropy(x, cr.tensor([2, 0, 1]), label_smoothing=0.1),
        lambda x: F.cross_entropy(x, F.softmax(cr.tensor([[1.0, 0.0, 0.0]] * 3), dim=1)),
        lambda x: F.nll_loss(F.log_softmax(x, dim=1), cr.tensor([1, 1, 0])),
        lambda x: F.binary_cross_entropy_with_logits(x, cr.ones(3, 3) * 0.5),
        lambda x: F.binary_cross_entropy_with_logits(x, cr.ones(3, 3), pos_weight=cr.tensor([2.0, 1.0, 0.5])),
        lambda x: F.kl_div(F.log_softmax(x, dim=1), cr.ones(3, 3) / 3, reduction="batchmean"),
    ],
)
def test_losses_finite_at_huge_logits(torch, loss_fn) -> None:
    x = cr.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, -1e4]], requires_grad=True)
    loss = loss_fn(x)
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32
    assert np.isfinite(loss.data).all() and np.isfinite(x.grad.data).all()


def test_huge_logits_match_torch_values(torch) -> None:
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]])
    target = np.array([1, 0])
    check_function_parity(
        torch,
        lambda t: torch.nn.functional.cross_entropy(t, torch.tensor(target)),
        lambda t: F.cross_entropy(t, cr.tensor(target)),
        [x],
    )
    check_function_parity(
        torch,
        lambda t: torch.nn.functional.binary_cross_entropy_with_logits(t, torch.ones(2, 3)),
        lambda t: F.binary_cross_entropy_with_logits(t, cr.ones(2, 3).double()),
        [x],
    )


def test_legacy_size_average_and_reduce(torch) -> None:
    x, y = np.ones((2, 2)), np.zeros((2, 2))
    assert float(F.mse_loss(cr.tensor(x), cr.tensor(y), size_average=False)) == 4.0
    assert F.l1_loss(cr.tensor(x), cr.tensor(y), reduce=False).shape == (2, 2)


@pytest.mark.parametrize("fn", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
@pytest.mark.parametrize("shapes", [((4, 1), (4,)), ((4,), (4, 1)), ((4,), ())])
def test_regression_losses_warn_on_different_sizes_then_broadcast_like_torch(
    torch, fn: str, shapes: tuple
) -> None:
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    phrase = "Using a target size .* that is different to the input size"
    with pytest.warns(UserWarning, match=phrase) as ours:
        got = getattr(F, fn)(cr.tensor(x), cr.tensor(t))
    assert ours[0].filename == __file__
    with pytest.warns(UserWarning, match=phrase):
        expected = getattr(torch.nn.functional, fn)(torch.tensor(x), torch.tensor(t))
    np.testing.assert_allclose(got.item(), expected.item(), rtol=1e-12)


def test_same_size_losses_do_not_warn(recwarn) -> None:
    F.mse_loss(cr.zeros(3, 1), cr.ones(3, 1))
    assert not [w for w in recwarn if "target size" in str(w.message)]


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_integer_logits_raise_like_torch(torch, fn: str) -> None:
    with pytest.raises(NotImplementedError):
        getattr(torch.nn.functional, fn)(torch.tensor([[1, 2]]), torch.tensor([0]))
    with pytest.raises(NotImplementedError, match="not implemented for 'int64'"):
        getattr(F, fn)(cr.tensor([[1, 2]]), cr.tensor([0]))


def test_cross_entropy_float_targets_without_the_class_dim_raise_like_torch(torch) -> None:
    with pytest.raises(RuntimeError, match="expected target dtype to be Long"):
        torch.nn.functional.cross_entropy(torch.zeros(2, 3), torch.zeros(2))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long"):
        F.cross_entropy(cr.zeros(2, 3), cr.zeros(2))
