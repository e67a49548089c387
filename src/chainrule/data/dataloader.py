"""``DataLoader``: batches from a dataset, shuffled reproducibly, collated into Tensors (in process)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from chainrule.data.dataset import Subset, TensorDataset, resolve_generator
from chainrule.tensor import Tensor, _new

__all__ = ["DataLoader", "default_collate", "default_convert"]


def _stack_error(shapes: list[tuple[int, ...]]) -> RuntimeError:
    first = shapes[0]
    i = next(i for i, s in enumerate(shapes) if s != first)
    return RuntimeError(
        f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 and {list(shapes[i])} "
        f"at entry {i} (pass a collate_fn to batch samples of different shapes)"
    )


def _stack(arrays: list[Any]) -> Tensor:
    shapes = [a.shape for a in arrays]
    if any(s != shapes[0] for s in shapes):
        raise _stack_error(shapes)
    return _new(np.stack(arrays))


def default_collate(batch: list[Any]) -> Any:
    """Stack a list of samples: Tensors/arrays → one Tensor with a new first dim; numbers → a 1-d Tensor
    (floats float32, ints int64, bools bool); tuples/lists → a list collated position by position (namedtuples
    keep their type); dicts → a dict; strings are left as they come (a tuple inside tuple samples, as torch).

    >>> import numpy as np
    >>> x, y = default_collate([(np.zeros(2, np.float32), 1), (np.ones(2, np.float32), 0)])
    >>> x.shape, y.tolist()
    ((2, 2), [1, 0])
    """
    if not batch:
        raise ValueError("default_collate: got an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([t.data for t in batch])
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind not in "biufc":
            raise TypeError(f"default_collate: cannot batch arrays of dtype {elem.dtype}")
        return _stack([np.asarray(a) for a in batch])
    if isinstance(elem, np.generic):
        return _new(np.asarray(batch))
    if isinstance(elem, bool):
        return _new(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return _new(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, float):
        return _new(np.asarray(batch, dtype=np.float32))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, (tuple, list)):
        size = len(elem)
        if any(len(s) != size for s in batch):
            raise RuntimeError("each element in a batch of sequences should be of equal size")
        return [default_collate(s) for s in zip(*batch)]  # each ``s`` a tuple, as torch collates it
    raise TypeError(
        f"default_collate: batches must contain Tensors, arrays, numbers, strings, dicts or sequences; "
        f"found {type(elem).__name__}"
    )


def default_convert(sample: Any) -> Any:
    """Turn arrays inside one sample into Tensors (used when ``batch_size=None``)."""
    if isinstance(sample, np.ndarray) and sample.dtype.kind in "biufc":
        return _new(sample)
    if isinstance(sample, Mapping):
        return {k: default_convert(v) for k, v in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(v) for v in sample))
    if isinstance(sample, (tuple, list)):
        return [default_convert(v) for v in sample]
    return sample


def _to_device(obj: Any, device: Any) -> Any:
    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, Mapping):
        return {k: _to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_to_device(v, device) for v in obj))
    if isinstance(obj, (tuple, list)):
        return type(obj)(_to_device(v, device) for v in obj)
    return obj


def _tensor_source(dataset: Any) -> tuple[TensorDataset, np.ndarray | None] | None:
    """For a TensorDataset (possibly behind Subsets): the base dataset and the index map, else None."""
    index_map = None
    while isinstance(dataset, Subset) and type(dataset).__getitem__ is Subset.__getitem__:
        m = np.asarray(dataset.indices, dtype=np.int64)
        index_map = m if index_map is None else m[index_map]
        dataset = dataset.dataset
    if isinstance(dataset, TensorDataset) and type(dataset).__getitem__ is TensorDataset.__getitem__:
        if any(t.requires_grad for t in dataset.tensors):
            return None
        return dataset, index_map
    return None


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size``; every sample appears once per epoch.

    ``shuffle=True`` draws a new permutation each epoch from ``generator`` (a ``numpy.random.Generator`` or an
    int seed), from ``seed``, or else from chainrule's global generator (``chainrule.manual_seed``).
    ``drop_last`` drops a final incomplete batch. ``batch_sampler`` (lists of indices, one per batch) replaces
    ``batch_size``, ``shuffle``, ``sampler`` and ``drop_last``. ``device`` moves every batch there
    (``Tensor.to``).
    A ``TensorDataset`` (or ``Subset`` of one) with the default collate is batched with one fancy index per
    tensor instead of per-sample collation. Loading is in-process: ``num_workers``, ``pin_memory`` and the
    other worker options (``timeout``, ``worker_init_fn``, ``prefetch_factor``, ``persistent_workers``...)
    are accepted for source compatibility with torch, checked as torch checks them, and otherwise ignored.

    >>> import chainrule as cr
    >>> from chainrule.data import TensorDataset
    >>> loader = DataLoader(TensorDataset(cr.arange(10)), batch_size=4, shuffle=True, seed=0)
    >>> [len(xb) for (xb,) in loader], len(loader)
    ([4, 4, 2], 3)
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool = False,
        sampler: Iterable[int] | None = None,
        batch_sampler: Iterable[Sequence[int]] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Any = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
        seed: int | None = None,
        device: Any = None,
    ) -> None:
        if batch_size is not None and (isinstance(batch_size, bool) or int(batch_size) != batch_size
                                       or batch_size <= 0):  # fmt: skip
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size!r}"
            )
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                    "and drop_last"
                )
            batch_size = None  # as torch: the batches come from batch_sampler
        if num_workers < 0:
            raise ValueError(f"num_workers option should be non-negative, got {num_workers}")
        # The worker options are accepted for torch's signature and checked by its rules (loading stays
        # in-process, so worker_init_fn is never called: as in torch with num_workers=0).
        if timeout < 0:
            raise ValueError(f"timeout option should be non-negative, got {timeout}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified with num_workers > 0")
        if num_workers == 0 and persistent_workers:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"
            )
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.drop_last = bool(drop_last)
        self.device = device
        self._rng = (
            resolve_generator(generator, seed) if (generator is not None or seed is not None) else None
        )

    def _order(self) -> np.ndarray:
        if self.sampler is not None:
            return np.fromiter((int(i) for i in self.sampler), dtype=np.int64)
        n = len(self.dataset)
        if self.shuffle:
            rng = self._rng if self._rng is not None else resolve_generator()
            return rng.permutation(n).astype(np.int64)
        return np.arange(n, dtype=np.int64)

    def _num_samples(self) -> int:
        if self.sampler is not None and hasattr(self.sampler, "__len__"):
            return len(self.sampler)  # type: ignore[arg-type]
        if self.sampler is not None:
            return len(self._order())
        return len(self.dataset)

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)  # type: ignore[arg-type]
        n = self._num_samples()
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _index_batches(self) -> Iterator[np.ndarray]:
        """The indices of each batch: from ``batch_sampler``, or ``batch_size`` at a time from the order."""
        if self.batch_sampler is not None:
            for indices in self.batch_sampler:
                yield np.fromiter((int(i) for i in indices), dtype=np.int64)
            return
        order = self._order()
        bs = self.batch_size
        stop = (len(order) // bs) * bs if self.drop_last else len(order)  # type: ignore[operator]
        for start in range(0, stop, bs):  # type: ignore[arg-type]
            yield order[start : start + bs]  # type: ignore[operator]

    def __iter__(self) -> Iterator[Any]:
        if self.batch_size is None and self.batch_sampler is None:
            for i in self._order().tolist():
                sample = default_convert(self.dataset[i])
                yield sample if self.device is None else _to_device(sample, self.device)
            return
        source = _tensor_source(self.dataset) if self.collate_fn is None else None
        for idx in self._index_batches():
            if source is not None:
                base, index_map = source
                rows = idx if index_map is None else index_map[idx]
                batch: Any = [_new(t.data[rows]) for t in base.tensors]
            else:
                samples = [self.dataset[i] for i in idx.tolist()]
                batch = (self.collate_fn or default_collate)(samples)
            yield batch if self.device is None else _to_device(batch, self.device)

    def __repr__(self) -> str:
        return (
            f"DataLoader(dataset={type(self.dataset).__name__}(len={len(self.dataset)}), "
            f"batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last})"
        )
