"""``chainrule.autograd``: torch-style custom Functions (ctx, apply) against torch, and the namespace."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import chainrule as cr


def _np(t: Any) -> np.ndarray:
    return np.asarray(t.detach().numpy())


def _scale_and_mask(m: Any) -> Any:
    class ScaleAndMask(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, k, y):  # noqa: ANN001, ANN205
            out = x * y * k
            ctx.k = k
            ctx.save_for_backward(x, y, out)
            mask = x > 0
            ctx.mark_non_differentiable(mask)
            return out, mask

        @staticmethod
        def backward(ctx, g, g_mask):  # noqa: ANN001, ANN205
            x, y, out = ctx.saved_tensors
            assert ctx.needs_input_grad == (True, False, True)
            return g * y * ctx.k, None, g * x * ctx.k + 0 * out

    return ScaleAndMask


def _cube(m: Any) -> Any:
    class Cube(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):  # noqa: ANN001, ANN205
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):  # noqa: ANN001, ANN205
            (x,) = ctx.saved_tensors
            return 3 * x**2 * g

    return Cube


def _exp(m: Any) -> Any:
    class Exp(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):  # noqa: ANN001, ANN205
            y = x.exp()
            ctx.save_for_backward(y)  # an output: backward through it is differentiable too
            return y

        @staticmethod
        def backward(ctx, g):  # noqa: ANN001, ANN205
            (y,) = ctx.saved_tensors
            return g * y

    return Exp


def test_multi_output_non_tensor_args_and_non_differentiable_outputs(torch: Any) -> None:
    def run(m: Any) -> list[Any]:
        x = m.tensor([1.0, -2.0], dtype=m.float64, requires_grad=True)
        y = m.tensor([3.0, 4.0], dtype=m.float64, requires_grad=True)
        out, mask = _scale_and_mask(m).apply(x, 2.0, y)
        (out * out).sum().backward()
        return [_np(out), _np(mask), mask.requires_grad, _np(x.grad), _np(y.grad)]

    ours, theirs = run(cr), run(torch)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-12)


@pytest.mark.parametrize("make", [_cube, _exp])
def test_backward_written_with_tensor_ops_is_differentiable(make: Any, torch: Any) -> None:
    def run(m: Any) -> list[np.ndarray]:
        x = m.tensor([0.5, -1.5], dtype=m.float64, requires_grad=True)
        y = make(m).apply(x)
        (g,) = m.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = m.autograd.grad(g.sum(), x)
        return [_np(y), _np(g), _np(gg)]

    for o, t in zip(run(cr), run(torch)):
        np.testing.assert_allclose(o, t, rtol=1e-12)


def test_forward_runs_without_recording_and_grad_fn_is_named() -> None:
    seen = []

    class Probe(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):  # noqa: ANN001, ANN205
            seen.append(cr.is_grad_enabled())
            return x * 2

        @staticmethod
        def backward(ctx, g):  # noqa: ANN001, ANN205
            return g * 2

    y = Probe.apply(cr.ones(2, requires_grad=True))
    assert seen == [False] and y.requires_grad and y.grad_fn.name == "ProbeBackward"
    with cr.no_grad():
        assert not Probe.apply(cr.ones(2, requires_grad=True)).requires_grad


def test_wrong_number_of_gradients_is_a_clear_error() -> None:
    class Bad(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):  # noqa: ANN001, ANN205
            return x * k

        @staticmethod
        def backward(ctx, g):  # noqa: ANN001, ANN205
            return g

    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(cr.ones(2, requires_grad=True), 3.0).sum().backward()


def test_gradcheck_passes_through_a_custom_function() -> None:
    x = cr.tensor([0.3, -0.7], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(lambda t: _cube(cr).apply(t), [x])
    assert cr.autograd.gradgradcheck(lambda t: _exp(cr).apply(t), [x])


def test_the_dezero_style_function_still_works() -> None:
    class Square(cr.Function):
        def forward(self, x):  # noqa: ANN001, ANN202
            return x**2

        def backward(self, gy):  # noqa: ANN001, ANN202
            return 2 * self.inputs[0] * gy

    x = cr.Variable(np.array(3.0))
    Square()(x).backward()
    assert float(x.grad) == 6.0


def test_the_namespace_matches_torchs(torch: Any) -> None:
    names = ["Function", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
             "detect_anomaly", "functional", "gradcheck", "gradgradcheck"]  # fmt: skip
    for name in names:
        assert hasattr(cr.autograd, name) and hasattr(torch.autograd, name), name
    assert cr.autograd.grad is cr.grad and cr.autograd.no_grad is cr.no_grad
    x = cr.tensor([1.0, 2.0], dtype=cr.float64)
    np.testing.assert_array_equal(
        cr.autograd.functional.jacobian(lambda t: t * t, x).numpy(), np.diag([2.0, 4.0])
    )
    w = cr.ones(2, requires_grad=True)
    cr.autograd.backward((w * 3).sum())
    assert w.grad.tolist() == [3.0, 3.0]


def test_import_chainrule_loads_the_engine_but_not_the_testing_aliases() -> None:
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    mods = "('chainrule.autograd.engine', 'chainrule.testing', 'chainrule.functional', 'chainrule.function')"
    code = f"import sys, chainrule; print(*(m in sys.modules for m in {mods}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False", "False", "False"]
