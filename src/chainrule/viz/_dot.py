"""The picture as Graphviz DOT text, and Graphviz's ``dot`` program when it is installed."""

from __future__ import annotations

import shutil
import subprocess

from chainrule.viz._model import FILL, Picture


def _quote(text: str) -> str:
    """A DOT double-quoted string; lines are separated by ``\\n``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dot_source(picture: Picture, rankdir: str = "LR") -> str:
    """DOT text: values as filled ellipses, ops as rounded boxes, edges from inputs to ops to outputs."""
    lines = [
        "digraph chainrule {",
        f"  rankdir={rankdir};",
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    for box in picture.boxes:
        label = _quote("\n".join(box.lines))
        if box.is_op:
            lines.append(f"  {box.key} [label={label}, shape=box, style=rounded];")
        else:
            style = "filled,dashed" if box.freed else "filled"
            lines.append(
                f'  {box.key} [label={label}, shape=ellipse, style="{style}", fillcolor="{FILL[box.role]}"];'
            )
    lines += [f"  {a} -> {b};" for a, b in picture.edges]
    if picture.notes:
        lines.append(f"  labelloc=b; label={_quote(chr(10).join(picture.notes))};")
    return "\n".join([*lines, "}"]) + "\n"


def dot_program() -> str | None:
    """The path of Graphviz's ``dot`` program, or None when it is not installed."""
    return shutil.which("dot")


def run_dot(source: str, fmt: str, exe: str) -> bytes:
    """``dot -T<fmt>`` on ``source`` (through the ``graphviz`` package when it is installed)."""
    try:
        import graphviz
    except ImportError:
        graphviz = None
    if graphviz is not None:
        return graphviz.Source(source).pipe(format=fmt)
    done = subprocess.run([exe, f"-T{fmt}"], input=source.encode(), capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"Graphviz's dot failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout
