"""Draw a laid-out picture with matplotlib (no window, the global backend untouched) to SVG/PNG/PDF bytes.

Values are rounded boxes (leaves blue, constants grey, the output orange; a freed value has a dashed
border), ops are square grey boxes; edges are arrows from inputs to ops to outputs. SVG keeps its text
as text (searchable, selectable), so the node names appear in the file.
"""

from __future__ import annotations

import io
from typing import Any

from chainrule.viz._layout import _LINE_H, _PAD_Y, FONT_SIZE, Layout
from chainrule.viz._model import FILL, Picture

_MARGIN = 12.0
_NOTE_H = 1.6 * FONT_SIZE
PNG_DPI = 144.0
_MAX_PNG_PIXELS = 12000  # longest side; bigger pictures are drawn at a lower resolution


def figure(picture: Picture, lay: Layout) -> Any:
    """A matplotlib Figure of the picture, one data unit per point."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    except ImportError:
        raise ImportError("drawing a graph picture needs matplotlib: pip install 'chainrule[viz]'") from None
    notes_h = _NOTE_H * len(picture.notes)
    w, h = lay.width + 2 * _MARGIN, lay.height + 2 * _MARGIN + notes_h
    fig = Figure(figsize=(w / 72.0, h / 72.0), dpi=72)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-_MARGIN, lay.width + _MARGIN)
    ax.set_ylim(lay.height + _MARGIN + notes_h, -_MARGIN)  # y grows downwards, like the layout
    ax.set_axis_off()
    for edge in lay.paths:
        _arrow(ax, edge, lay, FancyArrowPatch)
    for box in picture.boxes:
        (x, y), (bw, bh) = lay.centres[box.key], lay.sizes[box.key]
        style = "square,pad=0" if box.is_op else "round,pad=0,rounding_size=9"
        ax.add_patch(
            FancyBboxPatch(
                (x - bw / 2, y - bh / 2), bw, bh, boxstyle=style, facecolor=FILL[box.role],
                edgecolor="#888888" if box.freed else "#333333", linestyle="--" if box.freed else "-",
                linewidth=1.4 if box.role == "root" else 0.9, zorder=2,
            )
        )  # fmt: skip
        top = y - bh / 2 + _PAD_Y + _LINE_H / 2
        for k, line in enumerate(box.lines):
            freed = line.endswith(" freed")
            ax.text(
                x, top + k * _LINE_H, line, ha="center", va="center", fontsize=FONT_SIZE, zorder=3,
                family="monospace" if k else "sans-serif", fontweight="bold" if k == 0 else "normal",
                color="#888888" if freed else "#111111", fontstyle="italic" if freed else "normal",
            )  # fmt: skip
    for k, note in enumerate(picture.notes):
        ax.text(0, lay.height + _MARGIN + (k + 0.6) * _NOTE_H, note, fontsize=FONT_SIZE - 1, color="#555555")
    return fig


def _arrow(ax: Any, edge: tuple[str, str, list[tuple[float, float]]], lay: Layout, arrow_cls: Any) -> None:
    """A polyline through the layout's bend points, leaving the right side of the source box and ending in
    an arrow head on the left side of the target box."""
    a, b, path = edge
    points = [
        (path[0][0] + lay.sizes[a][0] / 2, path[0][1]),
        *path[1:-1],
        (path[-1][0] - lay.sizes[b][0] / 2, path[-1][1]),
    ]
    if len(points) > 2:
        xs, ys = zip(*points[:-1])
        ax.plot(xs, ys, color="#555555", linewidth=0.8, zorder=1)
    ax.add_patch(
        arrow_cls(points[-2], points[-1], arrowstyle="-|>", mutation_scale=9, color="#555555", linewidth=0.8,
                  shrinkA=0, shrinkB=0, zorder=1)
    )  # fmt: skip


def to_bytes(fig: Any, fmt: str, dpi: float | None = None) -> bytes:
    """The figure as ``fmt`` ("svg", "png" or "pdf") bytes, reproducibly (no dates, fixed ids); ``dpi``
    for PNG (default :data:`PNG_DPI`, lowered so the longest side stays under 12000 pixels)."""
    import matplotlib

    buffer = io.BytesIO()
    if fmt == "png":
        dpi = min(dpi or PNG_DPI, _MAX_PNG_PIXELS / max(fig.get_size_inches()))
    else:
        dpi = 72.0
    metadata = {"Date": None} if fmt in ("svg", "pdf") else None
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "chainrule", "pdf.fonttype": 42}):
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata)
    return buffer.getvalue()
