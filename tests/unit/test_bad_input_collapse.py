"""Bad input at the public boundary of collapse.py, class_stats.py and etf.py: each class of bad input (NaN and
infinity, wrong types and shapes, empty, non-positive sizes, labels out of range) on each public function is a
ValueError that names the argument."""

import numpy as np
import pytest

from landscape_lib import class_stats as cs
from landscape_lib import collapse as C
from landscape_lib import etf as E

NAN, INF = float("nan"), float("inf")
K, D = 3, 4
RNG = np.random.default_rng(0)
H = RNG.standard_normal((6, D))
Y = np.array([0, 0, 1, 1, 2, 2])
W = RNG.standard_normal((K, D))
B = np.zeros(K)
STATS = cs.class_statistics(H, Y, K)

CASES = {
    # collapse.py
    "nc1: not statistics": (lambda: C.nc1(H), "stats must be a ClassStatistics"),
    "nc1: allow_unbalanced not a bool": (lambda: C.nc1(STATS, allow_unbalanced="no"), "allow_unbalanced must be True"),
    "nc2_classifier: one row": (lambda: C.nc2_classifier(W[:1]), "at least 2 rows"),
    "nc2_classifier: NaN": (lambda: C.nc2_classifier(W * NAN), "W must be finite"),
    "nc2_classifier: empty": (lambda: C.nc2_classifier(np.zeros((0, 3))), "W must not be empty"),
    "nc2_classifier: 1-D": (lambda: C.nc2_classifier(W[0]), "W must have 2 dimension"),
    "nc2_classifier: a string": (lambda: C.nc2_classifier("abc"), "W must be a real numeric array"),
    "nc2_means: not statistics": (lambda: C.nc2_means(W), "stats must be a ClassStatistics"),
    "nc3_ufm: W of another d": (lambda: C.nc3_ufm(W[:, :2], STATS), r"W must have shape \(K, d\) with d=4"),
    "nc3_ufm: W with inf": (lambda: C.nc3_ufm(W * INF, STATS), "W must be finite"),
    "nc3_papyan: W of another K": (lambda: C.nc3_papyan(W[:2], STATS), r"W must have shape \(K, d\) with K=3"),
    "nc3_papyan: not statistics": (lambda: C.nc3_papyan(W, None), "stats must be a ClassStatistics"),
    "nc4: NaN bias": (lambda: C.nc4(H, W, B * NAN, STATS.class_means), "b must be finite"),
    "nc4: bias of another K": (lambda: C.nc4(H, W, np.zeros(K + 1), STATS.class_means), "b must have last dim"),
    "nc4: means of another K": (lambda: C.nc4(H, W, B, STATS.class_means[:2]), "class_means must have K=3 rows"),
    "nc4: NaN features": (lambda: C.nc4(H * NAN, W, B, STATS.class_means), "finite"),
    "nc4: empty features": (lambda: C.nc4(H[:0], W, B, STATS.class_means), "features must not be empty"),
    "nc4: 3-D features": (lambda: C.nc4(H[None], W, B, STATS.class_means), r"features must have shape \(N, d\)"),
    "nearest_mean_disagreements: NaN logits": (
        lambda: C.nearest_mean_disagreements(H, np.full((6, K), NAN), STATS.class_means), "logits must be finite"),
    "nearest_mean_disagreements: logits a string": (
        lambda: C.nearest_mean_disagreements(H, "x", STATS.class_means), "logits must be a real numeric array"),
    "nearest_mean_disagreements: logits of another shape": (
        lambda: C.nearest_mean_disagreements(H, np.ones((6, K + 1)), STATS.class_means), r"logits must have shape"),
    "nearest_mean_disagreements: NaN means": (
        lambda: C.nearest_mean_disagreements(H, H @ W.T, STATS.class_means * NAN), "class_means must be finite"),
    "equinorm: one row": (lambda: C.equinorm(W[:1]), "vectors must have at least 2 rows"),
    "equinorm: inf": (lambda: C.equinorm(W * INF), "vectors must be finite"),
    "equiangularity: empty": (lambda: C.equiangularity(np.zeros((0, 2))), "vectors must not be empty"),
    "maximal_angle_deviation: 1-D": (lambda: C.maximal_angle_deviation(W[0]), "vectors must have 2 dimension"),
    "metrics_from_statistics: fraction a string": (lambda: C.metrics_from_statistics(STATS, W, "x"), "nc4_fraction"),
    "metrics_from_statistics: fraction None": (lambda: C.metrics_from_statistics(STATS, W, None), "nc4_fraction"),
    "metrics_from_statistics: fraction inf": (lambda: C.metrics_from_statistics(STATS, W, INF), "nc4_fraction"),
    "metrics_from_statistics: fraction True": (lambda: C.metrics_from_statistics(STATS, W, True), "nc4_fraction"),
    "metrics_from_statistics: not statistics": (lambda: C.metrics_from_statistics(H, W, 0.1), "ClassStatistics"),
    "collapse_metrics: K 0": (lambda: C.collapse_metrics(H, Y, W, B, 0), "num_classes must be >= 2"),
    "collapse_metrics: K NaN": (lambda: C.collapse_metrics(H, Y, W, B, NAN), "num_classes must be a finite"),
    "collapse_metrics: boolean labels": (lambda: C.collapse_metrics(H, Y.astype(bool), W, B, K), "integer dtype"),
    "collapse_metrics: 2-D labels": (lambda: C.collapse_metrics(H, Y[:, None], W, B, K), "1-D array"),
    "collapse_metrics: labels out of range": (lambda: C.collapse_metrics(H, Y + 1, W, B, K), r"0\.\.2"),
    "collapse_metrics: negative labels": (lambda: C.collapse_metrics(H, Y - 1, W, B, K), r"0\.\.2"),
    "collapse_metrics: features a string": (lambda: C.collapse_metrics("abc", Y, W, B, K), "features must have"),
    "collapse_metrics: complex features": (lambda: C.collapse_metrics(H + 0j, Y, W, B, K), "real numeric"),
    "collapse_metrics: boolean features": (lambda: C.collapse_metrics(H > 0, Y, W, B, K), "real numeric"),
    "collapse_metrics: inf features, projected": (
        lambda: C.collapse_metrics(np.full((6, 12), INF), Y, np.ones((K, 12)), B, K), "finite"),
    "collapse_metrics: allow_unbalanced a string": (
        lambda: C.collapse_metrics(H, Y, W, B, K, allow_unbalanced="yes"), "allow_unbalanced must be True"),
    # class_stats.py
    "class_statistics: num_classes a string": (lambda: cs.class_statistics(H, Y, "3"), "num_classes must be"),
    "class_statistics: float labels": (lambda: cs.class_statistics(H, Y.astype(float), K), "integer dtype"),
    "class_statistics: empty": (lambda: cs.class_statistics(np.zeros((0, D)), Y[:0], K), "must not be empty"),
    "class_statistics: a class without samples": (lambda: cs.class_statistics(H, Y % 2, K), r"class\(es\) \[2\]"),
    "StreamingClassStatistics: feature_dim 0": (lambda: cs.StreamingClassStatistics(K, 0), "feature_dim must be >= 1"),
    "StreamingClassStatistics: feature_dim NaN": (lambda: cs.StreamingClassStatistics(K, NAN), "feature_dim must be"),
    "StreamingClassStatistics: num_classes 1": (lambda: cs.StreamingClassStatistics(1, D), "num_classes must be >= 2"),
    "StreamingClassStatistics.update: 1-D": (lambda: cs.StreamingClassStatistics(K, D).update(H[0], Y[:1]),
                                             r"features must have shape \(B, 4\)"),
    "StreamingClassStatistics.update: labels out of range": (
        lambda: cs.StreamingClassStatistics(K, D).update(H, Y + 1), r"labels must lie in 0\.\.2"),
    "StreamingClassStatistics.update: NaN": (lambda: cs.StreamingClassStatistics(K, D).update(H * NAN, Y), "finite"),
    "StreamingClassStatistics.result: nothing fed": (lambda: cs.StreamingClassStatistics(K, D).result(), "update"),
    "centred_means: not statistics": (lambda: cs.centred_means(H), "stats must be a ClassStatistics"),
    # etf.py
    "etf_gram: K 1": (lambda: E.etf_gram(1), "K must be >= 2"),
    "etf_gram: K NaN": (lambda: E.etf_gram(NAN), "K must be a finite integer"),
    "etf_gram: K True": (lambda: E.etf_gram(True), "K must be a finite integer"),
    "simplex_etf: d below K - 1": (lambda: E.simplex_etf(4, 2), "d must be >= 3"),
    "simplex_etf: d negative": (lambda: E.simplex_etf(4, -1), "d must be >= 3"),
    "simplex_etf: rng a string": (lambda: E.simplex_etf(4, rng="x"), "rng must be None"),
    "etf_distance: not square": (lambda: E.etf_distance(np.ones((2, 3))), r"square \(K, K\)"),
    "etf_distance: NaN": (lambda: E.etf_distance(np.full((3, 3), NAN)), "gram must be finite"),
    "etf_distance: empty": (lambda: E.etf_distance(np.zeros((0, 0))), "gram must not be empty"),
    "etf_distance: 1 x 1": (lambda: E.etf_distance(np.ones((1, 1))), "K >= 2"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_a_clear_value_error(case):
    call, match = CASES[case]
    with pytest.raises(ValueError, match=match):
        call()


def test_every_public_function_is_tried():
    tried = {case.split(":")[0].split(".")[0] for case in CASES}
    public = set(C.__all__) | set(cs.__all__) | set(E.__all__)
    assert public - {"CollapseMetrics", "ClassStatistics"} <= tried, sorted(public - tried)
