"""Random small training runs (layer sizes, activation, loss, optimizer, scheduler, zeroing style, batch
size) on torch and chainrule with the same weights and data: same losses, final weights, learning rates."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("torch")

from corpus_harness import Lib, assert_same, libraries, plain  # noqa: E402
from corpus_training import seeded  # noqa: E402

ACTIVATIONS = ["ReLU", "Tanh", "Sigmoid", "GELU", "LeakyReLU", "ELU", "SiLU"]
OPTIMIZERS = {
    "sgd": lambda lib, p: lib.optim.SGD(p, lr=0.05),
    "momentum": lambda lib, p: lib.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda lib, p: lib.optim.Adam(p, lr=0.01, weight_decay=0.01),
    "adamw": lambda lib, p: lib.optim.AdamW(p, lr=0.01),
    "rmsprop": lambda lib, p: lib.optim.RMSprop(p, lr=0.01),
    "adagrad": lambda lib, p: lib.optim.Adagrad(p, lr=0.05),
}
SCHEDULERS = {
    "none": None,
    "step": lambda lib, o: lib.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
    "exp": lambda lib, o: lib.optim.lr_scheduler.ExponentialLR(o, gamma=0.8),
}


@st.composite
def runs(draw: st.DrawFn) -> dict:
    return {
        "hidden": draw(st.lists(st.integers(1, 5), min_size=0, max_size=2)),
        "activation": draw(st.sampled_from(ACTIVATIONS)),
        "classify": draw(st.booleans()),
        "optimizer": draw(st.sampled_from(sorted(OPTIMIZERS))),
        "scheduler": draw(st.sampled_from(sorted(SCHEDULERS))),
        "zeroing": draw(st.sampled_from(["opt", "model", "none_loop", "manual_sgd"])),
        "batch": draw(st.integers(1, 6)),
        "seed": draw(st.integers(0, 10**6)),
    }


def train(lib: Lib, run: dict) -> dict:
    rng = np.random.default_rng(run["seed"])
    n, d, classes = 6, 3, 3
    x = rng.standard_normal((n, d))
    sizes = [d, *run["hidden"], classes if run["classify"] else 1]
    layers = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(lib.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(getattr(lib.nn, run["activation"])())
    model = seeded(lib, lib.nn.Sequential(*layers), seed=run["seed"])
    if run["classify"]:
        y = lib.tensor(rng.integers(0, classes, n))
        loss_fn = lib.nn.CrossEntropyLoss()
    else:
        y = lib.arr(rng.standard_normal((n, 1)))
        loss_fn = lib.nn.MSELoss()
    opt = OPTIMIZERS[run["optimizer"]](lib, model.parameters())
    make_sched = SCHEDULERS[run["scheduler"]]
    sched = make_sched(lib, opt) if make_sched else None
    loader = lib.data.DataLoader(lib.data.TensorDataset(lib.arr(x), y), batch_size=run["batch"])
    losses, lrs = [], []
    for _ in range(3):
        for xb, yb in loader:
            if run["zeroing"] == "model":
                model.zero_grad()
            elif run["zeroing"] == "none_loop":
                for p in model.parameters():
                    p.grad = None
            else:
                opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            if run["zeroing"] == "manual_sgd":
                with lib.no_grad():
                    for p in model.parameters():
                        p -= 0.05 * p.grad
            else:
                opt.step()
            losses.append(loss.item())
        if sched is not None and run["zeroing"] != "manual_sgd":
            sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return {"losses": losses, "lrs": lrs, "weights": dict(model.named_parameters())}


@settings(max_examples=25, deadline=None)
@given(runs())
def test_random_training_runs_match_torch(run: dict) -> None:
    torch_lib, cr_lib = libraries()
    expected, actual = plain(train(torch_lib, run)), plain(train(cr_lib, run))
    assert_same(expected, actual, f"run {run}")
