"""``draw(output) -> Graph``: a picture of the graph that shows itself in Jupyter and saves by suffix.

>>> import chainrule as cr
>>> x = cr.tensor(2.0, requires_grad=True, name="x")
>>> g = draw(cr.exp(x) * 3)
>>> g.source.splitlines()[0], len(g)
('digraph chainrule {', 5)
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chainrule.viz._dot import dot_program, dot_source, run_dot
from chainrule.viz._model import Picture, build_picture

#: More boxes (values + ops) than this make an unreadable picture: ``draw`` then refuses with a hint.
MAX_NODES = 400
FORMATS = ("dot", "gv", "svg", "png", "pdf")
ENGINES = ("auto", "dot", "matplotlib")
_FALLBACK_DPI = 96.0  # the PNG next to the SVG in a notebook: for frontends without SVG, e.g. PDF export


class Graph:
    """The drawing of one graph: ``.source`` (DOT text), ``.svg()``, ``.png()``, ``.pdf()``, ``.save(path)``.

    In Jupyter it displays inline (SVG, with a PNG fallback). Pictures are made by Graphviz's ``dot`` when it
    is on the PATH (``engine="auto"``), else by grandalf + matplotlib (pip alone); ``engine=`` forces one.
    """

    def __init__(
        self, picture: Picture, rankdir: str = "LR", engine: str = "auto", max_nodes: int = MAX_NODES
    ):
        if engine not in ENGINES:
            raise ValueError(f"draw: engine must be one of {', '.join(ENGINES)}, got {engine!r}")
        self.picture = picture
        self.rankdir = rankdir
        self.engine = engine
        self.max_nodes = max_nodes
        self._cache: dict[str, bytes] = {}
        self._figure: Any = None  # the matplotlib drawing, made once for every format

    def __len__(self) -> int:
        """The number of boxes (values and ops)."""
        return len(self.picture.boxes)

    @property
    def source(self) -> str:
        """Graphviz DOT text (always available, any size)."""
        return dot_source(self.picture, self.rankdir)

    @property
    def too_large(self) -> bool:
        return len(self) > self.max_nodes

    def _too_large_message(self) -> str:
        values = sum(1 for b in self.picture.boxes if not b.is_op)
        return (
            f"the graph has {len(self)} nodes ({values} values, {len(self) - values} ops), more than "
            f"max_nodes={self.max_nodes} make a readable picture. Draw a smaller piece (e.g. one layer's "
            f"output, or a smaller batch or model), save the DOT text with .save('graph.dot') for Graphviz, "
            f"or pass max_nodes={len(self)} (chainrule graph --max-nodes {len(self)}) to draw it anyway"
        )

    def _picture(self, fmt: str, dpi: float | None = None) -> bytes:
        key = fmt if dpi is None else f"{fmt}@{dpi}"
        if key not in self._cache:
            if self.too_large:
                raise ValueError(f"draw: {self._too_large_message()}")
            exe = dot_program() if self.engine in ("auto", "dot") else None
            if exe is not None:
                self._cache[key] = run_dot(self.source, fmt, exe)
            elif self.engine == "dot":
                raise RuntimeError(
                    "draw: engine='dot' needs the 'dot' program from Graphviz (https://graphviz.org) on the "
                    "PATH; engine='auto' draws with matplotlib instead"
                )
            else:
                from chainrule.viz._layout import layout
                from chainrule.viz._render import figure, to_bytes

                if self._figure is None:
                    self._figure = figure(self.picture, layout(self.picture))
                self._cache[key] = to_bytes(self._figure, fmt, dpi)
        return self._cache[key]

    def svg(self) -> str:
        """The picture as SVG text."""
        return self._picture("svg").decode("utf-8")

    def png(self, dpi: float | None = None) -> bytes:
        """The picture as PNG bytes (``dpi`` defaults to 144, lower for very large graphs)."""
        return self._picture("png", dpi)

    def pdf(self) -> bytes:
        """The picture as PDF bytes."""
        return self._picture("pdf")

    def data(self, format: str) -> bytes:
        """The file content for ``format`` (dot, gv, svg, png or pdf)."""
        fmt = format.lower().lstrip(".")
        if fmt not in FORMATS:
            raise ValueError(f"unsupported format {fmt!r}; use .dot, .svg, .png or .pdf")
        return self.source.encode("utf-8") if fmt in ("dot", "gv") else self._picture(fmt)

    def save(self, path: str | Path, format: str | None = None) -> Path:
        """Write the graph to ``path``, the format chosen by its suffix (.svg, .png, .pdf or .dot) or
        ``format``. Nothing is written when the picture cannot be made."""
        path = Path(path)
        fmt = (format or path.suffix.lstrip(".")).lower()
        if fmt not in FORMATS:
            raise ValueError(
                f"cannot save {path}: unsupported format {fmt!r}; "
                "use a name ending in .svg, .png, .pdf or .dot"
            )
        try:
            content = self.data(fmt)
        except ValueError as exc:
            raise ValueError(f"cannot save {path}: {exc}") from None
        path.write_bytes(content)
        return path

    # ------------------------------------------------------------------ display
    def __repr__(self) -> str:
        values = sum(1 for b in self.picture.boxes if not b.is_op)
        return f"<chainrule Graph: {values} values, {len(self) - values} ops, {self.picture.engine} engine>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """SVG and a PNG fallback for Jupyter; a too-large graph shows its size and the hint as text."""
        bundle: dict[str, Any] = {"text/plain": repr(self)}
        if self.too_large:
            bundle["text/plain"] += "\n" + self._too_large_message()
            return bundle
        wanted = [m for m in ("image/svg+xml", "image/png") if (not include or m in include)]
        wanted = [m for m in wanted if not exclude or m not in exclude]
        try:
            if "image/svg+xml" in wanted:
                bundle["image/svg+xml"] = self.svg()
            if "image/png" in wanted:
                bundle["image/png"] = base64.b64encode(self.png(dpi=_FALLBACK_DPI)).decode("ascii")
        except ImportError as exc:  # no picture without the viz extra: say so instead of a traceback
            bundle = {"text/plain": f"{bundle['text/plain']}\n{exc} (graph.source has the DOT text)"}
        return bundle


def draw(
    output: Any,
    *,
    show_values: bool = True,
    show_grads: bool = True,
    names: Mapping[Any, Any] | None = None,
    max_elements: int = 4,
    precision: int = 4,
    rankdir: str = "LR",
    engine: str = "auto",
    max_nodes: int = MAX_NODES,
) -> Graph:
    """Draw the graph behind ``output`` (a Tensor or a scalar-engine Scalar).

    Values show their name, shape and dtype, value and dL/d(value); ops their kind; leaves and the output
    are highlighted. Names follow ``chainrule.explain`` (``names=``, ``.name``, then defaults). While the
    graph is intact, gradients are computed without touching ``.grad``; after ``backward()`` freed it, the
    structure is still drawn, with the leaves' ``.grad`` and "value freed" for the released intermediates.
    Graphs over ``max_nodes`` boxes are refused when drawn as a picture (their ``.source`` still works).
    """
    picture = build_picture(output, show_values, show_grads, names, max_elements, precision)
    return Graph(picture, rankdir=rankdir, engine=engine, max_nodes=max_nodes)
