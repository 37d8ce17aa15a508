"""Tests of landscape_lib.euclidean: gradient descent, the critical-point finder against the known sets,
classification with an explicit tolerance, saddle-escape laws, perturbed GD, basin maps, errors."""

from __future__ import annotations

import numpy as np
import pytest

from landscape_lib import euclidean as eu
from landscape_lib import toy2d
from landscape_lib.critical import CriticalType

EIG_TOL = 1e-6  # the explicit tolerance for "zero" Hessian eigenvalues used in chapter 1


def _uniform_starts(toy, n, seed):
    (lo, hi), _ = toy.domain
    return np.random.default_rng(seed).uniform(lo, hi, size=(n, 2))


# --------------------------------------------------------------------------------------------------
# critical points
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(toy2d.EXAMPLES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_finder_recovers_the_known_sets(name, seed):
    """Newton on ∇f from 200 random starts finds every known critical point, nothing else, and the
    Hessian classification with tolerance 1e-6 agrees with the known types (degenerate ones included)."""
    toy = toy2d.example(name)
    found = eu.find_critical_points(toy, _uniform_starts(toy, 200, seed), eig_tol=EIG_TOL)
    cmp = eu.compare_with_known(found, toy.critical_points, toy.critical_types)
    assert cmp.ok, cmp
    assert found.points.shape == toy.critical_points.shape
    assert found.hits.sum() == found.n_converged
    assert found.n_converged >= 0.9 * found.n_starts
    assert all(isinstance(t, CriticalType) for t in found.types)


def test_classification_of_degenerate_points_depends_on_the_stated_tolerance():
    """At the monkey saddle the Newton limit has Hessian eigenvalues ~1e-30: degenerate for any sensible
    tolerance; with tol = 0 the round-off sign decides, which is why the chapter states its tolerance."""
    toy = toy2d.monkey_saddle()
    found = eu.find_critical_points(toy, _uniform_starts(toy, 50, 0), eig_tol=EIG_TOL)
    assert tuple(found.types) == (CriticalType.DEGENERATE,)
    assert np.abs(found.eigenvalues).max() < 1e-12
    # A strict saddle stays strict and a minimizer stays a minimizer for every tolerance below |λ|.
    for tol in (0.0, 1e-6, 1.0):
        assert tuple(eu.find_critical_points(toy2d.strict_saddle(), [[0.5, 0.5]], eig_tol=tol).types) == (
            CriticalType.STRICT_SADDLE,)
    # ... and a tolerance above |λ| makes everything look degenerate.
    flat = eu.find_critical_points(toy2d.bowl(), [[0.5, 0.5]], eig_tol=5.0)
    assert tuple(flat.types) == (CriticalType.DEGENERATE,)


def test_gradient_descent_finds_only_minimizers_where_newton_finds_all():
    toy = toy2d.four_wells()
    starts = _uniform_starts(toy, 300, 4)
    gd = eu.gradient_descent(toy, starts, step=0.02, n_iter=3000, tol=1e-9)
    assert gd.converged.all()
    lam = np.linalg.eigvalsh(toy.hessian(gd.points))
    assert (lam[:, 0] > 0).all()
    newton = eu.find_critical_points(toy, starts)
    assert newton.count(CriticalType.STRICT_SADDLE) == 4
    assert newton.count(CriticalType.MAXIMIZER) == 1


def test_compare_with_known_reports_problems():
    toy = toy2d.four_wells()
    found = eu.find_critical_points(toy, _uniform_starts(toy, 200, 0))
    wrong_types = tuple(CriticalType.MINIMIZER for _ in toy.critical_types)
    cmp = eu.compare_with_known(found, toy.critical_points, wrong_types)
    assert not cmp.ok and len(cmp.type_mismatches) == 5
    cmp = eu.compare_with_known(found, toy.critical_points[:-1], toy.critical_types[:-1])
    dropped = int(np.argmin(np.linalg.norm(found.points - toy.critical_points[-1], axis=1)))
    assert cmp.extra == (dropped,) and not cmp.missing
    with pytest.raises(ValueError, match="one entry per known point"):
        eu.compare_with_known(found, toy.critical_points, toy.critical_types[:-1])


def test_table_is_stable_text():
    toy = toy2d.rank_one_factorization()
    found = eu.find_critical_points(toy, _uniform_starts(toy, 100, 0))
    text = eu.critical_points_table(found, toy.critical_types, known_points=toy.critical_points)
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["x", "y", "f"]
    assert len(lines) == 6
    assert "-0.0000" not in text
    assert lines[1].split()[:2] == ["-1.4142", "0.0000"]


def test_unstable_direction():
    toy = toy2d.four_wells()
    saddle = toy.critical_points[[t == CriticalType.STRICT_SADDLE for t in toy.critical_types]][0]
    u = eu.unstable_direction(toy, saddle)
    assert abs(np.linalg.norm(u) - 1) < 1e-12
    assert u @ toy.hessian(saddle) @ u < -1.0
    np.testing.assert_allclose(eu.unstable_direction(toy2d.strict_saddle(), [0, 0]), [0.0, 1.0])


# --------------------------------------------------------------------------------------------------
# saddle escape
# --------------------------------------------------------------------------------------------------

STEP = 0.1
DIAGONAL = np.array([1.0, 1.0])


def test_strict_saddle_escape_is_logarithmic():
    """x² − y², start δ along the diagonal: k ≈ log(√2 R/δ)/log(1 + 2η); fitted slope within 1%."""
    deltas = np.logspace(-10, -1, 10)
    res = eu.escape_iterations(toy2d.strict_saddle(), [0.0, 0.0], DIAGONAL, deltas, step=STEP, radius=1.0)
    assert res.escaped.all()
    law = eu.fit_escape_law(res.deltas, res.iterations, "log")
    assert abs(law.slope * np.log(1 + 2 * STEP) - 1) < 0.01
    # The count is at most one step away from the closed form.
    predicted = np.log(np.sqrt(2) / deltas) / np.log(1 + 2 * STEP)
    assert np.all(np.abs(res.iterations - predicted) <= 1.5)


def test_flat_saddle_escape_is_a_power_law():
    """Monkey saddle: k ~ (1/δ)^1; x⁴ − y⁴: k ~ (1/δ)^2 (fitted exponents within ±0.05)."""
    monkey = eu.escape_iterations(toy2d.monkey_saddle(), [0.0, 0.0], DIAGONAL, np.logspace(-3, -1.5, 5),
                                  step=STEP, radius=1.0)
    law = eu.fit_escape_law(monkey.deltas, monkey.iterations, "power")
    assert abs(law.slope - 1.0) < 0.05 and law.max_rel_residual < 0.05
    quartic = eu.escape_iterations(toy2d.quartic_saddle(), [0.0, 0.0], DIAGONAL, np.logspace(-1.8, -1, 5),
                                   step=STEP, radius=1.0)
    law = eu.fit_escape_law(quartic.deltas, quartic.iterations, "power")
    assert abs(law.slope - 2.0) < 0.05 and law.max_rel_residual < 0.05
    # Along the unstable axis the constant matches the ODE: k ≈ 1/(8 η δ²).
    axis = eu.escape_iterations(toy2d.quartic_saddle(), [0.0, 0.0], [0.0, 1.0], [0.02], step=STEP, radius=1.0)
    assert abs(axis.iterations[0] * 8 * STEP * 0.02**2 - 1) < 0.05


def test_on_the_stable_manifold_there_is_no_escape():
    res = eu.escape_iterations(toy2d.quartic_saddle(), [0.0, 0.0], [1.0, 0.0], [0.1], step=STEP,
                               radius=1.0, max_iter=2000)
    assert not res.escaped.any() and res.iterations[0] == -1


def test_escape_law_fit_and_prediction():
    deltas = np.logspace(-4, -1, 7)
    law = eu.fit_escape_law(deltas, 3.0 * deltas**-2, "power")
    assert abs(law.slope - 2.0) < 1e-12 and abs(np.exp(law.intercept) - 3.0) < 1e-9
    np.testing.assert_allclose(law.predict(deltas), 3.0 * deltas**-2, rtol=1e-9)
    assert law.describe() == "iterations ≈ 3.00·(1/δ)^2.00"
    log_law = eu.fit_escape_law(deltas, 2.0 + 5.0 * np.log(1 / deltas), "log")
    assert log_law.describe() == "iterations ≈ 2.00 + 5.00·ln(1/δ)"


@pytest.mark.parametrize("kwargs, match", [
    (dict(deltas=[-0.1]), r"deltas must lie in \(0, radius"),
    (dict(deltas=[0.0]), r"deltas must lie in \(0, radius"),
    (dict(deltas=[2.0]), r"deltas must lie in \(0, radius"),
    (dict(step=0.0), "step must be > 0"),
    (dict(step=-0.1), "step must be > 0"),
    (dict(radius=-1.0), "radius must be > 0"),
    (dict(direction=[0.0, 0.0]), "direction must be nonzero"),
    (dict(direction=[1.0, 0.0, 0.0]), "direction must have the shape"),
    (dict(saddle=[np.nan, 0.0]), "saddle must be finite"),
    (dict(max_iter=0), "max_iter must be (a finite integer|>= 1)"),
    (dict(max_iter=2.5), "max_iter must be (a finite integer|>= 1)"),
])
def test_escape_errors(kwargs, match):
    args = dict(saddle=[0.0, 0.0], direction=[1.0, 1.0], deltas=[0.1], step=0.1, radius=1.0)
    args.update(kwargs)
    objective_args = (toy2d.strict_saddle(), args.pop("saddle"), args.pop("direction"), args.pop("deltas"))
    with pytest.raises(ValueError, match=match):
        eu.escape_iterations(*objective_args, **args)


def test_fit_errors():
    with pytest.raises(ValueError, match="kind"):
        eu.fit_escape_law([0.1, 0.01, 0.001], [1, 2, 3], "linear")
    with pytest.raises(ValueError, match="at least 3"):
        eu.fit_escape_law([0.1, 0.01], [1, 2], "log")
    with pytest.raises(ValueError, match="positive"):
        eu.fit_escape_law([0.1, 0.01, 0.001], [1, -1, 3], "log")
    with pytest.raises(ValueError, match="same shape"):
        eu.fit_escape_law([0.1, 0.01, 0.001], [1, 2], "log")


# --------------------------------------------------------------------------------------------------
# perturbed gradient descent
# --------------------------------------------------------------------------------------------------

PGD = dict(step=0.1, n_iter=150, radius=1e-3, gradient_threshold=1e-2, wait=20, n_runs=50, escape_radius=1.0)


def test_plain_gd_stays_on_the_saddle_and_perturbed_gd_leaves_it():
    toy = toy2d.strict_saddle()
    plain = eu.gradient_descent(toy, [[0.0, 0.0]], step=0.1, n_iter=100, tol=0.0)
    np.testing.assert_array_equal(plain.points, [[0.0, 0.0]])
    res = eu.perturbed_gradient_descent(toy, [0.0, 0.0], rng=0, **PGD)
    assert (res.escape_iteration > 0).all()
    assert (res.n_perturbations >= 1).all()
    # The first kick has norm <= radius, after which |y| grows by (1 + 2η) per step: the escape takes
    # at least log(R/r)/log(1.2) ≈ 38 steps.
    assert res.escape_iteration.min() >= np.log(1.0 / 1e-3) / np.log(1.2) - 1


def test_perturbed_gd_same_seed_same_result_and_seeds_differ():
    toy = toy2d.four_wells()
    saddle = toy.critical_points[1]
    kw = dict(step=0.02, n_iter=400, radius=1e-3, gradient_threshold=1e-3, wait=50, n_runs=40,
              escape_radius=0.5)
    a = eu.perturbed_gradient_descent(toy, saddle, rng=7, **kw)
    b = eu.perturbed_gradient_descent(toy, saddle, rng=np.random.default_rng(7), **kw)
    c = eu.perturbed_gradient_descent(toy, saddle, rng=8, **kw)
    np.testing.assert_array_equal(a.trajectory, b.trajectory)
    assert not np.array_equal(a.trajectory, c.trajectory)
    # From this saddle the runs split between the two minimizers it connects, for several seeds.
    mins = toy.critical_points[[t == CriticalType.MINIMIZER for t in toy.critical_types]]
    for res in (a, c):
        reached = np.argmin(np.linalg.norm(res.points[:, None] - mins[None], axis=-1), axis=1)
        assert len(set(reached.tolist())) == 2


@pytest.mark.parametrize("kwargs, match", [
    (dict(step=0.0), "step must be > 0"),
    (dict(radius=-1e-3), "radius must be > 0"),
    (dict(gradient_threshold=-1.0), "gradient_threshold must be >= 0"),
    (dict(wait=0), "wait must be (a finite integer|>= 1)"),
    (dict(n_runs=0), "n_runs must be (a finite integer|>= 1)"),
    (dict(rng="seed"), "rng must be"),
])
def test_perturbed_gd_errors(kwargs, match):
    args = dict(PGD)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        eu.perturbed_gradient_descent(toy2d.strict_saddle(), [0.0, 0.0], **args)
    with pytest.raises(ValueError, match="start must be finite"):
        eu.perturbed_gradient_descent(toy2d.strict_saddle(), [np.inf, 0.0], **PGD)


# --------------------------------------------------------------------------------------------------
# gradient descent and basin maps
# --------------------------------------------------------------------------------------------------

def test_gradient_descent_batch_equals_loop_and_does_not_modify_starts():
    toy = toy2d.four_wells()
    starts = _uniform_starts(toy, 20, 5)
    copy = starts.copy()
    batch = eu.gradient_descent(toy, starts, step=0.02, n_iter=300, record=True)
    np.testing.assert_array_equal(starts, copy)
    assert batch.trajectory.shape == (301, 20, 2)
    for i in range(0, 20, 5):
        single = eu.gradient_descent(toy, starts[i:i + 1], step=0.02, n_iter=300)
        np.testing.assert_allclose(single.points[0], batch.points[i], rtol=0, atol=1e-14)
        assert single.iterations[0] == batch.iterations[i]


def test_gradient_descent_marks_divergence():
    res = eu.gradient_descent(toy2d.strict_saddle(), [[0.0, 1.0], [1.0, 0.0]], step=0.1, n_iter=200)
    assert res.diverged.tolist() == [True, False]
    assert res.converged.tolist() == [False, True]
    assert np.all(np.isfinite(res.points))


@pytest.mark.parametrize("kwargs, match", [
    (dict(step=0.0), "step must be > 0"),
    (dict(step=-1.0), "step must be > 0"),
    (dict(n_iter=-1), "n_iter must be (a finite integer|>= 0)"),
    (dict(tol=-1.0), "tol must be >= 0"),
])
def test_gradient_descent_errors(kwargs, match):
    args = dict(step=0.1, n_iter=10)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        eu.gradient_descent(toy2d.bowl(), [[1.0, 1.0]], **args)
    with pytest.raises(ValueError, match="starts must have 2 dimension"):
        eu.gradient_descent(toy2d.bowl(), [1.0, 1.0], step=0.1, n_iter=10)
    with pytest.raises(ValueError, match="last dimension 2"):
        eu.gradient_descent(toy2d.bowl(), [[1.0, 1.0, 1.0]], step=0.1, n_iter=10)
    with pytest.raises(ValueError, match="objective must have"):
        eu.gradient_descent(object(), [[1.0, 1.0]], step=0.1, n_iter=10)


def test_basin_map_symmetric_and_tilted():
    """No tilt: four global minima, each with a quarter of the symmetric grid. Tilted: the global one
    gets a share strictly between 0 and 1 and every start is resolved."""
    sym = toy2d.four_wells(0.0, 0.0, 0.0)
    mins = sym.critical_points[[t == CriticalType.MINIMIZER for t in sym.critical_types]]
    bm = eu.basin_map(sym, mins, xlim=(-1.5, 1.5), ylim=(-1.5, 1.5), resolution=20, step=0.02, n_iter=2000)
    np.testing.assert_allclose(bm.fractions, 0.25)
    assert bm.global_mask.all() and bm.global_fraction == 1.0
    toy = toy2d.four_wells()
    mins = toy.critical_points[[t == CriticalType.MINIMIZER for t in toy.critical_types]]
    bm = eu.basin_map(toy, mins, xlim=(-1.8, 1.8), ylim=(-1.8, 1.8), resolution=41, step=0.02, n_iter=3000)
    assert bm.labels.shape == (41, 41)
    assert bm.unresolved_fraction == 0.0
    assert abs(bm.fractions.sum() - 1.0) < 1e-12
    assert 0.1 < bm.global_fraction < 0.5
    np.testing.assert_allclose(bm.minimizers[bm.global_index], toy.global_minimizers[0])
    assert bm.global_mask.sum() == 1 and bm.global_fraction == bm.fractions[bm.global_index]


def test_grid_and_basin_errors():
    with pytest.raises(ValueError, match="xlim must be"):
        eu.grid_starts((1.0, -1.0), (0.0, 1.0), 10)
    with pytest.raises(ValueError, match="resolution must be (a finite integer|>= 2)"):
        eu.grid_starts((0.0, 1.0), (0.0, 1.0), 1)
    with pytest.raises(ValueError, match="minimizers must have last dimension 2"):
        eu.basin_map(toy2d.bowl(), [[0.0, 0.0, 0.0]], xlim=(0, 1), ylim=(0, 1))


def test_finder_errors():
    with pytest.raises(ValueError, match="eig_tol must be >= 0"):
        eu.find_critical_points(toy2d.bowl(), [[1.0, 1.0]], eig_tol=-1.0)
    with pytest.raises(ValueError, match="dedup_tol must be > 0"):
        eu.find_critical_points(toy2d.bowl(), [[1.0, 1.0]], dedup_tol=0.0)
    with pytest.raises(ValueError, match="starts must be finite"):
        eu.find_critical_points(toy2d.bowl(), [[np.nan, 1.0]])
    with pytest.raises(ValueError, match="n_iter must be (a finite integer|>= 1)"):
        eu.newton_critical_points(toy2d.bowl(), [[1.0, 1.0]], n_iter=0)


def test_monkey_saddle_escape_constant_along_a_descent_ray():
    """On the descent ray θ = π/3 the ODE ṙ = 3r² gives k ≈ (1/δ − 1/R)/(3η); from the diagonal the
    run first turns toward the ray, where f falls more slowly, so it takes longer."""
    ray = [np.cos(np.pi / 3), np.sin(np.pi / 3)]
    deltas = np.array([1e-3, 3e-3, 1e-2])
    on_ray = eu.escape_iterations(toy2d.monkey_saddle(), [0.0, 0.0], ray, deltas, step=STEP, radius=1.0)
    predicted = (1 / deltas - 1.0) / (3 * STEP)
    np.testing.assert_allclose(on_ray.iterations, predicted, rtol=0.03)
    diag = eu.escape_iterations(toy2d.monkey_saddle(), [0.0, 0.0], DIAGONAL, deltas, step=STEP, radius=1.0)
    assert np.all(diag.iterations > on_ray.iterations)
