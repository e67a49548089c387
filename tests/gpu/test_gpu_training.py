"""Training utilities on a CUDA device give the CPU's numbers and keep everything on the device: gradient
clipping and flat parameter vectors (``nn.utils``), the ``DataLoader`` over device data or moving batches to
the device, every optimizer (steps, ``zero_grad``, state dicts through ``save``/``load``), every LR scheduler,
``nn.init`` and the random creation functions."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import backend, nn
from chainrule.nn import utils


def _host(t: Any) -> np.ndarray:
    return t.detach().cpu().numpy()


def _model_with_grads(device: str | None) -> nn.Module:
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3, bias=False))
    if device is not None:
        model.to(device)
    x = cr.tensor(np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32), device=device)
    model(x).square().sum().backward()
    return model


# ---------------------------------------------------------------------------------------------- nn.utils
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3, math.inf, 0])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_on_device_matches_cpu(norm_type: float, max_norm: float, device: str) -> None:
    ref_model, model = _model_with_grads(None), _model_with_grads(device)
    ref = utils.clip_grad_norm_(ref_model.parameters(), max_norm, norm_type)
    total = utils.clip_grad_norm_(model.parameters(), max_norm, norm_type)
    # as torch: the norm stays on the device
    assert total.device == "cuda" and backend.is_cuda_array(total.data)
    assert total.dtype == ref.dtype == np.float32 and total.shape == ()
    np.testing.assert_allclose(_host(total), _host(ref), rtol=1e-6)
    for p, r in zip(model.parameters(), ref_model.parameters()):
        assert p.grad.device == "cuda" and p.grad.dtype == r.grad.dtype
        np.testing.assert_allclose(_host(p.grad), _host(r.grad), rtol=1e-5, atol=1e-7)
    if max_norm < 1 and norm_type != 0:  # the clipped gradients have the requested norm
        clipped = utils.get_total_norm([p.grad for p in model.parameters()], norm_type)
        assert float(clipped) <= max_norm * 1.0001


def test_get_total_norm_on_device(device: str) -> None:
    grads = [p.grad for p in _model_with_grads(device).parameters()]
    ref = [p.grad for p in _model_with_grads(None).parameters()]
    for norm_type in (2.0, 0.5, math.inf):
        got = utils.get_total_norm(grads, norm_type)
        assert got.device == "cuda"
        np.testing.assert_allclose(_host(got), _host(utils.get_total_norm(ref, norm_type)), rtol=1e-6)
    mixed = [ref[0], *grads[1:]]  # gradients on both devices: the norm lands on the first one's
    for first, devices in ((mixed, "cpu"), (mixed[::-1], "cuda")):
        got = utils.get_total_norm(first)
        assert got.device == devices
        np.testing.assert_allclose(float(got), float(utils.get_total_norm(ref)), rtol=1e-6)
    model = _model_with_grads(device)
    next(model.parameters()).grad.data[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.clip_grad_norm_(model.parameters(), 1.0, error_if_nonfinite=True)
    assert float(utils.get_total_norm([p.grad for p in model.parameters()])) == math.inf
    empty = utils.get_total_norm([])
    assert empty.device == "cpu" and float(empty) == 0.0


def test_clip_grad_value_on_device(device: str) -> None:
    ref_model, model = _model_with_grads(None), _model_with_grads(device)
    utils.clip_grad_value_(ref_model.parameters(), 0.3)
    utils.clip_grad_value_(model.parameters(), 0.3)
    for p, r in zip(model.parameters(), ref_model.parameters()):
        assert p.grad.device == "cuda"
        np.testing.assert_allclose(_host(p.grad), _host(r.grad), rtol=1e-5, atol=1e-7)
        assert np.abs(_host(p.grad)).max() <= np.float32(0.3)


def test_parameters_to_vector_and_back_on_device(device: str) -> None:
    model = _model_with_grads(device)
    params = list(model.parameters())
    vec = utils.parameters_to_vector(params)
    assert vec.device == "cuda" and vec.shape == (sum(p.numel() for p in params),)
    np.testing.assert_array_equal(_host(vec), np.concatenate([_host(p).reshape(-1) for p in params]))
    new = np.arange(vec.shape[0], dtype=np.float32)
    for where in (device, "cpu"):  # a device vector, and a host one
        utils.vector_to_parameters(cr.tensor(new, device=where) * 0.5, params)
        assert all(p.device == "cuda" and backend.is_cuda_array(p.data) for p in params)
        np.testing.assert_array_equal(_host(utils.parameters_to_vector(params)), new * 0.5)
        new = new + 1


# ---------------------------------------------------------------------------------------------- DataLoader
def _dataset(device: str | None) -> cr.data.TensorDataset:
    rng = np.random.default_rng(2)
    return cr.data.TensorDataset(
        cr.tensor(rng.standard_normal((11, 3)).astype(np.float32), device=device),
        cr.tensor(rng.integers(0, 4, 11), device=device),
    )


LOADERS: dict[str, Callable[[Any], Any]] = {
    "plain": lambda ds: cr.data.DataLoader(ds, batch_size=4),
    "shuffle+drop_last": lambda ds: cr.data.DataLoader(
        ds, batch_size=3, shuffle=True, drop_last=True, seed=3
    ),
    "pin_memory": lambda ds: cr.data.DataLoader(ds, batch_size=5, pin_memory=True, generator=1, shuffle=True),
    "subset": lambda ds: cr.data.DataLoader(cr.data.Subset(ds, [9, 1, 4, 4, 0]), batch_size=2),
    "random_split": lambda ds: cr.data.DataLoader(cr.data.random_split(ds, [8, 3], seed=0)[0], batch_size=3),
    "concat (collate)": lambda ds: cr.data.DataLoader(
        cr.data.ConcatDataset([ds, ds]), batch_size=6, shuffle=True
    ),
    "collate_fn": lambda ds: cr.data.DataLoader(
        ds,
        batch_size=4,
        collate_fn=lambda s: {"x": cr.stack([a for a, _ in s]), "y": cr.stack([b for _, b in s])},
    ),
    "batch_size=None": lambda ds: cr.data.DataLoader(ds, batch_size=None),
}


def _batches(loader: Any) -> list[Any]:
    cr.manual_seed(4)  # shuffling from the global generator
    out = []
    for batch in loader:
        items = batch.values() if isinstance(batch, dict) else batch
        out.append(list(items))
    return out


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_dataloader_over_device_data(name: str, device: str) -> None:
    ref = _batches(LOADERS[name](_dataset(None)))
    got = _batches(LOADERS[name](_dataset(device)))
    assert len(got) == len(ref) > 0
    for g_batch, r_batch in zip(got, ref):
        for g, r in zip(g_batch, r_batch):
            assert g.device == "cuda" and backend.is_cuda_array(g.data), name
            assert g.dtype == r.dtype and g.shape == r.shape
            np.testing.assert_array_equal(_host(g), _host(r))
    # device="cpu" brings the same batches back to the host
    loader = LOADERS[name](_dataset(device))
    loader.device = "cpu"
    back = _batches(loader)
    assert all(t.device == "cpu" for batch in back for t in batch)
    for b_batch, r_batch in zip(back, ref):
        for b, r in zip(b_batch, r_batch):
            np.testing.assert_array_equal(b.numpy(), r.numpy())


def test_dataloader_moves_nested_batches_to_the_device(device: str) -> None:
    class Pairs(cr.data.Dataset):
        def __len__(self) -> int:
            return 5

        def __getitem__(self, i: int) -> Any:
            return {"x": np.full(2, i, dtype=np.float32), "meta": (i, float(i) / 2), "name": f"s{i}"}

    batches = list(cr.data.DataLoader(Pairs(), batch_size=2, device=device, drop_last=True))
    assert len(batches) == 2
    for k, b in enumerate(batches):
        assert b["x"].device == "cuda" and b["meta"][0].device == "cuda" and b["meta"][1].device == "cuda"
        assert b["name"] == [f"s{2 * k}", f"s{2 * k + 1}"]
        np.testing.assert_array_equal(_host(b["x"]), [[2 * k] * 2, [2 * k + 1] * 2])
        assert b["meta"][0].dtype == np.int64 and b["meta"][1].dtype == np.float32


# ---------------------------------------------------------------------------------------------- optimizers
OPTIMIZERS: dict[str, Callable[[Any], Any]] = {
    "SGD": lambda ps: cr.optim.SGD(ps, lr=0.1),
    "SGD[momentum,nesterov,wd]": lambda ps: cr.optim.SGD(
        ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01
    ),
    "SGD[dampening,maximize]": lambda ps: cr.optim.SGD(
        ps, lr=0.05, momentum=0.5, dampening=0.3, maximize=True
    ),
    "Adam": lambda ps: cr.optim.Adam(ps, lr=0.01),
    "Adam[amsgrad,wd]": lambda ps: cr.optim.Adam(ps, lr=0.01, amsgrad=True, weight_decay=0.1),
    "AdamW": lambda ps: cr.optim.AdamW(ps, lr=0.01, weight_decay=0.1, betas=(0.8, 0.9)),
    "RMSprop": lambda ps: cr.optim.RMSprop(ps, lr=0.01),
    "RMSprop[centered,momentum]": lambda ps: cr.optim.RMSprop(ps, lr=0.01, centered=True, momentum=0.9),
    "Adagrad": lambda ps: cr.optim.Adagrad(ps, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    "groups": lambda ps: cr.optim.Adam([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.1}], lr=0.01),
}


def _optimize(make: Callable[[Any], Any], device: str | None, tmp_path: Any, steps: int = 3) -> list:
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    if device is not None:
        model.to(device)
    params = list(model.parameters())
    opt = make(params)
    rng = np.random.default_rng(5)
    data = [
        (cr.tensor(rng.standard_normal((8, 4)).astype(np.float32), device=device),
         cr.tensor(rng.integers(0, 2, 8), device=device))
        for _ in range(2 * steps)
    ]  # fmt: skip

    def run(o: Any, batches: list) -> list[float]:
        losses = []
        for i, (x, y) in enumerate(batches):
            o.zero_grad(set_to_none=i % 2 == 0)  # both ways of zeroing keep gradients on the device
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            o.step()
            losses.append(float(loss))
        return losses

    losses = run(opt, data[:steps])
    cr.save(opt.state_dict(), tmp_path / f"opt-{device}.safetensors")
    for state in opt.state.values():
        for v in state.values():
            if isinstance(v, cr.Tensor):
                assert v.device == (device or "cpu")
    opt2 = make(params)
    opt2.load_state_dict(cr.load(tmp_path / f"opt-{device}.safetensors"))  # host arrays onto the device
    for state in opt2.state.values():
        for v in state.values():
            if isinstance(v, cr.Tensor):
                assert v.device == (device or "cpu") and backend.device_of(v.data) == (device or "cpu")
    losses += run(opt2, data[steps:])
    return [losses, [_host(p) for p in params], [_host(p.grad) for p in params if p.grad is not None]]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_on_device_matches_cpu(name: str, device: str, tmp_path: Any) -> None:
    pytest.importorskip("safetensors")
    ref = _optimize(OPTIMIZERS[name], None, tmp_path)
    got = _optimize(OPTIMIZERS[name], device, tmp_path)
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-5, atol=1e-6)
    for g, r in zip(got[1] + got[2], ref[1] + ref[2]):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-6)


def test_hyper_parameters_given_as_device_tensors(device: str) -> None:
    w = cr.zeros(3, device=device, requires_grad=True)
    opt = cr.optim.SGD([w], lr=cr.tensor(0.5, device=device), momentum=cr.tensor([0.9], device=device))
    assert opt.param_groups[0]["lr"] == 0.5 and isinstance(opt.param_groups[0]["lr"], float)
    (w - cr.tensor([1.0, 2.0, 3.0], device=device)).square().sum().backward()
    opt.step()
    np.testing.assert_allclose(_host(w), [1.0, 2.0, 3.0])


SCHEDULERS: dict[str, Callable[[Any], Any]] = {
    "StepLR": lambda o: cr.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
    "MultiStepLR": lambda o: cr.optim.lr_scheduler.MultiStepLR(o, [1, 3], gamma=0.3),
    "ExponentialLR": lambda o: cr.optim.lr_scheduler.ExponentialLR(o, 0.9),
    "CosineAnnealingLR": lambda o: cr.optim.lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.01),
    "LambdaLR": lambda o: cr.optim.lr_scheduler.LambdaLR(o, lambda e: 1 / (1 + e)),
    "OneCycleLR": lambda o: cr.optim.lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=6),
}


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_lr_scheduler_with_device_parameters(name: str, device: str) -> None:
    def run(dev: str | None) -> tuple[list[float], list[float]]:
        w = cr.ones(2, device=dev, requires_grad=True)
        opt = cr.optim.SGD([w], lr=0.1, momentum=0.9)
        sched = SCHEDULERS[name](opt)
        lrs = []
        for _ in range(5):
            (w * w).sum().backward()
            opt.step()
            opt.zero_grad()
            sched.step()
            lrs.append(sched.get_last_lr()[0])
        state = sched.state_dict()
        sched2 = SCHEDULERS[name](opt)
        sched2.load_state_dict(state)
        assert sched2.get_last_lr() == sched.get_last_lr()
        assert w.device == (dev or "cpu")
        return lrs, _host(w).tolist()

    lrs, weights = run(device)
    ref_lrs, ref_weights = run(None)
    assert lrs == ref_lrs
    np.testing.assert_allclose(weights, ref_weights, rtol=1e-6)


# ---------------------------------------------------------------------------------------------- init, random
INITS: dict[str, Callable[[Any], Any]] = {
    "uniform_": lambda t: nn.init.uniform_(t, -0.5, 2.0),
    "normal_": lambda t: nn.init.normal_(t, 1.0, 0.3),
    "trunc_normal_": lambda t: nn.init.trunc_normal_(t, std=0.5, a=-0.6, b=0.6),
    "constant_": lambda t: nn.init.constant_(t, 0.25),
    "ones_": nn.init.ones_,
    "zeros_": nn.init.zeros_,
    "eye_": nn.init.eye_,
    "dirac_": nn.init.dirac_,
    "xavier_uniform_": lambda t: nn.init.xavier_uniform_(t, gain=nn.init.calculate_gain("tanh")),
    "xavier_normal_": nn.init.xavier_normal_,
    "kaiming_uniform_": lambda t: nn.init.kaiming_uniform_(t, a=math.sqrt(5)),
    "kaiming_normal_": lambda t: nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
    "orthogonal_": lambda t: nn.init.orthogonal_(t, gain=2.0),
}


@pytest.mark.parametrize("name", sorted(INITS))
def test_init_on_device_parameters(name: str, device: str) -> None:
    shape = (4, 3, 3) if name == "dirac_" else (5, 3)
    ref = nn.Parameter(cr.empty(*shape))
    param = nn.Parameter(cr.empty(*shape, device=device))
    cr.manual_seed(9)
    INITS[name](ref)
    cr.manual_seed(9)
    out = INITS[name](param)
    assert out is param and param.device == "cuda" and backend.is_cuda_array(param.data)
    assert param.dtype == np.float32 and param.requires_grad
    np.testing.assert_allclose(_host(param), _host(ref), rtol=1e-6, atol=1e-7)


RANDOM: dict[str, Callable[[Any], Any]] = {
    "randn[float64]": lambda d: cr.randn(3, 2, dtype=cr.float64, device=d),
    "rand[tuple]": lambda d: cr.rand((2, 3), device=d, requires_grad=True),
    "randint[low,high]": lambda d: cr.randint(-3, 3, (4,), device=d),
    "randint[high]": lambda d: cr.randint(5, (2, 2), device=d),
    "randperm": lambda d: cr.randperm(7, device=d),
    "rand_like": lambda d: cr.rand_like(cr.zeros(2, 3, device=d)),
    "randn_like[dtype]": lambda d: cr.randn_like(cr.zeros(4, device=d), dtype=cr.float64),
}


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_random_creation_on_device(name: str, device: str) -> None:
    cr.manual_seed(1)
    ref = RANDOM[name](None)
    cr.manual_seed(1)
    got = RANDOM[name](device)
    assert got.device == "cuda" and backend.is_cuda_array(got.data)
    assert got.dtype == ref.dtype and got.shape == ref.shape and got.requires_grad == ref.requires_grad
    np.testing.assert_array_equal(_host(got), _host(ref))


def test_dropout_layers_in_a_training_loop_on_device(device: str) -> None:
    """Dropout in train mode draws a fresh mask per step (from the seed) on the device; eval mode is exact."""
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 16), nn.Dropout(0.5), nn.Linear(16, 1))
    twin = copy.deepcopy(model).to(device)
    x = np.random.default_rng(0).standard_normal((8, 5)).astype(np.float32)
    for step in range(3):
        cr.manual_seed(step)
        ref = model(cr.tensor(x))
        cr.manual_seed(step)
        got = twin(cr.tensor(x, device=device))
        assert got.device == "cuda"
        np.testing.assert_allclose(_host(got), _host(ref), rtol=1e-6, atol=1e-6)
    model.eval()
    twin.eval()
    np.testing.assert_allclose(
        _host(twin(cr.tensor(x, device=device))), _host(model(cr.tensor(x))), rtol=1e-6, atol=1e-6
    )
