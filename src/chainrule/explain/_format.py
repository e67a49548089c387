"""Short, one-line text for arrays: small ones in full, large ones as shape, norm and first entries.

>>> import numpy as np
>>> fmt_array(np.array([[0.35, 0.9]]))
'[[0.35, 0.9]]'
>>> fmt_array(np.arange(100.0), max_elements=4)
'shape (100,), norm 573, first [0, 1, 2, 3, …]'
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend


def fmt_number(x: Any, precision: int = 6) -> str:
    """A number with ``precision`` significant digits (``0.5``, ``-0.0113``, ``1.5e-07``, ``True``)."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (complex, np.complexfloating)):
        return f"{complex(x):.{precision}g}"
    return f"{float(x) + 0.0:.{precision}g}"  # + 0.0 turns -0.0 into 0.0


def fmt_array(a: Any, max_elements: int = 8, precision: int = 6) -> str:
    """One line: the full array when it has at most ``max_elements`` entries, else a summary."""
    if a is None:
        return "—"
    if isinstance(a, (tuple, list)):
        return "(" + ", ".join(fmt_array(x, max_elements, precision) for x in a) + ")"
    arr = np.asarray(backend.to_device(a, "cpu"))  # CUDA arrays are copied to the host
    if arr.ndim == 0:
        return fmt_number(arr.item(), precision)
    if arr.size <= max(max_elements, 0) or arr.size == 0:
        return _nested(arr, precision)
    flat = arr.reshape(-1)
    first = ", ".join(fmt_number(v, precision) for v in flat[: max(min(max_elements, 4), 1)].tolist())
    if arr.dtype.kind in "fc":
        norm = float(np.linalg.norm(flat.astype(np.complex128 if arr.dtype.kind == "c" else np.float64)))
        return f"shape {tuple(arr.shape)}, norm {fmt_number(norm, 4)}, first [{first}, …]"
    return f"shape {tuple(arr.shape)}, first [{first}, …]"


def _nested(arr: np.ndarray, precision: int) -> str:
    if arr.ndim == 0:
        return fmt_number(arr.item(), precision)
    return "[" + ", ".join(_nested(sub, precision) for sub in arr) + "]"


def fmt_shape(shape: tuple[int, ...]) -> str:
    return (
        "()" if not shape else "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
    )


def table(rows: list[list[str]], indent: str = "  ") -> str:
    """Left-aligned text columns separated by two spaces; the first row is the header."""
    if not rows:
        return ""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        line = indent + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
        lines.append(line)
        if k == 0:
            lines.append(indent + "  ".join("─" * w for w in widths))
    return "\n".join(lines)


def md_table(rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table; the first row is the header. ``|`` in cells is escaped."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    head, *body = rows
    out = ["| " + " | ".join(cell(c) for c in head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in body]
    return "\n".join(out)
