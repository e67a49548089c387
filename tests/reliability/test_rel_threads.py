"""Thread safety: grad mode (and anomaly mode) are per thread; independent models train concurrently with
exactly the results they get one after the other."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pytest

import chainrule as cr

TIMEOUT = 10


@contextmanager
def fast_switching() -> Iterator[None]:
    """Make the interpreter switch threads very often, so interleavings really happen."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def run_threads(*targets: Callable[[], None]) -> None:
    errors: list[BaseException] = []

    def wrap(fn: Callable[[], None]) -> Callable[[], None]:
        def inner() -> None:
            try:
                fn()
            except BaseException as exc:  # re-raised in the main thread below
                errors.append(exc)

        return inner

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
        assert not t.is_alive(), "thread hung"
    if errors:
        raise errors[0]


@contextmanager
def _nested_no_grad() -> Iterator[None]:
    with cr.no_grad(), cr.enable_grad(), cr.no_grad():
        yield


def _records() -> bool:
    """Whether an op run now, in this thread, is recorded for backprop."""
    x = cr.tensor([1.0], requires_grad=True)
    return (x * 2).requires_grad


@pytest.mark.parametrize(
    "disable",
    [
        lambda: cr.no_grad(),
        lambda: cr.set_grad_enabled(False),
        lambda: _nested_no_grad(),
    ],
    ids=["no_grad", "set_grad_enabled", "nested"],
)
def test_no_grad_in_one_thread_does_not_affect_another(disable: Callable) -> None:
    a_disabled, b_checked, a_checked = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def a() -> None:
        with disable():
            a_disabled.set()
            assert b_checked.wait(TIMEOUT)
            seen["a_inside"] = _records() or cr.is_grad_enabled()
        seen["a_after"] = _records() and cr.is_grad_enabled()
        a_checked.set()

    def b() -> None:
        assert a_disabled.wait(TIMEOUT)
        seen["b_while_a_disabled"] = _records() and cr.is_grad_enabled()
        b_checked.set()
        assert a_checked.wait(TIMEOUT)
        seen["b_after"] = _records()

    run_threads(a, b)
    assert seen == {"a_inside": False, "a_after": True, "b_while_a_disabled": True, "b_after": True}
    assert cr.is_grad_enabled() and _records()  # the main thread is untouched too


def test_enable_grad_in_one_thread_while_main_is_in_no_grad() -> None:
    seen: list[bool] = []
    ready = threading.Event()

    def worker() -> None:
        seen.append(_records())  # a new thread starts with grad enabled, whatever the main thread does
        ready.set()

    with cr.no_grad():
        run_threads(worker)
        assert ready.is_set()
        assert not _records()
    assert seen == [True]


def test_new_threads_start_with_default_modes() -> None:
    seen: list[tuple[bool, bool]] = []
    with cr.no_grad(), cr.detect_anomaly():
        run_threads(lambda: seen.append((cr.is_grad_enabled(), cr.is_anomaly_enabled())))
    assert seen == [(True, False)]


# --- concurrent training
def _init(seed: int) -> tuple[list[cr.Tensor], np.ndarray, np.ndarray]:
    """Weights and data from the model's own seeded generator, made before any thread starts."""
    rng = np.random.default_rng(seed)
    params = [
        cr.tensor(rng.standard_normal((3, 16)) * 0.5, dtype="float32", requires_grad=True),
        cr.tensor(np.zeros(16), dtype="float32", requires_grad=True),
        cr.tensor(rng.standard_normal((16, 1)) * 0.5, dtype="float32", requires_grad=True),
        cr.tensor(np.zeros(1), dtype="float32", requires_grad=True),
    ]
    x = rng.standard_normal((32, 3)).astype(np.float32)
    y = (np.sin(x.sum(axis=1, keepdims=True))).astype(np.float32)
    return params, x, y


def _train(params: list[cr.Tensor], x: np.ndarray, y: np.ndarray, steps: int, opt_name: str) -> list[float]:
    opt = (
        cr.optim.Adam(params, lr=1e-2) if opt_name == "adam" else cr.optim.SGD(params, lr=0.05, momentum=0.9)
    )
    xt, yt = cr.tensor(x), cr.tensor(y)
    w1, b1, w2, b2 = params
    losses = []
    for i in range(steps):
        opt.zero_grad()
        h = (xt @ w1 + b1).tanh()
        loss = ((h @ w2 + b2 - yt) ** 2).mean()
        loss.backward()
        opt.step()
        if i % 10 == 0:
            with cr.no_grad():  # each thread flips its own grad mode all the time
                losses.append(float(loss))
    return losses


def test_two_threads_training_match_sequential_runs() -> None:
    steps = 150
    jobs = [(11, "adam"), (22, "sgd"), (33, "adam")]
    sequential = []
    for seed, opt in jobs:
        params, x, y = _init(seed)
        sequential.append((_train(params, x, y, steps, opt), [p.data.copy() for p in params]))

    inits = [_init(seed) for seed, _ in jobs]
    results: dict[int, tuple[list[float], list[np.ndarray]]] = {}

    def job(k: int) -> Callable[[], None]:
        def run() -> None:
            params, x, y = inits[k]
            losses = _train(params, x, y, steps, jobs[k][1])
            results[k] = (losses, [p.data.copy() for p in params])

        return run

    with fast_switching():
        run_threads(*(job(k) for k in range(len(jobs))))
    for k in range(len(jobs)):
        losses, weights = results[k]
        assert losses == sequential[k][0], f"job {k}: losses differ"
        for w, ref in zip(weights, sequential[k][1]):
            np.testing.assert_array_equal(w, ref)
    assert sequential[0][0][-1] < sequential[0][0][0]  # and they really trained
