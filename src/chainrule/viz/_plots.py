"""Training pictures with matplotlib: loss/accuracy curves, gradient flow per layer, and a live plot.

Figures are made on matplotlib's Agg canvas directly: no window, and the global backend is left alone.
They display inline in Jupyter (PNG) without ``%matplotlib inline``.
"""

from __future__ import annotations

import base64
import functools
import io
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

_SPLITS = ("train", "test", "val", "valid", "validation")


@functools.cache
def _figure_class() -> type:
    """matplotlib's Figure plus an inline PNG display for Jupyter (created once, on first use)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'chainrule[viz]'") from None

    class ChainruleFigure(Figure):
        """A matplotlib Figure that shows itself in Jupyter as PNG."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            FigureCanvasAgg(self)

        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png")
            return buffer.getvalue()

        def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
            return {
                "image/png": base64.b64encode(self._repr_png_()).decode("ascii"),
                "text/plain": repr(self),
            }

    return ChainruleFigure


def new_figure(**kwargs: Any) -> Any:
    """A figure on an Agg canvas that displays inline in Jupyter."""
    return _figure_class()(**kwargs)


# ---------------------------------------------------------------------------- training curves
def _split_key(key: str) -> tuple[str, str]:
    """``"train_loss"`` -> (``"loss"``, ``"train"``); ``"accuracy"`` and ``"acc"`` are one metric."""
    prefix, _, rest = key.partition("_")
    split, metric = (prefix, rest) if prefix in _SPLITS and rest else ("", key)
    if metric in ("acc", "accuracy"):
        metric = "accuracy"
    return metric, split


def _as_columns(history: Any) -> dict[str, list[float]]:
    if hasattr(history, "loss") and hasattr(history, "accuracy") and not isinstance(history, Mapping):
        return {"loss": list(history.loss), "accuracy": list(history.accuracy)}  # chainrule.scalar's History
    if hasattr(history, "curves") and callable(history.curves):  # the CLI's training history
        history = history.curves()
    if isinstance(history, Mapping):
        return {str(k): [float(v) for v in vals] for k, vals in history.items() if k != "epoch"}
    if isinstance(history, Sequence) and not isinstance(history, str):  # a list of per-epoch dicts
        cols: dict[str, list[float]] = {}
        for record in history:
            for k, v in record.items():
                if k != "epoch":
                    cols.setdefault(str(k), []).append(float(v))
        return cols
    raise TypeError(
        "plot_history: expected a dict of lists, a list of dicts or chainrule.scalar.train's History, "
        f"got {type(history).__name__}"
    )


def plot_history(history: Any, path: str | Path | None = None, title: str | None = None) -> Any:
    """Loss/accuracy per epoch (train and test), one panel per metric; returns the matplotlib Figure.

    ``history``: ``{"train_loss": [...], "test_loss": [...], "train_acc": [...], ...}`` (any
    ``<split>_<metric>`` keys), a list of such per-epoch dicts, or ``chainrule.scalar.train.fit``'s History.
    With ``path`` the figure is also written there as PNG; without, it displays inline in Jupyter.
    """
    columns = _as_columns(history)
    if not columns or not any(columns.values()):
        raise ValueError("plot_history: the history is empty")
    panels: dict[str, list[tuple[str, list[float]]]] = {}
    for key, values in columns.items():
        metric, split = _split_key(key)
        panels.setdefault(metric, []).append((split or key, values))
    from matplotlib.ticker import MaxNLocator

    order = sorted(panels, key=lambda m: (m != "loss", m != "accuracy", m))
    fig = new_figure(figsize=(5.0 * len(order), 3.6), dpi=100, layout="constrained")
    axes = fig.subplots(1, len(order), squeeze=False)[0]
    for ax, metric in zip(axes, order):
        for label, values in panels[metric]:
            epochs = range(1, len(values) + 1)
            ax.plot(epochs, values, marker="o" if len(values) <= 30 else None, markersize=3, label=label)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    if path is not None:
        fig.savefig(Path(path), format="png")
    return fig


# ---------------------------------------------------------------------------- gradient flow
def plot_grad_flow(model: Any, path: str | Path | None = None, title: str | None = None) -> Any:
    """Mean and max |grad| of each parameter (after ``loss.backward()``), on a log scale, inputs on the left.

    The classic picture of vanishing (bars falling towards the input) or exploding gradients. ``model``
    is a Module or an iterable of ``(name, parameter)`` pairs. Parameters without a gradient are listed
    as "no grad".
    """
    import numpy as np

    from chainrule import backend

    pairs = list(model.named_parameters() if hasattr(model, "named_parameters") else model)
    if not pairs:
        raise ValueError("plot_grad_flow: the model has no parameters")
    names, means, maxes, missing = [], [], [], []
    for name, p in pairs:
        g = getattr(p, "grad", None)
        names.append(str(name))
        if g is None:
            missing.append(str(name))
            means.append(np.nan)
            maxes.append(np.nan)
            continue
        a = np.abs(np.asarray(backend.to_device(getattr(g, "data", g), "cpu"), dtype=np.float64))
        means.append(float(a.mean()) if a.size else 0.0)
        maxes.append(float(a.max()) if a.size else 0.0)
    if len(missing) == len(pairs):
        raise ValueError("plot_grad_flow: no parameter has a gradient yet; call loss.backward() first")
    x = np.arange(len(names))
    fig = new_figure(figsize=(max(5.0, 0.45 * len(names) + 2), 3.8), dpi=100, layout="constrained")
    ax = fig.subplots()
    ax.bar(x, maxes, width=0.8, alpha=0.35, color="#1f77b4", label="max |grad|")
    ax.bar(x, means, width=0.4, color="#1f77b4", label="mean |grad|")
    positive = [v for v in maxes + means if np.isfinite(v) and v > 0]
    if positive:
        ax.set_yscale("log")
    for k, name in enumerate(names):
        if name in missing:
            ax.text(k, min(positive or [1.0]), "no grad", rotation=90, ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x, names, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("|grad|")
    ax.set_title(title or "gradient flow (input layers on the left)")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend()
    if path is not None:
        fig.savefig(Path(path), format="png")
    return fig


# ---------------------------------------------------------------------------- live plot
def _notebook_display() -> Any:
    """IPython's ``display`` when running in a Jupyter kernel, else None (a terminal prints text)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "kernel"):
        return None
    from IPython.display import display

    return display


class LivePlot:
    """Loss/accuracy curves redrawn after every ``update``: in Jupyter one figure updated in place,
    elsewhere one line of text per update.

    >>> live = LivePlot()
    >>> for epoch in range(1, 3):
    ...     live.update(epoch=epoch, loss=1.0 / epoch, accuracy=0.5 + 0.1 * epoch)
    epoch 1: loss 1, accuracy 0.6
    epoch 2: loss 0.5, accuracy 0.7
    >>> live.history["loss"]
    [1.0, 0.5]

    ``update(**metrics)`` takes any ``<split>_<metric>`` names, as :func:`plot_history` draws them; calling
    the object is the same (a ``fit(..., callback=)`` hook). ``every`` redraws only every n-th update.
    """

    def __init__(self, title: str | None = None, every: int = 1, display: Any = None) -> None:
        self.title = title
        self.every = max(int(every), 1)
        self.history: dict[str, list[float]] = {}
        self._display = display if display is not None else _notebook_display()
        self._handle: Any = None
        self._count = 0

    def update(self, epoch: int | None = None, **metrics: float) -> None:
        """Record one point of each metric and redraw (or print a line)."""
        if not metrics:
            raise ValueError("LivePlot.update: give at least one metric, e.g. update(loss=0.3)")
        for key, value in metrics.items():
            self.history.setdefault(key, []).append(float(value))
        self._count += 1
        step = epoch if epoch is not None else self._count
        if self._display is None:
            shown = ", ".join(f"{k} {float(v):.4g}" for k, v in metrics.items())
            print(f"epoch {step}: {shown}", flush=True)
            return
        if self._count % self.every == 0:
            self._redraw()

    __call__ = update

    def _redraw(self) -> None:
        fig = plot_history(self.history, title=self.title)
        if self._handle is None:
            self._handle = self._display(fig, display_id=True)
        else:
            self._handle.update(fig)

    def close(self) -> None:
        """Draw the final state (when the last update was skipped by ``every``)."""
        if self._display is not None and self.history and self._count % self.every:
            self._redraw()
