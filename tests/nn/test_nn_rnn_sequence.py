"""The whole-sequence recurrent Functions: the same values and gradients as the step-by-step cells, and
second-order gradients through backpropagation through time (against torch and numerically)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

KWARGS = [{}, {"num_layers": 2, "bidirectional": True}, {"bias": False, "batch_first": True}]


def _run(module: cr.nn.Module, x: np.ndarray, h0: np.ndarray, c0: np.ndarray) -> list[np.ndarray]:
    """Outputs, and the gradients of a weighted sum of them w.r.t. input, states and every parameter."""
    tx, th, tc = (cr.tensor(a, requires_grad=True) for a in (x, h0, c0))
    out, (h, c) = module(tx, (th, tc))
    w = np.linspace(-1.0, 1.0, out.numel()).reshape(out.shape)
    loss = (out * cr.tensor(w)).sum() + (h * h).sum() + (c * 0.5).sum()
    grads = cr.grad(loss, [tx, th, tc, *module.parameters()])
    return [out.data, h.data, c.data, *(g.data for g in grads)]


@pytest.mark.parametrize("kwargs", KWARGS)
def test_lstm_sequence_matches_the_stepwise_cells(kwargs: dict) -> None:
    """Train mode runs one Function per sequence, eval mode with grad on (what onnx.export traces) runs the
    per-step cells: no dropout here, so the two must agree, gradients included."""
    lstm = cr.nn.LSTM(3, 4, **kwargs).double()
    rng = np.random.default_rng(0)
    dirs = 2 if kwargs.get("bidirectional") else 1
    x = rng.standard_normal((2, 5, 3) if kwargs.get("batch_first") else (5, 2, 3))
    h0, c0 = (rng.standard_normal((lstm.num_layers * dirs, 2, 4)) for _ in range(2))
    sequence = _run(lstm.train(), x, h0, c0)
    stepwise = _run(lstm.eval(), x, h0, c0)
    for a, b in zip(sequence, stepwise):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_lstm_sequence_second_order_matches_torch(torch) -> None:
    torch.manual_seed(0)
    t_mod = torch.nn.LSTM(2, 3, num_layers=2, bidirectional=True).double()
    c_mod = cr.nn.LSTM(2, 3, num_layers=2, bidirectional=True)
    c_mod.load_state_dict({k: v.detach().numpy() for k, v in t_mod.state_dict().items()})
    c_mod.double()
    rng = np.random.default_rng(5)
    x, h, c = (rng.standard_normal(s) for s in ((4, 2, 2), (4, 2, 3), (4, 2, 3)))
    tx, th, tc = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
    cx, ch, cc = (cr.tensor(a, requires_grad=True) for a in (x, h, c))
    t_out, (t_h, t_c) = t_mod(tx, (th, tc))
    c_out, (c_h, c_c) = c_mod(cx, (ch, cc))
    t_wrt = [tx, th, tc, t_mod.weight_hh_l0, t_mod.weight_hh_l1_reverse]
    c_wrt = [cx, ch, cc, c_mod.weight_hh_l0, c_mod.weight_hh_l1_reverse]
    tg = torch.autograd.grad((t_out * t_out).sum() + (t_h * t_c).sum(), t_wrt, create_graph=True)
    cg = cr.grad((c_out * c_out).sum() + (c_h * c_c).sum(), c_wrt, create_graph=True)
    tgg = torch.autograd.grad(sum((g * g).sum() for g in tg), t_wrt)
    cgg = cr.grad(sum((g * g).sum() for g in cg), c_wrt)
    for a, b in zip([*cg, *cgg], [*tg, *tgg]):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-9, atol=1e-11)


def test_lstm_sequence_gradgradcheck_bidirectional() -> None:
    lstm = cr.nn.LSTM(2, 2, bidirectional=True).double()
    rng = np.random.default_rng(6)
    x = cr.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    h = cr.tensor(rng.standard_normal((2, 2, 2)), requires_grad=True)
    c = cr.tensor(rng.standard_normal((2, 2, 2)), requires_grad=True)
    w = lstm.weight_hh_l0_reverse

    def f(x, h, c, w):  # noqa: ANN001, ANN202
        out, (h_n, c_n) = lstm(x, (h, c))
        return out.sum(dim=-1) + (h_n * c_n).sum()

    assert cr.gradcheck(f, [x, h, c, w])
    assert cr.gradgradcheck(f, [x, h, c, w])


def test_lstm_sequence_without_grad_and_with_dropout() -> None:
    lstm = cr.nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = cr.randn(5, 2, 3)
    with cr.no_grad():
        out, (h, c) = lstm(x)
    assert out.shape == (5, 2, 4) and h.shape == c.shape == (2, 2, 4)
    assert not out.requires_grad
    cr.manual_seed(3)
    a, _ = lstm(x)
    a.sum().backward()
    assert all(p.grad is not None for p in lstm.parameters())
