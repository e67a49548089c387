"""A small training loop for scalar-engine classifiers.

>>> from chainrule.scalar import datasets, nn, optim
>>> data = datasets.simple(20, seed=0)
>>> net = nn.MLPBinaryClassifyNetFactory(nn.MLPConfig(2, 1, 4, 1, nn.ActivationType.TANH, seed=0))
>>> history = fit(net, data.xs, data.ys, optim.Adam(net.parameters(), lr=0.05), epochs=3)
>>> len(history.loss), len(history.accuracy)
(3, 3)
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from chainrule.scalar.losses import binary_cross_entropy, mean
from chainrule.scalar.optim import Optimizer
from chainrule.scalar.scalar import Scalar

__all__ = ["History", "accuracy", "fit", "predict"]

Model = Callable[[Sequence[float]], Scalar]
LossFn = Callable[[Scalar, float], Scalar]


@dataclass
class History:
    """Per-epoch mean training loss and accuracy (of the predictions made during the epoch)."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)


def predict(model: Model, xs: Sequence[Sequence[float]]) -> list[float]:
    """The model's output (a probability) for each point, as floats."""
    return [model(x).data for x in xs]


def accuracy(model: Model, xs: Sequence[Sequence[float]], ys: Sequence[float], threshold: float = 0.5) -> float:
    """Fraction of points whose prediction ``>= threshold`` matches a label of 1 (else 0)."""
    if len(xs) != len(ys) or not xs:
        raise ValueError(f"need equally many points and labels, at least one; got {len(xs)} and {len(ys)}")
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
) -> History:
    """Train ``model`` (a callable mapping a point to a probability) with ``optimizer``.

    Each epoch walks over the data in mini-batches of ``batch_size`` points (``None``: the whole
    set), minimising the mean of ``loss_fn(model(x), y)`` over the batch with one optimizer step
    per batch. ``callback(epoch, loss, accuracy)`` runs after every epoch (epochs count from 1);
    ``verbose`` prints the same numbers. Returns the :class:`History`.
    """
    n = len(xs)
    if n == 0 or len(ys) != n:
        raise ValueError(f"need equally many points and labels, at least one; got {n} and {len(ys)}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
    if batch_size is None:
        batch_size = n
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
    order = list(range(n))
    rng = random.Random(seed)
    history = History()
    for epoch in range(1, epochs + 1):
        if shuffle:
            rng.shuffle(order)
        total_loss = 0.0
        hits = 0
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
        epoch_loss, epoch_accuracy = total_loss / n, hits / n
        history.loss.append(epoch_loss)
        history.accuracy.append(epoch_accuracy)
        if verbose:
            print(f"epoch {epoch:4d}  loss {epoch_loss:.4f}  accuracy {epoch_accuracy:.3f}")
        if callback is not None:
            callback(epoch, epoch_loss, epoch_accuracy)
    return history
