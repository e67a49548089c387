"""Every optimizer against torch.optim: same start and gradients, several steps, same parameters and state."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "maximize": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1, "alpha": 0.9}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.1}),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}" for name, kw in CONFIGS]
STEPS = 6


def grad_fn(p: np.ndarray, k: int) -> np.ndarray:
    """A smooth, parameter-dependent gradient (so the trajectories feed back into the updates)."""
    return p**3 - 0.5 * p + np.cos(p * (k + 1))


def tol(dtype: str) -> dict[str, float]:
    return {"atol": 1e-6, "rtol": 1e-5} if dtype == "float32" else {"atol": 1e-10, "rtol": 1e-10}


def run_pair(torch, name, kwargs, dtype, steps=STEPS, shapes=((3, 4), (5,))):
    rng = np.random.default_rng(1)
    starts = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ours = [cr.tensor(a, requires_grad=True) for a in starts]
    theirs = [torch.tensor(a, requires_grad=True) for a in starts]
    opt = getattr(optim, name)(ours, **kwargs)
    topt = getattr(torch.optim, name)(theirs, **kwargs)
    for k in range(steps):
        for p, q in zip(ours, theirs):
            p.grad = cr.tensor(grad_fn(p.data, k))
            q.grad = torch.from_numpy(grad_fn(q.detach().numpy(), k))
        opt.step()
        topt.step()
    return ours, theirs, opt, topt


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=IDS)
def test_matches_torch(torch, name, kwargs, dtype):
    ours, theirs, opt, topt = run_pair(torch, name, kwargs, dtype)
    for p, q in zip(ours, theirs):
        assert p.dtype == np.dtype(dtype)
        np.testing.assert_allclose(p.data, q.detach().numpy(), **tol(dtype))
    # the state has torch's names and values
    ours_sd, theirs_sd = opt.state_dict(), topt.state_dict()
    assert set(ours_sd["state"]) == set(theirs_sd["state"])
    for i, state in ours_sd["state"].items():
        tstate = theirs_sd["state"][i]
        assert set(state) == {k for k, v in tstate.items() if v is not None}
        for key, value in state.items():
            expected = np.asarray(
                tstate[key].detach().numpy() if hasattr(tstate[key], "numpy") else tstate[key]
            )
            got = np.asarray(value.data if isinstance(value, cr.Tensor) else value)
            if key != "step":
                assert got.dtype == np.dtype(dtype)
            np.testing.assert_allclose(got, expected, **tol(dtype))
    for g, tg in zip(ours_sd["param_groups"], theirs_sd["param_groups"]):
        for key, value in g.items():
            assert tg[key] == value, key


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_real_backward_matches_torch(torch, name):
    """Gradients from each library's own backward pass, through a small regression problem."""
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 2))
    w0, b0 = rng.standard_normal((3, 2)), rng.standard_normal(2)
    w, b = cr.tensor(w0, requires_grad=True), cr.tensor(b0, requires_grad=True)
    tw, tb = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    kwargs = {"lr": 0.05, "momentum": 0.9} if name in ("SGD", "RMSprop") else {"lr": 0.05}
    opt, topt = getattr(optim, name)([w, b], **kwargs), getattr(torch.optim, name)([tw, tb], **kwargs)
    cx, cy, tx, ty = cr.tensor(x), cr.tensor(y), torch.tensor(x), torch.tensor(y)
    for _ in range(8):
        opt.zero_grad()
        topt.zero_grad()
        ((cx @ w + b - cy) ** 2).mean().backward()
        ((tx @ tw + tb - ty) ** 2).mean().backward()
        opt.step()
        topt.step()
    np.testing.assert_allclose(w.data, tw.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(b.data, tb.detach().numpy(), atol=1e-10)


GROUP_CASES = [
    ("SGD", {"momentum": 0.9}),
    ("Adam", {}),
    ("RMSprop", {"momentum": 0.5}),
    ("Adagrad", {}),
    ("AdamW", {"weight_decay": 0.2}),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("name", "extra"), GROUP_CASES)
def test_param_groups_with_different_lr(torch, name, extra, dtype):
    rng = np.random.default_rng(3)
    a0, b0, c0 = (rng.standard_normal(s).astype(dtype) for s in [(4,), (2, 2), (3,)])
    a, b, c = (cr.tensor(v, requires_grad=True) for v in (a0, b0, c0))
    ta, tb, tc = (torch.tensor(v, requires_grad=True) for v in (a0, b0, c0))
    opt = getattr(optim, name)([{"params": [a, b], "lr": 0.1}, {"params": [c]}], lr=0.01, **extra)
    topt = getattr(torch.optim, name)([{"params": [ta, tb], "lr": 0.1}, {"params": [tc]}], lr=0.01, **extra)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    for k in range(STEPS):
        for p, q in zip((a, b, c), (ta, tb, tc)):
            p.grad = cr.tensor(grad_fn(p.data, k))
            q.grad = torch.from_numpy(grad_fn(q.detach().numpy(), k))
        opt.step()
        topt.step()
    for p, q in zip((a, b, c), (ta, tb, tc)):
        np.testing.assert_allclose(p.data, q.detach().numpy(), **tol(dtype))


def test_add_param_group_matches_torch(torch):
    a0, b0 = np.linspace(-1, 1, 5), np.linspace(2, 3, 4)
    a, b = cr.tensor(a0, requires_grad=True), cr.tensor(b0, requires_grad=True)
    ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    opt, topt = optim.Adam([a], lr=0.1), torch.optim.Adam([ta], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.01, "amsgrad": True})
    topt.add_param_group({"params": tb, "lr": 0.01, "amsgrad": True})
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    for k in range(STEPS):
        for p, q in zip((a, b), (ta, tb)):
            p.grad = cr.tensor(grad_fn(p.data, k))
            q.grad = torch.from_numpy(grad_fn(q.detach().numpy(), k))
        opt.step()
        topt.step()
    for p, q in zip((a, b), (ta, tb)):
        np.testing.assert_allclose(p.data, q.detach().numpy(), atol=1e-10)
