"""topological_sort and backpropagate: order, reuse, accumulation, depth, and no reference cycles."""

import gc
import math
import sys

import pytest

from chainrule.scalar import Scalar, backpropagate, topological_sort
from chainrule.scalar.train import gc_paused


def leaf(value: float, name: str | None = None) -> Scalar:
    return Scalar(value, name=name).requires_grad_()


def assert_topological(order: list[Scalar]) -> None:
    position = {node: k for k, node in enumerate(order)}
    assert len(position) == len(order), "a node is listed twice"
    for node in order:
        for parent in node.parents:
            assert position[parent] > position[node], "a parent comes before its consumer"


def test_order_is_topological_and_leaves_out_constants():
    a, b, c = leaf(1.0, "a"), leaf(2.0, "b"), Scalar(3.0, name="c")
    d = a * b + c
    e = d * a - (b * c).exp()
    order = topological_sort(e)
    assert order[0] is e
    assert_topological(order)
    assert c not in order
    assert {a, b} <= set(order)
    # Only nodes on a path from a leaf that requires grad: constants and their results stay out.
    assert all(node.requires_grad for node in order)


def test_order_is_depth_first_in_operand_order():
    a, b = leaf(1.0, "a"), leaf(2.0, "b")
    left, right = a.exp(), b.exp()
    out = left + right
    assert topological_sort(out) == [out, right, b, left, a]


def test_order_of_constant_and_leaf():
    assert topological_sort(Scalar(1.0) + 2.0) == []
    x = leaf(1.0)
    assert topological_sort(x) == [x]


def test_leaf_backward_on_itself():
    x = leaf(4.0)
    x.backward(2.0)
    assert x.derivative == 2.0


def test_reused_nodes_sum_their_contributions():
    a = leaf(1.5)
    b = a + a
    c = b + b
    c.backward()
    assert a.derivative == 4.0

    x = leaf(0.7)
    shared = x.sin()
    y = shared * shared + shared.exp() * x
    y.backward()
    expected = (
        2 * math.sin(0.7) * math.cos(0.7)
        + math.exp(math.sin(0.7)) * math.cos(0.7) * 0.7
        + math.exp(math.sin(0.7))
    )
    assert math.isclose(x.derivative, expected, rel_tol=1e-12)


def test_two_backward_calls_accumulate_in_leaves_only():
    a, b = leaf(2.0), leaf(3.0)
    hidden = a * b
    out = hidden + a
    out.backward()
    out.backward(d_output=0.5)
    assert a.derivative == (3.0 + 1.0) * 1.5
    assert b.derivative == 2.0 * 1.5
    assert hidden.derivative is None and out.derivative is None


def test_backpropagate_function_scales_by_d_output():
    x = leaf(3.0)
    y = x * x
    backpropagate(y, 2.0)
    assert x.derivative == 12.0


def test_d_output_must_be_a_number():
    x = leaf(3.0)
    with pytest.raises(TypeError, match="str"):
        (x * x).backward("1.0")
    (x * x).backward(Scalar(0.5))
    assert x.derivative == 3.0


def test_wide_graph():
    x = leaf(0.5)
    terms = [x * float(k) for k in range(20_000)]
    total = sum(terms)
    total.backward()
    assert x.derivative == sum(float(k) for k in range(20_000))


def test_million_deep_chain_sorts_and_backpropagates_without_recursion():
    depth = 1_000_000
    factor = 1.0 + 1e-6
    limit = sys.getrecursionlimit()
    # The chain has no cycles; pausing the cyclic collector only stops it rescanning the live
    # chain every 700 allocations (which would double the run time, not change the result).
    with gc_paused():
        x = leaf(1.0)
        y = x
        for _ in range(depth):
            y = y * factor
        order = topological_sort(y)
        assert len(order) == depth + 1 and order[0] is y and order[-1] is x
        del order
        y.backward()
        assert math.isclose(x.derivative, factor**depth, rel_tol=1e-9)
        del y  # a million-long chain of tuples is freed without overflowing the C stack
    assert sys.getrecursionlimit() == limit


@pytest.mark.parametrize("size", [50, 200])
def test_graphs_have_no_reference_cycles(size):
    """Everything is freed by reference counting: the cyclic collector finds nothing."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        params = [leaf(0.01 * k) for k in range(size)]
        for _ in range(3):
            out = sum((p * p).tanh() * p.exp() + p.sigmoid() / (1 + p.relu()) for p in params)
            out.backward()
            del out
        assert gc.collect() == 0
    finally:
        if was_enabled:
            gc.enable()
