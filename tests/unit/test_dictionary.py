"""Tests of landscape_lib.dictionary (chapter 3): the generative model, the constants and the normalization, and
the expectation identity (closed form against Monte Carlo)."""

import numpy as np
import pytest

from landscape_lib import dictionary as dl
from landscape_lib import generators


def untf_two_bases(n, rng):
    """[I, Q] for a random orthogonal Q: a unit-norm tight frame with m = 2n, (n/m) A Aᵀ = I."""
    Q = generators.random_orthogonal(n, rng=rng)
    return np.hstack([np.eye(n), Q])


def random_unit_columns(n, m, rng):
    G = np.random.default_rng(rng).standard_normal((n, m))
    return G / np.linalg.norm(G, axis=0)


def random_unit_points(k, n, rng):
    G = np.random.default_rng(rng).standard_normal((k, n))
    return G / np.linalg.norm(G, axis=1, keepdims=True)


# --------------------------------------------------------------------------------------------- model

def test_bernoulli_gaussian_sparsity_and_seed():
    X = dl.bernoulli_gaussian(50, 4000, 0.2, rng=1)
    assert X.shape == (50, 4000)
    frac = np.mean(X != 0)
    # binomial standard deviation of the fraction: sqrt(0.2*0.8/2e5) ≈ 9e-4
    assert abs(frac - 0.2) < 5e-3
    np.testing.assert_array_equal(X, dl.bernoulli_gaussian(50, 4000, 0.2, rng=1))
    nz = X[X != 0]
    assert abs(nz.var() - 1.0) < 0.03


def test_sample_data_is_A_times_X():
    A = random_unit_columns(5, 9, 0)
    Y, X = dl.sample_data(A, 100, 0.3, rng=2)
    np.testing.assert_allclose(Y, A @ X)
    Y2, _ = dl.sample_data(A, 100, 0.3, rng=2)
    np.testing.assert_array_equal(Y, Y2)


# ------------------------------------------------------------------------------ expectation identity

def test_constants_match_closed_form_for_tight_frame():
    rng = np.random.default_rng(3)
    A = untf_two_bases(6, rng)
    n, m = A.shape
    np.testing.assert_allclose((n / m) * A @ A.T, np.eye(n), atol=1e-12)
    q = random_unit_points(7, n, rng)
    c1, c2 = dl.expectation_constants(n, m, 0.25, p=40)
    assert c1 == pytest.approx(3 * 0.25 * 0.75 * 40)
    assert c2 == pytest.approx(3 * 0.25**2 * 40 * (m / n) ** 2)
    expected = dl.expected_fourth_moment(A, q, 0.25, p=40)
    np.testing.assert_allclose(expected, c1 * np.sum((q @ A) ** 4, axis=1) + c2, rtol=1e-12)
    np.testing.assert_allclose(dl.constant_term(A, q, 0.25, p=40), c2, rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n, theta", [(6, 0.1), (5, 0.4)])
def test_identity_monte_carlo_tight_frame(seed, n, theta):
    # Confidence bound: |mean - closed form| <= 4.5 standard errors for every point (a two-sided
    # normal tail of 7e-6 per comparison; 5 points x 6 cases).
    rng = np.random.default_rng(100 + seed)
    A = untf_two_bases(n, rng)
    q = random_unit_points(5, n, rng)
    mc = dl.monte_carlo_fourth_moment(A, q, theta, 200_000, rng=rng)
    c1, c2 = dl.expectation_constants(*A.shape, theta)
    exact = c1 * np.sum((q @ A) ** 4, axis=1) + c2
    z = (mc.mean - exact) / mc.stderr
    assert np.all(np.abs(z) < 4.5), z
    lo, hi = mc.interval(4.5)
    assert np.all((lo < exact) & (exact < hi))


def test_identity_monte_carlo_separates_a_wrong_constant():
    # The test above can fail: swapping theta for theta**2 in c2 is rejected by the same bound.
    rng = np.random.default_rng(7)
    A = untf_two_bases(6, rng)
    q = random_unit_points(5, 6, rng)
    theta = 0.3
    mc = dl.monte_carlo_fourth_moment(A, q, theta, 200_000, rng=rng)
    c1, _ = dl.expectation_constants(*A.shape, theta)
    wrong = c1 * np.sum((q @ A) ** 4, axis=1) + 3 * theta * (A.shape[1] / A.shape[0]) ** 2
    assert np.all(np.abs(mc.mean - wrong) / mc.stderr > 10)


def test_non_tight_frame_constant_varies_over_sphere():
    rng = np.random.default_rng(11)
    A = random_unit_columns(6, 18, rng)
    q = random_unit_points(200, 6, rng)
    c2 = dl.constant_term(A, q, 0.2)
    assert c2.max() / c2.min() > 2.0
    # The general closed form still holds, checked by Monte Carlo at the two extreme points.
    pick = q[[np.argmin(c2), np.argmax(c2)]]
    mc = dl.monte_carlo_fourth_moment(A, pick, 0.2, 200_000, rng=rng)
    exact = dl.expected_fourth_moment(A, pick, 0.2)
    assert np.all(np.abs(mc.mean - exact) < 4.5 * mc.stderr)
    # ... while the tight-frame constant is wrong there.
    c1, c2_untf = dl.expectation_constants(6, 18, 0.2)
    untf_pred = c1 * np.sum((pick @ A) ** 4, axis=1) + c2_untf
    assert np.any(np.abs(mc.mean - untf_pred) > 10 * mc.stderr)


# ---------------------------------------------------------------------------------- the normalization

def test_normalization_makes_expectation_the_tensor_objective():
    rng = np.random.default_rng(5)
    A = untf_two_bases(5, rng)
    n, m = A.shape
    theta, p = 0.3, 1000
    q = random_unit_points(4, n, rng)
    # E f_Ytilde(q) = -(1/4) E||Y^T q||^4 / c1 = f_A(q) - gamma, with the closed form of the expectation
    c1, _ = dl.expectation_constants(n, m, theta, p)
    e_data = -0.25 * dl.expected_fourth_moment(A, q, theta, p) / c1
    f_A = -0.25 * np.sum((q @ A) ** 4, axis=1)
    np.testing.assert_allclose(e_data + dl.normalization_offset(n, m, theta), f_A, rtol=1e-12, atol=1e-12)
    assert dl.normalization_offset(n, m, theta) == pytest.approx(theta * (m / n) ** 2 / (4 * (1 - theta)))
    Y = rng.standard_normal((n, p))
    np.testing.assert_allclose(dl.normalize_data(Y, theta), Y / c1**0.25)


# ------------------------------------------------------------------------------------------- errors

@pytest.mark.parametrize("theta", [0.0, 1.0, -0.1, 1.5, True])
def test_theta_outside_open_interval(theta):
    with pytest.raises(ValueError, match="theta"):
        dl.bernoulli_gaussian(3, 10, theta)
    with pytest.raises(ValueError, match="theta"):
        dl.expectation_constants(3, 6, theta)
    with pytest.raises(ValueError, match="theta"):
        dl.normalize_data(np.ones((3, 10)), theta)


@pytest.mark.parametrize("p", [0, -3, 0.5, 2.0, True, np.int64(0)])
def test_p_below_one_or_not_integer(p):
    with pytest.raises(ValueError, match="^p must be"):
        dl.bernoulli_gaussian(3, p, 0.2)
    with pytest.raises(ValueError, match="^p must be"):
        dl.expectation_constants(3, 6, 0.2, p)
    with pytest.raises(ValueError, match="^p must be"):
        dl.sample_data(np.eye(3), p, 0.2)


def test_each_count_is_named_in_its_error():
    """Every integer argument is checked by _validation.check_scalar under its own name."""
    with pytest.raises(ValueError, match="^m must be >= 1; got 0"):
        dl.bernoulli_gaussian(0, 10, 0.2)
    with pytest.raises(ValueError, match="^n must be >= 1; got 0"):
        dl.expectation_constants(0, 6, 0.2)
    with pytest.raises(ValueError, match="^n_samples must be a finite integer"):
        dl.monte_carlo_fourth_moment(np.eye(3), np.eye(3)[0], 0.2, 10.0)
    with pytest.raises(ValueError, match="^chunk must be >= 1"):
        dl.monte_carlo_fourth_moment(np.eye(3), np.eye(3)[0], 0.2, 10, chunk=0)
    assert dl.bernoulli_gaussian(np.int64(2), np.int32(3), 0.2, rng=0).shape == (2, 3)  # numpy integers are integers


def test_shapes_that_do_not_fit():
    A = np.eye(3)
    with pytest.raises(ValueError, match="last dimension 3"):
        dl.expected_fourth_moment(A, np.array([1.0, 0, 0, 0]), 0.2)
    with pytest.raises(ValueError, match="unit sphere"):
        dl.constant_term(A, np.array([1.0, 1.0, 0]), 0.2)
    with pytest.raises(ValueError, match="dimension"):
        dl.sample_data(np.ones(3), 10, 0.2)
    with pytest.raises(ValueError, match="unit sphere"):
        dl.sample_data(2 * np.eye(3), 10, 0.2)
    with pytest.raises(ValueError, match="unit sphere"):
        dl.monte_carlo_fourth_moment(A, np.array([1.0, 1.0, 0]), 0.2, 100)


# ------------------------------------------------------------------------------------------- figures

def test_chapter_figures_build_and_stay_small():
    go = pytest.importorskip("plotly.graph_objects")
    from landscape_lib.sphere import lat_lon_mesh
    from landscape_lib.viz import dictionary as viz

    rng = np.random.default_rng(0)
    A = generators.random_orthogonal(3, rng=rng)
    mesh = lat_lon_mesh(9, 17)
    tensor = -0.25 * np.sum((mesh @ A) ** 4, axis=-1)
    data = np.stack([tensor + 0.01 * k for k in range(3)])
    fig = viz.landscape_convergence(mesh, tensor, data, [10, 100, 1000], columns=A)
    assert isinstance(fig, go.Figure) and len(fig.frames) == 3
    assert len(fig.layout.sliders[0].steps) == 3
    assert len(fig.to_json()) < 2 * 2**20
    fig = viz.gap_versus_samples([10, 100, 1000], [[1.0, 0.3, 0.1]], slope=-0.5, intercept=0.0)
    assert isinstance(fig, go.Figure)
    fig = viz.recovery_heatmap(np.eye(2), [1, 2], [3, 4], x_title="x", y_title="y")
    assert fig.data[0].z.shape == (2, 2)
    fig = viz.phase_transition([4, 6], [[4, 8], [6, 36]], np.ones((2, 2)), np.full((2, 2), 0.5))
    assert isinstance(fig, go.Figure)
