"""``chainrule.onnx.export`` behaviour: dynamic batch, checker, errors naming the op, options, more ops."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

onnx = pytest.importorskip("onnx")


def _randn(*shape, seed=2):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _close(got, ref, tol=1e-5):
    for g, r in zip(got, ref):
        assert g.shape == r.shape
        np.testing.assert_allclose(g, r, rtol=tol, atol=tol)


def _dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


class _Reshaper(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 6)

    def forward(self, x):  # x: (N, 2, 3)
        y = self.fc(x.reshape(x.shape[0], 6)).reshape(-1, 3, 2)
        return y.expand(y.shape[0], 3, 2) + cr.zeros(x.shape[0], 3, 2)


def test_dynamic_batch_is_symbolic_and_no_reshape_pins_it(tmp_path, roundtrip):
    got, ref, proto = roundtrip(_Reshaper(), cr.randn(7, 2, 3), _randn(4, 2, 3))
    _close(got, ref)
    assert _dims(proto.graph.input[0]) == ["batch", 2, 3]
    assert _dims(proto.graph.output[0]) == ["batch", 3, 2]
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in proto.graph.initializer}
    for node in proto.graph.node:
        if node.op_type in ("Reshape", "Expand") and node.input[1] in inits:
            assert 7 not in inits[node.input[1]].tolist(), f"{node.name} pins the example batch size"


def test_fixed_batch_when_not_dynamic(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2))
    proto = cr.onnx.export(model, cr.randn(5, 3), tmp_path / "m.onnx", dynamic_batch=False)
    assert _dims(proto.graph.input[0]) == [5, 3] and _dims(proto.graph.output[0]) == [5, 2]


def test_checker_passes_and_file_is_written_atomically(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    path = tmp_path / "sub.onnx"
    cr.onnx.export(model, cr.randn(2, 3), str(path))
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub.onnx"]


class _Custom(cr.Function):
    def forward(self, x):
        return x * 2

    def backward(self, gy):
        return gy * 2


class _Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        return _Custom()(self.fc(x))


def test_unsupported_op_names_the_function_and_module(tmp_path):
    model = nn.Sequential(nn.Linear(3, 3), _Block())
    path = tmp_path / "bad.onnx"
    with pytest.raises(NotImplementedError, match=r"_Custom.*module '1'"):
        cr.onnx.export(model, cr.randn(2, 3), path)
    assert not path.exists() and not list(tmp_path.iterdir())


def test_input_dependent_constant_is_refused():
    class Gate(nn.Module):
        def forward(self, x):
            return cr.where(x > 0, x, x * 0.1)  # the mask is computed outside the graph

    with pytest.raises(NotImplementedError, match=r"Where.*input's values"):
        cr.onnx.export(Gate(), cr.randn(4, 3), None)


def test_training_dropout_in_forward_is_refused():
    class Leaky(nn.Module):
        def forward(self, x):
            return F.dropout(x, 0.5, training=True)

    with pytest.raises(NotImplementedError, match=r"_MaskMul.*dropout"):
        cr.onnx.export(Leaky(), cr.randn(4, 3), None)


def test_modes_and_requires_grad_are_restored(roundtrip):
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.Linear(4, 2))
    model[0].weight.requires_grad_(False)
    got, ref, proto = roundtrip(model, cr.randn(3, 4), _randn(5, 4))
    _close(got, ref)  # dropout is the identity in eval mode: no node
    assert [n.op_type for n in proto.graph.node] == ["Gemm", "Gemm"]
    assert model.training and model[1].training
    assert not model[0].weight.requires_grad and model[0].bias.requires_grad


def test_missing_onnx_gives_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[onnx\]'"):
        cr.onnx.export(nn.Linear(2, 2), cr.randn(1, 2), None)


def test_opset_is_validated():
    with pytest.raises(ValueError, match="opset"):
        cr.onnx.export(nn.Linear(2, 2), cr.randn(1, 2), None, opset=9)


class _TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(3, 2), nn.Linear(3, 4)

    def forward(self, x):
        return self.a(x), F.log_softmax(self.b(x), dim=1)


def test_several_outputs_and_names(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    model = _TwoHeads()
    path = tmp_path / "two.onnx"
    cr.onnx.export(model, cr.randn(2, 3), path, input_names=["x"], output_names=["score", "logp"])
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = _randn(6, 3)
    got = session.run(["score", "logp"], {"x": x})
    with cr.no_grad():
        ref = [t.numpy() for t in model(cr.tensor(x))]
    _close(got, ref)


class _Zoo(nn.Module):
    """Ops beyond the required set: each result is folded into one output."""

    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1)
        self.conv1d = nn.Conv1d(3, 2, 3, padding=1, groups=1)

    def forward(self, x):  # (N, 2, 4, 4)
        u = self.up(x)  # (N, 3, 8, 8)
        v = F.max_pool2d(u, 3, stride=2, padding=1, ceil_mode=True)  # (N, 3, 5, 5)
        w = F.avg_pool2d(u, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        seq = self.conv1d(v.flatten(2))  # (N, 2, 25)
        parts = [
            F.leaky_relu(seq, 0.2),
            F.elu(seq),
            F.softplus(seq, beta=2.0),
            F.silu(seq),
            seq.clamp(-0.5, 0.5),
            cr.flip(seq, 2),
            F.pad(seq, (1, 2)),
            seq.repeat(1, 1, 2)[..., :25],
            seq.cumsum(dim=2),
            seq[:, [1, 0, 1]].sum(dim=1, keepdim=True).expand(-1, 2, 25),
            seq.logsumexp(dim=1, keepdim=True),
            seq.amin(dim=2, keepdim=True) * seq.std(dim=2, keepdim=True),
            seq.sigmoid() ** 3,
            F.group_norm(seq, 2),
            cr.einsum("ncl,ncm->nlm", seq, seq)[:, :2, :],
        ]
        parts = [p.reshape(p.shape[0], -1) for p in parts]
        return cr.cat([*parts, w.mean(dim=(2, 3)), v.amax(dim=(1, 2))], dim=1)


@pytest.mark.parametrize("opset", [17, 18])
def test_more_ops(roundtrip, opset):
    model = _Zoo()
    got, ref, _ = roundtrip(model, cr.randn(3, 2, 4, 4), _randn(5, 2, 4, 4), opset=opset)
    _close(got, ref, tol=2e-5)


def test_onnx_is_imported_only_by_export():
    import subprocess

    code = "import sys, chainrule, chainrule.onnx; print('onnx' in sys.modules, 'onnxruntime' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
