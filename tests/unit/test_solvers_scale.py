"""Scale-aware tolerances of landscape_lib.solvers (issue 16): the objective's scale sigma (objective_scale), and
solvers whose iterates, iteration counts and limits do not change when the columns are multiplied by c > 0."""

import numpy as np
import pytest

from landscape_lib import dictionary, generators, objectives, solvers, sphere

SCALES = (1e-6, 1e-3, 1.0, 1e3, 1e6)


def _same_run(res, ref, c):
    """``res`` (columns times c) is ``ref`` (c = 1): same counts and flags, same points, values times c**4."""
    np.testing.assert_array_equal(res.iterations, ref.iterations)
    np.testing.assert_array_equal(res.newton_steps, ref.newton_steps)
    np.testing.assert_array_equal(res.converged, ref.converged)
    np.testing.assert_allclose(res.points, ref.points, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.values, c**4 * ref.values, rtol=1e-10)
    np.testing.assert_allclose(res.scale, c**4 * ref.scale, rtol=1e-12)


# --- the scale ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: np.eye(4), lambda: generators.tight_frame(3, 7, rng=0),
                                  lambda: generators.random_frame(16, 48, rng=1)])
def test_scale_is_one_for_unit_norm_columns(make):
    """Unit-norm columns (every frame of the book): sigma = 1, so the relative tolerances are the old absolute
    ones."""
    assert solvers.objective_scale(objectives.TensorObjective(make())) == pytest.approx(1.0, abs=1e-14)


def test_scale_of_a_matrix_of_components():
    """sigma = (sum |a_i|^4 / sum |a_i|^2)^2: c^4 for columns of equal norm c, between the extremes otherwise."""
    A = generators.random_frame(5, 12, rng=2)
    assert solvers.objective_scale(objectives.TensorObjective(3.0 * A)) == pytest.approx(81.0, rel=1e-13)
    norms = np.linspace(0.5, 2.0, 12)
    B = A * norms
    sq = norms**2
    sigma = solvers.objective_scale(objectives.TensorObjective(B))
    assert sigma == pytest.approx((np.sum(sq**2) / np.sum(sq)) ** 2, rel=1e-13)
    assert norms.min() ** 4 < sigma < norms.max() ** 4


def test_scale_of_the_data_estimates_the_dictionary_scale():
    """For data from a unit-norm tight frame the moment estimate of sigma(A) is 1 up to sampling error, for the
    plain and the cumulant objective alike; for data from 2A it is 16 times that."""
    A = generators.tight_frame(8, 16, rng=3)
    Y, _ = dictionary.sample_data(A, 20_000, 0.1, rng=4)
    for cls in (objectives.DataObjective, objectives.CumulantObjective):
        sigma = solvers.objective_scale(cls(Y, 0.1))
        assert 0.8 < sigma < 1.25
        assert solvers.objective_scale(cls(2.0 * Y, 0.1)) == pytest.approx(16.0 * sigma, rel=1e-12)
    assert solvers.objective_scale(objectives.DataObjective(Y, 0.1)) == solvers.objective_scale(
        objectives.CumulantObjective(Y, 0.1))


def test_scale_of_data_without_fourth_order_signal_falls_back_to_the_mean():
    """Each basis vector twice: the sample cumulant is negative (so is p < 2): sigma is then the mean of
    ||Y~^T q||_4^4 over the sphere, 3 sum_j |y~_j|^4 / (n (n + 2))."""
    n = 4
    for Y in (np.repeat(np.eye(n), 2, axis=1), np.ones((n, 1))):
        f = objectives.DataObjective(5.0 * Y, 0.2)
        f4 = np.sum(np.sum(f.matrix**2, axis=0) ** 2)
        assert solvers.objective_scale(f) == pytest.approx(3 * f4 / (n * (n + 2)), rel=1e-12)


@pytest.mark.parametrize("c", SCALES)
def test_scale_is_homogeneous_of_degree_four(c):
    A = generators.tight_frame(4, 9, rng=5)
    Y, _ = dictionary.sample_data(A, 3000, 0.2, rng=6)
    for make, X in ((objectives.TensorObjective, A), (lambda M: objectives.DataObjective(M, 0.2), Y),
                    (lambda M: objectives.CumulantObjective(M, 0.2), Y)):
        ref = solvers.objective_scale(make(X))
        assert solvers.objective_scale(make(c * X)) == pytest.approx(c**4 * ref, rel=1e-12)


# --- the solvers at every scale --------------------------------------------------------------------------------

@pytest.mark.parametrize("c", SCALES)
def test_power_iteration_is_scale_invariant(c):
    A = generators.random_frame(6, 18, rng=7)
    q0 = sphere.random_points(6, 24, rng=8)
    for kw in ({}, {"polish": True, "polish_after": 5}):
        ref = solvers.power_iteration(objectives.TensorObjective(A), q0, max_iter=3000, **kw)
        res = solvers.power_iteration(objectives.TensorObjective(c * A), q0, max_iter=3000, **kw)
        assert ref.converged.all() and ref.iterations.min() > 0
        _same_run(res, ref, c)
        np.testing.assert_allclose(res.grad_norms, c**4 * ref.grad_norms, rtol=1e-6, atol=1e-14 * c**4)


@pytest.mark.parametrize("c", SCALES)
def test_gradient_descent_is_scale_invariant(c):
    A = generators.tight_frame(5, 11, rng=9)
    q0 = sphere.random_points(5, 16, rng=10)
    for kw in ({"step": 0.3}, {"step": 1.0, "ascent": True, "line_search": True, "tol": 1e-6}):
        ref = solvers.gradient_descent(objectives.TensorObjective(A), q0, max_iter=3000, **kw)
        res = solvers.gradient_descent(objectives.TensorObjective(c * A), q0, max_iter=3000, **kw)
        assert ref.converged.all()
        _same_run(res, ref, c)


@pytest.mark.parametrize("c", SCALES)
def test_newton_is_scale_invariant(c):
    A = generators.tight_frame(4, 8, rng=11)
    q0 = sphere.random_points(4, 30, rng=12)
    ref = solvers.newton(objectives.TensorObjective(A), q0, max_iter=100)
    res = solvers.newton(objectives.TensorObjective(c * A), q0, max_iter=100)
    assert ref.converged.mean() > 0.8
    _same_run(res, ref, c)


@pytest.mark.parametrize("c", SCALES)
def test_data_objectives_are_scale_invariant(c):
    """Data in other units (Y -> cY) give the same runs: the scale is estimated from the data themselves."""
    A = generators.tight_frame(6, 12, rng=13)
    Y, _ = dictionary.sample_data(A, 5000, 0.2, rng=14)
    q0 = sphere.random_points(6, 16, rng=15)
    for cls in (objectives.DataObjective, objectives.CumulantObjective):
        ref = solvers.power_iteration(cls(Y, 0.2), q0, tol=1e-6, polish=True)
        res = solvers.power_iteration(cls(c * Y, 0.2), q0, tol=1e-6, polish=True)
        assert ref.converged.all()
        _same_run(res, ref, c)


def test_power_iteration_at_a_small_scale_iterates():
    """Issue 16: at A -> 1e-3 A every gradient norm is 1e-12 times smaller, and with the absolute tolerance 1e-8
    every start counted as converged at iteration 0 and came back unchanged."""
    A = generators.tight_frame(3, 6, rng=0)
    q = sphere.random_points(3, 5, rng=1)
    res = solvers.power_iteration(objectives.TensorObjective(1e-3 * A), q)
    assert np.all(res.iterations > 0) and res.converged.all()
    assert np.all(np.linalg.norm(res.points - q, axis=1) > 1e-3)
    ref = solvers.power_iteration(objectives.TensorObjective(A), q)
    np.testing.assert_array_equal(res.iterations, ref.iterations)
    np.testing.assert_allclose(res.points, ref.points, atol=1e-10)


def test_default_scale_is_the_old_absolute_tolerance_at_unit_norm_columns():
    """At the book's scale the default (sigma = 1 up to round-off) and an explicit scale=1 run identically."""
    A = generators.random_frame(8, 24, rng=16)
    q0 = sphere.random_points(8, 20, rng=17)
    f = objectives.TensorObjective(A)
    for run in (lambda **kw: solvers.power_iteration(f, q0, polish=True, **kw),
                lambda **kw: solvers.gradient_descent(f, q0, step=0.5, **kw),
                lambda **kw: solvers.newton(f, q0, **kw)):
        auto, one = run(), run(scale=1.0)
        assert auto.scale == pytest.approx(1.0, abs=1e-14) and one.scale == 1.0
        np.testing.assert_array_equal(auto.iterations, one.iterations)
        np.testing.assert_array_equal(auto.converged, one.converged)
        np.testing.assert_allclose(auto.points, one.points, rtol=0, atol=1e-14)


def test_explicit_scale_sets_the_unit_of_the_tolerance():
    """tol is in units of scale: a 100 times larger scale stops as soon as the gradient is 100 times larger."""
    f = objectives.TensorObjective(generators.random_frame(6, 18, rng=18))
    q0 = sphere.random_points(6, 10, rng=19)
    loose = solvers.power_iteration(f, q0, tol=1e-8, scale=100.0)
    same = solvers.power_iteration(f, q0, tol=1e-6, scale=1.0)
    np.testing.assert_array_equal(loose.iterations, same.iterations)
    assert np.all(loose.grad_norms < 1e-6)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf, "1"])
def test_scale_argument_is_validated(bad):
    f = objectives.TensorObjective(np.eye(3))
    with pytest.raises(ValueError, match="scale"):
        solvers.power_iteration(f, np.eye(3), scale=bad)
    with pytest.raises(ValueError, match="objective must be an ℓ4 objective"):
        solvers.objective_scale(np.eye(3))


class _Overflowing(objectives.TensorObjective):
    """A tensor objective whose gradient pass returns inf for the second point (an overflow, say)."""

    def _pass(self, q, work=None):
        z, g, s = super()._pass(q, work)
        if q.shape[0] > 1:
            g[1] = np.inf
        return z, g, s


@pytest.mark.parametrize("solver", ["power", "rgd", "newton"])
def test_non_finite_iterates_raise(solver):
    """A NaN compares False with the tolerance: without the check the start ran on to max_iter and came back as
    NaN points 'not converged'."""
    f = _Overflowing(generators.tight_frame(3, 5, rng=0))
    q0 = sphere.random_points(3, 4, rng=1)
    run = {"power": solvers.power_iteration, "rgd": solvers.gradient_descent, "newton": solvers.newton}[solver]
    with pytest.raises(FloatingPointError, match=r"1 start\(s\) \(first: start 1 .* became NaN or infinite at "
                                                 r"iteration 0"):
        run(f, q0)
