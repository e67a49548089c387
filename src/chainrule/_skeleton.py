"""What a Function keeps when ``backward()`` frees its graph: the graph's shape, without its arrays.

``backward()`` (without ``retain_graph``) drops each Function's ``inputs`` so the intermediate arrays can be
freed, as torch frees saved tensors. To still draw the graph afterwards (the micrograd lecture's flow:
backward, then look at the gradients), the Function first leaves a :class:`Skeleton`: its op name and, per
input, a :class:`Source` saying where the input came from. Like torch's ``grad_fn.next_functions`` (whose
``AccumulateGrad`` nodes hold the leaves), a Source holds a leaf that requires grad; every other tensor is
held only weakly (its value shows while the user keeps it), with its shape, dtype and name written down.

No arrays and no Functions are kept (a Function may hold saved arrays of its own), and a skeleton refers
only to skeletons of older Functions and to tensors without a creator: no reference cycles.
"""

from __future__ import annotations

import weakref
from typing import Any

__all__ = ["Skeleton", "Source", "free_inputs", "skeleton_of"]


#: The constants a picture shows on an op's box (``MulScalar c=2``); other attributes may be arrays.
SHOWN_CONSTS = ("c", "slope", "alpha", "beta")


class Skeleton:
    """A freed Function's op name, shown constants and its inputs' origins (None until it is freed).

    Each entry of ``sources`` is either a leaf Tensor that requires grad (held) or a :class:`Source`.
    """

    __slots__ = ("consts", "kind", "sources")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.sources: list[Any] | None = None
        self.consts: dict[str, Any] = {}


class Source:
    """An input that is not a held leaf: a weak reference plus what the tensor looked like.

    ``skeleton`` is its creator's skeleton (None for a constant), ``index`` which output of the creator
    the tensor is.
    """

    __slots__ = ("dtype", "index", "name", "ref", "shape", "skeleton")

    def __init__(self, x: Any, creator: Any) -> None:
        self.ref = weakref.ref(x)
        self.skeleton = None if creator is None else skeleton_of(creator)
        refs = creator._output_refs if creator is not None else ()
        self.index = 0 if len(refs) < 2 else next(k for k, r in enumerate(refs) if r() is x)
        data = x.data
        self.shape, self.dtype, self.name = data.shape, data.dtype, x.name

    def tensor(self) -> Any:
        """The tensor itself, or None once it has been freed."""
        return self.ref()


def skeleton_of(f: Any) -> Skeleton:
    """``f``'s skeleton, created empty the first time (filled in when ``f`` itself is freed)."""
    sk = f.__dict__.get("_skeleton")
    if sk is None:
        sk = f._skeleton = Skeleton(f.name)
    return sk


def free_inputs(f: Any) -> None:
    """Drop ``f.inputs`` after its backward, keeping the skeleton of where they came from."""
    sources = []
    for x in f.inputs:
        creator = x.creator
        sources.append(x if creator is None and x.requires_grad else Source(x, creator))
    skeleton = skeleton_of(f)
    skeleton.sources = sources
    attrs = f.__dict__
    for name in SHOWN_CONSTS:
        value = attrs.get(name)
        if isinstance(value, (int, float)):
            skeleton.consts[name] = value
    f.inputs = None
