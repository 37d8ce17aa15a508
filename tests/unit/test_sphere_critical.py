"""Tests of landscape_lib.sphere_critical against the closed form of the orthogonal case (book/formulas.md)."""

import itertools

import numpy as np
import pytest

from landscape_lib import dictionary, generators, objectives, sphere_critical
from landscape_lib.critical import TYPE_ORDER, CriticalPoints, CriticalType


def _find(A, **kw):
    return sphere_critical.find_critical_points(objectives.TensorObjective(A), **kw)


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
    crit = _find(np.eye(n), n_starts=300, rng=seed)
    assert isinstance(crit, CriticalPoints) and crit.antipodal
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
        assert crit.count(CriticalType.MAXIMIZER) == 8
    # the search's bookkeeping: every polished limit is one of the points
    assert crit.n_starts == 3 * 300 and crit.hits.sum() == crit.n_converged <= crit.n_starts
    assert np.all(crit.hits >= 1) and crit.eig_tol == 1e-6


@pytest.mark.parametrize("seed", range(3))
def test_found_points_are_critical_and_sorted(seed):
    A = generators.tight_frame(3, 5, rng=seed)
    f = objectives.TensorObjective(A)
    crit = sphere_critical.find_critical_points(f, n_starts=200, rng=seed)
    assert np.all(np.linalg.norm(f.gradient(crit.points), axis=1) < 1e-10)
    np.testing.assert_allclose(crit.grad_norms, np.linalg.norm(f.gradient(crit.points), axis=1), atol=1e-15)
    np.testing.assert_allclose(crit.values, f.value(crit.points), rtol=1e-12)
    np.testing.assert_allclose(crit.eigenvalues, np.linalg.eigvalsh(f.tangent_hessian(crit.points)), atol=1e-12)
    rank = [TYPE_ORDER.index(t) for t in crit.types]
    assert rank == sorted(rank)
    # no duplicates up to sign
    P = crit.points
    d = np.minimum(np.linalg.norm(P[:, None] - P[None], axis=2), np.linalg.norm(P[:, None] + P[None], axis=2))
    assert np.all(d[~np.eye(len(P), dtype=bool)] > 1e-6)
    # the global minimizer is among the minimizers
    assert crit.values[crit.of_type(CriticalType.MINIMIZER)].min() == crit.values.min()


def test_same_seed_same_result():
    A = generators.tight_frame(3, 6, rng=0)
    a = _find(A, n_starts=100, rng=5)
    b = _find(A, n_starts=100, rng=5)
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.hits, b.hits)


def test_classify_points_of_the_data_objective():
    """The search and the classification take any ℓ4 objective: for data from A = I the minimizers of the data
    objective sit next to ±e_i, and classify_points reproduces the search's types at its points."""
    Y, _ = dictionary.sample_data(np.eye(3), 20_000, 0.2, rng=0)
    data = objectives.DataObjective(Y, 0.2)
    crit = sphere_critical.find_critical_points(data, n_starts=100, rng=1)
    mins = crit.points[crit.of_type(CriticalType.MINIMIZER)]
    assert mins.shape[0] == 3
    np.testing.assert_allclose(np.sort(np.abs(mins).max(axis=1)), 1.0, atol=0.05)
    again = sphere_critical.classify_points(data, crit.points)
    assert list(again.types) == list(crit.types) and again.hits is None and again.antipodal


def test_classify_points_errors():
    f = objectives.TensorObjective(np.eye(3))
    with pytest.raises(ValueError, match="unit sphere"):
        sphere_critical.classify_points(f, np.ones((2, 3)))
    with pytest.raises(ValueError, match="shape"):
        sphere_critical.classify_points(f, np.eye(3)[0])
    with pytest.raises(ValueError, match="objective must be an ℓ4 objective"):
        sphere_critical.classify_points(np.eye(3), np.eye(3))
    with pytest.raises(ValueError, match="objective must be an ℓ4 objective"):
        sphere_critical.find_critical_points(np.eye(3))


def test_degenerate_points_keep_their_enum_type():
    """A harmonic frame of 5 vectors on a cone in R³ makes f invariant under rotations about the axis:
    the critical points off the axis come in circles, with a zero tangent eigenvalue (degenerate)."""
    A = generators.harmonic_frame(3, 5)
    crit = _find(A, n_starts=60, rng=0)
    kinds = set(crit.types)
    assert kinds <= set(TYPE_ORDER)
    assert CriticalType.DEGENERATE in kinds
    deg = crit.points[crit.of_type(CriticalType.DEGENERATE)]
    np.testing.assert_allclose(np.abs(deg[:, 0]), np.abs(deg[0, 0]), atol=1e-7)  # same latitude


# --- repeated searches and escape from saddles ------------------------------------------------------------------

def _identity_closed_form(n):
    """Counts (q and -q apart) and tangent eigenvalues per support size k of the critical points of I_n."""
    from math import comb
    return {k: (comb(n, k) * 2**k, np.sort(np.r_[np.full(k - 1, -2 / k), np.full(n - k, 1 / k)]))
            for k in range(1, n + 1)}


def test_search_until_stable_finds_every_critical_point_of_I4():
    """One round of 300 starts with seed 1003 misses 2 of the 56 saddles of A = I_4; repeating until a round
    adds nothing finds all 80, with the closed-form eigenvalues."""
    f = objectives.TensorObjective(np.eye(4))
    one = sphere_critical.find_critical_points(f, n_starts=300, rng=1003)
    assert one.counts()[CriticalType.STRICT_SADDLE] == 54
    res = sphere_critical.search_until_stable(f, n_starts=300, rng=1003)
    assert res.stable and res.new_per_round[-1] == 0 and res.rounds >= 2
    crit = res.critical
    counts = {t.value: c for t, c in crit.counts().items()}
    assert counts == {"minimizer": 8, "strict saddle": 56, "maximizer": 16, "degenerate": 0}
    support = np.sum(np.abs(crit.points) > 1e-6, axis=1)
    for k, (count, lam) in _identity_closed_form(4).items():
        rows = support == k
        assert 2 * rows.sum() == count
        np.testing.assert_allclose(crit.eigenvalues[rows], np.tile(lam, (rows.sum(), 1)), atol=1e-9)
    assert np.all(crit.grad_norms < 1e-10)


def test_search_until_stable_validates():
    f = objectives.TensorObjective(np.eye(3))
    with pytest.raises(ValueError, match="patience"):
        sphere_critical.search_until_stable(f, patience=0)
    with pytest.raises(ValueError, match="objective"):
        sphere_critical.search_until_stable(np.eye(3))


@pytest.mark.parametrize("seed", range(3))
def test_escape_iterations_follow_the_linear_law(seed):
    """From the saddles of I_4 (lambda_min = -2/k), every kicked run escapes, downhill, and no run beats
    chapter 1's single-kick bound log(R/r)/log(1 + eta |lambda_min|) by more than the linearization allows."""
    f = objectives.TensorObjective(np.eye(4))
    crit = sphere_critical.search_until_stable(f, n_starts=200, rng=seed).critical
    sad = crit.points[crit.of_type(CriticalType.STRICT_SADDLE)]
    esc = sphere_critical.escape_iterations(f, sad, step=0.1, radius=1e-6, escape_radius=0.3, runs=4, rng=seed)
    assert np.all(esc.iterations >= 0)
    np.testing.assert_allclose(esc.lambda_min, np.where(np.sum(np.abs(sad) > 1e-6, axis=1) == 2, -1.0, -2 / 3))
    assert np.all(esc.iterations >= 0.95 * esc.predicted[:, None] - 1)
    assert np.median(esc.iterations / esc.predicted[:, None]) < 1.5
    assert np.all(esc.final_values < crit.values[crit.of_type(CriticalType.STRICT_SADDLE)][:, None])


def test_escape_iterations_rejects_non_saddles():
    f = objectives.TensorObjective(np.eye(3))
    with pytest.raises(ValueError, match="negative"):
        sphere_critical.escape_iterations(f, np.eye(3)[:1], step=0.1)
    with pytest.raises(ValueError, match="radius"):
        sphere_critical.escape_iterations(f, np.array([[1.0, 1.0, 0.0]]) / np.sqrt(2), step=0.1, radius=0.5,
                                          escape_radius=0.3)
