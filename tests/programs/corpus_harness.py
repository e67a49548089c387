"""The differential corpus's harness: one program, run on torch and on chainrule, must return the same things.

A program is ``def prog(lib) -> dict``. ``lib`` is a :class:`Lib`: the library module itself (``lib.tensor``,
``lib.float64``, ``lib.no_grad``...) plus the few namespaces whose paths differ between the two libraries
(``lib.F`` is ``nn.functional``, ``lib.data`` is ``torch.utils.data`` / ``chainrule.data``). Every value
in the returned dict is turned into plain Python/NumPy by :func:`plain` and compared by :func:`assert_same`:
tensors by dtype name, shape and values (float64 to 1e-12), Python scalars by type and value, exceptions
(caught with :func:`outcome`) by type, warnings by category and by the key phrases a program asks for
(:func:`warned`). A deliberate difference listed in docs/promises.md is asserted with :func:`documented`.

Register a program with ``@program`` (or ``@program(xfail="FINDINGS line")`` for a divergence that is not
fixed yet: the test is then a strict expected failure).
"""

from __future__ import annotations

import importlib
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

PROGRAMS: dict[str, Callable[[Lib], dict]] = {}
XFAIL: dict[str, str] = {}


def program(fn: Callable | None = None, *, xfail: str | None = None) -> Callable:
    """Register ``fn`` in the corpus under its name; ``xfail`` names a known divergence (strict xfail)."""

    def register(f: Callable) -> Callable:
        if f.__name__ in PROGRAMS:
            raise ValueError(f"two corpus programs are called {f.__name__!r}")
        PROGRAMS[f.__name__] = f
        if xfail:
            XFAIL[f.__name__] = xfail
        return f

    return register(fn) if fn is not None else register


@dataclass
class Lib:
    """A library as a program sees it: its own names, plus ``F``, ``data`` and ``name``."""

    name: str
    mod: ModuleType
    F: ModuleType = field(init=False)
    data: ModuleType = field(init=False)

    def __post_init__(self) -> None:
        self.F = importlib.import_module(f"{self.name}.nn.functional")
        self.data = importlib.import_module("torch.utils.data" if self.is_torch else "chainrule.data")

    @property
    def is_torch(self) -> bool:
        return self.name == "torch"

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.mod, attr)

    def arr(self, values: Any, requires_grad: bool = False) -> Any:
        """A float64 tensor from NumPy data (the corpus's usual input)."""
        return self.mod.tensor(
            np.asarray(values, dtype=np.float64), dtype=self.mod.float64, requires_grad=requires_grad
        )


def libraries() -> tuple[Lib, Lib]:
    """torch and chainrule, in that order (torch's results are the expected ones)."""
    return Lib("torch", importlib.import_module("torch")), Lib(
        "chainrule", importlib.import_module("chainrule")
    )


# ---------------------------------------------------------------------- what a program may return
@dataclass(frozen=True)
class Raised:
    """An exception a program caught: compared by its (builtin) type."""

    kind: str
    message: str = field(compare=False)


def outcome(fn: Callable[[], Any]) -> Any:
    """``fn()``'s value, or a :class:`Raised` naming the builtin exception type it raised."""
    try:
        return fn()
    except Exception as error:  # noqa: BLE001 - the type is the result
        builtin = next(c for c in type(error).__mro__ if c.__module__ == "builtins")
        return Raised(builtin.__name__, str(error))


def warned(fn: Callable[[], Any], *keys: str) -> tuple[Any, list]:
    """``(fn()'s outcome, [(category, which of keys occur in the message), ...])`` for every warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = outcome(fn)
    found = [(w.category.__name__, tuple(k.lower() in str(w.message).lower() for k in keys)) for w in caught]
    return value, found


def dtype_name(dtype: Any) -> str:
    return str(dtype).replace("torch.", "")


def plain(value: Any) -> Any:
    """Turn a program's result into plain Python / NumPy, the same way for both libraries."""
    mod = type(value).__module__ or ""
    if type(value).__name__ in ("Tensor", "Parameter") and (
        mod.startswith("torch") or mod.startswith("chainrule")
    ):
        data = value.detach()
        arr = np.asarray(data.numpy() if hasattr(data, "numpy") else data)
        return ("tensor", dtype_name(value.dtype), tuple(arr.shape), arr)
    if type(value).__name__ == "Size":
        return tuple(int(v) for v in value)
    if (
        type(value).__name__ == "dtype"
        or isinstance(value, np.dtype)
        or (isinstance(value, type) and issubclass(value, np.generic))
    ):
        return dtype_name(np.dtype(value) if not mod.startswith("torch") else value)
    if isinstance(value, np.ndarray):
        return ("array", str(value.dtype), value.shape, value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    return value


def _close(a: np.ndarray, b: np.ndarray, dtype: str) -> bool:
    tol = 1e-12 if "64" in dtype else (1e-5 if "32" in dtype else 1e-2)
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        return bool(np.allclose(a, b, rtol=tol, atol=tol, equal_nan=True))
    return bool(np.array_equal(a, b))


def assert_same(expected: Any, actual: Any, where: str = "result") -> None:
    """torch's plain result ``expected`` against chainrule's ``actual``; an AssertionError names ``where``."""
    if isinstance(expected, tuple) and expected[:1] in (("tensor",), ("array",)):
        assert isinstance(actual, tuple) and actual[:1] == expected[:1], (
            f"{where}: torch gave {expected}, chainrule {actual!r}"
        )
        assert actual[1] == expected[1], f"{where}: dtype {expected[1]} in torch, {actual[1]} in chainrule"
        assert actual[2] == expected[2], f"{where}: shape {expected[2]} in torch, {actual[2]} in chainrule"
        assert _close(expected[3], actual[3], expected[1]), (
            f"{where}: torch {expected[3]!r}, chainrule {actual[3]!r}"
        )
        return
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: torch gave a dict, chainrule {actual!r}"
        assert expected.keys() == actual.keys(), f"{where}: keys {list(expected)} vs {list(actual)}"
        for key in expected:
            assert_same(expected[key], actual[key], f"{where}[{key!r}]")
        return
    if isinstance(expected, (list, tuple)):
        assert type(actual) is type(expected), (
            f"{where}: torch gave {type(expected).__name__}, chainrule {actual!r}"
        )
        assert len(actual) == len(expected), (
            f"{where}: length {len(expected)} in torch, {len(actual)} in chainrule: {actual!r}"
        )
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_same(e, a, f"{where}[{i}]")
        return
    assert type(actual) is type(expected), (
        f"{where}: torch gave {expected!r} ({type(expected).__name__}), "
        f"chainrule {actual!r} ({type(actual).__name__})"
    )
    if isinstance(expected, float):
        ok = (math.isnan(expected) and math.isnan(actual)) or math.isclose(
            expected, actual, rel_tol=1e-12, abs_tol=1e-12
        )
        assert ok, f"{where}: torch {expected!r}, chainrule {actual!r}"
        return
    assert expected == actual, f"{where}: torch {expected!r}, chainrule {actual!r}"


def run_both(prog: Callable[[Lib], dict]) -> tuple[dict, dict]:
    """Run ``prog`` on torch, then on chainrule; compare all they return and every warning's category."""
    torch_lib, cr_lib = libraries()
    results = []
    for lib in (torch_lib, cr_lib):
        np.random.seed(0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = prog(lib)
        assert isinstance(out, dict), f"{prog.__name__} must return a dict"
        out = plain(out)
        out["_warnings"] = sorted(w.category.__name__ for w in caught if not _is_noise(w))
        results.append(out)
    assert_same(results[0], results[1], prog.__name__)
    return results[0], results[1]


#: torch gives this warning once per process, so whether a program sees it depends on the order programs run
#: in; ``float_of_a_tensor_that_requires_grad_warns`` checks it on its own.
ONCE_PER_PROCESS = "Converting a tensor with requires_grad=True to a scalar"


def _is_noise(w: warnings.WarningMessage) -> bool:
    """Warnings about the libraries' own set-up, and torch's once-per-process warnings."""
    if ONCE_PER_PROCESS in str(w.message):
        return True
    return issubclass(
        w.category, (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)
    )


def documented(lib: Lib, value: Any, *, torch: Any, chainrule: Any) -> str:
    """A deliberate difference listed in docs/promises.md: assert each library's own expected ``value``."""
    value = plain(value)
    expected = torch if lib.is_torch else chainrule
    got = value.kind if isinstance(value, Raised) else value
    assert got == expected, f"{lib.name}: expected {expected!r} (documented difference), got {value!r}"
    return "as documented"
