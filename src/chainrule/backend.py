"""Array modules: NumPy always, CuPy when installed and a tensor lives on ``cuda``.

CuPy is imported lazily, on the first request for a CUDA array, never at ``import chainrule``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

_cupy: ModuleType | None = None
_cupy_checked = False


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
    """``numpy`` for NumPy arrays, ``cupy`` for CuPy arrays."""
    if type(array) is np.ndarray or _cupy is None:
        return np
    return _cupy.get_array_module(array)


def is_cuda_array(array: Any) -> bool:
    return _cupy is not None and isinstance(array, _cupy.ndarray)


def device_of(array: Any) -> str:
    return "cuda" if is_cuda_array(array) else "cpu"


def parse_device(device: Any) -> str:
    """Normalise ``"cpu"``, ``"cuda"``, ``"cuda:0"`` (or a torch-like device object) to ``"cpu"``/``"cuda"``."""
    name = str(device if device is not None else "cpu")
    kind = name.split(":", 1)[0]
    if kind not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")
    if kind == "cuda" and not is_available():
        raise RuntimeError(
            f"device {device!r} requested but CUDA is not available: install the 'gpu' extra (cupy) on a machine "
            "with an NVIDIA GPU"
        )
    return kind


def to_device(array: Any, device: str) -> Any:
    """Copy ``array`` to ``device`` (a no-op when it is already there)."""
    if device == "cpu":
        return array.get() if is_cuda_array(array) else array
    cp = cupy_or_none()
    assert cp is not None
    return cp.asarray(array)
