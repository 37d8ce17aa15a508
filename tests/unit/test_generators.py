"""Tests of landscape_lib.generators: each frame invariant tied to the generator it holds for."""

import numpy as np
import pytest

from landscape_lib import generators


def _unit_columns(A):
    np.testing.assert_allclose(np.linalg.norm(A, axis=0), 1.0, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("n,m", [(3, 6), (5, 5), (8, 20), (10, 37)])
@pytest.mark.parametrize("low_coherence", [False, True])
def test_tight_frame_is_untf(seed, n, m, low_coherence):
    A = generators.tight_frame(n, m, low_coherence=low_coherence, rng=seed)
    assert A.shape == (n, m)
    _unit_columns(A)
    np.testing.assert_allclose((n / m) * A @ A.T, np.eye(n), atol=1e-10)
    assert generators.tightness_error(A) < 1e-10
    assert generators.coherence(A) >= generators.welch_bound(n, m) - 1e-12


def test_low_coherence_option_lowers_coherence():
    n, m = 20, 60
    plain = [generators.coherence(generators.tight_frame(n, m, rng=s)) for s in range(3)]
    low = [generators.coherence(generators.tight_frame(n, m, low_coherence=True, rng=s)) for s in range(3)]
    welch = generators.welch_bound(n, m)
    assert max(low) < min(plain)
    assert max(low) < 1.6 * welch


@pytest.mark.parametrize("n,m", [(2, 2), (3, 3), (4, 4), (3, 7), (4, 9), (6, 6), (7, 16), (64, 256)])
def test_harmonic_frame_is_exact_untf(n, m):
    A = generators.harmonic_frame(n, m)
    assert A.shape == (n, m)
    _unit_columns(A)
    np.testing.assert_allclose((n / m) * A @ A.T, np.eye(n), atol=1e-10)
    assert generators.coherence(A) >= generators.welch_bound(n, m) - 1e-12


@pytest.mark.parametrize("seed", range(3))
def test_rotated_bases_frame_tight_and_coherent(seed):
    angle = 0.3
    A = generators.rotated_bases_frame(4, 3, angle, rng=seed)
    assert A.shape == (4, 12)
    _unit_columns(A)
    assert generators.tightness_error(A) < 1e-10
    assert generators.coherence(A) >= np.cos(angle) - 1e-12


@pytest.mark.parametrize("seed", range(3))
def test_random_frame_unit_columns_not_tight(seed):
    A = generators.random_frame(20, 60, rng=seed)
    _unit_columns(A)
    assert generators.tightness_error(A) > 0.1  # random columns are not a tight frame
    assert generators.coherence(A) >= generators.welch_bound(20, 60)
    np.testing.assert_array_equal(A, generators.random_frame(20, 60, rng=seed))


def test_welch_bound_values():
    assert generators.welch_bound(3, 6) == pytest.approx(np.sqrt(1 / 5))
    assert generators.welch_bound(4, 4) == 0.0
    # Six equiangular lines in R^3 (icosahedron diagonals) attain the bound.
    phi = (1 + np.sqrt(5)) / 2
    ico = np.array([[0, 1, phi], [0, 1, -phi], [1, phi, 0], [1, -phi, 0], [phi, 0, 1], [-phi, 0, 1]]).T
    assert generators.coherence(ico) == pytest.approx(generators.welch_bound(3, 6), abs=1e-12)


@pytest.mark.parametrize("n", [1, 3, 8])
def test_random_orthogonal_is_orthogonal_seeded_and_sign_fixed(n):
    Q = generators.random_orthogonal(n, rng=n)
    np.testing.assert_allclose(Q.T @ Q, np.eye(n), atol=1e-12)
    np.testing.assert_array_equal(Q, generators.random_orthogonal(n, rng=n))
    if n > 1:
        assert generators.tightness_error(Q) < 1e-12
    # the sign fix: Q is the Q of the QR factorization of its Gaussian matrix with R's diagonal positive
    G = np.random.default_rng(n).standard_normal((n, n))
    np.testing.assert_allclose(np.diag(Q.T @ G), np.abs(np.diag(np.linalg.qr(G)[1])), atol=1e-12)


def test_random_orthogonal_is_haar_on_average():
    """For a Haar matrix E[Q] = 0 and E[Q_ij²] = 1/n; without the sign fix E[Q_11] would be negative."""
    Q = np.stack([generators.random_orthogonal(3, rng=s) for s in range(3000)])
    assert np.all(np.abs(Q.mean(axis=0)) < 0.04)
    np.testing.assert_allclose((Q**2).mean(axis=0), 1 / 3, atol=0.03)


def test_errors():
    with pytest.raises(ValueError, match="^n must be >= 1"):
        generators.random_orthogonal(0)
    with pytest.raises(ValueError, match="^n must be >= 2; got 1"):
        generators.random_frame(1, 4)
    with pytest.raises(ValueError, match="m >= n"):
        generators.tight_frame(5, 3)
    with pytest.raises(ValueError, match="m >= n"):
        generators.harmonic_frame(5, 4)
    with pytest.raises(ValueError, match="integer"):
        generators.random_frame(3.5, 4)
    with pytest.raises(ValueError, match="angle"):
        generators.rotated_bases_frame(3, 2, 2.0)
    with pytest.raises(ValueError, match="zero columns"):
        generators.coherence(np.array([[1.0, 0.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="finite"):
        generators.tightness_error(np.array([[1.0, np.nan], [0.0, 1.0]]))


def test_rebuilt_frame_keeps_its_rotation():
    """The Gram-rebuilt frame is rotated back to the previous iterate: any rotation LAPACK picks for the
    eigenvectors gives the same frame (so the frame is the same on every CPU)."""
    from landscape_lib.generators import _nearest_rotation

    rng = np.random.default_rng(4)
    A = generators.random_frame(4, 9, rng=rng)
    B = A + 0.05 * rng.standard_normal(A.shape)
    Q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    np.testing.assert_allclose(_nearest_rotation(Q @ B, A), _nearest_rotation(B, A), atol=1e-12)
    assert np.linalg.norm(_nearest_rotation(B, A) - A) <= np.linalg.norm(B - A) + 1e-12
