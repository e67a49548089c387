"""Shape and layout ops (issue 14) beyond the parity registry: errors, keyword and method forms, in-place
``tril_``/``triu_``, torch's legacy empty tensors in ``cat``, cropping ``F.pad``, copies vs views, ONNX."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.tensor import version_of

torch = pytest.importorskip("torch")


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _same(got, ref):
    ref = ref.detach().numpy() if hasattr(ref, "detach") else np.asarray(ref)
    assert got.shape == ref.shape
    np.testing.assert_allclose(got.data, ref, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------- cat with legacy empties
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_skips_one_dim_empty_tensors(dim):
    a, b = _x(2, 3), _x(2, 3, seed=1)
    got = cr.cat([cr.tensor(a), cr.zeros(0), cr.tensor(b)], dim)
    _same(got, torch.cat([torch.tensor(a), torch.zeros(0), torch.tensor(b)], dim))


def test_cat_legacy_empty_gets_an_empty_gradient():
    e = cr.zeros(0, requires_grad=True)
    a = cr.tensor(_x(2, 2), requires_grad=True)
    cr.cat([e, a], 1).sum().backward()
    assert e.grad.shape == (0,)
    np.testing.assert_array_equal(a.grad.data, np.ones((2, 2)))


def test_cat_still_refuses_mismatched_shapes():
    with pytest.raises(RuntimeError, match="differ outside dim"):
        cr.cat([cr.zeros(2, 3), cr.zeros(3, 2)], 0)


# ---------------------------------------------------------------------------- F.pad cropping
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", [(-1, 2), (2, -1), (-2, -1), (1, -2, -1, 1)])
def test_pad_negative_crops_as_torch(mode, pad):
    x = _x(*(1, 2, 4, 5)[2 - len(pad) // 2 :])  # the batch/channel dims non-constant modes need
    t = torch.tensor(x, requires_grad=True)
    c = cr.tensor(x, requires_grad=True)
    ref = torch.nn.functional.pad(t, pad, mode=mode)
    got = F.pad(c, pad, mode=mode)
    _same(got, ref)
    v = _x(*ref.shape, seed=3)
    (ref * torch.tensor(v)).sum().backward()
    (got * cr.tensor(v)).sum().backward()
    _same(c.grad, t.grad)


def test_pad_cropping_below_zero_is_an_error():
    with pytest.raises(ValueError, match="crops dim"):
        F.pad(cr.zeros(2, 3), (-2, -2))


# ---------------------------------------------------------------------------- tril_ / triu_ in place
@pytest.mark.parametrize("name", ["tril_", "triu_"])
def test_triangle_in_place(name):
    x = _x(3, 4)
    c = cr.tensor(x)
    before = version_of(c)
    out = getattr(c, name)(1)
    assert out is c
    _same(c, getattr(torch.tensor(x), name)(1))
    assert version_of(c) == before + 1


def test_triangle_in_place_is_recorded():
    x = _x(3, 3)
    t = torch.tensor(x, requires_grad=True)
    c = cr.tensor(x, requires_grad=True)
    (t * 2).tril_(-1).sum().backward()
    (c * 2).tril_(-1).sum().backward()
    _same(c.grad, t.grad)


def test_triangle_in_place_on_a_leaf_requiring_grad_is_refused():
    with pytest.raises(RuntimeError):
        cr.zeros(2, 2, requires_grad=True).triu_()


def test_tril_needs_a_matrix():
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        cr.tril(cr.zeros(3))


# ---------------------------------------------------------------------------- forms and errors
def test_keyword_and_method_forms():
    x = _x(2, 3, 4)
    c, t = cr.tensor(x), torch.tensor(x)
    _same(c.narrow(dim=1, start=-2, length=2), t.narrow(dim=1, start=-2, length=2))
    _same(cr.narrow(c, 2, cr.tensor(1), 2), torch.narrow(t, 2, torch.tensor(1), 2))
    _same(c.select(dim=-1, index=-1), t.select(dim=-1, index=-1))
    _same(cr.moveaxis(c, 0, -1), torch.moveaxis(t, 0, -1))
    _same(c.unflatten(-1, (2, -1)), t.unflatten(-1, (2, -1)))
    _same(c.diagonal(offset=1, dim1=2, dim2=0), t.diagonal(offset=1, dim1=2, dim2=0))
    _same(c.unfold(2, 2, 1), t.unfold(2, 2, 1))
    _same(c.sum_to_size(1, 3, 1), t.sum_to_size(1, 3, 1))
    _same(
        c.repeat_interleave(cr.tensor([1, 0, 2]), dim=1, output_size=3),
        t.repeat_interleave(torch.tensor([1, 0, 2]), dim=1, output_size=3),
    )
    _same(cr.tensordot(c, c, dims=([0, 1], [0, 1])), torch.tensordot(t, t, dims=([0, 1], [0, 1])))
    m = _x(2, 3)
    _same(cr.tensor(m).H, torch.tensor(m).H)
    _same(cr.tensor(x).mH, t.mH)


def test_repeat_interleave_of_counts_alone():
    got = cr.repeat_interleave(cr.tensor([2, 0, 1]))
    ref = torch.repeat_interleave(torch.tensor([2, 0, 1]))
    np.testing.assert_array_equal(got.data, ref.numpy())


def test_broadcast_shapes():
    assert cr.broadcast_shapes((2, 1), (3,), 1) == tuple(torch.broadcast_shapes((2, 1), (3,), 1))
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        cr.broadcast_shapes((2,), (3,))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: cr.narrow(cr.zeros(3), 0, 2, 2), RuntimeError, "exceeds dimension size"),
        (lambda: cr.narrow(cr.zeros(3), 0, 4, 0), IndexError, "start 4"),
        (lambda: cr.select(cr.zeros(2, 3), 1, 3), IndexError, "index 3 out of range"),
        (lambda: cr.rot90(cr.zeros(2, 2), 1, (0, 0)), RuntimeError, "different"),
        (lambda: cr.diag(cr.zeros(2, 2, 2)), RuntimeError, "1D or 2D"),
        (lambda: cr.trace(cr.zeros(3)), RuntimeError, "expected a matrix"),
        (lambda: cr.diagonal(cr.zeros(2, 2), 0, 1, -1), RuntimeError, "cannot be identical"),
        (lambda: cr.hsplit(cr.zeros(2, 3), 2), RuntimeError, "not divisible"),
        (lambda: cr.vsplit(cr.zeros(3), 1), RuntimeError, "at least 2 dimension"),
        (lambda: cr.tensordot(cr.zeros(2, 3), cr.zeros(2, 3), ([1], [1, 0])), RuntimeError, "same length"),
        (lambda: cr.inner(cr.zeros(2), cr.zeros(3)), RuntimeError, "last dimension must match"),
        (lambda: cr.meshgrid(cr.zeros(2), cr.zeros(2), indexing="yx"), ValueError, "indexing"),
        (lambda: cr.repeat_interleave(cr.zeros(3), cr.tensor([1, 2])), RuntimeError, "same size"),
        (lambda: cr.zeros(3, 2).unfold(0, 4, 1), RuntimeError, "maximum size"),
        (lambda: cr.zeros(3).H, RuntimeError, "only supported on matrices"),
        (lambda: cr.combinations(cr.zeros(2, 2)), RuntimeError, "1D vector"),
        (lambda: cr.slice_scatter(cr.zeros(4), cr.zeros(3), 0, 0, 2), RuntimeError, "size equal"),
        (lambda: cr.diagonal_scatter(cr.zeros(3, 3), cr.zeros(2)), RuntimeError, "diagonal has"),
        (lambda: cr.zeros(2, 3).sum_to_size(3, 3), RuntimeError, "not expandable"),
    ],
)
def test_bad_arguments_raise_clearly(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_edge_cases_match_torch():
    _same(cr.roll(cr.zeros(0, 3), 2, 0), torch.roll(torch.zeros(0, 3), 2, 0))
    _same(cr.combinations(cr.arange(2.0), 3), torch.combinations(torch.arange(2.0), 3))
    _same(cr.tensor_split(cr.arange(5.0), (4, 1, 9))[1], torch.tensor_split(torch.arange(5.0), (4, 1, 9))[1])
    x = cr.tensor(np.array([1.0, np.nan, 3.0, 4.0]).reshape(2, 2))
    _same(cr.triu(x, 1), torch.triu(torch.tensor(x.data), 1))  # NaN below the diagonal is zeroed
    _same(cr.atleast_3d(cr.tensor(2.0)), torch.atleast_3d(torch.tensor(2.0)))
    assert cr.trace(cr.ones(2, 2, dtype=cr.int32)).dtype == np.int64


# ---------------------------------------------------------------------------- copies and views
def test_copy_variants_never_share_memory():
    x = cr.tensor(_x(2, 3))
    for y in (
        cr.alias_copy(x),
        cr.permute_copy(x, (1, 0)),
        cr.view_copy(x, (6,)),
        cr.t_copy(x),
        cr.unsqueeze_copy(x, 0),
        cr.narrow_copy(x, 1, 0, 2),
        cr.diagonal_copy(x),
    ):
        assert not np.shares_memory(y.data, x.data)


def test_float32_stays_float32():
    x = cr.tensor(_x(3, 3), dtype=cr.float32)
    for y in (
        cr.tril(x),
        cr.diag_embed(x),
        cr.kron(x, x),
        cr.tensordot(x, x),
        cr.roll(x, 1),
        x.unfold(0, 2, 1),
    ):
        assert y.dtype == np.float32


# ---------------------------------------------------------------------------- ONNX
def test_onnx_export_names_an_unconverted_op():
    pytest.importorskip("onnx")

    class Tri(cr.nn.Module):
        def forward(self, x):
            return cr.tril(x)

    with pytest.raises(NotImplementedError, match="Triangle"):
        cr.onnx.export(Tri(), cr.randn(3, 3), None)
