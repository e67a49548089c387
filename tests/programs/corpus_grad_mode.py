"""Corpus: grad mode as a context manager, a decorator, nested, inference mode and per thread."""

from __future__ import annotations

import threading
import warnings

from corpus_harness import Lib, outcome, program


@program
def no_grad_context_restores(lib: Lib) -> dict:
    x = lib.arr([1.0, 2.0], requires_grad=True)
    with lib.no_grad():
        y = x * 2
        inside = lib.is_grad_enabled()
    z = x * 2
    return {
        "y_rg": y.requires_grad,
        "z_rg": z.requires_grad,
        "inside": inside,
        "after": lib.is_grad_enabled(),
    }


@program
def no_grad_as_decorator(lib: Lib) -> dict:
    @lib.no_grad()
    def evaluate(t):  # noqa: ANN001, ANN202
        return t * 3, lib.is_grad_enabled()

    x = lib.arr([1.0], requires_grad=True)
    y, flag = evaluate(x)
    z = x * 3
    return {"y_rg": y.requires_grad, "inside": flag, "after": lib.is_grad_enabled(), "z_rg": z.requires_grad}


@program
def set_grad_enabled_as_decorator(lib: Lib) -> dict:
    @lib.set_grad_enabled(False)
    def frozen(t):  # noqa: ANN001, ANN202
        return t * 2

    x = lib.arr([1.0, 2.0], requires_grad=True)
    before = lib.is_grad_enabled()
    y = frozen(x)
    after = lib.is_grad_enabled()
    z = (x * 2).sum()
    z.backward()
    return {"y_rg": y.requires_grad, "before": before, "after": after, "grad": x.grad}


@program
def set_grad_enabled_as_function_call(lib: Lib) -> dict:
    x = lib.arr([1.0], requires_grad=True)
    lib.set_grad_enabled(False)
    a = x * 2
    lib.set_grad_enabled(True)
    b = x * 2
    with lib.set_grad_enabled(False):
        c = x * 2
    return {"a": a.requires_grad, "b": b.requires_grad, "c": c.requires_grad, "now": lib.is_grad_enabled()}


@program
def enable_grad_nested_in_no_grad(lib: Lib) -> dict:
    x = lib.arr([1.0, 2.0], requires_grad=True)
    flags = []
    with lib.no_grad():
        flags.append(lib.is_grad_enabled())
        with lib.enable_grad():
            y = (x**2).sum()
            flags.append(lib.is_grad_enabled())
            with lib.no_grad():
                flags.append(lib.is_grad_enabled())
            flags.append(lib.is_grad_enabled())
        flags.append(lib.is_grad_enabled())
    y.backward()
    return {"flags": flags, "grad": x.grad, "after": lib.is_grad_enabled()}


@program
def enable_grad_as_decorator_inside_no_grad(lib: Lib) -> dict:
    @lib.enable_grad()
    def f(t):  # noqa: ANN001, ANN202
        return t.exp()

    x = lib.arr([0.5], requires_grad=True)
    with lib.no_grad():
        y = f(x)
        flag = lib.is_grad_enabled()
    y.sum().backward()
    return {"y_rg": y.requires_grad, "flag": flag, "grad": x.grad}


@program
def grad_mode_restored_after_exception(lib: Lib) -> dict:
    def boom() -> None:
        with lib.no_grad():
            raise ValueError("boom")

    r = outcome(boom)

    @lib.no_grad()
    def boom2() -> None:
        raise KeyError("k")

    r2 = outcome(boom2)
    return {"raised": r, "raised2": r2, "enabled": lib.is_grad_enabled()}


@program
def inference_mode_context_and_decorator(lib: Lib) -> dict:
    x = lib.arr([1.0, 2.0], requires_grad=True)
    with lib.inference_mode():
        y = x * 2
        inside = lib.is_grad_enabled()

    @lib.inference_mode()
    def predict(t):  # noqa: ANN001, ANN202
        return t + 1

    z = predict(x)
    with lib.inference_mode(False):
        w = x * 2
    return {
        "y": y,
        "y_rg": y.requires_grad,
        "inside": inside,
        "z_rg": z.requires_grad,
        "w_rg": w.requires_grad,
    }


@program
def grad_mode_is_per_thread(lib: Lib) -> dict:
    seen = {}
    ready, release = threading.Event(), threading.Event()

    def worker() -> None:
        seen["start"] = lib.is_grad_enabled()
        with lib.no_grad():
            ready.set()
            release.wait(5)
        seen["end"] = lib.is_grad_enabled()

    t = threading.Thread(target=worker)
    t.start()
    ready.wait(5)
    x = lib.arr([1.0], requires_grad=True)
    main_rg = (x * 2).requires_grad
    release.set()
    t.join()
    with lib.no_grad():
        result = {}
        t2 = threading.Thread(target=lambda: result.setdefault("flag", lib.is_grad_enabled()))
        t2.start()
        t2.join()
    return {**seen, "main": main_rg, "new_thread_in_no_grad": result["flag"]}


@program
def requires_grad_of_results(lib: Lib) -> dict:
    x = lib.arr([1.0], requires_grad=True)
    c = lib.arr([2.0])
    with lib.no_grad():
        n = x * c
    return {
        "xc": (x * c).requires_grad,
        "cc": (c * c).requires_grad,
        "n": n.requires_grad,
        "n_leaf": n.is_leaf,
        "detach": x.detach().requires_grad,
        "grad_fn_none": (c * 2).grad_fn is None,
        "has_grad_fn": (x * 2).grad_fn is not None,
    }


@program
def detect_anomaly_backward_nan_and_forward_difference(lib: Lib) -> dict:
    """Both raise on a NaN made in backward; chainrule also checks forward (promises.md section 1)."""
    from corpus_harness import documented  # noqa: PLC0415

    x = lib.arr([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that anomaly mode is slow
        with lib.autograd.detect_anomaly():
            y = x.sqrt() * 0  # forward finite, backward 0 * inf = nan
            backward = outcome(lambda: y.sum().backward())
            forward = outcome(lambda: lib.arr([-1.0]).sqrt())
    kind = getattr(forward, "kind", "no error")
    return {
        "backward": backward,
        "forward": documented(lib, kind, torch="no error", chainrule="RuntimeError"),
        "enabled_after": lib.is_anomaly_enabled(),
    }
