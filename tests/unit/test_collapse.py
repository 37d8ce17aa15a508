"""Tests of landscape_lib.collapse: the NC metrics, one-shot and from streamed class statistics."""

import dataclasses

import numpy as np
import pytest

from landscape_lib import class_stats, etf
from landscape_lib import collapse as C

FIELDS = [f.name for f in dataclasses.fields(C.CollapseMetrics)]


def random_orthogonal(d, rng):
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def collapsed_problem(K, d, n, *, rng, offset=0.0, scale=1.0, noise=0.0):
    """Features equal to ETF class means (plus a common offset, plus optional noise), W = c * Hbar^T.

    Returns H, y, W, b with b = -W @ offset, so that the logits do not see the common offset (NC4 = 0).
    """
    means = scale * etf.simplex_etf(K, d, rng=rng)
    common = offset * rng.standard_normal(d)
    H = np.repeat(means + common, n, axis=0)
    if noise:
        H = H + noise * rng.standard_normal(H.shape)
    y = np.repeat(np.arange(K), n)
    W = 0.7 * means
    return H, y, W, -W @ common


def naive_metrics(H, y, W, b, K):
    """Per-sample-loop reference, written out from the definitions (book/formulas.md)."""
    N, d = H.shape
    sums = np.zeros((K, d))
    counts = np.zeros(K)
    for h, k in zip(H, y, strict=True):
        sums[k] += h
        counts[k] += 1
    mu = sums / counts[:, None]
    mu_g = H.mean(axis=0)
    Sw = np.zeros((d, d))
    for h, k in zip(H, y, strict=True):
        Sw += np.outer(h - mu[k], h - mu[k])
    Sw /= N
    Hbar = (mu - mu_g).T
    Sb = Hbar @ Hbar.T / K
    vals, vecs = np.linalg.eigh(Sb)
    vals, vecs = vals[::-1][: K - 1], vecs[:, ::-1][:, : K - 1]
    Sb_pinv = vecs @ np.diag(1 / vals) @ vecs.T
    etf = (np.eye(K) - np.ones((K, K)) / K) / np.sqrt(K - 1)

    def dist(G):
        return np.linalg.norm(G / np.linalg.norm(G) - etf)

    wrong = 0
    for h in H:
        pred = np.argmax(W @ h + b)
        ncc = np.argmin([np.linalg.norm(h - m) for m in mu])
        wrong += pred != ncc
    return dict(
        nc1=np.trace(Sw @ Sb_pinv) / K,
        nc2_classifier=dist(W @ W.T),
        nc2_means=dist(Hbar.T @ Hbar),
        nc3_ufm=dist(W @ Hbar),
        nc3_papyan=np.linalg.norm(W.T / np.linalg.norm(W) - Hbar / np.linalg.norm(Hbar)) ** 2,
        nc4=wrong / N,
    )


# ---------------------------------------------------------------------------------------------------
# metrics at and away from collapse
# ---------------------------------------------------------------------------------------------------

# Feature dimensions below and above 2K - 1, where collapse_metrics projects onto the span of the means and W.
SHAPES = [(2, 2, 3), (3, 5, 4), (4, 4, 2), (10, 16, 3), (2, 9, 3), (3, 40, 5), (10, 64, 3)]


@pytest.mark.parametrize("K,d,n", SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_metrics_vanish_at_exact_collapse(K, d, n, seed):
    rng = np.random.default_rng(seed)
    H, y, W, b = collapsed_problem(K, d, n, rng=rng, offset=5.0, scale=3.0)
    m = C.collapse_metrics(H, y, W, b, K)
    for name in FIELDS:
        assert abs(getattr(m, name)) < 1e-10, (name, getattr(m, name))
    stats = class_stats.class_statistics(H, y, K)
    m2 = C.metrics_from_statistics(stats, W, 0.0)
    for name in FIELDS:
        assert abs(getattr(m2, name)) < 1e-10, (name, getattr(m2, name))


def test_metrics_positive_away_from_collapse():
    rng = np.random.default_rng(3)
    K, d, n = 4, 6, 20
    H, y, W, _ = collapsed_problem(K, d, n, rng=rng, noise=0.3)
    m = C.collapse_metrics(H, y, W, None, K)
    assert m.nc1 > 1e-3 and m.nc2_means > 1e-3 and m.nc3_ufm > 1e-3 and m.nc3_papyan > 1e-6
    # A classifier that is an ETF but not aligned with the means: NC2(W) = 0, NC3 > 0.
    H, y, _, _ = collapsed_problem(K, d, n, rng=rng)
    W_other = etf.simplex_etf(K, d, rng=99)
    m = C.collapse_metrics(H, y, W_other, None, K)
    assert m.nc2_classifier < 1e-12 and m.nc1 < 1e-20
    assert m.nc3_ufm > 1e-2 and m.nc3_papyan > 1e-2
    # Means of unequal norms (one class farther out): NC2(means) > 0, equinorm > 0, NC1 still 0.
    means = etf.simplex_etf(K, d) * np.array([[1.0], [2.0], [1.0], [1.0]])
    H = np.repeat(means, 3, axis=0)
    y = np.repeat(np.arange(K), 3)
    m = C.collapse_metrics(H, y, means, None, K)
    assert m.nc2_means > 1e-2 and m.equinorm_means > 1e-2 and m.nc1 < 1e-20


def test_nc3_forms_see_different_things():
    # NC3 in the UFM form sees W only through W Hbar: it is 0 for classifiers that are not proportional
    # to Hbar^T; Papyan et al.'s form is 0 exactly for W^T proportional to Hbar.
    K, n = 3, 4
    y = np.repeat(np.arange(K), n)
    skewed = np.array([[2.0, 0.0, 0.0, 0.0], [-1.0, 1.0, 0.0, 0.0], [-1.0, -1.0, 0.0, 0.0]])  # not an ETF
    H = np.repeat(skewed, n, axis=0)
    m = C.collapse_metrics(H, y, 2.0 * skewed, None, K)                 # W = 2 Hbar^T
    assert m.nc3_papyan < 1e-15 and m.nc3_ufm > 1e-2 and m.nc2_means > 1e-2
    dual = (np.eye(K) - 1.0 / K) @ np.linalg.pinv(skewed.T)          # W Hbar = I - 11^T/K
    m = C.collapse_metrics(H, y, dual, None, K)
    assert m.nc3_ufm < 1e-12 and m.nc3_papyan > 1e-2
    # ETF means, W = Hbar^T plus an ETF orthogonal to the means: both NC2 and NC3 (UFM) vanish, W is not
    # proportional to Hbar^T, and only Papyan et al.'s NC3 says so.
    E = etf.simplex_etf(K, K - 1)
    means = np.hstack([E, np.zeros((K, 2))])
    W = np.hstack([E, E])
    m = C.collapse_metrics(np.repeat(means, n, axis=0), y, W, None, K)
    assert max(m.nc1, m.nc2_means, m.nc2_classifier, m.nc3_ufm) < 1e-12
    assert m.nc3_papyan == pytest.approx(2 - np.sqrt(2), rel=1e-12)


def test_nc4_depends_on_bias():
    rng = np.random.default_rng(0)
    K, d, n = 3, 4, 10
    H, y, W, _ = collapsed_problem(K, d, n, rng=rng, noise=0.05)
    assert C.collapse_metrics(H, y, W, None, K).nc4 == 0.0
    b = np.array([100.0, 0.0, 0.0])           # everything predicted as class 0
    assert C.collapse_metrics(H, y, W, b, K).nc4 == pytest.approx(2 / 3)
    assert C.nc4(H, W, b, class_stats.class_statistics(H, y, K).class_means) == pytest.approx(2 / 3)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("K,d,n", [(5, 8, 6), (3, 11, 6)])
def test_rotation_and_scale_invariance(seed, K, d, n):
    rng = np.random.default_rng(seed)
    H = rng.standard_normal((K * n, d)) + np.repeat(2 * rng.standard_normal((K, d)), n, axis=0)
    y = np.repeat(np.arange(K), n)
    W = rng.standard_normal((K, d))
    ref = C.collapse_metrics(H, y, W, None, K)
    R = random_orthogonal(d, rng)
    for H2, W2 in [(H @ R.T, W @ R.T), (3.7 * H, 0.2 * W), (1e-3 * H @ R.T, 50 * W @ R.T)]:
        m = C.collapse_metrics(H2, y, W2, None, K)
        for name in FIELDS:
            np.testing.assert_allclose(getattr(m, name), getattr(ref, name), rtol=1e-9, atol=1e-13,
                                       err_msg=name)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("K,d,n", [(4, 7, 9), (3, 5, 12), (3, 10, 12), (4, 30, 9)])
def test_vectorized_equals_naive_loop(seed, K, d, n):
    rng = np.random.default_rng(seed)
    H = rng.standard_normal((K * n, d)) + np.repeat(rng.standard_normal((K, d)), n, axis=0)
    y = rng.permutation(np.repeat(np.arange(K), n))
    W = rng.standard_normal((K, d))
    b = 0.3 * rng.standard_normal(K)
    ref = naive_metrics(H, y, W, b, K)
    assert 0 < ref["nc4"] < 1                      # the comparison exercises disagreements
    m = C.collapse_metrics(H, y, W, b, K)
    ms = C.metrics_from_statistics(class_stats.class_statistics(H, y, K), W, m.nc4)
    for name, value in ref.items():
        np.testing.assert_allclose(getattr(m, name), value, rtol=1e-10, err_msg=name)
        np.testing.assert_allclose(getattr(ms, name), value, rtol=1e-10, err_msg=name)
    for name in FIELDS:                                 # in memory and streamed: the same metrics
        np.testing.assert_allclose(getattr(m, name), getattr(ms, name), rtol=1e-10, err_msg=name)
    stats = class_stats.class_statistics(H, y, K)
    np.testing.assert_allclose(stats.within_cov,
                               sum(np.outer(h - stats.class_means[k], h - stats.class_means[k])
                                   for h, k in zip(H, y, strict=True)) / len(y), atol=1e-12)


@pytest.mark.parametrize("block", [1, 7, 4096])
def test_the_product_by_blocks_equals_the_naive_loop(block, monkeypatch):
    # d > 2K - 1: one product Q^T H^T, by blocks of rows (the last one short); logits, distances to the means
    # and NC1's centred projections all come from it.
    monkeypatch.setattr(C, "_BLOCK_ROWS", block)
    rng = np.random.default_rng(5)
    K, d, n = 4, 20, 9
    H = 5.0 + rng.standard_normal((K * n, d)) + np.repeat(rng.standard_normal((K, d)), n, axis=0)
    y = rng.permutation(np.repeat(np.arange(K), n))
    W, b = rng.standard_normal((K, d)), 0.3 * rng.standard_normal(K)
    ref = naive_metrics(H, y, W, b, K)
    assert 0 < ref["nc4"] < 1
    m = C.collapse_metrics(H, y, W, b, K)
    for name, value in ref.items():
        np.testing.assert_allclose(getattr(m, name), value, rtol=1e-12, err_msg=name)
    ms = C.metrics_from_statistics(class_stats.class_statistics(H, y, K), W, m.nc4)
    for name in FIELDS:
        np.testing.assert_allclose(getattr(m, name), getattr(ms, name), rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("K,d", [(3, 2), (3, 5), (5, 9)])
def test_one_shot_is_the_streaming_code_path(K, d):
    # Up to d = 2K - 1 nothing is projected: collapse_metrics is exactly the statistics, NC4 and assembly
    # that the streaming path of chapters 5-7 uses.
    rng = np.random.default_rng(d)
    y = np.repeat(np.arange(K), 7)
    H = rng.standard_normal((7 * K, d)) + 2 * rng.standard_normal((K, d))[y]
    W, b = rng.standard_normal((K, d)), rng.standard_normal(K)
    stats = class_stats.class_statistics(H, y, K)
    frac = C.nearest_mean_disagreements(H, H @ W.T + b, stats.class_means) / len(y)
    assert frac == C.nc4(H, W, b, stats.class_means)
    assert C.collapse_metrics(H, y, W, b, K) == C.metrics_from_statistics(stats, W, frac)


def test_equinorm_and_angles():
    V = np.array([[1.0, 0.0], [0.0, 3.0], [-1.0, -1.0]])
    norms = np.linalg.norm(V, axis=1)
    assert C.equinorm(V) == pytest.approx(norms.std(ddof=1) / norms.mean())
    U = V / norms[:, None]
    cos = np.array([U[0] @ U[1], U[0] @ U[2], U[1] @ U[0], U[1] @ U[2], U[2] @ U[0], U[2] @ U[1]])
    assert C.equiangularity(V) == pytest.approx(cos.std(ddof=1))
    assert C.maximal_angle_deviation(V) == pytest.approx(np.mean(np.abs(cos + 0.5)))
    assert C.maximal_angle_deviation(etf.simplex_etf(5, 7, rng=1)) < 1e-14


# ---------------------------------------------------------------------------------------------------
# numerical accuracy, zero solution
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("d", [5, 12])
def test_accurate_with_large_common_mean_and_tiny_spread(d):
    rng = np.random.default_rng(0)
    K, n = 3, 50
    means = etf.simplex_etf(K, d, rng=rng)
    spread = 1e-6
    offset = np.full(d, 2.0**20)                                  # about 1e6, exactly representable
    centred = np.repeat(means, n, axis=0) + spread * rng.standard_normal((K * n, d))
    y = np.repeat(np.arange(K), n)
    W = means
    ref = C.collapse_metrics(centred, y, W, None, K)
    assert 1e-14 < ref.nc1 < 1e-10
    H = centred + offset                                          # rounding here is ~2e-10 << 1e-6
    m = C.collapse_metrics(H, y, W, None, K)
    np.testing.assert_allclose(m.nc1, ref.nc1, rtol=1e-3)
    acc = class_stats.StreamingClassStatistics(K, d)
    for chunk in np.array_split(rng.permutation(K * n), 17):
        acc.update(H[chunk].astype(np.float64), y[chunk])
    np.testing.assert_allclose(C.nc1(acc.result()), ref.nc1, rtol=1e-3)
    # The one-pass formula E[hh^T] - mu mu^T is garbage here, even in float64: the test is sensitive.
    mu = np.array([H[y == k].mean(axis=0) for k in range(K)])
    onepass = (H.T @ H - (n * mu.T) @ mu) / (K * n)
    exact = class_stats.class_statistics(H, y, K).within_cov
    assert np.linalg.norm(onepass - exact) > 100 * np.linalg.norm(exact)


@pytest.mark.parametrize("d", [6, 12])
def test_zero_solution_gives_nan(d):
    K, n = 4, 3
    H = np.zeros((K * n, d))
    y = np.repeat(np.arange(K), n)
    W = np.zeros((K, d))
    m = C.collapse_metrics(H, y, W, np.zeros(K), K)
    for name in FIELDS:
        assert np.isnan(getattr(m, name)), name
    stats = class_stats.class_statistics(H, y, K)
    assert np.isnan(C.nc1(stats)) and np.isnan(C.nc2_means(stats)) and np.isnan(C.nc2_classifier(W))
    assert np.isnan(C.nc3_ufm(W, stats)) and np.isnan(C.nc3_papyan(W, stats))
    assert np.isnan(C.nc4(H, W, None, stats.class_means))
    assert np.isnan(etf.etf_distance(np.zeros((3, 3))))


def test_degenerate_means_nc1_nan():
    # K = 3 means on a line: Sigma_B has rank 1 < K - 1, NC1 is undefined.
    means = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    H = np.repeat(means, 2, axis=0) + 0.01
    y = np.repeat(np.arange(3), 2)
    assert np.isnan(C.nc1(class_stats.class_statistics(H, y, 3)))
    assert np.isnan(C.collapse_metrics(H, y, np.eye(3, 2), None, 3).nc1)


# ---------------------------------------------------------------------------------------------------
# streaming
# ---------------------------------------------------------------------------------------------------

def test_metrics_of_torch_tensors_equal_those_of_numpy_arrays():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for K, d in [(4, 5), (3, 12)]:                                    # d <= 2K - 1 and d > 2K - 1
        y = np.repeat(np.arange(K), 30)
        H32 = (100 + rng.standard_normal((K * 30, d)) + rng.standard_normal((K, d))[y]).astype(np.float32)
        W, b = rng.standard_normal((K, d)), rng.standard_normal(K)
        m_t = C.collapse_metrics(torch.from_numpy(H32), torch.from_numpy(y), torch.from_numpy(W),
                                 torch.from_numpy(b), K)
        assert m_t == C.collapse_metrics(H32, y, W, b, K)
        stats = class_stats.class_statistics(torch.from_numpy(H32), torch.from_numpy(y), K)
        frac = C.nc4(torch.from_numpy(H32), torch.from_numpy(W), torch.from_numpy(b), stats.class_means)
        assert C.metrics_from_statistics(stats, torch.from_numpy(W), frac) == C.metrics_from_statistics(
            class_stats.class_statistics(H32, y, K), W, C.nc4(H32, W, b, stats.class_means))


def test_streaming_nc4_second_pass():
    rng = np.random.default_rng(4)
    K, d, n = 3, 4, 30
    H, y, W, _ = collapsed_problem(K, d, n, rng=rng, noise=0.6)
    b = rng.standard_normal(K)
    m = C.collapse_metrics(H, y, W, b, K)
    acc = class_stats.StreamingClassStatistics(K, d)
    for idx in np.array_split(np.arange(K * n), 4):
        acc.update(H[idx], y[idx])
    stats = acc.result()
    wrong = sum(C.nearest_mean_disagreements(H[idx], H[idx] @ W.T + b, stats.class_means)
                for idx in np.array_split(np.arange(K * n), 5))
    assert 0 < wrong < K * n
    ms = C.metrics_from_statistics(stats, W, wrong / (K * n))
    for name in FIELDS:
        np.testing.assert_allclose(getattr(ms, name), getattr(m, name), rtol=1e-9, err_msg=name)


# ---------------------------------------------------------------------------------------------------
# clear errors
# ---------------------------------------------------------------------------------------------------

def test_errors():
    K, d = 3, 4
    H = np.ones((6, d))
    y = np.array([0, 0, 1, 1, 2, 2])
    W = np.ones((K, d))
    with pytest.raises(ValueError, match="0..2"):
        C.collapse_metrics(H, np.array([0, 0, 1, 1, 2, 3]), W, None, K)
    with pytest.raises(ValueError, match="0..2"):
        class_stats.class_statistics(H, np.array([0, 0, 1, 1, 2, -1]), K)
    with pytest.raises(ValueError, match="integer"):
        C.collapse_metrics(H, y.astype(float), W, None, K)
    with pytest.raises(ValueError, match="one entry per feature"):
        C.collapse_metrics(H, y[:5], W, None, K)
    with pytest.raises(ValueError, match=r"shape \(K, d\)"):
        C.collapse_metrics(H, y, np.ones((K, d + 1)), None, K)
    with pytest.raises(ValueError, match=r"shape \(K, d\)"):
        C.collapse_metrics(H, y, np.ones((K + 1, d)), None, K)
    with pytest.raises(ValueError, match="b must have last dimension"):
        C.collapse_metrics(H, y, W, np.zeros(K + 1), K)
    with pytest.raises(ValueError, match=r"shape \(N, d\)"):
        C.collapse_metrics(H[0], y, W, None, K)
    with pytest.raises(ValueError, match=r"no samples"):
        C.collapse_metrics(H, np.array([0, 0, 1, 1, 1, 1]), W, None, K)
    with pytest.raises(ValueError, match=r"no samples"):
        class_stats.class_statistics(H, np.array([0, 0, 1, 1, 1, 1]), K)
    with pytest.raises(ValueError, match="unbalanced"):
        C.collapse_metrics(H, np.array([0, 0, 1, 1, 1, 2]), W, None, K)
    stats = class_stats.class_statistics(np.arange(24.0).reshape(6, d) ** 1.5, np.array([0, 0, 1, 1, 1, 2]), K)
    for f in (C.nc1, C.nc2_means):
        with pytest.raises(ValueError, match="unbalanced"):
            f(stats)
        assert np.isfinite(f(stats, allow_unbalanced=True))
    for f in (C.nc3_ufm, C.nc3_papyan):
        with pytest.raises(ValueError, match="unbalanced"):
            f(W, stats)
    m = C.collapse_metrics(np.arange(24.0).reshape(6, d) ** 1.5, np.array([0, 0, 1, 1, 1, 2]), W, None, K,
                           allow_unbalanced=True)
    assert np.isfinite(m.nc2_means)
    Hbad = H.copy()
    Hbad[2, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        C.collapse_metrics(Hbad, y, W, None, K)
    with pytest.raises(ValueError, match="finite"):
        class_stats.class_statistics(Hbad, y, K)
    for bad in (1, 3.0, True):
        with pytest.raises(ValueError, match="num_classes"):
            C.collapse_metrics(H, y, W, None, bad)
    np.testing.assert_equal(C.collapse_metrics(H, y, W, None, np.int64(K)).as_dict(),
                            C.collapse_metrics(H, y, W, None, K).as_dict())
    Hd = np.arange(72.0).reshape(6, 12) ** 1.2                     # the projected path checks the same
    for labels, match in [(np.array([0, 0, 1, 1, 1, 1]), "no samples"), (np.array([0, 0, 1, 1, 1, 2]), "unbalanced")]:
        with pytest.raises(ValueError, match=match):
            C.collapse_metrics(Hd, labels, np.ones((K, 12)), None, K)
    Hd[3, 7] = np.inf
    with pytest.raises(ValueError, match="finite"):
        C.collapse_metrics(Hd, y, np.ones((K, 12)), None, K)
    stats = class_stats.class_statistics(H, y, K)
    for bad in (1.5, -0.1):
        with pytest.raises(ValueError, match="nc4_fraction"):
            C.metrics_from_statistics(stats, W, bad)
    assert np.isnan(C.metrics_from_statistics(stats, W, float("nan")).nc4)     # all means equal
    with pytest.raises(ValueError, match="logits"):
        C.nearest_mean_disagreements(H, np.ones((6, K + 1)), np.ones((K, d)))
