"""Losses against torch.nn.functional (float64), including the saturated ends."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.scalar import Scalar
from chainrule.scalar.losses import binary_cross_entropy, binary_cross_entropy_with_logits, mean, mse

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = F = None
needs_torch = pytest.mark.skipif(torch is None, reason="needs torch")


def compare(ours_fn, torch_fn, pred: float, target: float, target_grad: bool = False) -> None:
    p = Scalar(pred).requires_grad_()
    t = Scalar(target).requires_grad_() if target_grad else target
    loss = ours_fn(p, t)
    loss.backward()
    pt = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    tt = torch.tensor(target, dtype=torch.float64, requires_grad=target_grad)
    expected = torch_fn(pt, tt)
    expected.backward()
    assert math.isclose(loss.data, expected.item(), rel_tol=1e-12, abs_tol=1e-12)
    assert math.isclose(p.derivative, pt.grad.item(), rel_tol=1e-12, abs_tol=1e-12)
    if target_grad:
        assert math.isclose(t.derivative, tt.grad.item(), rel_tol=1e-12, abs_tol=1e-12)


@needs_torch
@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.booleans())
def test_bce_matches_torch(pred, target, target_grad):
    if target_grad and pred in (0.0, 1.0):
        target_grad = False  # d/dt is infinite there (log 0), in both libraries
    compare(binary_cross_entropy, F.binary_cross_entropy, pred, target, target_grad)


@needs_torch
@pytest.mark.parametrize("pred", [0.0, 1.0, 1e-300, 1.0 - 1e-16])
@pytest.mark.parametrize("target", [0.0, 1.0])
def test_bce_saturated_ends_are_finite_like_torch(pred, target):
    compare(binary_cross_entropy, F.binary_cross_entropy, pred, target)
    assert binary_cross_entropy(Scalar(pred), target).data <= 100.0


@needs_torch
@settings(max_examples=60, deadline=None)
@given(st.floats(-50.0, 50.0) | st.sampled_from([-1000.0, 1000.0]), st.floats(0.0, 1.0), st.booleans())
def test_bce_with_logits_matches_torch(logit, target, target_grad):
    compare(binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits, logit, target, target_grad)


@needs_torch
@settings(max_examples=40, deadline=None)
@given(st.floats(-10.0, 10.0), st.floats(-10.0, 10.0), st.booleans())
def test_mse_matches_torch(pred, target, target_grad):
    compare(mse, F.mse_loss, pred, target, target_grad)


@needs_torch
def test_sequences_give_the_mean():
    preds = [Scalar(v).requires_grad_() for v in (0.2, 0.7, 0.9)]
    targets = [0.0, 1.0, 1.0]
    loss = binary_cross_entropy(preds, targets)
    loss.backward()
    pt = torch.tensor([0.2, 0.7, 0.9], dtype=torch.float64, requires_grad=True)
    expected = F.binary_cross_entropy(pt, torch.tensor(targets, dtype=torch.float64))
    expected.backward()
    assert math.isclose(loss.data, expected.item(), rel_tol=1e-12)
    for p, g in zip(preds, pt.grad.tolist()):
        assert math.isclose(p.derivative, g, rel_tol=1e-12)
    assert math.isclose(mse([Scalar(1.0), Scalar(3.0)], [0.0, 0.0]).data, 5.0)


def test_mean():
    xs = [Scalar(float(k)).requires_grad_() for k in range(4)]
    m = mean(xs)
    m.backward()
    assert m.data == 1.5 and [x.derivative for x in xs] == [0.25] * 4
    with pytest.raises(ValueError, match="empty"):
        mean([])


def test_loss_errors():
    with pytest.raises(ValueError, match=r"\[0, 1\].*1\.5"):
        binary_cross_entropy(Scalar(1.5), 1.0)
    with pytest.raises(TypeError, match="float"):
        binary_cross_entropy(0.5, 1.0)
    with pytest.raises(TypeError, match="str"):
        mse(Scalar(0.5), "1")
    with pytest.raises(ValueError, match="2 predictions but 1 targets"):
        mse([Scalar(0.5), Scalar(0.5)], [1.0])
    with pytest.raises(TypeError, match="sequence of targets"):
        mse([Scalar(0.5)], 1.0)
