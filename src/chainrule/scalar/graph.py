"""Graph traversal for the scalar engine: topological order and reverse-mode backpropagation.

Both functions are iterative (an explicit stack, no recursion), so a chain of a million nodes
sorts and backpropagates without touching Python's recursion limit, in time linear in the
number of nodes and edges.

A node is anything with the attributes the :class:`~chainrule.scalar.Scalar` class defines:
``_parents`` (a tuple of the parents that require grad, ``()`` for a leaf), ``_local_grads``
(a tuple of floats, ``d node / d parent`` for each parent, computed during the forward pass),
``_requires_grad`` and ``derivative``.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chainrule.scalar.scalar import Scalar

__all__ = ["backpropagate", "topological_sort"]

# Pushed on the DFS stack just above a node whose parents are being explored: popping it means
# "all of the node's parents are finished, so finish the node" (it is the next item down).
_FINISH = object()


def topological_sort(variable: Scalar) -> list[Scalar]:
    """Nodes on a path from a leaf that requires grad to ``variable``, output first.

    Every node comes before all of its parents, so walking the list front to back visits each
    node only after every node that consumes it. The order is that of a depth-first search
    visiting parents left to right (reversed post-order), which is the order a recursive
    implementation would give. Constants (Scalars that do not require grad) are never part of
    the graph, and a ``variable`` that does not require grad gives ``[]``.

    >>> from chainrule.scalar import Scalar
    >>> x = Scalar(2.0, name="x").requires_grad_()
    >>> y = x * 3.0 + x
    >>> order = topological_sort(y)
    >>> order[0] is y, order[-1] is x, len(order)
    (True, True, 3)
    """
    if not variable._requires_grad:
        return []
    finished: list[Scalar] = []
    visited: set[Scalar] = set()
    stack: list[object] = [variable]
    push, pop, extend = stack.append, stack.pop, stack.extend
    mark, emit = visited.add, finished.append
    finish = _FINISH
    while stack:
        node = pop()
        if node is finish:
            emit(pop())
            continue
        if node in visited:
            continue
        mark(node)
        parents = node._parents  # type: ignore[attr-defined]
        if parents:
            push(node)
            push(finish)
            # Reversed, so that the first parent is popped (explored) first.
            extend(parents[::-1])
        else:
            emit(node)
    finished.reverse()
    return finished


def _interior_order(variable: Scalar) -> list[Scalar]:
    """:func:`topological_sort` without the leaves: the nodes that have parents, output first."""
    finished: list[Scalar] = []
    visited: set[Scalar] = set()
    stack: list[object] = [variable] if variable._parents else []
    push, pop = stack.append, stack.pop
    mark, emit = visited.add, finished.append
    finish = _FINISH
    while stack:
        node = pop()
        if node is finish:
            emit(pop())
            continue
        if node in visited:
            continue
        mark(node)
        push(node)
        push(finish)
        parents = node._parents  # type: ignore[attr-defined]
        if len(parents) == 1:
            parent = parents[0]
            if parent._parents:
                push(parent)
        else:
            for parent in parents[::-1]:
                if parent._parents:
                    push(parent)
    finished.reverse()
    return finished


def backpropagate(variable: Scalar, d_output: float = 1.0) -> None:
    """Reverse-mode autodiff: add ``d_output * d variable / d leaf`` to every leaf's ``derivative``.

    Only leaves (Scalars created directly and switched on with ``requires_grad_()``) receive a
    derivative; intermediate nodes keep ``derivative = None``, like non-leaf tensors in PyTorch.
    Leaves accumulate: two calls add up, and ``zero_grad()`` resets them to ``None``. A node used
    several times (``b = a + a``) receives the sum of the contributions of every use.

    The walk is :func:`topological_sort` restricted to interior nodes: each one's gradient is
    complete when it is reached (all its consumers come earlier), is pushed to its parents, and
    is dropped; what is left in the table at the end are the leaves' gradients.
    """
    if not variable._requires_grad:
        raise RuntimeError(
            f"Scalar {variable.name!r} does not require grad and has no path to a Scalar that does; "
            "call requires_grad_() on a leaf before building the expression"
        )
    if not isinstance(d_output, numbers.Real):
        d_output = getattr(d_output, "data", d_output)  # a Scalar seed gradient gives its value
        if not isinstance(d_output, numbers.Real):
            raise TypeError(f"d_output must be a real number, got {type(d_output).__name__}")
    grads: dict[Scalar, float] = {variable: float(d_output)}
    get, pop = grads.get, grads.pop
    for node in _interior_order(variable):
        d = pop(node)
        parents = node._parents
        n = len(parents)
        # Unrolled for the one- and two-operand nodes that make up nearly every graph.
        if n == 1:
            parent = parents[0]
            grads[parent] = get(parent, 0.0) + node._local_grads[0] * d
        elif n == 2:
            first, second = parents
            local_first, local_second = node._local_grads
            grads[first] = get(first, 0.0) + local_first * d
            grads[second] = get(second, 0.0) + local_second * d
        else:
            for parent, local in zip(parents, node._local_grads):
                grads[parent] = get(parent, 0.0) + local * d
    for leaf, d in grads.items():
        current = leaf.derivative
        leaf.derivative = d if current is None else current + d
