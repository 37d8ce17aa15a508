"""Tests of landscape_lib.ufm: derivatives, closed-form minimizer and threshold, curvature, the solver fit."""

import math

import numpy as np
import pytest

from landscape_lib import collapse, etf, testing, ufm


def lams(lw=5e-3, lh=5e-3, lb=1e-3):
    return dict(lambda_W=lw, lambda_H=lh, lambda_b=lb)


def flat_loss(K, n, d, lam):
    return lambda th: ufm.loss(*ufm.unpack(th, K, n, d), **lam)


def zero_point(K, n, d):
    return np.zeros((K, d)), np.zeros((K, n, d)), np.zeros(K)


# ---------------------------------------------------------------------------------------------------
# derivatives
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_and_hessian_taylor(seed):
    rng = np.random.default_rng(seed)
    K, n, d = 3, 4, 5
    lam = lams(0.02, 0.01, 0.03)
    W, H, b = ufm.random_init(K, n, d, scale=2.0, rng=rng)
    b = rng.standard_normal(K)
    theta = ufm.pack(W, H, b)
    v = rng.standard_normal(theta.size)
    _, grads = ufm.loss_and_gradient(W, H, b, **lam)
    hv = ufm.hessian_vector_product(W, H, b, *ufm.unpack(v, K, n, d), **lam)
    check = testing.taylor_check(flat_loss(K, n, d, lam), theta, v, ufm.pack(*grads), ufm.pack(*hv))
    assert abs(check.slope_first - 2) < 0.1
    assert abs(check.slope_second - 3) < 0.15
    # a wrong gradient is caught (slope 1)
    bad = testing.taylor_check(flat_loss(K, n, d, lam), theta, v, 1.1 * ufm.pack(*grads))
    assert bad.slope_first < 1.5


def test_gradient_central_differences_and_loss_value():
    rng = np.random.default_rng(5)
    K, n, d = 3, 2, 4
    lam = lams(0.1, 0.2, 0.3)
    W, H, b = ufm.random_init(K, n, d, rng=rng)
    b = rng.standard_normal(K)
    # the loss from its definition
    Hf = H.reshape(K * n, d)
    Z = Hf @ W.T + b
    y = ufm.labels_of(K, n)
    ce = np.mean([np.log(np.sum(np.exp(z))) - z[k] for z, k in zip(Z, y, strict=True)])
    expected = ce + 0.05 * np.sum(W**2) + 0.1 * np.sum(H**2) + 0.15 * np.sum(b**2)
    assert ufm.loss(W, H, b, **lam) == pytest.approx(expected, rel=1e-13)
    theta = ufm.pack(W, H, b)
    f = flat_loss(K, n, d, lam)
    num = np.array([(f(theta + 1e-6 * e) - f(theta - 1e-6 * e)) / 2e-6 for e in np.eye(theta.size)])
    _, grads = ufm.loss_and_gradient(W, H, b, **lam)
    np.testing.assert_allclose(ufm.pack(*grads), num, atol=1e-8)


def test_batched_equals_loop_and_dense_hessian_symmetric():
    rng = np.random.default_rng(1)
    K, n, d = 3, 2, 3
    lam = lams()
    Ws = rng.standard_normal((4, K, d))
    Hs = rng.standard_normal((4, K, n, d))
    bs = rng.standard_normal((4, K))
    vals = ufm.loss(Ws, Hs, bs, **lam)
    _, (gW, gH, gb) = ufm.loss_and_gradient(Ws, Hs, bs, **lam)
    for j in range(4):
        assert vals[j] == pytest.approx(ufm.loss(Ws[j], Hs[j], bs[j], **lam), rel=1e-14)
        _, g1 = ufm.loss_and_gradient(Ws[j], Hs[j], bs[j], **lam)
        np.testing.assert_allclose(ufm.pack(gW[j], gH[j], gb[j]), ufm.pack(*g1), rtol=1e-12, atol=1e-15)
    D = ufm.num_parameters(K, n, d)
    cols = [ufm.pack(*ufm.hessian_vector_product(Ws[0], Hs[0], bs[0], *ufm.unpack(e, K, n, d), **lam))
            for e in np.eye(D)]
    M = np.array(cols).T
    np.testing.assert_allclose(M, M.T, atol=1e-13)                    # the HVP is a symmetric operator
    np.testing.assert_allclose(ufm.hessian_matrix(Ws[0], Hs[0], bs[0], **lam), M, atol=1e-13)
    # A batch of points and one direction broadcast like the batch.
    dW, dH, db = rng.standard_normal((K, d)), rng.standard_normal((K, n, d)), rng.standard_normal(K)
    HW, HH, Hb = ufm.hessian_vector_product(Ws, Hs, bs, dW, dH, db, **lam)
    assert (HW.shape, HH.shape, Hb.shape) == (Ws.shape, Hs.shape, bs.shape)
    for j in range(4):
        one = ufm.hessian_vector_product(Ws[j], Hs[j], bs[j], dW, dH, db, **lam)
        np.testing.assert_allclose(ufm.pack(HW[j], HH[j], Hb[j]), ufm.pack(*one), rtol=1e-12, atol=1e-15)
    _, (gW, gH, gb) = ufm.loss_and_gradient(Ws, Hs[0], bs, **lam)           # one H for a batch of W, b
    assert gH.shape == Hs.shape


@pytest.mark.parametrize("method", ["gd", "adam", "lbfgs"])
def test_fit_records_loss_and_gradient(method):
    # fit steps on loss_and_gradient itself: its records are that function's values at the recorded points.
    K, n, d = 3, 4, 5
    lam = lams(1e-2, 1e-2, 1e-3)
    run = ufm.fit(K, n, d, **lam, method=method, steps=30, rng=np.int64(2), record_every=10, keep_snapshots=True)
    assert len(run.snapshots) == len(run.iterations) == len(run.metrics)
    for (W, H, b), f, gn, m in zip(run.snapshots, run.loss, run.grad_norm, run.metrics, strict=True):
        value, grads = ufm.loss_and_gradient(W, H, b, **lam)
        assert f == value
        assert gn == pytest.approx(np.linalg.norm(ufm.pack(*grads)), rel=1e-13)
        assert m == collapse.collapse_metrics(H.reshape(K * n, d), ufm.labels_of(K, n), W, b, K)
    np.testing.assert_array_equal(run.snapshots[-1][0], run.W)


def test_rotation_orbit_tangents_generic_and_degenerate_points():
    K, n, d = 3, 2, 4
    W, H, _ = ufm.random_init(K, n, d, rng=0)
    B = ufm.rotation_orbit_tangents(W, H)
    assert B.shape == (ufm.num_parameters(K, n, d), d * (d - 1) // 2)   # generic point: O(d) acts freely
    # the loss is invariant along the orbit, so at any point its gradient is orthogonal to the tangents
    _, grads = ufm.loss_and_gradient(W, H, np.zeros(K), **lams())
    assert np.linalg.norm(ufm.pack(*grads)) > 1e-3
    np.testing.assert_allclose(B.T @ ufm.pack(*grads), 0.0, atol=1e-12)
    assert ufm.rotation_orbit_tangents(np.zeros((K, d)), np.zeros((K, n, d))).shape[1] == 0
    assert ufm.rotation_orbit_tangents(np.zeros((K, 1)), np.zeros((K, n, 1))).shape[1] == 0
    with pytest.raises(ValueError, match="W"):
        ufm.rotation_orbit_tangents(np.zeros(3), H)


def test_pack_unpack_roundtrip():
    W, H, b = ufm.random_init(3, 4, 5, rng=0)
    W2, H2, b2 = ufm.unpack(ufm.pack(W, H, b), 3, 4, 5)
    np.testing.assert_array_equal(W, W2)
    np.testing.assert_array_equal(H, H2)
    np.testing.assert_array_equal(b, b2)


# ---------------------------------------------------------------------------------------------------
# closed form and threshold
# ---------------------------------------------------------------------------------------------------

CASES = [(2, 3, 3, 1e-2, 2e-2), (3, 5, 5, 5e-3, 5e-3), (4, 10, 6, 5e-3, 1e-3), (5, 4, 7, 1e-3, 1e-2),
         (10, 5, 12, 1e-3, 1e-3)]


@pytest.mark.parametrize("K,n,d,lw,lh", CASES)
@pytest.mark.parametrize("lb", [0.0, 1e-2])
def test_closed_form_is_stationary(K, n, d, lw, lh, lb):
    lam = lams(lw, lh, lb)
    for rng in (None, 3):
        sol = ufm.global_minimizer(K, n, d, **lam, rng=rng)
        assert sol.collapsed and sol.threshold < 1
        value, grads = ufm.loss_and_gradient(sol.W, sol.H, sol.b, **lam)
        assert np.linalg.norm(ufm.pack(*grads)) < 1e-8
        assert value == pytest.approx(sol.loss, rel=1e-13)
        np.testing.assert_allclose(np.sum(sol.W**2, axis=1), sol.rho, rtol=1e-12)
        np.testing.assert_allclose(np.linalg.norm(sol.H, axis=2) / np.linalg.norm(sol.W, axis=1)[:, None],
                                   math.sqrt(lw / (n * lh)), rtol=1e-12)
        m = collapse.collapse_metrics(sol.H.reshape(K * n, d), ufm.labels_of(K, n), sol.W, sol.b, K)
        assert max(abs(v) for v in m.as_dict().values()) < 1e-10


@pytest.mark.parametrize("K,n,d,lw,lh", CASES[:3])
def test_etf_family_minimum(K, n, d, lw, lh):
    rho = ufm.optimal_rho(K, n, lw, lh)
    c = math.sqrt(lw / (n * lh))
    s = c * rho
    phi = ufm.etf_family_loss(np.array([s * (1 - 1e-3), s, s * (1 + 1e-3)]), K, n, lw, lh)
    assert phi[1] < phi[0] and phi[1] < phi[2]
    assert phi[1] == pytest.approx(ufm.optimal_loss(K, n, lw, lh), rel=1e-13)
    # the family formula is the loss itself along the family
    for r in (0.5 * rho, 2 * rho):
        W = math.sqrt(r) * etf.simplex_etf(K, d)
        H = np.repeat(c * W[:, None, :], n, axis=1)
        assert ufm.loss(W, H, np.zeros(K), **lams(lw, lh, 0.0)) == pytest.approx(
            ufm.etf_family_loss(c * r, K, n, lw, lh), rel=1e-12)


@pytest.mark.parametrize("K,n,d,lw,lh", CASES)
def test_lbfgs_reaches_closed_form(K, n, d, lw, lh):
    lam = lams(lw, lh, 1e-3)
    sol = ufm.global_minimizer(K, n, d, **lam)
    for seed in (0, 1):
        run = ufm.fit(K, n, d, **lam, method="lbfgs", steps=3000, rng=seed, record_every=10_000)
        assert run.grad_norm[-1] < 1e-7
        assert run.loss[-1] == pytest.approx(sol.loss, rel=1e-9)
        np.testing.assert_allclose(np.sum(run.W**2, axis=1), sol.rho, rtol=1e-5)
        ratio = np.linalg.norm(run.H, axis=2) / np.linalg.norm(run.W, axis=1)[:, None]
        np.testing.assert_allclose(ratio, sol.feature_ratio, rtol=1e-5)
        m = run.metrics[-1]
        assert m.nc1 < 1e-8 and m.nc2_classifier < 1e-5 and m.nc3_ufm < 1e-5 and m.nc4 == 0


@pytest.mark.parametrize("method,steps,lr", [("gd", 3000, 1.0), ("adam", 3000, 0.01)])
def test_first_order_methods_reach_collapse(method, steps, lr):
    K, n, d = 3, 5, 5
    lam = lams(1e-2, 1e-2, 1e-3)
    sol = ufm.global_minimizer(K, n, d, **lam)
    run = ufm.fit(K, n, d, **lam, method=method, steps=steps, lr=lr, rng=0, record_every=500,
                    lr_decay_every=1000 if method == "adam" else None)
    assert run.loss[-1] == pytest.approx(sol.loss, rel=1e-6)
    assert run.metrics[-1].nc1 < 1e-6 and run.metrics[-1].nc3_ufm < 1e-3
    assert run.loss[0] > run.loss[-1]
    assert list(run.iterations) == list(range(0, steps + 1, 500))


@pytest.mark.parametrize("K,n", [(3, 5), (4, 10)])
def test_zero_solution_above_threshold(K, n):
    lw = lh = 1.5 / (K * math.sqrt(n))                                 # threshold 1.5
    lam = lams(lw, lh, 1e-3)
    assert ufm.threshold(K, n, lw, lh) == pytest.approx(1.5)
    sol = ufm.global_minimizer(K, n, K + 1, **lam)
    assert not sol.collapsed and sol.rho == 0.0 and not np.any(sol.W) and not np.any(sol.H)
    assert sol.loss == pytest.approx(math.log(K))
    assert ufm.loss(sol.W, sol.H, sol.b, **lam) == pytest.approx(math.log(K))
    run = ufm.fit(K, n, K + 1, **lam, method="lbfgs", steps=2000, rng=0)
    assert np.linalg.norm(run.W) < 1e-5 and np.linalg.norm(run.H) < 1e-5
    assert run.loss[-1] == pytest.approx(math.log(K), abs=1e-10)
    assert ufm.origin_min_eigenvalue(K, n, lw, lh) > 0


def test_threshold_switch_in_closed_form():
    K, n = 4, 10
    lam_star = 1 / (K * math.sqrt(n))
    assert ufm.optimal_rho(K, n, 0.99 * lam_star, 0.99 * lam_star) > 0
    assert ufm.optimal_rho(K, n, lam_star, lam_star) == 0.0
    assert ufm.optimal_rho(K, n, 0.999999 * lam_star, 0.999999 * lam_star) < 1e-4    # continuous
    assert ufm.optimal_loss(K, n, 0.999999 * lam_star, 0.999999 * lam_star) == pytest.approx(math.log(K),
                                                                                           rel=1e-6)


# ---------------------------------------------------------------------------------------------------
# curvature
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("factor", [0.3, 0.9, 1.1, 3.0])
@pytest.mark.parametrize("lw_over_lh", [1.0, 4.0])
def test_origin_min_eigenvalue_closed_form(factor, lw_over_lh):
    K, n, d = 3, 4, 4
    # choose lambdas with K sqrt(n lw lh) = factor
    lh = factor / (K * math.sqrt(n * lw_over_lh))
    lw = lw_over_lh * lh
    assert ufm.threshold(K, n, lw, lh) == pytest.approx(factor)
    lam = lams(lw, lh, 0.5)
    expected = ufm.origin_min_eigenvalue(K, n, lw, lh, 0.5)
    assert (expected < 0) == (factor < 1)
    assert expected == min(ufm.origin_min_eigenvalue(K, n, lw, lh), 0.5)
    vals, vecs = ufm.smallest_hessian_eigenpairs(*zero_point(K, n, d), **lam, k=1)
    assert vals[0] == pytest.approx(expected, rel=1e-9, abs=1e-12)
    dense = np.linalg.eigvalsh(ufm.hessian_matrix(*zero_point(K, n, d), **lam))
    assert dense[0] == pytest.approx(expected, rel=1e-10, abs=1e-12)
    if factor < 1:                                  # a step along the eigenvector decreases the loss
        f = flat_loss(K, n, d, lam)
        t = 1e-2
        drop = f(t * vecs[:, 0]) - f(np.zeros(vecs.shape[0]))
        assert drop < 0
        assert drop == pytest.approx(0.5 * t**2 * expected, rel=1e-2)


def test_origin_bias_block_and_largest_eigenvalue():
    K, n, d = 3, 4, 4
    lw = lh = 2.0 / (K * math.sqrt(n))                        # above the threshold
    lam = lams(lw, lh, 1e-3)                                  # the b block (lambda_b along 1) is smallest
    vals, _ = ufm.smallest_hessian_eigenpairs(*zero_point(K, n, d), **lam, k=1)
    assert vals[0] == pytest.approx(1e-3, rel=1e-9)
    assert ufm.origin_min_eigenvalue(K, n, lw, lh, 1e-3) == 1e-3
    dense = np.linalg.eigvalsh(ufm.hessian_matrix(*zero_point(K, n, d), **lam))
    top, _ = ufm.smallest_hessian_eigenpairs(*zero_point(K, n, d), **lam, k=2, largest=True)
    np.testing.assert_allclose(top, dense[-2:], rtol=1e-9)


@pytest.mark.parametrize("K,d", [(3, 5), (4, 6)])
def test_minimizer_hessian_psd_with_rotation_null_space(K, d):
    n = 3
    lam = lams(1e-2, 2e-2, 1e-2)
    sol = ufm.global_minimizer(K, n, d, **lam, rng=1)
    Hm = ufm.hessian_matrix(sol.W, sol.H, sol.b, **lam)
    vals, vecs = np.linalg.eigh(Hm)
    tol = 1e-9
    zero = np.abs(vals) <= tol
    assert vals[0] > -tol
    assert zero.sum() == ufm.rotation_orbit_dimension(K, d)
    assert ufm.rotation_orbit_dimension(3, 5) == 7
    assert vals[~zero].min() > 1e-4                                    # the rest is clearly positive
    # the null space is exactly the tangent space of the orbit W R^T, R H (R = exp(S), S skew)
    tangents = []
    for i in range(d):
        for j in range(i + 1, d):
            S = np.zeros((d, d))
            S[i, j], S[j, i] = 1.0, -1.0
            tangents.append(ufm.pack(sol.W @ S.T, sol.H @ S.T, np.zeros(K)))
    T = np.linalg.svd(np.array(tangents).T, full_matrices=False)[0]
    T = T[:, : ufm.rotation_orbit_dimension(K, d)]
    N0 = vecs[:, zero]
    np.testing.assert_allclose(np.linalg.svd(T.T @ N0, compute_uv=False), 1.0, atol=1e-6)
    # the library's basis of the tangent space spans the same space, and the Hessian vanishes on it
    B = ufm.rotation_orbit_tangents(sol.W, sol.H)
    assert B.shape == (Hm.shape[0], ufm.rotation_orbit_dimension(K, d))
    np.testing.assert_allclose(B.T @ B, np.eye(B.shape[1]), atol=1e-12)
    np.testing.assert_allclose(np.linalg.svd(T.T @ B, compute_uv=False), 1.0, atol=1e-10)
    assert np.linalg.norm(Hm @ B) < 1e-10
    # Lanczos agrees on the smallest eigenvalues
    lz, _ = ufm.smallest_hessian_eigenpairs(sol.W, sol.H, sol.b, **lam, k=zero.sum() + 1)
    np.testing.assert_allclose(lz, vals[: zero.sum() + 1], atol=1e-9)


# ---------------------------------------------------------------------------------------------------
# fixed classifier, slices, errors
# ---------------------------------------------------------------------------------------------------

def test_fixed_etf_classifier_reaches_same_optimum():
    K, n, d = 4, 5, 6
    lam = lams(5e-3, 5e-3, 1e-3)
    sol = ufm.global_minimizer(K, n, d, **lam)
    W_fixed = math.sqrt(sol.rho) * etf.simplex_etf(K, d, rng=7)
    run = ufm.fit(K, n, d, **lam, method="lbfgs", steps=2000, rng=0, fixed_W=W_fixed)
    np.testing.assert_array_equal(run.W, W_fixed)
    assert run.loss[-1] == pytest.approx(sol.loss, rel=1e-9)
    assert run.metrics[-1].nc1 < 1e-8 and run.metrics[-1].nc3_ufm < 1e-5
    run_adam = ufm.fit(K, n, d, **lam, method="adam", steps=50, rng=0, fixed_W=W_fixed)
    np.testing.assert_array_equal(run_adam.W, W_fixed)


def test_loss_slice_matches_pointwise():
    K, n, d = 3, 2, 4
    lam = lams()
    rng = np.random.default_rng(0)
    D = ufm.num_parameters(K, n, d)
    c, u, v = rng.standard_normal((3, D))
    a, bta = np.linspace(-1, 1, 4), np.linspace(-2, 2, 3)
    Z = ufm.loss_slice(c, u, v, a, bta, K=K, n=n, d=d, **lam)
    assert Z.shape == (3, 4)
    f = flat_loss(K, n, d, lam)
    for j, bj in enumerate(bta):
        for i, ai in enumerate(a):
            assert Z[j, i] == pytest.approx(f(c + ai * u + bj * v), rel=1e-13)


def test_errors():
    K, n, d = 3, 2, 4
    W, H, b = ufm.random_init(K, n, d, rng=0)
    with pytest.raises(ValueError, match="lambda_W"):
        ufm.loss(W, H, b, lambda_W=0.0, lambda_H=1.0, lambda_b=0.0)
    with pytest.raises(ValueError, match="lambda_b"):
        ufm.loss(W, H, b, lambda_W=1.0, lambda_H=1.0, lambda_b=-1.0)
    with pytest.raises(ValueError, match="H must have shape"):
        ufm.loss(W, H[..., :3], b, **lams())
    with pytest.raises(ValueError, match="b must have shape"):
        ufm.loss(W, H, b[:2], **lams())
    with pytest.raises(ValueError, match="method"):
        ufm.fit(K, n, d, **lams(), method="sgd")
    for bad in (dict(steps=0), dict(steps=2.5), dict(record_every=True), dict(lr_decay_every=0),
                dict(lr_decay=-0.1), dict(gtol=0.0), dict(lr=-1.0)):
        with pytest.raises(ValueError, match=next(iter(bad))):
            ufm.fit(K, n, d, **lams(), **bad)
    with pytest.raises(ValueError, match="K must be >= 2"):
        ufm.rotation_orbit_dimension(1, 3)
    with pytest.raises(ValueError, match="d must be >= 2"):
        ufm.rotation_orbit_dimension(3, 1)
    with pytest.raises(ValueError, match="d >= K - 1"):
        ufm.global_minimizer(4, 2, 2, **lams())
    with pytest.raises(ValueError, match="theta"):
        ufm.unpack(np.zeros(5), K, n, d)
    with pytest.raises(ValueError, match="K >= 2"):
        ufm.threshold(1, 3, 0.1, 0.1)
    with pytest.raises(ValueError, match="fixed_W"):
        ufm.fit(K, n, d, **lams(), fixed_W=np.zeros((K, d + 1)))
    with pytest.raises(ValueError, match="finite"):
        ufm.loss(W * np.nan, H, b, **lams())


def test_lanczos_falls_back_to_dense_when_arpack_stalls(monkeypatch):
    """ARPACK's convergence on a cluster of zero eigenvalues depends on round-off; small operators are then
    decomposed densely with the same answer."""
    import scipy.sparse.linalg as sla

    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((30, 30)))
    lam = np.r_[np.zeros(6), np.linspace(0.5, 3.0, 24)] - 0.25
    M = (Q * lam) @ Q.T
    expected, _ = ufm.lanczos_eigenpairs(lambda v: M @ v, 30, k=2)

    def stalled(*args, **kwargs):
        raise sla.ArpackNoConvergence("no convergence", np.empty(0), np.empty((30, 0)))

    monkeypatch.setattr(sla, "eigsh", stalled)
    vals, vecs = ufm.lanczos_eigenpairs(lambda v: M @ v, 30, k=2)
    np.testing.assert_allclose(vals, expected, atol=1e-9)
    np.testing.assert_allclose(M @ vecs, vecs * vals, atol=1e-9)
    top, _ = ufm.lanczos_eigenpairs(lambda v: M @ v, 30, k=1, largest=True)
    np.testing.assert_allclose(top, [2.75], atol=1e-9)
