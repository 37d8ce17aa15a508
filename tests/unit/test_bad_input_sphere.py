"""Extreme scales on the sphere side: vectors whose sum of squares leaves float64, matrices whose fourth
powers would, and counts that cannot be sizes."""

from __future__ import annotations

import numpy as np
import pytest

from landscape_lib import generators, objectives, solvers, sphere, ufm


@pytest.mark.parametrize("scale", [1e200, 1e-200, 1e-160, 1e160])
def test_normalize_survives_extreme_scales(scale):
    x = scale * np.array([[3.0, 4.0], [1.0, 1.0]])
    out = sphere.normalize(x)
    np.testing.assert_allclose(out, [[0.6, 0.8], [2**-0.5, 2**-0.5]], rtol=1e-15)


def test_normalize_leaves_ordinary_vectors_bit_identical():
    x = np.random.default_rng(0).standard_normal((50, 7))
    np.testing.assert_array_equal(sphere.normalize(x), x / np.linalg.norm(x, axis=-1, keepdims=True))
    with pytest.raises(ValueError, match="zero vectors"):
        sphere.normalize(np.array([[0.0, 0.0], [1.0, 0.0]]))


@pytest.mark.parametrize(("scale", "word"), [(1e80, "overflow"), (1e120, "overflow"), (1e-80, "underflow")])
def test_objectives_refuse_scales_float64_cannot_hold(scale, word):
    A = generators.tight_frame(3, 6, rng=0)
    with pytest.raises(ValueError, match=f"A's largest entry .* would {word} float64; rescale A"):
        objectives.TensorObjective(scale * A)


def test_moderate_scales_give_finite_results():
    A = generators.tight_frame(3, 6, rng=0)
    q = sphere.random_points(3, 4, rng=1)
    for scale in (1e-30, 1e30):
        f = objectives.TensorObjective(scale * A)
        assert np.all(np.isfinite(f.value(q))) and np.all(np.isfinite(f.gradient(q)))
    res = solvers.power_iteration(objectives.TensorObjective(1e30 * A), q)
    assert np.all(np.isfinite(res.points))


@pytest.mark.parametrize("args", [(-1, 2, 3), (3, 0, 3), (3, 2, 0), (2.5, 2, 3)])
def test_num_parameters_refuses_sizes_that_are_not(args):
    with pytest.raises(ValueError, match="must be"):
        ufm.num_parameters(*args)
