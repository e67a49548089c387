"""``F.ctc_loss`` and ``nn.CTCLoss`` against torch 2.13.0: values and gradients for hypothesis-drawn shapes,
target lengths (0, repeats such as "aa" that need a blank between, infeasible ones), every reduction,
padded and concatenated targets, unbatched input, float32 and float64; torch's errors; no double backward."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


@st.composite
def ctc_cases(draw: Any) -> dict[str, Any]:
    t = draw(st.integers(1, 7), label="T")
    n = draw(st.integers(1, 4), label="N")
    c = draw(st.integers(2, 5), label="C")
    blank = draw(st.integers(0, c - 1), label="blank")
    il = draw(st.lists(st.integers(0, t), min_size=n, max_size=n), label="input_lengths")
    tl = draw(st.lists(st.integers(0, t + 1), min_size=n, max_size=n), label="target_lengths")
    width = max(tl) + draw(st.integers(0, 2), label="padding")
    labels = [k for k in range(c) if k != blank]
    # few labels: repeats ("aa", which need a blank between) are common
    rows = [draw(st.lists(st.sampled_from(labels[:2]), min_size=width, max_size=width)) for _ in range(n)]
    return {
        "shape": (t, n, c),
        "blank": blank,
        "il": il,
        "tl": tl,
        "targets": np.array(rows, dtype=np.int64).reshape(n, width),
        "concatenated": draw(st.booleans(), label="concatenated"),
        "reduction": draw(st.sampled_from(["mean", "sum", "none"]), label="reduction"),
        "zero_infinity": draw(st.booleans(), label="zero_infinity"),
        "lengths_as": draw(st.sampled_from(["tensor", "list", "tuple"]), label="lengths as"),
        "normalised": draw(st.booleans(), label="log_softmax input"),
        "seed": draw(st.integers(0, 2**16), label="seed"),
    }


def _run(lib: Any, fn: Any, x: np.ndarray, case: dict[str, Any], w: np.ndarray | None) -> tuple[Any, Any]:
    """The loss and the gradient w.r.t. log_probs for upstream ``w`` (lib is chainrule or torch)."""
    targets = case["targets"]
    if case["concatenated"]:
        targets = np.concatenate([targets[i, :k] for i, k in enumerate(case["tl"])]).astype(np.int64)
    il, tl = case["il"], case["tl"]
    if case["lengths_as"] == "tensor":
        il, tl = lib.tensor(np.array(il, np.int64)), lib.tensor(np.array(tl, np.int64))
    elif case["lengths_as"] == "tuple":
        il, tl = tuple(il), tuple(tl)
    xt = lib.tensor(x, requires_grad=True)
    loss = fn(
        xt,
        lib.tensor(targets),
        il,
        tl,
        blank=case["blank"],
        reduction=case["reduction"],
        zero_infinity=case["zero_infinity"],
    )
    up = lib.tensor(w.astype(x.dtype) if w is not None else np.ones(loss.shape, x.dtype))
    (g,) = (cr.grad if lib is cr else torch.autograd.grad)([loss], [xt], [up])
    return loss, g


def _np(t: Any) -> np.ndarray:
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.data)


def _inputs(case: dict[str, Any], dtype: Any) -> np.ndarray:
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal(case["shape"]) * 2
    if case["normalised"]:
        x = x - np.log(np.exp(x).sum(-1, keepdims=True))
    return x.astype(dtype)


@settings(max_examples=60, deadline=None)
@given(case=ctc_cases())
def test_values_and_gradients_match_torch_float64(case: dict[str, Any]) -> None:
    x = _inputs(case, np.float64)
    w = np.random.default_rng(case["seed"] + 1).standard_normal(case["shape"][1])
    if case["reduction"] != "none":
        w = np.array(w[0])
    loss, g = _run(cr, F.ctc_loss, x, case, w)
    tloss, tg = _run(torch, TF.ctc_loss, x, case, w)
    assert loss.dtype == np.float64 and loss.shape == tuple(tloss.shape)
    np.testing.assert_allclose(_np(loss), _np(tloss), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(_np(g), _np(tg), rtol=1e-8, atol=1e-10)  # NaN where torch has NaN


@settings(max_examples=25, deadline=None)
@given(case=ctc_cases())
def test_values_and_gradients_match_torch_float32(case: dict[str, Any]) -> None:
    x = _inputs(case, np.float32)
    loss, g = _run(cr, F.ctc_loss, x, case, None)
    tloss, tg = _run(torch, TF.ctc_loss, x, case, None)
    assert loss.dtype == np.float32 and g.dtype == np.float32
    np.testing.assert_allclose(_np(loss), _np(tloss), rtol=2e-5, atol=1e-5)
    np.testing.assert_allclose(_np(g), _np(tg), rtol=2e-4, atol=2e-5)


def test_repeated_label_needs_a_blank_between() -> None:
    """ "aa" needs three frames (a, blank, a): two frames give inf, three a finite loss, as torch."""
    x = np.log(np.full((3, 1, 3), 1 / 3))
    for frames, finite in ((2, False), (3, True)):
        got = F.ctc_loss(cr.tensor(x), cr.tensor([[1, 1]]), [frames], [2], reduction="none")
        want = TF.ctc_loss(torch.tensor(x), torch.tensor([[1, 1]]), [frames], [2], reduction="none")
        assert bool(np.isfinite(got.data).all()) is finite
        np.testing.assert_allclose(got.data, want.numpy())
    # "ab" fits in two frames: the paths a·b only
    got = F.ctc_loss(cr.tensor(x), cr.tensor([[1, 2]]), [2], [2], reduction="sum")
    np.testing.assert_allclose(got.data, -2 * np.log(1 / 3))


def test_zero_infinity_zeroes_loss_and_gradient() -> None:
    rng = np.random.default_rng(0)
    x = TF.log_softmax(torch.tensor(rng.standard_normal((3, 2, 4))), 2).numpy()
    args = ([[1, 1, 1], [2, 3, 0]], [3, 3], [3, 2])  # sample 0 needs 5 frames
    for zi in (False, True):
        xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        lc = F.ctc_loss(xc, cr.tensor(args[0]), *args[1:], reduction="none", zero_infinity=zi)
        lt = TF.ctc_loss(xt, torch.tensor(args[0]), *args[1:], reduction="none", zero_infinity=zi)
        lc.sum().backward()
        lt.sum().backward()
        assert np.isinf(lc.data[0]) != zi
        np.testing.assert_allclose(lc.data, lt.detach().numpy())
        np.testing.assert_allclose(xc.grad.data, xt.grad.numpy())  # NaN at sample 0 without zero_infinity
        assert np.isnan(xc.grad.data[:, 0]).all() != zi


def test_unbatched_input() -> None:
    rng = np.random.default_rng(1)
    x = TF.log_softmax(torch.tensor(rng.standard_normal((6, 5))), 1).numpy()
    for red in ("none", "mean", "sum"):
        for il, tl in ((torch.tensor(6), torch.tensor(3)), ([5], [3]), ((6,), (3,))):
            ilc = cr.tensor(il.numpy()) if isinstance(il, torch.Tensor) else il
            tlc = cr.tensor(tl.numpy()) if isinstance(tl, torch.Tensor) else tl
            for tg in ([1, 4, 4], [[1, 4, 4, 2]]):  # 1-D: concatenated; 2-D: padded (as torch)
                xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
                lc = F.ctc_loss(xc, cr.tensor(tg), ilc, tlc, reduction=red)
                lt = TF.ctc_loss(xt, torch.tensor(tg), il, tl, reduction=red)
                assert lc.shape == tuple(lt.shape) == ()
                lc.backward()
                lt.backward()
                np.testing.assert_allclose(lc.data, lt.detach().numpy())
                np.testing.assert_allclose(xc.grad.data, xt.grad.numpy(), atol=1e-12)


def test_unnormalised_inputs_get_torchs_gradient_not_the_free_one() -> None:
    """torch's gradient carries exp(log_probs): on un-normalised input it differs from central differences,
    and chainrule's is torch's."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 1, 3))
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.ctc_loss(xc, cr.tensor([[1, 2]]), [4], [2], reduction="sum").backward()
    TF.ctc_loss(xt, torch.tensor([[1, 2]]), [4], [2], reduction="sum").backward()
    np.testing.assert_allclose(xc.grad.data, xt.grad.numpy(), rtol=1e-10)
    e = np.zeros_like(x)
    e[0, 0, 1] = 1e-6
    fd = (
        F.ctc_loss(cr.tensor(x + e), cr.tensor([[1, 2]]), [4], [2], reduction="sum").item()
        - F.ctc_loss(cr.tensor(x - e), cr.tensor([[1, 2]]), [4], [2], reduction="sum").item()
    ) / 2e-6
    assert abs(fd - xc.grad.data[0, 0, 1]) > 1e-3  # differs by exp(x[0, 0, 1])
    np.testing.assert_allclose(fd + np.exp(x[0, 0, 1]), xc.grad.data[0, 0, 1], rtol=1e-6)


def test_gradient_through_log_softmax_matches_central_differences() -> None:
    rng = np.random.default_rng(3)
    xs = [cr.tensor(rng.standard_normal((5, 2, 4)), requires_grad=True)]

    def f(x: Any) -> Any:
        return F.ctc_loss(F.log_softmax(x, 2), cr.tensor([[1, 1], [2, 3]]), [5, 4], [2, 1])

    assert cr.gradcheck(f, xs)


def test_double_backward_raises_like_torch() -> None:
    x = np.log(np.full((4, 1, 3), 1 / 3))
    xt = torch.tensor(x, requires_grad=True)
    (gt,) = torch.autograd.grad(TF.ctc_loss(xt, torch.tensor([[1, 2]]), [4], [2]), xt, create_graph=True)
    with pytest.raises(RuntimeError, match=r"derivative for .*ctc_loss_backward is not implemented"):
        torch.autograd.grad(gt.sum(), xt)
    xc = cr.tensor(x, requires_grad=True)
    (gc,) = cr.grad([F.ctc_loss(xc, cr.tensor([[1, 2]]), [4], [2])], [xc], create_graph=True)
    np.testing.assert_allclose(gc.data, gt.detach().numpy())  # the first gradient is still right
    with pytest.raises(RuntimeError, match="derivative for ctc_loss_backward is not implemented"):
        cr.grad([gc.sum()], [xc])


def _both(fn_kwargs: dict[str, Any]) -> list[type[BaseException]]:
    """The exception types torch and chainrule raise for the same bad call."""
    out = []
    for lib, fn in ((torch, TF.ctc_loss), (cr, F.ctc_loss)):
        kw = {k: (lib.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in fn_kwargs.items()}
        with pytest.raises(Exception) as info:  # noqa: PT011 -- the types are compared below
            fn(kw.pop("x"), kw.pop("targets"), kw.pop("il"), kw.pop("tl"), **kw)
        out.append(info.type)
    return out


GOOD = {
    "x": np.log(np.full((5, 2, 4), 0.25)),
    "targets": np.array([[1, 1], [2, 3]]),
    "il": np.array([5, 3]),
    "tl": np.array([2, 2]),
}


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"il": np.array([6, 3])}, RuntimeError, "input_lengths to have value at most 5, but got value 6"),
        ({"il": np.array([-1, 3])}, RuntimeError, "input_lengths to have value at least 0"),
        ({"tl": np.array([-1, 2])}, RuntimeError, "target_lengths to have value at least 0"),
        ({"tl": np.array([3, 2])}, RuntimeError, "size at least 3 at dimension 1"),
        ({"targets": np.array([1, 1, 2])}, RuntimeError, "size 4 at dimension 0, but got size 3"),
        ({"targets": np.zeros((1, 2, 2), np.int64)}, RuntimeError, "Expected 1 to 2 dimensions"),
        ({"il": np.array([5])}, RuntimeError, "input_lengths must be of size batch_size"),
        ({"tl": np.array([2, 2, 2])}, RuntimeError, "target_lengths must be of size batch_size"),
        ({"il": np.array([5.0, 3.0])}, RuntimeError, "input_lengths must be integral"),
        ({"x": np.zeros((5, 2, 4, 1))}, RuntimeError, "Expected 3-dimensional tensor"),
        ({"x": np.zeros((0, 2, 4))}, RuntimeError, "must not be empty"),
        ({"blank": 4}, RuntimeError, "blank must be in label range"),
        ({"blank": -1}, RuntimeError, "blank must be in label range"),
        ({"reduction": "avg"}, ValueError, "avg is not a valid value for reduction"),
        ({"il": [5, 3]}, TypeError, "both be Tensors or both sequences"),
        ({"x": np.zeros((5, 2, 4), np.float16)}, NotImplementedError, "not implemented for"),
    ],
)
def test_errors_like_torch(change: dict[str, Any], error: type[BaseException], match: str) -> None:
    kw = {**GOOD, **change}
    assert _both(kw) == [error, error]
    cr_kw = {k: (cr.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    with pytest.raises(error, match=match):
        F.ctc_loss(cr_kw.pop("x"), cr_kw.pop("targets"), cr_kw.pop("il"), cr_kw.pop("tl"), **cr_kw)


def test_target_out_of_range_is_an_error_not_a_silent_value() -> None:
    """torch reads past the class dim (a garbage loss); chainrule refuses."""
    with pytest.raises(IndexError, match=r"target index out of range \[0, 4\): got \[5\]"):
        F.ctc_loss(cr.tensor(GOOD["x"]), cr.tensor([[5, 1], [2, 3]]), cr.tensor([5, 3]), cr.tensor([2, 2]))
    # entries past a target length are padding, never read
    got = F.ctc_loss(cr.tensor(GOOD["x"]), cr.tensor([[1, 9], [2, 3]]), [5, 3], [1, 2], reduction="none")
    want = TF.ctc_loss(
        torch.tensor(GOOD["x"]), torch.tensor([[1, 0], [2, 3]]), [5, 3], [1, 2], reduction="none"
    )
    np.testing.assert_allclose(got.data, want.numpy())


def test_module_matches_functional_and_torch() -> None:
    rng = np.random.default_rng(4)
    x = TF.log_softmax(torch.tensor(rng.standard_normal((6, 3, 5))), 2).numpy()
    targets, il, tl = np.array([1, 2, 2, 3, 4, 4]), [6, 5, 2], [3, 2, 1]
    for kw in ({}, {"blank": 4, "reduction": "sum"}, {"reduction": "none", "zero_infinity": True}):
        m, tm = cr.nn.CTCLoss(**kw), torch.nn.CTCLoss(**kw)
        assert (m.blank, m.reduction, m.zero_infinity) == (tm.blank, tm.reduction, tm.zero_infinity)
        got = m(cr.tensor(x), cr.tensor(targets), il, tl)
        np.testing.assert_allclose(got.data, tm(torch.tensor(x), torch.tensor(targets), il, tl).numpy())
