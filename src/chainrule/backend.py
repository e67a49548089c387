"""Array modules: NumPy always, CuPy when installed and a tensor lives on ``cuda``.

CuPy is imported lazily, on the first request for a CUDA array, never at ``import chainrule``. Each tensor's
array module follows its data (``get_array_module(tensor.data)``); most NumPy calls already dispatch to CuPy
(ufuncs through ``__array_ufunc__``, most functions through ``__array_function__``). The helpers here cover
what does not dispatch: array creation on a given device, strided views, scatter-add, ``erf``, and moving
constants next to the data they meet.

>>> import numpy as np
>>> from chainrule import backend
>>> backend.get_array_module(np.zeros(2)) is np
True
>>> backend.device_of(np.zeros(2))
'cpu'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np

_cupy: ModuleType | None = None
_cupy_checked = False
_cupyx: ModuleType | None = None  # cupyx (for cupyx.scipy.special.erf), imported on first use


def cupy_or_none() -> ModuleType | None:
    """The ``cupy`` module if it imports and sees a CUDA device, else ``None``."""
    global _cupy, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        try:
            import cupy  # noqa: PLC0415

            cupy.cuda.runtime.getDeviceCount()
            _cupy = cupy
        except Exception:
            _cupy = None
    return _cupy


def is_available() -> bool:
    """Whether the CUDA backend (CuPy with a visible GPU) can be used."""
    return cupy_or_none() is not None


def get_array_module(array: Any) -> ModuleType:
    """``numpy`` for NumPy arrays (and anything else), ``cupy`` for CuPy arrays."""
    if type(array) is np.ndarray or _cupy is None:
        return np
    return _cupy.get_array_module(array)


def is_cuda_array(array: Any) -> bool:
    """Whether ``array`` is a CuPy array (False whenever CuPy is not loaded)."""
    return _cupy is not None and isinstance(array, _cupy.ndarray)


def device_of(array: Any) -> str:
    """``"cuda"`` for a CuPy array, else ``"cpu"``."""
    return "cuda" if is_cuda_array(array) else "cpu"


def parse_device(device: Any) -> str:
    """Normalise ``"cpu"``, ``"cuda"``, ``"cuda:0"`` (or a torch-like device) to ``"cpu"``/``"cuda"``."""
    name = str(device if device is not None else "cpu")
    kind = name.split(":", 1)[0]
    if kind not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")
    if kind == "cuda" and not is_available():
        raise RuntimeError(
            f"device {device!r} requested but CUDA is not available: install the 'gpu' extra (cupy) on a "
            "machine with an NVIDIA GPU"
        )
    return kind


def is_device_name(arg: Any) -> bool:
    """Whether a ``to(...)`` argument names a device (``"cuda:0"``, ``"tpu"``), not a dtype (``"int64"``)."""
    if not isinstance(arg, str):
        return False
    if arg.split(":", 1)[0] in ("cpu", "cuda"):
        return True
    try:
        np.dtype(arg)
    except TypeError:
        return True
    return False


def to_device(array: Any, device: str) -> Any:
    """Copy ``array`` to ``device`` (a no-op when it is already there)."""
    if device == "cpu":
        return array.get() if is_cuda_array(array) else array
    if is_cuda_array(array):
        return array
    cp = cupy_or_none()
    if cp is None:
        parse_device(device)  # raises the "CUDA is not available" error
    return cp.asarray(array)  # type: ignore[union-attr]


def to_device_of(array: Any, like: Any) -> Any:
    """``array`` (NumPy or CuPy) moved to the device ``like`` lives on; free when both are on the CPU."""
    if _cupy is None:
        return array
    return to_device(array, device_of(like))


# ---------------------------------------------------------------------------- creation next to an array
def ensure_array(value: Any) -> Any:
    """A NumPy scalar (what NumPy reductions of 0-d arrays return) as a 0-d array; arrays unchanged."""
    if type(value) is np.ndarray or is_cuda_array(value):
        return value
    return np.asarray(value)


def asarray(value: Any, dtype: Any = None, like: Any = None) -> Any:
    """``value`` (a number, list or array) as an array on ``like``'s device (the CPU if ``like`` is None)."""
    if like is None or not is_cuda_array(like):
        if is_cuda_array(value):
            value = value.get()
        return np.asarray(value, dtype=dtype)
    return _cupy.asarray(value, dtype=dtype)  # type: ignore[union-attr]


def zeros(shape: Sequence[int], dtype: Any, like: Any) -> Any:
    """Zeros on ``like``'s device."""
    return get_array_module(like).zeros(tuple(shape), dtype=dtype)


def ones(shape: Sequence[int], dtype: Any, like: Any) -> Any:
    """Ones on ``like``'s device."""
    return get_array_module(like).ones(tuple(shape), dtype=dtype)


# ---------------------------------------------------------------------------- what does not dispatch
def as_strided(x: Any, shape: Sequence[int], strides: Sequence[int]) -> Any:
    """A read-only strided view of ``x`` (strides in bytes), NumPy's or CuPy's."""
    xp = get_array_module(x)
    if xp is np:
        return np.lib.stride_tricks.as_strided(x, tuple(shape), tuple(strides), writeable=False)
    return xp.lib.stride_tricks.as_strided(x, tuple(shape), tuple(strides))


def scatter_add(target: Any, index: Any, values: Any) -> None:
    """``target[index] += values`` with repeated indices accumulating (``np.add.at``; ``cupy.add.at``)."""
    xp = get_array_module(target)
    if xp is np:
        np.add.at(target, index, values)
        return
    at = getattr(xp.add, "at", None)
    if at is not None:  # CuPy >= 12
        at(target, index, values)
    else:  # pragma: no cover - older CuPy
        _cupyx_module().scatter_add(target, index, values)


def erf(x: Any) -> Any:
    """The error function elementwise, keeping the dtype: SciPy's (or the standard library's) on the CPU,
    ``cupyx.scipy.special.erf`` on CUDA."""
    xp = get_array_module(x)
    if xp is not np:
        return _cupyx_module().scipy.special.erf(x).astype(x.dtype, copy=False)
    try:
        from scipy.special import erf as _scipy_erf  # noqa: PLC0415

        return np.asarray(_scipy_erf(x)).astype(x.dtype, copy=False)
    except ImportError:
        return np.vectorize(math.erf, otypes=[x.dtype])(x)


def _cupyx_module() -> ModuleType:
    global _cupyx
    if _cupyx is None:
        import cupyx  # noqa: PLC0415
        import cupyx.scipy.special  # noqa: F401, PLC0415

        _cupyx = cupyx
    return _cupyx


# ---------------------------------------------------------------------------- device checks
def check_same_device(arrays: Sequence[Any], op: str) -> None:
    """RuntimeError naming both devices when ``arrays`` live on different devices (call only once CuPy is
    loaded: with NumPy alone everything is on the CPU)."""
    first = device_of(arrays[0])
    for a in arrays[1:]:
        other = device_of(a)
        if other != first:
            raise RuntimeError(
                f"Expected all tensors to be on the same device, but found at least two devices, {first} and "
                f"{other}! (in {op}; move them with .to('{first}') or .to('{other}'))"
            )
