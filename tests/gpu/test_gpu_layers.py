"""Every nn layer and loss module on a CUDA device gives the CPU's outputs, input gradients, parameter
gradients and buffers (one forward + backward, in train mode and, for layers with running statistics or
dropout, in eval mode too)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import backend, nn

_rng = np.random.default_rng(7)


def _x(*shape: int) -> np.ndarray:
    return _rng.standard_normal(shape)


def _p(*shape: int) -> np.ndarray:  # probabilities strictly inside (0, 1)
    return _rng.uniform(0.05, 0.95, shape)


def _i(high: int, *shape: int) -> np.ndarray:
    return _rng.integers(0, high, shape)


# name -> (layer factory, float inputs (get gradients), other inputs (targets, indices))
LAYERS: dict[str, tuple[Callable[[], nn.Module], list[np.ndarray], list[np.ndarray]]] = {
    "Conv1d": (lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1, bias=True), [_x(2, 3, 9)], []),
    "Conv2d[groups,dilation]": (
        lambda: nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2),
        [_x(2, 4, 6, 5)],
        [],
    ),
    "Conv2d[reflect]": (lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), [_x(1, 2, 5, 5)], []),
    "Conv3d": (lambda: nn.Conv3d(2, 3, (2, 3, 2), stride=(1, 2, 1), padding=1), [_x(2, 2, 4, 5, 3)], []),
    "ConvTranspose1d": (lambda: nn.ConvTranspose1d(3, 2, 4, stride=2, padding=1), [_x(2, 3, 5)], []),
    "ConvTranspose2d": (
        lambda: nn.ConvTranspose2d(3, 4, 3, stride=2, output_padding=1),
        [_x(2, 3, 3, 4)],
        [],
    ),
    "MaxPool1d": (lambda: nn.MaxPool1d(3, stride=2, padding=1), [_x(2, 3, 8)], []),
    "MaxPool2d": (lambda: nn.MaxPool2d(2, ceil_mode=True), [_x(2, 3, 5, 7)], []),
    "MaxPool3d": (lambda: nn.MaxPool3d(2, stride=(1, 2, 2)), [_x(1, 2, 4, 4, 5)], []),
    "AvgPool1d": (lambda: nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False), [_x(2, 3, 8)], []),
    "AvgPool2d": (lambda: nn.AvgPool2d(3, stride=2, padding=1), [_x(2, 2, 6, 7)], []),
    "AvgPool3d": (lambda: nn.AvgPool3d(2), [_x(1, 2, 4, 4, 6)], []),
    "AdaptiveAvgPool1d": (lambda: nn.AdaptiveAvgPool1d(4), [_x(2, 3, 9)], []),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d((2, 3)), [_x(2, 3, 7, 8)], []),
    "AdaptiveAvgPool2d[1]": (lambda: nn.AdaptiveAvgPool2d(1), [_x(2, 3, 4, 4)], []),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3), [_x(5, 3)], []),
    "BatchNorm1d[3d-input]": (lambda: nn.BatchNorm1d(3, momentum=None), [_x(4, 3, 5)], []),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3), [_x(4, 3, 3, 2)], []),
    "BatchNorm3d[no-affine]": (lambda: nn.BatchNorm3d(2, affine=False), [_x(2, 2, 3, 2, 2)], []),
    "LayerNorm": (lambda: nn.LayerNorm((4, 5)), [_x(3, 4, 5)], []),
    "GroupNorm": (lambda: nn.GroupNorm(2, 4), [_x(3, 4, 5)], []),
    "instance_norm": (lambda: _Fn(lambda x: nn.functional.instance_norm(x)), [_x(2, 3, 6)], []),
    "Embedding": (lambda: nn.Embedding(6, 3, padding_idx=0, max_norm=None), [], [_i(6, 4, 5)]),
    "Linear": (lambda: nn.Linear(5, 3), [_x(4, 5)], []),
    "Bilinear": (lambda: nn.Bilinear(3, 4, 2), [_x(5, 3), _x(5, 4)], []),
    "RNN[tanh,2 layers]": (lambda: _First(nn.RNN(3, 4, num_layers=2)), [_x(5, 2, 3)], []),
    "RNN[relu,batch_first]": (
        lambda: _First(nn.RNN(3, 4, nonlinearity="relu", batch_first=True)),
        [_x(2, 5, 3)],
        [],
    ),
    "LSTM": (lambda: _First(nn.LSTM(3, 4, batch_first=True)), [_x(2, 5, 3)], []),
    "LSTM[h0,c0]": (
        lambda: _LSTMState(nn.LSTM(3, 4, num_layers=2)),
        [_x(5, 2, 3), _x(2, 2, 4), _x(2, 2, 4)],
        [],
    ),
    "GRU": (lambda: _First(nn.GRU(3, 4, num_layers=2, dropout=0.3)), [_x(4, 2, 3)], []),
    "RNNCell": (lambda: nn.RNNCell(3, 4), [_x(2, 3), _x(2, 4)], []),
    "LSTMCell": (lambda: _First(nn.LSTMCell(3, 4)), [_x(2, 3)], []),
    "GRUCell": (lambda: nn.GRUCell(3, 4), [_x(2, 3)], []),
    "MultiheadAttention": (
        lambda: _First(nn.MultiheadAttention(4, 2, batch_first=True, dropout=0.2)),
        [_x(2, 3, 4), _x(2, 5, 4), _x(2, 5, 4)],
        [],
    ),
    "Dropout": (lambda: nn.Dropout(0.4), [_x(6, 5)], []),
    "Dropout1d": (lambda: nn.Dropout1d(0.5), [_x(3, 4, 5)], []),
    "Dropout2d": (lambda: nn.Dropout2d(0.5), [_x(2, 4, 3, 3)], []),
    "Flatten+Unflatten": (lambda: nn.Sequential(nn.Flatten(), nn.Unflatten(1, (2, 6))), [_x(2, 3, 4)], []),
    "activations": (
        lambda: nn.Sequential(nn.ReLU6(), nn.ELU(), nn.CELU(0.5), nn.SELU(), nn.Hardtanh(-0.5, 0.5)),
        [_x(4, 3) * 2],
        [],
    ),
    "activations[2]": (
        lambda: nn.Sequential(nn.Hardswish(), nn.Hardsigmoid(), nn.Mish(), nn.LogSigmoid(), nn.Softsign()),
        [_x(4, 3) * 3],
        [],
    ),
    "activations[3]": (
        lambda: nn.Sequential(
            nn.LeakyReLU(0.1), nn.SiLU(), nn.Softplus(beta=2.0), nn.Softmin(1), nn.Softmax(0)
        ),
        [_x(4, 3) * 2],
        [],
    ),
    # losses: (input, [target]) float inputs get gradients; class targets are int inputs
    "CrossEntropyLoss[weight,smoothing]": (
        lambda: nn.CrossEntropyLoss(weight=cr.tensor(_p(4)), label_smoothing=0.2),
        [_x(6, 4)],
        [_i(4, 6)],
    ),
    "CrossEntropyLoss[probs,2d]": (
        lambda: nn.CrossEntropyLoss(reduction="sum"),
        [_x(2, 3, 4, 2), _rng.dirichlet(np.ones(3), (2, 4, 2)).transpose(0, 3, 1, 2)],
        [],
    ),
    "CrossEntropyLoss[ignore,none]": (
        lambda: nn.CrossEntropyLoss(ignore_index=1, reduction="none"),
        [_x(7, 3)],
        [_i(3, 7)],
    ),
    "NLLLoss[weight]": (
        lambda: _After(nn.NLLLoss(weight=cr.tensor(_p(3))), "log_softmax"),
        [_x(5, 3)],
        [_i(3, 5)],
    ),
    "MSELoss": (lambda: nn.MSELoss(), [_x(3, 4), _x(3, 4)], []),
    "L1Loss[sum]": (lambda: nn.L1Loss(reduction="sum"), [_x(3, 4), _x(3, 4)], []),
    "SmoothL1Loss": (lambda: nn.SmoothL1Loss(beta=0.5), [_x(3, 4), _x(3, 4)], []),
    "HuberLoss[none]": (lambda: nn.HuberLoss(reduction="none", delta=0.7), [_x(3, 4), _x(3, 4)], []),
    "BCELoss[weight]": (lambda: nn.BCELoss(weight=cr.tensor(_p(4))), [_p(3, 4), _p(3, 4)], []),
    "BCEWithLogitsLoss[pos_weight]": (
        lambda: nn.BCEWithLogitsLoss(pos_weight=cr.tensor(_p(4) * 3)),
        [_x(3, 4), _p(3, 4)],
        [],
    ),
    "KLDivLoss[batchmean]": (
        lambda: _After(nn.KLDivLoss(reduction="batchmean"), "log_softmax"),
        [_x(3, 4), _rng.dirichlet(np.ones(4), 3)],
        [],
    ),
    "KLDivLoss[log_target]": (
        lambda: nn.KLDivLoss(reduction="sum", log_target=True),
        [_x(3, 4), _x(3, 4)],
        [],
    ),
}

# layers whose forward differs between train and eval mode: checked in both
_EVAL_TOO = {
    name for name in LAYERS if name.startswith(("BatchNorm", "Dropout", "GRU", "MultiheadAttention"))
}


class _Fn(nn.Module):
    def __init__(self, fn: Callable[..., Any]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, *args: Any) -> Any:
        return self.fn(*args)


class _First(nn.Module):
    """The first output of a layer returning a tuple (LSTM, GRU, attention...)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, *args: Any) -> Any:
        return self.inner(*args)[0]


class _LSTMState(nn.Module):
    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: Any, h: Any, c: Any) -> Any:
        out, (hn, cn) = self.inner(x, (h, c))
        return out.sum() + (hn * cn).sum()


class _After(nn.Module):
    """A loss of ``F.<fn>(input, dim=1)``."""

    def __init__(self, loss: nn.Module, fn: str) -> None:
        super().__init__()
        self.loss, self.fn = loss, fn

    def forward(self, x: Any, *rest: Any) -> Any:
        return self.loss(getattr(nn.functional, self.fn)(x, dim=1), *rest)


def _run(model: nn.Module, floats: list[np.ndarray], others: list[np.ndarray], device: str | None) -> tuple:
    model = copy.deepcopy(model)
    if device is not None:
        model.to(device)
    xs = [cr.tensor(a, requires_grad=True, device=device) for a in floats]
    ts = [cr.tensor(a, device=device) for a in others]
    cr.manual_seed(11)  # the same dropout masks on both devices
    y = model(*xs, *ts)
    w = np.random.default_rng(3).standard_normal(y.shape).astype(y.dtype)
    (y * cr.tensor(w, device=device)).sum().backward()
    return (
        [y],
        [x.grad for x in xs],
        [p.grad for p in model.parameters()],
        list(model.buffers()),
    )


def _host(t: Any) -> Any:
    return None if t is None else t.detach().cpu().numpy()


_CASES = [(name, True) for name in sorted(LAYERS)] + [(name, False) for name in sorted(_EVAL_TOO)]


@pytest.mark.parametrize(
    ("name", "train"), _CASES, ids=[f"{n}-{'train' if t else 'eval'}" for n, t in _CASES]
)
def test_layer_on_device_matches_cpu(name: str, train: bool, device: str) -> None:
    factory, floats, others = LAYERS[name]
    cr.manual_seed(0)
    model = factory().double().train(train)
    ref = _run(model, floats, others, None)
    got = _run(model, floats, others, device)
    for kind, r_list, g_list in zip(("output", "input grad", "param grad", "buffer"), ref, got):
        assert len(r_list) == len(g_list)
        for i, (r, g) in enumerate(zip(r_list, g_list)):
            if r is None:
                assert g is None, f"{name} {kind} {i}: None on the CPU only"
                continue
            assert g.device == "cuda", f"{name} {kind} {i} came back on {g.device}"
            assert g.dtype == r.dtype, f"{name} {kind} {i}: dtype {g.dtype} vs {r.dtype}"
            np.testing.assert_allclose(
                _host(g), _host(r), rtol=1e-7, atol=1e-10, err_msg=f"{name} {kind} {i}"
            )


def test_dropout_mask_lives_on_the_device(device: str) -> None:
    """The mask a Dropout layer multiplies by is a device array (no host array meets the device data)."""
    layer = nn.Dropout(0.5).train()
    x = cr.ones(50, 40, device=device, requires_grad=True)
    y = layer(x)
    assert y.device == "cuda"
    mask = y.grad_fn.mask
    assert backend.is_cuda_array(mask)
    kept = float((y.detach() != 0).float().mean())
    assert 0.4 < kept < 0.6
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), backend.to_device(mask, "cpu"))
    assert layer.eval()(x) is x
