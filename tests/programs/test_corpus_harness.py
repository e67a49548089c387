"""The corpus's harness catches what it promises to catch; and the optimizer-order warning makes no cycle."""

from __future__ import annotations

import gc
import warnings

import pytest

pytest.importorskip("torch")

from corpus_harness import Raised, outcome, run_both, warned  # noqa: E402


def test_a_different_value_fails():
    def prog(lib):  # noqa: ANN001, ANN202
        return {"x": lib.arr([1.0, 2.0]) * (1.0 if lib.is_torch else 1.0 + 1e-9)}

    with pytest.raises(AssertionError, match=r"prog\['x'\]"):
        run_both(prog)


def test_dtype_shape_type_and_exception_kind_are_compared():
    cases = [
        lambda lib: {"d": lib.arr([1.0]).float() if lib.is_torch else lib.arr([1.0])},
        lambda lib: {"s": lib.arr([[1.0]]) if lib.is_torch else lib.arr([1.0])},
        lambda lib: {"t": 1 if lib.is_torch else 1.0},
        lambda lib: {"e": outcome(lambda: (_ for _ in ()).throw(ValueError if lib.is_torch else TypeError))},
    ]
    for prog in cases:
        with pytest.raises(AssertionError):
            run_both(prog)


def test_warnings_are_compared_by_category_and_key_text():
    def prog(lib):  # noqa: ANN001, ANN202
        if lib.is_torch:
            warnings.warn("target size differs", UserWarning, stacklevel=1)
        return {}

    with pytest.raises(AssertionError, match="_warnings"):
        run_both(prog)
    value, found = warned(
        lambda: warnings.warn("Target Size (2,)", UserWarning, stacklevel=1), "target size", "x"
    )
    assert value is None and found == [("UserWarning", (True, False))]


def test_outcome_names_the_builtin_exception_type():
    class MyError(KeyError):
        pass

    def boom() -> None:
        raise MyError("k")

    assert outcome(boom) == Raised("KeyError", "ignored") and outcome(lambda: 3) == 3


def test_scheduler_order_warning_wraps_step_without_a_cycle():
    import chainrule as cr

    w = cr.tensor([1.0], requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.1)
    sched = cr.optim.lr_scheduler.StepLR(opt, step_size=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w.sum().backward()
        opt.step()
        sched.step()  # right order: silent
    cr.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)  # a second scheduler does not wrap twice
    assert opt.step._wrapped_by_lr_sched
    gc.collect()
    gc.disable()
    try:
        gc.set_debug(gc.DEBUG_SAVEALL)
        opt2 = cr.optim.SGD([cr.tensor([1.0], requires_grad=True)], lr=0.1)
        cr.optim.lr_scheduler.StepLR(opt2, step_size=1)
        del opt2
        assert gc.collect() == 0
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
