"""Tests of landscape_lib.sphere: projection, retraction, tangent bases, Riemannian derivatives."""

import numpy as np
import pytest

from landscape_lib import sphere


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_points_unit_and_seeded(seed):
    q = sphere.random_points(5, (4, 3), rng=seed)
    assert q.shape == (4, 3, 5)
    np.testing.assert_allclose(np.linalg.norm(q, axis=-1), 1.0, atol=1e-15)
    np.testing.assert_array_equal(q, sphere.random_points(5, (4, 3), rng=seed))
    assert not np.array_equal(q, sphere.random_points(5, (4, 3), rng=seed + 10))


@pytest.mark.parametrize("n", [2, 3, 7])
def test_tangent_basis_orthonormal_and_tangent(n):
    q = sphere.random_points(n, 50, rng=n)
    q[0] = np.eye(n)[0]  # a point on a coordinate axis
    q[1] = -np.eye(n)[-1]
    B = sphere.tangent_basis(q)
    assert B.shape == (50, n, n - 1)
    np.testing.assert_allclose(np.swapaxes(B, 1, 2) @ B, np.broadcast_to(np.eye(n - 1), (50, n - 1, n - 1)),
                               atol=1e-13)
    np.testing.assert_allclose(np.einsum("kij,ki->kj", B, q), 0.0, atol=1e-13)


def test_project_and_retract():
    q = sphere.random_points(4, 10, rng=0)
    v = np.random.default_rng(1).standard_normal((10, 4))
    pv = sphere.project(q, v)
    np.testing.assert_allclose(np.sum(pv * q, axis=-1), 0.0, atol=1e-14)
    np.testing.assert_allclose(sphere.project(q, pv), pv, atol=1e-14)  # idempotent
    r = sphere.retract(q, pv)
    np.testing.assert_allclose(np.linalg.norm(r, axis=-1), 1.0, atol=1e-15)
    np.testing.assert_allclose(sphere.retract(q, 0 * pv), q, atol=1e-15)


def test_riemannian_derivatives_of_a_quadratic():
    """f(q) = ½ qᵀ S q on the sphere: grad = P S q, Hess = P (S − qᵀSq I) P; eigenvectors of S are
    critical points with tangent-Hessian eigenvalues λ_j − λ_i."""
    rng = np.random.default_rng(3)
    S = rng.standard_normal((4, 4))
    S = S + S.T
    lam, V = np.linalg.eigh(S)
    q = V.T  # four critical points
    egrad = q @ S
    np.testing.assert_allclose(sphere.riemannian_gradient(q, egrad), 0.0, atol=1e-12)
    H = sphere.riemannian_hessian(q, egrad, np.broadcast_to(S, (4, 4, 4)))
    eig = np.linalg.eigvalsh(sphere.tangent_hessian(q, H))
    for i in range(4):
        expected = np.sort(np.delete(lam, i) - lam[i])
        np.testing.assert_allclose(eig[i], expected, atol=1e-12)
    v = sphere.project(q, rng.standard_normal((4, 4)))
    np.testing.assert_allclose(sphere.riemannian_hessian_vector(q, egrad, v @ S, v),
                               np.einsum("kij,kj->ki", H, v), atol=1e-12)


def test_lat_lon_mesh_shape_unit_norm_and_grid():
    mesh = sphere.lat_lon_mesh(7, 13)
    assert mesh.shape == (7, 13, 3)
    np.testing.assert_allclose(np.linalg.norm(mesh, axis=-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(mesh[0, :, 2], -1.0)  # south pole row
    np.testing.assert_allclose(mesh[-1, :, 2], 1.0)  # north pole row
    lat = np.arcsin(mesh[:, 0, 2])
    np.testing.assert_allclose(np.diff(lat), np.pi / 6, atol=1e-12)  # equally spaced latitudes
    lon = np.arctan2(mesh[3, :, 1], mesh[3, :, 0])
    np.testing.assert_allclose(lon[1:-1], np.linspace(-np.pi, np.pi, 13)[1:-1], atol=1e-12)
    np.testing.assert_allclose(mesh[:, 0], mesh[:, -1], atol=1e-15)  # the meridian ±π twice: a closed surface
    assert sphere.lat_lon_mesh().shape == (25, 49, 3)
    with pytest.raises(ValueError, match="rows must be >= 2"):
        sphere.lat_lon_mesh(1, 5)
    with pytest.raises(ValueError, match="cols must be a finite integer"):
        sphere.lat_lon_mesh(5, 4.5)


def test_errors():
    with pytest.raises(ValueError, match="unit sphere"):
        sphere.tangent_basis(np.array([1.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match="finite"):
        sphere.project(np.array([np.nan, 0, 1.0]), np.zeros(3))
    with pytest.raises(ValueError, match="last dimension"):
        sphere.project(np.eye(3)[0], np.zeros(4))
    with pytest.raises(ValueError, match="zero vectors"):
        sphere.normalize(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="n must be >= 2"):
        sphere.random_points(1)
    x = np.array([3.0, 4.0])
    sphere.normalize(x)
    np.testing.assert_array_equal(x, [3.0, 4.0])  # the caller's array is untouched
