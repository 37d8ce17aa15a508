"""Tests of landscape_lib.objectives: the ℓ4 objective, its derivatives (Taylor slopes), the tensor."""

import numpy as np
import pytest

from landscape_lib import generators, objectives, sphere
from landscape_lib.testing import taylor_check


def _retraction(q, v, t):
    return (q + t * v) / np.linalg.norm(q + t * v)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("shape", [(3, 3), (3, 7), (8, 24)])
def test_taylor_slopes_along_retraction(seed, shape):
    """Remainders of the first- and second-order expansions along R_q(tv) decay like t² and t³.

    (At least: when the next Taylor coefficient happens to be tiny along v the fitted slope is larger; a
    wrong gradient gives slope 1 and a wrong Hessian slope 2.)"""
    n, m = shape
    A = generators.random_frame(n, m, rng=seed)
    q = sphere.random_points(n, rng=seed + 100)
    v = sphere.project(q, np.random.default_rng(seed + 200).standard_normal(n))
    v /= np.linalg.norm(v)
    chk = taylor_check(lambda x: objectives.l4_value(A, x), q, v, objectives.l4_gradient(A, q),
                       objectives.l4_hessian_vector(A, q, v), path=_retraction,
                       steps=np.logspace(-1.5, -4, 6))
    assert 1.9 < chk.slope_first < 3.1
    assert chk.slope_second > 2.9


def test_wrong_gradient_fails_taylor_check():
    """The check can fail: the Euclidean gradient (not projected) gives the same first order term along
    tangent v, but the Euclidean Hessian is not the Riemannian one — slope 2, not 3."""
    A = generators.random_frame(5, 12, rng=0)
    q = sphere.random_points(5, rng=1)
    v = sphere.project(q, np.random.default_rng(2).standard_normal(5))
    chk = taylor_check(lambda x: objectives.l4_value(A, x), q, v, objectives.l4_gradient(A, q),
                       objectives.l4_euclidean_hessian(A, q) @ v, path=_retraction)
    assert abs(chk.slope_second - 2.0) < 0.1


@pytest.mark.parametrize("seed", range(3))
def test_euclidean_derivatives_central_differences(seed):
    A = generators.random_frame(4, 9, rng=seed)
    x = np.random.default_rng(seed).standard_normal(4)
    h = 1e-5
    eye = np.eye(4)
    fd_grad = np.array([(objectives.l4_value(A, x + h * e) - objectives.l4_value(A, x - h * e)) / (2 * h)
                        for e in eye])
    np.testing.assert_allclose(objectives.l4_euclidean_gradient(A, x), fd_grad, rtol=1e-7, atol=1e-9)
    fd_hess = np.array([(objectives.l4_euclidean_gradient(A, x + h * e)
                         - objectives.l4_euclidean_gradient(A, x - h * e)) / (2 * h) for e in eye])
    H = objectives.l4_euclidean_hessian(A, x)
    np.testing.assert_allclose(H, fd_hess, rtol=1e-7, atol=1e-8)
    v = np.random.default_rng(seed + 1).standard_normal(4)
    np.testing.assert_allclose(objectives.l4_euclidean_hessian_vector(A, x, v), H @ v, rtol=1e-12, atol=1e-12)


def test_hessian_matrix_matches_hessian_vector_and_is_tangent():
    A = generators.random_frame(6, 15, rng=4)
    q = sphere.random_points(6, 7, rng=5)
    v = sphere.project(q, np.random.default_rng(6).standard_normal((7, 6)))
    H = objectives.l4_hessian(A, q)
    hv = objectives.l4_hessian_vector(A, q, v)
    np.testing.assert_allclose(np.einsum("kij,kj->ki", H, v), hv, atol=1e-12)
    np.testing.assert_allclose(np.einsum("kij,kj->ki", H, q), 0.0, atol=1e-12)
    np.testing.assert_allclose(H, np.swapaxes(H, 1, 2), atol=1e-13)
    assert objectives.l4_tangent_hessian(A, q).shape == (7, 5, 5)


def test_tensor_form_equals_l4_norm():
    A = generators.random_frame(4, 6, rng=0)
    T = objectives.l4_tensor(A)
    assert T.shape == (4, 4, 4, 4)
    np.testing.assert_allclose(T, np.transpose(T, (1, 0, 3, 2)), atol=1e-15)  # symmetric
    q = sphere.random_points(4, 5, rng=1)
    np.testing.assert_allclose(objectives.tensor_form(T, q), np.sum((q @ A) ** 4, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(objectives.l4_value(A, q), -0.25 * objectives.tensor_form(T, q), rtol=1e-12)


def test_batch_equals_loop():
    A = generators.random_frame(5, 11, rng=7)
    q = sphere.random_points(5, (3, 4), rng=8)
    fs = [objectives.l4_value, objectives.l4_gradient, objectives.l4_hessian, objectives.l4_tangent_hessian]
    for fn in fs:
        batch = fn(A, q)
        loop = np.array([[fn(A, q[i, j]) for j in range(4)] for i in range(3)])
        np.testing.assert_allclose(batch, loop, rtol=1e-13, atol=1e-15)


def test_errors():
    q = np.eye(3)[0]
    with pytest.raises(ValueError, match="2 dimension"):
        objectives.l4_value(np.ones(3), q)
    with pytest.raises(ValueError, match="finite"):
        objectives.l4_value(np.array([[1.0, np.inf], [0.0, 1.0], [0.0, 0.0]]), q)
    with pytest.raises(ValueError, match="zero columns"):
        objectives.l4_value(np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]), q)
    with pytest.raises(ValueError, match="last dimension 3"):
        objectives.l4_gradient(np.eye(3), np.ones(4) / 2)
    with pytest.raises(ValueError, match="unit sphere"):
        objectives.l4_gradient(np.eye(3), np.ones(3))
    with pytest.raises(ValueError, match="n >= 2"):
        objectives.l4_value(np.ones((1, 3)), np.ones(1))
