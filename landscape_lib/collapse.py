r"""Neural-collapse metrics (NC1–NC4), the simplex ETF, and a streaming accumulator of class statistics.

Used in chapter 4 (the unconstrained feature model) and by the deep-network training loop of chapters 5–7.

Notation (balanced data): ``K`` classes, ``n`` samples per class, ``N`` samples in all, features
:math:`h_i \in \mathbb{R}^d` with labels :math:`y_i \in \{0, \dots, K-1\}`, classifier
:math:`W \in \mathbb{R}^{K \times d}`, bias :math:`b \in \mathbb{R}^K`. Class means :math:`\mu_k`, global
mean :math:`\mu_G` (the mean of all samples),
:math:`\bar H = [\mu_1 - \mu_G, \dots, \mu_K - \mu_G] \in \mathbb{R}^{d \times K}`,

.. math::

    \Sigma_W = \frac1N \sum_i (h_i - \mu_{y_i})(h_i - \mu_{y_i})^\top, \qquad
    \Sigma_B = \frac1K \sum_k (\mu_k - \mu_G)(\mu_k - \mu_G)^\top = \frac1K \bar H \bar H^\top .

The metrics follow Papyan, Han & Donoho (2020) and the code of Zhu et al. (2021):

* NC1 :math:`= \frac1K \operatorname{tr}(\Sigma_W \Sigma_B^\dagger)`, the pseudo-inverse taken with its
  rank fixed at ``K - 1`` (:func:`nc1`);
* NC2 :math:`= \| G/\|G\|_F - (I - \tfrac1K \mathbf 1 \mathbf 1^\top)/\sqrt{K-1} \|_F` with
  :math:`G = W W^\top` (:func:`nc2_classifier`) or :math:`G = \bar H^\top \bar H` (:func:`nc2_means`);
* NC3, the UFM paper's form
  :math:`\| W\bar H/\|W\bar H\|_F - (I - \tfrac1K \mathbf 1\mathbf 1^\top)/\sqrt{K-1}\|_F`
  (:func:`nc3_ufm`), and Papyan et al.'s :math:`\| W^\top/\|W\|_F - \bar H/\|\bar H\|_F \|_F^2`
  (:func:`nc3_papyan`);
* NC4, the fraction of samples whose prediction :math:`\arg\max_k (W h + b)_k` differs from the nearest
  class mean :math:`\arg\min_k \|h - \mu_k\|` (:func:`nc4`);
* equinorm (coefficient of variation of the norms) and equiangularity (spread of the pairwise cosines).

All are 0 at exact neural collapse: within-class variability zero, centred means forming a simplex ETF,
:math:`W \propto \bar H^\top`. The converse needs care for NC3 in the UFM form: it sees :math:`W` only
through :math:`W\bar H`, so it is also 0 for classifiers that are not proportional to :math:`\bar H^\top`
(a dual frame of non-ETF means; or ETF means with rows of :math:`W` tilted out of their span, which can
keep both NC2 at 0 as well). Papyan et al.'s form is 0 exactly when :math:`W^\top \propto \bar H`. They are
invariant to scaling and to one rotation applied to the features
*and* the classifier together. Where a metric divides by a quantity that vanishes (the zero solution of
the UFM above its threshold, where :math:`W = 0`, :math:`H = 0`) it returns ``nan``; plot norms and the
loss there instead.

Inputs may be numpy arrays or torch tensors on any device (detected duck-typed; torch is never imported
by this module unless a tensor is passed). Everything is computed in float64: a one-pass second-moment
accumulation in float32 cancels catastrophically exactly when NC1 goes to 0, so the accumulator centres
every batch on its own class means and merges batches with Chan et al.'s pairwise update.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from ._validation import as_float_array, as_rng, check_positive

__all__ = [
    "simplex_etf", "etf_gram",
    "ClassStatistics", "class_statistics", "StreamingClassStatistics",
    "nc1", "nc2_classifier", "nc2_means", "nc3_ufm", "nc3_papyan", "nc4", "nearest_mean_disagreements",
    "etf_distance", "equinorm", "equiangularity", "maximal_angle_deviation",
    "CollapseMetrics", "collapse_metrics", "metrics_from_statistics", "centred_means",
]


# ----------------------------------------------------------------------------------------------------
# The simplex equiangular tight frame
# ----------------------------------------------------------------------------------------------------

def etf_gram(K: int) -> np.ndarray:
    r"""Gram matrix of the unit-norm simplex ETF with ``K`` vectors.

    .. math:: G = \frac{K}{K-1}\Big(I_K - \frac1K \mathbf 1 \mathbf 1^\top\Big)

    (ones on the diagonal, :math:`-1/(K-1)` off it).

    Parameters
    ----------
    K : int
        Number of vectors, at least 2.

    Returns
    -------
    ndarray of shape (K, K)
    """
    check_positive(K, "K", integer=True)
    if K < 2:
        raise ValueError(f"K must be at least 2 for a simplex ETF; got {K}")
    return (K / (K - 1)) * (np.eye(K) - np.full((K, K), 1.0 / K))


def simplex_etf(K: int, d: int | None = None, *, rng=None) -> np.ndarray:
    r"""The ``K`` unit vectors of a simplex equiangular tight frame in :math:`\mathbb{R}^d` (rows).

    The rows :math:`m_k` satisfy :math:`\|m_k\| = 1`, :math:`\langle m_j, m_k\rangle = -1/(K-1)` for
    :math:`j \ne k` and :math:`\sum_k m_k = 0`: the Gram matrix is :func:`etf_gram`. It is the geometry of
    the class means and of the classifier at neural collapse (chapter 4).

    Parameters
    ----------
    K : int
        Number of vectors (classes), at least 2.
    d : int, optional
        Ambient dimension, at least ``K - 1`` (the ETF spans ``K - 1`` dimensions). Default ``K``.
    rng : None, int or numpy.random.Generator, optional
        Without it (default) the frame is deterministic: for ``d >= K`` the rows are
        :math:`\sqrt{K/(K-1)}\,(e_k - \tfrac1K \mathbf 1)` in the first ``K`` coordinates (the fixed
        classifier of chapter 7); for ``d = K - 1`` the same frame written in an orthonormal basis of
        :math:`\mathbf 1^\perp`. With ``rng``, the frame is rotated by a random orthogonal embedding
        (Haar-distributed), different for each seed.

    Returns
    -------
    ndarray of shape (K, d)

    Examples
    --------
    >>> M = simplex_etf(3)
    >>> np.allclose(M @ M.T, etf_gram(3))
    True
    """
    gram = etf_gram(K)
    d = K if d is None else check_positive(d, "d", integer=True)
    if d < K - 1:
        raise ValueError(f"a simplex ETF of K={K} vectors needs d >= K - 1 = {K - 1}; got d={d}")
    base = np.sqrt(K / (K - 1)) * (np.eye(K) - 1.0 / K)          # rows in R^K, inside 1^perp
    if rng is None:
        if d >= K:
            out = np.zeros((K, d))
            out[:, :K] = base
            return out
        return base @ _complement_of_ones(K)                        # (K, K-1)
    gen = as_rng(rng)
    coords = base @ _complement_of_ones(K)                          # (K, K-1), same Gram
    q, r = np.linalg.qr(gen.standard_normal((d, K - 1)))
    q = q * np.sign(np.diag(r))                                     # Haar on the Stiefel manifold
    out = coords @ q.T
    assert np.allclose(out @ out.T, gram)
    return out


def _complement_of_ones(K: int) -> np.ndarray:
    """Orthonormal basis, shape (K, K-1), of the hyperplane orthogonal to the all-ones vector."""
    q, _ = np.linalg.qr(np.column_stack([np.ones(K), np.eye(K)[:, : K - 1]]))
    return q[:, 1:]


# ----------------------------------------------------------------------------------------------------
# Input handling: numpy arrays and torch tensors
# ----------------------------------------------------------------------------------------------------

def _is_torch(x) -> bool:
    return type(x).__module__.split(".")[0] == "torch" and hasattr(x, "detach")


def _to_numpy(x):
    """A torch tensor (any device, any float dtype) as a host numpy array; anything else unchanged."""
    if _is_torch(x):
        x = x.detach().cpu()
        if x.is_floating_point() and x.dtype != sys.modules["torch"].float64:
            x = x.double()
        return x.numpy()
    return x


def _as_labels(labels, num_classes: int, n: int | None = None) -> np.ndarray:
    y = np.asarray(_to_numpy(labels))
    if y.ndim != 1:
        raise ValueError(f"labels must be a 1-D array of class indices; got shape {y.shape}")
    if y.dtype.kind not in "iu":
        raise ValueError(f"labels must have an integer dtype (class indices 0..K-1); got dtype {y.dtype}")
    if n is not None and y.shape[0] != n:
        raise ValueError(f"labels must have one entry per feature row ({n}); got {y.shape[0]}")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        bad = y[(y < 0) | (y >= num_classes)]
        raise ValueError(f"labels must lie in 0..{num_classes - 1} (num_classes={num_classes}); "
                         f"got {bad.size} out of range, e.g. {int(bad[0])}")
    return y.astype(np.intp, copy=False)


def _as_features(features, name: str = "features") -> np.ndarray:
    """Features as a float64 (N, d) array *without* a separate finiteness pass (checked on the sums)."""
    h = np.asarray(_to_numpy(features))
    if h.ndim != 2:
        raise ValueError(f"{name} must have shape (N, d); got shape {h.shape}")
    if h.shape[0] == 0 or h.shape[1] == 0:
        raise ValueError(f"{name} must not be empty; got shape {h.shape}")
    if h.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be a real numeric array; got dtype {h.dtype}")
    return h.astype(np.float64, copy=False)


def _check_num_classes(num_classes) -> int:
    check_positive(num_classes, "num_classes", integer=True)
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2; got {num_classes}")
    return int(num_classes)


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
# Class statistics: one-shot and streaming
# ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClassStatistics:
    r"""First and second moments of features per class (float64, on the host).

    Attributes
    ----------
    counts : ndarray of shape (K,)
        Samples per class (integers).
    class_means : ndarray of shape (K, d)
        :math:`\mu_k`, row ``k``.
    global_mean : ndarray of shape (d,)
        :math:`\mu_G`, the mean of all ``N`` samples.
    within_cov : ndarray of shape (d, d)
        :math:`\Sigma_W`, normalised by ``1/N``.
    between_cov : ndarray of shape (d, d)
        :math:`\Sigma_B`, normalised by ``1/K``.
    """

    counts: np.ndarray
    class_means: np.ndarray
    global_mean: np.ndarray
    within_cov: np.ndarray
    between_cov: np.ndarray

    @property
    def num_classes(self) -> int:
        return int(self.counts.shape[0])

    @property
    def num_samples(self) -> int:
        return int(self.counts.sum())

    @property
    def is_balanced(self) -> bool:
        """Whether every class has the same number of samples."""
        return bool(np.all(self.counts == self.counts[0]))


def centred_means(stats: ClassStatistics) -> np.ndarray:
    r"""The centred class means :math:`\bar H^\top`, rows :math:`\mu_k - \mu_G`.

    Parameters
    ----------
    stats : ClassStatistics

    Returns
    -------
    ndarray of shape (K, d)
    """
    return stats.class_means - stats.global_mean


class StreamingClassStatistics:
    r"""Accumulate :class:`ClassStatistics` over a data set fed in batches (chapters 5–7).

    Each batch is centred on its own per-class means (in float64, on the batch's device) and merged into
    the running statistics with the pairwise update of Chan, Golub & LeVeque: for class ``k`` with running
    count :math:`n_a`, mean :math:`\mu_a` and a batch of :math:`n_b` samples with mean :math:`\mu_b`,

    .. math::

        \mu \leftarrow \mu_a + \frac{n_b}{n_a + n_b}\,\delta, \qquad
        S \leftarrow S_a + S_b + \frac{n_a n_b}{n_a + n_b}\,\delta\delta^\top, \qquad \delta = \mu_b - \mu_a,

    where :math:`S` is the pooled within-class scatter :math:`\sum_i (h_i - \mu_{y_i})(h_i - \mu_{y_i})^\top`.
    No sum of squares of raw features is ever formed, so a large common mean does not cancel away a tiny
    within-class spread (the float32 failure of one-pass formulas). The result equals
    :func:`class_statistics` on the concatenated data up to round-off.

    Parameters
    ----------
    num_classes : int
        ``K``.
    feature_dim : int
        ``d``.

    Notes
    -----
    ``update`` accepts numpy arrays or torch tensors (any device, any float dtype). With tensors the running
    sums stay on the tensors' device in float64 (on a device without float64, e.g. Apple MPS, they are kept
    on the host), so a GPU evaluation loop does no per-batch host transfer beyond one small validity check.
    Cost per batch of ``B`` samples: :math:`O(B d^2 + B d K)`.

    Examples
    --------
    >>> acc = StreamingClassStatistics(3, 2)
    >>> acc.update(np.array([[0., 1.], [2., 1.], [5., 5.]]), np.array([0, 0, 1]))
    >>> acc.update(np.array([[1., -1.]]), np.array([2]))
    >>> acc.result().counts.tolist()
    [2, 1, 1]
    """

    def __init__(self, num_classes: int, feature_dim: int):
        self.num_classes = _check_num_classes(num_classes)
        self.feature_dim = int(check_positive(feature_dim, "feature_dim", integer=True))
        self._torch = None        # the torch module when the state lives in tensors
        self._device = None
        self._count = None        # (K,) float64
        self._mean = None         # (K, d)
        self._scatter = None      # (d, d)

    # -- backends ------------------------------------------------------------------------------------
    def _init_state(self, like_torch, device):
        K, d = self.num_classes, self.feature_dim
        if like_torch is None:
            self._count, self._mean, self._scatter = np.zeros(K), np.zeros((K, d)), np.zeros((d, d))
        else:
            t = like_torch
            kw = dict(dtype=t.float64, device=device)
            self._count, self._mean = t.zeros(K, **kw), t.zeros((K, d), **kw)
            self._scatter = t.zeros((d, d), **kw)
        self._torch, self._device = like_torch, device

    def _batch_torch(self, features, labels):
        torch = sys.modules["torch"]
        x = features.detach()
        device = x.device
        try:
            x = x.to(torch.float64)
        except (TypeError, RuntimeError):          # no float64 on this device (e.g. MPS): use the host
            x, device = x.cpu().to(torch.float64), torch.device("cpu")
        y = torch.as_tensor(labels.detach() if _is_torch(labels) else np.asarray(labels), device=device)
        if y.is_floating_point() or y.dtype == torch.bool or y.is_complex():
            raise ValueError(f"labels must have an integer dtype (class indices 0..K-1); got dtype {y.dtype}")
        if y.ndim != 1 or y.shape[0] != x.shape[0]:
            raise ValueError(f"labels must have shape ({x.shape[0]},), one per feature row; "
                             f"got {tuple(y.shape)}")
        y = y.long()
        # One host synchronisation per batch for all checks together.
        lo, hi, bad = torch.stack([y.min(), y.max(), (~torch.isfinite(x)).sum()]).tolist()
        if lo < 0 or hi >= self.num_classes:
            raise ValueError(f"labels must lie in 0..{self.num_classes - 1}; got values in {lo}..{hi}")
        if bad:
            raise ValueError(f"features must be finite; the batch contains {bad} NaN or inf entries")
        onehot = torch.zeros((x.shape[0], self.num_classes), dtype=torch.float64, device=device)
        onehot[torch.arange(x.shape[0], device=device), y] = 1.0
        return torch, device, x, y, onehot

    def update(self, features, labels) -> None:
        """Add a batch.

        Parameters
        ----------
        features : array_like or torch.Tensor of shape (B, d)
        labels : array_like or torch.Tensor of shape (B,), integers in ``0..K-1``
        """
        d = self.feature_dim
        shape = tuple(getattr(features, "shape", np.shape(features)))
        if len(shape) != 2 or shape[1] != d:
            raise ValueError(f"features must have shape (B, {d}) (feature_dim={d}); got shape {shape}")
        if shape[0] == 0:
            return
        if _is_torch(features):
            torch, device, x, y, onehot = self._batch_torch(features, labels)
            if self._count is None:
                self._init_state(torch, device)
            elif self._torch is None or self._device != device:
                self._move_state(torch, device)
        else:
            x = as_float_array(features, "features", ndim=2, last_dim=d)
            y = _as_labels(labels, self.num_classes, x.shape[0])
            if self._count is None:
                self._init_state(None, None)
            if self._torch is not None:          # state on a device: bring the numpy batch there
                torch, device = self._torch, self._device
                x = torch.as_tensor(x, device=device)
                y = torch.as_tensor(y, device=device, dtype=torch.long)
            onehot = self._onehot(y)
        self._merge(x, y, onehot)

    def _onehot(self, y):
        if self._torch is None:
            onehot = np.zeros((y.shape[0], self.num_classes))
            onehot[np.arange(y.shape[0]), y] = 1.0
            return onehot
        t = self._torch
        onehot = t.zeros((y.shape[0], self.num_classes), dtype=t.float64, device=self._device)
        onehot[t.arange(y.shape[0], device=self._device), y] = 1.0
        return onehot

    def _move_state(self, torch, device):
        if self._torch is None:
            conv = (lambda a: torch.as_tensor(a, device=device))  # noqa: E731
        else:
            conv = (lambda a: a.to(device))  # noqa: E731
        self._count, self._mean, self._scatter = conv(self._count), conv(self._mean), conv(self._scatter)
        self._torch, self._device = torch, device

    def _merge(self, x, y, onehot) -> None:
        # Same operator-level code for numpy arrays and torch tensors (positional reductions only).
        nb = onehot.sum(0)                                      # (K,)
        sums = onehot.T @ x                                     # (K, d)
        safe_nb = nb + (nb == 0)                                # avoid 0/0 for classes absent from the batch
        mean_b = sums / safe_nb[:, None]
        xc = x - mean_b[y]                                      # centred on the batch's class means
        scatter_b = xc.T @ xc                                   # (d, d)
        na = self._count
        n = na + nb
        delta = mean_b - self._mean
        w = na * nb / (n + (n == 0))                            # 0 when a class is new or absent
        self._scatter = self._scatter + scatter_b + (delta * w[:, None]).T @ delta
        self._mean = self._mean + delta * (nb / (n + (n == 0)))[:, None]
        self._count = n

    def result(self) -> ClassStatistics:
        """The statistics of everything fed so far.

        Returns
        -------
        ClassStatistics
            On the host, float64.

        Raises
        ------
        ValueError
            If nothing was fed, or some class has no sample (its mean is undefined).
        """
        if self._count is None:
            raise ValueError("no samples were fed to the accumulator; call update() first")
        count, mean, scatter = (_to_numpy(a) for a in (self._count, self._mean, self._scatter))
        return _finish_statistics(np.rint(count).astype(np.int64), np.array(mean), np.array(scatter))


def _finish_statistics(counts: np.ndarray, means: np.ndarray, scatter: np.ndarray) -> ClassStatistics:
    missing = np.flatnonzero(counts == 0)
    if missing.size:
        raise ValueError(f"class(es) {missing.tolist()} have no samples: their class means are undefined "
                         f"(counts {counts.tolist()})")
    N = counts.sum()
    K = counts.shape[0]
    global_mean = (counts @ means) / N
    centred = means - global_mean
    within = scatter / N
    within = 0.5 * (within + within.T)
    between = centred.T @ centred / K
    return ClassStatistics(counts=counts, class_means=means, global_mean=global_mean,
                           within_cov=within, between_cov=between)


def class_statistics(features, labels, num_classes: int) -> ClassStatistics:
    r"""Class counts, means, global mean, :math:`\Sigma_W` and :math:`\Sigma_B` in one shot.

    Two-pass in float64 (class means first, then the scatter of the centred features), so a large common
    mean does not cancel a small within-class spread. Cost :math:`O(N d^2)` for :math:`\Sigma_W`; the
    metrics of :func:`collapse_metrics` avoid it (:math:`O(N d K)`).

    Parameters
    ----------
    features : array_like or torch.Tensor of shape (N, d)
    labels : array_like or torch.Tensor of shape (N,), integers in ``0..K-1``
    num_classes : int
        ``K``.

    Returns
    -------
    ClassStatistics

    Raises
    ------
    ValueError
        On shapes that do not match, labels outside ``0..K-1``, non-finite features or a class with no
        sample.
    """
    K = _check_num_classes(num_classes)
    h = _as_features(features)
    acc = StreamingClassStatistics(K, h.shape[1])
    acc.update(h, _as_labels(labels, K, h.shape[0]))
    return acc.result()


# ----------------------------------------------------------------------------------------------------
# The metrics
# ----------------------------------------------------------------------------------------------------

def _require_balanced(counts: np.ndarray, what: str, allow_unbalanced: bool) -> None:
    if not allow_unbalanced and not np.all(counts == counts[0]):
        raise ValueError(
            f"{what} compares the centred class means with a simplex ETF, the collapsed geometry of "
            f"*balanced* classes only; the class counts are unbalanced (min {int(counts.min())}, "
            f"max {int(counts.max())}). Balance the data, or pass allow_unbalanced=True to evaluate the "
            f"definition anyway.")


def _nc1_terms(centred: np.ndarray):
    """SVD of the centred means: (U_r of shape (d, K-1), s_r of shape (K-1,)) or None if rank < K-1."""
    K, d = centred.shape
    if K - 1 > d:
        return None
    u, s, _ = np.linalg.svd(centred.T, full_matrices=False)     # centred.T = Hbar, (d, K)
    if s[0] == 0 or s[K - 2] <= max(d, K) * np.finfo(float).eps * s[0]:
        return None
    return u[:, : K - 1], s[: K - 1]


def nc1(stats: ClassStatistics, *, allow_unbalanced: bool = False) -> float:
    r"""Within-class variability collapse :math:`\frac1K \operatorname{tr}(\Sigma_W \Sigma_B^\dagger)`.

    :math:`\Sigma_B^\dagger` is the pseudo-inverse with its rank fixed at ``K - 1`` (as in the code of
    Zhu et al., 2021). With :math:`\bar H = U S V^\top` and :math:`u_j, s_j` the leading ``K - 1``
    singular pairs, :math:`\Sigma_B^\dagger = \sum_j (K/s_j^2) u_j u_j^\top`, so

    .. math:: \mathrm{NC1} = \sum_{j=1}^{K-1} \frac{u_j^\top \Sigma_W u_j}{s_j^2}:

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
    _require_balanced(stats.counts, "NC1", allow_unbalanced)
    terms = _nc1_terms(centred_means(stats))
    if terms is None:
        return float("nan")
    u, s = terms
    quad = np.einsum("dj,de,ej->j", u, stats.within_cov, u)
    return float(np.sum(quad / s**2))


def etf_distance(gram) -> float:
    r"""Distance of a Gram matrix from the simplex ETF, after normalisation.

    .. math:: \Big\| \frac{G}{\|G\|_F} - \frac{I - \frac1K \mathbf 1 \mathbf 1^\top}{\sqrt{K-1}} \Big\|_F

    Parameters
    ----------
    gram : array_like of shape (K, K)

    Returns
    -------
    float
        In :math:`[0, 2]`; ``nan`` when :math:`G = 0`.
    """
    g = as_float_array(gram, "gram", ndim=2)
    K = g.shape[0]
    if g.shape != (K, K) or K < 2:
        raise ValueError(f"gram must be a square (K, K) matrix with K >= 2; got shape {g.shape}")
    norm = np.linalg.norm(g)
    if norm == 0:
        return float("nan")
    target = (np.eye(K) - 1.0 / K) / np.sqrt(K - 1)
    return float(np.linalg.norm(g / norm - target))


def _normalised(v: np.ndarray) -> np.ndarray | None:
    norm = np.linalg.norm(v)
    return None if norm == 0 else v / norm


def nc2_classifier(W) -> float:
    r"""NC2 of the classifier: :func:`etf_distance` of :math:`W W^\top` (rows of ``W`` as vectors).

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
    r"""NC2 of the features: :func:`etf_distance` of :math:`\bar H^\top \bar H` (centred class means).

    Parameters
    ----------
    stats : ClassStatistics
    allow_unbalanced : bool, default False

    Returns
    -------
    float
        ``nan`` when all class means coincide.
    """
    _require_balanced(stats.counts, "NC2 (means)", allow_unbalanced)
    m = _normalised(centred_means(stats))
    return float("nan") if m is None else etf_distance(m @ m.T)


def nc3_ufm(W, stats: ClassStatistics, *, allow_unbalanced: bool = False) -> float:
    r"""NC3 in the form of Zhu et al. (2021): alignment of classifier and means, through the ETF.

    .. math::

        \Big\| \frac{W \bar H}{\|W \bar H\|_F}
        - \frac{I - \frac1K \mathbf 1\mathbf 1^\top}{\sqrt{K-1}} \Big\|_F

    Zero when :math:`W \propto \bar H^\top` *and* the means form a simplex ETF; with
    :math:`W \propto \bar H^\top` alone it is positive unless the means are an ETF. It sees :math:`W` only
    through the inner products :math:`W\bar H` of its rows with the centred means, so it is also zero for
    some classifiers that are *not* proportional to :math:`\bar H^\top`: any :math:`W` with
    :math:`W\bar H \propto I - \frac1K\mathbf 1\mathbf 1^\top` (e.g. the dual frame
    :math:`(I - \frac1K\mathbf 1\mathbf 1^\top)\bar H^\dagger` of non-ETF means, or :math:`\bar H^\top` plus
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
    _require_balanced(stats.counts, "NC3 (UFM form)", allow_unbalanced)
    w = _as_classifier(W, stats.num_classes, stats.class_means.shape[1])
    w, m = _normalised(w), _normalised(centred_means(stats))
    if w is None or m is None:
        return float("nan")
    return etf_distance(w @ m.T)


def nc3_papyan(W, stats: ClassStatistics, *, allow_unbalanced: bool = False) -> float:
    r"""NC3 in the form of Papyan, Han & Donoho (2020): self-duality of classifier and means.

    .. math:: \Big\| \frac{W^\top}{\|W\|_F} - \frac{\bar H}{\|\bar H\|_F} \Big\|_F^2

    Zero exactly when :math:`W^\top = \alpha \bar H` for some :math:`\alpha > 0`, whatever the shape of the
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
        Rows of ``W``, or the centred class means (:func:`centred_means`).

    Returns
    -------
    float
        ``nan`` when all rows are zero.
    """
    v = as_float_array(_to_numpy(vectors), "vectors", ndim=2)
    norms = np.linalg.norm(v, axis=1)
    mean = norms.mean()
    return float("nan") if mean == 0 else float(norms.std(ddof=1) / mean)


def _cosines(vectors) -> np.ndarray | None:
    v = as_float_array(_to_numpy(vectors), "vectors", ndim=2)
    if v.shape[0] < 2:
        raise ValueError(f"vectors must have at least 2 rows; got shape {v.shape}")
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
    Distances are compared through :math:`\|\nu_k\|^2 - 2 (h - c)^\top \nu_k` with
    :math:`\nu_k = \mu_k - c`, :math:`c` the mean of the class means (equal ranking, no
    :math:`\|h\|^2`-sized cancellation). Cost :math:`O(B d K)`.
    """
    h = _as_features(features)
    z = np.asarray(_to_numpy(logits), dtype=np.float64)
    mu = as_float_array(_to_numpy(class_means), "class_means", ndim=2, last_dim=h.shape[1])
    if z.shape != (h.shape[0], mu.shape[0]):
        raise ValueError(f"logits must have shape (B, K) = ({h.shape[0]}, {mu.shape[0]}); got {z.shape}")
    c = mu.mean(axis=0)
    nu = mu - c
    scores = h @ nu.T - (c @ nu.T + 0.5 * np.sum(nu**2, axis=1))     # = -(||h - mu_k||^2 - ||h - c||^2)/2
    if not (np.all(np.isfinite(scores)) and np.all(np.isfinite(z))):
        raise ValueError("features and logits must be finite; they contain NaN or inf")
    return int(np.count_nonzero(np.argmax(z, axis=1) != np.argmax(scores, axis=1)))


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


def _metrics(w: np.ndarray, counts: np.ndarray, means: np.ndarray, global_mean: np.ndarray,
             nc1_value: float, nc4_value: float, allow_unbalanced: bool) -> CollapseMetrics:
    _require_balanced(counts, "collapse_metrics (NC1, NC2 means, NC3)", allow_unbalanced)
    stats_like = ClassStatistics(counts, means, global_mean, np.empty((0, 0)), np.empty((0, 0)))
    centred = means - global_mean
    return CollapseMetrics(
        nc1=nc1_value,
        nc2_classifier=nc2_classifier(w),
        nc2_means=nc2_means(stats_like, allow_unbalanced=True),
        nc3_ufm=nc3_ufm(w, stats_like, allow_unbalanced=True),
        nc3_papyan=nc3_papyan(w, stats_like, allow_unbalanced=True),
        nc4=nc4_value,
        equinorm_classifier=equinorm(w),
        equinorm_means=equinorm(centred),
        equiangularity_classifier=equiangularity(w),
        equiangularity_means=equiangularity(centred),
        maximal_angle_classifier=maximal_angle_deviation(w),
        maximal_angle_means=maximal_angle_deviation(centred),
    )


def _class_sums(h: np.ndarray, y: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per-class sums of the rows of ``h``, shape (K, d), in one pass of additions (no one-hot product)."""
    if np.all(y[1:] >= y[:-1]):                                    # sorted labels: contiguous blocks
        ends = np.cumsum(counts)
        return np.stack([h[e - c: e].sum(axis=0) for c, e in zip(counts, ends, strict=True)])
    from scipy.sparse import csr_matrix

    # A (K, N) indicator in CSR form: the product adds each row of h once into its class (N d additions).
    indicator = csr_matrix((np.ones(y.shape[0]), y, np.arange(y.shape[0] + 1)), shape=(y.shape[0], counts.size))
    return np.asarray(indicator.T @ h)


def metrics_from_statistics(stats: ClassStatistics, W, nc4_fraction: float, *,
                            allow_unbalanced: bool = False) -> CollapseMetrics:
    """All metrics from accumulated statistics (the streaming path of chapters 5–7).

    Parameters
    ----------
    stats : ClassStatistics
        From :class:`StreamingClassStatistics` (first pass over the data).
    W : array_like or torch.Tensor of shape (K, d)
    nc4_fraction : float
        :func:`nearest_mean_disagreements` summed over a second pass, divided by ``N``.
    allow_unbalanced : bool, default False

    Returns
    -------
    CollapseMetrics
    """
    w = _as_classifier(W, stats.num_classes, stats.class_means.shape[1])
    frac = float(nc4_fraction)
    if not 0.0 <= frac <= 1.0:
        raise ValueError(f"nc4_fraction must lie in [0, 1]; got {nc4_fraction!r}")
    return _metrics(w, stats.counts, stats.class_means, stats.global_mean,
                    nc1(stats, allow_unbalanced=True), frac, allow_unbalanced)


def collapse_metrics(features, labels, W, b, num_classes: int, *,
                     allow_unbalanced: bool = False) -> CollapseMetrics:
    r"""All neural-collapse metrics of features, labels and a linear classifier, in :math:`O(N d K)`.

    Two passes over the features: the class sums (additions only, through a sparse indicator matrix),
    then one product :math:`H [W^\top \mid U_r]` that yields the logits (NC4), the distances to the class means
    (NC4) and the projections on the span :math:`U_r` of the centred means (NC1). The full
    :math:`d \times d` matrix :math:`\Sigma_W` is never formed: with :math:`u_j, s_j` the leading
    ``K - 1`` singular pairs of :math:`\bar H`,

    .. math::

        \mathrm{NC1} = \frac1N \sum_{j=1}^{K-1} \frac{1}{s_j^2}
        \sum_i \big(u_j^\top h_i - u_j^\top \mu_{y_i}\big)^2 .

    Used in chapter 4 (and chapters 5–7 for data that fit in memory).

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
    """
    K = _check_num_classes(num_classes)
    h = _as_features(features)
    N, d = h.shape
    y = _as_labels(labels, K, N)
    w = _as_classifier(W, K, d)
    bias = _as_bias(b, K)
    counts = np.bincount(y, minlength=K)
    missing = np.flatnonzero(counts == 0)
    if missing.size:
        raise ValueError(f"class(es) {missing.tolist()} have no samples: their class means are undefined "
                         f"(counts {counts.tolist()})")
    _require_balanced(counts, "collapse_metrics (NC1, NC2 means, NC3)", allow_unbalanced)
    means = _class_sums(h, y, counts) / counts[:, None]            # pass 1
    if not np.all(np.isfinite(means)):
        raise ValueError("features must be finite; they contain NaN or inf")
    global_mean = (counts @ means) / N
    centred = means - global_mean
    terms = _nc1_terms(centred)
    if terms is None:
        u = np.zeros((d, 0))
        s = None
    else:
        u, s = terms
    # Pass 2: one product gives logits and the projections onto span(Hbar) (which contains every nu_k).
    proj = h @ np.concatenate([w.T, u], axis=1)                    # (N, K + K - 1)
    logits = proj[:, :K] + bias
    if s is None:
        nc1_value = float("nan")
        ncm = None
    else:
        z = proj[:, K:] - (means @ u)[y]                           # u_j^T (h_i - mu_{y_i})
        nc1_value = float(np.sum(np.sum(z**2, axis=0) / s**2) / N)
        # Nearest class mean: argmin_k ||h - mu_k||^2 = argmax_k h.nu_k - c.nu_k - ||nu_k||^2 / 2 with
        # nu_k = mu_k - c, c the mean of the class means; h.nu_k from the projections onto u.
        c = means.mean(axis=0)
        nu = means - c
        coef = nu @ u                                              # (K, K-1): nu_k in the basis u
        ncm = proj[:, K:] @ coef.T - (c @ nu.T + 0.5 * np.sum(nu**2, axis=1))
    if not np.all(np.isfinite(logits)):
        raise ValueError("features, W and b must give finite logits; they contain NaN or inf")
    if not np.any(centred):
        nc4_value = float("nan")                                  # all means equal: no nearest mean
    elif ncm is None:
        # Class means without K-1 dimensional spread: compare distances directly.
        nc4_value = nearest_mean_disagreements(h, logits, means) / N
    else:
        nc4_value = float(np.count_nonzero(np.argmax(logits, axis=1) != np.argmax(ncm, axis=1)) / N)
    return _metrics(w, counts, means, global_mean, nc1_value, nc4_value, allow_unbalanced)
