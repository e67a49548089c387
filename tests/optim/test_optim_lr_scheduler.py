"""Learning-rate schedulers against torch.optim.lr_scheduler, step by step, with two parameter groups."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.optim import lr_scheduler

STEPS = 30


class Warmup:
    """A callable object (its state is saved by LambdaLR.state_dict, unlike a lambda)."""

    def __init__(self, n):
        self.n = n

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.n)


SCHEDULERS = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}),
    ("StepLR", {"step_size": 1}),
    ("MultiStepLR", {"milestones": [3, 8, 8, 20], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 10}),
    ("CosineAnnealingLR", {"T_max": 12, "eta_min": 0.001}),
    ("LambdaLR", {"lr_lambda": lambda e: 0.95**e}),
    ("LambdaLR", {"lr_lambda": [lambda e: 1 / (e + 1), Warmup(5)]}),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": STEPS + 1}),
    ("OneCycleLR", {"max_lr": [0.5, 0.2], "epochs": 4, "steps_per_epoch": 8, "anneal_strategy": "linear"}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 40, "three_phase": True, "pct_start": 0.25}),
]
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULERS)]


def make(torch, opt_name, opt_kwargs):
    ours = [cr.tensor([1.0, 2.0], requires_grad=True), cr.tensor([3.0], requires_grad=True)]
    theirs = [torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([3.0], requires_grad=True)]
    groups = lambda ps: [{"params": [ps[0]], "lr": 0.1}, {"params": [ps[1]], "lr": 0.01}]  # noqa: E731
    return (
        getattr(optim, opt_name)(groups(ours), **opt_kwargs),
        getattr(torch.optim, opt_name)(groups(theirs), **opt_kwargs),
    )


def group_values(opt, key):
    return [tuple(g[key]) if key == "betas" else g[key] for g in opt.param_groups]


@pytest.mark.parametrize(("opt_name", "opt_kwargs"), [("SGD", {"momentum": 0.9}), ("Adam", {})])
@pytest.mark.parametrize(("name", "kwargs"), SCHEDULERS, ids=IDS)
def test_matches_torch(torch, name, kwargs, opt_name, opt_kwargs):
    opt, topt = make(torch, opt_name, opt_kwargs)
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    momentum_key = "betas" if opt_name == "Adam" else "momentum"
    assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
    for _ in range(STEPS):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12, abs=1e-15)
        assert group_values(opt, "lr") == pytest.approx(group_values(topt, "lr"), rel=1e-12, abs=1e-15)
        if name == "OneCycleLR":
            ours, theirs = group_values(opt, momentum_key), group_values(topt, momentum_key)
            np.testing.assert_allclose(np.array(ours, dtype=float), np.array(theirs, dtype=float), rtol=1e-12)
    assert sched.last_epoch == tsched.last_epoch


@pytest.mark.parametrize(("name", "kwargs"), SCHEDULERS, ids=IDS)
def test_state_dict_resume_through_save(torch, tmp_path, name, kwargs):
    """Save optimizer + scheduler after 10 steps, resume in fresh objects: the rest of the schedule agrees."""
    opt, _ = make(torch, "SGD", {"momentum": 0.9})
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    for _ in range(10):
        opt.step()
        sched.step()
    cr.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, tmp_path / "s.st")
    expected = []
    for _ in range(15):
        opt.step()
        sched.step()
        expected.append(sched.get_last_lr())

    opt2, _ = make(torch, "SGD", {"momentum": 0.9})
    sched2 = getattr(lr_scheduler, name)(opt2, **kwargs)
    ckpt = cr.load(tmp_path / "s.st")
    opt2.load_state_dict(ckpt["optimizer"])
    sched2.load_state_dict(ckpt["scheduler"])
    got = []
    for _ in range(15):
        opt2.step()
        sched2.step()
        got.append(sched2.get_last_lr())
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_lambda_state_dict_skips_functions_keeps_callable_objects():
    opt = optim.SGD(
        [{"params": [cr.zeros(1, requires_grad=True)]}, {"params": [cr.zeros(1, requires_grad=True)]}]
    )
    warm = Warmup(5)
    sched = lr_scheduler.LambdaLR(opt, [lambda e: 1.0, warm])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [None, {"n": 5}]
    warm.n = 1
    sched.load_state_dict(sd)
    assert warm.n == 5


def test_closed_form_with_epoch_argument_matches_torch(torch):
    opt, topt = make(torch, "SGD", {})
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    tsched = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=10)
    with pytest.warns(UserWarning):
        sched.step(4)
    with pytest.warns(UserWarning):
        tsched.step(4)
    assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
    assert sched.get_last_lr()[0] == pytest.approx(0.1 * (1 + math.cos(math.pi * 4 / 10)) / 2)


def test_errors():
    opt = optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match="not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=2)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.ExponentialLR(optim.SGD([cr.zeros(1, requires_grad=True)]), gamma=0.5, last_epoch=3)
    with pytest.raises(ValueError, match="total_steps OR"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="pct_start"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=1.5)
    with pytest.raises(ValueError, match="momentum or beta1"):
        lr_scheduler.OneCycleLR(optim.Adagrad([cr.zeros(1, requires_grad=True)]), max_lr=1.0, total_steps=10)
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
        lr_scheduler.LambdaLR(opt, [lambda e: 1, lambda e: 1])
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        sched.step()
