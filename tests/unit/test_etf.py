"""Tests of landscape_lib.etf: the simplex ETF, its Gram matrix and the distance of a Gram matrix from it."""

import numpy as np
import pytest

from landscape_lib import etf


@pytest.mark.parametrize("K", [2, 3, 4, 10])
@pytest.mark.parametrize("extra", [-1, 0, 3])
@pytest.mark.parametrize("rng", [None, 0, 1])
def test_simplex_etf_gram(K, extra, rng):
    d = K + extra
    M = etf.simplex_etf(K, d, rng=rng)
    assert M.shape == (K, d)
    np.testing.assert_allclose(M @ M.T, etf.etf_gram(K), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(M, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(M.sum(axis=0), 0.0, atol=1e-12)


@pytest.mark.parametrize("K", [2, 3, 7])
def test_etf_gram_closed_form(K):
    G = etf.etf_gram(K)
    np.testing.assert_allclose(G, K / (K - 1) * (np.eye(K) - np.ones((K, K)) / K), rtol=1e-15)
    np.testing.assert_allclose(np.diag(G), 1.0, rtol=1e-15)
    np.testing.assert_allclose(G[~np.eye(K, dtype=bool)], -1 / (K - 1), rtol=1e-14)
    np.testing.assert_allclose(np.linalg.eigvalsh(G), [0.0] + [K / (K - 1)] * (K - 1), atol=1e-14)


def test_simplex_etf_defaults_and_randomness():
    np.testing.assert_allclose(etf.simplex_etf(3), np.sqrt(1.5) * (np.eye(3) - 1 / 3))
    wide = etf.simplex_etf(4, 9)                                    # deterministic: the first K coordinates
    np.testing.assert_array_equal(wide[:, :4], etf.simplex_etf(4))
    assert not np.any(wide[:, 4:])
    assert not np.allclose(etf.simplex_etf(4, 6, rng=0), etf.simplex_etf(4, 6, rng=1))
    np.testing.assert_array_equal(etf.simplex_etf(4, 6, rng=5), etf.simplex_etf(4, 6, rng=5))
    gen = np.random.default_rng(5)
    np.testing.assert_array_equal(etf.simplex_etf(4, 6, rng=gen), etf.simplex_etf(4, 6, rng=5))


def test_random_rotations_cover_the_sphere():
    # Haar rotations: the first vector of many random frames has mean ~0 and covariance ~I/d.
    d = 4
    first = np.array([etf.simplex_etf(3, d, rng=seed)[0] for seed in range(2000)])
    np.testing.assert_allclose(first.mean(axis=0), 0.0, atol=0.06)
    np.testing.assert_allclose(first.T @ first / len(first), np.eye(d) / d, atol=0.03)


def test_numpy_integers_are_accepted():
    np.testing.assert_array_equal(etf.simplex_etf(np.int64(3), np.int32(5)), etf.simplex_etf(3, 5))
    np.testing.assert_array_equal(etf.etf_gram(np.uint8(4)), etf.etf_gram(4))


@pytest.mark.parametrize(("args", "match"), [
    ((1,), "K must be >= 2"), ((0,), "K must be >= 2"), ((3, 1), "d must be >= 2"),
    ((2.5,), "K must be a finite integer"), ((4, 0), "d must be >= 3"), ((True,), "integer"),
    ((3, 3.0), "d must be a finite integer"),
])
def test_simplex_etf_errors(args, match):
    with pytest.raises(ValueError, match=match):
        etf.simplex_etf(*args)


@pytest.mark.parametrize("K", [2, 3, 5])
def test_etf_distance(K):
    rng = np.random.default_rng(K)
    M = etf.simplex_etf(K, K + 2, rng=rng)
    assert etf.etf_distance(3.7 * M @ M.T) < 1e-14                   # any scale
    G = rng.standard_normal((K, K))
    expected = np.linalg.norm(G / np.linalg.norm(G) - (np.eye(K) - 1 / K) / np.sqrt(K - 1))
    assert etf.etf_distance(G) == pytest.approx(expected, rel=1e-14)
    assert 0 <= etf.etf_distance(G) <= 2
    assert etf.etf_distance(-etf.etf_gram(K)) == pytest.approx(2.0)     # the farthest point
    assert np.isnan(etf.etf_distance(np.zeros((K, K))))


def test_etf_distance_errors():
    with pytest.raises(ValueError, match="square"):
        etf.etf_distance(np.ones((2, 3)))
    with pytest.raises(ValueError, match="K >= 2"):
        etf.etf_distance(np.ones((1, 1)))
    with pytest.raises(ValueError, match="finite"):
        etf.etf_distance(np.full((2, 2), np.nan))
