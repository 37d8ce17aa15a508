"""Tests of landscape_lib.ufm_sphere: Riemannian derivatives, training, angles, errors."""

import math

import numpy as np
import pytest

from landscape_lib import sphere, testing, ufm_sphere


def _path(K, n, d):
    def path(x, v, t):
        W = sphere.retract(x[: K * d].reshape(K, d), t * v[: K * d].reshape(K, d))
        H = sphere.retract(x[K * d:].reshape(K, n, d), t * v[K * d:].reshape(K, n, d))
        return np.concatenate([W.ravel(), H.ravel()])
    return path


@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_riemannian_derivatives_taylor(loss):
    K, n, d, tau = 3, 2, 4, 3.0
    W, H = ufm_sphere.random_point(K, n, d, rng=0)
    rng = np.random.default_rng(1)
    vW, vH = sphere.project(W, rng.standard_normal(W.shape)), sphere.project(H, rng.standard_normal(H.shape))
    _, gW, gH = ufm_sphere.riemannian_gradient(W, H, tau=tau, loss=loss)
    hW, hH = ufm_sphere.riemannian_hessian_vector(W, H, vW, vH, tau=tau, loss=loss)
    def f(x):
        return ufm_sphere.loss(x[: K * d].reshape(K, d), x[K * d:].reshape(K, n, d), tau=tau, loss=loss)

    flat = lambda a, b: np.concatenate([a.ravel(), b.ravel()])  # noqa: E731
    check = testing.taylor_check(f, flat(W, H), flat(vW, vH), flat(gW, gH), flat(hW, hH), path=_path(K, n, d))
    assert abs(check.slope_first - 2) < 0.1
    assert abs(check.slope_second - 3) < 0.15


@pytest.mark.parametrize(("K", "d"), [(4, 2), (6, 3)])
def test_training_reaches_best_arrangement(K, d):
    run = ufm_sphere.fit(K, 4, d, tau=5.0, steps=3000, lr=0.5, rng=0)
    assert run.grad_norm[-1] < 1e-4
    assert ufm_sphere.min_pairwise_angle(run.W) == pytest.approx(ufm_sphere.best_min_angle(K, d), abs=0.05)
    k = ufm_sphere.rotation_orbit_dimension(K, d, d) + 1
    vals, _ = ufm_sphere.smallest_hessian_eigenvalues(run.W, run.H, tau=5.0, k=k)
    assert vals[-1] > 1e-4                      # positive beyond the rotation orbit


def test_best_min_angle_and_errors():
    assert ufm_sphere.best_min_angle(3, 2) == pytest.approx(120.0)
    assert ufm_sphere.best_min_angle(4, 3) == pytest.approx(math.degrees(math.acos(-1 / 3)))
    assert ufm_sphere.best_min_angle(6, 3) == 90.0
    with pytest.raises(ValueError):
        ufm_sphere.best_min_angle(12, 3)
    with pytest.raises(ValueError, match="d"):
        ufm_sphere.random_point(3, 2, 0)
    with pytest.raises(ValueError, match="tau"):
        ufm_sphere.loss(*ufm_sphere.random_point(3, 2, 2, rng=0), tau=0.0)
    with pytest.raises(ValueError, match="loss must be one of"):
        ufm_sphere.fit(3, 2, 2, tau=1.0, loss="hinge", steps=1)


@pytest.mark.parametrize(("kw", "negative"), [(dict(rank=2), True), (dict(merge=[[0, 1]]), True),
                                              (dict(rank=1), True), (dict(rank=3), False)])
def test_symmetric_critical_points_certified(kw, negative):
    K, n, d, tau = 4, 2, 5, 5.0
    W, H = ufm_sphere.symmetric_critical_point(K, n, d, tau=tau, **kw)
    np.testing.assert_allclose(np.linalg.norm(W, axis=1), 1.0, atol=1e-14)
    cert = ufm_sphere.certify(W, H, tau=tau)
    assert cert.grad_norm < 1e-8
    if negative:
        assert cert.lambda_min < -1e-4
        t = np.array([1e-2, 1e-3])
        drop = ufm_sphere.escape_profile(cert, t, tau=tau)
        np.testing.assert_allclose(drop / (0.5 * t**2 * cert.lambda_min), 1.0, atol=0.05)
    else:                                       # rank K - 1: the simplex ETF, the global minimizer
        assert cert.lambda_min > -1e-8
        assert ufm_sphere.min_pairwise_angle(W) == pytest.approx(math.degrees(math.acos(-1 / 3)), abs=1e-6)


def test_minimize_on_spheres_keeps_radii_and_errors():
    target = np.array([3.0, 4.0])

    def fun(blocks):
        return float(-blocks[0] @ target), [-target]

    (x,), value, gn = ufm_sphere.minimize_on_spheres(fun, [np.array([1.0, -1.0])], [2.0])
    np.testing.assert_allclose(x, 2.0 * target / 5.0, atol=1e-7)
    assert value == pytest.approx(-10.0) and gn < 1e-6
    with pytest.raises(ValueError, match="one radius per block"):
        ufm_sphere.minimize_on_spheres(fun, [np.ones(2)], [1.0, 1.0])
    with pytest.raises(ValueError, match="radius"):
        ufm_sphere.minimize_on_spheres(fun, [np.ones(2)], [0.0])
    with pytest.raises(ValueError, match="merge"):
        ufm_sphere.symmetric_subspace(3, 2, 3, merge=[[0]])
