"""Tests of landscape_lib.losses and of the UFM with other losses: Taylor checks, closed forms, training."""

import numpy as np
import pytest

from landscape_lib import losses, testing, ufm

LOSSES = [losses.get("ce"), losses.get("mse"), losses.get("label_smoothing", alpha=0.2),
          losses.get("focal", gamma=2.0), losses.get("focal", gamma=0.5)]


@pytest.mark.parametrize("loss", LOSSES, ids=str)
@pytest.mark.parametrize("seed", [0, 1])
def test_logit_derivatives_taylor(loss, seed):
    rng = np.random.default_rng(seed)
    Z, labels = 2 * rng.standard_normal((6, 4)), rng.integers(0, 4, size=6)
    v = rng.standard_normal(Z.shape)
    _, g = losses.value_and_gradient(Z, labels, loss)
    hv = losses.hessian_vector_product(Z, labels, v, loss)
    check = testing.taylor_check(lambda z: losses.values(z.reshape(Z.shape), labels, loss).sum(), Z.ravel(),
                                 v.ravel(), g.ravel(), hv.ravel())
    assert abs(check.slope_first - 2) < 0.1
    if loss.name == "mse":                      # quadratic: the second-order remainder is round-off
        assert np.max(check.second_order) < 1e-12
    else:
        assert abs(check.slope_second - 3) < 0.15


def test_focal_zero_is_ce_and_ls_zero_is_ce():
    rng = np.random.default_rng(3)
    Z, labels, v = rng.standard_normal((5, 3)), rng.integers(0, 3, size=5), rng.standard_normal((5, 3))
    for other in (losses.get("focal", gamma=0.0), losses.get("label_smoothing", alpha=0.0)):
        for a, b in zip(losses.value_and_gradient(Z, labels, other), losses.value_and_gradient(Z, labels, "ce"),
                        strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(losses.hessian_vector_product(Z, labels, v, other),
                                   losses.hessian_vector_product(Z, labels, v, "ce"), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("loss", LOSSES, ids=str)
def test_ufm_taylor_with_loss(loss):
    rng = np.random.default_rng(0)
    K, n, d = 3, 2, 4
    lam = dict(lambda_W=0.02, lambda_H=0.01, lambda_b=0.03, loss=loss)
    W, H, b = ufm.random_init(K, n, d, scale=1.5, rng=rng)
    theta = ufm.pack(W, H, rng.standard_normal(K))
    v = rng.standard_normal(theta.size)
    _, grads = ufm.loss_and_gradient(*ufm.unpack(theta, K, n, d), **lam)
    hv = ufm.hessian_vector_product(*ufm.unpack(theta, K, n, d), *ufm.unpack(v, K, n, d), **lam)
    check = testing.taylor_check(lambda th: ufm.loss(*ufm.unpack(th, K, n, d), **lam), theta, v, ufm.pack(*grads),
                                 ufm.pack(*hv))
    assert abs(check.slope_first - 2) < 0.1
    assert abs(check.slope_second - 3) < 0.15


@pytest.mark.parametrize("loss", LOSSES, ids=str)
@pytest.mark.parametrize("lams", [(5e-3, 5e-3, 1e-3), (0.02, 0.005, 0.0), (0.01, 0.04, 0.5)])
def test_closed_form_is_stationary_and_training_reaches_it(loss, lams):
    K, n, d = 4, 5, 6
    lam = dict(lambda_W=lams[0], lambda_H=lams[1], lambda_b=lams[2], loss=loss)
    sol = ufm.global_minimizer(K, n, d, **lam)
    _, grads = ufm.loss_and_gradient(sol.W, sol.H, sol.b, **lam)
    assert np.linalg.norm(ufm.pack(*grads)) <= 1e-8
    run = ufm.fit(K, n, d, **lam, method="lbfgs", steps=3000, rng=1, record_every=10**9)
    assert run.loss[-1] >= sol.loss - 1e-10
    assert run.loss[-1] - sol.loss < 1e-8
    np.testing.assert_allclose(np.sum(run.W**2, axis=1), sol.rho, rtol=1e-4)


def test_label_smoothing_threshold_moves():
    # K beta = 0.126 here: K beta + alpha >= 1 gives the zero solution
    a, _, _ = ufm.optimal_margin(4, 10, 0.01, 0.01, loss=losses.get("label_smoothing", alpha=0.9))
    assert a == 0.0
    a, _, _ = ufm.optimal_margin(4, 10, 0.01, 0.01, loss=losses.get("label_smoothing", alpha=0.85))
    assert a > 0


def test_mse_strong_bias_penalty_needs_d_at_least_K():
    lam = dict(lambda_W=1e-3, lambda_H=1e-3, lambda_b=10.0, loss="mse")
    a, u, b0 = ufm.optimal_margin(3, 4, 1e-3, 1e-3, 10.0, loss="mse")
    assert u > 0
    sol = ufm.global_minimizer(3, 4, 3, **lam)
    assert np.linalg.norm(ufm.pack(*ufm.loss_and_gradient(sol.W, sol.H, sol.b, **lam)[1])) <= 1e-8
    with pytest.raises(ValueError, match="d >= K"):
        ufm.global_minimizer(3, 4, 2, **lam)


def test_bad_arguments():
    with pytest.raises(ValueError, match="loss must be one of"):
        losses.get("hinge")
    with pytest.raises(ValueError, match="alpha"):
        losses.get("label_smoothing", alpha=1.0)
    with pytest.raises(ValueError, match="gamma"):
        losses.get("focal", gamma=-1.0)
    with pytest.raises(ValueError, match="loss must be"):
        ufm.loss(np.zeros((2, 2)), np.zeros((2, 1, 2)), np.zeros(2), lambda_W=1.0, lambda_H=1.0, lambda_b=0.0,
                 loss="nope")
    with pytest.raises(ValueError, match="loss must be"):
        losses.as_loss(3)
