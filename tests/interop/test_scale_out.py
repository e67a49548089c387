"""examples/scale_out.py: a ``chainrule train`` run handed to torch DDP (2 processes, gloo), ONNX Runtime, and
back to chainrule; plus the clear errors for layers that have no torch or ONNX counterpart."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule import Function, nn
from chainrule.interop import from_torch, to_torch

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))  # the DDP processes import the example by name: spawn passes sys.path on
import scale_out  # noqa: E402

from chainrule.cli.train import train  # noqa: E402
from chainrule.cli.train_checkpoint import RunFolder  # noqa: E402
from chainrule.cli.train_config import TrainConfig  # noqa: E402

needs_gloo = pytest.mark.skipif(
    not (dist.is_available() and dist.is_gloo_available()),
    reason="torch.distributed's gloo backend is not available in this torch build",
)


# ---------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def split(tmp_path_factory) -> Path:
    """A real ``chainrule train`` run (one epoch on moons): model.safetensors + checkpoint.safetensors."""
    out = tmp_path_factory.mktemp("run") / "moons-mlp"
    config = TrainConfig(dataset="moons", model="mlp", epochs=1, hidden=16, lr=0.01)
    model, optimizer, history, data, seconds = train(config, show_progress=False, log=lambda *_: None)
    parts = {"config": config, "model": model, "optimizer": optimizer, "history": history, "data": data,
             "seconds": seconds, "epochs_run": 1}  # fmt: skip
    RunFolder(out).save(parts, final=True)
    return out


@pytest.fixture(scope="module")
def combined(split: Path, tmp_path_factory) -> Path:
    """The same run in chainrule 0.1's one-file layout, built by hand: everything in model.safetensors."""
    out = tmp_path_factory.mktemp("run") / "moons-mlp"
    out.mkdir()
    ckpt = cr.load(split / "checkpoint.safetensors")
    old = {k: ckpt[k] for k in ("optimizer", "config", "history", "epoch")}
    cr.save({"model": cr.load(split / "model.safetensors"), **old}, out / "model.safetensors")
    return out


@pytest.fixture
def no_children():
    """Fails the test if a DDP process outlives it (and stops any such process)."""
    yield
    left = multiprocessing.active_children()
    for p in left:
        p.kill()
    assert not left, f"processes left running: {left}"


def _weights(model) -> dict[str, np.ndarray]:
    return {k: np.asarray(v.numpy()) for k, v in model.state_dict().items()}


# ---------------------------------------------------------------------------------------------- loading
def test_load_run_reads_both_layouts(combined: Path, split: Path):
    stored = cr.load(combined / "model.safetensors")
    for path, layout in [
        (combined, "combined"),
        (combined / "model.safetensors", "combined"),
        (split, "split"),
        (split / "model.safetensors", "split"),
        (split / "checkpoint.safetensors", "split"),
    ]:
        run = scale_out.load_run(path)
        assert run.layout == layout, path
        assert run.config.dataset == "moons" and run.config.hidden == 16
        for name, value in _weights(run.model).items():
            np.testing.assert_array_equal(value, stored["model"][name].numpy())
        assert set(run.optimizer_state) == {"state", "param_groups"}


def test_load_run_errors_name_the_file(tmp_path: Path, split: Path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        scale_out.load_run(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match=r"model\.safetensors"):
        scale_out.load_run(tmp_path)
    weights_only = tmp_path / "w"
    weights_only.mkdir()
    (weights_only / "model.safetensors").write_bytes((split / "model.safetensors").read_bytes())
    with pytest.raises(ValueError, match=r"checkpoint\.safetensors.*missing"):
        scale_out.load_run(weights_only)


# ---------------------------------------------------------------------------------------------- to torch
def test_torch_state_dict_loads_with_weights_only(combined: Path, tmp_path: Path):
    run = scale_out.load_run(combined)
    scale_out.save_torch_state(run.model, tmp_path / "model.pt")
    state = torch.load(tmp_path / "model.pt", weights_only=True)
    twin = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16), torch.nn.ReLU(),
        torch.nn.Linear(16, 2),
    )  # fmt: skip
    twin.load_state_dict(state)  # the plain torch architecture: nothing from chainrule is needed
    x = run.data.x_test
    with torch.no_grad():
        got = twin(torch.from_numpy(x.numpy())).numpy()
    with cr.no_grad():
        expected = run.model(x).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw"])
def test_optimizer_state_continues_in_torch(name: str):
    """chainrule's optimizer state loaded into torch's optimizer: the next step gives the same weights."""
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    config = TrainConfig(dataset="moons", optimizer=name, lr=0.01)
    from chainrule.cli.train import build_optimizer

    opt = build_optimizer(config, model)
    x, y = cr.randn(8, 3), cr.tensor(np.arange(8) % 2)
    for _ in range(3):
        opt.zero_grad()
        cr.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    twin = to_torch(model)
    topt = scale_out.torch_optimizer(name, twin.parameters(), 0.01, opt.state_dict())
    opt.zero_grad()
    cr.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
    topt.zero_grad()
    torch.nn.functional.cross_entropy(
        twin(torch.from_numpy(x.numpy())), torch.from_numpy(y.numpy())
    ).backward()
    topt.step()
    for key, value in twin.state_dict().items():
        np.testing.assert_allclose(value.numpy(), model.state_dict()[key].numpy(), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------------- DDP
@pytest.fixture(scope="module")
def ddp_combined(combined: Path):
    """(run, trained torch model, per-rank records, seconds) of 2 DDP epochs on 2 gloo processes."""
    if not (dist.is_available() and dist.is_gloo_available()):
        pytest.skip("torch.distributed's gloo backend is not available in this torch build")
    run = scale_out.load_run(combined)
    started = time.monotonic()
    torch_model, records = scale_out.ddp_train(run, epochs=2, world_size=2, timeout=90)
    left = multiprocessing.active_children()
    assert not left, f"processes left running: {left}"
    return run, torch_model, records, time.monotonic() - started


def test_ddp_two_processes_continue_the_run(ddp_combined):
    run, torch_model, records, seconds = ddp_combined
    assert seconds < 90 and len(records) == 2
    rows = [set(r["first"]["rows"].tolist()) for r in records]
    assert rows[0] and not rows[0] & rows[1]  # the two ranks saw different halves of the first batch
    assert len(rows[0]) + len(rows[1]) == run.config.batch_size
    # first step: each rank's loss is chainrule's on the same rows and weights; the averaged gradient too
    scale_out.check_first_step(run.model, run.data.x_train, run.data.y_train, records)
    scale_out.check_ranks_agree(records)
    before = _weights(run.model)
    trained = {k: v.numpy() for k, v in torch_model.state_dict().items()}
    assert any(not np.allclose(trained[k], before[k]) for k in before)  # it did train
    assert all(np.isfinite(r["losses"]).all() and len(r["losses"]) == 2 for r in records)


def test_first_step_check_catches_a_wrong_loss(combined: Path):
    """The check is not vacuous: a record whose loss is off by 1e-3 fails it."""
    run = scale_out.load_run(combined)
    rows = torch.arange(8)
    grads = {n: torch.zeros(p.shape) for n, p in run.model.named_parameters()}
    x, y = run.data.x_train, run.data.y_train
    loss = float(cr.nn.functional.cross_entropy(run.model(x[rows.numpy()]), y[rows.numpy()]).item())
    record = {"first": {"rows": rows, "loss": torch.tensor(loss + 1e-3), "grads": grads}}
    with pytest.raises(AssertionError, match="rank 0"):
        scale_out.check_first_step(run.model, x, y, [record])
    record["first"]["loss"] = torch.tensor(loss)
    with pytest.raises(AssertionError, match="averaged gradient"):  # zero gradients are wrong too
        scale_out.check_first_step(run.model, x, y, [record])


@needs_gloo
def test_ddp_timeout_stops_every_process(combined: Path, no_children):
    run = scale_out.load_run(combined)
    with pytest.raises(TimeoutError, match=r"within 0\.5 s"):
        scale_out.ddp_train(run, epochs=1, timeout=0.5)  # the processes are still starting: stopped


@needs_gloo
def test_ddp_failing_rank_stops_the_others(combined: Path, no_children):
    run = scale_out.load_run(combined)
    run = replace(run, config=replace(run.config, optimizer="rmsprop"))  # each worker raises ValueError
    with pytest.raises(Exception, match="no torch optimizer for 'rmsprop'"):
        scale_out.ddp_train(run, epochs=1, timeout=60)


def test_ddp_refuses_bad_settings_before_starting(combined: Path):
    run = scale_out.load_run(combined)
    with pytest.raises(ValueError, match="backend must be"):
        scale_out.ddp_train(run, epochs=1, backend="mpi")
    if torch.cuda.device_count() < 2:
        with pytest.raises(RuntimeError, match="nccl needs one GPU per process: 2 processes"):
            scale_out.ddp_train(run, epochs=1, backend="nccl")
    with pytest.raises(ValueError, match="batch size 32 does not split over 3"):
        scale_out.ddp_train(run, epochs=1, world_size=3)
    custom = replace(run, model=nn.Sequential(nn.Linear(2, 2), _Cubed()))
    with pytest.raises(NotImplementedError, match=r"layer '1' \(_Cubed\)"):
        scale_out.ddp_train(custom, epochs=1)


def _run_in_own_group(args: list[str], timeout: float = 180) -> subprocess.CompletedProcess:
    """Run a command in a new process group and kill whatever is left of the group afterwards."""
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}  # the CPU (gloo) path, even on a GPU machine
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)  # fmt: skip
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def test_script_end_to_end(split: Path, ddp_combined, tmp_path: Path):
    """``python examples/scale_out.py RUN``, as a user runs it, on the split layout: every file written, every
    check passed, and the same final weights, bit for bit, as DDP from the combined layout (same run, and DDP
    on CPU is deterministic)."""
    out = tmp_path / "out"
    script = str(EXAMPLES / "scale_out.py")
    result = _run_in_own_group([sys.executable, script, str(split), "--epochs", "2", "--out", str(out)])
    assert result.returncode == 0, result.stderr
    assert "ranks agree" in result.stdout and "ONNX Runtime matches chainrule" in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert (
        summary["layout"] == "split" and summary["world_size"] == 2 and len(summary["ddp_epoch_losses"]) == 2
    )
    assert summary["first_step_max_diff"] < 1e-5 and summary["onnx_max_diff"] < 1e-5
    run, torch_model, _, _ = ddp_combined
    start = torch.load(out / "model.pt", weights_only=True)
    for key, value in _weights(run.model).items():
        np.testing.assert_array_equal(start[key].numpy(), value)
    trained = torch.load(out / "ddp.pt", weights_only=True)
    for key, value in torch_model.state_dict().items():
        assert torch.equal(trained[key], value), key
    assert (out / "explain.txt").read_text().startswith("Backpropagation through L")
    assert (out / "graph.dot").read_text().startswith("digraph") and (out / "model.onnx").stat().st_size > 0


def test_script_user_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture):
    for argv, needle in [
        ([str(tmp_path / "nowhere")], "no chainrule train run at"),
        ([str(tmp_path)], "model.safetensors' not found"),
        ([str(tmp_path), "--epochs", "0"], "must be positive"),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            scale_out.main(argv)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert not any("Traceback" in line for line in err), err  # argparse's own errors add a usage line
        assert needle in err[-1] and "error:" in err[-1], err


# ---------------------------------------------------------------------------------------------- ONNX
def test_onnx_round_trip_in_batches(combined: Path, tmp_path: Path):
    pytest.importorskip("onnxruntime")
    run = scale_out.load_run(combined)
    x = run.data.x_test  # 200 rows, served 64 at a time (the last batch has 8)
    diff = scale_out.check_onnx(run.model, x, tmp_path / "model.onnx", batch=64)
    assert diff < 1e-5
    import onnxruntime

    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape[0] == "batch"
    (one,) = session.run(None, {"input": x.numpy()[:1]})
    with cr.no_grad():
        np.testing.assert_allclose(one, run.model(x[:1]).numpy(), rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def served(combined: Path, tmp_path_factory):
    """(chainrule model, onnxruntime session) for the run's model."""
    ort = pytest.importorskip("onnxruntime")
    run = scale_out.load_run(combined)
    path = tmp_path_factory.mktemp("onnx") / "model.onnx"
    cr.onnx.export(run.model.eval(), run.data.x_test[:8], path)
    return run.model, ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@given(sizes=st.lists(st.integers(1, 40), min_size=1, max_size=6), seed=st.integers(0, 2**16))
def test_onnx_batched_requests_match_chainrule(served, sizes, seed):
    """Requests of any sizes gathered into one batch: each answer is chainrule's for that request alone."""
    model, session = served
    rng = np.random.default_rng(seed)
    requests = [rng.standard_normal((n, 2)).astype(np.float32) for n in sizes]
    (logits,) = session.run(None, {"input": np.concatenate(requests)})
    answers = np.split(logits, np.cumsum(sizes)[:-1])
    with cr.no_grad():
        for request, answer in zip(requests, answers):
            np.testing.assert_allclose(answer, model(cr.tensor(request)).numpy(), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------------------------- back
def test_torch_trained_model_is_explained_in_chainrule():
    """A model trained in torch comes back with from_torch; explain's gradients are torch's own."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x = torch.randn(64, 2)
    y = (x[:, 0] * x[:, 1] > 0).long()
    for _ in range(20):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    report, dot = scale_out.inspect_in_chainrule(net, cr.tensor(x.numpy()), cr.tensor(y.numpy()))
    net.zero_grad()
    torch.nn.functional.cross_entropy(net(x[:1]), y[:1]).backward()
    for name, p in net.named_parameters():
        np.testing.assert_allclose(report.grads[name], p.grad.numpy(), rtol=1e-5, atol=1e-7, err_msg=name)
    assert report.steps and "0.weight" in str(report)
    assert dot.startswith("digraph") and '"0.weight' in dot and "Linear" in dot


# ---------------------------------------------------------------------------------------------- errors
class _Cube(Function):
    def forward(self, x):
        return x**3

    def backward(self, gy):
        return 3 * self.inputs[0] ** 2 * gy


class _Cubed(nn.Module):
    def forward(self, x):
        return _Cube()(x)


def test_to_torch_names_a_custom_layer():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), _Cubed()))
    with pytest.raises(NotImplementedError, match=r"layer '1\.1' \(_Cubed\) to torch: it is a custom module"):
        to_torch(model)


@pytest.mark.parametrize("layer", [lambda: nn.GroupNorm(1, 4), lambda: nn.Conv3d(4, 4, 1), lambda: nn.Mish()])
def test_to_torch_names_a_layer_it_does_not_convert(layer):
    module = layer()
    name = type(module).__name__
    with pytest.raises(
        NotImplementedError, match=rf"layer '1' \({name}\) to torch: torch\.nn\.{name} exists"
    ):
        to_torch(nn.Sequential(nn.Linear(4, 4), module))


@pytest.mark.parametrize("layer", [lambda: torch.nn.LPPool2d(2, 2), lambda: torch.nn.Softmax2d()])
def test_from_torch_names_a_layer_chainrule_lacks(layer):
    module = layer()
    name = type(module).__name__
    with pytest.raises(
        NotImplementedError, match=rf"layer '1' \({name}\) to chainrule: chainrule\.nn has no {name}"
    ):
        from_torch(torch.nn.Sequential(torch.nn.Linear(4, 4), module))


@pytest.mark.parametrize("layer", [lambda: torch.nn.PReLU(), lambda: torch.nn.Hardshrink()])
def test_from_torch_names_a_layer_chainrule_has_but_does_not_convert(layer):
    module = layer()
    name = type(module).__name__
    with pytest.raises(
        NotImplementedError, match=rf"\({name}\) to chainrule: chainrule\.nn\.{name} exists but"
    ):
        from_torch(torch.nn.Sequential(torch.nn.Linear(4, 4), module))


def test_onnx_export_names_the_layer_without_a_conversion():
    pytest.importorskip("onnx")
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), _Cubed()))
    with pytest.raises(
        NotImplementedError, match=r"no ONNX conversion for the op _Cube \(in module '1\.1' \(_Cubed\)\)"
    ):
        cr.onnx.export(model, cr.randn(3, 2), None)


class _WithLoss(nn.Module):
    """A model that computes its own training loss: fine in chainrule, but a loss is not a serving graph."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 3)

    def forward(self, x):
        return cr.nn.functional.cross_entropy(self.fc(x), cr.tensor([0, 1, 2]))


def test_onnx_export_names_the_layer_that_computes_a_loss():
    pytest.importorskip("onnx")
    model = nn.Sequential(nn.Linear(2, 2), _WithLoss())
    with pytest.raises(NotImplementedError, match=r"_SoftmaxCrossEntropy \(in module '1' \(_WithLoss\)\)"):
        cr.onnx.export(model, cr.randn(3, 2), None, dynamic_batch=False)
