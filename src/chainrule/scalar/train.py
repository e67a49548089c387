"""A small training loop for scalar-engine binary classifiers.

>>> from chainrule.scalar import datasets, nn, optim
>>> data = datasets.simple(20, seed=0)
>>> net = nn.MLPBinaryClassifyNetFactory(nn.MLPConfig(2, 1, 4, 1, nn.ActivationType.TANH, seed=0))
>>> history = fit(net, data.xs, data.ys, optim.Adam(net.parameters(), lr=0.05), epochs=3)
>>> len(history.loss), len(history.accuracy)
(3, 3)
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from chainrule.scalar.losses import binary_cross_entropy, mean
from chainrule.scalar.optim import Optimizer
from chainrule.scalar.scalar import Scalar

__all__ = ["History", "accuracy", "fit", "gc_paused", "predict"]

Model = Callable[[Sequence[float]], Scalar]
LossFn = Callable[[Scalar, float], Scalar]


@dataclass
class History:
    """Per-epoch mean training loss and accuracy (of the predictions made during the epoch)."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)


@contextlib.contextmanager
def gc_paused(pause: bool = True) -> Iterator[None]:
    """Suspend Python's cyclic garbage collector inside the block, then restore its state.

    Scalar graphs contain no reference cycles: reference counting frees them. But while a large
    batch graph is alive, every 700 allocations trigger a collection that rescans it and finds
    nothing, which costs about a third of the training time.
    """
    was_enabled = gc.isenabled()
    if pause:
        gc.disable()
    try:
        yield
    finally:
        if pause and was_enabled:
            gc.enable()


def _check_data(xs: Sequence[Sequence[float]], ys: Sequence[float]) -> None:
    if len(xs) == 0 or len(xs) != len(ys):
        raise ValueError(f"need equally many points and labels, at least one; got {len(xs)} and {len(ys)}")


def predict(model: Model, xs: Sequence[Sequence[float]]) -> list[float]:
    """The model's output (a probability) for each point, as floats."""
    return [model(x).data for x in xs]


def accuracy(
    model: Model, xs: Sequence[Sequence[float]], ys: Sequence[float], threshold: float = 0.5
) -> float:
    """Fraction of points whose prediction ``>= threshold`` matches a label of 1 (else 0)."""
    _check_data(xs, ys)
    hits = sum((p >= threshold) == (y >= 0.5) for p, y in zip(predict(model, xs), ys))
    return hits / len(xs)


def fit(
    model: Model,
    xs: Sequence[Sequence[float]],
    ys: Sequence[float],
    optimizer: Optimizer,
    epochs: int,
    *,
    batch_size: int | None = None,
    loss_fn: LossFn = binary_cross_entropy,
    shuffle: bool = False,
    seed: int | None = 0,
    threshold: float = 0.5,
    callback: Callable[[int, float, float], object] | None = None,
    verbose: bool = False,
    pause_gc: bool = True,
    progress: bool = False,
    live_plot: Any = False,
) -> History:
    """Train ``model`` (a callable mapping a point to a probability) with ``optimizer``.

    Each epoch walks over the data in mini-batches of ``batch_size`` points (``None``: the whole
    set; ``shuffle`` reorders them every epoch, drawing from ``random.Random(seed)``), minimising
    the mean of ``loss_fn(model(x), y)`` over the batch with one optimizer step per batch.
    ``callback(epoch, loss, accuracy)`` runs after every epoch (epochs count from 1) and
    ``verbose`` prints the same numbers. ``pause_gc`` runs the loop inside :func:`gc_paused`.
    ``progress`` shows a bar over the epochs (tqdm: a widget in Jupyter, text in a terminal);
    ``live_plot=True`` redraws the loss and accuracy curves as training goes (in Jupyter; a line of text
    per epoch elsewhere), or pass your own ``chainrule.viz.LivePlot``.
    """
    _check_data(xs, ys)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
    n = len(xs)
    if batch_size is None:
        batch_size = n
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
    order = list(range(n))
    rng = random.Random(seed)
    history = History()
    bar, live = _progress_and_plot(progress, live_plot, epochs)
    with gc_paused(pause_gc):
        for epoch in range(1, epochs + 1):
            if shuffle:
                rng.shuffle(order)
            total_loss, hits = 0.0, 0
            for start in range(0, n, batch_size):
                batch = order[start : start + batch_size]
                optimizer.zero_grad()
                losses = []
                for k in batch:
                    pred = model(xs[k])
                    hits += (pred.data >= threshold) == (ys[k] >= 0.5)
                    losses.append(loss_fn(pred, ys[k]))
                loss = mean(losses)
                loss.backward()
                optimizer.step()
                total_loss += loss.data * len(batch)
            history.loss.append(total_loss / n)
            history.accuracy.append(hits / n)
            if verbose:
                print(f"epoch {epoch:4d}  loss {total_loss / n:.4f}  accuracy {hits / n:.3f}")
            if callback is not None:
                callback(epoch, total_loss / n, hits / n)
            if bar is not None:
                bar.set_postfix(loss=f"{total_loss / n:.4f}", accuracy=f"{hits / n:.3f}", refresh=False)
                bar.update(1)
            if live is not None:
                live.update(epoch=epoch, loss=total_loss / n, accuracy=hits / n)
    if bar is not None:
        bar.close()
    if live is not None:
        live.close()
    return history


def _progress_and_plot(progress: bool, live_plot: Any, epochs: int) -> tuple[Any, Any]:
    """The optional tqdm bar and live plot of :func:`fit`.

    This package imports only the standard library; the bar and the plot come from ``chainrule.viz``
    (tqdm, matplotlib), imported here only when asked for.
    """
    bar = live = None
    if progress:
        bar = importlib.import_module("chainrule.viz._progress").progress_bar(epochs, "fit", unit="epoch")
    if live_plot is True:
        viz = importlib.import_module("chainrule.viz")
        live = viz.LivePlot(title="training", every=max(1, epochs // 50))  # about 50 redraws at most
    elif live_plot:
        live = live_plot  # anything with update(epoch=, loss=, accuracy=), e.g. a chainrule.viz.LivePlot
    return bar, live
