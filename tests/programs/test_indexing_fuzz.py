"""Random indexing keys (ints, 0-d tensors, slices, lists, index tensors, masks, None, Ellipsis), read and
written on torch and chainrule: same values, same shapes, same gradients, same exception types."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("torch")

from corpus_harness import Lib, assert_same, libraries, outcome, plain  # noqa: E402

SHAPE = (2, 3, 4)


@st.composite
def key_specs(draw: st.DrawFn) -> list[tuple]:
    """A key as a list of ``(kind, payload)`` items, turned into each library's objects by :func:`build`."""
    items: list[tuple] = []
    dims = list(SHAPE)
    used_ellipsis = False
    while dims and len(items) < 4:
        kind = draw(st.sampled_from(["int", "int0d", "slice", "list", "tensor", "mask", "none", "ellipsis"]))
        if kind == "none":
            items.append(("none", None))
            continue
        if kind == "ellipsis":
            if used_ellipsis:
                continue
            used_ellipsis = True
            items.append(("ellipsis", None))
            dims = dims[-draw(st.integers(0, len(dims))) :] if dims else dims
            continue
        n = dims.pop(0)
        if kind in ("int", "int0d"):
            items.append((kind, draw(st.integers(-n, n - 1))))
        elif kind == "slice":
            start = draw(st.none() | st.integers(-n, n))
            stop = draw(st.none() | st.integers(-n, n))
            items.append(("slice", (start, stop, draw(st.none() | st.integers(1, 2)))))
        elif kind == "mask":
            items.append(("mask", draw(st.lists(st.booleans(), min_size=n, max_size=n))))
        else:
            items.append((kind, draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=3))))
    return items


def build(lib: Lib, spec: list[tuple]) -> tuple:
    key = []
    for kind, payload in spec:
        if kind == "int":
            key.append(payload)
        elif kind == "int0d":
            key.append(lib.tensor(payload))
        elif kind == "slice":
            key.append(slice(*payload))
        elif kind == "list":
            key.append(list(payload))
        elif kind == "tensor":
            key.append(lib.tensor(payload))
        elif kind == "mask":
            key.append(lib.tensor(payload))
        elif kind == "none":
            key.append(None)
        else:
            key.append(Ellipsis)
    return tuple(key)


def read_and_write(lib: Lib, spec: list[tuple]) -> dict:
    data = np.arange(24.0).reshape(SHAPE)
    x = lib.arr(data, requires_grad=True)
    y = outcome(lambda: x[build(lib, spec)])
    if not isinstance(y, lib.Tensor):
        return {"read": y}
    weights = lib.arr(np.arange(1.0, y.numel() + 1.0).reshape(tuple(y.shape)))
    (y * weights).sum().backward()
    target = lib.arr(data.copy())
    written = outcome(lambda: target.__setitem__(build(lib, spec), -1.0))
    return {"read": y, "grad": x.grad, "written": written, "target": target}


@settings(max_examples=80, deadline=None)
@given(key_specs())
def test_random_keys_match_torch(spec: list[tuple]) -> None:
    torch_lib, cr_lib = libraries()
    expected, actual = plain(read_and_write(torch_lib, spec)), plain(read_and_write(cr_lib, spec))
    assert_same(expected, actual, f"x[{spec}]")
