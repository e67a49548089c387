"""Device handling seen from the CPU: ``to``/``cpu``/``cuda``, ``device=`` arguments, ``Module.to``, the
DataLoader, mixed-device errors. Uses the CuPy stand-in where a "cuda" array is needed."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import backend, nn


def test_import_does_not_load_cupy() -> None:
    code = "import sys, chainrule, chainrule.nn; print('cupy' in sys.modules, chainrule.backend._cupy)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "None"]


def test_cuda_without_cupy_is_a_clear_runtime_error(no_cuda) -> None:
    x = cr.ones(2)
    for call in (lambda: x.to("cuda"), x.cuda, lambda: cr.zeros(2, device="cuda"),
                 lambda: nn.Linear(2, 2).to("cuda:0"), lambda: nn.Linear(2, 2, device="cuda")):  # fmt: skip
        with pytest.raises(RuntimeError, match=r"CUDA is not available.*'gpu' extra"):
            call()
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        x.to("tpu")
    assert not backend.is_available()


CREATORS = {
    "tensor": lambda d: cr.tensor([1.0, 2.0], device=d),
    "zeros": lambda d: cr.zeros(2, 3, device=d),
    "ones": lambda d: cr.ones(2, device=d),
    "empty": lambda d: cr.empty(2, device=d),
    "full": lambda d: cr.full((2,), 3.0, device=d),
    "arange": lambda d: cr.arange(4, device=d),
    "linspace": lambda d: cr.linspace(0, 1, 5, device=d),
    "eye": lambda d: cr.eye(3, device=d),
    "rand": lambda d: cr.rand(2, device=d),
    "randn": lambda d: cr.randn(2, device=d),
    "randint": lambda d: cr.randint(0, 5, (3,), device=d),
    "randperm": lambda d: cr.randperm(4, device=d),
}


@pytest.mark.parametrize("name", sorted(CREATORS))
def test_device_argument_of_creation_functions(name, fake_cuda) -> None:
    cr.manual_seed(0)
    cpu = CREATORS[name]("cpu")
    cr.manual_seed(0)
    cuda = CREATORS[name]("cuda")
    assert cpu.device == "cpu" and isinstance(cpu.data, np.ndarray)
    assert cuda.device == "cuda" and cuda.is_cuda and isinstance(cuda.data, fake_cuda.ndarray)
    np.testing.assert_array_equal(cuda.cpu().numpy(), cpu.numpy())
    assert cuda.dtype == cpu.dtype
    like = cr.zeros_like(cuda), cr.ones_like(cuda), cr.full_like(cuda, 2)
    assert all(t.device == "cuda" and t.shape == cuda.shape for t in like)


def test_tensor_round_trip_and_host_views(fake_cuda) -> None:
    x = cr.tensor([[1.0, -2.0]], requires_grad=True)
    y = x.cuda()
    assert y.device == "cuda" and y.to("cpu").device == "cpu"
    assert x.to("cuda", cr.float64).dtype == np.float64
    assert y.to(cr.float64).device == "cuda"
    assert y.tolist() == [[1.0, -2.0]] and y.sum().item() == -1.0
    assert "device='cuda'" in repr(y)
    np.testing.assert_array_equal(np.asarray(y.detach()), [[1.0, -2.0]])
    (y * y).sum().backward()  # the gradient crosses back to the CPU leaf
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, -4.0]])


def test_mixing_devices_names_both(fake_cuda) -> None:
    a, b = cr.ones(2), cr.ones(2, device="cuda")
    with pytest.raises(RuntimeError, match=r"same device.*cpu and cuda.*in Add"):
        a + b
    with pytest.raises(RuntimeError, match=r"cuda and cpu.*in MatMul"):
        b @ a
    with pytest.raises(RuntimeError, match="in Concat"):
        cr.cat([b, a, b])
    assert (b + 1).device == "cuda" and (2 * b).device == "cuda"  # numbers join the tensor's device
    assert cr.maximum(b, 0.5).device == "cuda" and cr.where(b > 0, b, 0.0).device == "cuda"


def test_device_check_is_skipped_until_cupy_loads(monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(backend, "check_same_device", lambda *a: calls.append(a))
    monkeypatch.setattr(backend, "_cupy", None)
    _ = cr.ones(2) + cr.ones(2)
    assert calls == []


def test_module_to_keeps_parameter_identity(fake_cuda) -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    params = list(model.parameters())
    model(cr.randn(5, 3)).sum().backward()
    assert model.to("cpu") is model
    model.to(cr.float64)
    assert [p is q for p, q in zip(model.parameters(), params)] == [True] * 4
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in params)
    assert model[1].num_batches_tracked.dtype == np.int64  # only floating point tensors change dtype
    model.to("cuda")
    assert all(p is q for p, q in zip(model.parameters(), params))
    assert all(t.device == "cuda" for t in [*params, *[p.grad for p in params], *model.buffers()])
    y = model.eval()(cr.randn(2, 3, dtype=cr.float64, device="cuda"))
    assert y.device == "cuda"
    model.cpu()
    assert all(t.device == "cpu" for t in [*model.parameters(), *model.buffers()])


def test_layers_built_on_the_device(fake_cuda) -> None:
    layers = [nn.Linear(3, 2, device="cuda"), nn.Conv2d(1, 2, 3, device="cuda"), nn.LSTM(2, 3, device="cuda"),
              nn.Embedding(4, 2, device="cuda")]  # fmt: skip
    assert all(p.device == "cuda" for layer in layers for p in layer.parameters())
    lin = layers[0]
    state = {k: v.cpu() for k, v in lin.state_dict().items()}
    lin2 = nn.Linear(3, 2).to("cuda")
    lin2.load_state_dict(state)  # a CPU state dict loads into a CUDA model
    assert lin2.weight.device == "cuda"
    np.testing.assert_array_equal(lin2.weight.detach().cpu().numpy(), lin.weight.detach().cpu().numpy())


def test_dataloader_yields_device_batches(fake_cuda) -> None:
    ds = cr.data.TensorDataset(cr.arange(10.0).reshape(5, 2), cr.arange(5))
    batches = list(cr.data.DataLoader(ds, batch_size=2, device="cuda"))
    assert [xb.device for xb, _ in batches] == ["cuda"] * 3
    assert [yb.device for _, yb in batches] == ["cuda"] * 3
    np.testing.assert_array_equal(batches[0][0].cpu().numpy(), [[0.0, 1.0], [2.0, 3.0]])
    cpu_batches = list(cr.data.DataLoader(ds, batch_size=2, device="cpu"))
    assert all(xb.device == "cpu" for xb, _ in cpu_batches)


def test_device_cpu_works_everywhere() -> None:
    x = cr.randn(3, 2, device="cpu").to("cpu")
    model = nn.Linear(2, 2, device="cpu").to("cpu").cpu()
    loader = cr.data.DataLoader(cr.data.TensorDataset(x), batch_size=2, device="cpu")
    assert all(xb.device == "cpu" for (xb,) in loader)
    assert model(x.cpu()).device == "cpu"


def test_onnx_export_of_a_model_on_the_device(fake_cuda, tmp_path) -> None:
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model = nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.LayerNorm(4), nn.Linear(4, 2)).to("cuda")
    cr.onnx.export(model, cr.randn(2, 3, device="cuda"), tmp_path / "m.onnx")
    assert all(p.device == "cuda" for p in model.parameters())
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    got = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"]).run(
        None, {"input": x}
    )
    with cr.no_grad():
        ref = model(cr.tensor(x, device="cuda")).cpu().numpy()
    np.testing.assert_allclose(got[0], ref, rtol=1e-5, atol=1e-5)
