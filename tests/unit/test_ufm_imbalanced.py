"""Tests of landscape_lib.ufm_imbalanced: derivatives, reductions, certificates, SELI, thresholds, errors."""

import numpy as np
import pytest

from landscape_lib import testing, ufm
from landscape_lib import ufm_imbalanced as ui

LAM = dict(lambda_W=5e-3, lambda_H=5e-3, lambda_b=1e-3)
COUNTS = [4, 4, 1, 2]


def _point(counts, d, seed):
    rng = np.random.default_rng(seed)
    K, N = len(counts), int(np.sum(counts))
    return rng.standard_normal((K, d)), rng.standard_normal((N, d)), rng.standard_normal(K)


@pytest.mark.parametrize("loss", ["ce", "mse", "focal"])
@pytest.mark.parametrize("seed", [0, 1])
def test_derivatives_taylor(loss, seed):
    d = 3
    W, H, b = _point(COUNTS, d, seed)
    dW, dH, db = (0.2 * a for a in _point(COUNTS, d, seed + 10))
    K, N = W.shape[0], H.shape[0]

    def split(x):
        return x[: K * d].reshape(K, d), x[K * d: K * d + N * d].reshape(N, d), x[K * d + N * d:]

    flat = lambda *a: np.concatenate([v.ravel() for v in a])  # noqa: E731
    _, g = ui.loss_and_gradient(W, H, b, COUNTS, **LAM, loss=loss)
    hv = ui.hessian_vector_product(W, H, b, dW, dH, db, COUNTS, **LAM, loss=loss)
    check = testing.taylor_check(lambda x: ui.loss(*split(x), COUNTS, **LAM, loss=loss), flat(W, H, b),
                                 flat(dW, dH, db), flat(*g), flat(*hv),
                                 steps=np.logspace(-1, -4, 7))
    assert abs(check.slope_first - 2) < 0.1
    assert abs(check.slope_second - 3) < 0.15


def test_balanced_counts_match_ufm():
    K, n, d = 3, 2, 4
    W, H, b = ufm.random_init(K, n, d, rng=0)
    b = np.arange(K) * 0.1
    f, g = ui.loss_and_gradient(W, H.reshape(K * n, d), b, [n] * K, **LAM)
    f0, g0 = ufm.loss_and_gradient(W, H, b, **LAM)
    assert f == pytest.approx(f0, rel=1e-14)
    np.testing.assert_allclose(g[1], g0[1].reshape(K * n, d), atol=1e-15)
    assert np.ndim(ui.loss(np.stack([W, W]), np.stack([H.reshape(K * n, d)] * 2), np.stack([b, b]), [n] * K,
                           **LAM)) == 1


def test_class_mean_fit_matches_per_sample_fit():
    c = ui.imbalanced_counts(2, 2, 3)
    W, H, b, g = ui.fit_per_sample(c, 4, **LAM, rng=0)
    fit = ui.fit(c, 4, **LAM, rng=0)
    assert g < 1e-8 and fit.grad_norm < 1e-8
    f = ui.loss(W, H, b, c, **LAM)
    assert f == pytest.approx(fit.loss, abs=1e-12)
    assert ui.loss(fit.W, fit.features(), fit.b, c, **LAM) == pytest.approx(fit.loss, abs=1e-13)
    assert ui.minority_cosine(W, [2, 3]) == pytest.approx(ui.minority_cosine(fit.W, [2, 3]), abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_penalized_balanced_is_etf_and_certified(seed):
    fit = ui.fit([1, 1, 1, 1], 4, lambda_W=5e-3, lambda_H=5e-3, rng=seed)
    assert fit.grad_norm < 1e-8
    assert ui.minority_cosine(fit.W, [0, 1]) == pytest.approx(-1 / 3, abs=1e-7)
    assert fit.certificate <= 1


def test_layer_peeled_kkt_and_budgets():
    c = ui.imbalanced_counts(3, 2, 2)
    fit = ui.fit_layer_peeled(c, 5, E_W=1.0, E_H=2.0, rng=0)
    assert fit.grad_norm < 1e-7
    assert np.sum(fit.W**2) / 5 == pytest.approx(1.0, rel=1e-12)
    assert np.sum(fit.M**2) / 5 == pytest.approx(2.0, rel=1e-12)
    assert min(fit.multipliers) > 0 and fit.certificate <= 1


def test_certificate_fails_at_a_non_global_merged_point():
    c = ui.imbalanced_counts(3, 2, 2)
    merged = ui.fit(c, 5, lambda_W=5e-3, lambda_H=5e-3, merge=[[3, 4]])
    free = ui.fit(c, 5, lambda_W=5e-3, lambda_H=5e-3)
    assert merged.grad_norm < 1e-8 and merged.certificate > 1 and merged.loss > free.loss


def test_seli_gram():
    G = ui.seli_classifier_gram([2, 2, 2])
    np.testing.assert_allclose(G, 1.5 * (np.eye(3) - 1 / 3), atol=1e-14)     # balanced: the simplex ETF
    assert ui.gram_cosine(G, [0, 1]) == pytest.approx(-0.5)
    c = ui.imbalanced_counts(3, 2, 10)
    assert ui.gram_cosine(ui.seli_classifier_gram(c), [3, 4]) < 1


def test_merge_threshold_brackets_the_merge():
    R = ui.merge_threshold(3, 2, 5, model="layer-peeled", low=1.5, high=100.0, rtol=1e-3)
    below = ui.fit_layer_peeled(ui.imbalanced_counts(3, 2, 2), 5)
    above = ui.fit_layer_peeled(ui.imbalanced_counts(3, 2, 3), 5)
    assert 2 < R < 3
    assert ui.minority_cosine(below.W, [3, 4]) < 0.99 and ui.minority_cosine(above.W, [3, 4]) > 1 - 1e-9


def test_errors():
    with pytest.raises(ValueError, match="imbalance ratio R must be > 0"):
        ui.imbalanced_counts(2, 2, 0)
    with pytest.raises(ValueError, match="imbalance ratio R must be > 0"):
        ui.imbalanced_counts(2, 2, -3.0)
    with pytest.raises(ValueError, match="must be an integer number of samples"):
        ui.imbalanced_counts(2, 2, 2.5)
    for bad in ([3, 0], [3, 1.5], [3, -1], [3], ["a", "b"], [True, 2]):
        with pytest.raises(ValueError, match="counts must"):
            ui.check_counts(bad)
    with pytest.raises(ValueError, match="H"):
        ui.loss(*_point([2, 1], 3, 0)[:1], np.zeros((4, 3)), np.zeros(2), [2, 1], **LAM)
    with pytest.raises(ValueError, match="minority must"):
        ui.minority_cosine(np.eye(3), [0])
    with pytest.raises(ValueError, match="model must"):
        ui.merge_threshold(2, 2, 4, model="lpm")


def test_minority_collapse_figure():
    from landscape_lib.viz import collapse as viz

    R = np.array([1.0, 10.0])
    grams = {"a": np.stack([np.eye(3), np.ones((3, 3))]), "b": np.stack([np.eye(3), np.zeros((3, 3))])}
    fig = viz.minority_collapse_figure(R, {"a": [0.0, 1.0], "b": [0.0, np.nan]}, grams, minority=[1, 2])
    assert len(fig.data) == 2 + 2 * 2 and len(fig.layout.sliders[0].steps) == 2
    # The matrices label the classes 1..K as the text does, starring the minority classes (indices 1, 2).
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert list(heatmaps[0].x) == ["1", "2*", "3*"]
    with pytest.raises(ValueError, match="same keys"):
        viz.minority_collapse_figure(R, {"a": [0.0, 1.0]}, {"b": grams["b"]}, minority=[1, 2])
