"""Tests of landscape_lib.toy2d: derivatives by Taylor expansion and central differences, the known
critical points and their types, batching, and input errors."""

from __future__ import annotations

import numpy as np
import pytest

from landscape_lib import toy2d
from landscape_lib.critical import CriticalType
from landscape_lib.testing import taylor_check

NAMES = sorted(toy2d.EXAMPLES)
# The Taylor steps: small enough for the asymptotics, large enough to stay above round-off.
STEPS = np.logspace(-1, -4, 7)


def _random_points(toy, rng, n):
    (lo, hi), _ = toy.domain
    return rng.uniform(lo, hi, size=(n, 2))


@pytest.mark.parametrize("name", NAMES)
def test_taylor_slopes(name):
    """Remainder slopes ≈ 2 with the gradient term and ≈ 3 with the Hessian term, at random points."""
    toy = toy2d.example(name)
    rng = np.random.default_rng(1)
    for x in _random_points(toy, rng, 5):
        v = rng.standard_normal(2)
        chk = taylor_check(lambda p, t=toy: float(t.value(p)), x, v, toy.gradient(x), toy.hessian(x) @ v,
                           steps=STEPS)
        assert abs(chk.slope_first - 2.0) < 0.1, chk
        if name in ("bowl", "cap", "strict_saddle"):
            # Quadratics: the second-order remainder is round-off only.
            assert np.isnan(chk.slope_second) or np.all(chk.second_order < 1e-10)
        else:
            assert abs(chk.slope_second - 3.0) < 0.15, chk


def test_taylor_check_detects_a_wrong_hessian():
    """The check can fail: a Hessian with the wrong sign gives slope 2, not 3."""
    toy = toy2d.four_wells()
    x, v = np.array([0.3, -0.7]), np.array([0.6, 0.8])
    chk = taylor_check(lambda p: float(toy.value(p)), x, v, toy.gradient(x), -toy.hessian(x) @ v,
                       steps=STEPS)
    assert abs(chk.slope_second - 2.0) < 0.1


@pytest.mark.parametrize("name", NAMES)
def test_central_differences(name):
    """Gradient = central differences of the value; Hessian = central differences of the gradient."""
    toy = toy2d.example(name)
    rng = np.random.default_rng(2)
    x = _random_points(toy, rng, 6)
    h = 1e-5
    eye = np.eye(2)
    fd_grad = np.stack([(toy.value(x + h * e) - toy.value(x - h * e)) / (2 * h) for e in eye], axis=-1)
    fd_hess = np.stack([(toy.gradient(x + h * e) - toy.gradient(x - h * e)) / (2 * h) for e in eye], axis=-1)
    scale = 1.0 + np.abs(toy.gradient(x)).max()
    np.testing.assert_allclose(toy.gradient(x), fd_grad, atol=1e-7 * scale)
    np.testing.assert_allclose(toy.hessian(x), fd_hess, atol=1e-6 * scale)
    np.testing.assert_allclose(toy.hessian(x), np.swapaxes(toy.hessian(x), -1, -2), atol=0)


@pytest.mark.parametrize("name", NAMES)
def test_batch_equals_loop(name):
    toy = toy2d.example(name)
    x = _random_points(toy, np.random.default_rng(3), 12).reshape(3, 4, 2)
    assert toy.value(x).shape == (3, 4)
    assert toy.gradient(x).shape == (3, 4, 2)
    assert toy.hessian(x).shape == (3, 4, 2, 2)
    for i in range(3):
        for j in range(4):
            np.testing.assert_allclose(toy.value(x[i, j]), toy.value(x)[i, j], rtol=1e-14, atol=1e-14)
            np.testing.assert_allclose(toy.gradient(x[i, j]), toy.gradient(x)[i, j], rtol=1e-14, atol=1e-14)
            np.testing.assert_allclose(toy.hessian(x[i, j]), toy.hessian(x)[i, j], rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_known_critical_points_are_critical_with_the_stated_types(name):
    """The listed points have zero gradient, and the stated type matches the closed-form Hessian
    eigenvalues (degenerate ones: both eigenvalues exactly zero)."""
    toy = toy2d.example(name)
    pts = toy.critical_points
    assert len(toy.critical_types) == pts.shape[0] >= 1
    np.testing.assert_allclose(toy.gradient(pts), 0.0, atol=1e-12)
    lam = np.linalg.eigvalsh(toy.hessian(pts))
    for (lo, hi), kind in zip(lam, toy.critical_types, strict=True):
        if kind == CriticalType.MINIMIZER:
            assert lo > 0.1
        elif kind == CriticalType.MAXIMIZER:
            assert hi < -0.1
        elif kind == CriticalType.STRICT_SADDLE:
            assert lo < -0.1
        else:
            assert lo == 0.0 and hi == 0.0


def test_closed_form_values():
    assert toy2d.bowl().value([1.0, 1.0]) == 3.0
    assert toy2d.monkey_saddle().value([1.0, 1.0]) == -2.0
    assert toy2d.quartic_saddle().value([2.0, 1.0]) == 15.0
    np.testing.assert_allclose(np.linalg.eigvalsh(toy2d.strict_saddle().hessian([0.3, 0.2])), [-2.0, 2.0])
    # The monkey saddle and x^4 - y^4 have a vanishing Hessian at the origin.
    assert np.all(toy2d.monkey_saddle().hessian([0.0, 0.0]) == 0.0)
    assert np.all(toy2d.quartic_saddle().hessian([0.0, 0.0]) == 0.0)


def test_four_wells_structure():
    """Defaults: 4 minimizers (1 global, 3 spurious), 4 strict saddles, 1 maximizer."""
    toy = toy2d.four_wells()
    kinds = [t.value for t in toy.critical_types]
    assert kinds.count("minimizer") == 4
    assert kinds.count("strict saddle") == 4
    assert kinds.count("maximizer") == 1
    glob = toy.global_minimizers
    assert glob.shape == (1, 2)
    np.testing.assert_allclose(glob[0], [-1.0900, 1.0406], atol=1e-4)
    # Without tilt and coupling the four minima (±1, ±1) are all global.
    sym = toy2d.four_wells(0.0, 0.0, 0.0)
    assert sym.critical_points.shape == (9, 2)
    assert sym.global_minimizers.shape == (4, 2)
    np.testing.assert_allclose(np.sort(np.abs(sym.global_minimizers), axis=0), 1.0, atol=1e-12)


def test_rank_one_factorization_is_benign():
    """f = ¼‖xxᵀ − M‖²: minimizers ±√μ₁u₁ all global, the other nonzero points strict saddles."""
    m = np.array([[2.0, 0.5], [0.5, 1.0]])
    toy = toy2d.rank_one_factorization(m)
    mu, u = np.linalg.eigh(m)
    mins = toy.critical_points[[t == CriticalType.MINIMIZER for t in toy.critical_types]]
    assert mins.shape == (2, 2)
    np.testing.assert_allclose(np.abs(mins @ u[:, 1]), np.sqrt(mu[1]), atol=1e-12)
    np.testing.assert_allclose(toy.value(mins), toy.value(mins)[0], atol=1e-14)
    assert sum(t == CriticalType.STRICT_SADDLE for t in toy.critical_types) == 2
    assert toy.critical_types[0] == CriticalType.MAXIMIZER
    # An indefinite M: the origin becomes a strict saddle, only one pair of nonzero critical points.
    ind = toy2d.rank_one_factorization(np.diag([1.0, -1.0]))
    assert ind.critical_points.shape == (3, 2)
    assert ind.critical_types[0] == CriticalType.STRICT_SADDLE
    # The caller's matrix is not modified.
    m_copy = m.copy()
    toy2d.rank_one_factorization(m).value([1.0, 2.0])
    np.testing.assert_array_equal(m, m_copy)


def test_critical_points_are_read_only():
    toy = toy2d.four_wells()
    with pytest.raises(ValueError):
        toy.critical_points[0, 0] = 5.0


@pytest.mark.parametrize("bad, match", [
    (np.zeros(3), "last dimension 2"),
    (np.zeros((4, 3)), "last dimension 2"),
    (np.array([np.nan, 0.0]), "finite"),
    (np.array([np.inf, 0.0]), "finite"),
    (np.zeros((0, 2)), "empty"),
    ("abc", "numeric"),
])
def test_bad_points_raise(bad, match):
    toy = toy2d.monkey_saddle()
    for method in (toy.value, toy.gradient, toy.hessian):
        with pytest.raises(ValueError, match=match):
            method(bad)


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match=r"\|a\| <= 0.8"):
        toy2d.four_wells(a=2.0)
    with pytest.raises(ValueError, match="finite"):
        toy2d.four_wells(c=np.nan)
    with pytest.raises(ValueError, match="symmetric"):
        toy2d.rank_one_factorization([[1.0, 2.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="shape"):
        toy2d.rank_one_factorization(np.eye(3))
    with pytest.raises(ValueError, match="distinct"):
        toy2d.rank_one_factorization(np.eye(2))
    with pytest.raises(ValueError, match="unknown example"):
        toy2d.example("banana")


@pytest.mark.parametrize("c", [0.0, 1e-12, 1e-6, 0.049, 0.05, 0.5, -0.8])
def test_four_wells_critical_points_are_accurate_for_small_and_large_coupling(c):
    """The degree-9 polynomial has coefficients ~1/c³: tiny couplings must still give exact points."""
    toy = toy2d.four_wells(0.3, 0.2, c)
    assert np.abs(toy.gradient(toy.critical_points)).max() < 1e-10
    assert len(toy.critical_types) == 9
    assert sum(t == CriticalType.MINIMIZER for t in toy.critical_types) == 4


def test_four_wells_large_parameters_merge_critical_points():
    """|a|, |b|, |c| <= 0.8 is allowed, but not every such choice keeps all nine points."""
    toy = toy2d.four_wells(-0.8, -0.8, -0.8)
    assert len(toy.critical_types) == 5
    assert np.abs(toy.gradient(toy.critical_points)).max() < 1e-10
