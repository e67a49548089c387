"""from_torch / to_torch: same layers, same weights, outputs equal to 1e-6 in float32."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.interop import SUPPORTED, from_torch, tensor_from_torch, tensor_to_torch, to_torch

torch = pytest.importorskip("torch")
tnn = torch.nn


def _first(out):
    return out[0] if isinstance(out, tuple) else out


# (torch module factory, input shape, integer input?)
CASES = {
    "Linear": (lambda: tnn.Linear(5, 3), (4, 5), False),
    "Linear-nobias": (lambda: tnn.Linear(5, 3, bias=False), (4, 5), False),
    "Conv1d": (lambda: tnn.Conv1d(2, 3, 3, stride=2, padding=1), (2, 2, 9), False),
    "Conv2d": (lambda: tnn.Conv2d(2, 4, 3, padding=1, dilation=1, groups=2), (2, 2, 7, 7), False),
    "ConvTranspose2d": (lambda: tnn.ConvTranspose2d(2, 3, 3, stride=2, padding=1), (2, 2, 4, 4), False),
    "MaxPool2d": (lambda: tnn.MaxPool2d(2), (2, 3, 6, 6), False),
    "AvgPool2d": (lambda: tnn.AvgPool2d(3, stride=2, padding=1), (2, 3, 7, 7), False),
    "AdaptiveAvgPool2d": (lambda: tnn.AdaptiveAvgPool2d(1), (2, 3, 5, 5), False),
    "Flatten": (lambda: tnn.Flatten(), (2, 3, 4), False),
    "Dropout": (lambda: tnn.Dropout(0.3).eval(), (4, 6), False),
    "BatchNorm1d": (lambda: tnn.BatchNorm1d(6), (8, 6), False),
    "BatchNorm2d": (lambda: tnn.BatchNorm2d(3).eval(), (2, 3, 4, 4), False),
    "LayerNorm": (lambda: tnn.LayerNorm(6), (3, 6), False),
    "Embedding": (lambda: tnn.Embedding(10, 4, padding_idx=0), (3, 5), True),
    "RNN": (lambda: tnn.RNN(4, 6, num_layers=2, batch_first=True), (2, 5, 4), False),
    "LSTM": (lambda: tnn.LSTM(4, 6, batch_first=True), (2, 5, 4), False),
    "GRU": (lambda: tnn.GRU(4, 6, num_layers=2), (5, 2, 4), False),
    "Identity": (lambda: tnn.Identity(), (2, 3), False),
    "ReLU": (lambda: tnn.ReLU(), (4, 5), False),
    "Sigmoid": (lambda: tnn.Sigmoid(), (4, 5), False),
    "Tanh": (lambda: tnn.Tanh(), (4, 5), False),
    "GELU": (lambda: tnn.GELU(approximate="tanh"), (4, 5), False),
    "SiLU": (lambda: tnn.SiLU(), (4, 5), False),
    "Softplus": (lambda: tnn.Softplus(beta=2.0), (4, 5), False),
    "LeakyReLU": (lambda: tnn.LeakyReLU(0.2), (4, 5), False),
    "ELU": (lambda: tnn.ELU(0.5), (4, 5), False),
    "Softmax": (lambda: tnn.Softmax(dim=1), (4, 5), False),
    "LogSoftmax": (lambda: tnn.LogSoftmax(dim=-1), (4, 5), False),
    "Sequential": (lambda: tnn.Sequential(tnn.Linear(3, 4), tnn.Tanh(), tnn.Linear(4, 2)), (5, 3), False),
}


def _input(shape, integer):
    rng = np.random.default_rng(0)
    if integer:
        return rng.integers(0, 10, shape).astype(np.int64)
    return rng.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("case", sorted(CASES))
def test_from_torch_matches_outputs(case):
    factory, shape, integer = CASES[case]
    torch.manual_seed(0)
    tm = factory()
    x = _input(shape, integer)
    cm = from_torch(tm)
    assert type(cm).__name__ == type(tm).__name__
    assert cm.training == tm.training
    expected = _first(tm(torch.from_numpy(x))).detach().numpy()
    actual = _first(cm(cr.tensor(x))).detach().numpy()
    assert actual.dtype == np.float32
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", sorted(CASES))
def test_to_torch_round_trip(case):
    factory, shape, integer = CASES[case]
    cm = from_torch(factory())
    for p in cm.parameters():  # new weights, so the round trip cannot pass by coincidence
        with cr.no_grad():
            p.copy_(cr.randn(*p.shape))
    tm = to_torch(cm)
    assert sorted(tm.state_dict()) == sorted(cm.state_dict())
    x = _input(shape, integer)
    expected = _first(cm(cr.tensor(x))).detach().numpy()
    actual = _first(tm(torch.from_numpy(x))).detach().numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def test_multihead_attention_round_trip():
    torch.manual_seed(0)
    tm = tnn.MultiheadAttention(8, 2, batch_first=True)
    cm = from_torch(tm)
    q = _input((2, 5, 8), False)
    expected = tm(*(torch.from_numpy(q),) * 3)[0].detach().numpy()
    actual = cm(*(cr.tensor(q),) * 3)[0].detach().numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def test_cnn_round_trip_keeps_gradients_equal():
    torch.manual_seed(0)
    tm = tnn.Sequential(tnn.Conv2d(1, 4, 3), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(), tnn.Linear(36, 3))
    cm = from_torch(tm)
    x = _input((2, 1, 8, 8), False)
    target = np.array([0, 2])
    tl = torch.nn.functional.cross_entropy(tm(torch.from_numpy(x)), torch.from_numpy(target))
    tl.backward()
    cl = nn.functional.cross_entropy(cm(cr.tensor(x)), cr.tensor(target))
    cl.backward()
    assert abs(float(cl) - tl.item()) < 1e-6
    for (name, p), (tname, tp) in zip(cm.named_parameters(), tm.named_parameters()):
        assert name == tname
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_unsupported_layer_is_named():
    class Custom(tnn.Module):
        def forward(self, x):
            return x

    with pytest.raises(NotImplementedError, match="Custom"):
        from_torch(tnn.Sequential(tnn.Linear(2, 2), Custom()))


def test_bidirectional_is_refused():
    with pytest.raises(NotImplementedError, match="bidirectional"):
        from_torch(tnn.LSTM(3, 4, bidirectional=True))


def test_tensor_conversion_keeps_values_and_requires_grad():
    t = cr.tensor([[1.5, -2.0]], requires_grad=True)
    tt = tensor_to_torch(t)
    assert tt.requires_grad and tt.dtype == torch.float32
    assert tt.tolist() == [[1.5, -2.0]]
    back = tensor_from_torch(tt)
    assert back.requires_grad and back.tolist() == [[1.5, -2.0]]


def test_supported_names_exist_in_both_libraries():
    for name in SUPPORTED:
        assert hasattr(nn, name), name
        assert hasattr(tnn, name), name
