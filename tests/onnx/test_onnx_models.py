"""Export models covering every required layer and run them in onnxruntime at a different batch size."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

TOL = 1e-5


def _close(got, ref):
    assert len(got) == len(ref)
    for g, r in zip(got, ref):
        assert g.shape == r.shape and g.dtype == r.dtype
        np.testing.assert_allclose(g, r, rtol=TOL, atol=TOL)


def _ops(proto):
    return [n.op_type for n in proto.graph.node]


def _randn(*shape):
    return np.random.default_rng(1).standard_normal(shape).astype(np.float32)


def test_mlp_exports_as_gemms(roundtrip):
    model = nn.Sequential(
        nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 8), nn.Sigmoid(), nn.Linear(8, 3), nn.Tanh()
    )
    got, ref, proto = roundtrip(model, cr.randn(4, 6), _randn(9, 6))
    _close(got, ref)
    assert _ops(proto) == ["Gemm", "Relu", "Gemm", "Sigmoid", "Gemm", "Tanh"]
    assert {i.name for i in proto.graph.initializer} == {name for name, _ in model.named_parameters()}


class _CNN(nn.Module):
    def __init__(self, adaptive: bool):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 6, 3, stride=2, padding=(1, 0), dilation=1)
        self.bn2 = nn.BatchNorm2d(6)
        self.avg = nn.AdaptiveAvgPool2d((1, 1)) if adaptive else nn.AvgPool2d(2, stride=1, padding=1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(6 if adaptive else 6 * 3 * 2, 4)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = F.relu(self.bn2(self.conv2(x)))
        return self.fc(self.flatten(self.avg(x)))


def _warm_batch_norm(model, shape):
    """A few training steps' worth of forward passes, so the running statistics are not the trivial 0/1."""
    model.train()
    for _ in range(3):
        model(cr.randn(*shape) * 2 + 0.5)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data[...] = np.linspace(0.5, 1.5, m.num_features, dtype=np.float32)
            m.bias.data[...] = np.linspace(-0.2, 0.3, m.num_features, dtype=np.float32)


@pytest.mark.parametrize("adaptive", [True, False])
def test_cnn_conv_batchnorm_pools(roundtrip, adaptive):
    model = _CNN(adaptive)
    _warm_batch_norm(model, (4, 3, 8, 8))
    got, ref, proto = roundtrip(model, cr.randn(2, 3, 8, 8), _randn(5, 3, 8, 8))
    _close(got, ref)
    ops = _ops(proto)
    assert ops.count("Conv") == 2 and "MaxPool" in ops and "Gemm" in ops
    assert ("GlobalAveragePool" if adaptive else "AveragePool") in ops
    names = {i.name for i in proto.graph.initializer}
    assert {"bn1.running_mean", "bn1.weight", "conv1.weight", "fc.bias"} <= names  # BN eval: arithmetic
    assert model.training  # restored after export


class _Transformerish(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 16)
        self.norm = nn.LayerNorm(16)
        self.act = nn.GELU()
        self.out = nn.Linear(16, 5)

    def forward(self, x):
        return F.softmax(self.out(self.act(self.norm(self.proj(x)))), dim=-1)


def test_layernorm_gelu_softmax_on_3d_input(roundtrip):
    model = _Transformerish()
    model.norm.weight.data[...] = np.linspace(0.5, 2.0, 16, dtype=np.float32)
    model.norm.bias.data[...] = np.linspace(-1.0, 1.0, 16, dtype=np.float32)
    got, ref, proto = roundtrip(model, cr.randn(2, 7, 8), _randn(3, 7, 8))
    _close(got, ref)
    ops = _ops(proto)
    assert "LayerNormalization" in ops and "Erf" in ops and "Softmax" in ops and "Gemm" not in ops


def test_tanh_gelu_and_log_softmax(roundtrip):
    model = nn.Sequential(nn.Linear(5, 7), nn.GELU(approximate="tanh"), nn.Linear(7, 4), nn.LogSoftmax(dim=1))
    got, ref, _ = roundtrip(model, cr.randn(3, 5), _randn(6, 5))
    _close(got, ref)


class _Bag(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(30, 6)
        self.fc = nn.Linear(6, 2)

    def forward(self, tokens):
        return self.fc(self.emb(tokens).mean(dim=1))


def test_embedding_is_a_gather_of_the_input(roundtrip):
    model = _Bag()
    tokens = np.random.default_rng(0).integers(0, 30, size=(8, 5))
    got, ref, proto = roundtrip(model, cr.tensor(tokens[:3]), tokens)
    _close(got, ref)
    gather = next(n for n in proto.graph.node if n.op_type == "Gather")
    assert list(gather.input) == ["emb.weight", "input"]
    assert proto.graph.input[0].type.tensor_type.elem_type == 7  # INT64


class _SeqClassifier(nn.Module):
    def __init__(self, kind="LSTM"):
        super().__init__()
        if kind == "LSTM":
            self.rnn = nn.LSTM(4, 8, num_layers=2, batch_first=True)
        elif kind == "GRU":
            self.rnn = nn.GRU(4, 8, batch_first=True)
        else:
            self.rnn = nn.RNN(4, 8, nonlinearity="relu")
        self.kind = kind
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        if self.kind == "RNN":  # sequence-first layout: (L, N, H)
            out, h = self.rnn(x.transpose(0, 1))
            return self.head(out[-1])
        out, state = self.rnn(x)
        h = state[0] if self.kind == "LSTM" else state
        return self.head(out[:, -1]) + h[-1].sum(dim=1, keepdim=True) * 0.1


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_recurrent_unrolled_keeps_the_batch_dynamic(roundtrip, kind):
    model = _SeqClassifier(kind)
    got, ref, proto = roundtrip(model, cr.randn(2, 6, 4), _randn(5, 6, 4))
    _close(got, ref)
    got1, ref1, _ = roundtrip(model, cr.randn(2, 6, 4), _randn(1, 6, 4))
    _close(got1, ref1)
    assert "Expand" in _ops(proto)  # the zero initial states follow the batch


class _BiLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(4, 5, num_layers=2, bidirectional=True)

    def forward(self, x):
        out, (h, c) = self.rnn(x.transpose(0, 1))  # (L, N, 2H): the backward direction runs right to left
        return out.transpose(0, 1).flatten(1), h.transpose(0, 1).flatten(1), c.transpose(0, 1).flatten(1)


def test_bidirectional_lstm_exports_each_direction_in_its_time_order(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    model = _BiLSTM().eval()
    cr.onnx.export(model, cr.randn(2, 6, 4), tmp_path / "m.onnx", output_names=["out", "h", "c"])
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    x = _randn(3, 6, 4)
    got = session.run(None, {session.get_inputs()[0].name: x})
    with cr.no_grad():
        ref = model(cr.tensor(x))
    _close(got, [r.numpy() for r in ref])


class _Functional(nn.Module):
    """Residual add, reshape, transpose, concat, stack, slicing, matmul, mul/div/sub by constants."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(12, 12)
        self.b = nn.Linear(3, 3)
        self.register_buffer("offset", cr.linspace(-1, 1, 12))

    def forward(self, x):
        h = F.relu(self.a(x)) + x  # residual
        y = h.reshape(-1, 4, 3)
        z = self.b(y)  # 3-D Linear: MatMul + Add
        z = z.transpose(1, 2) * 0.5 - 1.0  # (N, 3, 4)
        w = y.permute(0, 2, 1) / 3.0 + self.offset.reshape(3, 4)
        m = z @ y  # (N, 3, 3)
        cat = cr.cat([z, w, 2.0 - z, 1.0 / (w * w + 1)], dim=2)  # (N, 3, 16)
        s = cr.stack([m.sum(dim=2), m.amax(dim=1)], dim=1)  # (N, 2, 3)
        flat = cat.flatten(1)
        return cr.cat(
            [flat[:, ::2], s.reshape(s.shape[0], -1), x[:, 1:4].exp(), h[:, -2:].abs().sqrt()], dim=1
        )


def test_functional_ops_in_forward(roundtrip):
    model = _Functional()
    got, ref, proto = roundtrip(model, cr.randn(3, 12), _randn(8, 12))
    _close(got, ref)
    ops = set(_ops(proto))
    assert {"Add", "Reshape", "Transpose", "Concat", "MatMul", "Mul", "Div", "Sub", "Slice"} <= ops
