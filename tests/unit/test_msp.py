"""Tests of landscape_lib.msp: the projection onto the orthogonal group and MSP on a complete dictionary."""

import numpy as np
import pytest

from landscape_lib import dictionary, generators, msp, recovery


def test_polar_orthogonal():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((5, 5))
    Q = msp.polar_orthogonal(M)
    np.testing.assert_allclose(Q @ Q.T, np.eye(5), atol=1e-12)
    # the polar factor maximizes tr(Q^T M) over O(n): compare with random orthogonal matrices
    best = np.trace(Q.T @ M)
    for s in range(20):
        assert np.trace(generators.random_orthogonal(5, rng=s).T @ M) <= best + 1e-12
    batch = msp.polar_orthogonal(np.stack([M, 2 * M]))  # batched, and invariant to a positive scale
    np.testing.assert_allclose(batch, np.stack([Q, Q]), atol=1e-12)
    with pytest.raises(ValueError, match="square"):
        msp.polar_orthogonal(np.ones((3, 4)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_msp_recovers_orthogonal_dictionary(seed):
    rng = np.random.default_rng(seed)
    n = 8
    A = generators.random_orthogonal(n, rng=rng)
    Y, _ = dictionary.sample_data(A, 10_000, 0.3, rng=rng)
    res = msp.msp(Y, rng=rng)
    assert res.converged
    np.testing.assert_allclose(res.W @ res.W.T, np.eye(n), atol=1e-10)
    assert np.all(np.diff(res.objective) > -1e-9 * res.objective[-1])     # monotone ascent
    assert res.objective.shape == (res.iterations + 1,)
    match = recovery.match_columns(A, res.W, threshold=0.97)               # the rows of W estimate the columns
    assert match.n_recovered == n
    assert len(set(match.estimate_index)) == n


def test_msp_from_a_given_start_and_seed():
    rng = np.random.default_rng(3)
    A = generators.random_orthogonal(4, rng=rng)
    Y, _ = dictionary.sample_data(A, 3_000, 0.3, rng=rng)
    a, b = msp.msp(Y, rng=7), msp.msp(Y, rng=7)
    np.testing.assert_array_equal(a.W, b.W)
    started = msp.msp(Y, W0=generators.random_orthogonal(4, rng=7))    # the default start is this draw
    np.testing.assert_array_equal(started.W, a.W)
    one = msp.msp(Y, rng=7, max_iter=1)
    assert one.iterations == 1 and one.objective.shape == (2,)


def test_errors():
    with pytest.raises(ValueError, match="shape"):
        msp.msp(np.ones((3, 20)), W0=np.eye(4))
    with pytest.raises(ValueError, match="orthogonal"):
        msp.msp(np.ones((3, 20)), W0=2 * np.eye(3))
    with pytest.raises(ValueError, match="^max_iter must be >= 1"):
        msp.msp(np.ones((3, 20)), max_iter=0)
    with pytest.raises(ValueError, match="tol"):
        msp.msp(np.ones((3, 20)), tol=-1.0)
