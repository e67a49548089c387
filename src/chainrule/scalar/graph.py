"""Graph traversal for the scalar engine: the topological order that backpropagation walks.

:func:`topological_sort` is iterative (an explicit stack, no recursion), so a chain of a million
nodes sorts without touching Python's recursion limit, in time linear in the number of nodes
and edges. :meth:`Scalar.backward <chainrule.scalar.Scalar.backward>` is this order and one loop.

A node is anything with the attributes the :class:`~chainrule.scalar.Scalar` class defines:
``_parents`` (a tuple of the parents that require grad, ``()`` for a leaf) and ``_requires_grad``.
"""

from __future__ import annotations

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
    finished: list[Scalar] = []  # post-order: each node after all of its parents
    visited: set[Scalar] = set()
    stack: list[object] = [variable]
    while stack:
        node = stack.pop()
        if node is _FINISH:
            finished.append(stack.pop())
        elif node not in visited:
            visited.add(node)
            parents = node._parents  # type: ignore[attr-defined]
            if parents:
                stack.append(node)
                stack.append(_FINISH)
                stack.extend(parents[::-1])  # reversed, so that the first parent is explored first
            else:  # a leaf is finished as soon as it is reached
                finished.append(node)
    finished.reverse()
    return finished


def backpropagate(variable: Scalar, d_output: float = 1.0) -> None:
    """Same as ``variable.backward(d_output)``: see :meth:`chainrule.scalar.Scalar.backward`."""
    variable.backward(d_output)
