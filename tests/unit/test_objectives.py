"""Tests of landscape_lib.objectives: the ℓ4 objectives as objects (tensor and data), their derivatives
(Taylor slopes), the fused value-and-gradient pass, the explicit tensor, and the data objective's prefixes and
gap to the tensor objective."""

import numpy as np
import pytest

from landscape_lib import dictionary, generators, objectives, sphere
from landscape_lib.testing import taylor_check


def _retraction(q, v, t):
    return (q + t * v) / np.linalg.norm(q + t * v)


def _tangent(q, seed):
    v = sphere.project(q, np.random.default_rng(seed).standard_normal(q.shape[-1]))
    return v / np.linalg.norm(v)


def _data_objective(n, m, p, theta, seed):
    A = generators.tight_frame(n, m, rng=seed)
    Y, _ = dictionary.sample_data(A, p, theta, rng=seed + 1)
    return A, Y, objectives.DataObjective(Y, theta)


def _objectives(seed, n, m):
    """One tensor and one data objective of the same size."""
    return [objectives.TensorObjective(generators.random_frame(n, m, rng=seed)),
            _data_objective(n, m, 200, 0.3, seed)[2]]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("shape", [(3, 3), (3, 7), (8, 24)])
@pytest.mark.parametrize("kind", [0, 1], ids=["tensor", "data"])
def test_taylor_slopes_along_retraction(seed, shape, kind):
    """Remainders of the first- and second-order expansions along R_q(tv) decay like t² and t³.

    (At least: when the next Taylor coefficient happens to be tiny along v the fitted slope is larger; a
    wrong gradient gives slope 1 and a wrong Hessian slope 2.)"""
    n, m = shape
    f = _objectives(seed, n, m)[kind]
    q = sphere.random_points(n, rng=seed + 100)
    v = _tangent(q, seed + 200)
    chk = taylor_check(f.value, q, v, f.gradient(q), f.hessian_vector(q, v), path=_retraction,
                       steps=np.logspace(-2, -3.8, 6))
    assert 1.9 < chk.slope_first < 3.1
    assert chk.slope_second > 2.9


@pytest.mark.parametrize("kind", [0, 1], ids=["tensor", "data"])
def test_euclidean_taylor_slopes_along_lines(kind):
    """The Euclidean gradient and Hessian-vector product, along straight lines from any (non-unit) point."""
    f = _objectives(3, 5, 12)[kind]
    x = 1.7 * sphere.random_points(5, rng=4)
    v = np.random.default_rng(5).standard_normal(5)
    chk = taylor_check(f.value, x, v, f.euclidean_gradient(x), f.euclidean_hessian_vector(x, v),
                       steps=np.logspace(-1.5, -4, 6))
    assert 1.9 < chk.slope_first < 3.1
    assert chk.slope_second > 2.9


def test_wrong_hessian_fails_taylor_check():
    """The check can fail: the Euclidean Hessian (no curvature term) is not the Riemannian one — slope 2, not 3.
    And a gradient off by a small multiple of a tangent direction fails at first order — slope 1."""
    f = objectives.TensorObjective(generators.random_frame(5, 12, rng=0))
    q = sphere.random_points(5, rng=1)
    v = _tangent(q, 2)
    chk = taylor_check(f.value, q, v, f.gradient(q), f.euclidean_hessian(q) @ v, path=_retraction)
    assert abs(chk.slope_second - 2.0) < 0.1
    wrong = taylor_check(f.value, q, v, f.gradient(q) + 0.1 * v, path=_retraction, steps=np.logspace(-2.5, -5, 6))
    assert abs(wrong.slope_first - 1.0) < 0.1


@pytest.mark.parametrize("seed", range(3))
def test_euclidean_derivatives_central_differences(seed):
    f = objectives.TensorObjective(generators.random_frame(4, 9, rng=seed))
    x = np.random.default_rng(seed).standard_normal(4)
    h = 1e-5
    eye = np.eye(4)
    fd_grad = np.array([(f.value(x + h * e) - f.value(x - h * e)) / (2 * h) for e in eye])
    np.testing.assert_allclose(f.euclidean_gradient(x), fd_grad, rtol=1e-7, atol=1e-9)
    fd_hess = np.array([(f.euclidean_gradient(x + h * e) - f.euclidean_gradient(x - h * e)) / (2 * h) for e in eye])
    H = f.euclidean_hessian(x)
    np.testing.assert_allclose(H, fd_hess, rtol=1e-7, atol=1e-8)
    v = np.random.default_rng(seed + 1).standard_normal(4)
    np.testing.assert_allclose(f.euclidean_hessian_vector(x, v), H @ v, rtol=1e-12, atol=1e-12)


def test_closed_forms_of_the_orthogonal_case():
    """A = I: f(q) = -¼‖q‖₄⁴, ∇f = -q³, grad f = ‖q‖₄⁴ q - q³ (zero at ±e_i and at (±1, ±1, …)/√k)."""
    f = objectives.TensorObjective(np.eye(3))
    q = sphere.random_points(3, 6, rng=0)
    np.testing.assert_allclose(f.value(q), -0.25 * np.sum(q**4, axis=1), rtol=1e-14)
    np.testing.assert_allclose(f.euclidean_gradient(q), -q**3, rtol=1e-14)
    s = np.sum(q**4, axis=1, keepdims=True)
    np.testing.assert_allclose(f.gradient(q), s * q - q**3, atol=1e-15)
    crit = np.array([[1.0, 0, 0], [1.0, 1.0, 0] / np.sqrt(2), [1.0, -1.0, 1.0] / np.sqrt(3)])
    np.testing.assert_allclose(f.gradient(crit), 0.0, atol=1e-15)


def test_hessian_matrix_matches_hessian_vector_and_is_tangent():
    f = objectives.TensorObjective(generators.random_frame(6, 15, rng=4))
    q = sphere.random_points(6, 7, rng=5)
    v = sphere.project(q, np.random.default_rng(6).standard_normal((7, 6)))
    H = f.hessian(q)
    hv = f.hessian_vector(q, v)
    np.testing.assert_allclose(np.einsum("kij,kj->ki", H, v), hv, atol=1e-12)
    np.testing.assert_allclose(np.einsum("kij,kj->ki", H, q), 0.0, atol=1e-12)
    np.testing.assert_allclose(H, np.swapaxes(H, 1, 2), atol=1e-13)
    assert f.tangent_hessian(q).shape == (7, 5, 5)
    # The Riemannian Hessian from the generic formula of landscape_lib.sphere, with the objective's ∇f and ∇²f.
    np.testing.assert_allclose(H, sphere.riemannian_hessian(q, f.euclidean_gradient(q), f.euclidean_hessian(q)),
                               atol=1e-13)


def test_value_and_gradient_is_value_and_gradient():
    for f in _objectives(1, 6, 14):
        q = sphere.random_points(6, (2, 5), rng=2)
        value, grad = f.value_and_gradient(q)
        assert value.shape == (2, 5) and grad.shape == (2, 5, 6)
        np.testing.assert_allclose(value, f.value(q), rtol=1e-13)
        np.testing.assert_allclose(grad, f.gradient(q), rtol=1e-13, atol=1e-15)


def test_tensor_form_equals_l4_norm():
    f = objectives.TensorObjective(generators.random_frame(4, 6, rng=0))
    T = f.tensor()
    assert T.shape == (4, 4, 4, 4)
    np.testing.assert_allclose(T, np.transpose(T, (1, 0, 3, 2)), atol=1e-15)  # symmetric
    q = sphere.random_points(4, 5, rng=1)
    np.testing.assert_allclose(objectives.tensor_form(T, q), np.sum((q @ f.A) ** 4, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(f.value(q), -0.25 * objectives.tensor_form(T, q), rtol=1e-12)
    with pytest.raises(ValueError, match="n <= 64"):
        objectives.TensorObjective(np.eye(65)).tensor()


def test_batch_equals_loop():
    f = objectives.TensorObjective(generators.random_frame(5, 11, rng=7))
    q = sphere.random_points(5, (3, 4), rng=8)
    for fn in (f.value, f.gradient, f.hessian, f.tangent_hessian, f.euclidean_gradient):
        batch = fn(q)
        loop = np.array([[fn(q[i, j]) for j in range(4)] for i in range(3)])
        np.testing.assert_allclose(batch, loop, rtol=1e-13, atol=1e-15)


def test_objects_keep_their_own_read_only_matrix():
    A = generators.random_frame(3, 5, rng=0)
    f = objectives.TensorObjective(A)
    q = sphere.random_points(3, rng=1)
    before = f.value(q)
    A *= 2.0  # the caller's array changes; the objective does not
    assert f.value(q) == before
    with pytest.raises(ValueError, match="read-only"):
        f.A[0, 0] = 1.0
    assert repr(f) == "TensorObjective(n = 3, 5 columns)"


# ---------------------------------------------------------------------------------- the data objective

def test_data_objective_is_the_l4_objective_of_the_normalized_nonzero_data():
    _, Y, f = _data_objective(4, 8, 300, 0.1, 0)
    Yt = dictionary.normalize_data(Y, 0.1)
    keep = np.any(Y != 0, axis=0)
    assert not keep.all()  # θ = 0.1, m = 8: some codes are all zero (probability 0.43 each)
    np.testing.assert_array_equal(f.matrix, Yt[:, keep])
    assert (f.n, f.p, f.theta) == (4, 300, 0.1)
    q = sphere.random_points(4, 9, rng=3)
    np.testing.assert_allclose(f.value(q), -0.25 * np.sum((q @ Yt) ** 4, axis=1), rtol=1e-12)
    assert f.offset(8) == dictionary.normalization_offset(4, 8, 0.1)


def test_data_objective_value_in_blocks_equals_one_product():
    """value() evaluates many points in blocks (bounded memory for large p): same numbers as one product."""
    _, Y, f = _data_objective(3, 6, 20_000, 0.2, 1)
    q = sphere.lat_lon_mesh(31, 61)  # 1891 points × 20000 samples: several blocks
    z = q.reshape(-1, 3) @ f.matrix
    np.testing.assert_allclose(f.value(q), (-0.25 * np.sum(z**4, axis=1)).reshape(31, 61), rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_data_objective_approaches_tensor_objective(seed):
    rng = np.random.default_rng(seed)
    A = np.hstack([np.eye(4), generators.random_orthogonal(4, rng=rng)])  # a UNTF with m = 2n
    grid = sphere.random_points(4, 300, rng=rng)
    gaps = []
    for p in (1_000, 100_000):
        Y, _ = dictionary.sample_data(A, p, 0.3, rng=rng)
        gaps.append(objectives.DataObjective(Y, 0.3).gap(A, grid))
    # Monte Carlo rate p^(-1/2): a factor 10 expected over a factor 100 in p.
    assert gaps[1] < gaps[0] / 3
    assert gaps[1] < 0.05


def test_prefix_values_and_gaps_equal_one_objective_per_p():
    # One pass with cumulative sums gives the values of DataObjective(Y[:, :p]) and its gap, for unsorted and
    # repeated p, including p whose prefix has all-zero samples and a prefix of zero samples only.
    rng = np.random.default_rng(11)
    A = np.hstack([np.eye(3), generators.random_orthogonal(3, rng=rng)])
    Y, _ = dictionary.sample_data(A, 2_000, 0.1, rng=rng)
    Y[:, :3] = 0.0
    f = objectives.DataObjective(Y, 0.1)
    q = sphere.random_points(3, 7, rng=12).reshape(7, 1, 3)
    ps = [1_000, 10, 2_000, 10, 333, 2]
    vals = f.prefix_values(q, ps)
    assert vals.shape == (6, 7, 1)
    np.testing.assert_array_equal(vals[-1], 0.0)
    for k, p in enumerate(ps[:-1]):
        np.testing.assert_allclose(vals[k], objectives.DataObjective(Y[:, :p], 0.1).value(q), rtol=1e-12)
    gaps = f.prefix_gaps(A, q.reshape(7, 3), ps[:-1])
    np.testing.assert_allclose(gaps, [objectives.DataObjective(Y[:, :p], 0.1).gap(A, q.reshape(7, 3))
                                      for p in ps[:-1]], rtol=1e-12)
    with pytest.raises(ValueError, match="p_values must lie in"):
        f.prefix_values(q, [0, 10])
    with pytest.raises(ValueError, match="p_values must lie in"):
        f.prefix_values(q, [2_001])
    with pytest.raises(ValueError, match="integers"):
        f.prefix_values(q, [10.5])


# --------------------------------------------------------------------------------------------- errors

def test_errors():
    q = np.eye(3)[0]
    with pytest.raises(ValueError, match="2 dimension"):
        objectives.TensorObjective(np.ones(3))
    with pytest.raises(ValueError, match="finite"):
        objectives.TensorObjective(np.array([[1.0, np.inf], [0.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="zero columns"):
        objectives.TensorObjective(np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="n >= 2"):
        objectives.TensorObjective(np.ones((1, 3)))
    f = objectives.TensorObjective(np.eye(3))
    with pytest.raises(ValueError, match="last dimension 3"):
        f.gradient(np.ones(4) / 2)
    with pytest.raises(ValueError, match="unit sphere"):
        f.gradient(np.ones(3))
    with pytest.raises(ValueError, match="unit sphere"):
        f.value_and_gradient(np.ones(3))
    with pytest.raises(ValueError, match="last dimension 3"):
        f.hessian_vector(q, np.ones(2))
    assert f.value(np.ones(3)) == -0.75  # the value and Euclidean derivatives take any finite point


def test_data_objective_errors():
    with pytest.raises(ValueError, match="theta"):
        objectives.DataObjective(np.ones((3, 10)), 1.0)
    with pytest.raises(ValueError, match="nonzero sample"):
        objectives.DataObjective(np.zeros((3, 10)), 0.2)
    with pytest.raises(ValueError, match="n >= 2"):
        objectives.DataObjective(np.ones((1, 10)), 0.2)
    f = objectives.DataObjective(np.ones((3, 10)), 0.2)
    with pytest.raises(ValueError, match="rows like the data"):
        f.gap(np.eye(4), np.eye(3))
    with pytest.raises(ValueError, match="unit sphere"):
        f.gap(2 * np.eye(3), np.eye(3))
