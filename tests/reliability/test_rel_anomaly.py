"""``detect_anomaly``: the first step (forward or backward) making a NaN or Inf raises, naming op and line."""

from __future__ import annotations

import contextlib
import threading

import numpy as np
import pytest

import chainrule as cr


def _line_of(marker: str) -> int:
    """The line number in this file of the (unique) line containing ``marker``."""
    with open(__file__) as f:
        hits = [i for i, line in enumerate(f, 1) if marker in line and "_line_of" not in line]
    assert len(hits) == 1, hits
    return hits[0]


def test_forward_nan_names_op_and_user_line() -> None:
    x = cr.tensor([-1.0, 4.0], requires_grad=True)
    with cr.detect_anomaly(), pytest.raises(RuntimeError) as info:
        x.sqrt()  # <- forward-nan
    msg = str(info.value)
    assert msg.startswith("Sqrt produced nan in its forward pass")
    assert f"{__file__}:{_line_of('# <- forward-nan')}" in msg


@pytest.mark.parametrize(
    ("make", "op", "what"),
    [
        (lambda: cr.tensor([0.0]).log(), "Log", "inf"),
        (lambda: cr.tensor([-1.0]).log(), "Log", "nan"),
        (lambda: cr.tensor([1.0]) / cr.tensor([0.0]), "Div", "inf"),
        (lambda: cr.tensor([1e30]) * cr.tensor([1e30]), "Mul", "inf"),
        (lambda: cr.tensor([100.0], dtype="float32").exp(), "Exp", "inf"),
    ],
)
def test_forward_checks_even_without_requires_grad(make, op: str, what: str) -> None:
    with (
        cr.detect_anomaly(),
        pytest.raises(RuntimeError, match=rf"^{op} produced {what} in its forward pass"),
    ):
        make()


def test_backward_inf_is_blamed_on_the_backward_of_the_op() -> None:
    x = cr.tensor([0.0, 4.0], dtype="float64", requires_grad=True)
    with cr.detect_anomaly():
        y = x.sqrt().sum()  # <- backward-inf
        with pytest.raises(RuntimeError) as info:
            y.backward()
    msg = str(info.value)
    # Not "Div produced inf": the ops inside Sqrt's backward formula are checked as one step.
    assert msg.startswith("SqrtBackward produced inf in its backward pass"), msg
    assert f"{__file__}:{_line_of('# <- backward-inf')}" in msg


def _sqrt_times_zero(lib, x):
    """d/dx [sqrt(x) * 0] at x = 0: SqrtBackward computes 0 * inf = nan (both libraries)."""
    return (lib.sqrt(x) * 0.0).sum()


def test_backward_nan_from_zero_times_inf() -> None:
    x = cr.tensor([0.0, 1.0], dtype="float64", requires_grad=True)
    with cr.detect_anomaly():
        y = _sqrt_times_zero(cr, x)
        with pytest.raises(RuntimeError, match=r"^SqrtBackward produced nan in its backward pass"):
            y.backward()


def test_graph_built_outside_anomaly_mode_still_names_the_op() -> None:
    x = cr.tensor([0.0], dtype="float64", requires_grad=True)
    y = x.sqrt().sum()
    with cr.detect_anomaly(), pytest.raises(RuntimeError) as info:
        y.backward()  # <- late-backward
    msg = str(info.value)
    assert msg.startswith("SqrtBackward produced inf")
    assert f"backward called at {__file__}:{_line_of('# <- late-backward')}" in msg


def test_torch_reports_the_same_backward_anomaly(torch) -> None:
    """torch's detect_anomaly blames the same node (SqrtBackward0) for the same program."""
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    with pytest.warns(UserWarning), torch.autograd.detect_anomaly():
        y = _sqrt_times_zero(torch, x)
        with pytest.raises(RuntimeError, match="SqrtBackward0"):
            y.backward()


def test_finite_programs_are_untouched_and_match_plain_mode() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4))
    grads = []
    for anomaly in (False, True):
        x = cr.tensor(a, requires_grad=True)
        with cr.detect_anomaly() if anomaly else contextlib.nullcontext():
            (x.tanh() * x.exp()).sum().backward()
        grads.append(x.grad.data)
    np.testing.assert_array_equal(grads[0], grads[1])


def test_mode_is_restored_and_nests() -> None:
    assert not cr.is_anomaly_enabled()
    with cr.detect_anomaly():
        assert cr.is_anomaly_enabled()
        with cr.detect_anomaly(check_nan=False):
            assert not cr.is_anomaly_enabled()
            with np.errstate(invalid="ignore"):
                cr.tensor([-1.0]).sqrt()  # no error: checking is off in the inner block
        assert cr.is_anomaly_enabled()
    assert not cr.is_anomaly_enabled()
    with pytest.raises(ValueError), cr.detect_anomaly():
        raise ValueError("restored even on error")
    assert not cr.is_anomaly_enabled()
    with np.errstate(invalid="ignore"):
        cr.tensor([-1.0]).sqrt()  # outside the block nothing is checked


def test_anomaly_mode_is_per_thread() -> None:
    inside, done = threading.Event(), threading.Event()
    seen: list[bool] = []

    def other() -> None:
        inside.wait(5)
        seen.append(cr.is_anomaly_enabled())
        with np.errstate(all="ignore"):
            seen.append(bool(np.isnan(cr.tensor([-1.0]).sqrt().data).all()))  # no error here
        done.set()

    t = threading.Thread(target=other)
    t.start()
    with cr.detect_anomaly():
        inside.set()
        assert done.wait(5)
    t.join()
    assert seen == [False, True]


def test_nan_inside_a_layer_points_at_the_users_call() -> None:
    """Frames inside chainrule (nn layers, functional) are skipped: the reported line is the user's."""
    model = cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.Tanh(), cr.nn.Linear(3, 1))
    with cr.no_grad():
        model[0].weight.fill_(float("inf"))
        model[0].bias.fill_(float("-inf"))
    with cr.detect_anomaly(), pytest.raises(RuntimeError) as info:
        model(cr.ones(4, 2))  # <- layer-call
    msg = str(info.value)
    assert "produced nan in its forward pass" in msg
    assert f"{__file__}:{_line_of('# <- layer-call')}" in msg


IN_PLACE = [
    ("div_", (0.0,), "inf"),
    ("mul_", (float("nan"),), "nan"),
    ("add_", (cr.tensor([np.inf, 0.0]),), "inf"),
    ("sub_", (float("inf"),), "inf"),
    ("fill_", (float("nan"),), "nan"),
    ("copy_", (cr.tensor([1.0, np.nan]),), "nan"),
    ("__setitem__", (0, float("inf")), "inf"),
]


@pytest.mark.parametrize(("op", "args", "what"), IN_PLACE)
def test_in_place_ops_without_requires_grad_are_checked_and_leave_the_tensor(op, args, what) -> None:
    """Before: only ops autograd records were checked, so x.div_(0) on a plain tensor passed silently."""
    x = cr.tensor([1.0, 2.0])
    version = x._version
    with cr.detect_anomaly(), pytest.raises(RuntimeError) as info:
        getattr(x, op)(*args)  # <- in-place-anomaly
    msg = str(info.value)
    assert msg.startswith(f"{op} produced {what} in place"), msg
    assert f"{__file__}:{_line_of('# <- in-place-anomaly')}" in msg and "left unchanged" in msg
    np.testing.assert_array_equal(x.data, [1.0, 2.0])  # nothing written, no version bump
    assert x._version == version


def test_in_place_ops_are_checked_the_same_under_no_grad_and_with_requires_grad() -> None:
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.detect_anomaly(), cr.no_grad(), pytest.raises(RuntimeError, match=r"^div_ produced inf in place"):
        w.div_(0.0)
    np.testing.assert_array_equal(w.data, [1.0, 2.0])
    y = w * 1.0  # recorded: checked by its Function, as before
    with cr.detect_anomaly(), pytest.raises(RuntimeError, match="produced inf"):
        y.div_(0.0)


def test_finite_in_place_ops_under_anomaly_write_into_the_same_memory() -> None:
    base = cr.tensor([1.0, 2.0, 3.0])
    view = base[1:]
    with cr.detect_anomaly():
        view.add_(1.0)
        view[0] = 10.0
        base.clamp_(max=5.0)
    np.testing.assert_array_equal(base.data, [1.0, 5.0, 4.0])  # the view's writes reached the base
    assert np.shares_memory(view.data, base.data)
    x = cr.tensor([1.0, 2.0])
    with np.errstate(divide="ignore"):  # outside anomaly mode nothing is checked (and nothing is copied)
        x.div_(0.0)
    assert np.isinf(x.data).all()
