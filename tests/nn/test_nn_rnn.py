"""RNN, LSTM, GRU, their cells and MultiheadAttention against torch (torch's state dict loaded, float64)."""

from __future__ import annotations

import numpy as np
import pytest
from nn_parity import check_module_parity

import chainrule as cr

RNG = np.random.default_rng(1)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"num_layers": 2, "batch_first": True},
        {"bidirectional": True, "bias": False},
        {"num_layers": 2, "bidirectional": True, "batch_first": True},
    ],
)
def test_recurrent_layers_match_torch(torch, name: str, kwargs: dict) -> None:
    torch.manual_seed(0)
    t_mod = getattr(torch.nn, name)(3, 4, **kwargs)
    c_mod = getattr(cr.nn, name)(3, 4, **kwargs)
    assert repr(c_mod) == repr(t_mod)
    x = RNG.standard_normal((2, 5, 3) if kwargs.get("batch_first") else (5, 2, 3))
    check_module_parity(torch, t_mod, c_mod, [x])


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers_with_initial_state(torch, name: str) -> None:
    torch.manual_seed(0)
    t_mod, c_mod = getattr(torch.nn, name)(3, 4, num_layers=2), getattr(cr.nn, name)(3, 4, num_layers=2)
    x, h0, c0 = RNG.standard_normal((6, 2, 3)), RNG.standard_normal((2, 2, 4)), RNG.standard_normal((2, 2, 4))
    if name == "LSTM":
        check_module_parity(torch, t_mod, c_mod, [x, h0, c0], call=lambda m, x, h, c: m(x, (h, c)))
    else:
        check_module_parity(torch, t_mod, c_mod, [x, h0])


def test_rnn_relu_unbatched(torch) -> None:
    torch.manual_seed(0)
    t_mod, c_mod = torch.nn.RNN(3, 4, nonlinearity="relu"), cr.nn.RNN(3, 4, nonlinearity="relu")
    check_module_parity(torch, t_mod, c_mod, [RNG.standard_normal((5, 3)), RNG.standard_normal((1, 4))])


def test_lstm_unbatched(torch) -> None:
    torch.manual_seed(0)
    check_module_parity(torch, torch.nn.LSTM(2, 3), cr.nn.LSTM(2, 3), [RNG.standard_normal((4, 2))])


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_torch(torch, name: str) -> None:
    torch.manual_seed(0)
    t_mod, c_mod = getattr(torch.nn, name)(3, 4), getattr(cr.nn, name)(3, 4)
    assert repr(c_mod) == repr(t_mod)
    x, h = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 4))
    if name == "LSTMCell":
        c = RNG.standard_normal((2, 4))
        check_module_parity(torch, t_mod, c_mod, [x, h, c], call=lambda m, x, h, c: m(x, (h, c)))
    else:
        check_module_parity(torch, t_mod, c_mod, [x, h])
        check_module_parity(torch, t_mod, c_mod, [x[0]])


def test_lstm_gate_order_matches_torch_semantics() -> None:
    """With only the forget-gate bias large, c_t ≈ c_(t-1): gate order (i, f, g, o) as torch."""
    lstm = cr.nn.LSTM(1, 1)
    for p in lstm.parameters():
        p.data[...] = 0
    lstm.bias_ih_l0.data[1] = 50.0  # forget gate fully open, input gate half open with g = tanh(0) = 0
    _, (_, c) = lstm(cr.zeros(3, 1, 1), (cr.zeros(1, 1, 1), cr.full((1, 1, 1), 0.7)))
    np.testing.assert_allclose(c.data, 0.7, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"batch_first": True}, {"bias": False}, {"kdim": 3, "vdim": 5}],
)
def test_multihead_attention_matches_torch(torch, kwargs: dict) -> None:
    torch.manual_seed(0)
    t_mod, c_mod = torch.nn.MultiheadAttention(8, 2, **kwargs), cr.nn.MultiheadAttention(8, 2, **kwargs)
    assert repr(c_mod) == repr(t_mod)
    bf = kwargs.get("batch_first", False)

    def shape(length: int, dim: int = 8) -> tuple[int, ...]:
        return (2, length, dim) if bf else (length, 2, dim)

    q = RNG.standard_normal(shape(4))
    k = RNG.standard_normal(shape(5, kwargs.get("kdim", 8)))
    v = RNG.standard_normal(shape(5, kwargs.get("vdim", 8)))
    check_module_parity(torch, t_mod, c_mod, [q, k, v])


def test_multihead_attention_self_attention_and_masks(torch) -> None:
    torch.manual_seed(0)
    t_mod, c_mod = torch.nn.MultiheadAttention(6, 3), cr.nn.MultiheadAttention(6, 3)
    x = RNG.standard_normal((4, 2, 6))
    pad = np.array([[False, False, True, False], [False, False, False, True]])
    causal = np.triu(np.ones((4, 4), dtype=bool), 1)

    def call(m, x, per_head: bool = False):  # noqa: ANN001, ANN202
        lib = torch if isinstance(x, torch.Tensor) else cr
        return m(
            x,
            x,
            x,
            key_padding_mask=lib.tensor(pad),
            attn_mask=lib.tensor(causal),
            average_attn_weights=per_head,
        )

    check_module_parity(torch, t_mod, c_mod, [x], call=call)
    float_mask = RNG.standard_normal((4, 4))

    def call_float(m, x):  # noqa: ANN001, ANN202
        lib = torch if isinstance(x, torch.Tensor) else cr
        return m(x, x, x, attn_mask=lib.tensor(float_mask), need_weights=False)

    check_module_parity(torch, t_mod, c_mod, [x], call=call_float)
    check_module_parity(torch, t_mod, c_mod, [x[:, 0]], call=lambda m, x: m(x, x, x))  # unbatched (L, E)


def test_scaled_dot_product_attention_matches_torch(torch) -> None:
    q, k, v = (RNG.standard_normal((2, 3, 4, 5)) for _ in range(3))
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    cq, ck, cv = (cr.tensor(a, requires_grad=True) for a in (q, k, v))
    for causal in (False, True):
        t_out = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=causal)
        c_out = cr.nn.functional.scaled_dot_product_attention(cq, ck, cv, is_causal=causal)
        np.testing.assert_allclose(c_out.data, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
        t_out.sum().backward()
        c_out.sum().backward()
        for c, t in ((cq, tq), (ck, tk), (cv, tv)):
            np.testing.assert_allclose(c.grad.data, t.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_rnn_dropout_only_between_layers_in_training() -> None:
    lstm = cr.nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = cr.randn(5, 2, 3)
    lstm.eval()
    a, _ = lstm(x)
    b, _ = lstm(x)
    np.testing.assert_array_equal(a.data, b.data)
    lstm.train()
    cr.manual_seed(1)
    c, _ = lstm(x)
    cr.manual_seed(2)
    d, _ = lstm(x)
    assert not np.allclose(c.data, d.data)


def test_rnn_wrong_hidden_shape() -> None:
    with pytest.raises(ValueError, match="h_0"):
        cr.nn.LSTM(3, 4)(cr.zeros(5, 2, 3), (cr.zeros(1, 3, 4), cr.zeros(1, 2, 4)))


@pytest.mark.parametrize("name", ["LSTMCell", "GRUCell", "LSTM", "GRU"])
def test_fused_cells_second_order_numerically(name: str) -> None:
    module = getattr(cr.nn, name)(2, 3).double()
    rng = np.random.default_rng(4)
    seq = name in ("LSTM", "GRU")
    x = cr.tensor(rng.standard_normal((3, 2, 2) if seq else (2, 2)), requires_grad=True)
    h = cr.tensor(rng.standard_normal((1, 2, 3) if seq else (2, 3)), requires_grad=True)

    def f(x, h):  # noqa: ANN001, ANN202
        out = module(x, (h, h * 0.5)) if name.startswith("LSTM") else module(x, h)
        return out[0] if isinstance(out, tuple) else out

    assert cr.gradgradcheck(f, [x, h])


def test_fused_lstm_second_order_matches_torch(torch) -> None:
    torch.manual_seed(0)
    t_cell, c_cell = torch.nn.LSTMCell(2, 3).double(), cr.nn.LSTMCell(2, 3)
    c_cell.load_state_dict(t_cell.state_dict())
    c_cell.double()
    rng = np.random.default_rng(5)
    x, h, c = (rng.standard_normal(s) for s in ((2, 2), (2, 3), (2, 3)))
    tx, th, tc = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
    cx, ch, cc = (cr.tensor(a, requires_grad=True) for a in (x, h, c))
    th_out, tc_out = t_cell(tx, (th, tc))
    ch_out, cc_out = c_cell(cx, (ch, cc))
    tg = torch.autograd.grad((th_out * tc_out).sum(), [tx, th, tc, t_cell.weight_hh], create_graph=True)
    cg = cr.grad((ch_out * cc_out).sum(), [cx, ch, cc, c_cell.weight_hh], create_graph=True)
    tgg = torch.autograd.grad(sum((g * g).sum() for g in tg), [tx, th, tc, t_cell.weight_hh])
    cgg = cr.grad(sum((g * g).sum() for g in cg), [cx, ch, cc, c_cell.weight_hh])
    for a, b in zip([*cg, *cgg], [*tg, *tgg]):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-9, atol=1e-11)


def test_multihead_attention_unbatched_with_padding_mask(torch) -> None:
    torch.manual_seed(0)
    t_mod, c_mod = torch.nn.MultiheadAttention(4, 2), cr.nn.MultiheadAttention(4, 2)
    x = RNG.standard_normal((3, 4))
    pad = np.array([False, True, False])

    def call(m, q):  # noqa: ANN001, ANN202
        lib = torch if isinstance(q, torch.Tensor) else cr
        return m(q, q, q, key_padding_mask=lib.tensor(pad))

    check_module_parity(torch, t_mod, c_mod, [x], call=call)
