"""Scale-aware tolerances of landscape_lib.sphere_critical and landscape_lib.critical (issue 16): the search and
the classification give the same points, types and counts for A and cA, every c > 0."""

import numpy as np
import pytest

from landscape_lib import dictionary, generators, objectives, sphere_critical
from landscape_lib.critical import CriticalType, collect

SCALES = (1e-6, 1e-3, 1.0, 1e3, 1e6)


def _same_search(res, ref, c):
    assert res.counts() == ref.counts()
    assert list(res.types) == list(ref.types)
    np.testing.assert_array_equal(res.hits, ref.hits)
    assert (res.n_starts, res.n_converged) == (ref.n_starts, ref.n_converged)
    np.testing.assert_allclose(res.points, ref.points, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.values, c**4 * ref.values, rtol=1e-10)
    np.testing.assert_allclose(res.eigenvalues, c**4 * ref.eigenvalues, rtol=1e-8, atol=1e-9 * c**4)
    assert res.scale == pytest.approx(c**4 * ref.scale, rel=1e-12)
    assert res.eig_tol == pytest.approx(c**4 * ref.eig_tol, rel=1e-12)


@pytest.mark.parametrize("c", SCALES)
def test_find_critical_points_is_scale_invariant(c):
    A = generators.tight_frame(3, 6, rng=0)
    ref = sphere_critical.find_critical_points(objectives.TensorObjective(A), n_starts=100, rng=2)
    res = sphere_critical.find_critical_points(objectives.TensorObjective(c * A), n_starts=100, rng=2)
    assert ref.counts()[CriticalType.DEGENERATE] == 0 and ref.points.shape[0] > 3
    _same_search(res, ref, c)


@pytest.mark.parametrize("c", SCALES)
def test_orthogonal_case_at_every_scale(c):
    """Issue 16: on 1e-3 I_3 the absolute tolerances called all 300 limits degenerate critical points. At every
    scale: the closed form's 6 minimizers, 12 saddles and 8 maximizers, eigenvalues c^4 (-2/k, 1/k)."""
    crit = sphere_critical.find_critical_points(objectives.TensorObjective(c * np.eye(3)), n_starts=100, rng=0)
    counts = {t.value: k for t, k in crit.counts().items()}
    assert counts == {"minimizer": 6, "strict saddle": 12, "maximizer": 8, "degenerate": 0}
    mins = crit.eigenvalues[crit.of_type(CriticalType.MINIMIZER)]
    np.testing.assert_allclose(mins, np.full_like(mins, c**4), rtol=1e-9)
    assert crit.eig_tol == pytest.approx(1e-6 * c**4, rel=1e-12)


@pytest.mark.parametrize("c", (1e-3, 1e3))
def test_degenerate_points_stay_degenerate_at_other_scales(c):
    """The harmonic frame's circles of critical points have a zero tangent eigenvalue: still DEGENERATE at
    scale c, because the zero tolerance scales with the eigenvalues."""
    A = generators.harmonic_frame(3, 5)
    ref = sphere_critical.find_critical_points(objectives.TensorObjective(A), n_starts=60, rng=0)
    res = sphere_critical.find_critical_points(objectives.TensorObjective(c * A), n_starts=60, rng=0)
    assert CriticalType.DEGENERATE in set(ref.types)
    assert res.counts() == ref.counts()


@pytest.mark.parametrize("c", SCALES)
def test_classify_points_is_scale_invariant(c):
    A = generators.tight_frame(3, 7, rng=3)
    ref = sphere_critical.find_critical_points(objectives.TensorObjective(A), n_starts=60, rng=4)
    again = sphere_critical.classify_points(objectives.TensorObjective(c * A), ref.points)
    assert list(again.types) == list(ref.types)
    np.testing.assert_allclose(again.points, ref.points, atol=1e-12)


def test_search_until_stable_is_scale_invariant():
    ref = sphere_critical.search_until_stable(objectives.TensorObjective(np.eye(3)), n_starts=60, rng=5)
    for c in (1e-3, 1e3):
        res = sphere_critical.search_until_stable(objectives.TensorObjective(c * np.eye(3)), n_starts=60, rng=5)
        np.testing.assert_array_equal(res.new_per_round, ref.new_per_round)
        assert res.stable == ref.stable
        _same_search(res.critical, ref.critical, c)


def test_search_on_data_in_other_units():
    """The data objective's scale comes from the data: Y and 1e3 Y give the same critical points and types."""
    Y, _ = dictionary.sample_data(np.eye(3), 20_000, 0.2, rng=0)
    ref = sphere_critical.find_critical_points(objectives.DataObjective(Y, 0.2), n_starts=60, rng=1)
    res = sphere_critical.find_critical_points(objectives.DataObjective(1e3 * Y, 0.2), n_starts=60, rng=1)
    _same_search(res, ref, 1e3)
    # unit columns: the tensor's scale is 1, and the data's estimate of it is close (within sampling error)
    assert 0.8 < ref.scale < 1.25


def test_explicit_scale_is_validated():
    f = objectives.TensorObjective(np.eye(3))
    for call in (lambda: sphere_critical.find_critical_points(f, n_starts=10, scale=0.0),
                 lambda: sphere_critical.classify_points(f, np.eye(3), scale=-1.0),
                 lambda: sphere_critical.search_until_stable(f, n_starts=10, scale=np.nan)):
        with pytest.raises(ValueError, match="scale"):
            call()


def test_collect_sorts_values_in_units_of_the_scale():
    """Values are rounded to 12 digits relative to the scale before sorting: at the scale 1e-12 the absolute
    rounding made every value 0, and the order fell back to the coordinates."""
    points = np.array([[0.0, 1.0], [1.0, 0.0], [0.6, 0.8]])
    values = np.array([-0.3, -0.1, -0.2])
    lam = np.ones((3, 1))
    ref = collect(points, values, lam, eig_tol=1e-6)
    small = collect(points, 1e-12 * values, 1e-12 * lam, eig_tol=1e-18, scale=1e-12)
    np.testing.assert_array_equal(small.points, ref.points)
    np.testing.assert_array_equal(ref.values, [-0.3, -0.2, -0.1])
    assert ref.scale == 1.0 and small.scale == 1e-12
    with pytest.raises(ValueError, match="scale"):
        collect(points, values, lam, eig_tol=1e-6, scale=0.0)
