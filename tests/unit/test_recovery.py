"""Tests of landscape_lib.recovery: nearest column, recovered columns, coverage, first recovery, matching up to
a signed permutation, whole-dictionary recovery and the recovery grid; one argument order ``(A, points)`` and one
threshold convention (cosine >= threshold, threshold in (0, 1]) everywhere."""

import numpy as np
import pytest

from landscape_lib import dictionary, generators, objectives, recovery, sphere


def random_unit_columns(n, m, rng):
    G = np.random.default_rng(rng).standard_normal((n, m))
    return G / np.linalg.norm(G, axis=0)


# ------------------------------------------------------------------------- nearest column, coverage

def test_nearest_column_and_recovered_columns():
    A = generators.random_frame(4, 7, rng=0)
    idx, corr = recovery.nearest_column(A, A.T)
    np.testing.assert_array_equal(idx, np.arange(7))
    np.testing.assert_allclose(corr, 1.0)
    idx, corr = recovery.nearest_column(2 * A, -A.T[:3])  # scale and sign do not matter
    np.testing.assert_array_equal(idx, [0, 1, 2])
    np.testing.assert_allclose(corr, 1.0)
    idx, corr = recovery.nearest_column(A, sphere.random_points(4, (2, 5), rng=1))  # batched over leading axes
    assert idx.shape == corr.shape == (2, 5) and np.all((corr > 0) & (corr <= 1))
    np.testing.assert_array_equal(recovery.recovered_columns(A, A.T[[4, 2, 4]], threshold=0.9), [2, 4])
    np.testing.assert_array_equal(recovery.recovered_columns(A, A.T[[4, 2, 4]], threshold=1.0), [2, 4])


def test_coverage_counts_distinct_columns_in_order():
    A = generators.random_frame(5, 4, rng=3)
    q = np.stack([A[:, 2], -A[:, 2], A[:, 0], A[:, 3]])
    np.testing.assert_array_equal(recovery.coverage(A, q, threshold=0.99), [1, 1, 2, 3])


def test_first_recovery():
    A = np.eye(3)
    pts = np.array([[1.0, 0, 0], [-1.0, 0, 0], [0, 0, -1.0], [0.6, 0.8, 0]])
    np.testing.assert_array_equal(recovery.first_recovery(A, pts, threshold=0.95), [0, -1, 2])
    np.testing.assert_array_equal(recovery.first_recovery(A, pts, threshold=0.8), [0, 3, 2])


@pytest.mark.parametrize("seed", range(3))
def test_coverage_and_first_recovery_agree_on_a_low_coherence_frame(seed):
    """Chapter 3 uses both on the same limits. When no point can be within the threshold of two columns
    (coherence below 2 threshold² - 1), the columns recovered by the first t points are the same for both."""
    A = generators.tight_frame(8, 16, low_coherence=True, rng=seed)
    threshold = 0.9
    assert generators.coherence(A) < 2 * threshold**2 - 1
    res = recovery.recover_dictionary(objectives.TensorObjective(A), 60, rng=seed)
    first = recovery.first_recovery(A, res.points, threshold=threshold)
    curve = recovery.coverage(A, res.points, threshold=threshold)
    found_by = [np.sum((first >= 0) & (first <= t)) for t in range(res.points.shape[0])]
    np.testing.assert_array_equal(curve, found_by)


# ---------------------------------------------------------------------------------------- matching

@pytest.mark.parametrize("seed", range(5))
def test_matching_recovers_signed_permutation(seed):
    rng = np.random.default_rng(seed)
    A = random_unit_columns(8, 20, rng)
    perm = rng.permutation(20)
    signs = rng.choice([-1.0, 1.0], 20)
    E = A[:, perm] * signs + 1e-3 * rng.standard_normal((8, 20))
    E /= np.linalg.norm(E, axis=0)
    match = recovery.match_columns(A, E.T, threshold=0.95)
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
    match = recovery.match_columns(A, E.T, threshold=0.95)
    np.testing.assert_array_equal(match.estimate_index, 3 + np.arange(10)[::-1])
    assert np.all(match.signs == -1)
    assert match.max_error < 1e-7
    few = recovery.match_columns(A, A.T[:4], threshold=0.95)
    assert np.sum(few.estimate_index >= 0) == 4
    assert few.n_recovered == 4
    assert few.max_error == np.inf and few.relative_error == np.inf


def test_one_threshold_convention_everywhere():
    """threshold in (0, 1], compared as cosine >= threshold, by every function that takes one."""
    A = np.eye(3)
    q = np.array([[0.8, 0.6, 0.0]])
    assert recovery.recovered_columns(A, q, threshold=0.8).tolist() == [0]
    assert recovery.coverage(A, q, threshold=0.8).tolist() == [1]
    assert recovery.first_recovery(A, q, threshold=0.8).tolist() == [0, -1, -1]
    assert recovery.match_columns(A, q, threshold=0.8).recovered.tolist() == [True, False, False]
    assert recovery.recovered_columns(A, q, threshold=0.81).size == 0
    calls = [
        lambda t: recovery.recovered_columns(A, q, threshold=t),
        lambda t: recovery.coverage(A, q, threshold=t),
        lambda t: recovery.first_recovery(A, q, threshold=t),
        lambda t: recovery.match_columns(A, q, threshold=t),
    ]
    for call in calls:
        call(1.0)  # 1 is allowed: exact recovery
        for bad in (0.0, 1.5, -0.2, np.nan):
            with pytest.raises(ValueError, match="threshold"):
                call(bad)


def test_argument_errors():
    A = np.eye(3)
    with pytest.raises(ValueError, match="unit sphere"):
        recovery.nearest_column(A, np.ones(3))
    with pytest.raises(ValueError, match="last dimension 3"):
        recovery.match_columns(A, np.eye(4), threshold=0.9)
    with pytest.raises(ValueError, match=r"shape \(N, n\)"):
        recovery.first_recovery(A, np.eye(3)[0], threshold=0.9)
    with pytest.raises(ValueError, match=r"shape \(N, n\)"):
        recovery.coverage(A, np.eye(3)[None], threshold=0.9)
    with pytest.raises(ValueError, match="zero columns"):
        recovery.nearest_column(np.zeros((3, 2)), np.eye(3)[0])


# ---------------------------------------------------------------------------------------- recovery

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recover_whole_dictionary_easy_instance(seed):
    # An overcomplete (kappa = 2) low-coherence unit-norm tight frame, sparse codes, plenty of samples.
    rng = np.random.default_rng(seed)
    A = generators.tight_frame(12, 24, low_coherence=True, rng=seed)
    Y, _ = dictionary.sample_data(A, 20_000, 0.1, rng=rng)
    rec = recovery.recover_dictionary(objectives.DataObjective(Y, 0.1), 150, rng=rng)
    assert rec.converged.all()
    assert rec.columns.shape == (12, 24)                  # ±q merged: exactly one estimate per column
    match = recovery.match_columns(A, rec.columns.T, threshold=0.95)
    assert match.n_recovered == 24
    first = recovery.first_recovery(A, rec.points, threshold=0.95)
    assert np.all(first >= 0)
    assert rec.counts.sum() == 150 and np.all(rec.index >= 0)


def test_recover_orthogonal_dictionary_column_by_column():
    rng = np.random.default_rng(4)
    A = generators.random_orthogonal(8, rng=rng)
    Y, _ = dictionary.sample_data(A, 5_000, 0.2, rng=rng)
    rec = recovery.recover_dictionary(objectives.DataObjective(Y, 0.2), 60, rng=rng)
    match = recovery.match_columns(A, rec.columns.T, threshold=0.97)
    assert rec.columns.shape == (8, 8) and match.n_recovered == 8


def test_recover_dictionary_from_given_starts_and_from_the_tensor():
    # Started at the true columns of an orthogonal dictionary, every run stays next to its own column
    # (the data objective has a minimizer there), and the given starts are used in order.
    rng = np.random.default_rng(5)
    A = generators.random_orthogonal(6, rng=rng)
    Y, _ = dictionary.sample_data(A, 5_000, 0.2, rng=rng)
    data = objectives.DataObjective(Y, 0.2)
    rec = recovery.recover_dictionary(data, 6, starts=A.T)
    assert np.all(np.abs(np.sum(rec.points * A.T, axis=1)) > 0.97)
    # the tensor objective: p = ∞, the columns themselves are the minimizers
    exact = recovery.recover_dictionary(objectives.TensorObjective(A), 6, starts=A.T)
    np.testing.assert_allclose(np.abs(np.sum(exact.points * A.T, axis=1)), 1.0, atol=1e-9)
    with pytest.raises(ValueError, match="starts must have shape"):
        recovery.recover_dictionary(data, 5, starts=A.T)
    with pytest.raises(ValueError, match="unit sphere"):
        recovery.recover_dictionary(data, 6, starts=2 * A.T)
    with pytest.raises(ValueError, match="objective must be an ℓ4 objective"):
        recovery.recover_dictionary(Y, 6)
    with pytest.raises(ValueError, match="n_starts must be >= 1"):
        recovery.recover_dictionary(data, 0)


# -------------------------------------------------------------------------------------------- grid

def test_recovery_grid_shapes_mask_and_threshold():
    grid = recovery.recovery_grid([4, 6], [4, 8, 64, 100], threshold=0.9, frames=2, starts=8, max_m_factor=2.0,
                                  rng=0)
    assert grid.rate.shape == (4, 2)
    measured = np.isfinite(grid.rate)
    # measured exactly where n <= m <= 2 n²
    np.testing.assert_array_equal(measured, [[True, False], [True, True], [False, True], [False, False]])
    assert set(grid.correlations) == {(4, 4), (4, 8), (6, 8), (6, 64)}
    assert all(c.shape == (16,) for c in grid.correlations.values())
    np.testing.assert_array_equal(grid.rate_at(0.9), grid.rate)
    assert np.all(grid.rate_at(0.5)[measured] >= grid.rate[measured])  # a lower bar recovers more
    assert set(grid.baseline) == set(grid.correlations)
    # the solver's limits correlate with columns at least as well as random points, on average
    assert np.nanmean(grid.rate) >= np.nanmean(grid.rate_at(0.9, baseline=True))
    again = recovery.recovery_grid([4, 6], [4, 8, 64, 100], threshold=0.9, frames=2, starts=8, rng=0)
    np.testing.assert_array_equal(again.rate, grid.rate)
    assert grid.theta is None and grid.p is None


def test_recovery_grid_on_data():
    """The same grid with the starts on the data objective of p samples drawn from each (tight) frame: with many
    samples it recovers as the tensor objective does, with few samples it recovers less."""
    def tight(n, m, rng):
        return generators.tight_frame(n, m, low_coherence=True, rng=rng)

    kw = dict(threshold=0.9, frames=2, starts=16, make_frame=tight, rng=1)
    tensor = recovery.recovery_grid([6], [6, 12], **kw)
    many = recovery.recovery_grid([6], [6, 12], theta=0.1, p=20_000, **kw)
    few = recovery.recovery_grid([6], [6, 12], theta=0.5, p=30, **kw)
    assert (many.theta, many.p) == (0.1, 20_000)
    assert all(c.shape == (32,) for c in many.correlations.values())
    assert np.all(tensor.rate >= 0.9) and np.all(many.rate >= 0.8)
    assert np.mean(few.rate) < np.mean(many.rate) - 0.3
    with pytest.raises(ValueError, match="theta and p go together"):
        recovery.recovery_grid([6], [6], theta=0.1, **kw)
    with pytest.raises(ValueError, match="make_frame must be callable"):
        recovery.recovery_grid([6], [6], threshold=0.9, make_frame="tight")
