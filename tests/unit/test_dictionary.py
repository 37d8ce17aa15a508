"""Tests of landscape_lib.dictionary (chapter 3): the generative model, the expectation identity, the
normalized data objective, matching up to a signed permutation, whole-dictionary recovery and MSP."""

import numpy as np
import pytest

from landscape_lib import dictionary as dl
from landscape_lib import generators


def untf_two_bases(n, rng):
    """[I, Q] for a random orthogonal Q: a unit-norm tight frame with m = 2n, (n/m) A Aᵀ = I."""
    Q = dl.random_orthogonal(n, rng=rng)
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


# ------------------------------------------------------------------------- normalized data objective

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


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_data_objective_approaches_tensor_objective(seed):
    rng = np.random.default_rng(seed)
    A = untf_two_bases(4, rng)
    grid = random_unit_points(300, 4, rng)
    gaps = []
    for p in (1_000, 100_000):
        Y, _ = dl.sample_data(A, p, 0.3, rng=rng)
        gaps.append(dl.landscape_gap(A, Y, 0.3, grid))
    # Monte Carlo rate p^(-1/2): a factor 10 expected over a factor 100 in p.
    assert gaps[1] < gaps[0] / 3
    assert gaps[1] < 0.05


def test_prefix_objective_and_gaps_equal_one_call_per_p():
    # One pass with cumulative sums gives the same values as data_objective / landscape_gap on Y[:, :p],
    # for unsorted and repeated p, including p whose prefix contains all-zero samples.
    rng = np.random.default_rng(11)
    A = untf_two_bases(3, rng)
    Y, _ = dl.sample_data(A, 2_000, 0.1, rng=rng)
    q = random_unit_points(7, 3, 12).reshape(7, 1, 3)
    ps = [1_000, 10, 2_000, 10, 333]
    vals = dl.data_objective_prefixes(Y, q, 0.1, ps)
    assert vals.shape == (5, 7, 1)
    for k, p in enumerate(ps):
        np.testing.assert_allclose(vals[k], dl.data_objective(Y[:, :p], q, 0.1), rtol=1e-12, atol=1e-15)
    gaps = dl.landscape_gaps(A, Y, 0.1, q.reshape(7, 3), ps)
    np.testing.assert_allclose(gaps, [dl.landscape_gap(A, Y[:, :p], 0.1, q.reshape(7, 3)) for p in ps],
                               rtol=1e-12)
    with pytest.raises(ValueError, match="p_values must lie in"):
        dl.data_objective_prefixes(Y, q, 0.1, [0, 10])
    with pytest.raises(ValueError, match="p_values must lie in"):
        dl.data_objective_prefixes(Y, q, 0.1, [2_001])
    with pytest.raises(ValueError, match="integers"):
        dl.data_objective_prefixes(Y, q, 0.1, [10.5])


# ----------------------------------------------------------------------------------------- matching

@pytest.mark.parametrize("seed", range(5))
def test_matching_recovers_signed_permutation(seed):
    rng = np.random.default_rng(seed)
    A = random_unit_columns(8, 20, rng)
    perm = rng.permutation(20)
    signs = rng.choice([-1.0, 1.0], 20)
    E = A[:, perm] * signs + 1e-3 * rng.standard_normal((8, 20))
    E /= np.linalg.norm(E, axis=0)
    match = dl.match_columns(E, A)
    inv = np.argsort(perm)
    np.testing.assert_array_equal(match.estimate_index, inv)
    np.testing.assert_array_equal(match.signs, signs[inv])
    assert match.n_recovered == 20
    assert match.max_error < 1e-2
    np.testing.assert_allclose(E[:, match.estimate_index] * match.signs, A, atol=1e-2)


def test_matching_with_more_and_fewer_estimates():
    rng = np.random.default_rng(9)
    A = random_unit_columns(6, 10, rng)
    extra = random_unit_columns(6, 3, rng)
    E = np.hstack([extra, -A[:, ::-1]])
    match = dl.match_columns(E, A)
    np.testing.assert_array_equal(match.estimate_index, 3 + np.arange(10)[::-1])
    assert np.all(match.signs == -1)
    assert match.max_error < 1e-7
    few = dl.match_columns(A[:, :4], A)
    assert np.sum(few.estimate_index >= 0) == 4
    assert few.n_recovered == 4
    assert few.max_error == np.inf


def test_first_recovery():
    A = np.eye(3)
    pts = np.array([[1.0, 0, 0], [-1.0, 0, 0], [0, 0, -1.0], [0.6, 0.8, 0]])
    np.testing.assert_array_equal(dl.first_recovery(pts, A), [0, -1, 2])


# ----------------------------------------------------------------------------------------- recovery

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recover_whole_dictionary_easy_instance(seed):
    # An overcomplete (kappa = 2) low-coherence unit-norm tight frame, sparse codes, plenty of samples.
    gen = generators
    rng = np.random.default_rng(seed)
    A = gen.tight_frame(12, 24, low_coherence=True, rng=seed)
    Y, _ = dl.sample_data(A, 20_000, 0.1, rng=rng)
    rec = dl.recover_dictionary(Y, 0.1, 150, rng=rng)
    assert rec.converged.all()
    assert rec.columns.shape == (12, 24)                  # ±q merged: exactly one estimate per column
    match = dl.match_columns(rec.columns, A, threshold=0.95)
    assert match.n_recovered == 24
    first = dl.first_recovery(rec.points, A, threshold=0.95)
    assert np.all(first >= 0)


def test_recover_orthogonal_dictionary_column_by_column():
    rng = np.random.default_rng(4)
    A = dl.random_orthogonal(8, rng=rng)
    Y, _ = dl.sample_data(A, 5_000, 0.2, rng=rng)
    rec = dl.recover_dictionary(Y, 0.2, 60, rng=rng)
    match = dl.match_columns(rec.columns, A, threshold=0.97)
    assert rec.columns.shape == (8, 8) and match.n_recovered == 8


def test_recover_dictionary_from_given_starts():
    # Started at the true columns of an orthogonal dictionary, every run stays next to its own column
    # (the data objective has a minimizer there), and the given starts are used in order.
    rng = np.random.default_rng(5)
    A = dl.random_orthogonal(6, rng=rng)
    Y, _ = dl.sample_data(A, 5_000, 0.2, rng=rng)
    rec = dl.recover_dictionary(Y, 0.2, 6, starts=A.T)
    assert np.all(np.abs(np.sum(rec.points * A.T, axis=1)) > 0.97)
    with pytest.raises(ValueError, match="starts must have shape"):
        dl.recover_dictionary(Y, 0.2, 5, starts=A.T)
    with pytest.raises(ValueError, match="unit sphere"):
        dl.recover_dictionary(Y, 0.2, 6, starts=2 * A.T)


# ---------------------------------------------------------------------------------------------- MSP

def test_polar_orthogonal():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((5, 5))
    Q = dl.polar_orthogonal(M)
    np.testing.assert_allclose(Q @ Q.T, np.eye(5), atol=1e-12)
    # the polar factor maximizes tr(Q^T M) over O(n): compare with random orthogonal matrices
    best = np.trace(Q.T @ M)
    for s in range(20):
        assert np.trace(dl.random_orthogonal(5, rng=s).T @ M) <= best + 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_msp_recovers_orthogonal_dictionary(seed):
    rng = np.random.default_rng(seed)
    n = 8
    A = dl.random_orthogonal(n, rng=rng)
    Y, _ = dl.sample_data(A, 10_000, 0.3, rng=rng)
    res = dl.msp(Y, rng=rng)
    assert res.converged
    np.testing.assert_allclose(res.W @ res.W.T, np.eye(n), atol=1e-10)
    assert np.all(np.diff(res.objective) > -1e-9 * res.objective[-1])     # monotone ascent
    match = dl.match_columns(res.W.T, A, threshold=0.97)
    assert match.n_recovered == n
    assert len(set(match.estimate_index)) == n


# ------------------------------------------------------------------------------------------- errors

@pytest.mark.parametrize("theta", [0.0, 1.0, -0.1, 1.5, True])
def test_theta_outside_open_interval(theta):
    with pytest.raises(ValueError, match="theta"):
        dl.bernoulli_gaussian(3, 10, theta)
    with pytest.raises(ValueError, match="theta"):
        dl.expectation_constants(3, 6, theta)
    with pytest.raises(ValueError, match="theta"):
        dl.normalize_data(np.ones((3, 10)), theta)


@pytest.mark.parametrize("p", [0, -3, 0.5, 2.0])
def test_p_below_one_or_not_integer(p):
    with pytest.raises(ValueError, match="p"):
        dl.bernoulli_gaussian(3, p, 0.2)
    with pytest.raises(ValueError, match="p"):
        dl.expectation_constants(3, 6, 0.2, p)
    with pytest.raises(ValueError, match="p"):
        dl.sample_data(np.eye(3), p, 0.2)


def test_shapes_that_do_not_fit():
    A = np.eye(3)
    with pytest.raises(ValueError, match="last dimension n = 3"):
        dl.expected_fourth_moment(A, np.array([1.0, 0, 0, 0]), 0.2)
    with pytest.raises(ValueError, match="rows like A"):
        dl.match_columns(np.eye(4), A)
    with pytest.raises(ValueError, match="shape"):
        dl.msp(np.ones((3, 20)), W0=np.eye(4))
    with pytest.raises(ValueError, match="dimension"):
        dl.sample_data(np.ones(3), 10, 0.2)
    with pytest.raises(ValueError, match="unit sphere"):
        dl.sample_data(2 * np.eye(3), 10, 0.2)
    with pytest.raises(ValueError, match="unit sphere"):
        dl.monte_carlo_fourth_moment(A, np.array([1.0, 1.0, 0]), 0.2, 100)
    with pytest.raises(ValueError, match="rows like A"):
        dl.landscape_gap(A, np.ones((4, 10)), 0.2, np.eye(3))
    with pytest.raises(ValueError, match="orthogonal"):
        dl.msp(np.ones((3, 20)), W0=2 * np.eye(3))


# ------------------------------------------------------------------------------------------- figures

def test_chapter_figures_build_and_stay_small():
    go = pytest.importorskip("plotly.graph_objects")
    from landscape_lib.viz import dictionary as viz
    from landscape_lib.viz.sphere import sphere_mesh

    rng = np.random.default_rng(0)
    A = dl.random_orthogonal(3, rng=rng)
    mesh = sphere_mesh(9, 17)
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
