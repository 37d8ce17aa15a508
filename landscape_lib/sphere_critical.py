r"""Finding, de-duplicating and classifying the critical points of the ℓ4 objective on the sphere.

Chapter 2 needs *every* critical point of :math:`f(q) = -\tfrac14\|A^\top q\|_4^4` for small ``n``, not
only the minimizers that descent finds. :func:`find_critical_points` therefore collects the limits of
three solvers from many random starts:

* descent (the power iteration), attracted by local minimizers;
* ascent (Riemannian gradient ascent), attracted by local maximizers;
* Riemannian Newton's method on :math:`\operatorname{grad} f = 0`, attracted by critical points of every
  type, which is how the saddles are found;

polishes every limit with Newton steps to a gradient norm below ``tol``, merges ``q`` with ``-q`` (``f`` is
even) with :func:`landscape_lib.critical.deduplicate`, and classifies each point by the eigenvalues of its
tangent-space Hessian :math:`B^\top \operatorname{Hess} f(q) B` with
:func:`landscape_lib.critical.classify_eigenvalues`. Random starts can miss a critical point with a tiny
basin; the search is a numerical experiment, and the orthogonal case (closed form, ``book/formulas.md``) is the
test that it finds everything there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_rng, check_open_interval, check_positive
from .critical import CriticalType, classify_eigenvalues, deduplicate
from .generators import random_frame
from .objectives import _rgrad, _rhess, as_matrix
from .solvers import gradient_descent, newton, power_iteration
from .sphere import _tangent_hessian, as_points, random_points

__all__ = ["CriticalPoints", "find_critical_points", "classify_points", "nearest_column",
           "recovered_columns", "coverage", "RecoveryGrid", "recovery_grid"]

#: Order in which the types are listed (and points sorted).
TYPE_ORDER = (CriticalType.MINIMIZER, CriticalType.STRICT_SADDLE, CriticalType.MAXIMIZER,
              CriticalType.DEGENERATE)


@dataclass(frozen=True)
class CriticalPoints:
    """Critical points of ``f`` on the sphere, one representative per pair :math:`\\pm q`.

    Attributes
    ----------
    points : ndarray of shape (U, n)
        Representatives (largest-magnitude coordinate positive), sorted by type then value.
    values : ndarray of shape (U,)
        :math:`f` at the points.
    types : ndarray of shape (U,), dtype object
        :class:`~landscape_lib.critical.CriticalType` of each point.
    eigenvalues : ndarray of shape (U, n - 1)
        Eigenvalues of the tangent Hessian, ascending.
    grad_norms : ndarray of shape (U,)
        Riemannian gradient norms (all below the search's ``tol``).
    """

    points: np.ndarray
    values: np.ndarray
    types: np.ndarray
    eigenvalues: np.ndarray
    grad_norms: np.ndarray

    def counts(self, *, pairs: bool = False) -> dict:
        """Number of critical points per type, counting ``q`` and ``-q`` separately (``pairs=False``,
        the convention of the closed form: 6 minimizers, 12 saddles, 8 maximizers for ``A = I_3``) or
        once (``pairs=True``)."""
        factor = 1 if pairs else 2
        return {t: factor * int(np.sum(self.of_type(t))) for t in TYPE_ORDER}

    def of_type(self, kind: CriticalType) -> np.ndarray:
        """Boolean mask of the points of type ``kind``."""
        # Elementwise identity: numpy would compare a str-valued Enum against an object array as text.
        return np.array([t is kind for t in self.types], dtype=bool).reshape(self.types.shape)


def classify_points(A, q, *, eig_tol: float = 1e-6) -> CriticalPoints:
    """Classify given critical points by the eigenvalues of their tangent Hessian (no search, no sort).

    Parameters
    ----------
    A : array_like of shape (n, m)
    q : array_like of shape (U, n)
        Unit-norm (approximate) critical points.
    eig_tol : float, default 1e-6
        Eigenvalues with :math:`|\\lambda| \\le` ``eig_tol`` count as zero (type ``DEGENERATE``).

    Returns
    -------
    landscape_lib.sphere_critical.CriticalPoints
    """
    A = as_matrix(A)
    q = as_points(q, A.shape[0])
    if q.ndim != 2:
        raise ValueError(f"q must have shape (U, n); got {q.shape}")
    g, s, z = _rgrad(A, q)
    lam = np.linalg.eigvalsh(_tangent_hessian(q, _rhess(A, q)))
    values = -0.25 * s
    return CriticalPoints(q, values, classify_eigenvalues(lam, tol=eig_tol), lam, np.linalg.norm(g, axis=-1))


def find_critical_points(A, *, n_starts: int = 300, tol: float = 1e-10, dedup_tol: float = 1e-6,
                         eig_tol: float = 1e-6, rng=None) -> CriticalPoints:
    r"""Find (numerically) all critical points of :math:`f(q) = -\tfrac14\|A^\top q\|_4^4` on the sphere.

    Runs descent (power iteration), ascent (Riemannian gradient ascent, relative step 1/2) and Newton's
    method, each from ``n_starts`` random starts, polishes every converged limit with Newton steps, keeps
    the points with :math:`\|\operatorname{grad} f\| <` ``tol``, merges :math:`\pm q` and points closer than
    ``dedup_tol``, and classifies them (:func:`classify_points`). Cost grows like ``n_starts · n² m``: meant
    for small ``n`` (chapter 2 draws ``n = 3``).

    Parameters
    ----------
    A : array_like of shape (n, m)
    n_starts : int, default 300
        Random starts per solver.
    tol : float, default 1e-10
        Gradient norm below which a point counts as critical.
    dedup_tol : float, default 1e-6
        Distance below which two points (up to sign) are the same.
    eig_tol : float, default 1e-6
        Zero tolerance for the tangent Hessian eigenvalues.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    landscape_lib.sphere_critical.CriticalPoints
        Sorted by type (minimizers, saddles, maximizers, degenerate), then by value, then by coordinates.
    """
    A = as_matrix(A)
    check_positive(n_starts, "n_starts", integer=True)
    check_positive(tol, "tol")
    check_positive(dedup_tol, "dedup_tol")
    n = A.shape[0]
    starts = random_points(n, (3, n_starts), rng=rng)
    limits = [
        power_iteration(A, starts[0], tol=1e-6, max_iter=2000).points,
        gradient_descent(A, starts[1], step=0.5, ascent=True, tol=1e-6, max_iter=2000).points,
        newton(A, starts[2], tol=tol, max_iter=100).points,
    ]
    polished = newton(A, np.concatenate(limits), tol=tol, max_iter=20, max_step=0.05)
    found = polished.points[polished.converged]
    if found.shape[0] == 0:
        raise RuntimeError("no start converged to a critical point; increase n_starts")
    unique, _ = deduplicate(found, tol=dedup_tol, antipodal=True)
    crit = classify_points(A, unique, eig_tol=eig_tol)
    rank = np.array([TYPE_ORDER.index(t) for t in crit.types])
    order = np.lexsort(tuple(np.round(crit.points.T[::-1], 6)) + (np.round(crit.values, 9), rank))
    return CriticalPoints(crit.points[order], crit.values[order], crit.types[order], crit.eigenvalues[order],
                          crit.grad_norms[order])


def nearest_column(A, q):
    r"""The column closest to each point up to sign,
    :math:`i^\star = \arg\max_i |\langle a_i, q\rangle|/\|a_i\|`.

    Parameters
    ----------
    A : array_like of shape (n, m)
    q : array_like of shape (..., n)
        Unit vectors.

    Returns
    -------
    index : ndarray of shape (...), dtype int
        :math:`i^\star` per point.
    correlation : ndarray of shape (...)
        :math:`\max_i |\langle a_i, q\rangle| / \|a_i\|` in [0, 1]; 1 means ``q = ±a_i/‖a_i‖``.
    """
    A = as_matrix(A)
    q = as_points(q, A.shape[0])
    c = np.abs(q @ (A / np.linalg.norm(A, axis=0)))
    index = np.argmax(c, axis=-1)
    return index, np.take_along_axis(c, index[..., None], axis=-1)[..., 0]


def recovered_columns(A, q, *, threshold: float) -> np.ndarray:
    """Sorted indices of the distinct columns recovered by the points ``q`` (correlation ≥ ``threshold``).

    Parameters
    ----------
    A : array_like of shape (n, m)
    q : array_like of shape (N, n)
        Unit vectors (e.g. the limits of many starts).
    threshold : float
        Recovery criterion :math:`\\max_i |\\langle a_i, q\\rangle| \\ge` ``threshold``, in (0, 1).

    Returns
    -------
    ndarray of shape (R,), dtype int
    """
    threshold = check_open_interval(threshold, "threshold", 0.0, 1.0)
    index, corr = nearest_column(A, q)
    return np.unique(index[corr >= threshold])


def coverage(A, q, *, threshold: float) -> np.ndarray:
    """Number of distinct columns recovered by the first ``t`` points, for every ``t`` (chapter 2, §6).

    Parameters
    ----------
    A : array_like of shape (n, m)
    q : array_like of shape (N, n)
        Limits of independent starts, in the order they were made.
    threshold : float
        A point recovers its nearest column when the correlation is at least ``threshold``.

    Returns
    -------
    ndarray of shape (N,), dtype int
        Entry ``t - 1`` counts the columns recovered by points ``0 .. t-1``; all ``m`` columns have been
        recovered once it reaches ``m``.
    """
    threshold = check_open_interval(threshold, "threshold", 0.0, 1.0)
    index, corr = nearest_column(A, q)
    if index.ndim != 1:
        raise ValueError(f"q must have shape (N, n); got {np.shape(q)}")
    new = np.zeros(index.size, dtype=np.intp)
    hit = np.flatnonzero(corr >= threshold)
    _, first = np.unique(index[hit], return_index=True)  # first start that recovers each column
    new[hit[first]] = 1
    return np.cumsum(new)


@dataclass(frozen=True)
class RecoveryGrid:
    r"""Outcome of :func:`recovery_grid`: recovery from random starts over a grid of ``(n, m)``.

    Attributes
    ----------
    n_values : ndarray of shape (N,)
    m_values : ndarray of shape (M,)
    rate : ndarray of shape (M, N)
        Fraction of starts whose limit has :math:`\max_i|\langle a_i, q\rangle| \ge` ``threshold``;
        NaN where ``(n, m)`` is outside the measured range.
    converged : ndarray of shape (M, N)
        Fraction of starts that met the solver's stopping rule within ``max_iter``.
    correlations : dict of (int, int) to ndarray of shape (frames * starts,)
        :math:`\max_i|\langle a_i, q\rangle|` at every limit, per measured ``(n, m)``.
    baseline : dict of (int, int) to ndarray of shape (frames * starts,)
        The same statistic at uniformly random points (no solver), on the same matrices: how often the
        criterion would call a point that no solver attracted a success.
    threshold : float
    """

    n_values: np.ndarray
    m_values: np.ndarray
    rate: np.ndarray
    converged: np.ndarray
    correlations: dict
    baseline: dict
    threshold: float

    def rate_at(self, threshold: float, *, baseline: bool = False) -> np.ndarray:
        """The rate grid recomputed for another ``threshold`` from the stored correlations (of the random
        points instead with ``baseline=True``: the false-positive rate of the criterion)."""
        threshold = check_open_interval(threshold, "threshold", 0.0, 1.0)
        out = np.full_like(self.rate, np.nan)
        for (n, m), c in (self.baseline if baseline else self.correlations).items():
            out[list(self.m_values).index(m), list(self.n_values).index(n)] = np.mean(c >= threshold)
        return out


def recovery_grid(n_values, m_values, *, threshold: float, frames: int = 3, starts: int = 32,
                  max_m_factor: float = 2.0, tol: float = 1e-6, max_iter: int = 1000, rng=None) -> RecoveryGrid:
    r"""Measure how often a random start of the power iteration recovers a column, over ``(n, m)``.

    For each ``n`` and each ``m`` with :math:`n \le m \le` ``max_m_factor`` :math:`n^2`: draw ``frames``
    matrices of random unit columns (:func:`landscape_lib.generators.random_frame`), run the power
    iteration from ``starts`` uniform random starts on each, and count a start as a success when its limit
    has :math:`\max_i |\langle a_i, q\rangle| \ge` ``threshold`` (chapter 2, section 5).

    Parameters
    ----------
    n_values, m_values : sequence of int
        Grids of dimensions and numbers of columns (one ``m`` grid shared by all ``n``).
    threshold : float
        Recovery criterion, in (0, 1).
    frames, starts : int
        Random matrices per cell and random starts per matrix.
    max_m_factor : float, default 2.0
        Largest measured ``m`` as a multiple of :math:`n^2`.
    tol, max_iter
        Stopping rule of :func:`landscape_lib.solvers.power_iteration`.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    RecoveryGrid
    """
    threshold = check_open_interval(threshold, "threshold", 0.0, 1.0)
    check_positive(frames, "frames", integer=True)
    check_positive(starts, "starts", integer=True)
    check_positive(max_m_factor, "max_m_factor")
    gen = as_rng(rng)
    ns = np.asarray(n_values, dtype=int)
    ms = np.asarray(m_values, dtype=int)
    rate = np.full((ms.size, ns.size), np.nan)
    conv = np.full((ms.size, ns.size), np.nan)
    corr, base = {}, {}
    for j, n in enumerate(ns):
        for i, m in enumerate(ms):
            if not n <= m <= max_m_factor * n * n:
                continue
            c, b, ok = [], [], []
            for _ in range(frames):
                A = random_frame(int(n), int(m), rng=gen)
                q0 = random_points(int(n), (2, starts), rng=gen)
                res = power_iteration(A, q0[0], tol=tol, max_iter=max_iter)
                c.append(nearest_column(A, res.points)[1])
                b.append(nearest_column(A, q0[1])[1])
                ok.append(res.converged)
            corr[(int(n), int(m))] = np.concatenate(c)
            base[(int(n), int(m))] = np.concatenate(b)
            rate[i, j] = np.mean(corr[(int(n), int(m))] >= threshold)
            conv[i, j] = np.mean(np.concatenate(ok))
    return RecoveryGrid(ns, ms, rate, conv, corr, base, threshold)
