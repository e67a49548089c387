"""Small end-to-end checks: losses go down when training (MLP, CNN, LSTM), a few SGD steps track torch
exactly, and the gradient-clipping utilities match torch."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn


def sgd_step(model: nn.Module, lr: float) -> None:
    with cr.no_grad():
        for p in model.parameters():
            p.sub_(p.grad * lr)
    model.zero_grad()


def test_mlp_loss_goes_down() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 2)).astype(np.float32)
    y = ((x[:, 0] * x[:, 1]) > 0).astype(np.int64)  # XOR-like quadrants
    model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 2))
    losses = []
    for _ in range(150):
        loss = F.cross_entropy(model(cr.tensor(x)), cr.tensor(y))
        loss.backward()
        sgd_step(model, 0.5)
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]
    acc = (model(cr.tensor(x)).data.argmax(1) == y).mean()
    assert acc > 0.9


def test_cnn_loss_goes_down() -> None:
    rng = np.random.default_rng(1)
    images = rng.standard_normal((64, 1, 8, 8)).astype(np.float32) * 0.3
    labels = rng.integers(0, 2, 64)
    images[labels == 1, :, :, :4] += 1.0  # class 1: bright left half
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 2),
    )
    first = last = None
    for _ in range(30):
        loss = F.cross_entropy(model(cr.tensor(images)), cr.tensor(labels))
        loss.backward()
        sgd_step(model, 0.1)
        first = float(loss) if first is None else first
        last = float(loss)
    assert last < 0.5 * first
    model.eval()
    assert (model(cr.tensor(images)).data.argmax(1) == labels).mean() > 0.9


def test_lstm_fits_a_short_sine() -> None:
    t = np.linspace(0, 4 * np.pi, 41, dtype=np.float32)
    seq = np.sin(t)
    x, y = cr.tensor(seq[:-1].reshape(1, -1, 1)), cr.tensor(seq[1:].reshape(1, -1, 1))
    lstm, head = nn.LSTM(1, 16, batch_first=True), nn.Linear(16, 1)
    params = [*lstm.parameters(), *head.parameters()]
    losses = []
    for _ in range(60):
        out, _ = lstm(x)
        loss = F.mse_loss(head(out), y)
        loss.backward()
        with cr.no_grad():
            for p in params:
                p.sub_(p.grad * 0.3)
                p.grad = None
        losses.append(float(loss))
    assert losses[-1] < 0.2 * losses[0]


def test_sgd_steps_track_torch(torch) -> None:
    def build(lib):  # noqa: ANN001, ANN202
        return lib.nn.Sequential(
            lib.nn.Conv2d(1, 3, 3),
            lib.nn.ReLU(),
            lib.nn.AvgPool2d(2),
            lib.nn.Flatten(),
            lib.nn.Linear(12, 5),
            lib.nn.LayerNorm(5),
            lib.nn.GELU(),
            lib.nn.Linear(5, 3),
        )

    torch.manual_seed(0)
    tmodel = build(torch).double()
    model = build(cr)
    model.load_state_dict(tmodel.state_dict())
    model.double()
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((6, 1, 6, 6)), rng.integers(0, 3, 6)
    for _ in range(5):
        tloss = torch.nn.functional.cross_entropy(
            tmodel(torch.tensor(x)), torch.tensor(y), label_smoothing=0.1
        )
        tloss.backward()
        with torch.no_grad():
            for p in tmodel.parameters():
                p -= 0.1 * p.grad
                p.grad = None
        loss = F.cross_entropy(model(cr.tensor(x)), cr.tensor(y), label_smoothing=0.1)
        loss.backward()
        sgd_step(model, 0.1)
        assert float(loss) == pytest.approx(float(tloss.detach()), rel=1e-10)
    for name, p in tmodel.named_parameters():
        np.testing.assert_allclose(model.get_parameter(name).data, p.detach().numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_matches_torch(torch, norm_type: float) -> None:
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    params = [nn.Parameter(np.zeros_like(g)) for g in grads]
    tparams = [torch.nn.Parameter(torch.zeros_like(torch.tensor(g))) for g in grads]
    for p, tp, g in zip(params, tparams, grads):
        p.grad = g.copy()
        tp.grad = torch.tensor(g)
    total = nn.utils.clip_grad_norm_(params, 0.5, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, 0.5, norm_type)
    assert float(total) == pytest.approx(float(ttotal), rel=1e-10)
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-10)
    nn.utils.clip_grad_value_(params, 0.01)
    torch.nn.utils.clip_grad_value_(tparams, 0.01)
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-10)


def test_clip_grad_norm_keeps_small_grads_and_float32() -> None:
    p = nn.Parameter(cr.zeros(3))
    p.grad = np.array([0.1, 0.0, 0.0], dtype=np.float32)
    nn.utils.clip_grad_norm_([p], 1.0)
    np.testing.assert_array_equal(p.grad.data, np.array([0.1, 0.0, 0.0], dtype=np.float32))
    p.grad = np.array([30.0, 40.0, 0.0], dtype=np.float32)
    assert float(nn.utils.clip_grad_norm_(p, 1.0)) == pytest.approx(50.0)
    assert p.grad.dtype == np.float32 and float(np.linalg.norm(p.grad.data)) == pytest.approx(1.0, rel=1e-5)
    p.grad = np.array([np.inf, 0.0, 0.0], dtype=np.float32)
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_parameters_vector_round_trip() -> None:
    net = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(net.parameters())
    assert vec.shape == (8,)
    nn.utils.vector_to_parameters(vec * 0 + 1, net.parameters())
    assert np.all(net.weight.data == 1) and np.all(net.bias.data == 1)
