"""Tests of the fourth-cumulant data objective (objectives.CumulantObjective) and the sample cumulant of
landscape_lib.dictionary: unbiasedness for tight and non-tight frames by Monte Carlo, Taylor slopes of the
gradient and Hessian-vector product, closed forms, and the solvers running on it through their one code path."""

import numpy as np
import pytest

from landscape_lib import dictionary, generators, objectives, solvers, sphere
from landscape_lib.testing import taylor_check


def _retraction(q, v, t):
    return (q + t * v) / np.linalg.norm(q + t * v)


def _frames(seed):
    return {"tight": generators.tight_frame(6, 15, rng=seed), "random": generators.random_frame(6, 15, rng=seed)}


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("kind", ["tight", "random"])
def test_cumulant_is_unbiased_for_any_frame(seed, kind):
    """Mean of independent unbiased batch estimates against 3θ(1-θ)‖Aᵀq‖⁴₄, for tight and non-tight frames.

    Error bar: the standard error of the mean of 40 batch estimates (their sample standard deviation / √40);
    the test allows 4.5 standard errors (a two-sided normal tail of 7e-6 per point, so over the 24 points of
    this test a false failure has probability below 2e-4)."""
    A = _frames(seed)[kind]
    theta = [0.1, 0.3][seed % 2]
    q = sphere.random_points(6, (3,), rng=seed + 10)
    mc = dictionary.monte_carlo_fourth_cumulant(A, q, theta, 400_000, batches=40, rng=seed + 20)
    exact = 3 * theta * (1 - theta) * np.sum((q @ A) ** 4, axis=-1)
    assert np.all(np.abs(mc.mean - exact) < 4.5 * mc.stderr)


def test_plain_moment_is_biased_on_a_non_tight_frame_but_the_cumulant_is_not():
    """The same Monte Carlo bound that accepts the cumulant rejects the plain fourth moment as an estimate of
    c1‖Aᵀq‖⁴₄ + c2 with the tight-frame constant c2 (the distortion the cumulant removes)."""
    A = generators.random_frame(6, 15, rng=3)
    theta = 0.2
    U = np.linalg.svd(A)[0]
    q = np.stack([U[:, 0], U[:, -1]])
    c1, c2_tight = dictionary.expectation_constants(6, 15, theta)
    moment = dictionary.monte_carlo_fourth_moment(A, q, theta, 400_000, rng=4)
    tensor = np.sum((q @ A) ** 4, axis=-1)
    assert np.all(np.abs(moment.mean - (c1 * tensor + c2_tight)) > 10 * moment.stderr)
    cum = dictionary.monte_carlo_fourth_cumulant(A, q, theta, 400_000, batches=40, rng=5)
    assert np.all(np.abs(cum.mean - c1 * tensor) < 4.5 * cum.stderr)


def test_sample_cumulant_is_the_objective_and_the_closed_form():
    A = generators.random_frame(5, 9, rng=0)
    theta = 0.3
    Y, _ = dictionary.sample_data(A, 300, theta, rng=1)
    f = objectives.CumulantObjective(Y, theta)
    q = sphere.random_points(5, (4,), rng=2)
    z = q @ Y
    p = Y.shape[1]
    plug_in = np.mean(z**4, axis=-1) - 3 * np.mean(z**2, axis=-1) ** 2
    unbiased = dictionary.sample_fourth_cumulant(Y, q)
    np.testing.assert_allclose(unbiased, (p * plug_in + 2 * np.mean(z**4, axis=-1)) / (p - 1), rtol=1e-12)
    np.testing.assert_allclose(f.sample_cumulant(q), unbiased, rtol=1e-12)
    np.testing.assert_allclose(f.value(q), -unbiased / (12 * theta * (1 - theta)), rtol=1e-12)
    val, _ = f.value_and_gradient(q)
    np.testing.assert_allclose(val, f.value(q), rtol=1e-12)


def _cumulant(seed, n=6, m=15, p=400, theta=0.2):
    A = generators.random_frame(n, m, rng=seed)
    return A, objectives.CumulantObjective(dictionary.sample_data(A, p, theta, rng=seed + 1)[0], theta)


@pytest.mark.parametrize("seed", range(5))
def test_taylor_slopes_along_retraction(seed):
    _, f = _cumulant(seed)
    q = sphere.random_points(6, rng=seed + 100)
    v = sphere.project(q, np.random.default_rng(seed + 200).standard_normal(6))
    v /= np.linalg.norm(v)
    chk = taylor_check(f.value, q, v, f.gradient(q), f.hessian_vector(q, v), path=_retraction,
                       steps=np.logspace(-2, -3.8, 6))
    assert 1.9 < chk.slope_first < 3.1
    assert chk.slope_second > 2.9


@pytest.mark.parametrize("seed", range(3))
def test_euclidean_taylor_slopes_and_matrices(seed):
    _, f = _cumulant(seed)
    x = 1.7 * sphere.random_points(6, rng=seed + 4)
    v = np.random.default_rng(seed + 5).standard_normal(6)
    chk = taylor_check(f.value, x, v, f.euclidean_gradient(x), f.euclidean_hessian_vector(x, v),
                       steps=np.logspace(-1.5, -4, 6))
    assert 1.9 < chk.slope_first < 3.1
    assert chk.slope_second > 2.9
    np.testing.assert_allclose(f.euclidean_hessian(x) @ v, f.euclidean_hessian_vector(x, v), atol=1e-12)
    q = x / np.linalg.norm(x)
    t = sphere.project(q, v)
    np.testing.assert_allclose(f.hessian(q) @ t, f.hessian_vector(q, t), atol=1e-12)


def test_a_wrong_hessian_fails_the_taylor_check():
    _, f = _cumulant(7)
    q = sphere.random_points(6, rng=8)
    v = sphere.project(q, np.random.default_rng(9).standard_normal(6))
    # the Euclidean Hessian lacks the curvature term of the sphere: slope 2, not 3
    chk = taylor_check(f.value, q, v, f.gradient(q), f.euclidean_hessian(q) @ v, path=_retraction)
    assert abs(chk.slope_second - 2.0) < 0.1


def test_expectation_of_the_gradient_is_the_tensor_gradient():
    """Averaged over independent data sets, the Euclidean gradient (not only the Riemannian one) is the
    tensor objective's: the same power-iteration step in expectation, on a frame that is not tight."""
    A = generators.random_frame(5, 10, rng=11)
    theta, p, reps = 0.3, 2000, 300
    x = sphere.random_points(5, rng=12)
    rng = np.random.default_rng(13)
    grads = np.array([objectives.CumulantObjective(dictionary.sample_data(A, p, theta, rng=rng)[0], theta)
                      .euclidean_gradient(x) for _ in range(reps)])
    se = grads.std(axis=0, ddof=1) / np.sqrt(reps)
    target = objectives.TensorObjective(A).euclidean_gradient(x)
    assert np.all(np.abs(grads.mean(axis=0) - target) < 4.5 * se)


def test_solvers_run_on_it_and_gap_shrinks():
    A = generators.tight_frame(8, 12, rng=0)
    theta = 0.2
    Y, _ = dictionary.sample_data(A, 40_000, theta, rng=1)
    f = objectives.CumulantObjective(Y, theta)
    res = solvers.power_iteration(f, sphere.random_points(8, (20,), rng=2), tol=1e-7, max_iter=2000, polish=True)
    assert res.converged.all()
    assert np.all(np.max(np.abs(res.points @ A), axis=-1) > 0.9)
    grid = sphere.random_points(8, (200,), rng=3)
    small = objectives.CumulantObjective(Y[:, :1000], theta).gap(A, grid)
    assert f.gap(A, grid) < small


def test_errors():
    with pytest.raises(ValueError, match="p >= 2"):
        objectives.CumulantObjective(np.ones((3, 1)), 0.2)
    with pytest.raises(ValueError, match="nonzero sample"):
        objectives.CumulantObjective(np.zeros((3, 5)), 0.2)
    with pytest.raises(ValueError, match="theta"):
        objectives.CumulantObjective(np.ones((3, 5)), 1.0)
    with pytest.raises(ValueError, match="p >= 2"):
        dictionary.sample_fourth_cumulant(np.ones((3, 1)), np.ones(3))
    with pytest.raises(ValueError, match="n_samples"):
        dictionary.monte_carlo_fourth_cumulant(np.eye(3), np.eye(3)[0], 0.2, 10, batches=20)
