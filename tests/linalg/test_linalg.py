"""chainrule.linalg and the fused products: errors, keyword forms, edge cases, against torch."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def _pair(a: np.ndarray, requires_grad: bool = True):
    return cr.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


def _close(a, e, tol=1e-10):
    np.testing.assert_allclose(np.asarray(a.detach().numpy()), e.detach().numpy(), rtol=tol, atol=tol)


def _spd(n: int, seed: int = 0) -> np.ndarray:
    m = np.random.default_rng(seed).standard_normal((n, n))
    return m @ m.T + n * np.eye(n)


def test_namespace_is_the_package_and_import_stays_cheap():
    import chainrule.linalg as L

    assert cr.linalg is L and L.det is cr.det and issubclass(L.LinAlgError, RuntimeError)


@pytest.mark.parametrize("op", ["inv", "det", "slogdet", "cholesky", "eigh", "matrix_exp"])
def test_non_square_input_is_refused(op):
    with pytest.raises(RuntimeError, match="square"):
        getattr(cr.linalg, op)(cr.ones(2, 3, dtype="float64"))


def test_singular_inverse_and_solve_raise_linalg_error():
    with pytest.raises(cr.linalg.LinAlgError, match="singular"):
        cr.linalg.inv(cr.zeros(2, 2, dtype="float64"))
    with pytest.raises(cr.linalg.LinAlgError, match="singular"):
        cr.linalg.solve(cr.zeros(2, 2, dtype="float64"), cr.ones(2, dtype="float64"))


def test_cholesky_of_a_non_positive_definite_matrix_names_the_minor():
    a = np.diag([1.0, -1.0, 2.0])
    with pytest.raises(torch.linalg.LinAlgError, match="order 2"):
        torch.linalg.cholesky(torch.tensor(a))
    with pytest.raises(cr.linalg.LinAlgError, match="leading minor of order 2 is not positive-definite"):
        cr.linalg.cholesky(cr.tensor(a))


def test_out_is_refused_with_a_type_error():
    x = cr.eye(2, dtype="float64")
    with pytest.raises(TypeError, match="out="):
        cr.linalg.inv(x, out=x)
    with pytest.raises(TypeError, match="out="):
        cr.addmm(x, x, x, out=x)


def test_addmm_keywords_and_beta_zero_ignores_nan_input():
    m1, m2 = np.random.default_rng(1).standard_normal((2, 3, 3))
    inp = np.full((3,), np.nan)
    got = cr.addmm(cr.tensor(inp), cr.tensor(m1), cr.tensor(m2), beta=0, alpha=2.5)
    _close(got, torch.addmm(torch.tensor(inp), torch.tensor(m1), torch.tensor(m2), beta=0, alpha=2.5))
    got = cr.tensor(np.ones(3)).addmm(cr.tensor(m1), cr.tensor(m2), beta=0.5)
    _close(got, torch.ones(3, dtype=torch.float64).addmm(torch.tensor(m1), torch.tensor(m2), beta=0.5))


def test_cross_default_dim_is_the_first_of_size_3_and_linalg_cross_the_last():
    a, b = np.random.default_rng(2).standard_normal((2, 3, 3))
    _close(cr.cross(cr.tensor(a), cr.tensor(b)), torch.cross(torch.tensor(a), torch.tensor(b), dim=0))
    _close(cr.linalg.cross(cr.tensor(a), cr.tensor(b)), torch.linalg.cross(torch.tensor(a), torch.tensor(b)))
    with pytest.raises(RuntimeError, match="length 3"):
        cr.linalg.cross(cr.ones(2, 2), cr.ones(2, 2))


def test_det_gradient_and_second_order_match_torch():
    a = np.random.default_rng(3).standard_normal((2, 3, 3))
    x, t = _pair(a)
    (g,) = cr.grad(cr.linalg.det(x).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad(torch.linalg.det(t).sum(), t, create_graph=True)
    _close(g, tg)
    (gg,) = cr.grad((g * g).sum(), x)
    (tgg,) = torch.autograd.grad((tg * tg).sum(), t)
    _close(gg, tgg, 1e-8)


def test_cholesky_upper_and_eigvalsh_uplo_read_one_triangle():
    a = _spd(4)
    lower_only = np.tril(a) + np.triu(np.full((4, 4), 7.0), 1)  # garbage above the diagonal
    upper_only = np.triu(a) + np.tril(np.full((4, 4), -3.0), -1)
    x, t = _pair(lower_only)
    xu, tu = _pair(upper_only)
    _close(cr.linalg.cholesky(x), torch.linalg.cholesky(t))
    _close(cr.linalg.cholesky(xu, upper=True), torch.linalg.cholesky(tu, upper=True))
    _close(cr.cholesky(xu, True), torch.cholesky(tu, True))
    _close(cr.linalg.eigvalsh(x), torch.linalg.eigvalsh(t))
    _close(cr.linalg.eigvalsh(xu, UPLO="U"), torch.linalg.eigvalsh(tu, UPLO="U"))
    with pytest.raises(RuntimeError, match="UPLO"):
        cr.linalg.eigh(x, UPLO="X")


def test_eigh_and_svd_reconstruct_and_their_invariant_gradients_match_torch():
    a = np.random.default_rng(4).standard_normal((4, 3))
    x, t = _pair(a)
    U, S, Vh = cr.linalg.svd(x, full_matrices=False)
    _close(U @ (S.reshape(-1, 1) * Vh), t)
    loss = (U.abs() * 1.5).sum() + (Vh.abs() * 0.5).sum() + S.sum()
    tU, tS, tVh = torch.linalg.svd(t, full_matrices=False)
    tloss = (tU.abs() * 1.5).sum() + (tVh.abs() * 0.5).sum() + tS.sum()
    (g,) = cr.grad(loss, x)
    (tg,) = torch.autograd.grad(tloss, t)
    _close(g, tg, 1e-8)
    s = a.T @ a
    L, V = cr.linalg.eigh(cr.tensor(s))
    _close((V * L.reshape(1, -1)) @ V.mT, torch.tensor(s))


def test_qr_modes_and_the_refused_gradients():
    a = np.random.default_rng(5).standard_normal((4, 2))
    x, t = _pair(a)
    for mode in ("reduced", "complete"):
        for got, want in zip(cr.linalg.qr(x, mode=mode), torch.linalg.qr(t, mode=mode)):
            _close(got, want)
    Q, R = cr.linalg.qr(x, mode="r")
    assert Q.shape == (0,)
    with pytest.raises(RuntimeError, match="mode='r'"):
        R.sum().backward()
    Q, R = cr.linalg.qr(x, mode="complete")
    with pytest.raises(RuntimeError, match="complete"):
        Q.sum().backward()


def test_norm_orders_and_keywords():
    a = np.random.default_rng(6).standard_normal((2, 3, 4))
    x, t = _pair(a)
    for ord in ("fro", "nuc", 1, -1, 2, -2, float("inf"), -float("inf")):
        _close(
            cr.linalg.matrix_norm(x, ord, dim=(0, 2), keepdim=True),
            torch.linalg.matrix_norm(t, ord, dim=(0, 2), keepdim=True),
        )
    for ord in (0, 0.5, 1, 2, 3, -1.5, float("inf")):
        _close(cr.linalg.vector_norm(x, ord, dim=(1, 2)), torch.linalg.vector_norm(t, ord, dim=(1, 2)))
    got = cr.linalg.vector_norm(x, dtype=cr.float32)
    assert got.dtype == np.float32
    with pytest.raises(RuntimeError, match="1D or 2D"):
        cr.linalg.norm(x, 2)
    with pytest.raises(RuntimeError, match="floating"):
        cr.linalg.vector_norm(cr.tensor([1, 2]))


def test_pinv_lstsq_rank_of_a_rank_deficient_matrix():
    a = np.outer([1.0, 2.0, 3.0], [1.0, -1.0])
    x, t = _pair(a)
    _close(cr.linalg.pinv(x), torch.linalg.pinv(t))
    _close(cr.pinverse(x), torch.pinverse(t))
    assert cr.linalg.matrix_rank(x).item() == torch.linalg.matrix_rank(t).item() == 1
    assert cr.linalg.matrix_rank(x).dtype == np.int64
    b = np.random.default_rng(7).standard_normal((3, 2))
    got, want = (
        cr.linalg.lstsq(x, cr.tensor(b), driver="gelsd"),
        torch.linalg.lstsq(t, torch.tensor(b), driver="gelsd"),
    )
    assert [tuple(g.shape) for g in got] == [tuple(w.shape) for w in want]


def test_matrix_power_negative_zero_and_a_non_integer():
    a = _spd(3)
    x, t = _pair(a)
    for n in (-3, 0, 5):
        _close(cr.linalg.matrix_power(x, n), torch.linalg.matrix_power(t, n), 1e-8)
    with pytest.raises(TypeError, match="integer"):
        cr.linalg.matrix_power(x, 1.5)


def test_empty_and_batched_inputs():
    e = cr.zeros(0, 0, dtype="float64")
    assert cr.linalg.det(e).item() == torch.linalg.det(torch.zeros(0, 0)).item() == 1.0
    assert cr.linalg.inv(cr.zeros(2, 0, 0)).shape == (2, 0, 0)
    assert cr.linalg.svdvals(cr.zeros(3, 0)).shape == (0,)


def test_matrix_exp_of_a_nilpotent_and_a_large_matrix():
    n = np.array([[0.0, 1.0], [0.0, 0.0]])
    _close(cr.matrix_exp(cr.tensor(n)), torch.matrix_exp(torch.tensor(n)))
    big = np.random.default_rng(8).standard_normal((4, 4)) * 5
    _close(cr.linalg.matrix_exp(cr.tensor(big)), torch.linalg.matrix_exp(torch.tensor(big)), 1e-8)


def test_onnx_export_of_an_unconverted_linalg_op_names_the_function():
    pytest.importorskip("onnx")
    from chainrule import nn

    class Inverse(nn.Module):
        def forward(self, x):
            return cr.linalg.inv(x.reshape(-1, 2, 2))

    with pytest.raises(NotImplementedError, match="Inv"):
        cr.onnx.export(Inverse(), cr.randn(2, 4), None)


def test_onnx_det_runs_in_onnxruntime(tmp_path):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from chainrule import nn

    class Det(nn.Module):
        def forward(self, x):
            return cr.linalg.det(x.reshape(-1, 3, 3))

    path = tmp_path / "det.onnx"
    cr.onnx.export(Det(), cr.randn(2, 9), path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(13).standard_normal((5, 9)).astype(np.float32)
    (got,) = session.run(None, {session.get_inputs()[0].name: x})
    want = torch.linalg.det(torch.tensor(x).reshape(-1, 3, 3)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_lu_factor_pivots_and_solve_match_torch():
    a = np.random.default_rng(9).standard_normal((2, 4, 4))
    b = np.random.default_rng(10).standard_normal((2, 4, 3))
    x, t = _pair(a)
    LU, piv = cr.linalg.lu_factor(x)
    tLU, tpiv = torch.linalg.lu_factor(t)
    _close(LU, tLU)
    assert piv.dtype == np.int32 and piv.tolist() == tpiv.tolist()
    for kw in ({}, {"adjoint": True}, {"left": False}):
        rhs = b if kw.get("left", True) else b.swapaxes(-1, -2)
        _close(
            cr.linalg.lu_solve(LU, piv, cr.tensor(rhs), **kw),
            torch.linalg.lu_solve(tLU, tpiv, torch.tensor(rhs), **kw),
        )
    P, L, U = cr.linalg.lu(x)
    for got, want in zip((P, L, U), torch.linalg.lu(t)):
        _close(got, want)
    LU, piv, info = cr.lu(x, get_infos=True)
    assert info.dtype == np.int32 and info.tolist() == [0, 0]
    with pytest.raises(NotImplementedError, match="pivot=False"):
        cr.linalg.lu_factor(x, pivot=False)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3)])
def test_lu_of_a_rectangular_matrix_and_its_gradient(shape):
    a = np.random.default_rng(11).standard_normal(shape)
    x, t = _pair(a)
    w = np.random.default_rng(12).standard_normal(shape)
    (g,) = cr.grad((cr.linalg.lu_factor(x)[0] * cr.tensor(w)).sum(), x)
    (tg,) = torch.autograd.grad((torch.linalg.lu_factor(t)[0] * torch.tensor(w)).sum(), t)
    _close(g, tg, 1e-9)


def test_float32_stays_float32():
    a = cr.tensor(_spd(3).astype(np.float32))
    for out in (
        cr.linalg.inv(a),
        cr.linalg.det(a),
        cr.linalg.cholesky(a),
        cr.linalg.eigvalsh(a),
        cr.linalg.svdvals(a),
        cr.linalg.matrix_exp(a),
        cr.linalg.pinv(a),
        cr.linalg.lu_factor(a)[0],
        cr.linalg.matrix_norm(a, "nuc"),
    ):
        assert out.dtype == np.float32
