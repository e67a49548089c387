"""Corpus: hand-written training loops, grad zeroing in every form, ``.data``, optimizers and schedulers."""

from __future__ import annotations

import numpy as np
from corpus_harness import Lib, documented, outcome, program


def seeded(lib: Lib, model, seed: int = 0, scale: float = 0.5):  # noqa: ANN001, ANN201
    """``model`` in float64 with parameters drawn from NumPy (the same numbers on both sides)."""
    model = model.double()
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for _, p in model.named_parameters():
            p.copy_(lib.arr(rng.standard_normal(tuple(p.shape)) * scale))
    return model


def regression_data(n: int = 8, d: int = 3, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    return x, x @ np.arange(1.0, d + 1.0)[:, None] + 0.3


def params(model) -> dict:  # noqa: ANN001
    return {name: p for name, p in model.named_parameters()}


@program
def manual_sgd_isub_on_model_parameters(lib: Lib) -> dict:
    x, y = regression_data()
    x, y = lib.arr(x), lib.arr(y)
    model = seeded(lib, lib.nn.Linear(3, 1))
    losses = []
    for _ in range(20):
        loss = ((model(x) - y) ** 2).mean()
        model.zero_grad()
        loss.backward()
        with lib.no_grad():
            for p in model.parameters():
                p -= 0.05 * p.grad
        losses.append(loss.item())
    return {"losses": losses, **params(model)}


@program
def manual_sgd_iadd_on_model_parameters(lib: Lib) -> dict:
    x, y = regression_data(seed=2)
    x, y = lib.arr(x), lib.arr(y)
    model = seeded(lib, lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 1)))
    for _ in range(10):
        for p in model.parameters():
            p.grad = None
        lib.F.mse_loss(model(x), y).backward()
        with lib.no_grad():
            for p in model.parameters():
                p += -0.1 * p.grad
    same_objects = all(a is b for a, b in zip(model.parameters(), model.parameters()))
    return {"same_objects": same_objects, "is_leaf": [p.is_leaf for p in model.parameters()], **params(model)}


@program
def bare_leaf_isub_loop(lib: Lib) -> dict:
    w = lib.arr([1.5, -2.0, 0.5], requires_grad=True)
    target = lib.arr([0.0, 1.0, 2.0])
    ids, losses = set(), []
    for _ in range(15):
        loss = ((w - target) ** 2).sum()
        loss.backward()
        with lib.no_grad():
            w -= 0.1 * w.grad
        w.grad.zero_()
        ids.add(id(w))
        losses.append(loss.item())
    return {
        "w": w,
        "losses": losses,
        "one_object": len(ids) == 1,
        "requires_grad": w.requires_grad,
        "leaf": w.is_leaf,
    }


@program
def bare_leaf_imul_and_idiv(lib: Lib) -> dict:
    w = lib.arr([2.0, -3.0], requires_grad=True)
    (w * w).sum().backward()
    with lib.no_grad():
        w *= 0.5
        w /= lib.arr([2.0, 4.0])
    g_before = w.grad.clone()
    (w**3).sum().backward()
    return {"w": w, "g_before": g_before, "grad": w.grad, "version_grew": w._version > 0}


@program
def bare_leaf_two_weights_regression(lib: Lib) -> dict:
    xs, ys = regression_data(n=10, d=1, seed=3)
    x, y = lib.arr(xs[:, 0]), lib.arr(ys[:, 0])
    a = lib.arr(0.0, requires_grad=True)
    b = lib.arr(0.0, requires_grad=True)
    for _ in range(25):
        loss = ((a * x + b - y) ** 2).mean()
        loss.backward()
        with lib.no_grad():
            a -= 0.1 * a.grad
            b -= 0.1 * b.grad
            a.grad.zero_()
            b.grad.zero_()
    return {"a": a, "b": b, "loss": loss.item(), "grads": [a.grad, b.grad]}


@program
def grad_zeroing_every_form(lib: Lib) -> dict:
    model = seeded(lib, lib.nn.Linear(2, 2))
    x = lib.arr([[1.0, 2.0], [3.0, -1.0]])
    out = {}
    model(x).sum().backward()
    out["after_one"] = model.weight.grad.clone()
    model(x).sum().backward()
    out["accumulated"] = model.weight.grad.clone()
    model.weight.grad.zero_()
    out["zero_"] = model.weight.grad.clone()
    model.zero_grad()
    out["model_zero_grad_is_none"] = model.weight.grad is None
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    model(x).sum().backward()
    opt.zero_grad()
    out["opt_zero_grad_is_none"] = model.bias.grad is None
    model(x).sum().backward()
    opt.zero_grad(set_to_none=False)
    out["opt_zero_grad_keep"] = model.bias.grad
    model.weight.grad = None
    model(x).sum().backward()
    out["after_none"] = model.weight.grad
    return out


@program
def grad_zero_after_sum_backward(lib: Lib) -> dict:
    w = lib.arr([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    w.sum().backward()
    before = w.grad.clone()
    r = outcome(lambda: w.grad.zero_())
    after = w.grad.clone()
    w.sum().backward()
    return {"before": before, "zeroed_is_grad": r is w.grad, "after": after, "again": w.grad}


@program
def grad_fill_and_write(lib: Lib) -> dict:
    w = lib.arr([1.0, 2.0, 3.0], requires_grad=True)
    (w * 2).mean().backward()
    w.grad.fill_(7.0)
    w.grad[0] = -1.0
    g = w.grad.clone()
    w.grad.mul_(2)
    (w * 2).mean().backward()
    return {"filled": g, "accumulated": w.grad}


@program
def grad_is_owned_not_a_view(lib: Lib) -> dict:
    x = lib.arr([1.0, 2.0], requires_grad=True)
    y = lib.arr([[1.0, 2.0], [3.0, 4.0]])
    (x * y).sum().backward()
    g = x.grad
    g.add_(1.0)
    (x * y).sum().backward()
    return {"grad": x.grad, "same_object": g is x.grad, "upstream_unchanged": y}


@program
def data_assignment_update(lib: Lib) -> dict:
    w = lib.arr([1.0, -1.0, 2.0], requires_grad=True)
    for _ in range(5):
        loss = (w**2).sum()
        loss.backward()
        w.data = w.data - 0.1 * w.grad
        w.grad = None
    text = repr(w)
    return {"w": w, "repr_ok": text.startswith("tensor("), "leaf": w.is_leaf, "rg": w.requires_grad}


@program
def data_inplace_update(lib: Lib) -> dict:
    """``p.data -= ...`` works on both; ``p.data`` itself is the ndarray in chainrule (promises.md)."""
    model = seeded(lib, lib.nn.Linear(3, 2))
    x = lib.arr(np.ones((4, 3)))
    for _ in range(3):
        model.zero_grad()
        model(x).pow(2).sum().backward()
        for p in model.parameters():
            p.data -= 0.01 * p.grad.data
    d = model.weight.detach()  # torch's p.data, in chainrule's spelling too
    return {
        **params(model),
        "data_type": documented(lib, type(model.weight.data).__name__, torch="Tensor", chainrule="ndarray"),
        "detached_requires_grad": d.requires_grad,
        "detached_is_leaf": d.is_leaf,
        "detached_shares": bool((d == model.weight).all()),
    }


@program
def data_write_is_seen_by_parameter(lib: Lib) -> dict:
    w = lib.arr([1.0, 2.0], requires_grad=True)
    w.data[0] = 10.0
    w.data *= 2.0
    w.detach().add_(1.0)
    y = (w * 3).sum()
    y.backward()
    return {"w": w, "grad": w.grad, "leaf": w.is_leaf, "version": w._version}


@program
def optimizer_sgd_momentum_with_steplr(lib: Lib) -> dict:
    x, y = regression_data(seed=4)
    x, y = lib.arr(x), lib.arr(y)
    model = seeded(lib, lib.nn.Linear(3, 1))
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = lib.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    lrs, losses = [], []
    for _ in range(9):
        opt.zero_grad()
        loss = lib.F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
        losses.append(loss.item())
    return {"lrs": lrs, "losses": losses, "last_lr": sched.get_last_lr(), **params(model)}


@program
def optimizer_adam_with_cosine(lib: Lib) -> dict:
    x, y = regression_data(seed=5)
    x, y = lib.arr(x), lib.arr(y)
    model = seeded(lib, lib.nn.Sequential(lib.nn.Linear(3, 5), lib.nn.ReLU(), lib.nn.Linear(5, 1)))
    opt = lib.optim.Adam(model.parameters(), lr=0.05)
    sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6)
    losses = []
    for _ in range(8):
        opt.zero_grad()
        loss = lib.F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return {"losses": losses, "lr": opt.param_groups[0]["lr"], **params(model)}


@program
def optimizer_adamw_weight_decay(lib: Lib) -> dict:
    w = lib.arr([1.0, -2.0, 3.0], requires_grad=True)
    opt = lib.optim.AdamW([w], lr=0.1, weight_decay=0.1)
    for _ in range(5):
        opt.zero_grad()
        (w**2).sum().backward()
        opt.step()
    return {"w": w, "step": int(opt.state[w]["step"])}


@program
def optimizer_rmsprop_and_adagrad(lib: Lib) -> dict:
    a = lib.arr([1.0, -2.0], requires_grad=True)
    b = lib.arr([0.5, 3.0], requires_grad=True)
    opt_a = lib.optim.RMSprop([a], lr=0.01, alpha=0.9)
    opt_b = lib.optim.Adagrad([b], lr=0.1)
    for _ in range(4):
        opt_a.zero_grad()
        opt_b.zero_grad()
        ((a - b) ** 2 + a.sin()).sum().backward()
        opt_a.step()
        opt_b.step()
    return {"a": a, "b": b}


@program
def optimizer_param_groups(lib: Lib) -> dict:
    model = seeded(lib, lib.nn.Linear(2, 1))
    opt = lib.optim.SGD([{"params": [model.weight]}, {"params": [model.bias], "lr": 0.5}], lr=0.1)
    x = lib.arr([[1.0, 2.0]])
    for _ in range(3):
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
    return {"lrs": [g["lr"] for g in opt.param_groups], **params(model)}


@program
def scheduler_before_optimizer_warns(lib: Lib) -> dict:
    w = lib.arr([1.0], requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.1)
    sched = lib.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.1)
    sched.step()
    return {"lr": opt.param_groups[0]["lr"]}


@program
def frozen_layer_requires_grad_false(lib: Lib) -> dict:
    model = seeded(lib, lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU(), lib.nn.Linear(3, 1)))
    model[0].requires_grad_(False)
    opt = lib.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    x = lib.arr([[1.0, -1.0], [0.5, 2.0]])
    before = model[0].weight.clone()
    for _ in range(3):
        opt.zero_grad()
        model(x).pow(2).sum().backward()
        opt.step()
    return {
        "frozen_grad_none": model[0].weight.grad is None,
        "frozen_unchanged": bool((model[0].weight == before).all()),
        "flags": [p.requires_grad for p in model.parameters()],
        "head": model[2].weight,
    }


@program
def gradient_accumulation_over_microbatches(lib: Lib) -> dict:
    x, y = regression_data(n=8, seed=6)
    x, y = lib.arr(x), lib.arr(y)
    model = seeded(lib, lib.nn.Linear(3, 1))
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    for i in range(4):
        loss = lib.F.mse_loss(model(x[2 * i : 2 * i + 2]), y[2 * i : 2 * i + 2]) / 4
        loss.backward()
    g = model.weight.grad.clone()
    opt.step()
    return {"accumulated": g, **params(model)}


@program
def retain_graph_twice_accumulates(lib: Lib) -> dict:
    x = lib.arr([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.clone()
    y.backward()
    third = outcome(lambda: y.backward())
    return {"first": first, "twice": x.grad, "third_raises": third}


@program
def clip_grad_norm_loop(lib: Lib) -> dict:
    model = seeded(lib, lib.nn.Linear(3, 2), scale=2.0)
    x = lib.arr(np.arange(6.0).reshape(2, 3))
    model(x).pow(2).sum().backward()
    norm = lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    return {"norm": norm, "w_grad": model.weight.grad, "b_grad": model.bias.grad}


@program
def schedulers_lr_traces(lib: Lib) -> dict:
    sched_lib = lib.optim.lr_scheduler
    makers = {
        "multistep": lambda o: sched_lib.MultiStepLR(o, milestones=[2, 4], gamma=0.5),
        "exponential": lambda o: sched_lib.ExponentialLR(o, gamma=0.9),
        "lambda": lambda o: sched_lib.LambdaLR(o, lr_lambda=lambda e: 1.0 / (e + 1)),
        "onecycle": lambda o: sched_lib.OneCycleLR(o, max_lr=1.0, total_steps=8),
        "cosine": lambda o: sched_lib.CosineAnnealingLR(o, T_max=3, eta_min=0.01),
    }
    out = {}
    for name, make in makers.items():
        w = lib.arr([1.0], requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1, momentum=0.9)
        sched = make(opt)
        trace = []
        for _ in range(7):
            opt.zero_grad()
            (w**2).sum().backward()
            opt.step()
            sched.step()
            trace.append(sched.get_last_lr()[0])
        out[name] = {"trace": trace, "w": w, "last_epoch": sched.last_epoch}
    return out


@program
def optimizers_with_options(lib: Lib) -> dict:
    out = {}
    for name, make in {
        "sgd_max": lambda p: lib.optim.SGD(p, lr=0.1, maximize=True),
        "sgd_dampening": lambda p: lib.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.5),
        "adam_amsgrad": lambda p: lib.optim.Adam(p, lr=0.1, amsgrad=True, weight_decay=0.1),
        "adam_betas": lambda p: lib.optim.Adam(p, lr=0.1, betas=(0.5, 0.9)),
        "rmsprop_centered": lambda p: lib.optim.RMSprop(p, lr=0.01, centered=True, momentum=0.5),
        "adagrad_decay": lambda p: lib.optim.Adagrad(p, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    }.items():
        w = lib.arr([1.0, -2.0, 0.5], requires_grad=True)
        opt = make([w])
        for _ in range(4):
            opt.zero_grad()
            ((w - 0.3) ** 2 * lib.arr([1.0, 2.0, 3.0])).sum().backward()
            opt.step()
        out[name] = w
    return out


@program
def optimizer_closure_and_bad_hyper_parameters(lib: Lib) -> dict:
    w = lib.arr([1.0], requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.1)

    def closure():  # noqa: ANN202
        opt.zero_grad()
        loss = (w**2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    return {
        "loss": loss,
        "w": w,
        "neg_lr": outcome(lambda: lib.optim.SGD([w], lr=-1.0)),
        "bad_beta": outcome(lambda: lib.optim.Adam([w], betas=(1.5, 0.9))),
        "non_leaf": outcome(lambda: lib.optim.SGD([w * 2], lr=0.1)),
        "empty": outcome(lambda: lib.optim.SGD([], lr=0.1)),
        "nesterov_no_momentum": outcome(lambda: lib.optim.SGD([w], lr=0.1, nesterov=True)),
    }


@program
def reduce_lr_on_plateau_loop(lib: Lib) -> dict:
    ReduceLROnPlateau = lib.optim.lr_scheduler.ReduceLROnPlateau  # noqa: N806
    metrics = [1.0, 0.9, 0.95, 0.9, 0.91, 0.92, 0.5, 0.6, 0.7, 0.8, 0.9, 0.49, -0.1, -0.1, -0.1005, -0.2]
    out = {}
    for name, kwargs in {
        "default": {"patience": 1},
        "max_abs": {"mode": "max", "threshold_mode": "abs", "threshold": 0.05, "patience": 0, "factor": 0.5},
        "cooldown_min_lr": {"patience": 0, "cooldown": 2, "min_lr": 0.02, "factor": 0.5},
    }.items():
        w = lib.arr([1.0], requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1)
        sched = ReduceLROnPlateau(opt, **kwargs)
        trace = []
        for m in metrics:
            opt.zero_grad()
            (w**2).sum().backward()
            opt.step()
            sched.step(lib.arr(m) if len(trace) % 2 else m)
            trace.append(opt.param_groups[0]["lr"])
        out[name] = {
            "trace": trace,
            "best": sched.best,
            "bad": sched.num_bad_epochs,
            "last": sched.get_last_lr(),
        }
    w = lib.arr([1.0], requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.1)
    out["bad_factor"] = outcome(lambda: ReduceLROnPlateau(opt, factor=1.5))
    out["bad_mode"] = outcome(lambda: ReduceLROnPlateau(opt, mode="up"))
    return out


@program
def manual_weight_decay_imul_and_idiv_on_parameters(lib: Lib) -> dict:
    """Decoupled weight decay by hand (``p *= 1 - lr * wd``) and a max-norm projection (``p /= norm``)."""
    x, y = regression_data(seed=12)
    x, y = lib.arr(x), lib.arr(y)
    model = seeded(lib, lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 1)), scale=1.0)
    ids = [id(p) for p in model.parameters()]
    for _ in range(8):
        model.zero_grad()
        lib.F.mse_loss(model(x), y).backward()
        with lib.no_grad():
            for p in model.parameters():
                p *= 1 - 0.05 * 0.1
                p -= 0.05 * p.grad
                norm = p.norm()
                if norm > 1.5:
                    p /= norm / 1.5
    return {**params(model), "same_objects": ids == [id(p) for p in model.parameters()]}
