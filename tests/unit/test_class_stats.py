"""Tests of landscape_lib.class_stats: class statistics one-shot and streaming, on numpy arrays and torch tensors."""

import numpy as np
import pytest

from landscape_lib import class_stats as cs

FIELDS = ["class_means", "global_mean", "within_cov", "between_cov"]


def assert_stats_close(a, b, rtol=1e-10, atol=1e-12):
    np.testing.assert_array_equal(a.counts, b.counts)
    for name in FIELDS:
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=rtol, atol=atol, err_msg=name)


def reference_statistics(H, y, K):
    """Written out from the definitions (book/formulas.md), one sample at a time, in float64."""
    H = np.asarray(H, dtype=np.float64)
    N, d = H.shape
    counts = np.bincount(y, minlength=K)
    means = np.zeros((K, d))
    for h, k in zip(H, y, strict=True):
        means[k] += h
    means /= counts[:, None]
    global_mean = H.mean(axis=0)
    within = np.zeros((d, d))
    for h, k in zip(H, y, strict=True):
        within += np.outer(h - means[k], h - means[k])
    centred = means - global_mean
    return counts, means, global_mean, within / N, centred.T @ centred / K


def random_problem(seed, K=5, d=6, N=203, offset=10.0):
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.arange(K), rng.integers(0, K, size=N - K)])   # every class present
    rng.shuffle(y)
    H = offset + rng.standard_normal((N, d)) + 3 * rng.standard_normal((K, d))[y]
    return H, y, rng


def chunk_indices(kind, y, rng):
    N = y.shape[0]
    if kind == "random":                                  # chunks miss classes, some have one sample
        return np.split(np.arange(N), np.sort(rng.choice(np.arange(1, N), size=12, replace=False)))
    if kind == "single rows":
        return [np.array([i]) for i in range(N)]
    if kind == "one class at a time":
        return [np.flatnonzero(y == k) for k in range(y.max() + 1)]
    if kind == "shuffled halves":
        return np.array_split(rng.permutation(N), 2)
    if kind == "with empty chunks":
        return [np.arange(0, 50), np.arange(0), np.arange(50, N), np.arange(0)]
    raise ValueError(kind)


CHUNKINGS = ["random", "single rows", "one class at a time", "shuffled halves", "with empty chunks"]


# ---------------------------------------------------------------------------------------------------
# one-shot = definition = streaming
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_one_shot_matches_the_definitions(seed):
    H, y, _ = random_problem(seed)
    K = 5
    stats = cs.class_statistics(H, y, K)
    counts, means, global_mean, within, between = reference_statistics(H, y, K)
    np.testing.assert_array_equal(stats.counts, counts)
    np.testing.assert_allclose(stats.class_means, means, rtol=1e-13)
    np.testing.assert_allclose(stats.global_mean, global_mean, rtol=1e-13)
    np.testing.assert_allclose(stats.within_cov, within, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(stats.between_cov, between, rtol=1e-11, atol=1e-13)
    np.testing.assert_array_equal(stats.within_cov, stats.within_cov.T)
    assert np.linalg.eigvalsh(stats.within_cov).min() > 0


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("chunking", CHUNKINGS)
def test_streaming_equals_one_shot(seed, chunking):
    H, y, rng = random_problem(seed)
    K, d = 5, H.shape[1]
    ref = cs.class_statistics(H, y, K)
    acc = cs.StreamingClassStatistics(K, d)
    for idx in chunk_indices(chunking, y, rng):
        acc.update(H[idx], y[idx])
    assert_stats_close(acc.result(), ref)


def test_result_midway_does_not_disturb_the_accumulation():
    H, y, _ = random_problem(0)
    acc = cs.StreamingClassStatistics(5, H.shape[1])
    acc.update(H[:100], y[:100])
    assert_stats_close(acc.result(), cs.class_statistics(H[:100], y[:100], 5))
    acc.update(H[100:], y[100:])
    assert_stats_close(acc.result(), cs.class_statistics(H, y, 5))


@pytest.mark.parametrize("seed", range(4))
def test_float32_features_with_a_large_mean_and_a_tiny_spread(seed):
    # float32 features around 1000 (float32 spacing 6e-5 there) with a within-class spread of 1e-2: the
    # statistics of these exact float32 values must come out to float64 accuracy, in any chunking.
    rng = np.random.default_rng(seed)
    K, d, n = 3, 4, 400
    y = np.repeat(np.arange(K), n)
    H32 = (1000.0 + 0.5 * rng.standard_normal((K, d))[y] + 1e-2 * rng.standard_normal((K * n, d))).astype(np.float32)
    counts, means, global_mean, within, between = reference_statistics(H32, y, K)
    acc = cs.StreamingClassStatistics(K, d)
    for idx in np.array_split(rng.permutation(K * n), 9):
        acc.update(H32[idx], y[idx])
    for stats in (acc.result(), cs.class_statistics(H32, y, K)):
        np.testing.assert_allclose(stats.class_means, means, rtol=1e-14)
        np.testing.assert_allclose(stats.within_cov, within, rtol=1e-8, atol=1e-14)
        np.testing.assert_allclose(stats.between_cov, between, rtol=1e-8)
    # The test is sensitive: the one-pass formula E[h h^T] - mu mu^T in float32 is off by far more than
    # the within-class covariance itself.
    mu32 = np.stack([H32[y == k].mean(axis=0) for k in range(K)])
    onepass = (H32.T @ H32 - (n * mu32.T) @ mu32) / np.float32(K * n)
    assert np.linalg.norm(onepass - within) > 10 * np.linalg.norm(within)


def test_statistics_fields_and_helpers():
    H, y, _ = random_problem(1)
    stats = cs.class_statistics(H, y, 5)
    assert stats.num_classes == 5 and stats.num_samples == H.shape[0]
    assert stats.counts.dtype == np.int64 and not stats.is_balanced
    np.testing.assert_array_equal(cs.centred_means(stats), stats.class_means - stats.global_mean)
    np.testing.assert_allclose(stats.global_mean, stats.counts @ stats.class_means / H.shape[0], rtol=1e-14)
    balanced = cs.class_statistics(H[:10], np.repeat(np.arange(5), 2), 5)
    assert balanced.is_balanced
    np.testing.assert_allclose(cs.centred_means(balanced).sum(axis=0), 0.0, atol=1e-13)


@pytest.mark.parametrize("sorted_labels", [True, False])
def test_class_means_by_additions(sorted_labels):
    H, y, rng = random_problem(2)
    if sorted_labels:
        order = np.argsort(y, kind="stable")
        H, y = H[order], y[order]
    means = cs._class_means(H, y, 5)
    np.testing.assert_allclose(means, cs.class_statistics(H, y, 5).class_means, rtol=1e-13)
    with pytest.raises(ValueError, match=r"class\(es\) \[5\] have no samples"):
        cs._class_means(H, y, 6)
    H[3, 2] = np.inf
    with pytest.raises(ValueError, match="finite"):
        cs._class_means(H, y, 5)


def test_the_callers_arrays_are_untouched():
    H, y, _ = random_problem(3)
    H32 = H.astype(np.float32)
    copies = H.copy(), H32.copy(), y.copy()
    cs.class_statistics(H, y, 5)
    acc = cs.StreamingClassStatistics(5, H.shape[1])
    acc.update(H32, y)
    acc.result()
    for a, b in zip((H, H32, y), copies, strict=True):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------------------------------
# torch tensors (never imported by the module itself)
# ---------------------------------------------------------------------------------------------------

def test_torch_tensors_are_accepted():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    K, d, N = 4, 5, 120
    y = np.repeat(np.arange(K), N // K)
    H32 = (100 + rng.standard_normal((N, d)) + rng.standard_normal((K, d))[y]).astype(np.float32)
    ref = cs.class_statistics(H32.astype(np.float64), y, K)
    acc = cs.StreamingClassStatistics(K, d)
    for idx in np.array_split(rng.permutation(N), 7):
        acc.update(torch.from_numpy(H32[idx]), torch.from_numpy(y[idx]))
    assert_stats_close(acc.result(), ref)
    # numpy and torch batches mixed (in both orders), int32 labels, float64 tensors, one-shot on tensors
    for first, second in [(lambda a: a, torch.from_numpy), (torch.from_numpy, lambda a: a)]:
        acc = cs.StreamingClassStatistics(K, d)
        acc.update(first(H32[:50]), first(y[:50].astype(np.int32)))
        acc.update(second(H32[50:]), second(y[50:]))
        assert_stats_close(acc.result(), ref)
    assert_stats_close(cs.class_statistics(torch.from_numpy(H32).double(), torch.from_numpy(y), K), ref)
    assert_stats_close(cs.class_statistics(torch.from_numpy(H32), torch.from_numpy(y), K), ref)
    assert all(isinstance(getattr(ref, f), np.ndarray) for f in FIELDS)
    acc = cs.StreamingClassStatistics(K, d)
    with pytest.raises(ValueError, match=r"0\.\.3"):
        acc.update(torch.zeros((2, d)), torch.tensor([0, 4]))
    with pytest.raises(ValueError, match="integer"):
        acc.update(torch.zeros((2, d)), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="one per feature row"):
        acc.update(torch.zeros((2, d)), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="finite"):
        acc.update(torch.full((2, d), float("nan")), torch.tensor([0, 1]))


# ---------------------------------------------------------------------------------------------------
# clear errors
# ---------------------------------------------------------------------------------------------------

def test_errors():
    K, d = 3, 4
    H = np.ones((6, d))
    y = np.array([0, 0, 1, 1, 2, 2])
    with pytest.raises(ValueError, match=r"0\.\.2"):
        cs.class_statistics(H, np.array([0, 0, 1, 1, 2, -1]), K)
    with pytest.raises(ValueError, match="integer dtype"):
        cs.class_statistics(H, y.astype(float), K)
    with pytest.raises(ValueError, match="1-D"):
        cs.class_statistics(H, y[:, None], K)
    with pytest.raises(ValueError, match="one entry per feature row"):
        cs.class_statistics(H, y[:5], K)
    with pytest.raises(ValueError, match=r"shape \(N, d\)"):
        cs.class_statistics(H[0], y, K)
    with pytest.raises(ValueError, match="not be empty"):
        cs.class_statistics(np.ones((0, d)), y[:0], K)
    with pytest.raises(ValueError, match=r"no samples"):
        cs.class_statistics(H, np.array([0, 0, 1, 1, 1, 1]), K)
    Hbad = H.copy()
    Hbad[2, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        cs.class_statistics(Hbad, y, K)
    for bad in (1, 2.0, True, None):
        with pytest.raises(ValueError, match="num_classes"):
            cs.StreamingClassStatistics(bad, d)
    with pytest.raises(ValueError, match="feature_dim must be >= 1"):
        cs.StreamingClassStatistics(K, 0)
    acc = cs.StreamingClassStatistics(np.int64(K), np.int32(d))        # numpy integers are fine
    assert (acc.num_classes, acc.feature_dim) == (3, 4) and type(acc.num_classes) is int
    with pytest.raises(ValueError, match="update"):
        acc.result()
    with pytest.raises(ValueError, match=r"shape \(B, 4\)"):
        acc.update(np.ones((2, d + 1)), np.array([0, 1]))
    acc.update(H[:2], y[:2])
    with pytest.raises(ValueError, match=r"class\(es\) \[1, 2\] have no samples"):
        acc.result()
