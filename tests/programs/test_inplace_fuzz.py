"""Random sequences of in-place and out-of-place steps on a tensor computed from a leaf, then backward, on
torch and chainrule. chainrule's values and gradients are the exact ones (the program with every in-place step
out of place), even where torch refuses (promises.md section 2); where chainrule refuses, it is with torch's
"modified by an inplace operation" RuntimeError (torch's refusals and the documented stricter rule)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("torch")

from corpus_harness import Lib, Raised, assert_same, libraries, outcome, plain  # noqa: E402


def _set(a, key, value):  # noqa: ANN001, ANN202
    a[key] = value


T = [0.5, -1.0, 2.0]
STEPS = {
    "iadd": (lambda lib, a: a.__iadd__(1.5), lambda lib, a: a + 1.5),
    "isub_t": (
        lambda lib, a: a.__isub__(lib.arr([0.5, -1.0, 2.0])),
        lambda lib, a: a - lib.arr([0.5, -1.0, 2.0]),
    ),
    "imul": (lambda lib, a: a.__imul__(-2.0), lambda lib, a: a * -2.0),
    "imul_t": (
        lambda lib, a: a.__imul__(lib.arr([1.0, 2.0, 3.0])),
        lambda lib, a: a * lib.arr([1.0, 2.0, 3.0]),
    ),
    "idiv": (lambda lib, a: a.__itruediv__(4.0), lambda lib, a: a / 4.0),
    "add_": (lambda lib, a: a.add_(lib.arr([1.0, 1.0, 1.0]), alpha=2.0), lambda lib, a: a + 2.0),
    "mul_": (lambda lib, a: a.mul_(0.5), lambda lib, a: a * 0.5),
    "clamp_": (lambda lib, a: a.clamp_(-1.0, 3.0), lambda lib, a: a.clamp(-1.0, 3.0)),
    "setitem": (
        lambda lib, a: _set(a, 1, 7.0),
        lambda lib, a: lib.where(lib.tensor([False, True, False]), 7.0, a),
    ),
    "setitem_slice": (
        lambda lib, a: _set(a, slice(0, 2), lib.arr([2.0, -2.0])),
        lambda lib, a: lib.cat([lib.arr([2.0, -2.0]), a[2:]]),
    ),
}
OUT_OF_PLACE = {
    "exp": lambda lib, a: (a * 0.1).exp(),  # scaled: repeated exps stay finite
    "square": lambda lib, a: a * a,
    "sin": lambda lib, a: a.sin(),
    "sigmoid": lambda lib, a: a.sigmoid(),
    "times_two": lambda lib, a: a * 2,
    "plus_leaf": lambda lib, a: a + lib.arr([1.0, 2.0, 3.0]),
}


def run(lib: Lib, start: str, steps: list[str], functional: bool = False) -> dict:
    """The program; ``functional=True`` runs each in-place step as its out-of-place twin (the exact one)."""
    w = lib.arr([0.3, -0.7, 1.1], requires_grad=True)
    a = {"clone": lambda: w.clone(), "times_one": lambda: w * 1.0, "leaf": lambda: w}[start]()
    kept = []
    for name in steps:
        if name in OUT_OF_PLACE:
            kept.append(a)  # an earlier value stays part of the loss
            a = OUT_OF_PLACE[name](lib, a)
            continue
        inplace, twin = STEPS[name]
        if functional:
            a = twin(lib, a)
            continue
        result = outcome(lambda inplace=inplace, a=a: inplace(lib, a))
        if isinstance(result, Raised):
            return {"raised_at": (name, result)}
    loss = (a * lib.arr([1.0, -2.0, 3.0])).sum() + sum((k**2).sum() for k in kept)
    back = outcome(lambda: loss.backward())
    return {"loss": loss, "a": a, "backward": back, "grad": w.grad}


@settings(max_examples=120, deadline=None)
@given(
    st.sampled_from(["clone", "times_one", "leaf"]),
    st.lists(st.sampled_from(sorted(STEPS) + sorted(OUT_OF_PLACE)), max_size=5),
)
def test_random_inplace_sequences_match_torch(start: str, steps: list[str]) -> None:
    torch_lib, cr_lib = libraries()
    torch_inplace, actual = plain(run(torch_lib, start, steps)), plain(run(cr_lib, start, steps))
    where = f"{start} then {steps}"
    if "raised_at" in torch_inplace or "raised_at" in actual:  # a leaf changed in place: refused by both
        assert_same(torch_inplace, actual, where)
        return
    if isinstance(actual["backward"], Raised):  # refused where torch refuses, or by the stricter rule
        assert actual["backward"].kind == "RuntimeError", where
        assert "modified by an inplace operation" in actual["backward"].message, where
        return
    exact = plain(run(torch_lib, start, steps, functional=True))
    if torch_inplace["backward"] is None:
        assert_same(exact, torch_inplace, f"(the functional twin itself) {where}")
    assert_same(exact, actual, where)  # never a different number, even where torch refuses
