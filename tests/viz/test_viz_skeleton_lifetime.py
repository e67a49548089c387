"""What backward() keeps for drawing: the structure only. Intermediate tensors and the Functions (with
any arrays they saved) are still freed at once by reference counting, and no reference cycle appears."""

from __future__ import annotations

import gc
import weakref

import numpy as np

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import viz


def _cycles_found(run) -> list[object]:
    """chainrule objects the cyclic collector had to free while ``run()`` ran (should be none)."""
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    gc.garbage.clear()
    try:
        run()
        gc.collect()
        return [o for o in gc.garbage if type(o).__module__.startswith("chainrule")]
    finally:
        gc.garbage.clear()
        gc.set_debug(0)
        if was:
            gc.enable()


def test_intermediates_and_functions_are_freed_by_backward_but_the_structure_stays():
    gc.disable()
    try:
        x = cr.randn(4, 6)
        w = cr.randn(6, 6, requires_grad=True)
        h = F.layer_norm(x @ w, (6,))  # layer_norm's Function keeps arrays of its own (mean, rstd)
        fn, hidden = weakref.ref(h.creator), weakref.ref(h)
        loss = (h.tanh() ** 2).sum()
        del h
        loss.backward()
        assert fn() is None and hidden() is None  # freed at once, no collector needed
        boxes = viz.draw(loss).picture.boxes
        assert [b.lines[0] for b in boxes if b.is_op] == ["MatMul", "Normalize", "Tanh", "PowScalar", "Sum"]
        assert sum("value freed" in b.lines for b in boxes) >= 3
    finally:
        gc.enable()


def test_leaves_are_held_like_torchs_accumulate_grad():
    w = cr.tensor([1.0, 2.0], requires_grad=True, name="w")
    loss = (w.exp() * 3).sum()
    loss.backward()
    expected = w.grad.data.copy()
    del w
    lines = {b.lines[0]: b.lines for b in viz.draw(loss).picture.boxes}
    assert lines["w"][2] == "value [1, 2]"
    assert lines["w"][3] == "grad [" + ", ".join(f"{v:.4g}" for v in expected) + "]"
    np.testing.assert_allclose(expected, 3 * np.exp([1.0, 2.0]), rtol=1e-6)


def test_no_reference_cycles_from_explain_backward_skeletons_or_drawing():
    def program() -> None:
        x = cr.randn(3, 4, requires_grad=True)
        a, b = cr.split(x, 2, dim=1)
        y = ((a * b).sigmoid().sum() + x.exp().mean()) * 2.0
        cr.explain(y, numerical_check=True)._repr_html_()
        viz.draw(y).svg()
        y.backward()
        viz.to_dot(y)
        viz.draw(y)

    program()  # the first drawing imports matplotlib, whose import machinery keeps frames in cycles
    assert _cycles_found(program) == []


def test_a_training_loop_keeps_only_the_last_graph():
    w = cr.randn(8, 8, requires_grad=True)
    refs = []
    for _ in range(5):
        loss = (cr.randn(2, 8) @ w).tanh().sum()
        loss.backward()
        refs.append(weakref.ref(loss.creator))
        w.grad = None
    assert [r() is None for r in refs] == [True] * 4 + [False]
