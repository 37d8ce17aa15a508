"""Tests of landscape_lib.solvers: power iteration = RGD with step 1/‖Aᵀq‖₄⁴, batch = loop, limits, one code
path for the tensor and the data objective."""

import numpy as np
import pytest

from landscape_lib import dictionary, generators, objectives, solvers, sphere


def _tensor(A):
    return objectives.TensorObjective(A)


@pytest.mark.parametrize("seed", range(4))
def test_power_iteration_equals_rgd_with_unit_relative_step(seed):
    """book/formulas.md: q − grad f/‖ζ‖₄⁴ = Aζ³/‖ζ‖₄⁴, so the two iterations coincide step by step."""
    A = generators.random_frame(6, 18, rng=seed)
    f = _tensor(A)
    q0 = sphere.random_points(6, 20, rng=seed + 50)
    pw = solvers.power_iteration(f, q0, max_iter=25, record=True)
    gd = solvers.gradient_descent(f, q0, step=1.0, max_iter=25, record=True)
    np.testing.assert_allclose(pw.path, gd.path, atol=1e-11)
    # and one explicit step of the formula
    z = q0 @ A
    step = q0 - f.gradient(q0) / np.sum(z**4, axis=1, keepdims=True)
    np.testing.assert_allclose(pw.path[1], step / np.linalg.norm(step, axis=1, keepdims=True), atol=1e-13)


@pytest.mark.parametrize("solver", ["power", "rgd", "polish"])
@pytest.mark.parametrize("seed", range(3))
def test_batch_equals_loop(solver, seed):
    A = _tensor(generators.random_frame(5, 12, rng=seed))
    q0 = sphere.random_points(5, (2, 3), rng=seed + 1)
    run = {
        "power": lambda q: solvers.power_iteration(A, q, max_iter=300),
        "rgd": lambda q: solvers.gradient_descent(A, q, step=0.3, max_iter=300),
        "polish": lambda q: solvers.power_iteration(A, q, max_iter=300, polish=True, polish_after=5),
    }[solver]
    batch = run(q0)
    assert batch.points.shape == (2, 3, 5) and batch.values.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            single = run(q0[i, j])
            np.testing.assert_allclose(batch.points[i, j], single.points, atol=1e-12)
            assert batch.iterations[i, j] == single.iterations
            assert batch.converged[i, j] == single.converged


@pytest.mark.parametrize("seed", range(5))
def test_limits_are_critical_points_and_local_minimizers(seed):
    """Fixed points of the power iteration are critical points (grad f = 0), and from random starts
    they are local minimizers: the tangent Hessian is positive definite."""
    A = generators.tight_frame(8, 16, rng=seed)
    f = _tensor(A)
    res = solvers.power_iteration(f, sphere.random_points(8, 40, rng=seed), max_iter=3000)
    assert res.converged.all()
    q = res.points
    gnorm = np.linalg.norm(f.gradient(q), axis=1)
    np.testing.assert_allclose(gnorm, res.grad_norms, rtol=1e-6)
    assert np.all(res.grad_norms < 1e-8)
    # fixed point: one more power step stays put
    nxt = (q @ A) ** 3 @ A.T
    nxt /= np.linalg.norm(nxt, axis=1, keepdims=True)
    np.testing.assert_allclose(nxt, q, atol=1e-7)
    lam = np.linalg.eigvalsh(f.tangent_hessian(q))
    assert np.all(lam[:, 0] > 0)
    np.testing.assert_allclose(res.values, f.value(q), rtol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_polish_reaches_same_points_in_fewer_iterations(seed):
    A = _tensor(generators.random_frame(16, 48, rng=seed))
    q0 = sphere.random_points(16, 64, rng=seed)
    plain = solvers.power_iteration(A, q0, max_iter=5000)
    pol = solvers.power_iteration(A, q0, max_iter=5000, polish=True, polish_after=0)
    assert plain.converged.all() and pol.converged.all()
    same = np.minimum(np.linalg.norm(plain.points - pol.points, axis=1),
                      np.linalg.norm(plain.points + pol.points, axis=1)) < 1e-6
    assert same.all()
    assert pol.newton_steps.sum() > 0
    assert pol.iterations.max() < plain.iterations.max()


def test_ascent_finds_maximizers_of_orthogonal_case():
    """For A = I the maximizers of f are the 2^n points (±1, …, ±1)/√n."""
    res = solvers.gradient_descent(_tensor(np.eye(4)), sphere.random_points(4, 30, rng=0), step=0.5, ascent=True,
                                   max_iter=3000)
    assert res.converged.all()
    np.testing.assert_allclose(np.abs(res.points), 0.5, atol=1e-7)


def test_newton_converges_to_critical_points_of_every_type():
    res = solvers.newton(_tensor(np.eye(3)), sphere.random_points(3, 200, rng=1))
    q = res.points[res.converged]
    assert res.converged.mean() > 0.8
    k = np.sum(np.abs(q) > 1e-6, axis=1)  # number of nonzero coordinates: 1 min, 2 saddle, 3 max
    assert set(k) == {1, 2, 3}
    np.testing.assert_allclose(np.abs(q)[np.abs(q) > 1e-6], (1 / np.sqrt(k[:, None]) * np.ones_like(q))[
        np.abs(q) > 1e-6], atol=1e-9)


def test_record_shapes_and_nan_after_stop():
    res = solvers.power_iteration(_tensor(np.eye(3)), sphere.random_points(3, 4, rng=2), max_iter=100, record=True)
    T = res.path.shape[0]
    assert res.path.shape == (T, 4, 3) and res.grad_norm_path.shape == (T, 4)
    for j in range(4):
        it = res.iterations[j]
        assert np.all(np.isfinite(res.grad_norm_path[: it + 1, j]))
        assert np.all(np.isnan(res.grad_norm_path[it + 1:, j]))
        np.testing.assert_array_equal(res.path[-1, j], res.points[j])


@pytest.mark.parametrize("solver", ["power", "rgd", "polish", "newton"])
def test_data_and_tensor_objectives_share_the_solver(solver):
    """A DataObjective is the ℓ4 objective of the normalized data: with the same unit of the tolerances every
    solver gives bit for bit what it gives on the tensor objective of that matrix (one code path), and its
    limits are critical points of the data objective's own gradient. (By default the units differ: the data
    objective's scale is that of the dictionary behind the data, the tensor objective's that of its columns,
    here the samples.)"""
    A = generators.tight_frame(6, 12, low_coherence=True, rng=0)
    Y, _ = dictionary.sample_data(A, 2_000, 0.2, rng=1)
    data = objectives.DataObjective(Y, 0.2)
    same = objectives.TensorObjective(data.matrix)
    sigma = solvers.objective_scale(data)
    assert sigma != pytest.approx(solvers.objective_scale(same), rel=0.5)
    q0 = sphere.random_points(6, 10, rng=2)
    run = {
        "power": lambda f: solvers.power_iteration(f, q0, max_iter=2000, scale=sigma),
        "rgd": lambda f: solvers.gradient_descent(f, q0, step=0.5, max_iter=2000, scale=sigma),
        "polish": lambda f: solvers.power_iteration(f, q0, max_iter=2000, polish=True, polish_after=0,
                                                    scale=sigma),
        "newton": lambda f: solvers.newton(f, q0, scale=sigma),
    }[solver]
    a, b = run(data), run(same)
    for name in ("points", "values", "grad_norms", "iterations", "newton_steps", "converged", "scale"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    ok = a.converged
    assert ok.mean() > 0.5
    tol = 1e-10 if solver == "newton" else 1e-8
    assert np.all(np.linalg.norm(data.gradient(a.points[ok]), axis=1) < 2 * tol * sigma)
    np.testing.assert_allclose(a.values, data.value(a.points), rtol=1e-12)


def test_descent_lowers_the_data_objective():
    A = generators.tight_frame(8, 16, low_coherence=True, rng=3)
    Y, _ = dictionary.sample_data(A, 5_000, 0.1, rng=4)
    data = objectives.DataObjective(Y, 0.1)
    q0 = sphere.random_points(8, 20, rng=5)
    res = solvers.power_iteration(data, q0, max_iter=3000)
    assert res.converged.all()
    assert np.all(res.values < data.value(q0))


def test_errors():
    A = _tensor(np.eye(3))
    with pytest.raises(ValueError, match="unit sphere"):
        solvers.power_iteration(A, np.ones(3))
    with pytest.raises(ValueError, match="objective must be an ℓ4 objective"):
        solvers.power_iteration(np.eye(3), np.eye(3)[0])
    with pytest.raises(ValueError, match="last dimension 3"):
        solvers.newton(A, np.eye(4)[0])
    with pytest.raises(ValueError, match="step"):
        solvers.gradient_descent(A, np.eye(3)[0], step=-1.0)
    with pytest.raises(ValueError, match="polish"):
        solvers.gradient_descent(A, np.eye(3)[0], ascent=True, polish=True)
    with pytest.raises(ValueError, match="max_iter"):
        solvers.power_iteration(A, np.eye(3)[0], max_iter=0)
    with pytest.raises(ValueError, match="max_step"):
        solvers.newton(A, np.eye(3)[0], max_step=0.0)


# --- Armijo backtracking (line_search=True): converges for every frame, descent and ascent -------------------

def _frame(kind, seed):
    if kind == "random":
        return generators.random_frame(6, 15, rng=seed)
    if kind == "tight":
        return generators.tight_frame(6, 15, rng=seed)
    return generators.tight_frame(6, 15, low_coherence=True, rng=seed)


def test_fixed_step_ascent_cycles_on_a_non_tight_frame():
    """The failure the line search fixes (chapter 2): ascent at the relative step 1/2 on random unit columns
    falls into period-2 cycles (the gradient norm does not go to zero) from every start."""
    f = _tensor(generators.random_frame(6, 15, rng=0))
    res = solvers.gradient_descent(f, sphere.random_points(6, 48, rng=1), step=0.5, ascent=True, tol=1e-6,
                                   max_iter=2000, record=True)
    assert not res.converged.any()
    np.testing.assert_allclose(res.path[-1], res.path[-3], atol=1e-6)  # period 2
    assert np.all(np.linalg.norm(res.path[-1] - res.path[-2], axis=-1) > 1e-3)


@pytest.mark.parametrize("ascent", [False, True])
@pytest.mark.parametrize("kind", ["random", "tight", "tight, low coherence"])
@pytest.mark.parametrize("seed", range(6))
def test_line_search_converges_on_any_frame(kind, ascent, seed):
    A = _frame(kind, seed)
    f = _tensor(A)
    q0 = sphere.random_points(6, 32, rng=seed + 100)
    res = solvers.gradient_descent(f, q0, step=1.0, ascent=ascent, line_search=True, tol=1e-8, max_iter=20000,
                                   record=True)
    assert res.converged.all()
    assert np.all(np.linalg.norm(f.gradient(res.points), axis=1) < 1e-8)
    # monotone: f never goes up (ascent: never down), beyond round-off
    vals = f.value(res.path)
    d = np.diff(vals, axis=0) * (-1.0 if ascent else 1.0)
    assert np.all(d <= 1e-12)
    lam = np.linalg.eigvalsh(f.tangent_hessian(res.points))
    # the limits are local minimizers (maximizers) or, rarely, points of the other types approached along
    # their stable manifold: at least most are of the expected type
    expected = lam[:, -1] < 0 if ascent else lam[:, 0] > 0
    assert expected.mean() >= 0.9


@pytest.mark.parametrize("seed", range(3))
def test_line_search_batch_equals_loop(seed):
    f = _tensor(generators.random_frame(5, 12, rng=seed))
    q0 = sphere.random_points(5, 6, rng=seed + 1)
    batch = solvers.gradient_descent(f, q0, ascent=True, line_search=True, max_iter=3000)
    for j in range(6):
        single = solvers.gradient_descent(f, q0[j], ascent=True, line_search=True, max_iter=3000)
        np.testing.assert_allclose(batch.points[j], single.points, atol=1e-10)
        assert batch.iterations[j] == single.iterations


def test_line_search_off_keeps_the_fixed_rule():
    f = _tensor(generators.random_frame(6, 18, rng=3))
    q0 = sphere.random_points(6, 10, rng=4)
    a = solvers.gradient_descent(f, q0, step=0.3, max_iter=200)
    b = solvers.gradient_descent(f, q0, step=0.3, max_iter=200, line_search=False)
    np.testing.assert_array_equal(a.points, b.points)


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, float("nan")])
def test_line_search_rejects_bad_armijo(bad):
    f = _tensor(generators.random_frame(4, 6, rng=0))
    with pytest.raises(ValueError, match="armijo"):
        solvers.gradient_descent(f, sphere.random_points(4, 2, rng=0), line_search=True, armijo=bad)
