r"""Class statistics of features: counts, class means, the global mean, :math:`\Sigma_W` and :math:`\Sigma_B`,
one-shot or accumulated over batches (chapter 4; the training loop of chapters 5–7).

Notation (book/notation.md): ``K`` classes, ``N`` samples, features :math:`h_i \in \mathbb{R}^d` with labels
:math:`y_i \in \{0, \dots, K-1\}`, class means :math:`\mu_k`, global mean :math:`\mu_G` (the mean of all
samples), centred means :math:`\bar H = [\mu_1 - \mu_G, \dots, \mu_K - \mu_G] \in \mathbb{R}^{d \times K}`,

.. math::

    \Sigma_W = \frac1N \sum_i (h_i - \mu_{y_i})(h_i - \mu_{y_i})^\top, \qquad
    \Sigma_B = \frac1K \sum_k (\mu_k - \mu_G)(\mu_k - \mu_G)^\top = \frac1K \bar H \bar H^\top .

Inputs may be numpy arrays or torch tensors on any device (detected duck-typed; torch is never imported
by this module, it is looked up in ``sys.modules`` once a tensor has been passed). Everything is computed
in float64: a one-pass second-moment accumulation in float32 cancels catastrophically exactly when the
within-class spread goes to 0 (NC1), so the accumulator centres every batch on its own class means and
merges batches with Chan et al.'s pairwise update. :func:`class_statistics` is the accumulator fed once,
so the one-shot and the streaming statistics are the same computation.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from ._validation import as_float_array, check_scalar

__all__ = ["ClassStatistics", "class_statistics", "StreamingClassStatistics", "centred_means"]


# ----------------------------------------------------------------------------------------------------
# Input handling: numpy arrays and torch tensors (shared with landscape_lib.collapse)
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
    """Labels as a host (N,) integer array, checked against ``num_classes`` and the number of rows ``n``."""
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


def _check_bool(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r} of type {type(value).__name__}")
    return bool(value)


def _check_num_classes(num_classes) -> int:
    return check_scalar(num_classes, "num_classes", integer=True, low=2)


def _check_counts(counts: np.ndarray) -> None:
    """Raise unless every class has a sample (a class mean needs one)."""
    missing = np.flatnonzero(counts == 0)
    if missing.size:
        raise ValueError(f"class(es) {missing.tolist()} have no samples: their class means are undefined "
                         f"(counts {counts.tolist()})")


def _class_means(h: np.ndarray, y: np.ndarray, num_classes: int) -> np.ndarray:
    """Class means of checked features ``h`` (N, d) and labels ``y`` (N,), shape (K, d), by additions only.

    :math:`O(Nd)`, where the one-hot product of :class:`StreamingClassStatistics` costs :math:`O(NdK)`: for
    callers that need the means alone (the first pass of :func:`landscape_lib.collapse.collapse_metrics`).
    """
    counts = np.bincount(y, minlength=num_classes)
    _check_counts(counts)
    if np.all(y[1:] >= y[:-1]):                                    # sorted labels: contiguous blocks
        ends = np.cumsum(counts)
        sums = np.stack([h[e - c: e].sum(axis=0) for c, e in zip(counts, ends, strict=True)])
    else:
        from scipy.sparse import csr_matrix

        # A (N, K) indicator in CSR form: its transpose adds each row of h once into its class (N d additions).
        indicator = csr_matrix((np.ones(y.shape[0]), y, np.arange(y.shape[0] + 1)), shape=(y.shape[0], num_classes))
        sums = np.asarray(indicator.T @ h)
    means = sums / counts[:, None]
    if not np.all(np.isfinite(means)):
        raise ValueError("features must be finite; they contain NaN or inf")
    return means


# ----------------------------------------------------------------------------------------------------
# The statistics: one-shot and streaming
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


def _check_stats(stats) -> ClassStatistics:
    """Raise unless ``stats`` is a :class:`ClassStatistics` (the metrics of :mod:`landscape_lib.collapse`)."""
    if not isinstance(stats, ClassStatistics):
        raise ValueError(f"stats must be a ClassStatistics (from class_statistics or "
                         f"StreamingClassStatistics.result()); got {type(stats).__name__}")
    return stats


def centred_means(stats: ClassStatistics) -> np.ndarray:
    r"""The centred class means :math:`\bar H^\top`, rows :math:`\mu_k - \mu_G`.

    Parameters
    ----------
    stats : ClassStatistics

    Returns
    -------
    ndarray of shape (K, d)
    """
    stats = _check_stats(stats)
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
    defer_checks : bool, default False
        For torch batches: count labels out of range and non-finite features on the device and raise in
        :meth:`result` instead of in :meth:`update`, so that an evaluation loop on a GPU never waits for the
        host inside the loop (the training loop of chapters 5–7 uses it). Numpy batches are always checked
        at once.

    Notes
    -----
    ``update`` accepts numpy arrays or torch tensors (any device, any float dtype). With tensors the running
    sums stay on the tensors' device in float64 (on a device without float64, e.g. Apple MPS, they are kept
    on the host), so a GPU evaluation loop does no per-batch host transfer beyond one small validity check
    (none with ``defer_checks``). Cost per batch of ``B`` samples: :math:`O(B d^2 + B d K)`.

    Examples
    --------
    >>> acc = StreamingClassStatistics(3, 2)
    >>> acc.update(np.array([[0., 1.], [2., 1.], [5., 5.]]), np.array([0, 0, 1]))
    >>> acc.update(np.array([[1., -1.]]), np.array([2]))
    >>> acc.result().counts.tolist()
    [2, 1, 1]
    """

    def __init__(self, num_classes: int, feature_dim: int, *, defer_checks: bool = False):
        self.num_classes = _check_num_classes(num_classes)
        self.feature_dim = check_scalar(feature_dim, "feature_dim", integer=True, low=1)
        self.defer_checks = _check_bool(defer_checks, "defer_checks")
        self._torch = None        # the torch module when the state lives in tensors
        self._device = None
        self._count = None        # (K,) float64
        self._mean = None         # (K, d)
        self._scatter = None      # (d, d)
        self._invalid = None      # deferred checks: [labels out of range, non-finite entries] on the device

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
        nonfinite = (~torch.isfinite(x)).sum()
        if self.defer_checks:
            # Counted on the device and raised by result(); clamped labels keep the indexing below in bounds.
            found = torch.stack([((y < 0) | (y >= self.num_classes)).sum(), nonfinite])
            self._invalid = found if self._invalid is None else self._invalid + found.to(self._invalid.device)
            y = y.clamp(0, self.num_classes - 1)
        else:
            # One host synchronisation per batch for all checks together.
            lo, hi, bad = torch.stack([y.min(), y.max(), nonfinite]).tolist()
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
        if self._invalid is not None:
            out_of_range, nonfinite = (int(v) for v in self._invalid.tolist())
            if out_of_range:
                raise ValueError(f"labels must lie in 0..{self.num_classes - 1}; {out_of_range} of the labels "
                                 "fed were outside it")
            if nonfinite:
                raise ValueError(f"features must be finite; the batches fed contained {nonfinite} NaN or inf "
                                 "entries")
        count, mean, scatter = (_to_numpy(a) for a in (self._count, self._mean, self._scatter))
        return _assemble(np.rint(count).astype(np.int64), np.array(mean), np.array(scatter))


def _assemble(counts: np.ndarray, means: np.ndarray, scatter: np.ndarray) -> ClassStatistics:
    """:class:`ClassStatistics` from counts (K,), class means (K, d) and the within-class scatter (d, d).

    The one place the statistics are assembled, for the accumulator and for
    :func:`_scatter_given_means`.
    """
    _check_counts(counts)
    N = counts.sum()
    global_mean = (counts @ means) / N
    centred = means - global_mean
    within = scatter / N
    within = 0.5 * (within + within.T)
    between = centred.T @ centred / counts.shape[0]
    return ClassStatistics(counts=counts, class_means=means, global_mean=global_mean,
                           within_cov=within, between_cov=between)


def _scatter_given_means(features_t: np.ndarray, labels: np.ndarray, class_means_t: np.ndarray) -> np.ndarray:
    """Within-class scatter, shape (d, d), of checked features stored *transposed*, shape (d, B), whose class
    means, stored as columns (d, K), are already known. Overwrites ``features_t`` with the centred features.

    For :func:`landscape_lib.collapse.collapse_metrics`, which projects the features block by block into this
    layout and knows their means from a first pass: every column is centred on its class mean before the
    scatter is formed (no cancellation against a large common mean), and the means are not computed again.
    Summed over blocks and passed to :func:`_assemble` with the means, it gives :func:`class_statistics` of
    the features up to round-off.
    """
    features_t -= np.take(class_means_t, labels, axis=1)
    return features_t @ features_t.T


def class_statistics(features, labels, num_classes: int) -> ClassStatistics:
    r"""Class counts, means, global mean, :math:`\Sigma_W` and :math:`\Sigma_B` in one shot.

    The :class:`StreamingClassStatistics` accumulator fed with one batch: two passes in float64 (class means
    first, then the scatter of the centred features), so a large common mean does not cancel a small
    within-class spread. Cost :math:`O(N d^2)` for :math:`\Sigma_W`; :func:`landscape_lib.collapse.collapse_metrics`
    needs it only in the at most ``2K - 1`` dimensions the metrics see (:math:`O(N d K)`).

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
