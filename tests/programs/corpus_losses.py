"""Corpus: losses, their shape warnings and their refusals."""

from __future__ import annotations

import numpy as np
from corpus_harness import Lib, outcome, program, warned

PRED = np.array([[0.5], [1.5], [-0.2], [2.0]])
TARGET = np.array([1.0, 1.0, 0.0, 3.0])
KEYS = ("target size", "input size", "broadcast")


def _shape_warning(lib: Lib, loss_name: str) -> dict:
    x = lib.arr(PRED, requires_grad=True)
    fn = getattr(lib.F, loss_name)
    value, found = warned(lambda: fn(x, lib.arr(TARGET)), *KEYS)
    value.backward()
    same, quiet = warned(lambda: fn(x[:, 0], lib.arr(TARGET)), *KEYS)
    return {"value": value, "warnings": found, "grad": x.grad, "same": same, "quiet": quiet}


@program
def mse_loss_n1_vs_n_warns(lib: Lib) -> dict:
    return _shape_warning(lib, "mse_loss")


@program
def l1_loss_n1_vs_n_warns(lib: Lib) -> dict:
    return _shape_warning(lib, "l1_loss")


@program
def smooth_l1_loss_n1_vs_n_warns(lib: Lib) -> dict:
    return _shape_warning(lib, "smooth_l1_loss")


@program
def huber_loss_n1_vs_n_warns(lib: Lib) -> dict:
    return _shape_warning(lib, "huber_loss")


@program
def mse_loss_module_warns_too(lib: Lib) -> dict:
    x = lib.arr(PRED)
    value, found = warned(lambda: lib.nn.MSELoss()(x, lib.arr(TARGET)), *KEYS)
    return {"value": value, "warnings": found}


@program
def cross_entropy_on_integer_logits_raises(lib: Lib) -> dict:
    logits = lib.tensor([[1, 2, 3], [3, 1, 0]])
    target = lib.tensor([2, 0])
    return {
        "ce": outcome(lambda: lib.F.cross_entropy(logits, target)),
        "nll": outcome(lambda: lib.F.nll_loss(logits, target)),
        "float_ok": lib.F.cross_entropy(logits.double(), target),
    }


@program
def cross_entropy_variants(lib: Lib) -> dict:
    rng = np.random.default_rng(7)
    logits = lib.arr(rng.standard_normal((5, 4)), requires_grad=True)
    target = lib.tensor([0, 3, 1, 1, 2])
    losses = [
        lib.F.cross_entropy(logits, target),
        lib.F.cross_entropy(logits, target, reduction="sum"),
        lib.F.cross_entropy(logits, target, reduction="none"),
        lib.F.cross_entropy(logits, target, label_smoothing=0.1),
        lib.F.cross_entropy(logits, target, weight=lib.arr([1.0, 2.0, 0.5, 1.0])),
        lib.F.cross_entropy(logits, target, ignore_index=1),
        lib.F.nll_loss(lib.F.log_softmax(logits, 1), target),
        lib.nn.CrossEntropyLoss()(logits, target),
    ]
    sum(loss.sum() for loss in losses).backward()
    return {"losses": losses, "grad": logits.grad}


@program
def cross_entropy_bad_targets(lib: Lib) -> dict:
    logits = lib.arr(np.zeros((2, 3)))
    return {
        "float_target_shape": outcome(lambda: lib.F.cross_entropy(logits, lib.arr([0.0, 1.0]))),
        "out_of_range": outcome(lambda: lib.F.cross_entropy(logits, lib.tensor([0, 3]))),
        "probs": lib.F.cross_entropy(logits, lib.arr([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])),
    }


@program
def bce_and_bce_with_logits(lib: Lib) -> dict:
    z = lib.arr([-3.0, -0.5, 0.0, 0.5, 30.0], requires_grad=True)
    t = lib.arr([0.0, 1.0, 1.0, 0.0, 1.0])
    a = lib.F.binary_cross_entropy_with_logits(z, t, pos_weight=lib.arr(2.0))
    b = lib.F.binary_cross_entropy(lib.sigmoid(z), t)
    c = lib.nn.BCELoss()(lib.sigmoid(z), t)
    (a + b + c).backward()
    return {"a": a, "b": b, "c": c, "grad": z.grad}


@program
def loss_reductions_and_l1_mse_grads(lib: Lib) -> dict:
    x = lib.arr([[0.5, 2.0], [-1.0, 0.0]], requires_grad=True)
    y = lib.arr([[0.5, 1.0], [1.0, -2.0]])
    outs = [
        lib.F.l1_loss(x, y, reduction="none"),
        lib.F.mse_loss(x, y, reduction="sum"),
        lib.F.smooth_l1_loss(x, y, beta=0.5),
        lib.F.huber_loss(x, y, delta=1.5),
    ]
    sum(o.sum() for o in outs).backward()
    return {"outs": outs, "grad": x.grad}


@program
def cross_entropy_on_sequences_and_ignore_index(lib: Lib) -> dict:
    rng = np.random.default_rng(41)
    logits = lib.arr(rng.standard_normal((2, 3, 4)), requires_grad=True)  # (N, C, d)
    target = lib.tensor([[0, 2, -100, 1], [1, 1, 0, -100]])
    a = lib.F.cross_entropy(logits, target)
    b = lib.F.cross_entropy(logits, target, label_smoothing=0.2, reduction="sum")
    c = lib.nn.CrossEntropyLoss(reduction="none")(logits, target)
    (a + b + c.sum()).backward()
    return {"a": a, "b": b, "c": c, "grad": logits.grad}


@program
def kl_div_bce_weight_and_nll_weights(lib: Lib) -> dict:
    rng = np.random.default_rng(42)
    x = lib.arr(rng.standard_normal((3, 4)), requires_grad=True)
    p = lib.F.softmax(lib.arr(rng.standard_normal((3, 4))), dim=1)
    kl = lib.F.kl_div(lib.F.log_softmax(x, dim=1), p, reduction="batchmean")
    probs = lib.sigmoid(x)
    bce = lib.F.binary_cross_entropy(
        probs, lib.arr((rng.random((3, 4)) > 0.5) * 1.0), weight=lib.arr([1.0, 2.0, 0.5, 1.0])
    )
    nll = lib.F.nll_loss(lib.F.log_softmax(x, 1), lib.tensor([3, 0, 1]), weight=lib.arr([0.2, 1.0, 1.0, 3.0]))
    (kl + bce + nll).backward()
    return {"kl": kl, "bce": bce, "nll": nll, "grad": x.grad}


@program
def pooling_and_conv_options(lib: Lib) -> dict:
    rng = np.random.default_rng(43)
    x = lib.arr(rng.standard_normal((1, 4, 5, 5)), requires_grad=True)
    w = lib.arr(rng.standard_normal((4, 2, 3, 3)), requires_grad=True)
    outs = [
        lib.F.max_pool2d(x, 2, ceil_mode=True),
        lib.F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False),
        lib.F.adaptive_avg_pool2d(x, (2, 3)),
        lib.F.conv2d(x, w, stride=2, padding=1, dilation=1, groups=2),
        lib.F.conv2d(x, w[:, :, :2, :2].repeat(1, 2, 1, 1), dilation=2),
    ]
    sum((o * o).sum() for o in outs).backward()
    return {"shapes": [o.shape for o in outs], "outs": outs, "gx": x.grad, "gw": w.grad}
