"""What a Function keeps when ``backward()`` frees its graph: the graph's shape, without its arrays.

``backward()`` (without ``retain_graph``) drops each Function's ``inputs`` so the intermediate arrays can be
freed, as torch frees saved tensors. To still draw the graph afterwards (the micrograd lecture's flow:
backward, then look at the gradients), the Function first leaves a :class:`Skeleton`: its op name and, per
input, where the input came from. Like torch's ``grad_fn.next_functions`` (whose ``AccumulateGrad`` nodes
hold the leaves), a skeleton holds the leaves that require grad; every other tensor is held only weakly
(its value shows while the user keeps it), with its shape, dtype and name written down.

No arrays and no Functions are kept (a Function may hold saved arrays of its own), and a skeleton refers
only to skeletons of older Functions and to tensors without a creator: no reference cycles.

This runs once per op in every backward pass, so its records are plain tuples (laid out as
:class:`Source`).
"""

from __future__ import annotations

import weakref
from typing import Any, NamedTuple

__all__ = ["SHOWN_CONSTS", "Skeleton", "Source", "free_inputs"]

#: The constants a picture shows on an op's box (``MulScalar c=2``); other attributes may be arrays.
SHOWN_CONSTS = ("c", "slope", "alpha", "beta")

_ref = weakref.ref


class Skeleton:
    """A freed Function's op name, shown constants and its inputs' origins.

    Created empty when a consumer of one of the Function's outputs is freed, filled in when the Function
    itself is freed (``sources`` None until then). Each entry of ``sources`` is either a leaf Tensor that
    requires grad (held) or a tuple laid out as :class:`Source`.
    """

    __slots__ = ("consts", "kind", "sources")

    def __init__(self) -> None:
        self.kind = "?"
        self.sources: tuple[Any, ...] | None = None
        self.consts: dict[str, Any] | None = None  # only when there are some: most ops have none


class Source(NamedTuple):
    """An input that is not a held leaf: a weak reference plus what the tensor looked like.

    ``skeleton`` is its creator's skeleton (None for a constant), ``index`` which output of the creator
    the tensor is.
    """

    ref: Any
    skeleton: Skeleton | None
    index: int
    shape: tuple[int, ...]
    dtype: Any
    name: str | None

    def tensor(self) -> Any:
        """The tensor itself, or None once it has been freed."""
        return self.ref()


def free_inputs(f: Any) -> None:
    """Drop ``f.inputs`` after its backward, keeping the skeleton of where they came from."""
    f._skeleton = skeleton = f._skeleton or Skeleton()
    skeleton.kind = f.name
    skeleton.sources = tuple(map(_source, f.inputs))
    shown = _shown_consts(f)
    if shown:
        skeleton.consts = {n: getattr(f, n) for n in shown if isinstance(getattr(f, n, None), (int, float))}
    f.inputs = None


def _source(x: Any) -> Any:
    """What stays of input ``x``: the leaf itself if it requires grad, else a :class:`Source` tuple."""
    creator = x.creator
    if creator is None:
        if x._requires_grad:
            return x
        skeleton, index = None, 0
    else:
        skeleton = creator._skeleton = creator._skeleton or Skeleton()
        refs = creator._output_refs  # one weak reference, or a tuple of them for several outputs
        index = next((k for k, r in enumerate(refs) if r() is x), 0) if refs.__class__ is tuple else 0
    data = x._data
    return (_ref(x), skeleton, index, data.shape, data.dtype, x.name)


def _shown_consts(f: Any) -> tuple[str, ...]:
    """Which of SHOWN_CONSTS ops of ``f``'s type set (looked up once per type: they are set in __init__)."""
    shown = _SHOWN_BY_TYPE.get(type(f))
    if shown is None:
        shown = _SHOWN_BY_TYPE[type(f)] = tuple(n for n in SHOWN_CONSTS if hasattr(f, n))
    return shown


_SHOWN_BY_TYPE: dict[type, tuple[str, ...]] = {}
