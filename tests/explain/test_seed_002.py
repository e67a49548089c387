"""Seed 002: backprop by hand through a 2-2-1 sigmoid network, checked three ways.

chainrule (engine backward and ``explain``) against PyTorch in float64 to 1e-12, and against the seed's own
hand formulas (d_Z2 = σ'(Z2)(y−t), d_W2 = A1ᵀ d_Z2, d_Z1 = d_Z2 W2ᵀ ∘ σ'(Z1), d_W1 = A0ᵀ d_Z1) in NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import examples

A0 = np.array([[0.35, 0.9]])
W1 = np.array([[0.1, 0.4], [0.8, 0.6]])
W2 = np.array([[0.3], [0.9]])
T = np.array([0.5])
TOL = dict(rtol=0, atol=1e-12)


def _sigma(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _sigma_prime(z: np.ndarray) -> np.ndarray:
    return _sigma(z) * (1.0 - _sigma(z))


def hand() -> dict[str, np.ndarray]:
    """The seed's notebook, cell by cell (np.matrix replaced by 2-D arrays)."""
    Z1 = A0 @ W1
    A1 = _sigma(Z1)
    Z2 = A1 @ W2
    A2 = _sigma(Z2)
    y = A2
    loss = 0.5 * (y - T) * (y - T)
    d_Z2 = _sigma_prime(Z2) * (y - T)
    d_W2 = A1.T @ d_Z2
    d_A1 = d_Z2 @ W2.T
    d_Z1 = d_A1 * _sigma_prime(Z1)
    d_W1 = A0.T @ d_Z1
    return dict(Z1=Z1, A1=A1, Z2=Z2, A2=A2, L=loss, d_Z2=d_Z2, d_W2=d_W2, d_A1=d_A1, d_Z1=d_Z1, d_W1=d_W1)


def torch_reference(torch) -> dict[str, np.ndarray]:
    """The seed's PyTorch cells: loss2 = (Y - t).pow(2).sum() / 2, then backward."""
    tT = torch.tensor(T, dtype=torch.float64)
    tx = torch.tensor(A0, dtype=torch.float64)
    tW1 = torch.tensor(W1, dtype=torch.float64, requires_grad=True)
    tW2 = torch.tensor(W2, dtype=torch.float64, requires_grad=True)
    Z1 = tx.mm(tW1)
    A1 = torch.sigmoid(Z1)
    Z2 = A1.mm(tW2)
    A2 = torch.sigmoid(Z2)
    for t in (Z1, A1, Z2, A2):
        t.retain_grad()
    loss2 = (A2 - tT).pow(2).sum() / 2.0
    loss2.backward()
    out = {k: v.detach().numpy() for k, v in dict(Z1=Z1, A1=A1, Z2=Z2, A2=A2, L=loss2).items()}
    out.update(d_W1=tW1.grad.numpy(), d_W2=tW2.grad.numpy(), d_Z1=Z1.grad.numpy(), d_A1=A1.grad.numpy())
    out.update(d_Z2=Z2.grad.numpy(), W1_new=(tW1 - tW1.grad).detach().numpy())
    return out


def build():
    """The network in chainrule, the way a reader would write it (names from the variables)."""
    A0_ = cr.tensor(A0, dtype="float64")
    W1_ = cr.tensor(W1, dtype="float64", requires_grad=True)
    W2_ = cr.tensor(W2, dtype="float64", requires_grad=True)
    t = cr.tensor(T, dtype="float64")
    Z1 = A0_ @ W1_
    A1 = cr.sigmoid(Z1)
    Z2 = A1 @ W2_
    A2 = cr.sigmoid(Z2)
    L = ((A2 - t) ** 2).sum() / 2.0
    names = {"A0": A0_, "W1": W1_, "W2": W2_, "t": t, "Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2, "L": L}
    return L, names


def test_hand_formulas_agree_with_torch(torch):
    ref, h = torch_reference(torch), hand()
    for key in ("Z1", "A1", "Z2", "A2", "d_Z2", "d_W2", "d_A1", "d_Z1", "d_W1"):
        np.testing.assert_allclose(h[key], ref[key], **TOL, err_msg=key)
    np.testing.assert_allclose(h["L"].reshape(()), ref["L"], **TOL)


def test_engine_forward_backward_and_update_match_torch(torch):
    ref, h = torch_reference(torch), hand()
    L, n = build()
    for key in ("Z1", "A1", "Z2", "A2"):
        assert n[key].dtype == np.float64
        np.testing.assert_allclose(n[key].data, ref[key], **TOL, err_msg=key)
    np.testing.assert_allclose(L.data, ref["L"], **TOL)
    L.backward()
    np.testing.assert_allclose(n["W1"].grad.data, ref["d_W1"], **TOL)
    np.testing.assert_allclose(n["W2"].grad.data, ref["d_W2"], **TOL)
    np.testing.assert_allclose(n["W1"].grad.data, h["d_W1"], **TOL)
    np.testing.assert_allclose(n["W2"].grad.data, h["d_W2"], **TOL)
    W1_new = n["W1"].data - n["W1"].grad.data  # one SGD step, lr 1
    np.testing.assert_allclose(W1_new, ref["W1_new"], **TOL)
    np.testing.assert_allclose(W1_new, W1 - h["d_W1"], **TOL)


@pytest.mark.parametrize("how", ["example", "locals"])
def test_explain_report_shows_the_hand_derivation(torch, how):
    ref, h = torch_reference(torch), hand()
    if how == "example":
        report = cr.explain(examples.two_layer())
    else:
        L, names = build()
        report = cr.explain(L, names=names)
    for key in ("Z1", "A1", "Z2", "A2"):
        np.testing.assert_allclose(report.values[key], h[key], **TOL, err_msg=key)
        np.testing.assert_allclose(report.values[key], ref[key], **TOL, err_msg=key)
    for key in ("Z2", "A1", "Z1", "W2", "W1"):
        np.testing.assert_allclose(report.grads[key], h[f"d_{key}"], **TOL, err_msg=key)
        np.testing.assert_allclose(report.grads[key], ref[f"d_{key}"], **TOL, err_msg=key)
    # each step's numbers: upstream gradient in, local rule applied, result out
    s = report.step("Z2", "Sigmoid")
    assert s.rule == "dL/dZ2 = dL/dA2 · σ(Z2)(1−σ(Z2))"
    np.testing.assert_allclose(s.upstream, h["A2"] - T, **TOL)  # dL/dA2 = y − t
    np.testing.assert_allclose(s.grad, h["d_Z2"], **TOL)
    s = report.step("W2", "MatMul")
    assert s.rule == "dL/dW2 = A1ᵀ · dL/dZ2"
    np.testing.assert_allclose(s.upstream, h["d_Z2"], **TOL)
    np.testing.assert_allclose(s.grad, h["d_W2"], **TOL)
    s = report.step("A1", "MatMul")
    assert s.rule == "dL/dA1 = dL/dZ2 · W2ᵀ"
    np.testing.assert_allclose(s.grad, h["d_A1"], **TOL)
    s = report.step("Z1", "Sigmoid")
    assert s.rule == "dL/dZ1 = dL/dA1 · σ(Z1)(1−σ(Z1))"
    np.testing.assert_allclose(s.grad, h["d_Z1"], **TOL)
    s = report.step("W1", "MatMul")
    assert s.rule == "dL/dW1 = A0ᵀ · dL/dZ1"
    np.testing.assert_allclose(s.upstream, h["d_Z1"], **TOL)
    np.testing.assert_allclose(s.grad, h["d_W1"], **TOL)
    # backward order: the loss end first, W1 last
    order = [st.node for st in report.steps]
    assert order.index("Z2") < order.index("W2") < order.index("Z1") < order.index("W1")


def test_numerical_check_passes_on_every_step():
    report = cr.explain(examples.two_layer(), numerical_check=True)
    assert report.ok is True
    assert all(s.ok for s in report.steps if s.complete)
    h = hand()
    np.testing.assert_allclose(report.numerical["W1"], h["d_W1"], rtol=1e-6, atol=1e-9)


def test_report_text_and_markdown_show_the_numbers():
    report = cr.explain(examples.two_layer(), numerical_check=True)
    h = hand()
    text, md = str(report), report.to_markdown()
    for doc in (text, md):
        assert "σ(Z2)(1−σ(Z2))" in doc
        assert "A1ᵀ · dL/dZ2" in doc
        assert f"{h['d_Z2'].item():.6g}" in doc
        assert f"{h['d_W1'][1, 1]:.6g}" in doc
        assert "✓" in doc and "✗" not in doc
