"""Tests of landscape_lib.ufm_critical: constructed critical points are strict saddles, certified."""

import math

import numpy as np
import pytest

from landscape_lib import losses, ufm, ufm_critical


@pytest.mark.parametrize("loss", ["ce", "mse", losses.get("label_smoothing", alpha=0.1),
                                  losses.get("focal", gamma=2.0)], ids=str)
def test_catalogue_points_are_strict_saddles(loss):
    K, n, d = 4, 5, 6
    lam = dict(lambda_W=5e-3, lambda_H=5e-3, lambda_b=1e-3, loss=loss)
    f_star = ufm.global_minimizer(K, n, d, **lam).loss
    for name, (cert, l_perp) in ufm_critical.catalogue(K, n, d, **lam).items():
        assert cert.grad_norm <= 1e-8, name
        assert cert.lambda_min < -1e-4, name
        assert cert.loss > f_star + 1e-4, name
        drop = ufm_critical.escape_profile(cert, [1e-2, -1e-2], **{k: v for k, v in lam.items()})
        assert np.all(drop < 0), name
        np.testing.assert_allclose(drop, 0.5e-4 * cert.lambda_min, rtol=0.05)
        if not math.isnan(l_perp):
            assert cert.lambda_min <= l_perp + 1e-9, name


def test_off_span_formula_matches_lanczos_and_origin():
    K, n, d = 4, 6, 6
    lam = dict(lambda_W=0.01, lambda_H=0.003, lambda_b=1e-3)
    origin = (np.zeros((K, d)), np.zeros((K, n, d)), np.zeros(K))
    assert ufm_critical.off_span_curvature(*origin, **lam) == pytest.approx(
        ufm.origin_min_eigenvalue(K, n, 0.01, 0.003), abs=1e-14)
    for r in (1, 2):
        p = ufm_critical.symmetric_critical_point(K, n, d, **lam, rank=r, rng=r)
        cert = ufm_critical.certify(*p, **lam)
        assert cert.grad_norm <= 1e-8
        assert cert.lambda_min == pytest.approx(ufm_critical.off_span_curvature(*p, **lam), abs=1e-8)


def test_symmetric_subspace_is_an_orthogonal_projection():
    K, n, d = 4, 3, 5
    P = ufm_critical.symmetric_subspace(K, n, d, rank=3, merge=[[0, 2]])
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, ufm.num_parameters(K, n, d)))
    np.testing.assert_allclose(P(P(x)), P(x), atol=1e-15)
    assert P(x) @ y == pytest.approx(x @ P(y), rel=1e-12)
    W, H, b = ufm.unpack(P(x), K, n, d)
    assert np.all(W[:, 3:] == 0) and np.allclose(W[0], W[2]) and b[0] == b[2]


def test_dropping_a_class_is_not_critical_and_newton_finds_a_saddle():
    K, n, d = 4, 5, 6
    lam = dict(lambda_W=5e-3, lambda_H=5e-3, lambda_b=1e-3)
    sol = ufm.global_minimizer(K, n, d, **lam)
    W, H = sol.W.copy(), sol.H.copy()
    W[-1], H[-1] = 0.0, 0.0
    assert ufm_critical.certify(W, H, sol.b, **lam).grad_norm > 0.05
    cert = ufm_critical.certify(*ufm_critical.newton_critical_point(W, H, sol.b, **lam), **lam)
    assert cert.grad_norm <= 1e-8 and cert.lambda_min < 0


def test_lipschitz_bound_dominates_curvature():
    K, n, d = 3, 4, 5
    lam = dict(lambda_W=0.01, lambda_H=0.02, lambda_b=1e-3)
    rng = np.random.default_rng(0)
    for _ in range(5):
        W, H, b = ufm.random_init(K, n, d, scale=3.0, rng=rng)
        level = ufm.loss(W, H, b, **lam)
        top = ufm.smallest_hessian_eigenpairs(W, H, b, **lam, largest=True)[0][0]
        assert top <= ufm_critical.gradient_lipschitz_bound(K, n, **lam, level=level)


def test_bad_arguments():
    with pytest.raises(ValueError, match="merge"):
        ufm_critical.symmetric_subspace(3, 2, 4, merge=[[0, 5]])
    with pytest.raises(ValueError, match="rank"):
        ufm_critical.symmetric_subspace(3, 2, 4, rank=5)
    with pytest.raises(ValueError, match="level"):
        ufm_critical.gradient_lipschitz_bound(3, 2, lambda_W=1.0, lambda_H=1.0, lambda_b=0.0, level=0.0)
