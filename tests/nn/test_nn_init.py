"""nn.init against torch's formulas, and every layer's default initialisation (torch's)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


@pytest.mark.parametrize(
    ("nonlinearity", "param"),
    [
        ("linear", None),
        ("conv2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("selu", None),
        ("conv_transpose2d", None),
    ],
)
def test_calculate_gain_matches_torch(torch, nonlinearity: str, param) -> None:
    assert nn.init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param)
    )


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (8, 4, 3, 2)])
def test_fan_in_and_out_match_torch(torch, shape: tuple) -> None:
    ours = nn.init._calculate_fan_in_and_fan_out(cr.zeros(*shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init._calculate_fan_in_and_fan_out(cr.zeros(3))


def _big(*shape: int) -> nn.Parameter:
    return nn.Parameter(cr.zeros(*shape))


def test_uniform_normal_constant_fill_in_place_without_graph() -> None:
    p = _big(200, 300)
    version = p._version
    assert nn.init.uniform_(p, -2.0, 3.0) is p
    assert p._version > version and p.is_leaf and p.dtype == np.float32
    assert p.data.min() >= -2.0 and p.data.max() <= 3.0 and abs(p.data.mean() - 0.5) < 0.05
    nn.init.normal_(p, 1.0, 2.0)
    assert abs(p.data.mean() - 1.0) < 0.05 and abs(p.data.std() - 2.0) < 0.05
    nn.init.constant_(p, 0.25)
    assert np.all(p.data == 0.25)
    nn.init.ones_(p)
    assert np.all(p.data == 1)
    nn.init.zeros_(p)
    assert not p.data.any()
    nn.init.eye_(p)
    np.testing.assert_array_equal(p.data, np.eye(200, 300))
    nn.init.trunc_normal_(p, 0.0, 1.0, -0.5, 0.5)
    assert p.data.min() >= -0.5 and p.data.max() <= 0.5


@pytest.mark.parametrize("fn", ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"])
@pytest.mark.parametrize("shape", [(300, 200), (64, 32, 3, 3)])
def test_scaled_inits_have_torchs_spread(torch, fn: str, shape: tuple) -> None:
    ours = getattr(nn.init, fn)(_big(*shape))
    theirs = getattr(torch.nn.init, fn)(torch.zeros(*shape))
    assert ours.data.std() == pytest.approx(float(theirs.std()), rel=0.05)
    if "uniform" in fn:
        assert np.abs(ours.data).max() <= float(theirs.abs().max()) * 1.01


def test_kaiming_modes_and_gain(torch) -> None:
    shape = (100, 400)
    for mode in ("fan_in", "fan_out"):
        ours = nn.init.kaiming_normal_(_big(*shape), mode=mode, nonlinearity="relu")
        theirs = torch.nn.init.kaiming_normal_(torch.zeros(*shape), mode=mode, nonlinearity="relu")
        assert ours.data.std() == pytest.approx(float(theirs.std()), rel=0.05)
    with pytest.raises(ValueError, match="Mode"):
        nn.init.kaiming_uniform_(_big(2, 2), mode="fan_avg")


def test_orthogonal_and_dirac() -> None:
    q = nn.init.orthogonal_(_big(6, 10), gain=2.0)
    np.testing.assert_allclose(q.data @ q.data.T, 4 * np.eye(6), atol=1e-5)
    w = nn.init.dirac_(_big(3, 3, 3, 3))
    x = cr.randn(1, 3, 5, 5)
    np.testing.assert_allclose(cr.nn.functional.conv2d(x, w, padding=1).data, x.data, atol=1e-6)


def test_init_uses_the_global_generator() -> None:
    cr.manual_seed(123)
    a = nn.Linear(5, 4).weight.data.copy()
    cr.manual_seed(123)
    b = nn.Linear(5, 4).weight.data.copy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, nn.Linear(5, 4).weight.data)


def _bound_ok(values: np.ndarray, bound: float) -> bool:
    """All within ±bound, and spread like U(-bound, bound) (the max comes close to the bound)."""
    return np.abs(values).max() <= bound * (1 + 1e-6) and np.abs(values).max() > 0.8 * bound


@pytest.mark.parametrize(
    ("factory", "fan_in"),
    [
        (lambda: nn.Linear(50, 40), 50),
        (lambda: nn.Conv2d(6, 40, 3), 54),
        (lambda: nn.Conv1d(4, 60, 5, groups=2), 10),
        (lambda: nn.ConvTranspose2d(6, 40, 3), 360),
        (lambda: nn.Bilinear(20, 5, 40), 20),
    ],
)
def test_default_uniform_fan_in_init(factory, fan_in: int) -> None:
    layer = factory()
    bound = 1 / math.sqrt(fan_in)
    assert _bound_ok(layer.weight.data, bound)
    assert np.abs(layer.bias.data).max() <= bound


def test_default_inits_of_other_layers() -> None:
    for rnn in (nn.LSTM(3, 25, num_layers=2), nn.GRU(3, 25), nn.RNN(3, 25), nn.LSTMCell(3, 25)):
        for name, p in rnn.named_parameters():
            assert _bound_ok(p.data, 1 / 5), name
    emb = nn.Embedding(1000, 20, padding_idx=3)
    assert abs(emb.weight.data.std() - 1) < 0.05 and not emb.weight.data[3].any()
    mha = nn.MultiheadAttention(16, 4)
    assert _bound_ok(mha.in_proj_weight.data, math.sqrt(6 / (16 + 48)))
    assert not mha.in_proj_bias.data.any() and not mha.out_proj.bias.data.any()
    bn, ln = nn.BatchNorm2d(3), nn.LayerNorm(3)
    for norm in (bn, ln):
        assert np.all(norm.weight.data == 1) and not norm.bias.data.any()
    assert not bn.running_mean.data.any() and np.all(bn.running_var.data == 1)
