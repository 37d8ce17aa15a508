"""Classifying critical points by their Hessian eigenvalues, and de-duplicating them.

Shared by chapter 1 (critical points in the plane) and chapter 2 (critical points on the sphere, where the
eigenvalues are those of the tangent-space Hessian and ``q`` and ``-q`` are the same point of the
landscape of an even function).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from ._validation import as_float_array, check_positive, check_scalar


class CriticalType(str, Enum):
    """Type of a critical point, decided by the eigenvalues ``λ_1 ≤ … ≤ λ_n`` of its Hessian.

    * ``MINIMIZER``: ``λ_1 > tol`` (strict local minimizer);
    * ``MAXIMIZER``: ``λ_n < -tol`` (strict local maximizer);
    * ``STRICT_SADDLE``: ``λ_1 < -tol`` and not a maximizer — negative curvature is what counts, so
      ``λ_1 < 0 = λ_n`` is a strict saddle too;
    * ``DEGENERATE``: otherwise (some ``|λ| ≤ tol`` and none ``< -tol``), where second-order information
      cannot decide (e.g. the monkey saddle ``x³ − 3xy²`` at the origin, or ``x⁴ − y⁴``).
    """

    MINIMIZER = "minimizer"
    STRICT_SADDLE = "strict saddle"
    MAXIMIZER = "maximizer"
    DEGENERATE = "degenerate"


#: The one order of the critical types: every table, count and figure lists them this way.
TYPE_ORDER = (CriticalType.MINIMIZER, CriticalType.STRICT_SADDLE, CriticalType.MAXIMIZER, CriticalType.DEGENERATE)


@dataclass(frozen=True)
class CriticalPoints:
    r"""Distinct critical points with their classification: the one result type of every search.

    Used for the plane (chapter 1, :func:`landscape_lib.euclidean.find_critical_points`) and for the
    sphere (chapters 2–3, where the eigenvalues are those of the tangent Hessian and, for an even
    objective, :math:`q` and :math:`-q` are one point: ``antipodal=True``). Built by :func:`collect`.

    Attributes
    ----------
    points : ndarray of shape (U, d)
        One representative per distinct critical point (with ``antipodal``: its largest-magnitude
        coordinate positive), sorted by type in :data:`TYPE_ORDER`, then by value, then by coordinates.
    values : ndarray of shape (U,)
        The objective at the points.
    eigenvalues : ndarray of shape (U, k)
        Hessian eigenvalues at each point, ascending (``k = d`` in the plane, ``n - 1`` on the sphere).
    types : ndarray of shape (U,), dtype object
        :class:`CriticalType` of each point, from :func:`classify_eigenvalues` with tolerance ``eig_tol``.
    grad_norms : ndarray of shape (U,)
        Gradient norms at the points (Riemannian on the sphere).
    eig_tol : float
        Eigenvalues with :math:`|\lambda| \le` ``eig_tol`` count as zero (absolute; on the sphere the relative
        tolerance of the search times ``scale``).
    antipodal : bool
        Whether ``q`` and ``-q`` are identified (each row then stands for two points).
    hits : ndarray of shape (U,) or None
        How many starts of the search ended at each point (None when the points were given, not found).
    n_starts, n_converged : int or None
        Starts of the search, and how many of them converged (None when the points were given).
    scale : float
        The unit of ``values`` and ``eigenvalues``: the objective's scale :math:`\varsigma` on the sphere
        (:func:`landscape_lib.solvers.objective_scale`), 1 in the plane. Values are sorted after division by it,
        so that the order does not depend on the scale.
    """

    points: np.ndarray
    values: np.ndarray
    eigenvalues: np.ndarray
    types: np.ndarray
    grad_norms: np.ndarray
    eig_tol: float
    antipodal: bool = False
    hits: np.ndarray | None = None
    n_starts: int | None = None
    n_converged: int | None = None
    scale: float = 1.0

    def of_type(self, kind: CriticalType) -> np.ndarray:
        """Boolean mask of shape (U,) of the points of type ``kind``."""
        kind = CriticalType(kind)
        # Elementwise identity: numpy would compare a str-valued Enum against an object array as text.
        return np.array([t is kind for t in self.types], dtype=bool).reshape(self.types.shape)

    def counts(self, *, pairs: bool = False) -> dict:
        """Number of critical points per type, in :data:`TYPE_ORDER`.

        With ``antipodal`` each row stands for ``q`` and ``-q``: they are counted separately (the
        convention of the closed forms, e.g. 6 minimizers, 12 saddles, 8 maximizers for ``A = I_3``) unless
        ``pairs=True``.
        """
        factor = 2 if self.antipodal and not pairs else 1
        return {t: factor * int(np.sum(self.of_type(t))) for t in TYPE_ORDER}

    def count(self, kind: CriticalType, *, pairs: bool = False) -> int:
        """Number of critical points of type ``kind`` (see :meth:`counts`)."""
        return self.counts(pairs=pairs)[CriticalType(kind)]


def collect(points, values, eigenvalues, *, eig_tol: float, grad_norms=None, antipodal: bool = False,
            hits=None, n_starts: int | None = None, n_converged: int | None = None,
            scale: float = 1.0) -> CriticalPoints:
    """Classify distinct critical points and sort them into a :class:`CriticalPoints`.

    Parameters
    ----------
    points : array_like of shape (U, d)
        Distinct critical points (e.g. the ``unique`` of :func:`deduplicate`).
    values : array_like of shape (U,)
    eigenvalues : array_like of shape (U, k)
        Hessian eigenvalues at each point (any order; stored ascending).
    eig_tol : float
        Tolerance of :func:`classify_eigenvalues`.
    grad_norms : array_like of shape (U,), optional
        Gradient norms at the points (default: NaN, unknown).
    antipodal : bool, default False
    hits : array_like of shape (U,), optional
        Starts per point.
    n_starts, n_converged : int, optional
    scale : float, default 1.0
        The unit of the values (the objective's scale on the sphere): values tied to 12 digits relative to it
        sort by coordinates.

    Returns
    -------
    CriticalPoints
        Sorted by type (:data:`TYPE_ORDER`), then value, then coordinates.
    """
    x = as_float_array(points, "points", ndim=2, allow_empty=True)
    u = x.shape[0]
    f = as_float_array(values, "values", ndim=1, allow_empty=True)
    lam = as_float_array(eigenvalues, "eigenvalues", ndim=2, allow_empty=True)
    if lam.shape[0] != u or f.shape[0] != u:
        raise ValueError(f"values and eigenvalues must have one row per point ({u}); "
                         f"got shapes {f.shape} and {lam.shape}")
    eig_tol = check_scalar(eig_tol, "eig_tol", low=0)
    scale = check_scalar(scale, "scale", low=0, low_inclusive=False)
    g = np.full(u, np.nan) if grad_norms is None else np.asarray(grad_norms, dtype=float).reshape(u)
    h = None if hits is None else np.asarray(hits, dtype=np.int64).reshape(u)
    lam = np.sort(lam, axis=1)
    types = np.empty(u, dtype=object)
    if u:
        types[:] = list(classify_eigenvalues(lam, tol=eig_tol))
    rank = np.array([TYPE_ORDER.index(t) for t in types], dtype=np.int64)
    # Keys for lexsort, last one primary: coordinates (rounded, so that round-off does not reorder ties),
    # then the value in units of the scale (rounded absolutely, every value of 1e-3 A would tie at 0), then the type.
    keys = tuple(np.round(x[:, j], 9) for j in reversed(range(x.shape[1]))) + (np.round(f / scale, 12), rank)
    order = np.lexsort(keys) if u else np.arange(0)
    return CriticalPoints(
        points=x[order], values=f[order], eigenvalues=lam[order], types=types[order], grad_norms=g[order],
        eig_tol=float(eig_tol), antipodal=bool(antipodal), hits=None if h is None else h[order],
        n_starts=None if n_starts is None else check_scalar(n_starts, "n_starts", integer=True, low=0),
        n_converged=None if n_converged is None else check_scalar(n_converged, "n_converged", integer=True, low=0),
        scale=float(scale),
    )


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
