"""Progress bars: ``tqdm.auto`` (a widget in Jupyter, text in a terminal), or nothing without tqdm.

In a Jupyter kernel without ipywidgets, tqdm.auto would warn and fall back to text; we go to the text bar
directly. ``disable=None`` hides the bar when stderr is not a terminal (logs, CI), except in Jupyter,
whose stderr is never a terminal but shows the bar fine.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

__all__ = ["in_notebook", "progress_bar"]


def in_notebook() -> bool:
    """Whether the code runs in a Jupyter kernel (IPython with a kernel; a terminal IPython is not)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and hasattr(shell, "kernel")


def progress_bar(
    total: int | None, desc: str = "", unit: str = "it", leave: bool = False, **kwargs: Any
) -> Any:
    """A tqdm bar, or None when tqdm is not installed (``pip install 'chainrule[progress]'``)."""
    if importlib.util.find_spec("tqdm") is None:
        return None
    notebook = in_notebook()
    if notebook and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:
        from tqdm.std import tqdm
    options: dict[str, Any] = {
        "file": sys.stderr,
        "dynamic_ncols": True,
        "disable": False if notebook else None,
    }
    options.update(kwargs)
    return tqdm(total=total, desc=desc, unit=unit, leave=leave, **options)
