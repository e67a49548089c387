"""A CPU stand-in for CuPy that is as strict as CuPy about mixing devices, to test the dispatch without a GPU.

``FakeArray`` wraps a NumPy array the way a ``cupy.ndarray`` wraps device memory:

* NumPy functions and ufuncs called on it dispatch to it (``__array_ufunc__``/``__array_function__``) and
  return ``FakeArray``s, as they return ``cupy.ndarray``s for CuPy;
* it refuses implicit conversion to NumPy (``np.asarray(fake)`` raises TypeError, as CuPy does), so code that
  would copy device data to the host silently fails here;
* mixing it with a NumPy array in a ufunc, an array function or an assignment raises TypeError, as CuPy
  raises for ``cupy_array + numpy_array``: constants must be created on the right device;
* ``np.lib.stride_tricks.as_strided`` and ``np.add.at`` on it fail, as they do not dispatch for CuPy either
  (the module offers ``lib.stride_tricks.as_strided`` and ``add.at``, like CuPy).

``install(monkeypatch)`` makes ``chainrule.backend`` treat this module as CuPy ("cuda" data are FakeArrays).
Scalar results are 0-d arrays, as in CuPy. It checks *where* data lives, not GPU numerics.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin


class DeviceMixError(TypeError):
    pass


def _strict(x: Any) -> Any:
    """Unwrap a FakeArray; refuse NumPy arrays (CuPy: "Unsupported type <class 'numpy.ndarray'>")."""
    if isinstance(x, FakeArray):
        return x._a
    if isinstance(x, np.ndarray):
        raise DeviceMixError(f"Unsupported type {type(x)} (a host array mixed with a device array)")
    if isinstance(x, (list, tuple)):
        return type(x)(_strict(v) for v in x)
    return x


def _lenient(x: Any) -> Any:
    """Unwrap FakeArrays inside indices (CuPy accepts host index arrays and lists there)."""
    if isinstance(x, FakeArray):
        return x._a
    if isinstance(x, tuple):
        return tuple(_lenient(v) for v in x)
    return x


def wrap(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return FakeArray(x)
    if isinstance(x, np.generic):
        return FakeArray(np.asarray(x))
    if isinstance(x, tuple):
        return tuple(wrap(v) for v in x)
    if isinstance(x, list):
        return [wrap(v) for v in x]
    return x


class FakeArray(NDArrayOperatorsMixin):
    __slots__ = ("_a",)
    __array_priority__ = 100
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, a: np.ndarray) -> None:
        self._a = a

    # ---------------------------------------------------------------- CuPy's host/device boundary
    def get(self) -> np.ndarray:
        return self._a.copy()

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise TypeError(
            "Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a NumPy "
            "array explicitly."
        )

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(_strict(o) for o in out)
        if "where" in kwargs:
            kwargs["where"] = _strict(kwargs["where"])
        if method == "at":
            a, idx, *vals = inputs
            getattr(ufunc, method)(_strict(a), _lenient(idx), *[_strict(v) for v in vals])
            return None
        result = getattr(ufunc, method)(*[_strict(x) for x in inputs], **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return wrap(result)

    def __array_function__(self, func: Any, types_: Any, args: Any, kwargs: Any) -> Any:
        if func is np.lib.stride_tricks.as_strided:
            raise TypeError("as_strided does not dispatch: use the array module's lib.stride_tricks")
        return wrap(func(*_strict(list(args)), **{k: _strict(v) for k, v in kwargs.items()}))

    # ---------------------------------------------------------------- ndarray surface
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # no __array_interface__ & co: NumPy must not reach the host buffer
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if callable(attr):

            def method(*args: Any, **kwargs: Any) -> Any:
                result = attr(*_strict(list(args)), **{k: _strict(v) for k, v in kwargs.items()})
                return result if name in ("item", "tolist") else wrap(result)

            return method
        return wrap(attr) if isinstance(attr, np.ndarray) else attr

    @property
    def T(self) -> FakeArray:  # noqa: N802
        return FakeArray(self._a.T)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._a.shape

    @property
    def dtype(self) -> np.dtype:
        return self._a.dtype

    @property
    def ndim(self) -> int:
        return self._a.ndim

    @property
    def size(self) -> int:
        return self._a.size

    def __getitem__(self, key: Any) -> FakeArray:
        return wrap(self._a[_lenient(key)])

    def __setitem__(self, key: Any, value: Any) -> None:
        self._a[_lenient(key)] = _strict(value)

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self) -> Any:
        return (wrap(row) for row in self._a)

    def __bool__(self) -> bool:
        return bool(self._a)

    def __float__(self) -> float:
        return float(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __copy__(self) -> FakeArray:
        return FakeArray(self._a.copy())

    def __deepcopy__(self, memo: Any) -> FakeArray:
        return FakeArray(self._a.copy())

    def __reduce__(self) -> Any:
        return (FakeArray, (self._a,))

    def __repr__(self) -> str:
        return "fake_cuda_" + repr(self._a)


class _Ufunc:
    """``fake.add`` etc.: strict calls, plus ``.at`` (CuPy >= 12 has ``cupy.add.at``)."""

    def __init__(self, ufunc: np.ufunc) -> None:
        self._u = ufunc

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # as in CuPy: ``out=`` (and ``where=``) must be device arrays, and ``out`` is what comes back
        out = kwargs.get("out")
        result = self._u(*_strict(list(args)), **{k: _strict(v) for k, v in kwargs.items()})
        if out is not None:
            return out[0] if isinstance(out, tuple) and len(out) == 1 else out
        return wrap(result)

    def at(self, a: FakeArray, index: Any, values: Any) -> None:
        self._u.at(_strict(a), _lenient(index), _strict(values))


def _module_function(name: str, fn: Any) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        return wrap(fn(*_strict(list(args)), **{k: _strict(v) for k, v in kwargs.items()}))

    call.__name__ = name
    return call


class FakeCupy(types.ModuleType):
    """``cupy`` as far as chainrule uses it: ``ndarray``, ``asarray``, ``get_array_module``, creation routines
    and every NumPy function (strict about host arrays), ``lib.stride_tricks.as_strided``, ``cuda``."""

    ndarray = FakeArray

    def __init__(self) -> None:
        super().__init__("fake_cupy")
        self.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: 1))
        self.lib = types.SimpleNamespace(
            stride_tricks=types.SimpleNamespace(
                as_strided=lambda x, shape, strides: FakeArray(
                    np.lib.stride_tricks.as_strided(x._a, shape, strides, writeable=False)
                )
            )
        )

    @staticmethod
    def asarray(x: Any, dtype: Any = None) -> FakeArray:
        if isinstance(x, FakeArray):
            return x if dtype is None or x.dtype == dtype else FakeArray(x._a.astype(dtype))
        return FakeArray(np.array(x, dtype=dtype))

    array = asarray

    @staticmethod
    def asnumpy(x: Any) -> np.ndarray:
        return x.get() if isinstance(x, FakeArray) else np.asarray(x)

    def get_array_module(self, *arrays: Any) -> Any:
        return self if any(isinstance(a, FakeArray) for a in arrays) else np

    def __getattr__(self, name: str) -> Any:
        obj = getattr(np, name)
        if isinstance(obj, np.ufunc):
            return _Ufunc(obj)
        if callable(obj) and not isinstance(obj, type):
            return _module_function(name, obj)
        return obj


class FakeCupyx(types.ModuleType):
    """``cupyx.scipy.special.erf`` (no ``scatter_add``: ``add.at`` is the modern spelling)."""

    def __init__(self) -> None:
        super().__init__("fake_cupyx")
        from scipy.special import erf  # noqa: PLC0415

        self.scipy = types.SimpleNamespace(special=types.SimpleNamespace(erf=_module_function("erf", erf)))


def install(monkeypatch: Any) -> FakeCupy:
    """Make ``chainrule.backend`` use the fake as CuPy for the rest of the test."""
    from chainrule import backend  # noqa: PLC0415

    fake = FakeCupy()
    monkeypatch.setattr(backend, "_cupy", fake)
    monkeypatch.setattr(backend, "_cupy_checked", True)
    monkeypatch.setattr(backend, "_cupyx", FakeCupyx() if "scipy" in sys.modules or _has_scipy() else None)
    return fake


def _has_scipy() -> bool:
    try:
        import scipy.special  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True
