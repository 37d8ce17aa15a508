r"""The simplex equiangular tight frame (ETF): its Gram matrix, its vectors, and the distance of a Gram matrix
from it.

The simplex ETF is the geometry of the class means and of the classifier at neural collapse (chapter 4;
the fixed classifier of chapter 7): ``K`` unit vectors with pairwise inner products :math:`-1/(K-1)`, the
most spread-out ``K`` equal-length vectors there are. Their Gram matrix is

.. math:: G_{\mathrm{ETF}} = \frac{K}{K-1}\Big(I_K - \frac1K \mathbf 1 \mathbf 1^\top\Big),

a multiple of the centring projection :math:`I_K - \frac1K \mathbf 1 \mathbf 1^\top`: the vectors sum to
zero and span ``K - 1`` dimensions. :func:`etf_distance` measures how far a Gram matrix is from this
pattern; the NC2 and NC3 metrics of :mod:`landscape_lib.collapse` are that distance.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_float_array, as_rng, check_scalar

__all__ = ["etf_gram", "simplex_etf", "etf_distance"]


def _centring(K: int) -> np.ndarray:
    """The centring projection ``I - 1 1^T / K``, shape (K, K): the one formula behind every ETF here."""
    return np.eye(K) - 1.0 / K


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
    K = check_scalar(K, "K", integer=True, low=2)
    return (K / (K - 1)) * _centring(K)


def simplex_etf(K: int, d: int | None = None, *, rng=None) -> np.ndarray:
    r"""The ``K`` unit vectors of a simplex equiangular tight frame in :math:`\mathbb{R}^d` (rows).

    The rows :math:`m_k` satisfy :math:`\|m_k\| = 1`, :math:`\langle m_j, m_k\rangle = -1/(K-1)` for
    :math:`j \ne k` and :math:`\sum_k m_k = 0`: the Gram matrix is :func:`etf_gram`. It is the geometry of
    the class means and of the classifier at neural collapse (chapter 4), and the fixed classifier of
    chapter 7 (:func:`landscape_lib.nets.etf_classifier_weight`).

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
    K = check_scalar(K, "K", integer=True, low=2)
    d = K if d is None else check_scalar(d, "d", integer=True, low=K - 1)
    base = np.sqrt(K / (K - 1)) * _centring(K)                     # rows in R^K, inside 1^perp
    if rng is None and d >= K:
        out = np.zeros((K, d))
        out[:, :K] = base
        return out
    coords = base @ _complement_of_ones(K)                          # (K, K-1), same Gram
    if rng is None:
        return coords
    q, r = np.linalg.qr(as_rng(rng).standard_normal((d, K - 1)))
    q = q * np.sign(np.diag(r))                                     # Haar on the Stiefel manifold
    return coords @ q.T


def _complement_of_ones(K: int) -> np.ndarray:
    """Orthonormal basis, shape (K, K-1), of the hyperplane orthogonal to the all-ones vector."""
    q, _ = np.linalg.qr(np.column_stack([np.ones(K), np.eye(K)[:, : K - 1]]))
    return q[:, 1:]


def etf_distance(gram) -> float:
    r"""Distance of a Gram matrix from the simplex ETF, after normalisation.

    .. math:: \Big\| \frac{G}{\|G\|_F} - \frac{I - \frac1K \mathbf 1 \mathbf 1^\top}{\sqrt{K-1}} \Big\|_F

    (the second term is :func:`etf_gram` normalised to unit Frobenius norm). NC2 and NC3 in
    :mod:`landscape_lib.collapse` are this distance for :math:`G = WW^\top`, :math:`\bar H^\top \bar H` and
    :math:`W\bar H`.

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
    return float(np.linalg.norm(g / norm - _centring(K) / np.sqrt(K - 1)))
