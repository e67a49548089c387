"""A griffe extension for the API pages: the names chainrule binds at run time become documentable.

griffe reads the source without running it, so it cannot see three kinds of public names: the ops that
``chainrule/__init__.py`` star-imports from ``chainrule.ops`` (whose ``__all__`` is computed), the lazy
attributes of ``chainrule.__getattr__`` (``cr.save``, ``cr.gradcheck``...), and the ops bound as Tensor
methods by ``bind_ops`` (``x.exp()``, ``x.reshape(2, 3)``...). This extension imports chainrule once and adds
an alias for each, pointing at the function that defines it, so ``::: chainrule.exp`` and
``::: chainrule.Tensor`` with ``members: [reshape]`` render them under the names users type.
"""

from __future__ import annotations

import importlib
from typing import Any

from griffe import Alias, Extension


def _target(obj: Any) -> str | None:
    """``module.qualname`` of a function or class, or None for anything griffe cannot point at."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not module or not qualname or not module.startswith("chainrule") or "<" in qualname:
        return None
    return f"{module}.{qualname}"


class RuntimeNames(Extension):
    """Alias every name of ``chainrule.__all__`` and every bound Tensor op that static analysis misses."""

    def on_package(self, *, pkg: Any, **kwargs: Any) -> None:
        if pkg.name != "chainrule":
            return
        chainrule = importlib.import_module("chainrule")
        ops = importlib.import_module("chainrule.ops")
        for name in chainrule.__all__:
            target = _target(getattr(chainrule, name))
            if name not in pkg.members and target is not None:
                pkg.set_member(name, Alias(name, target, parent=pkg))
        tensor = pkg["tensor"]["Tensor"]
        for name in ops.METHODS:
            target = _target(getattr(ops, name))
            if name not in tensor.members and target is not None:
                tensor.set_member(name, Alias(name, target, parent=tensor))
