r"""Neural-collapse metrics NC1–NC4, with the equinorm and equiangularity measures (chapter 4; the training loop
of chapters 5–7).

Notation (balanced data): ``K`` classes, :math:`n_{\mathrm c}` samples per class, ``N`` samples in all, features
:math:`h_i \in \mathbb{R}^d` with labels :math:`k_i \in \{0, \dots, K-1\}`, classifier
:math:`W \in \mathbb{R}^{K \times d}`, bias :math:`b \in \mathbb{R}^K`; class means :math:`\mu_k`, global mean
:math:`\mu_G`, centred means :math:`\bar H`, :math:`\Sigma_W` and :math:`\Sigma_B` as in
:mod:`landscape_lib.class_stats`, which computes them (one-shot or streamed over batches).

The metrics follow Papyan, Han & Donoho (2020) and the code of Zhu et al. (2021):

* NC1 :math:`= \frac1K \operatorname{tr}(\Sigma_W \Sigma_B^\dagger)`, the pseudo-inverse taken with its
  rank fixed at ``K - 1`` (:func:`nc1`);
* NC2 :math:`= \| \Gamma/\|\Gamma\|_F - J/\sqrt{K-1} \|_F`, :math:`J = I_K - \tfrac1K \mathbf 1 \mathbf 1^\top`
  (:func:`landscape_lib.etf.etf_distance`) with :math:`\Gamma = W W^\top` (:func:`nc2_classifier`) or
  :math:`\Gamma = \bar H^\top \bar H` (:func:`nc2_means`);
* NC3, the UFM paper's form
  :math:`\| W\bar H/\|W\bar H\|_F - J/\sqrt{K-1}\|_F`
  (:func:`nc3_ufm`), and Papyan et al.'s :math:`\| W^\top/\|W\|_F - \bar H/\|\bar H\|_F \|_F^2`
  (:func:`nc3_papyan`);
* NC4, the fraction of samples whose prediction :math:`\arg\max_k (W h + b)_k` differs from the nearest
  class mean :math:`\arg\min_k \|h - \mu_k\|` (:func:`nc4`);
* equinorm (coefficient of variation of the norms) and equiangularity (spread of the pairwise cosines).

Each metric has one implementation. :func:`metrics_from_statistics` assembles all of them from class
statistics and an NC4 fraction; the streaming path of chapters 5–7 feeds it the statistics of
:class:`~landscape_lib.class_stats.StreamingClassStatistics` and NC4 counted batch by batch with
:func:`nearest_mean_disagreements`, and :func:`collapse_metrics` does the same for features held in memory.

All are 0 at exact neural collapse: within-class variability zero, centred means forming a simplex ETF,
:math:`W \propto \bar H^\top`. The converse needs care for NC3 in the UFM form: it sees :math:`W` only
through :math:`W\bar H`, so it is also 0 for classifiers that are not proportional to :math:`\bar H^\top`
(a dual frame of non-ETF means; or ETF means with rows of :math:`W` tilted out of their span, which can
keep both NC2 at 0 as well). Papyan et al.'s form is 0 exactly when :math:`W^\top \propto \bar H`. They are
invariant to scaling and to one rotation applied to the features
*and* the classifier together. Where a metric divides by a quantity that vanishes (the zero solution of
the UFM above its threshold, where :math:`W = 0`, :math:`H = 0`) it returns ``nan``; plot norms and the
loss there instead.

Inputs may be numpy arrays or torch tensors on any device (see :mod:`landscape_lib.class_stats`; torch is
never imported by this module); everything is computed in float64 on the host.
"""

from __future__ import annotations

import math
import numbers
import sys
from dataclasses import dataclass

import numpy as np

from ._validation import as_float_array
from .class_stats import (
    ClassStatistics,
    _as_features,
    _as_labels,
    _assemble,
    _check_bool,
    _check_num_classes,
    _check_stats,
    _class_means,
    _is_torch,
    _scatter_given_means,
    _to_numpy,
    centred_means,
    class_statistics,
)
from .etf import etf_distance

__all__ = [
    "nc1", "nc2_classifier", "nc2_means", "nc3_ufm", "nc3_papyan", "nc4", "nearest_mean_disagreements",
    "equinorm", "equiangularity", "maximal_angle_deviation",
    "CollapseMetrics", "metrics_from_statistics", "collapse_metrics",
]


# ----------------------------------------------------------------------------------------------------
# Input handling of the classifier (features and labels: landscape_lib.class_stats)
# ----------------------------------------------------------------------------------------------------

def _as_classifier(W, num_classes: int | None = None, d: int | None = None) -> np.ndarray:
    w = as_float_array(_to_numpy(W), "W", ndim=2)
    if num_classes is not None and w.shape[0] != num_classes:
        raise ValueError(f"W must have shape (K, d) with K={num_classes} rows; got shape {w.shape}")
    if d is not None and w.shape[1] != d:
        raise ValueError(f"W must have shape (K, d) with d={d} columns (the feature dimension); "
                         f"got shape {w.shape}")
    if w.shape[0] < 2:
        raise ValueError(f"W must have at least 2 rows (classes); got shape {w.shape}")
    return w


def _as_bias(b, K: int) -> np.ndarray:
    if b is None:
        return np.zeros(K)
    return as_float_array(_to_numpy(b), "b", ndim=1, last_dim=K)


# ----------------------------------------------------------------------------------------------------
# The metrics
# ----------------------------------------------------------------------------------------------------

def _require_balanced(counts: np.ndarray, what: str, allow_unbalanced: bool) -> None:
    if not _check_bool(allow_unbalanced, "allow_unbalanced") and not np.all(counts == counts[0]):
        raise ValueError(
            f"{what} compares the centred class means with a simplex ETF, the collapsed geometry of "
            f"*balanced* classes only; the class counts are unbalanced (min {int(counts.min())}, "
            f"max {int(counts.max())}). Balance the data, or pass allow_unbalanced=True to evaluate the "
            f"definition anyway.")


def nc1(stats: ClassStatistics, *, allow_unbalanced: bool = False) -> float:
    r"""Within-class variability collapse :math:`\frac1K \operatorname{tr}(\Sigma_W \Sigma_B^\dagger)`.

    :math:`\Sigma_B^\dagger` is the pseudo-inverse with its rank fixed at ``K - 1`` (as in the code of
    Zhu et al., 2021). With :math:`\bar H = U \Sigma V^\top` and :math:`u_j, \sigma_j` the leading ``K - 1``
    singular pairs, :math:`\Sigma_B^\dagger = \sum_j (K/\sigma_j^2) u_j u_j^\top`, so

    .. math:: \mathrm{NC1} = \sum_{j=1}^{K-1} \frac{u_j^\top \Sigma_W u_j}{\sigma_j^2}:

    only the within-class variance along the span of the class means matters.

    Parameters
    ----------
    stats : ClassStatistics
    allow_unbalanced : bool, default False
        Evaluate the definition even when the classes have different sizes.

    Returns
    -------
    float
        ``nan`` when :math:`\Sigma_B` has numerical rank below ``K - 1`` (e.g. all class means equal, as
        at the zero solution of the UFM).
    """
    stats = _check_stats(stats)
    _require_balanced(stats.counts, "NC1", allow_unbalanced)
    centred = centred_means(stats)
    K, d = centred.shape
    if K - 1 > d:
        return float("nan")
    u, s, _ = np.linalg.svd(centred.T, full_matrices=False)     # centred.T = Hbar, (d, K)
    if s[0] == 0 or s[K - 2] <= max(d, K) * np.finfo(float).eps * s[0]:
        return float("nan")                                       # rank of Sigma_B below K - 1
    u, s = u[:, : K - 1], s[: K - 1]
    quad = np.einsum("dj,de,ej->j", u, stats.within_cov, u)
    return float(np.sum(quad / s**2))


def _normalised(v: np.ndarray) -> np.ndarray | None:
    norm = np.linalg.norm(v)
    return None if norm == 0 else v / norm


def nc2_classifier(W) -> float:
    r"""NC2 of the classifier: :func:`~landscape_lib.etf.etf_distance` of :math:`W W^\top` (rows of ``W``).

    Parameters
    ----------
    W : array_like of shape (K, d)

    Returns
    -------
    float
        0 when the rows of ``W`` form a simplex ETF (any scale); ``nan`` when ``W = 0``.
    """
    w = _normalised(_as_classifier(W))
    return float("nan") if w is None else etf_distance(w @ w.T)


def nc2_means(stats: ClassStatistics, *, allow_unbalanced: bool = False) -> float:
    r"""NC2 of the centred class means: :func:`~landscape_lib.etf.etf_distance` of :math:`\bar H^\top \bar H`.

    Parameters
    ----------
    stats : ClassStatistics
    allow_unbalanced : bool, default False

    Returns
    -------
    float
        ``nan`` when all class means coincide.
    """
    stats = _check_stats(stats)
    _require_balanced(stats.counts, "NC2 (means)", allow_unbalanced)
    m = _normalised(centred_means(stats))
    return float("nan") if m is None else etf_distance(m @ m.T)


def nc3_ufm(W, stats: ClassStatistics, *, allow_unbalanced: bool = False) -> float:
    r"""NC3 in the form of Zhu et al. (2021): alignment of classifier and means, through the ETF.

    .. math::

        \Big\| \frac{W \bar H}{\|W \bar H\|_F}
        - \frac{J}{\sqrt{K-1}} \Big\|_F, \qquad J = I_K - \frac1K \mathbf 1\mathbf 1^\top.

    Zero when :math:`W \propto \bar H^\top` *and* the means form a simplex ETF; with
    :math:`W \propto \bar H^\top` alone it is positive unless the means are an ETF. It sees :math:`W` only
    through the inner products :math:`W\bar H` of its rows with the centred means, so it is also zero for
    some classifiers that are *not* proportional to :math:`\bar H^\top`: any :math:`W` with
    :math:`W\bar H \propto J` (e.g. the dual frame
    :math:`J\bar H^\dagger` of non-ETF means, or :math:`\bar H^\top` plus
    rows orthogonal to every mean). :func:`nc3_papyan` is zero exactly when :math:`W^\top \propto \bar H`.
    Chapter 4, section 1 shows both cases.

    Parameters
    ----------
    W : array_like of shape (K, d)
    stats : ClassStatistics
    allow_unbalanced : bool, default False

    Returns
    -------
    float
        ``nan`` when :math:`W \bar H = 0` (e.g. the zero solution).
    """
    stats = _check_stats(stats)
    _require_balanced(stats.counts, "NC3 (UFM form)", allow_unbalanced)
    w = _as_classifier(W, stats.num_classes, stats.class_means.shape[1])
    w, m = _normalised(w), _normalised(centred_means(stats))
    if w is None or m is None:
        return float("nan")
    return etf_distance(w @ m.T)


def nc3_papyan(W, stats: ClassStatistics, *, allow_unbalanced: bool = False) -> float:
    r"""NC3 in the form of Papyan, Han & Donoho (2020): self-duality of classifier and means.

    .. math:: \Big\| \frac{W^\top}{\|W\|_F} - \frac{\bar H}{\|\bar H\|_F} \Big\|_F^2

    Zero exactly when :math:`W^\top` is a positive multiple of :math:`\bar H`, whatever the shape of the
    means (it does not ask for an ETF; NC2 does).

    Parameters
    ----------
    W : array_like of shape (K, d)
    stats : ClassStatistics
    allow_unbalanced : bool, default False

    Returns
    -------
    float
        In :math:`[0, 4]`; ``nan`` when ``W = 0`` or the means coincide.
    """
    stats = _check_stats(stats)
    _require_balanced(stats.counts, "NC3 (Papyan form)", allow_unbalanced)
    w = _as_classifier(W, stats.num_classes, stats.class_means.shape[1])
    w, m = _normalised(w), _normalised(centred_means(stats))
    if w is None or m is None:
        return float("nan")
    return float(np.sum((w - m) ** 2))


def equinorm(vectors) -> float:
    r"""Coefficient of variation of the row norms, :math:`\mathrm{std}_k \|v_k\| / \mathrm{avg}_k \|v_k\|`.

    The standard deviation uses ``ddof=1``, as in Papyan et al.'s code. 0 when all rows have equal norm.

    Parameters
    ----------
    vectors : array_like of shape (K, d)
        Rows of ``W``, or the centred class means (:func:`~landscape_lib.class_stats.centred_means`).

    Returns
    -------
    float
        ``nan`` when all rows are zero.
    """
    v = _as_vectors(vectors)
    norms = np.linalg.norm(v, axis=1)
    mean = norms.mean()
    return float("nan") if mean == 0 else float(norms.std(ddof=1) / mean)


def _as_vectors(vectors) -> np.ndarray:
    v = as_float_array(_to_numpy(vectors), "vectors", ndim=2)
    if v.shape[0] < 2:
        raise ValueError(f"vectors must have at least 2 rows; got shape {v.shape}")
    return v


def _cosines(vectors) -> np.ndarray | None:
    v = _as_vectors(vectors)
    norms = np.linalg.norm(v, axis=1)
    if np.any(norms == 0):
        return None
    u = v / norms[:, None]
    c = u @ u.T
    return c[~np.eye(v.shape[0], dtype=bool)]


def equiangularity(vectors) -> float:
    r"""Spread of the pairwise cosines, :math:`\operatorname{std}_{j \ne k} \cos\angle(v_j, v_k)` (ddof=1).

    0 when all pairs make the same angle (Papyan et al.'s "equiangularity"). With ``K = 2`` there is a
    single angle and the value is 0.

    Parameters
    ----------
    vectors : array_like of shape (K, d)

    Returns
    -------
    float
        ``nan`` when a row is zero.
    """
    c = _cosines(vectors)
    if c is None:
        return float("nan")
    return 0.0 if c.size < 2 else float(c.std(ddof=1))


def maximal_angle_deviation(vectors) -> float:
    r"""Mean distance of the pairwise cosines from the simplex value :math:`-1/(K-1)`.

    .. math:: \mathrm{avg}_{j \ne k} \big|\cos\angle(v_j, v_k) + 1/(K-1)\big|

    Papyan et al.'s "maximal-angle equiangularity" (their code's ``coherence``): 0 exactly when the
    normalised rows form a simplex ETF.

    Parameters
    ----------
    vectors : array_like of shape (K, d)

    Returns
    -------
    float
        ``nan`` when a row is zero.
    """
    c = _cosines(vectors)
    if c is None:
        return float("nan")
    K = int(round((1 + np.sqrt(1 + 4 * c.size)) / 2))
    return float(np.mean(np.abs(c + 1.0 / (K - 1))))


def _nearest_mean_offsets(mu):
    r"""``(nu, offsets)`` of the nearest-mean scores ``h @ nu.T - offsets`` (numpy arrays or torch tensors).

    ``nu = mu - c`` with ``c`` the mean of the class means, ``offsets_k = c . nu_k + |nu_k|^2 / 2``: the
    score of class ``k`` is :math:`-(\|h - \mu_k\|^2 - \|h - \bar\mu\|^2)/2` (:math:`\bar\mu` is ``c``), the same
    ranking as the distances
    without an :math:`\|h\|^2`-sized cancellation. The one formula of NC4's nearest class mean.
    """
    c = mu.mean(0)
    nu = mu - c
    return nu, c @ nu.T + 0.5 * (nu**2).sum(1)


def nearest_mean_disagreements(features, logits, class_means) -> int:
    r"""How many samples the classifier and the nearest-class-mean rule label differently (NC4 numerator).

    Counts the rows with :math:`\arg\max_k z_k \ne \arg\min_k \|h - \mu_k\|`. Meant to be streamed: with the
    class means from a first pass, sum this over batches and divide by ``N``.

    Parameters
    ----------
    features : array_like or torch.Tensor of shape (B, d)
    logits : array_like or torch.Tensor of shape (B, K)
        :math:`W h + b` for each row.
    class_means : array_like of shape (K, d)

    Returns
    -------
    int

    Notes
    -----
    Distances are compared through :math:`\|\mu_k - \bar\mu\|^2 - 2 (h - \bar\mu)^\top (\mu_k - \bar\mu)`,
    :math:`\bar\mu` the mean of the class means (equal ranking, no
    :math:`\|h\|^2`-sized cancellation). Cost :math:`O(B d K)`. Torch tensors are compared on their own
    device in float64 (the training loop's evaluation on a GPU: no copy of the features to the host, one
    synchronisation for the count); on a device without float64 (Apple MPS) on the host.
    """
    if _is_torch(features):
        count = _nearest_mean_disagreements_torch(features, logits, class_means)
        if count is not None:
            return count
    h = _as_features(features)
    z = as_float_array(_to_numpy(logits), "logits", ndim=2)
    mu = as_float_array(_to_numpy(class_means), "class_means", ndim=2, last_dim=h.shape[1])
    if z.shape != (h.shape[0], mu.shape[0]):
        raise ValueError(f"logits must have shape (B, K) = ({h.shape[0]}, {mu.shape[0]}); got {z.shape}")
    nu, offsets = _nearest_mean_offsets(mu)
    scores = h @ nu.T - offsets
    if not (np.all(np.isfinite(scores)) and np.all(np.isfinite(z))):
        raise ValueError("features and logits must be finite; they contain NaN or inf")
    return int(np.count_nonzero(np.argmax(z, axis=1) != np.argmax(scores, axis=1)))


def _nearest_mean_disagreements_torch(features, logits, class_means) -> int | None:
    """:func:`nearest_mean_disagreements` on the features' device; ``None`` where that device has no float64."""
    torch = sys.modules["torch"]
    h = features.detach()
    if h.ndim != 2 or h.shape[0] == 0 or h.shape[1] == 0:
        raise ValueError(f"features must have shape (N, d) and not be empty; got shape {tuple(h.shape)}")
    if h.dtype.is_complex or h.dtype == torch.bool:
        raise ValueError(f"features must be a real numeric tensor; got dtype {h.dtype}")
    try:
        h = h.to(torch.float64)
    except (TypeError, RuntimeError):           # no float64 on this device (e.g. MPS): the host path
        return None
    mu = as_float_array(_to_numpy(class_means), "class_means", ndim=2, last_dim=h.shape[1])
    z = logits.detach() if _is_torch(logits) else torch.as_tensor(np.asarray(logits, dtype=np.float64))
    if tuple(z.shape) != (h.shape[0], mu.shape[0]):
        raise ValueError(f"logits must have shape (B, K) = ({h.shape[0]}, {mu.shape[0]}); got {tuple(z.shape)}")
    z = z.to(h.device)
    nu, offsets = _nearest_mean_offsets(torch.as_tensor(mu, device=h.device))
    scores = h @ nu.T - offsets
    count = (z.argmax(1) != scores.argmax(1)).sum()
    bad = (~torch.isfinite(scores)).sum() + (~torch.isfinite(z)).sum()
    count, bad = torch.stack([count, bad]).tolist()           # the one synchronisation
    if bad:
        raise ValueError("features and logits must be finite; they contain NaN or inf")
    return int(count)


def nc4(features, W, b, class_means) -> float:
    r"""NC4: fraction of samples whose prediction :math:`\arg\max_k (W h + b)_k` is not their nearest mean.

    Parameters
    ----------
    features : array_like or torch.Tensor of shape (N, d)
    W : array_like of shape (K, d)
    b : array_like of shape (K,) or None
        ``None`` means no bias.
    class_means : array_like of shape (K, d)

    Returns
    -------
    float
        In :math:`[0, 1]`. Note that it depends on ``b``. ``nan`` when all class means coincide.
    """
    h = _as_features(features)
    w = _as_classifier(W, d=h.shape[1])
    mu = as_float_array(_to_numpy(class_means), "class_means", ndim=2, last_dim=h.shape[1])
    if mu.shape[0] != w.shape[0]:
        raise ValueError(f"class_means must have K={w.shape[0]} rows like W; got shape {mu.shape}")
    if np.all(mu == mu[0]):
        return float("nan")                                       # all means equal: no nearest mean
    logits = h @ w.T + _as_bias(b, w.shape[0])
    return nearest_mean_disagreements(h, logits, mu) / h.shape[0]


# ----------------------------------------------------------------------------------------------------
# All metrics at once
# ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CollapseMetrics:
    """The neural-collapse metrics of one set of features and one classifier (see the module docstring).

    Attributes
    ----------
    nc1, nc2_classifier, nc2_means, nc3_ufm, nc3_papyan, nc4 : float
    equinorm_classifier, equinorm_means : float
        :func:`equinorm` of the rows of ``W`` and of the centred means.
    equiangularity_classifier, equiangularity_means : float
        :func:`equiangularity` of the same.
    maximal_angle_classifier, maximal_angle_means : float
        :func:`maximal_angle_deviation` of the same.
    """

    nc1: float
    nc2_classifier: float
    nc2_means: float
    nc3_ufm: float
    nc3_papyan: float
    nc4: float
    equinorm_classifier: float
    equinorm_means: float
    equiangularity_classifier: float
    equiangularity_means: float
    maximal_angle_classifier: float = float("nan")
    maximal_angle_means: float = float("nan")

    def as_dict(self) -> dict:
        """The metrics as a plain ``{name: float}`` dictionary (for logging and tables)."""
        return {k: float(v) for k, v in self.__dict__.items()}


def metrics_from_statistics(stats: ClassStatistics, W, nc4_fraction: float, *,
                            allow_unbalanced: bool = False) -> CollapseMetrics:
    """All metrics from class statistics and the NC4 fraction: the one place :class:`CollapseMetrics` is built.

    The streaming path of chapters 5–7 passes the statistics of
    :class:`~landscape_lib.class_stats.StreamingClassStatistics` (a first pass over the data) and
    :func:`nearest_mean_disagreements` summed over a second pass; :func:`collapse_metrics` passes those of
    features held in memory.

    Parameters
    ----------
    stats : ClassStatistics
    W : array_like or torch.Tensor of shape (K, d)
        In the coordinates of ``stats``.
    nc4_fraction : float
        In :math:`[0, 1]`, or ``nan`` (all class means equal, see :func:`nc4`).
    allow_unbalanced : bool, default False
        The metrics built on the centred means compare them with a simplex ETF, the collapsed geometry of
        balanced classes; by default unbalanced counts raise ``ValueError``.

    Returns
    -------
    CollapseMetrics
    """
    stats = _check_stats(stats)
    w = _as_classifier(W, stats.num_classes, stats.class_means.shape[1])
    real = isinstance(nc4_fraction, numbers.Real) and not isinstance(nc4_fraction, (bool, np.bool_))
    frac = float(nc4_fraction) if real else None
    if frac is None or not (math.isnan(frac) or 0.0 <= frac <= 1.0):
        raise ValueError(f"nc4_fraction must lie in [0, 1] (or be nan); got {nc4_fraction!r}")
    _require_balanced(stats.counts, "collapse_metrics (NC1, NC2 means, NC3)", allow_unbalanced)
    centred = centred_means(stats)
    return CollapseMetrics(
        nc1=nc1(stats, allow_unbalanced=True),
        nc2_classifier=nc2_classifier(w),
        nc2_means=nc2_means(stats, allow_unbalanced=True),
        nc3_ufm=nc3_ufm(w, stats, allow_unbalanced=True),
        nc3_papyan=nc3_papyan(w, stats, allow_unbalanced=True),
        nc4=frac,
        equinorm_classifier=equinorm(w),
        equinorm_means=equinorm(centred),
        equiangularity_classifier=equiangularity(w),
        equiangularity_means=equiangularity(centred),
        maximal_angle_classifier=maximal_angle_deviation(w),
        maximal_angle_means=maximal_angle_deviation(centred),
    )


#: Rows of the features per block of the product in :func:`collapse_metrics` (a block of projections,
#: (2K - 1) x 4096 in float64, stays in the L2 cache).
_BLOCK_ROWS = 4096


def _metric_subspace(class_means: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Orthonormal basis, shape (d, 2K - 1), of a space holding the centred class means and the rows of ``W``.

    The differences ``mu_k - mu_0`` span the same space as the centred means, whatever the class counts.
    Householder QR gives orthonormal columns whose span holds the input's even when it is rank-deficient
    (at collapse the rows of W are multiples of the centred means).
    """
    q, _ = np.linalg.qr(np.concatenate([class_means[1:] - class_means[0], w]).T)
    return q


def collapse_metrics(features, labels, W, b, num_classes: int, *,
                     allow_unbalanced: bool = False) -> CollapseMetrics:
    r"""All neural-collapse metrics of features, labels and a linear classifier, in :math:`O(N d K)`.

    Every metric sees the features only through their components in the span of the centred class means
    and the rows of ``W``, at most ``2K - 1`` dimensions: NC1 needs :math:`\Sigma_W` only along the means
    (:func:`nc1`); NC4 compares the logits :math:`W h + b` with the distances
    :math:`\|h - \mu_k\|^2 = \|h - \bar\mu\|^2 - 2 (h - \bar\mu)^\top(\mu_k - \bar\mu) + \|\mu_k - \bar\mu\|^2`,
    :math:`\bar\mu` the mean of the class means, whose first term is the same for every ``k``; NC2, NC3 and the
    norms and angles depend
    on ``W`` and the means alone, up to a rotation. So when ``d > 2K - 1`` the features are read twice and
    multiplied once: one pass for the class means (additions only), then **one** product
    :math:`Q^\top H^\top` with an orthonormal basis :math:`Q` of that span, by blocks of rows. NC1's
    projections (centred on the known means, then their scatter), NC4's distances to the means and the
    logits all come from that product, through :math:`(2K-1)`-dimensional products; the
    :math:`d \times d` matrix :math:`\Sigma_W` is never formed. Up to ``d = 2K - 1`` nothing is projected
    and the functions of the streaming path are used as they are:
    :func:`~landscape_lib.class_stats.class_statistics`, :func:`nc4` and :func:`metrics_from_statistics`.

    Used in chapter 4 (and for UFM runs, :func:`landscape_lib.ufm.fit`).

    Parameters
    ----------
    features : array_like or torch.Tensor of shape (N, d)
    labels : array_like or torch.Tensor of shape (N,)
        Integers in ``0..K-1``.
    W : array_like or torch.Tensor of shape (K, d)
    b : array_like or torch.Tensor of shape (K,), or None
    num_classes : int
        ``K``.
    allow_unbalanced : bool, default False
        The metrics built on the centred means compare them with a simplex ETF, the collapsed geometry of
        balanced classes; by default unbalanced counts raise ``ValueError``.

    Returns
    -------
    CollapseMetrics

    Raises
    ------
    ValueError
        For mismatched shapes, labels outside ``0..K-1``, non-finite inputs, a class with no sample, or
        unbalanced classes (unless ``allow_unbalanced``).

    Notes
    -----
    At CIFAR-10 scale (``N = 50,000``, ``d = 512``, ``K = 10``, one thread) this costs about 1.2 times one
    product ``features @ W.T`` (``benchmarks/bench_collapse_metrics.py``).
    """
    K = _check_num_classes(num_classes)
    h = _as_features(features)
    N, d = h.shape
    y = _as_labels(labels, K, N)
    w = _as_classifier(W, K, d)
    bias = _as_bias(b, K)
    if d <= 2 * K - 1:
        stats = class_statistics(h, y, K)
        return metrics_from_statistics(stats, w, nc4(h, w, bias, stats.class_means),
                                       allow_unbalanced=allow_unbalanced)
    means = _class_means(h, y, K)                       # pass 1; raises on non-finite features
    q = _metric_subspace(means, w)                      # (d, r), r = 2K - 1
    qt, means_q, w_q = np.ascontiguousarray(q.T), means @ q, w @ q
    nu, offsets = _nearest_mean_offsets(means_q)
    stacked = np.concatenate([w_q, nu])                 # (2K, r): the logits - b, then the scores + offsets
    shift = np.concatenate([bias, -offsets])[:, None]
    means_qt = np.ascontiguousarray(means_q.T)
    scatter, wrong = np.zeros((q.shape[1], q.shape[1])), 0
    # Pass 2: the one product with the features, Q^T H^T, by blocks of rows, so that what is derived from a
    # block (logits, scores, centred projections) is computed while the block is in cache; (r, d) @ (d, B) is
    # also BLAS's faster kernel for this thin shape.
    for start in range(0, N, _BLOCK_ROWS):
        zt = qt @ h[start:start + _BLOCK_ROWS].T        # (r, B)
        both = stacked @ zt + shift                     # (2K, B)
        wrong += np.count_nonzero(np.argmax(both[:K], axis=0) != np.argmax(both[K:], axis=0))
        scatter += _scatter_given_means(zt, y[start:start + _BLOCK_ROWS], means_qt)
    if not np.all(np.isfinite(scatter)):
        raise ValueError("features must be finite; their projections overflow")
    stats = _assemble(np.bincount(y, minlength=K), means_q, scatter)
    nc4_fraction = float("nan") if np.all(means == means[0]) else wrong / N     # as nc4: no nearest mean
    return metrics_from_statistics(stats, w_q, nc4_fraction, allow_unbalanced=allow_unbalanced)
