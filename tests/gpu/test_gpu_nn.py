"""nn functional ops and layers on a CUDA device give the CPU's values and gradients; a small MLP and CNN
train on the device exactly as on the CPU."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

_rng = np.random.default_rng(0)


def _x(*shape: int) -> np.ndarray:
    return _rng.standard_normal(shape)


def _idx(high: int, *shape: int) -> np.ndarray:
    return _rng.integers(0, high, shape)


# name -> (function of float tensors and int/extra arrays, float input arrays, int input arrays)
CASES: dict[str, tuple[Callable[..., Any], list[np.ndarray], list[np.ndarray]]] = {
    "conv2d": (
        lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
        [_x(2, 3, 7, 6), _x(4, 3, 3, 3), _x(4)],
        [],
    ),
    "conv2d[groups,dilation]": (
        lambda x, w: F.conv2d(x, w, padding="same", dilation=2, groups=2),
        [_x(2, 4, 6, 6), _x(4, 2, 3, 3)],
        [],
    ),
    "conv1d": (lambda x, w: F.conv1d(x, w, padding=2), [_x(2, 3, 9), _x(5, 3, 4)], []),
    "conv_transpose2d": (
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
        [_x(2, 3, 4, 4), _x(3, 2, 3, 3), _x(2)],
        [],
    ),
    "max_pool2d": (lambda x: F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True), [_x(2, 3, 7, 7)], []),
    "max_pool2d[indices]": (lambda x: F.max_pool2d(x, 2, return_indices=True)[0] * 1.0, [_x(1, 2, 4, 6)], []),
    "avg_pool2d": (
        lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False),
        [_x(2, 3, 7, 6)],
        [],
    ),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, (3, 2)), [_x(2, 3, 7, 5)], []),
    "batch_norm[train]": (
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        [_x(4, 3, 2, 2), _x(3), _x(3)],
        [],
    ),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (5,), w, b), [_x(3, 4, 5), _x(5), _x(5)], []),
    "group_norm": (lambda x: F.group_norm(x, 2), [_x(2, 4, 3)], []),
    "softmax+log_softmax": (lambda x: F.softmax(x, 1) * F.log_softmax(x, 0), [_x(3, 5)], []),
    "gelu": (lambda x: F.gelu(x) + F.gelu(x, approximate="tanh"), [_x(4, 3)], []),
    "cross_entropy": (
        lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1, ignore_index=2),
        [_x(6, 4)],
        [_idx(4, 6)],
    ),
    "cross_entropy[weight,none]": (
        lambda x, w, t: F.cross_entropy(x, t, weight=w.detach().abs(), reduction="none"),
        [_x(5, 3, 2), _x(3)],
        [_idx(3, 5, 2)],
    ),
    "nll_loss": (lambda x, t: F.nll_loss(F.log_softmax(x, 1), t), [_x(6, 4)], [_idx(4, 6)]),
    "mse+l1+huber": (
        lambda x, y: F.mse_loss(x, y) + F.l1_loss(x, y) + F.huber_loss(x, y, delta=0.5),
        [_x(4, 3), _x(4, 3)],
        [],
    ),
    "bce": (lambda x, y: F.binary_cross_entropy(x.sigmoid(), y.sigmoid()), [_x(5), _x(5)], []),
    "bce_with_logits": (
        lambda x, y, pw: F.binary_cross_entropy_with_logits(x, y.sigmoid(), pos_weight=pw.abs()),
        [_x(4, 3), _x(4, 3), _x(3)],
        [],
    ),
    "embedding": (lambda w, t: F.embedding(t, w, padding_idx=1), [_x(5, 3)], [_idx(5, 4, 6)]),
    "one_hot": (lambda x, t: x * F.one_hot(t, 4), [_x(6, 4)], [_idx(4, 6)]),
    "pad[reflect,replicate]": (
        lambda x: F.pad(x, (2, 1), mode="reflect") + F.pad(x, (2, 1), mode="replicate"),
        [_x(2, 3, 4)],
        [],
    ),
    "attention[causal]": (
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        [_x(2, 3, 4), _x(2, 3, 4), _x(2, 3, 4)],
        [],
    ),
    "normalize+norm": (lambda x: F.normalize(x, dim=1) * x.norm(dim=0), [_x(3, 4)], []),
}


def _run(
    fn: Callable[..., Any], floats: list[np.ndarray], ints: list[np.ndarray], device: str | None
) -> tuple:
    xs = [cr.tensor(a, requires_grad=True, device=device) for a in floats]
    ts = [cr.tensor(a, device=device) for a in ints]
    y = fn(*xs, *ts)
    gy = np.random.default_rng(1).standard_normal(y.shape)
    graph = cr.grad([y], xs, [cr.tensor(gy, device=device)], create_graph=True, allow_unused=True)
    y2 = fn(*xs, *ts)
    y2.backward(cr.tensor(gy, device=device))
    return [y], list(graph), [x.grad for x in xs]


def _host(t: Any) -> Any:
    return None if t is None else t.detach().cpu().numpy()


@pytest.mark.parametrize("name", sorted(CASES))
def test_functional_on_device_matches_cpu(name: str, device: str) -> None:
    fn, floats, ints = CASES[name]
    ref = _run(fn, floats, ints, None)
    got = _run(fn, floats, ints, device)
    for kind, r_list, g_list in zip(("value", "grad (graph)", "grad (fast)"), ref, got):
        for i, (r, g) in enumerate(zip(r_list, g_list)):
            if r is None:
                assert g is None
                continue
            assert g.device == "cuda", f"{name} {kind} {i} came back on {g.device}"
            np.testing.assert_allclose(_host(g), _host(r), rtol=1e-6, atol=1e-9, err_msg=f"{name} {kind} {i}")


def test_dropout_mask_follows_the_seed_on_any_device(device: str) -> None:
    x = np.ones((4, 5))
    cr.manual_seed(3)
    ref = F.dropout(cr.tensor(x), 0.5).numpy()
    cr.manual_seed(3)
    got = F.dropout(cr.tensor(x, device=device), 0.5)
    assert got.device == "cuda"
    np.testing.assert_array_equal(got.cpu().numpy(), ref)


class _CNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(4 * 3 * 3, 3)

    def forward(self, x: Any) -> Any:
        h = self.pool(F.relu(self.bn(self.conv(x))))
        return self.fc(self.drop(F.avg_pool2d(h, 1).flatten(1)))


class _Seq(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.lstm = nn.LSTM(4, 5, batch_first=True)
        self.gru = nn.GRU(5, 3, batch_first=True)
        self.head = nn.Linear(3, 3)

    def forward(self, t: Any) -> Any:
        out, _ = self.gru(self.lstm(self.emb(t))[0])
        return self.head(nn.functional.layer_norm(out[:, -1], (3,)))


def _train(model: nn.Module, device: str | None, opt_cls: Any, data: np.ndarray, target: np.ndarray) -> list:
    model = copy.deepcopy(model)
    if device is not None:
        model.to(device)
    opt = opt_cls(model.parameters(), lr=0.05)
    loader = cr.data.DataLoader(
        cr.data.TensorDataset(cr.tensor(data), cr.tensor(target)), batch_size=4, device=device
    )
    losses = []
    model.train()
    for step, (xb, yb) in enumerate(loader):
        assert xb.device == yb.device == (device or "cpu")
        cr.manual_seed(step)
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    params = [p.detach().cpu().numpy() for p in model.parameters()]
    buffers = [b.detach().cpu().numpy() for b in model.buffers()]
    return losses, params, buffers


@pytest.mark.parametrize(("kind", "opt"), [("mlp", "SGD"), ("cnn", "Adam"), ("seq", "RMSprop")])
def test_train_steps_on_device_match_cpu(kind: str, opt: str, device: str) -> None:
    rng = np.random.default_rng(5)
    if kind == "mlp":
        model: nn.Module = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))
        data = rng.standard_normal((12, 6)).astype(np.float32)
    elif kind == "cnn":
        model = _CNN()
        data = rng.standard_normal((12, 1, 6, 6)).astype(np.float32)
    else:
        model = _Seq()
        data = rng.integers(0, 10, (12, 5))
    target = rng.integers(0, 3, 12)
    opt_cls = getattr(cr.optim, opt)
    ref = _train(model, None, opt_cls, data, target)
    got = _train(model, device, opt_cls, data, target)
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-5, atol=1e-6)
    for g, r in zip(got[1] + got[2], ref[1] + ref[2]):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-6)
