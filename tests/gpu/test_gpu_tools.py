"""The tools around the engine on CUDA tensors: ``chainrule.testing`` (gradcheck, gradgradcheck,
numerical_grad, assert_close), ``jacobian``/``hessian``, ``explain`` and ``viz.to_dot`` on a graph on the
device, ``save``/``load`` and ``load_state_dict(assign=True)`` of a model on the device, ``interop.to_torch``
and ONNX export of one, and module entry points taking raw arrays (``Embedding.from_pretrained``, attention
masks). Each is compared with the same call on the CPU."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import Function, backend, nn
from chainrule.testing import GradcheckError, assert_close, gradcheck, gradgradcheck, numerical_grad

_rng = np.random.default_rng(2)


def _x(*shape: int) -> np.ndarray:
    return _rng.standard_normal(shape)


def _host(t: Any) -> np.ndarray:
    return t.detach().cpu().numpy()


# name -> (function of float64 tensors, their values)
GRADCHECKS: dict[str, tuple[Callable[..., Any], list[np.ndarray]]] = {
    "elementwise": (lambda a, b: (a.tanh() * b + a.exp() / (1 + b * b)).sum(), [_x(3, 2), _x(3, 2)]),
    "non-scalar": (lambda a: a.sigmoid() * a, [_x(4)]),
    "broadcast+matmul": (lambda a, b, c: (a @ b + c).relu(), [_x(2, 3), _x(3, 4), _x(4)]),
    "several outputs": (lambda a: (F.softmax(a, 1), a.max(1)[0], a.argmax(1)), [_x(3, 4)]),
    "conv1d": (lambda x, w: F.conv1d(x, w, padding=1), [_x(1, 2, 5), _x(3, 2, 3)]),
    "layer_norm": (lambda x, w: F.layer_norm(x, (3,), w), [_x(2, 3), _x(3)]),
}


def _tensors(arrays: list[np.ndarray], device: str | None) -> list[Any]:
    return [cr.tensor(a, requires_grad=True, device=device) for a in arrays]


@pytest.mark.parametrize("name", sorted(GRADCHECKS))
def test_gradcheck_and_gradgradcheck_on_device(name: str, device: str) -> None:
    fn, arrays = GRADCHECKS[name]
    xs = _tensors(arrays, device)
    assert gradcheck(fn, xs)
    if name != "several outputs":  # max's second derivative is 0 almost everywhere; one check is enough
        assert gradgradcheck(fn, xs)
    assert all(x.device == "cuda" and x.grad is None for x in xs)


def test_numerical_grad_on_device_matches_cpu(device: str) -> None:
    fn, arrays = GRADCHECKS["broadcast+matmul"]
    ref = numerical_grad(lambda *a: fn(*a).sum(), _tensors(arrays, None))
    xs = _tensors(arrays, device)
    got = numerical_grad(lambda *a: fn(*a).sum(), xs)
    for g, r in zip(got, ref):
        assert isinstance(g, np.ndarray)  # numerical gradients come back to the host
        np.testing.assert_allclose(g, r, rtol=1e-7, atol=1e-9)
    # grad_outputs on the device (and on the host) project the outputs the same way
    w = _x(2, 4)
    ref_w = numerical_grad(fn, _tensors(arrays, None), grad_outputs=[w])
    for grad_outputs in ([cr.tensor(w, device=device).data], [w]):
        for g, r in zip(numerical_grad(fn, xs, grad_outputs=grad_outputs), ref_w):
            np.testing.assert_allclose(g, r, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(xs[0].detach().cpu().numpy(), arrays[0])  # perturbations are undone


class _WrongSquare(Function):
    """x**2 with the backward of x**3 (wrong on purpose)."""

    def forward(self, x: Any) -> Any:
        return x * x

    def backward(self, gy: Any) -> Any:
        x = self.inputs[0]
        return 3 * x * x * gy


def test_gradcheck_catches_a_wrong_backward_on_device(device: str) -> None:
    x = cr.tensor([0.5, 1.5, -2.0], dtype="float64", requires_grad=True, device=device)
    with pytest.raises(GradcheckError, match=r"gradient mismatch for input 0 at element \(0,\)"):
        gradcheck(lambda t: _WrongSquare()(t), [x])
    assert gradcheck(lambda t: _WrongSquare()(t), [x], raise_exception=False) is False
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t * t, [x.float().detach().requires_grad_()])


def test_assert_close_on_device(device: str) -> None:
    torch = pytest.importorskip("torch")
    a = cr.tensor([[1.0, 2.0], [3.0, 4.0]], dtype="float64", device=device, requires_grad=True)
    assert_close(a, a)
    assert_close(a, a.detach().cpu())
    assert_close(a.cpu(), a.data)  # a bare device array
    assert_close(a, [[1.0, 2.0], [3.0, 4.0]])
    assert_close(a, torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64))
    with pytest.raises(AssertionError, match=r"not close: max \|diff\| 0\.5 at \(1, 0\)"):
        assert_close(a, cr.tensor([[1.0, 2.0], [3.5, 4.0]], device=device))
    with pytest.raises(AssertionError, match="shape mismatch"):
        assert_close(a, a[0])


def _small_graph(device: str | None) -> tuple[Any, dict[str, Any]]:
    rng = np.random.default_rng(4)
    x = cr.tensor(rng.standard_normal((2, 3)), requires_grad=True, device=device, name="x")
    w = cr.tensor(rng.standard_normal((3, 2)), requires_grad=True, device=device, name="w")
    b = cr.tensor(rng.standard_normal(2), device=device, name="b")  # a constant
    h = (x @ w + b).tanh()
    h.name = "h"
    loss = F.cross_entropy(h, cr.tensor([1, 0], device=device)) + (h * h).mean()
    loss.name = "L"
    return loss, {"x": x, "w": w}


def test_explain_on_device_matches_cpu(device: str) -> None:
    ref_loss, _ = _small_graph(None)
    loss, leaves = _small_graph(device)
    ref = cr.explain(ref_loss, numerical_check=True)
    got = cr.explain(loss, numerical_check=True)
    assert got.ok and ref.ok
    assert str(got) == str(ref)
    assert got.to_markdown() == ref.to_markdown()
    for table in (got.grads, got.values, got.numerical):
        for name, value in table.items():
            assert isinstance(value, np.ndarray), f"{name}: {type(value).__name__} is not a host array"
    for name in ref.grads:
        np.testing.assert_allclose(got.grads[name], ref.grads[name], rtol=1e-12, err_msg=name)
    for step in got.steps:
        assert isinstance(step.grad, np.ndarray)
        upstream = step.upstream if isinstance(step.upstream, tuple) else (step.upstream,)
        assert all(u is None or isinstance(u, np.ndarray) for u in upstream)
    assert all(t.grad is None for t in leaves.values())  # explain never writes .grad
    loss.backward()  # and the graph is still usable
    np.testing.assert_allclose(leaves["w"].grad.cpu().numpy(), got.grads["w"], rtol=1e-12)


def test_explain_with_a_gradient_on_device(device: str) -> None:
    def run(dev: str | None) -> Any:
        x = cr.tensor([[0.3, -1.2], [0.7, 2.0]], dtype="float64", requires_grad=True, device=dev, name="x")
        y = (x.exp() * x).sum(0)
        return cr.explain(
            y, gradient=cr.tensor([1.0, -2.0], dtype="float64", device=dev), numerical_check=True
        )

    ref, got = run(None), run(device)
    assert got.ok
    assert str(got) == str(ref)
    np.testing.assert_array_equal(got.seed, [1.0, -2.0])


def test_to_dot_on_device_matches_cpu(device: str) -> None:
    ref_loss, _ = _small_graph(None)
    loss, _ = _small_graph(device)
    dot = cr.viz.to_dot(loss)
    assert dot == cr.viz.to_dot(ref_loss)
    assert "grad " in dot and "value " in dot


def _model(seed: int = 0) -> nn.Module:
    cr.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                         nn.Linear(3 * 4 * 4, 2))  # fmt: skip


def test_save_and_load_a_model_on_device(device: str, tmp_path: Any) -> None:
    pytest.importorskip("safetensors")
    model = _model().to(device)
    model(cr.randn(5, 1, 4, 4, device=device)).sum().backward()  # running stats move off their defaults
    state = model.state_dict()
    cr.save(state, tmp_path / "m.safetensors")
    assert all(t.device == "cuda" for t in model.state_dict().values())  # saving leaves the model alone
    host = cr.load(tmp_path / "m.safetensors")
    assert all(t.device == "cpu" for t in host.values())
    for k, v in state.items():
        np.testing.assert_array_equal(host[k].numpy(), v.detach().cpu().numpy(), err_msg=k)
        assert host[k].dtype == v.dtype
    on_device = cr.load(tmp_path / "m.safetensors", device="cuda")
    assert all(t.device == "cuda" for t in on_device.values())
    for target_device, loaded in (("cuda", host), ("cuda", on_device), ("cpu", on_device)):
        fresh = _model(seed=5).to(target_device)
        fresh.load_state_dict(loaded)
        assert all(t.device == target_device for t in fresh.state_dict().values())
        for k, v in fresh.state_dict().items():
            np.testing.assert_array_equal(
                v.detach().cpu().numpy(), state[k].detach().cpu().numpy(), err_msg=k
            )
    x = cr.randn(3, 1, 4, 4)
    with cr.no_grad():
        np.testing.assert_allclose(
            fresh.eval()(x).numpy(), model.eval()(x.to(device)).cpu().numpy(), rtol=1e-6, atol=1e-6
        )


def test_to_torch_of_a_model_on_device(device: str, torch: Any) -> None:
    model = _model().to(device).eval()
    twin = cr.interop.to_torch(model)
    assert all(p.device.type == "cpu" for p in twin.parameters())
    assert not twin.training
    x = np.random.default_rng(1).standard_normal((2, 1, 4, 4)).astype(np.float32)
    with cr.no_grad():
        ref = model(cr.tensor(x, device=device)).cpu().numpy()
    got = twin(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    t = cr.interop.tensor_to_torch(cr.tensor([1.5, -2.0], requires_grad=True, device=device))
    assert t.device.type == "cpu" and t.requires_grad and t.tolist() == [1.5, -2.0]
    back = cr.interop.from_torch(twin).to(device)
    with cr.no_grad():
        np.testing.assert_allclose(back.eval()(cr.tensor(x, device=device)).cpu().numpy(), ref, rtol=1e-6)


def test_onnx_export_of_a_cnn_on_device(device: str, tmp_path: Any) -> None:
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model = _model().to(device).eval()
    cr.onnx.export(model, cr.randn(2, 1, 4, 4, device=device), tmp_path / "m.onnx")
    assert all(t.device == "cuda" for t in model.state_dict().values())
    x = np.random.default_rng(0).standard_normal((3, 1, 4, 4)).astype(np.float32)
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    with cr.no_grad():
        ref = model(cr.tensor(x, device=device)).cpu().numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
    assert backend.is_cuda_array(model[0].weight.data)


JACOBIANS: dict[str, tuple[Callable[..., Any], list[np.ndarray]]] = {
    "one input": (lambda a: a.exp() * a.sum(), [_x(3)]),
    "two inputs, one unused": (lambda a, b: (a @ a.T).tanh(), [_x(2, 3), _x(2)]),
    "no graph": (lambda a: cr.ones(2, device=a.device), [_x(3)]),
}


@pytest.mark.parametrize("name", sorted(JACOBIANS))
def test_jacobian_and_hessian_on_device_match_cpu(name: str, device: str) -> None:
    fn, arrays = JACOBIANS[name]
    for create_graph in (False, True):
        ref = cr.jacobian(fn, tuple(_tensors(arrays, None)), create_graph=create_graph)
        got = cr.jacobian(fn, tuple(_tensors(arrays, device)), create_graph=create_graph)
        for g, r in zip(got, ref):
            assert g.device == "cuda" and g.shape == r.shape
            np.testing.assert_allclose(_host(g), _host(r), rtol=1e-12, atol=1e-15)
        ref_h = cr.hessian(lambda *a: fn(*a).sum(), tuple(_tensors(arrays, None)), create_graph=create_graph)
        got_h = cr.hessian(
            lambda *a: fn(*a).sum(), tuple(_tensors(arrays, device)), create_graph=create_graph
        )
        for g_row, r_row in zip(got_h, ref_h):
            for g, r in zip(g_row, r_row):
                assert g.device == "cuda" and g.shape == r.shape
                np.testing.assert_allclose(_host(g), _host(r), rtol=1e-12, atol=1e-15)


def test_load_state_dict_with_assign_from_a_device_model(device: str) -> None:
    source = _model(seed=1).to(device)
    for target_device in (device, "cpu"):
        target = _model(seed=2).to(target_device)
        target.load_state_dict(source.state_dict(), assign=True)
        for (k, t), s in zip(target.state_dict().items(), source.state_dict().values()):
            assert t.device == target_device, k
            np.testing.assert_array_equal(_host(t), _host(s), err_msg=k)
        target[0].weight.data[...] = 0  # assign copied: the source is untouched
        assert float(abs(source[0].weight).sum()) > 0


def test_embedding_from_pretrained_on_device(device: str) -> None:
    table = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    idx = np.array([[4, 0], [2, 2]])
    ref = nn.Embedding.from_pretrained(cr.tensor(table))(cr.tensor(idx))
    for weights in (cr.tensor(table, device=device), cr.tensor(table, device=device).data):
        emb = nn.Embedding.from_pretrained(weights, freeze=False)
        assert emb.weight.device == "cuda" and emb.weight.requires_grad
        out = emb(cr.tensor(idx, device=device))
        assert out.device == "cuda"
        np.testing.assert_array_equal(_host(out), _host(ref))


def test_multihead_attention_masks_on_device(device: str) -> None:
    cr.manual_seed(0)
    mha = nn.MultiheadAttention(4, 2)
    twin = copy.deepcopy(mha).to(device)
    q = np.random.default_rng(3).standard_normal((3, 4)).astype(np.float32)  # unbatched (L, E)
    pad = np.array([False, False, True])
    causal = np.triu(np.ones((3, 3), dtype=bool), 1)
    ref = mha(
        cr.tensor(q), cr.tensor(q), cr.tensor(q), key_padding_mask=cr.tensor(pad), attn_mask=cr.tensor(causal)
    )
    for mask_kind in ("tensor", "raw", "host"):

        def put(m: np.ndarray) -> Any:
            if mask_kind == "host":
                return m
            t = cr.tensor(m, device=device)
            return t if mask_kind == "tensor" else t.data

        x = cr.tensor(q, device=device)
        out, weights = twin(x, x, x, key_padding_mask=put(pad), attn_mask=put(causal))
        assert out.device == weights.device == "cuda"
        np.testing.assert_allclose(_host(out), _host(ref[0]), rtol=1e-5, atol=1e-6, err_msg=mask_kind)
        np.testing.assert_allclose(_host(weights), _host(ref[1]), rtol=1e-5, atol=1e-6, err_msg=mask_kind)
