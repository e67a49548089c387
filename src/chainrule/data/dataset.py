"""Datasets (torch names): ``Dataset``, ``TensorDataset``, ``Subset``, ``ConcatDataset``, ``random_split``."""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

import numpy as np

from chainrule import random as _random
from chainrule.tensor import Tensor, _new

__all__ = ["ConcatDataset", "Dataset", "Subset", "TensorDataset", "random_split"]


class Dataset:
    """A map-style dataset: subclasses implement ``__getitem__(index)`` and ``__len__()``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are ``(t[i] for t in tensors)``; every tensor must have the same first dimension.

    >>> import chainrule as cr
    >>> ds = TensorDataset(cr.zeros(4, 2), cr.arange(4))
    >>> len(ds), ds[1][1].item()
    (4, 1)
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        converted = []
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                if not isinstance(t, np.ndarray):
                    raise TypeError(
                        f"TensorDataset: argument {i} is a {type(t).__name__}, expected a Tensor or array"
                    )
                t = Tensor(t)
            if t.ndim == 0:
                raise ValueError(
                    f"TensorDataset: argument {i} is 0-dimensional; it needs a first (sample) dimension"
                )
            converted.append(t)
        sizes = [t.shape[0] for t in converted]
        if any(s != sizes[0] for s in sizes):
            raise ValueError(f"Size mismatch between tensors: first dimensions are {sizes}")
        self.tensors: tuple[Tensor, ...] = tuple(converted)

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] if t.requires_grad else _new(t.data[index]) for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = list(indices) if not isinstance(indices, np.ndarray) else indices.tolist()

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets one after the other."""

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset")
        self.cumulative_sizes = list(accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        if index < 0:
            if -index > n:
                raise IndexError(f"index {index} is out of range for a dataset of length {n}")
            index += n
        if index >= n:
            raise IndexError(f"index {index} is out of range for a dataset of length {n}")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - start]


def resolve_generator(generator: Any = None, seed: int | None = None) -> np.random.Generator:
    """A NumPy generator from ``generator`` (a Generator or an int seed) or ``seed``, else the global one."""
    if generator is not None and seed is not None:
        raise ValueError("give either generator or seed, not both")
    if isinstance(generator, np.random.Generator):
        return generator
    if generator is not None:
        if isinstance(generator, bool) or not isinstance(generator, (int, np.integer)):
            raise TypeError(
                f"generator must be a numpy.random.Generator or an int seed, got {type(generator).__name__}"
            )
        seed = int(generator)
    if seed is not None:
        return np.random.default_rng(seed)
    return _random.generator()


def random_split(
    dataset: Any, lengths: Sequence[float], generator: Any = None, *, seed: int | None = None
) -> list[Subset]:
    """Split into non-overlapping random ``Subset``s of the given lengths (or fractions summing to 1).

    >>> parts = random_split(range(10), [0.8, 0.2], seed=0)
    >>> [len(p) for p in parts], sorted(list(parts[0]) + list(parts[1])) == list(range(10))
    ([8, 2], True)
    """
    n = len(dataset)
    lengths = list(lengths)
    if (
        math.isclose(sum(lengths), 1)
        and sum(lengths) <= 1
        and not all(isinstance(v, (int, np.integer)) for v in lengths)
    ):
        sizes = []
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1: {frac}")
            sizes.append(math.floor(n * frac))
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(
                    f"Length of split at index {i} is 0. This might result in an empty dataset.", stacklevel=2
                )
        lengths = sizes
    if any(int(v) != v or v < 0 for v in lengths):
        raise ValueError(
            f"random_split: lengths must be non-negative integers or fractions summing to 1, got {lengths}"
        )
    lengths = [int(v) for v in lengths]
    if sum(lengths) != n:
        raise ValueError(
            f"Sum of input lengths ({sum(lengths)}) does not equal the length of the input dataset ({n})!"
        )
    perm = resolve_generator(generator, seed).permutation(n).tolist()
    return [Subset(dataset, perm[end - size : end]) for end, size in zip(accumulate(lengths), lengths)]
