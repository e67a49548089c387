"""0-d tensors of random values and dtypes used as Python numbers (format, float, int, bool, index, item) on
torch and chainrule: same results, same result types, same exception types."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("torch")

from corpus_harness import assert_same, libraries, outcome, plain  # noqa: E402

SPECS = ["", ".4f", ".2e", "g", ">10.3f", "+.1%", "d", "x", ".0f"]


def as_number(lib, value: float, dtype: str) -> dict:  # noqa: ANN001
    name = dtype if dtype != "bool" or hasattr(lib, "bool") else "bool_"  # see program dtype_names
    t = lib.tensor(np.asarray(value).astype(dtype), dtype=getattr(lib, name))
    return {
        "formats": [outcome(lambda s=s: format(t, s)) for s in SPECS if s],
        "float": outcome(lambda: float(t)),
        "int": outcome(lambda: int(t)),
        "bool": outcome(lambda: bool(t)),
        # a bool tensor as an index is the corpus program bool_tensor_as_an_index
        "index": outcome(lambda: operator.index(t)) if dtype != "bool" else None,
        "item": outcome(lambda: t.item()),
        "compare": outcome(lambda: bool(t > 0.5)),
    }


@settings(max_examples=60, deadline=None)
@given(
    st.floats(-1e6, 1e6) | st.sampled_from([0.0, -0.0, 0.5, 2.5, float("inf"), float("-inf"), float("nan")]),
    st.sampled_from(["float64", "float32", "int64", "bool"]),
)
def test_zero_d_tensors_as_python_numbers(value: float, dtype: str) -> None:
    if dtype in ("int64", "bool") and not np.isfinite(value):
        value = 3.0
    torch_lib, cr_lib = libraries()
    assert_same(
        plain(as_number(torch_lib, value, dtype)),
        plain(as_number(cr_lib, value, dtype)),
        f"{value!r} {dtype}",
    )
