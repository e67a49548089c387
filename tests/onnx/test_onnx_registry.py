"""Every op in the parity registry either exports to ONNX and runs the same in onnxruntime, or the export
raises ``NotImplementedError`` naming the op: never an obscure error, never a model computing something else.

Three hypothesis-drawn examples per op (float32, fixed batch), exported as a module whose forward applies the
op to its inputs; the op's other arguments are constants of the graph.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "parity"))
from test_parity_ops import REGISTRY, _as_list, _inputs  # noqa: E402

#: What a refusal says: the exporter's own message for an op without a conversion, or a converter's
#: message for an argument ONNX cannot express (both start with "export:").
_CLEAR = re.compile(r"^export: ")


class _Apply(nn.Module):
    def __init__(self, fn: Any, params: dict[str, Any]) -> None:
        super().__init__()
        self.fn, self.params = fn, params

    def forward(self, *xs: Any) -> Any:
        return self.fn(*xs, **self.params)


def _float32(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v.astype(np.float32) if isinstance(v, np.ndarray) and v.dtype == np.float64 else v
            for k, v in params.items()}  # fmt: skip


@pytest.mark.parametrize("spec", REGISTRY, ids=lambda s: s.name)
@settings(max_examples=3, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@given(data=st.data())
def test_exports_or_names_the_op(spec: Any, data: Any, tmp_path_factory: Any) -> None:
    shapes, params = spec.draw(data)
    rng = np.random.default_rng(0)
    arrays = [a.astype(np.float32) for a in _inputs(rng, spec, shapes, smooth=True)]
    # ONNX export traces dim 0 as the batch: 0-d and empty inputs are not models anyone exports
    assume(arrays and all(a.ndim > 0 and a.size > 0 for a in arrays))
    model = _Apply(spec.cr, _float32(params))
    with cr.no_grad():
        expected = [y.numpy() for y in _as_list(model(*[cr.tensor(a) for a in arrays]))]
    path = tmp_path_factory.mktemp("onnx") / "op.onnx"
    try:
        cr.onnx.export(model, tuple(arrays), path, dynamic_batch=False,
                       output_names=[f"y{i}" for i in range(len(expected))])  # fmt: skip
    except NotImplementedError as e:
        assert _CLEAR.match(str(e)), f"{spec.name}: unclear refusal: {e}"
        return
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {i.name: a for i, a in zip(session.get_inputs(), arrays)}
    got = session.run(None, feeds)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape, f"{spec.name}: ONNX shape {g.shape} vs chainrule {e.shape}"
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5, err_msg=spec.name)
