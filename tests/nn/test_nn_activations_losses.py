"""Issue 14 (nn.functional activations, distances, losses, norms, attention): behaviour the parity registry
cannot express, every expectation computed by torch."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _pair(a: np.ndarray, grad: bool = True):
    return cr.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


def _close(ours, theirs, rtol=1e-7, atol=1e-9):
    a = ours.data if isinstance(ours, cr.Tensor) else np.asarray(ours)
    np.testing.assert_allclose(a, theirs.detach().numpy(), rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------- fixes
def test_softmax_family_over_an_empty_dim():
    for fn in ("softmax", "log_softmax", "softmin"):
        x, tx = _pair(np.zeros((5, 0, 0)))
        y, ty = getattr(F, fn)(x, dim=1), getattr(TF, fn)(tx, dim=1)
        assert y.shape == tuple(ty.shape)
        (g,) = cr.grad([y.sum()], [x], allow_unused=True)
        assert g is None or g.shape == (5, 0, 0)


def test_relu_passes_the_gradient_at_nan_as_torch():
    a = np.array([np.nan, -1.0, 0.0, 2.0])
    x, tx = _pair(a)
    F.relu(x).backward(cr.ones(4, dtype=np.float64))
    TF.relu(tx).backward(torch.ones(4, dtype=torch.float64))
    _close(x.grad, tx.grad)


def test_cosine_similarity_broadcasts_before_normalizing():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 1)), rng.standard_normal((2, 3))
    (x1, t1), (x2, t2) = _pair(a), _pair(b)
    y, ty = F.cosine_similarity(x1, x2, dim=1), TF.cosine_similarity(t1, t2, dim=1)
    _close(y, ty)
    y.sum().backward()
    ty.sum().backward()
    _close(x1.grad, t1.grad)
    _close(x2.grad, t2.grad)
    # a zero vector: the norm clamp gives torch's value and gradient
    (z1, u1), (z2, u2) = _pair(np.zeros((1, 3))), _pair(b[:1])
    F.cosine_similarity(z1, z2).sum().backward()
    TF.cosine_similarity(u1, u2).sum().backward()
    _close(z1.grad, u1.grad)


def test_binary_cross_entropy_second_order_matches_torch():
    rng = np.random.default_rng(1)
    p, t = rng.uniform(0.1, 0.9, 5), rng.uniform(0, 1, 5)
    (x, tx), (y, ty) = _pair(p), _pair(t)
    gx, gy = cr.grad([F.binary_cross_entropy(x, y)], [x, y], create_graph=True)
    tgx, tgy = torch.autograd.grad(TF.binary_cross_entropy(tx, ty), [tx, ty], create_graph=True)
    w = rng.standard_normal(5)
    second = cr.grad([(gx * cr.tensor(w)).sum() + (gy * cr.tensor(w)).sum()], [x, y])
    tsecond = torch.autograd.grad((tgx * torch.tensor(w)).sum() + (tgy * torch.tensor(w)).sum(), [tx, ty])
    for a, b in zip(second, tsecond):
        _close(a, b, rtol=1e-6)


def test_group_norm_batch_zero_and_batch_norm_empty_1d():
    x, tx = _pair(np.zeros((0, 2)))
    w = np.array([1.5, -0.5])
    assert F.group_norm(x, 1, cr.tensor(w)).shape == tuple(TF.group_norm(tx, 1, torch.tensor(w)).shape)
    e = cr.zeros(0, dtype=np.float64)
    assert F.batch_norm(e, cr.zeros(0), cr.ones(0), training=True).shape == (0,)


@pytest.mark.parametrize("use_input_stats", [True, False])
def test_instance_norm_with_running_stats(use_input_stats):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 2, 5))
    x, tx = _pair(a)
    rm, rv = np.array([0.5, -1.0]), np.array([2.0, 0.5])
    crm, crv, trm, trv = cr.tensor(rm), cr.tensor(rv), torch.tensor(rm), torch.tensor(rv)
    w, b = rng.standard_normal(2), rng.standard_normal(2)
    (cw, tw), (cb, tb) = _pair(w), _pair(b)
    y = F.instance_norm(x, crm, crv, cw, cb, use_input_stats=use_input_stats, momentum=0.3)
    ty = TF.instance_norm(tx, trm, trv, tw, tb, use_input_stats=use_input_stats, momentum=0.3)
    _close(y, ty)
    _close(crm, trm)
    _close(crv, trv)
    v = rng.standard_normal(a.shape)
    y.backward(cr.tensor(v))
    ty.backward(torch.tensor(v))
    for ours, theirs in ((x, tx), (cw, tw), (cb, tb)):
        _close(ours.grad, theirs.grad, rtol=1e-6)


def test_embedding_scale_grad_by_freq():
    rng = np.random.default_rng(3)
    w = rng.standard_normal((6, 3))
    idx = np.array([[0, 2, 2], [5, 2, 0]])
    cw, tw = _pair(w)
    F.embedding(cr.tensor(idx), cw, scale_grad_by_freq=True).sum().backward()
    TF.embedding(torch.tensor(idx), tw, scale_grad_by_freq=True).sum().backward()
    _close(cw.grad, tw.grad)


def _mha_args(rng, e=4, bias_kv=True):
    def arr(*s):
        return rng.standard_normal(s)

    return [arr(3 * e, e), arr(3 * e), arr(e) if bias_kv else None, arr(e) if bias_kv else None]


@pytest.mark.parametrize("add_zero_attn", [False, True])
@pytest.mark.parametrize("batched", [True, False])
def test_multi_head_attention_forward_bias_kv_zero_attn(add_zero_attn, batched):
    rng = np.random.default_rng(4)
    e, heads = 4, 2
    lead = (3, 2) if batched else (3,)
    q, k, v = (rng.standard_normal((*lead, e)) for _ in range(3))
    w_in, b_in, bk, bv = _mha_args(rng, e)
    w_out, b_out = rng.standard_normal((e, e)), rng.standard_normal(e)
    arrays = [q, k, v, w_in, b_in, bk, bv, w_out, b_out]
    crs, ths = zip(*(_pair(a) for a in arrays))
    mask = rng.standard_normal((3, 3))

    def call(lib, fn, ts, m):
        q_, k_, v_, wi, bi, bk_, bv_, wo, bo = ts
        return fn(q_, k_, v_, e, heads, wi, bi, bk_, bv_, add_zero_attn, 0.0, wo, bo, attn_mask=m)

    out, w = call(cr, F.multi_head_attention_forward, crs, cr.tensor(mask))
    tout, tw = call(torch, TF.multi_head_attention_forward, ths, torch.tensor(mask))
    _close(out, tout)
    _close(w, tw)
    g = rng.standard_normal(out.shape)
    out.backward(cr.tensor(g))
    tout.backward(torch.tensor(g))
    for a, b in zip(crs, ths):
        _close(a.grad, b.grad, rtol=1e-6)


def test_multihead_attention_module_add_bias_kv_matches_torch():
    th = torch.nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True).double()
    ours = nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True, dtype=np.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in th.state_dict().items()})
    x = np.random.default_rng(5).standard_normal((3, 2, 4))
    out, w = ours(cr.tensor(x), cr.tensor(x), cr.tensor(x))
    tout, tw = th(torch.tensor(x), torch.tensor(x), torch.tensor(x))
    _close(out, tout)
    _close(w, tw)


# ---------------------------------------------------------------------------- new ops: errors and forms
@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: F.glu(cr.randn(3)), RuntimeError, "Halving dimension must be even"),
        (lambda: F.glu(cr.tensor(1.0)), RuntimeError, "scalars"),
        (lambda: F.softshrink(cr.randn(3), -1.0), RuntimeError, "lambda must be greater or equal to 0"),
        (lambda: F.prelu(cr.randn(2, 3), cr.ones(2)), RuntimeError, "channel size = 3"),
        (lambda: F.threshold(cr.tensor([1, 2]), 0.5, 0.0), NotImplementedError, "threshold"),
        (lambda: cr.cdist(cr.randn(2, 3), cr.randn(2, 3), -1.0), RuntimeError, "non-negative p"),
        (lambda: cr.cdist(cr.randn(2, 3), cr.randn(2, 4)), RuntimeError, "same number of columns"),
        (lambda: cr.cdist(cr.randn(3), cr.randn(2, 3)), RuntimeError, "at least 2D"),
        (lambda: F.pdist(cr.randn(3)), RuntimeError, "2D"),
        (lambda: F.multi_margin_loss(cr.randn(2, 3), cr.tensor([0, 1]), p=3), ValueError, "p == 1"),
        (lambda: F.multi_margin_loss(cr.randn(2, 3), cr.tensor([0, 3])), IndexError, "target out of range"),
        (lambda: F.multilabel_margin_loss(cr.randn(2, 3), cr.tensor([0, 1])), RuntimeError, "target size"),
        (
            lambda: F.gaussian_nll_loss(cr.randn(2, 3), cr.randn(2, 3), cr.ones(3, 2)),
            ValueError,
            "incorrect size",
        ),
        (lambda: F.gaussian_nll_loss(cr.randn(2), cr.randn(2), -cr.ones(2)), ValueError, "negative"),
        (lambda: F.cosine_embedding_loss(cr.randn(2, 3), cr.randn(2, 3), cr.ones(2, 1)), RuntimeError, "1D"),
        (lambda: F.local_response_norm(cr.randn(2, 3), 2), ValueError, "3D or higher"),
        (lambda: F.rms_norm(cr.randn(2, 3), (4,)), ValueError, "normalized_shape"),
        (lambda: nn.TripletMarginLoss(margin=0.0), ValueError, "greater than 0"),
        (lambda: nn.MultiMarginLoss(p=3), ValueError, "p == 1"),
    ],
)
def test_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_rrelu_training_gradient_is_the_sampled_slope():
    cr.manual_seed(0)
    a = np.array([-2.0, -1.0, 0.5, 3.0, -0.25])
    x = cr.tensor(a, requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    y.sum().backward()
    slope = y.data / a
    np.testing.assert_allclose(x.grad.data, slope)
    assert np.all((slope[a < 0] >= 0.1) & (slope[a < 0] <= 0.3)) and np.all(slope[a > 0] == 1)
    _close(F.rrelu(cr.tensor(a), 0.1, 0.3), TF.rrelu(torch.tensor(a), 0.1, 0.3))


def test_cdist_zero_distance_gradient_and_batches():
    rng = np.random.default_rng(6)
    a = rng.standard_normal((2, 3, 4))
    b = np.concatenate([a[:, :1], rng.standard_normal((2, 2, 4))], axis=1)  # a zero distance
    for p in (2.0, 1.0, 0.5):
        (x1, t1), (x2, t2) = _pair(a), _pair(b)
        y, ty = cr.cdist(x1, x2, p), torch.cdist(t1, t2, p)
        _close(y, ty)
        g = rng.standard_normal(y.shape)
        y.backward(cr.tensor(g))
        ty.backward(torch.tensor(g))
        _close(x1.grad, t1.grad)
        _close(x2.grad, t2.grad)


def test_gaussian_nll_loss_var_forms():
    rng = np.random.default_rng(7)
    a, t = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    for var in (rng.uniform(0.5, 2, (3,)), rng.uniform(0.5, 2, (3, 1)), np.array([[0.0] * 4] * 3)):
        y = F.gaussian_nll_loss(cr.tensor(a), cr.tensor(t), cr.tensor(var), reduction="none")
        _close(y, TF.gaussian_nll_loss(torch.tensor(a), torch.tensor(t), torch.tensor(var), reduction="none"))
    y = F.gaussian_nll_loss(cr.tensor(a), cr.tensor(t), 0.7, full=True)
    _close(y, TF.gaussian_nll_loss(torch.tensor(a), torch.tensor(t), 0.7, full=True))


def test_losses_accept_legacy_reduction_flags():
    a, b = np.array([0.5, -1.0, 2.0]), np.array([1.0, -1.0, 1.0])
    y = F.soft_margin_loss(cr.tensor(a), cr.tensor(b), size_average=False)
    _close(y, TF.soft_margin_loss(torch.tensor(a), torch.tensor(b), size_average=False))


# ---------------------------------------------------------------------------- modules vs torch
_MODULES = [
    ("GLU", (), (4, 6)),
    ("PReLU", (3,), (2, 3, 4)),
    ("RReLU", (), (2, 5)),
    ("Threshold", (0.1, -2.0), (2, 5)),
    ("Hardshrink", (0.7,), (2, 5)),
    ("Softshrink", (), (2, 5)),
    ("Tanhshrink", (), (2, 5)),
    ("RMSNorm", ((5,),), (3, 5)),
    ("LocalResponseNorm", (2,), (2, 4, 3)),
]


@pytest.mark.parametrize(("name", "args", "shape"), _MODULES, ids=[m[0] for m in _MODULES])
def test_modules_match_torch(name, args, shape):
    th = getattr(torch.nn, name)(*args).double().eval()
    ours = getattr(nn, name)(*args).eval()
    ours.load_state_dict({k: v.detach().numpy() for k, v in th.state_dict().items()})
    assert repr(ours) == repr(th)
    a = np.random.default_rng(8).standard_normal(shape)
    x, tx = _pair(a)
    y, ty = ours(x), th(tx)
    _close(y, ty)
    g = np.random.default_rng(9).standard_normal(y.shape)
    y.backward(cr.tensor(g))
    ty.backward(torch.tensor(g))
    _close(x.grad, tx.grad)
    for (k, p), (_, tp) in zip(ours.named_parameters(), th.named_parameters()):
        _close(p.grad, tp.grad)


def _signs(n):
    return np.where(np.arange(n) % 2, 1.0, -1.0)


_LOSSES = [
    ("MarginRankingLoss", {"margin": 0.2}, lambda r: [r((4,)), r((4,))], lambda r: _signs(4)),
    ("HingeEmbeddingLoss", {"margin": 0.5}, lambda r: [r((4,))], lambda r: _signs(4)),
    ("SoftMarginLoss", {}, lambda r: [r((4,))], lambda r: _signs(4)),
    ("MultiLabelSoftMarginLoss", {}, lambda r: [r((2, 3))], lambda r: np.array([[1.0, 0, 1], [0, 0, 1]])),
    ("MultiLabelMarginLoss", {}, lambda r: [r((2, 3))], lambda r: np.array([[2, 0, -1], [1, -1, 0]])),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5}, lambda r: [r((3, 4))], lambda r: np.array([0, 3, 1])),
    ("CosineEmbeddingLoss", {"margin": 0.1}, lambda r: [r((3, 4)), r((3, 4))], lambda r: _signs(3)),
    ("PoissonNLLLoss", {"full": True}, lambda r: [r((5,))], lambda r: np.array([0.0, 1, 2, 3, 7])),
]


@pytest.mark.parametrize(("name", "kw", "inputs", "target"), _LOSSES, ids=[m[0] for m in _LOSSES])
def test_loss_modules_match_torch(name, kw, inputs, target):
    rng = np.random.default_rng(10)
    arrays = inputs(rng.standard_normal)
    t = target(rng)
    th, ours = getattr(torch.nn, name)(**kw), getattr(nn, name)(**kw)
    assert repr(ours) == repr(th)
    crs, ths = zip(*(_pair(a) for a in arrays))
    if len(arrays) == 2:
        y, ty = ours(*crs, cr.tensor(t)), th(*ths, torch.tensor(t))
    else:
        y, ty = ours(crs[0], cr.tensor(t)), th(ths[0], torch.tensor(t))
    _close(y, ty)
    y.backward()
    ty.backward()
    for a, b in zip(crs, ths):
        _close(a.grad, b.grad)


def test_triplet_and_distance_modules_match_torch():
    rng = np.random.default_rng(11)
    arrays = [rng.standard_normal((3, 4)) for _ in range(3)]
    crs, ths = zip(*(_pair(a) for a in arrays))
    pairs = [
        (nn.TripletMarginLoss(margin=0.5, swap=True), torch.nn.TripletMarginLoss(margin=0.5, swap=True)),
        (
            nn.TripletMarginWithDistanceLoss(distance_function=nn.PairwiseDistance(p=1.0)),
            torch.nn.TripletMarginWithDistanceLoss(distance_function=torch.nn.PairwiseDistance(p=1.0)),
        ),
    ]
    for ours, th in pairs:
        _close(ours(*crs), th(*ths))
    _close(nn.CosineSimilarity(dim=0)(crs[0], crs[1]), torch.nn.CosineSimilarity(dim=0)(ths[0], ths[1]))
    _close(
        nn.PairwiseDistance(keepdim=True)(crs[0], crs[1]),
        torch.nn.PairwiseDistance(keepdim=True)(ths[0], ths[1]),
    )
    y = nn.GaussianNLLLoss(full=True)(crs[0], crs[1], cr.ones(3, 1))
    _close(y, torch.nn.GaussianNLLLoss(full=True)(ths[0], ths[1], torch.ones(3, 1, dtype=torch.float64)))


def test_onnx_export_names_an_unconverted_new_function():
    pytest.importorskip("onnx")

    class Net(nn.Module):
        def forward(self, x):
            return F.hardshrink(x)

    with pytest.raises(NotImplementedError, match="Hardshrink"):
        cr.onnx.export(Net(), cr.randn(2, 3), None)
