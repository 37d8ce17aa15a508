"""Tests of landscape_lib.sphere_critical against the closed form of the orthogonal case (book/formulas.md)."""

import itertools

import numpy as np
import pytest

from landscape_lib import generators, objectives, sphere_critical
from landscape_lib.critical import CriticalType


def _closed_form(n):
    """All critical points of f for A = I_n up to sign, with the number k of nonzero coordinates."""
    pts, ks = [], []
    for k in range(1, n + 1):
        for support in itertools.combinations(range(n), k):
            for signs in itertools.product([1.0, -1.0], repeat=k - 1):
                q = np.zeros(n)
                q[list(support)] = np.concatenate([[1.0], signs]) / np.sqrt(k)
                pts.append(q)
                ks.append(k)
    return np.array(pts), np.array(ks)


@pytest.mark.parametrize("n,seed", [(3, 0), (3, 1), (3, 2), (4, 0)])
def test_orthogonal_case_all_points_types_and_eigenvalues(n, seed):
    crit = sphere_critical.find_critical_points(np.eye(n), n_starts=300, rng=seed)
    expected, ks = _closed_form(n)
    assert crit.points.shape[0] == expected.shape[0]
    for q, k in zip(expected, ks, strict=True):
        dist = np.minimum(np.linalg.norm(crit.points - q, axis=1), np.linalg.norm(crit.points + q, axis=1))
        j = int(np.argmin(dist))
        assert dist[j] < 1e-9
        lam = np.sort(np.concatenate([np.full(k - 1, -2.0 / k), np.full(n - k, 1.0 / k)]))
        np.testing.assert_allclose(crit.eigenvalues[j], lam, atol=1e-9)
        kind = (CriticalType.MINIMIZER if k == 1 else CriticalType.MAXIMIZER if k == n
                else CriticalType.STRICT_SADDLE)
        assert crit.types[j] is kind
    if n == 3:
        counts = crit.counts()
        assert (counts[CriticalType.MINIMIZER], counts[CriticalType.STRICT_SADDLE],
                counts[CriticalType.MAXIMIZER]) == (6, 12, 8)
        assert crit.counts(pairs=True)[CriticalType.MINIMIZER] == 3


@pytest.mark.parametrize("seed", range(3))
def test_found_points_are_critical_and_sorted(seed):
    A = generators.tight_frame(3, 5, rng=seed)
    crit = sphere_critical.find_critical_points(A, n_starts=200, rng=seed)
    assert np.all(np.linalg.norm(objectives.l4_gradient(A, crit.points), axis=1) < 1e-10)
    np.testing.assert_allclose(crit.values, objectives.l4_value(A, crit.points), rtol=1e-12)
    rank = [sphere_critical.TYPE_ORDER.index(t) for t in crit.types]
    assert rank == sorted(rank)
    # no duplicates up to sign
    P = crit.points
    d = np.minimum(np.linalg.norm(P[:, None] - P[None], axis=2), np.linalg.norm(P[:, None] + P[None], axis=2))
    assert np.all(d[~np.eye(len(P), dtype=bool)] > 1e-6)
    # the global minimizer is among the minimizers
    assert crit.values[crit.of_type(CriticalType.MINIMIZER)].min() == crit.values.min()


def test_same_seed_same_result():
    A = generators.tight_frame(3, 6, rng=0)
    a = sphere_critical.find_critical_points(A, n_starts=100, rng=5)
    b = sphere_critical.find_critical_points(A, n_starts=100, rng=5)
    np.testing.assert_array_equal(a.points, b.points)


def test_nearest_column_and_recovery():
    A = generators.random_frame(4, 7, rng=0)
    idx, corr = sphere_critical.nearest_column(A, A.T)
    np.testing.assert_array_equal(idx, np.arange(7))
    np.testing.assert_allclose(corr, 1.0)
    idx, corr = sphere_critical.nearest_column(2 * A, -A.T[:3])  # scale and sign do not matter
    np.testing.assert_array_equal(idx, [0, 1, 2])
    np.testing.assert_allclose(corr, 1.0)
    np.testing.assert_array_equal(sphere_critical.recovered_columns(A, A.T[[4, 2, 4]], threshold=0.9), [2, 4])
    with pytest.raises(ValueError, match="threshold"):
        sphere_critical.recovered_columns(A, A.T, threshold=1.5)


def test_classify_points_errors():
    with pytest.raises(ValueError, match="unit sphere"):
        sphere_critical.classify_points(np.eye(3), np.ones((2, 3)))
    with pytest.raises(ValueError, match="shape"):
        sphere_critical.classify_points(np.eye(3), np.eye(3)[0])


def test_recovery_grid_shapes_mask_and_threshold():
    grid = sphere_critical.recovery_grid([4, 6], [4, 8, 64, 100], threshold=0.9, frames=2, starts=8,
                                         max_m_factor=2.0, rng=0)
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
    again = sphere_critical.recovery_grid([4, 6], [4, 8, 64, 100], threshold=0.9, frames=2, starts=8, rng=0)
    np.testing.assert_array_equal(again.rate, grid.rate)


def test_degenerate_points_keep_their_enum_type():
    """A harmonic frame of 5 vectors on a cone in R³ makes f invariant under rotations about the axis:
    the critical points off the axis come in circles, with a zero tangent eigenvalue (degenerate)."""
    A = generators.harmonic_frame(3, 5)
    crit = sphere_critical.find_critical_points(A, n_starts=60, rng=0)
    kinds = set(crit.types)
    assert kinds <= set(sphere_critical.TYPE_ORDER)
    assert CriticalType.DEGENERATE in kinds
    deg = crit.points[crit.of_type(CriticalType.DEGENERATE)]
    np.testing.assert_allclose(np.abs(deg[:, 0]), np.abs(deg[0, 0]), atol=1e-7)  # same latitude


def test_coverage_counts_distinct_columns_in_order():
    A = generators.random_frame(5, 4, rng=3)
    q = np.stack([A[:, 2], -A[:, 2], A[:, 0], A[:, 3]])
    np.testing.assert_array_equal(sphere_critical.coverage(A, q, threshold=0.99), [1, 1, 2, 3])
