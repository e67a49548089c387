"""Every op of the torch-parity registry on a CUDA device gives the CPU's values and gradients.

Runs on the CPU stand-in for CuPy (``fake_cupy``: fails on any host/device mix) and, with ``-m gpu`` on a
machine with CuPy and a GPU, on the real device.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import backend

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "parity"))
from test_parity_ops import REGISTRY, _as_list, _float_outputs, _inputs  # noqa: E402


def to_device(value: Any, like: Any) -> Any:
    """Index arrays and array operands of a case, moved next to the device tensors."""
    if isinstance(value, np.ndarray):
        return backend.asarray(value, like=like)
    if isinstance(value, tuple):
        return tuple(to_device(v, like) for v in value)
    return value


def _host(t: Any) -> np.ndarray:
    return t.detach().cpu().numpy() if isinstance(t, cr.Tensor) else np.asarray(t)


def _grads(outs: list[Any], xs: list[Any], vs: list[np.ndarray], device: Any, create_graph: bool) -> list:
    pairs = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    if not pairs:
        return [None] * len(xs)
    seeds = [cr.tensor(v, device=device) for _, v in pairs]
    return list(cr.grad([o for o, _ in pairs], xs, seeds, create_graph=create_graph, allow_unused=True))


def run_case(spec: Any, shapes: Any, params: dict[str, Any], seed: int, device: str | None) -> tuple:
    rng = np.random.default_rng(seed)
    arrays = _inputs(rng, spec, shapes)
    xs = [cr.tensor(a, requires_grad=True, device=device) for a in arrays]
    if device is not None:
        params = {k: to_device(v, xs[0].data) for k, v in params.items()}
    ys = _float_outputs(_as_list(spec.cr(*xs, **params)))
    vs = [rng.standard_normal(y.shape).astype(y.dtype) for y in ys]
    graph_grads = _grads(ys, xs, vs, device, create_graph=True)  # backward in tensor ops
    ys2 = _float_outputs(_as_list(spec.cr(*xs, **params)))
    fast_grads = _grads(ys2, xs, vs, device, create_graph=False)  # NumPy/CuPy fast paths
    return ys, graph_grads, fast_grads


#: Registry ops still written against NumPy alone (most of the linear algebra and special functions, the
#: scatter reductions, order statistics...): on a CUDA tensor each either refuses (the TypeError of an
#: implicit device-to-host conversion, or the RuntimeError naming the device mix) or gives the CPU's
#: numbers, never something else. docs/promises.md lists them as CPU-only.
CPU_ONLY = frozenset(
    (
        "cholesky",
        "cholesky_inverse",
        "cholesky_solve",
        "cummax",
        "cummin",
        "digamma",
        "embedding_bag",
        "erfc",
        "erfinv",
        "fmax",
        "fmin",
        "fmod",
        "frexp",
        "hardshrink",
        "i0",
        "index_copy",
        "index_fill",
        "index_reduce",
        "inverse",
        "ldexp",
        "lgamma",
        "linalg.solve",
        "linalg.vander",
        "logdet",
        "lu",
        "lu_solve",
        "lu_unpack",
        "masked_select",
        "matrix_exp",
        "matrix_power",
        "median[all]",
        "mode",
        "multi_margin_loss",
        "multilabel_margin_loss",
        "mvlgamma",
        "nanquantile",
        "pinverse",
        "polygamma",
        "qr",
        "quantile",
        "repeat_interleave",
        "scatter",
        "scatter[value]",
        "scatter_reduce",
        "scatter_reduce[prod zeros]",
        "slogdet",
        "softshrink",
        "special.erfcx",
        "special.i0e",
        "special.i1",
        "special.i1e",
        "special.log_ndtr",
        "special.ndtr",
        "special.ndtri",
        "special.xlog1py",
        "svd",
        "threshold",
        "triangular_solve",
        "xlogy",
    )
)


@pytest.mark.parametrize("spec", REGISTRY, ids=lambda s: s.name)
@settings(max_examples=2, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_op_on_device_matches_cpu(spec: Any, data: Any, device: str) -> None:
    shapes, params = spec.draw(data)
    seed = data.draw(st.integers(0, 2**32 - 1), label="value seed")
    ref = run_case(spec, shapes, params, seed, None)
    if spec.name in CPU_ONLY:
        try:
            got = run_case(spec, shapes, params, seed, device)
        except (TypeError, RuntimeError) as e:  # a refusal, not a number
            assert "NumPy" in str(e) or "device" in str(e), f"{spec.name}: unclear refusal {e}"
            return
    else:
        got = run_case(spec, shapes, params, seed, device)
    for kind, r_list, g_list in zip(("value", "grad (graph)", "grad (fast)"), ref, got):
        for i, (r, g) in enumerate(zip(r_list, g_list)):
            if r is None:
                assert g is None, f"{spec.name} {kind} {i}: None on the CPU only"
                continue
            assert g.device == "cuda", f"{spec.name} {kind} {i} came back on {g.device}"
            np.testing.assert_allclose(
                _host(g), _host(r), rtol=1e-6, atol=1e-9, err_msg=f"{spec.name} {kind} {i}"
            )
