"""Optimizer mechanics: argument forms, validation, zero_grad, closures, dtype, state-dict round trips."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

ALL = [
    (optim.SGD, {"lr": 0.05, "momentum": 0.9}),
    (optim.Adam, {"lr": 0.05, "amsgrad": True}),
    (optim.AdamW, {"lr": 0.05}),
    (optim.RMSprop, {"lr": 0.01, "momentum": 0.5, "centered": True}),
    (optim.Adagrad, {"lr": 0.1, "lr_decay": 0.01}),
]
IDS = [cls.__name__ for cls, _ in ALL]


def make_params(dtype="float64"):
    rng = np.random.default_rng(0)
    return [cr.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in [(3, 2), (2,)]]


def set_grads(params, k):
    for p in params:
        p.grad = cr.tensor(np.sin(p.data * (k + 2)) + p.data)


def run(opt, params, steps, start=0):
    for k in range(start, start + steps):
        set_grads(params, k)
        opt.step()


@pytest.mark.parametrize(("cls", "kwargs"), ALL, ids=IDS)
def test_state_dict_round_trip_through_save_and_load(tmp_path, cls, kwargs):
    """Interrupt after 3 steps, save, load into a fresh optimizer, continue: same as 7 uninterrupted steps."""
    ref = make_params()
    run(cls(ref, **kwargs), ref, 7)

    params = make_params()
    opt = cls(params, **kwargs)
    run(opt, params, 3)
    cr.save(
        {"params": [p.detach() for p in params], "optimizer": opt.state_dict(), "epoch": 3}, tmp_path / "c.st"
    )
    ckpt = cr.load(tmp_path / "c.st")
    assert ckpt["epoch"] == 3

    resumed = [cr.tensor(t.data, requires_grad=True) for t in ckpt["params"]]
    opt2 = cls(resumed, lr=123.0)  # hyper-parameters come back from the state dict
    opt2.load_state_dict(ckpt["optimizer"])
    assert opt2.param_groups[0]["lr"] == kwargs["lr"]
    assert opt2.param_groups[0]["params"][0] is resumed[0]
    run(opt2, resumed, 4, start=3)
    for p, q in zip(resumed, ref):
        np.testing.assert_allclose(p.data, q.data, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("cls", "kwargs"), ALL, ids=IDS)
def test_load_state_dict_copies_state(cls, kwargs):
    params = make_params()
    opt = cls(params, **kwargs)
    run(opt, params, 2)
    sd = opt.state_dict()
    other = cls(make_params(), **kwargs)
    other.load_state_dict(sd)
    for i, p in enumerate(other.param_groups[0]["params"]):
        for key, value in other.state[p].items():
            if isinstance(value, cr.Tensor):
                assert value.data is not sd["state"][i][key].data
                np.testing.assert_array_equal(value.data, sd["state"][i][key].data)


def test_torch_state_dict_loads_and_continues_like_torch(torch):
    """A torch.optim.Adam state dict (torch tensors, torch's extra group keys) loads into chainrule's Adam."""
    start = np.linspace(-1, 1, 6)
    tp = torch.tensor(start, requires_grad=True)
    topt = torch.optim.Adam([tp], lr=0.1, amsgrad=True)
    for k in range(3):
        tp.grad = torch.from_numpy(np.cos(tp.detach().numpy() * (k + 1)))
        topt.step()
    p = cr.tensor(tp.detach().numpy().copy(), requires_grad=True)
    opt = optim.Adam([p], lr=0.5)
    opt.load_state_dict(topt.state_dict())
    assert opt.state[p]["step"] == 3
    for k in range(3, 6):
        tp.grad = torch.from_numpy(np.cos(tp.detach().numpy() * (k + 1)))
        p.grad = cr.tensor(np.cos(p.data * (k + 1)))
        topt.step()
        opt.step()
    np.testing.assert_allclose(p.data, tp.detach().numpy(), atol=1e-12)


def test_load_state_dict_validates_groups():
    a, b = make_params()
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    run(opt, [a, b], 1)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        optim.SGD([a, b], lr=0.1).load_state_dict({"state": {}})
    bad = {"state": {0: {"momentum_buffer": cr.zeros(7)}}, "param_groups": sd["param_groups"]}
    with pytest.raises(ValueError, match=r"momentum_buffer.*shape"):
        optim.SGD([a, b], lr=0.1).load_state_dict(bad)


def test_state_dict_structure_like_torch():
    a, b, c = (cr.tensor([1.0, 2.0], requires_grad=True) for _ in range(3))
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.1}])
    for p in (a, c):  # b has no gradient: no state
        p.grad = cr.ones(2)
    opt.step()
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sorted(sd["state"]) == [0, 2]
    assert sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "step"]
    assert sd["param_groups"][1]["lr"] == 0.1 and sd["param_groups"][0]["lr"] == 1e-3
    assert sd["param_groups"][0]["betas"] == (0.9, 0.999)


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda p: optim.SGD(p, lr=-0.1), "Invalid learning rate: -0.1"),
        (lambda p: optim.SGD(p, lr=0.1, momentum=-1), "Invalid momentum value: -1"),
        (lambda p: optim.SGD(p, lr=0.1, weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
        (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "Nesterov momentum requires"),
        (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening=0.1"),
        (lambda p: optim.Adam(p, lr=-1e-3), "Invalid learning rate: -0.001"),
        (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
        (lambda p: optim.Adam(p, betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
        (lambda p: optim.AdamW(p, eps=-1e-8), "Invalid eps value: -1e-08"),
        (lambda p: optim.RMSprop(p, alpha=-0.5), "Invalid alpha value: -0.5"),
        (lambda p: optim.RMSprop(p, momentum=-0.5), "Invalid momentum value: -0.5"),
        (lambda p: optim.Adagrad(p, lr_decay=-1.0), "Invalid lr_decay value: -1.0"),
        (lambda p: optim.Adagrad(p, initial_accumulator_value=-2.0), "initial_accumulator_value value: -2.0"),
        (lambda p: optim.Adam([{"params": p, "lr": -3.0}]), "Invalid learning rate: -3.0"),
    ],
)
def test_invalid_hyper_parameters(factory, match):
    with pytest.raises(ValueError, match=match):
        factory(make_params())


def test_invalid_params_arguments():
    w = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD({w}, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match=r"can only optimize Tensors.*ndarray"):
        optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(TypeError, match="must be a dict"):
        optim.SGD([w], lr=0.1).add_param_group([w])


def test_accepts_generators_and_single_tensor_groups():
    params = make_params()
    opt = optim.Adam(p for p in params)
    assert len(opt.param_groups) == 1 and len(opt.param_groups[0]["params"]) == 2
    opt = optim.SGD([{"params": params[0]}, {"params": iter([params[1]]), "momentum": 0.5}], lr=0.1)
    assert [len(g["params"]) for g in opt.param_groups] == [1, 1]
    assert opt.param_groups[0]["momentum"] == 0 and opt.param_groups[1]["momentum"] == 0.5


@pytest.mark.parametrize(("cls", "kwargs"), ALL, ids=IDS)
def test_params_without_grad_are_skipped(cls, kwargs):
    a, b = make_params()
    before = b.data.copy()
    opt = cls([a, b], **kwargs)
    a.grad = cr.ones_like(a)
    opt.step()
    np.testing.assert_array_equal(b.data, before)
    if cls is not optim.Adagrad:  # Adagrad, like torch, creates its state up front
        assert b not in opt.state or not opt.state[b]


@pytest.mark.parametrize(("cls", "kwargs"), ALL, ids=IDS)
def test_float32_stays_float32_in_place(cls, kwargs):
    params = make_params("float32")
    arrays = [p.data for p in params]
    versions = [p._version for p in params]
    opt = cls(params, **kwargs)
    run(opt, params, 3)
    for p, a, v in zip(params, arrays, versions):
        assert p.dtype == np.float32 and p.data is a  # updated in place
        assert p._version > v
    for state in opt.state.values():
        for value in state.values():
            if isinstance(value, cr.Tensor):
                assert value.dtype == np.float32


def test_zero_grad():
    a, b = make_params()
    opt = optim.SGD([a, b], lr=0.1)
    set_grads([a, b], 0)
    g = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is g and np.all(a.grad.data == 0) and np.all(b.grad.data == 0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    opt.zero_grad()  # no gradients: nothing to do


def test_step_with_closure_reevaluates_with_grad_enabled():
    w = cr.tensor([2.0, -1.0], dtype="float64", requires_grad=True)
    opt = optim.SGD([w], lr=0.25)
    calls = []

    def closure():
        calls.append(cr.is_grad_enabled())
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with cr.no_grad():
        loss = opt.step(closure)
    assert calls == [True]
    assert loss.item() == pytest.approx(5.0)
    np.testing.assert_allclose(w.data, [1.0, -0.5])  # w - 0.25 * 2w


def test_maximize_ascends():
    w = cr.tensor([0.0], dtype="float64", requires_grad=True)
    opt = optim.SGD([w], lr=0.1, maximize=True)
    w.grad = cr.tensor([1.0], dtype="float64")
    opt.step()
    assert w.item() == pytest.approx(0.1)


def test_repr_lists_groups():
    opt = optim.Adam(make_params(), lr=0.01)
    text = repr(opt)
    assert text.startswith("Adam (") and "Parameter Group 0" in text and "lr: 0.01" in text
