"""Classifying critical points by their Hessian eigenvalues, and de-duplicating them.

Shared by chapter 1 (critical points in the plane) and chapter 2 (critical points on the sphere, where the
eigenvalues are those of the tangent-space Hessian and ``q`` and ``-q`` are the same point of the
landscape of an even function).
"""

from __future__ import annotations

from enum import Enum

import numpy as np

from ._validation import as_float_array, check_positive


class CriticalType(str, Enum):
    """Type of a critical point, decided by the eigenvalues ``λ_1 ≤ … ≤ λ_d`` of its Hessian.

    * ``MINIMIZER``: ``λ_1 > tol`` (strict local minimizer);
    * ``MAXIMIZER``: ``λ_d < -tol`` (strict local maximizer);
    * ``STRICT_SADDLE``: ``λ_1 < -tol`` and not a maximizer — negative curvature is what counts, so
      ``λ_1 < 0 = λ_d`` is a strict saddle too;
    * ``DEGENERATE``: otherwise (some ``|λ| ≤ tol`` and none ``< -tol``), where second-order information
      cannot decide (e.g. the monkey saddle ``x³ − 3xy²`` at the origin, or ``x⁴ − y⁴``).
    """

    MINIMIZER = "minimizer"
    STRICT_SADDLE = "strict saddle"
    MAXIMIZER = "maximizer"
    DEGENERATE = "degenerate"


def classify_eigenvalues(eigenvalues, *, tol: float = 1e-8) -> np.ndarray:
    r"""Classify critical points from their Hessian eigenvalues.

    Parameters
    ----------
    eigenvalues : array_like of shape (..., d)
        Hessian eigenvalues of each point (any order), batched over leading axes.
    tol : float, default 1e-8
        An eigenvalue with :math:`|\lambda| \le` ``tol`` counts as zero.

    Returns
    -------
    types : ndarray of shape (...,), dtype object
        One :class:`CriticalType` per point.

    Notes
    -----
    With :math:`\lambda_1 \le \dots \le \lambda_d`: minimizer if :math:`\lambda_1 > tol`, maximizer if
    :math:`\lambda_d < -tol`, strict saddle if :math:`\lambda_1 < -tol` (and not a maximizer),
    degenerate otherwise. Used in chapters 1 and 2.
    """
    lam = as_float_array(eigenvalues, "eigenvalues", min_ndim=1)
    check_positive(tol, "tol", allow_zero=True)
    lo = lam.min(axis=-1)
    hi = lam.max(axis=-1)
    # Not np.full: numpy would turn the str-valued Enum into a (truncated) plain string.
    out = np.empty(lo.shape, dtype=object)
    out[...] = CriticalType.DEGENERATE
    out[lo < -tol] = CriticalType.STRICT_SADDLE
    out[hi < -tol] = CriticalType.MAXIMIZER
    out[lo > tol] = CriticalType.MINIMIZER
    return out


def deduplicate(points, *, tol: float = 1e-6, antipodal: bool = False):
    r"""Merge points that coincide within ``tol`` (and, optionally, up to sign).

    Parameters
    ----------
    points : array_like of shape (N, d)
        Candidate points, e.g. the limits of many runs of a solver.
    tol : float, default 1e-6
        Two points are the same when :math:`\|x - y\|_2 \le` ``tol``
        (or :math:`\min(\|x-y\|, \|x+y\|) \le` ``tol`` with ``antipodal=True``).
    antipodal : bool, default False
        Identify ``x`` with ``-x`` (even functions on the sphere, chapter 2). The representative is then
        chosen with its largest-magnitude coordinate positive.

    Returns
    -------
    unique : ndarray of shape (U, d)
        One representative per group (the first point met, sign-normalized if ``antipodal``).
    index : ndarray of shape (N,)
        ``index[j]`` is the row of ``unique`` that ``points[j]`` was merged into.
    """
    x = as_float_array(points, "points", ndim=2)
    check_positive(tol, "tol")
    if antipodal:
        x = x * _canonical_sign(x)[:, None]
    unique: list[np.ndarray] = []
    index = np.empty(x.shape[0], dtype=np.intp)
    # Greedy merge against the representatives found so far; U is small (the number of critical
    # points), so this is O(N U d) with one vectorized distance per point.
    reps = np.empty((0, x.shape[1]))
    for j, p in enumerate(x):
        if reps.shape[0]:
            dist = np.linalg.norm(reps - p, axis=1)
            if antipodal:
                dist = np.minimum(dist, np.linalg.norm(reps + p, axis=1))
            k = int(np.argmin(dist))
            if dist[k] <= tol:
                index[j] = k
                continue
        unique.append(p)
        reps = np.asarray(unique)
        index[j] = len(unique) - 1
    return reps, index


def _canonical_sign(x: np.ndarray) -> np.ndarray:
    """Sign that makes the first coordinate of largest magnitude (ties: first) of each row positive."""
    # Using the largest coordinate rather than the first nonzero one keeps the choice stable under
    # round-off for points with (near-)zero leading coordinates.
    k = np.argmax(np.abs(x) > np.abs(x).max(axis=1, keepdims=True) - 1e-9, axis=1)
    s = np.sign(x[np.arange(x.shape[0]), k])
    s[s == 0] = 1.0
    return s
