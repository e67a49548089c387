"""Corpus: layers with weights copied across (activations at their kinks, norms, recurrent, attention)."""

from __future__ import annotations

import numpy as np
from corpus_harness import Lib, program
from corpus_training import seeded

POINTS = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0])


def _act(lib: Lib, module) -> dict:  # noqa: ANN001
    x = lib.arr(POINTS, requires_grad=True)
    y = module(x)
    y.sum().backward()
    return {"y": y, "grad": x.grad}


@program
def activations_values_and_grads_at_kinks(lib: Lib) -> dict:
    nn = lib.nn
    mods = {
        "relu": nn.ReLU(),
        "leaky": nn.LeakyReLU(0.1),
        "elu": nn.ELU(),
        "selu": nn.SELU(),
        "celu": nn.CELU(0.5),
        "gelu": nn.GELU(),
        "gelu_tanh": nn.GELU(approximate="tanh"),
        "silu": nn.SiLU(),
        "mish": nn.Mish(),
        "softplus": nn.Softplus(beta=2.0, threshold=5.0),
        "hardsigmoid": nn.Hardsigmoid(),
        "hardswish": nn.Hardswish(),
        "logsigmoid": nn.LogSigmoid(),
        "sigmoid": nn.Sigmoid(),
        "tanh": nn.Tanh(),
    }
    return {name: _act(lib, m) for name, m in mods.items()}


@program
def layer_norm_and_group_norm(lib: Lib) -> dict:
    rng = np.random.default_rng(21)
    ln = seeded(lib, lib.nn.LayerNorm(4))
    gn = seeded(lib, lib.nn.GroupNorm(2, 4))
    x = lib.arr(rng.standard_normal((3, 4)), requires_grad=True)
    x4 = lib.arr(rng.standard_normal((2, 4, 3)), requires_grad=True)
    y, z = ln(x), gn(x4)
    (y * lib.arr(np.arange(12.0).reshape(3, 4))).sum().backward()
    (z**2).sum().backward()
    return {"y": y, "z": z, "gx": x.grad, "gx4": x4.grad, "gw": ln.weight.grad, "gn_b": gn.bias.grad}


@program
def batchnorm2d_running_stats(lib: Lib) -> dict:
    rng = np.random.default_rng(22)
    bn = lib.nn.BatchNorm2d(2, momentum=0.3).double()
    for _ in range(3):
        bn(lib.arr(rng.standard_normal((4, 2, 3, 3)) * 3 + 1))
    bn.eval()
    x = lib.arr(rng.standard_normal((1, 2, 3, 3)), requires_grad=True)
    y = bn(x)
    y.sum().backward()
    return {"mean": bn.running_mean, "var": bn.running_var, "y": y, "gx": x.grad, "n": bn.num_batches_tracked}


@program
def lstm_and_gru_sequences(lib: Lib) -> dict:
    rng = np.random.default_rng(23)
    lstm = seeded(lib, lib.nn.LSTM(3, 4, num_layers=2, batch_first=True))
    gru = seeded(lib, lib.nn.GRU(3, 2), seed=1)
    x = lib.arr(rng.standard_normal((2, 5, 3)), requires_grad=True)
    out, (h, c) = lstm(x)
    out2, h2 = gru(x.transpose(0, 1))
    (out.sum() + h.sum() * 2 + c.sum() + out2.pow(2).sum()).backward()
    return {
        "names": [n for n, _ in lstm.named_parameters()],
        "out": out,
        "h": h,
        "c": c,
        "out2": out2,
        "h2": h2,
        "gx": x.grad,
        "g_ih": lstm.weight_ih_l0.grad,
    }


@program
def rnn_cell_loop(lib: Lib) -> dict:
    rng = np.random.default_rng(24)
    cell = seeded(lib, lib.nn.RNNCell(2, 3, nonlinearity="relu"))
    xs = lib.arr(rng.standard_normal((4, 1, 2)))
    h = lib.arr(np.zeros((1, 3)))
    for t in range(4):
        h = cell(xs[t], h)
    h.sum().backward()
    return {"h": h, "g": cell.weight_hh.grad}


@program
def multihead_attention_self(lib: Lib) -> dict:
    rng = np.random.default_rng(25)
    mha = seeded(lib, lib.nn.MultiheadAttention(4, 2, batch_first=True))
    x = lib.arr(rng.standard_normal((2, 3, 4)), requires_grad=True)
    out, weights = mha(x, x, x)
    out.sum().backward()
    return {"names": [n for n, _ in mha.named_parameters()], "out": out, "w": weights, "gx": x.grad}


@program
def embedding_padding_idx_and_max_pool_indices(lib: Lib) -> dict:
    emb = seeded(lib, lib.nn.Embedding(4, 2, padding_idx=0))
    idx = lib.tensor([[0, 1, 0, 3]])
    emb(idx).sum().backward()
    x = lib.arr(np.array([[[1.0, 3.0, 3.0, 2.0, 0.0, 5.0]]]), requires_grad=True)
    y = lib.F.max_pool1d(x, 2)
    a = lib.F.avg_pool1d(x, 3, stride=1, padding=1)
    (y.sum() + a.sum()).backward()
    return {"g_emb": emb.weight.grad, "y": y, "a": a, "gx": x.grad}


@program
def layer_sweep_forward_backward(lib: Lib) -> dict:
    nn = lib.nn
    rng = np.random.default_rng(26)
    cases = {
        "conv1d": (nn.Conv1d(2, 3, 3, stride=2, padding=1), (2, 2, 7)),
        "conv3d": (nn.Conv3d(1, 2, 2), (1, 1, 3, 3, 3)),
        "convT1d": (nn.ConvTranspose1d(2, 2, 3, stride=2, output_padding=1), (1, 2, 4)),
        "convT2d": (nn.ConvTranspose2d(2, 1, 2, stride=2, padding=1), (1, 2, 3, 3)),
        "bilinear_in": (nn.Linear(4, 3, bias=False), (2, 4)),
        "avgpool1d": (nn.AvgPool1d(2), (1, 2, 6)),
        "adaptive1d": (nn.AdaptiveAvgPool1d(4), (1, 2, 7)),
        "maxpool3d": (nn.MaxPool3d(2), (1, 1, 4, 4, 4)),
        "avgpool3d": (nn.AvgPool3d(2, stride=1), (1, 1, 3, 3, 3)),
        "batchnorm3d": (nn.BatchNorm3d(2), (2, 2, 2, 2, 2)),
        "identity": (nn.Identity(), (2, 3)),
        "flatten_dims": (nn.Flatten(1, 2), (2, 3, 4, 1)),
        "gru_cell": (nn.GRUCell(3, 2), (4, 3)),
        "lstm_cell": (nn.LSTMCell(3, 2), (4, 3)),
    }
    out = {}
    for name, (module, shape) in cases.items():
        module = seeded(lib, module, seed=len(name))
        x = lib.arr(rng.standard_normal(shape), requires_grad=True)
        y = module(x)
        y = y[0] if isinstance(y, tuple) else y
        (y * y).sum().backward()
        grads = {n: p.grad for n, p in module.named_parameters()}
        out[name] = {"y": y, "gx": x.grad, "grads": grads}
    bil = seeded(lib, nn.Bilinear(2, 3, 4))
    a, b = lib.arr(rng.standard_normal((2, 2)), requires_grad=True), lib.arr(rng.standard_normal((2, 3)))
    z = bil(a, b)
    z.sum().backward()
    out["bilinear"] = {"z": z, "ga": a.grad, "gw": bil.weight.grad}
    return out
