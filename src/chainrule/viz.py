"""Pictures: the computational graph as Graphviz DOT (and SVG/PNG), and training curves with matplotlib.

>>> import chainrule as cr
>>> x = cr.tensor(0.5, dtype="float64", requires_grad=True, name="x")
>>> dot = to_dot(cr.exp(x))
>>> dot.splitlines()[0], dot.count(" -> ")
('digraph chainrule {', 2)

``to_dot`` needs nothing beyond NumPy; ``render`` to .svg/.png needs Graphviz's ``dot`` program (and uses
the ``graphviz`` package when installed); ``plot_history`` needs matplotlib. Both are imported lazily.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["plot_history", "plot_training_curves", "render", "to_dot"]

_FILL = {"root": "#ffd27f", "leaf": "#cfe6ff", "const": "#eeeeee", "inner": "#ffffff"}


def _quote(text: str) -> str:
    """A DOT double-quoted string; lines are separated by ``\\n``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(
    output: Any,
    show_values: bool = True,
    show_grads: bool = True,
    names: Mapping[Any, Any] | None = None,
    max_elements: int = 4,
    precision: int = 4,
    rankdir: str = "LR",
) -> str:
    """Graphviz DOT source for the graph behind ``output`` (a Tensor or a scalar-engine Scalar).

    Values are ellipses (name, shape, and optionally value and dL/d(value)), ops are boxes; edges run
    from inputs to ops to outputs. Gradients are computed as ``chainrule.explain`` does: the graph is not
    consumed and no ``.grad`` changes. Names follow ``explain`` (``names=``, ``.name``, then defaults).
    """
    from chainrule.explain._format import fmt_array, fmt_shape
    from chainrule.explain.backprop import backprop, seed_for
    from chainrule.explain.graph import build_graph

    graph = build_graph(output, names)
    totals: dict[int, Any] = {}
    if show_grads and graph.root.requires_grad:
        _, totals = backprop(graph, seed_for(graph))
    ids = {id(n): f"v{i}" for i, n in enumerate(graph.nodes)}
    lines = [
        "digraph chainrule {",
        f"  rankdir={rankdir};",
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    for n in graph.nodes:
        label = [n.name]
        if graph.engine == "tensor":
            label.append(f"{fmt_shape(n.shape)} {n.value.dtype}")
        if show_values:
            label.append("value " + fmt_array(n.value, max_elements, precision))
        if show_grads and id(n) in totals:
            label.append(f"grad {fmt_array(totals[id(n)], max_elements, precision)}")
        kind = (
            "root"
            if n is graph.root
            else ("inner" if n.op is not None else ("leaf" if n.requires_grad else "const"))
        )
        lines.append(
            f"  {ids[id(n)]} [label={_quote(chr(10).join(label))}, shape=ellipse, style=filled, "
            f'fillcolor="{_FILL[kind]}"];'
        )
    edges = []
    for k, op in enumerate(graph.ops):
        label = op.kind
        consts = {c: v for c, v in op.consts.items() if c in ("c", "slope", "alpha", "beta")}
        if consts:
            label += "\n" + ", ".join(f"{c}={fmt_array(v, 1, precision)}" for c, v in consts.items())
        lines.append(f"  op{k} [label={_quote(label)}, shape=box, style=rounded];")
        edges += [f"  {ids[id(x)]} -> op{k};" for x in op.inputs]
        edges += [f"  op{k} -> {ids[id(o)]};" for o in op.outputs if o is not None]
    return "\n".join(lines + edges + ["}"]) + "\n"


def render(output: Any, path: str | Path, format: str | None = None, **kwargs: Any) -> Path:
    """Write the graph of ``output`` to ``path``: ``.dot`` as text, ``.svg``/``.png``/``.pdf`` via Graphviz.

    ``format`` overrides the suffix; ``kwargs`` go to :func:`to_dot`. Pictures need the ``dot`` program
    (Graphviz) on the PATH; without it a RuntimeError says so (the .dot output always works).
    """
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".")).lower()
    if fmt not in ("dot", "gv", "svg", "png", "pdf"):
        raise ValueError(f"render: unsupported format {fmt!r} for {path}; use .dot, .svg, .png or .pdf")
    source = to_dot(output, **kwargs)
    if fmt in ("dot", "gv"):
        path.write_text(source, encoding="utf-8")
        return path
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(
            f"render: writing {path.name} needs the 'dot' program from Graphviz (https://graphviz.org), "
            "which is not on the PATH. Install Graphviz (e.g. apt install graphviz / brew install graphviz), "
            f"or write {path.with_suffix('.dot').name} instead (render(output, 'graph.dot') needs nothing)"
        )
    path.write_bytes(_pipe(source, fmt, exe))
    return path


def _pipe(source: str, fmt: str, exe: str) -> bytes:
    try:
        import graphviz
    except ImportError:
        graphviz = None
    if graphviz is not None:
        return graphviz.Source(source).pipe(format=fmt)
    done = subprocess.run([exe, f"-T{fmt}"], input=source.encode(), capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"render: dot failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


# ---------------------------------------------------------------------------- training curves
_SPLITS = ("train", "test", "val", "valid", "validation")


def _split_key(key: str) -> tuple[str, str]:
    """``"train_loss"`` -> (``"loss"``, ``"train"``); ``"accuracy"`` and ``"acc"`` are one metric."""
    prefix, _, rest = key.partition("_")
    split, metric = (prefix, rest) if prefix in _SPLITS and rest else ("", key)
    if metric in ("acc", "accuracy"):
        metric = "accuracy"
    return metric, split


def _as_columns(history: Any) -> dict[str, list[float]]:
    if isinstance(history, Mapping):
        return {str(k): [float(v) for v in vals] for k, vals in history.items() if k != "epoch"}
    if isinstance(history, Sequence):  # a list of per-epoch dicts
        cols: dict[str, list[float]] = {}
        for record in history:
            for k, v in record.items():
                if k != "epoch":
                    cols.setdefault(str(k), []).append(float(v))
        return cols
    raise TypeError(
        f"plot_history: expected a dict of lists or a list of dicts, got {type(history).__name__}"
    )


def plot_history(history: Any, path: str | Path, title: str | None = None) -> Path:
    """Draw loss/accuracy per epoch (train and test) and save it as PNG at ``path``.

    ``history``: ``{"train_loss": [...], "test_loss": [...], "train_acc": [...], "test_acc": [...]}`` (any
    ``<split>_<metric>`` keys; one panel per metric), or a list of such per-epoch dicts.

    Uses matplotlib's Agg canvas directly: no window, and the global backend is left alone.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plot_history needs matplotlib: pip install 'chainrule[viz]'") from None
    columns = _as_columns(history)
    if not columns or not any(columns.values()):
        raise ValueError("plot_history: the history is empty")
    panels: dict[str, list[tuple[str, list[float]]]] = {}
    for key, values in columns.items():
        metric, split = _split_key(key)
        panels.setdefault(metric, []).append((split or key, values))
    order = sorted(panels, key=lambda m: (m != "loss", m != "accuracy", m))
    fig = Figure(figsize=(5.0 * len(order), 3.6), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(order), squeeze=False)[0]
    for ax, metric in zip(axes, order):
        for label, values in panels[metric]:
            epochs = range(1, len(values) + 1)
            ax.plot(epochs, values, marker="o" if len(values) <= 30 else None, markersize=3, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    path = Path(path)
    fig.savefig(path, format="png")
    return path


plot_training_curves = plot_history
