"""chainrule.nn.functional against torch.nn.functional: activations, softmax, linear, dropout, embedding,
one_hot, pad and normalisation — values, gradients and (where they apply) second-order gradients."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nn_parity import check_function_parity

import chainrule as cr
import chainrule.nn.functional as F

RNG = np.random.default_rng(2)

ACTIVATIONS = [
    ("relu", {}), ("sigmoid", {}), ("tanh", {}), ("gelu", {}), ("gelu", {"approximate": "tanh"}),
    ("silu", {}), ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 1.5}),
    ("leaky_relu", {"negative_slope": 0.1}),
    ("elu", {"alpha": 0.5}), ("selu", {}), ("celu", {"alpha": 1.5}), ("logsigmoid", {}), ("hardtanh", {}),
    ("relu6", {}), ("softsign", {}), ("mish", {}), ("hardsigmoid", {}), ("hardswish", {}),
]  # fmt: skip
SMOOTH = {
    "sigmoid",
    "tanh",
    "gelu",
    "silu",
    "softplus",
    "elu",
    "selu",
    "celu",
    "logsigmoid",
    "softsign",
    "mish",
}


@pytest.mark.parametrize(("name", "kwargs"), ACTIVATIONS, ids=[f"{n}{k}" for n, k in ACTIVATIONS])
def test_activation_matches_torch(torch, name: str, kwargs: dict) -> None:
    x = RNG.standard_normal((4, 5)) * 3
    x[0, :3] = [1e-3, -1e-3, 0.5]  # stay off kinks but close to zero
    check_function_parity(
        torch,
        lambda t: getattr(torch.nn.functional, name)(t, **kwargs),
        lambda c: getattr(F, name)(c, **kwargs),
        [x],
        second_order=name in SMOOTH,
    )


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "silu", "gelu", "elu", "logsigmoid", "mish"])
def test_activations_are_finite_at_extreme_inputs(name: str) -> None:
    x = cr.tensor([-1e4, -100.0, 0.0, 100.0, 1e4], requires_grad=True)
    y = getattr(F, name)(x)
    y.sum().backward()
    assert np.isfinite(y.data).all() and np.isfinite(x.grad.data).all()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family_first_and_second_order(torch, fn: str, dim: int) -> None:
    x = RNG.standard_normal((3, 4, 5))
    check_function_parity(
        torch,
        lambda t: getattr(torch.nn.functional, fn)(t, dim=dim),
        lambda c: getattr(F, fn)(c, dim=dim),
        [x],
        second_order=True,
    )


def test_softmax_stable_at_large_logits(torch) -> None:
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [3.0, 1e4, 1e4]])
    for fn in ("softmax", "log_softmax"):
        check_function_parity(
            torch,
            lambda t, fn=fn: getattr(torch.nn.functional, fn)(t, dim=1),
            lambda c, fn=fn: getattr(F, fn)(c, dim=1),
            [x],
        )
    c = cr.tensor(x.astype(np.float32), requires_grad=True)
    y = F.log_softmax(c, dim=1)
    (y * cr.tensor(RNG.standard_normal((3, 3)).astype(np.float32))).sum().backward()
    assert y.dtype == np.float32 and np.isfinite(y.data).all() and np.isfinite(c.grad.data).all()


@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 3, 4), (2, 3, 4, 2)])
def test_softmax_implicit_dim_warns_and_picks_torchs_dim(torch, fn: str, shape: tuple) -> None:
    x = RNG.standard_normal(shape)
    tf = torch.nn.functional
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {fn} has been deprecated") as ours:
        y = getattr(F, fn)(cr.tensor(x))
    assert ours[0].filename == __file__  # points at the caller, as torch's does
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {fn}"):
        expected = getattr(tf, fn)(torch.tensor(x)).numpy()
    np.testing.assert_allclose(y.data, expected, rtol=1e-12)


def test_softmax_dtype_argument() -> None:
    x = RNG.standard_normal((2, 3))
    assert F.softmax(cr.tensor(x.astype(np.float32)), 1, dtype=np.float64).dtype == np.float64


@given(lead=st.lists(st.integers(1, 3), min_size=0, max_size=2), bias=st.booleans())
def test_linear_any_leading_dims(torch, lead: list[int], bias: bool) -> None:
    rng = np.random.default_rng(len(lead))
    x, w, b = rng.standard_normal((*lead, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)
    args = [x, w, b] if bias else [x, w]
    check_function_parity(torch, torch.nn.functional.linear, F.linear, args, second_order=True)


def test_linear_is_one_function_and_rejects_bad_shapes() -> None:
    y = F.linear(cr.randn(2, 3, requires_grad=True), cr.randn(4, 3, requires_grad=True), cr.zeros(4))
    assert type(y.creator).__name__ == "Linear"
    with pytest.raises(ValueError, match="last dim 3"):
        F.linear(cr.randn(2, 5), cr.randn(4, 3))
    with pytest.raises(ValueError, match="bias"):
        F.linear(cr.randn(2, 3), cr.randn(4, 3), cr.zeros(3))


def test_bilinear_matches_torch(torch) -> None:
    args = [
        RNG.standard_normal((5, 3)),
        RNG.standard_normal((5, 2)),
        RNG.standard_normal((4, 3, 2)),
        RNG.standard_normal(4),
    ]
    check_function_parity(torch, torch.nn.functional.bilinear, F.bilinear, args)


def test_dropout_train_and_eval() -> None:
    x = cr.ones(200, 50, requires_grad=True)
    cr.manual_seed(0)
    y = F.dropout(x, 0.3)
    kept = y.data != 0
    assert 0.65 < kept.mean() < 0.75
    np.testing.assert_allclose(y.data[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, kept / 0.7, rtol=1e-6)
    assert F.dropout(x, 0.3, training=False) is x
    assert not F.dropout(x, 1.0).data.any()
    cr.manual_seed(0)
    again = F.dropout(x, 0.3)
    np.testing.assert_array_equal(again.data, y.data)  # the global generator makes it repeatable
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.2)


def test_dropout2d_zeroes_whole_channels() -> None:
    y = F.dropout2d(cr.ones(8, 16, 3, 3), 0.5)
    per_channel = y.data.reshape(8, 16, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))


def test_one_hot(torch) -> None:
    t = RNG.integers(0, 5, (3, 4))
    np.testing.assert_array_equal(
        F.one_hot(cr.tensor(t), 6).data, torch.nn.functional.one_hot(torch.tensor(t), 6)
    )
    np.testing.assert_array_equal(F.one_hot(cr.tensor(t)).data, torch.nn.functional.one_hot(torch.tensor(t)))
    assert F.one_hot(cr.tensor(t)).dtype == np.int64
    with pytest.raises(RuntimeError, match="class values"):
        F.one_hot(cr.tensor([0, 7]), 3)
    with pytest.raises(TypeError):
        F.one_hot(cr.tensor([0.0, 1.0]))


def test_embedding_with_padding_and_repeats(torch) -> None:
    idx = np.array([[1, 3, 1], [0, 3, 3]])
    w = RNG.standard_normal((5, 4))
    check_function_parity(
        torch,
        lambda t: torch.nn.functional.embedding(torch.tensor(idx), t, padding_idx=3),
        lambda c: F.embedding(cr.tensor(idx), c, padding_idx=3),
        [w],
        second_order=True,
    )
    with pytest.raises(IndexError, match="out of range"):
        F.embedding(cr.tensor([5]), cr.tensor(w))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_modes(torch, mode: str) -> None:
    x = RNG.standard_normal((2, 3, 4, 5))
    pads = (1, 2, 2, 0)
    kwargs = {"value": 1.5} if mode == "constant" else {}
    check_function_parity(
        torch,
        lambda t: torch.nn.functional.pad(t, pads, mode=mode, **kwargs),
        lambda c: F.pad(c, pads, mode=mode, **kwargs),
        [x],
    )


def test_pad_errors() -> None:
    with pytest.raises(ValueError, match="divisible by 2"):
        F.pad(cr.zeros(2, 3), (1,))
    with pytest.raises(ValueError, match="less than the dimension"):
        F.pad(cr.zeros(2, 3), (3, 0), mode="reflect")


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 5)])
def test_batch_norm_matches_torch(torch, training: bool, shape: tuple) -> None:
    x = RNG.standard_normal(shape) * 2 + 1
    w, b = RNG.standard_normal(3), RNG.standard_normal(3)
    rm, rv = RNG.standard_normal(3), RNG.uniform(0.5, 2, 3)
    t_rm, t_rv, c_rm, c_rv = torch.tensor(rm), torch.tensor(rv), cr.tensor(rm), cr.tensor(rv)
    check_function_parity(
        torch,
        lambda x, w, b: torch.nn.functional.batch_norm(x, t_rm, t_rv, w, b, training, 0.2, 1e-3),
        lambda x, w, b: F.batch_norm(x, c_rm, c_rv, w, b, training, 0.2, 1e-3),
        [x, w, b],
        second_order=True,
    )
    np.testing.assert_allclose(c_rm.data, t_rm.numpy(), rtol=1e-10)
    np.testing.assert_allclose(c_rv.data, t_rv.numpy(), rtol=1e-10)


def test_batch_norm_rejects_single_value_per_channel() -> None:
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(cr.randn(1, 3), None, None, training=True)


@pytest.mark.parametrize("affine", [True, False])
def test_layer_and_group_norm_match_torch(torch, affine: bool) -> None:
    x = RNG.standard_normal((3, 4, 5))
    w, b = RNG.standard_normal(5), RNG.standard_normal(5)
    if affine:
        check_function_parity(
            torch,
            lambda x, w, b: torch.nn.functional.layer_norm(x, (5,), w, b),
            lambda x, w, b: F.layer_norm(x, (5,), w, b),
            [x, w, b],
            second_order=True,
        )
    else:
        check_function_parity(
            torch,
            lambda x: torch.nn.functional.layer_norm(x, (4, 5)),
            lambda x: F.layer_norm(x, (4, 5)),
            [x],
            second_order=True,
        )
    gw, gb = RNG.standard_normal(4), RNG.standard_normal(4)
    check_function_parity(
        torch,
        lambda x, w, b: torch.nn.functional.group_norm(x, 2, w, b),
        lambda x, w, b: F.group_norm(x, 2, w, b),
        [x, gw, gb],
        second_order=True,
    )


def test_layer_norm_shape_error() -> None:
    with pytest.raises(ValueError, match="normalized_shape"):
        F.layer_norm(cr.randn(2, 3), (4,))


def test_normalize_matches_torch(torch) -> None:
    x = RNG.standard_normal((3, 4))
    check_function_parity(
        torch,
        lambda t: torch.nn.functional.normalize(t, dim=1),
        lambda c: F.normalize(c, dim=1),
        [x],
        second_order=True,
    )


@pytest.mark.parametrize("lo_hi", [(-1.0, 1.0), (0.0, 6.0)])
def test_hardtanh_and_relu6_gradient_is_zero_at_the_clip_points(torch, lo_hi: tuple) -> None:
    lo, hi = lo_hi
    x = np.array([lo - 1, lo, (lo + hi) / 2, hi, hi + 1])
    tf = torch.nn.functional
    for ours, theirs in [
        (lambda t: F.hardtanh(t, lo, hi), lambda t: tf.hardtanh(t, lo, hi)),
        *([(F.relu6, tf.relu6)] if lo_hi == (0.0, 6.0) else []),
    ]:
        c, t = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ours(c).sum().backward()
        theirs(t).sum().backward()
        np.testing.assert_array_equal(c.grad.numpy(), t.grad.numpy())


class _Kinks(cr.nn.Module):
    def forward(self, x):
        return F.hardtanh(x) + F.relu6(x) + F.hardsigmoid(x) + F.hardswish(x) + cr.rsqrt(x * x + 1)


def test_kink_activations_and_rsqrt_export_to_onnx(tmp_path) -> None:
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    x = np.array([[-4.0, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0, 7.0]], dtype=np.float32)
    cr.onnx.export(_Kinks(), cr.tensor(x), tmp_path / "k.onnx")
    session = ort.InferenceSession(str(tmp_path / "k.onnx"), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {session.get_inputs()[0].name: x})
    np.testing.assert_allclose(got, _Kinks()(cr.tensor(x)).numpy(), rtol=1e-6, atol=1e-6)
