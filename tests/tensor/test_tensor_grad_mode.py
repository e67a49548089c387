"""Grad mode (per thread, as in torch): ``no_grad``, ``enable_grad``, ``set_grad_enabled``, and ``detach``."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture
def x() -> cr.Tensor:
    return cr.tensor([1.0, 2.0], requires_grad=True)


def test_no_grad_context_records_nothing(x: cr.Tensor) -> None:
    assert cr.is_grad_enabled()
    with cr.no_grad():
        assert not cr.is_grad_enabled()
        y = x * 2
    assert cr.is_grad_enabled()
    assert not y.requires_grad and y.creator is None


def test_no_grad_as_decorator_restores_mode_even_after_an_exception(x: cr.Tensor) -> None:
    @cr.no_grad()
    def double(t: cr.Tensor) -> cr.Tensor:
        assert not cr.is_grad_enabled()
        return t * 2

    @cr.no_grad()
    def boom() -> None:
        raise ValueError("boom")

    assert not double(x).requires_grad
    assert double.__name__ == "double"
    with pytest.raises(ValueError):
        boom()
    assert cr.is_grad_enabled()


def test_enable_grad_inside_no_grad(x: cr.Tensor) -> None:
    with cr.no_grad():
        with cr.enable_grad():
            assert cr.is_grad_enabled()
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad

    @cr.enable_grad()
    def f(t: cr.Tensor) -> cr.Tensor:
        return t * 2

    with cr.no_grad():
        assert f(x).requires_grad


def test_set_grad_enabled_as_function_and_context(x: cr.Tensor) -> None:
    cr.set_grad_enabled(False)
    try:
        assert not cr.is_grad_enabled() and not (x * 2).requires_grad
    finally:
        cr.set_grad_enabled(True)
    assert cr.is_grad_enabled()
    with cr.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert cr.is_grad_enabled()
    with cr.no_grad(), cr.set_grad_enabled(True):
        assert (x * 2).requires_grad


def test_grad_mode_is_per_thread(x: cr.Tensor) -> None:
    seen: dict[str, bool] = {}
    inside = threading.Event()
    release = threading.Event()

    def worker() -> None:
        seen["worker starts enabled"] = cr.is_grad_enabled()
        with cr.no_grad():
            inside.set()
            release.wait(5)
            seen["worker records"] = (x * 2).requires_grad

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(5)
    seen["main while worker in no_grad"] = cr.is_grad_enabled()
    seen["main records"] = (x * 2).requires_grad
    release.set()
    t.join()
    assert seen == {
        "worker starts enabled": True,
        "worker records": False,
        "main while worker in no_grad": True,
        "main records": True,
    }


def test_backward_inside_no_grad_still_computes_leaf_grads(x: cr.Tensor, torch) -> None:  # noqa: ANN001
    y = (x * x).sum()
    with cr.no_grad():
        y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_detach_shares_data_and_cuts_the_graph(x: cr.Tensor) -> None:
    y = x * 3
    d = y.detach()
    assert d.creator is None and not d.requires_grad and d.is_leaf
    assert np.shares_memory(d.data, y.data)
    z = (y * d).sum()  # d is a constant: dz/dx = 3·d
    z.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 3 * d.numpy())


def test_detach_in_place_and_requires_grad_(x: cr.Tensor) -> None:
    y = x * 2
    y.detach_()
    assert y.creator is None and not y.requires_grad
    leaf = cr.tensor([1.0])
    assert leaf.requires_grad_() is leaf and leaf.requires_grad
    leaf.requires_grad_(False)
    assert not leaf.requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad_(False)


def test_numpy_of_a_graph_tensor_needs_detach(x: cr.Tensor) -> None:
    y = x * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.numpy()
    np.testing.assert_array_equal(y.detach().numpy(), [2.0, 4.0])
    with cr.no_grad():
        np.testing.assert_array_equal(y.numpy(), [2.0, 4.0])
