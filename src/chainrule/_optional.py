"""Optional dependencies: find out, without importing them, whether they are installed, and name the extra.

``pip install chainrule`` brings NumPy and safetensors only. Everything else is an extra; a feature that needs
one checks with :func:`require` (or :func:`available`) *before* its work starts, so a run never trains for
minutes and then fails for want of a plotting library.

>>> available("numpy")
True
>>> require("no_such_module_xyz", "viz", "drawing curves")
Traceback (most recent call last):
ImportError: drawing curves needs no_such_module_xyz, which is not installed: pip install 'chainrule[viz]'
"""

from __future__ import annotations

import importlib.util

__all__ = ["EXTRAS", "available", "install_hint", "missing_note", "require"]

# The module each extra brings, by the name it is imported under.
EXTRAS: dict[str, str] = {
    "tqdm": "progress",
    "matplotlib": "viz",
    "graphviz": "viz",
    "torch": "torch",
    "onnx": "onnx",
    "onnxruntime": "onnx",
    "cupy": "gpu",
}


def available(module: str) -> bool:
    """Whether ``module`` can be imported, found without importing it (``import chainrule`` stays light)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a module set to None in sys.modules
        return False


def install_hint(module: str, extra: str | None = None) -> str:
    """``pip install 'chainrule[extra]'`` for ``module`` (its usual extra unless ``extra`` is given)."""
    extra = extra or EXTRAS.get(module)
    return f"pip install 'chainrule[{extra}]'" if extra else f"pip install {module}"


def require(module: str, extra: str | None, feature: str) -> None:
    """Raise ImportError naming ``feature``, ``module`` and its extra, unless ``module`` is installed."""
    if not available(module):
        raise ImportError(
            f"{feature} needs {module}, which is not installed: {install_hint(module, extra)}", name=module
        )


def missing_note(module: str, skipped: str, extra: str | None = None) -> str | None:
    """A one-line note saying what is ``skipped`` for want of ``module``, or ``None`` when it is installed."""
    if available(module):
        return None
    return f"{skipped} skipped: {module} is not installed ({install_hint(module, extra)})"
