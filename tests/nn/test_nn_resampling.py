"""Pooling, resampling, fold/unfold, shuffles and dropouts of issue 14: errors, modules and edge cases vs
torch (values are checked by OpInfo and the parity registry; here what those cannot express)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _same(a, t, tol=1e-10):
    np.testing.assert_allclose(a.data, t.detach().numpy(), rtol=tol, atol=tol)


def test_avg_pool2d_empty_stride_means_kernel_size():
    x = _randn(1, 2, 6, 6)
    _same(F.avg_pool2d(cr.tensor(x), 3, stride=()), TF.avg_pool2d(torch.tensor(x), 3, stride=()))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"size": 3, "scale_factor": 2.0}, ValueError, "only one of size or scale_factor"),
        ({}, ValueError, "only one of size or scale_factor"),
        ({"size": 3, "mode": "nearest", "align_corners": True}, ValueError, "align_corners option"),
        ({"size": 3, "mode": "bilinear"}, NotImplementedError, "bilinear mode needs 4D"),
        ({"size": 3, "mode": "linear", "antialias": True}, NotImplementedError, "antialias"),
        ({"size": 3, "mode": "cubic"}, NotImplementedError, "unknown mode"),
        ({"size": (3, 3)}, ValueError, "same number of spatial dimensions"),
    ],
)
def test_interpolate_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        F.interpolate(cr.ones(1, 2, 4), **kwargs)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic", "area"])
def test_interpolate_keywords_and_modules_match_torch(mode):
    x = _randn(2, 3, 5, 4)
    align = {} if mode in ("nearest", "nearest-exact", "area") else {"align_corners": False}
    got = F.interpolate(cr.tensor(x), scale_factor=(1.5, 0.75), mode=mode, **align)
    _same(got, TF.interpolate(torch.tensor(x), scale_factor=(1.5, 0.75), mode=mode, **align))
    up = nn.Upsample(size=(7, 3), mode=mode, **align)
    _same(up(cr.tensor(x)), torch.nn.Upsample(size=(7, 3), mode=mode, **align)(torch.tensor(x)))


def test_upsampling_modules_and_empty_batch():
    x = _randn(1, 2, 3, 3)
    _same(
        nn.UpsamplingBilinear2d(scale_factor=2)(cr.tensor(x)),
        torch.nn.UpsamplingBilinear2d(scale_factor=2)(torch.tensor(x)),
    )
    _same(nn.UpsamplingNearest2d(size=5)(cr.tensor(x)), torch.nn.UpsamplingNearest2d(size=5)(torch.tensor(x)))
    assert F.interpolate(cr.zeros(0, 2, 3), size=5, mode="linear").shape == (0, 2, 5)


def test_interpolate_keeps_inf_in_its_own_taps():
    x = np.arange(8.0).reshape(1, 1, 8)
    x[0, 0, 7] = np.inf
    got = F.interpolate(cr.tensor(x), size=5, mode="linear")
    _same(got, TF.interpolate(torch.tensor(x), size=5, mode="linear"))
    assert np.isfinite(got.data[0, 0, :3]).all()


def test_fold_unfold_modules_and_errors():
    x = _randn(2, 3, 5, 6)
    cols = nn.Unfold(kernel_size=(2, 3), padding=1, stride=2)(cr.tensor(x))
    tcols = torch.nn.Unfold(kernel_size=(2, 3), padding=1, stride=2)(torch.tensor(x))
    _same(cols, tcols)
    back = nn.Fold((5, 6), (2, 3), padding=1, stride=2)(cols)
    _same(back, torch.nn.Fold((5, 6), (2, 3), padding=1, stride=2)(tcols))
    with pytest.raises(RuntimeError, match="calculated number of sliding blocks"):
        F.fold(cr.ones(1, 4, 5), (3, 3), 2)
    with pytest.raises(RuntimeError, match="divisible by the product of kernel_size"):
        F.fold(cr.ones(1, 5, 4), (3, 3), 2)
    with pytest.raises(RuntimeError, match="4-D"):
        F.unfold(cr.ones(2, 3), 2)


def test_shuffles_modules_and_errors():
    x = _randn(2, 8, 2, 3)
    _same(nn.PixelShuffle(2)(cr.tensor(x)), torch.nn.PixelShuffle(2)(torch.tensor(x)))
    y = _randn(2, 2, 4, 6)
    _same(nn.PixelUnshuffle(2)(cr.tensor(y)), torch.nn.PixelUnshuffle(2)(torch.tensor(y)))
    _same(nn.ChannelShuffle(4)(cr.tensor(x)), torch.nn.ChannelShuffle(4)(torch.tensor(x)))
    with pytest.raises(RuntimeError, match="divisible by the square of upscale_factor"):
        F.pixel_shuffle(cr.ones(1, 6, 2, 2), 2)
    with pytest.raises(RuntimeError, match="divisible by downscale_factor"):
        F.pixel_unshuffle(cr.ones(1, 1, 3, 2), 2)
    with pytest.raises(ValueError, match="groups must be greater than 0"):
        F.channel_shuffle(cr.ones(1, 4, 2), 0)


def test_adaptive_max_pool_indices_nan_and_unpool_roundtrip():
    x = _randn(2, 3, 7, 5)
    x[0, 0, 1, 1] = np.nan
    y, i = nn.AdaptiveMaxPool2d((3, 2), return_indices=True)(cr.tensor(x))
    ty, ti = torch.nn.AdaptiveMaxPool2d((3, 2), return_indices=True)(torch.tensor(x))
    np.testing.assert_allclose(y.data, ty.numpy())  # NaN wins its bin, as in torch
    np.testing.assert_array_equal(i.data, ti.numpy())
    p, pi = nn.MaxPool2d(2, return_indices=True)(cr.tensor(x[:, :, :6, :4]))
    tp, tpi = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x[:, :, :6, :4]))
    _same(nn.MaxUnpool2d(2)(p, pi, output_size=(6, 4)), torch.nn.MaxUnpool2d(2)(tp, tpi, output_size=(6, 4)))
    _same(
        nn.AdaptiveAvgPool3d(2)(cr.tensor(x[None, 1])),
        torch.nn.AdaptiveAvgPool3d(2)(torch.tensor(x[None, 1])),
    )
    with pytest.raises(RuntimeError, match="invalid max index"):
        F.max_unpool1d(cr.ones(1, 1, 2), cr.tensor(np.array([[[0, 9]]])), 2)


def test_conv_transpose3d_module_matches_torch():
    m = nn.ConvTranspose3d(4, 2, 2, stride=2, groups=2)
    t = torch.nn.ConvTranspose3d(4, 2, 2, stride=2, groups=2).double()
    with torch.no_grad():
        t.weight.copy_(torch.tensor(m.weight.data))
        t.bias.copy_(torch.tensor(m.bias.data))
    x = _randn(1, 4, 2, 3, 2).astype(m.weight.dtype)
    _same(m(cr.tensor(x)), t(torch.tensor(x).double()), tol=1e-5)
    assert m(cr.tensor(x), output_size=(5, 7, 5)).shape == (1, 2, 5, 7, 5)


def test_alpha_dropouts_follow_torchs_rule():
    x = np.zeros((4, 3, 50), dtype=np.float32)
    for op, top in ((F.alpha_dropout, TF.alpha_dropout), (F.feature_alpha_dropout, TF.feature_alpha_dropout)):
        got = np.unique(op(cr.tensor(x), 0.3, training=True).data)
        want = np.unique(top(torch.tensor(x), 0.3, training=True).numpy())
        np.testing.assert_allclose(got, want, rtol=1e-6)  # the kept and the dropped value
        assert op(cr.tensor(x), 0.3).data is not None and (op(cr.tensor(x + 1), 0.3).data == 1).all()
    big = cr.tensor(_randn(200, 200))
    y = nn.AlphaDropout(0.2).train()(big).data
    assert abs(y.mean()) < 0.05 and abs(y.std() - 1) < 0.05  # self-normalising: mean 0, variance 1 kept
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        F.feature_alpha_dropout(cr.ones(5), 0.5, training=True)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.FeatureAlphaDropout(1.5)


def test_dropout3d_zeroes_whole_channels():
    y = nn.Dropout3d(0.5).train()(cr.ones(4, 6, 2, 2, 2)).data
    per_channel = y.reshape(4, 6, -1)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert (nn.Dropout3d(0.5).eval()(cr.ones(2, 2, 2, 2)).data == 1).all()


def test_onnx_refuses_unfold_by_name():
    pytest.importorskip("onnx")
    with pytest.raises(NotImplementedError, match="_Unfold"):
        cr.onnx.export(nn.Unfold(2), cr.randn(1, 2, 4, 4), None)


def test_embedding_bag_modes_module_and_errors():
    w = _randn(6, 3)
    idx = np.array([1, 2, 4, 5, 4, 0, 3])
    off = np.array([0, 2, 2, 5])  # the second bag is empty
    for mode in ("sum", "mean", "max"):
        got = F.embedding_bag(cr.tensor(idx), cr.tensor(w), cr.tensor(off), mode=mode, padding_idx=4)
        want = TF.embedding_bag(
            torch.tensor(idx), torch.tensor(w), torch.tensor(off), mode=mode, padding_idx=4
        )
        _same(got, want)
    bag = nn.EmbeddingBag(6, 3, mode="sum", _weight=cr.tensor(w))
    psw = _randn(2, 3)
    got = bag(cr.tensor(idx[:6].reshape(2, 3)), per_sample_weights=cr.tensor(psw))
    _same(
        got,
        TF.embedding_bag(
            torch.tensor(idx[:6].reshape(2, 3)),
            torch.tensor(w),
            mode="sum",
            per_sample_weights=torch.tensor(psw),
        ),
    )
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(cr.tensor(idx), cr.tensor(w), cr.tensor(off), per_sample_weights=cr.ones(7))
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(cr.tensor(idx[:6].reshape(2, 3)), cr.tensor(w), cr.tensor(off))
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding_bag(cr.tensor([7]), cr.tensor(w), cr.tensor([0]))
