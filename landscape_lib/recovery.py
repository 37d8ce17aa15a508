r"""Recovering the columns of ``A`` from points of the sphere (chapters 2 and 3).

A point ``q`` (a solver's limit, an estimated column) *recovers* the column :math:`a_i` when their cosine
is at least a threshold,

.. math::

    \frac{|\langle a_i, q\rangle|}{\|a_i\|_2} \ge \text{threshold}, \qquad \text{threshold} \in (0, 1],

i.e. :math:`\min\|q \mp a_i/\|a_i\|\|_2 \le \sqrt{2 - 2\,\text{threshold}}` (``book/formulas.md``). One
convention for every function here: the matrix of columns ``A`` of shape ``(n, m)`` comes first, then the
points, of shape ``(..., n)`` (one point per row, unit norm), and ``threshold`` is a keyword.

* :func:`nearest_column`, :func:`recovered_columns`, :func:`coverage`, :func:`first_recovery`: which
  columns given points recover, and in which order;
* :func:`match_columns`: estimated columns against the true ones up to a signed permutation;
* :func:`recover_dictionary`: the whole dictionary from independent random starts of the power iteration on
  an objective (the data objective in chapter 3);
* :func:`recovery_grid`: how often a random start recovers a column, over a grid of ``(n, m)``, for the
  tensor objective (chapter 2) or the data objective of samples from each frame; :func:`rates_at_cells`
  reads such a grid's rate at given cells and thresholds (to set it beside a stored measurement), and
  :func:`format_rate` prints one rate, ``-`` where it was not measured;
* :func:`probe_columns`: whether an objective has a minimizer next to given columns (descent and Newton
  started *at* each column, then the tangent-Hessian eigenvalues at the critical point Newton finds);
* :func:`sample_grid`: the ``(p, m)`` phase diagram of chapter 3 at fixed ``n``: the plain and the cumulant
  data objectives and the tensor objective, with one solver call and one stopping rule for all three.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from ._validation import as_rng, check_positive, check_scalar
from .critical import deduplicate
from .dictionary import sample_data
from .generators import random_frame
from .objectives import CumulantObjective, DataObjective, L4Objective, TensorObjective, as_matrix
from .solvers import gradient_descent, newton, power_iteration
from .sphere import as_points, random_points

__all__ = ["nearest_column", "recovered_columns", "coverage", "first_recovery", "ColumnMatch", "match_columns",
           "DictionaryRecovery", "recover_dictionary", "RecoveryGrid", "recovery_grid", "rates_at_cells", "format_rate",
           "ColumnProbe", "probe_columns", "SampleGrid", "sample_grid"]


def _threshold(threshold) -> float:
    return check_scalar(threshold, "threshold", low=0.0, high=1.0, low_inclusive=False)


def _cosines(A, points, *, rows: bool = False):
    """Signed cosines :math:`\\langle a_i, q\\rangle/\\|a_i\\|` of shape (..., m), after validating both."""
    A = as_matrix(A)
    q = as_points(points, A.shape[0], name="points")
    if rows and q.ndim != 2:
        raise ValueError(f"points must have shape (N, n), one point per row; got {q.shape}")
    return q @ (A / np.linalg.norm(A, axis=0))


def nearest_column(A, points):
    r"""The column closest to each point up to sign, :math:`i^\star = \arg\max_i |\langle a_i, q\rangle|/\|a_i\|`.

    Parameters
    ----------
    A : array_like of shape (n, m)
        Nonzero columns (their scale does not matter).
    points : array_like of shape (..., n)
        Unit vectors.

    Returns
    -------
    index : ndarray of shape (...), dtype int
        :math:`i^\star` per point.
    correlation : ndarray of shape (...)
        :math:`\max_i |\langle a_i, q\rangle| / \|a_i\|` in [0, 1]; 1 means ``q = ±a_i/‖a_i‖``.
    """
    c = np.abs(_cosines(A, points))
    index = np.argmax(c, axis=-1)
    return index, np.take_along_axis(c, index[..., None], axis=-1)[..., 0]


def recovered_columns(A, points, *, threshold: float) -> np.ndarray:
    """Sorted indices of the distinct columns the points recover.

    Parameters
    ----------
    A : array_like of shape (n, m)
    points : array_like of shape (..., n)
        Unit vectors (e.g. the limits of many starts).
    threshold : float
        In (0, 1]: a point recovers its nearest column when their cosine is at least ``threshold``.

    Returns
    -------
    ndarray of shape (n_recovered,), dtype int
    """
    threshold = _threshold(threshold)
    index, corr = nearest_column(A, points)
    return np.unique(index[corr >= threshold])


def coverage(A, points, *, threshold: float) -> np.ndarray:
    """Number of distinct columns recovered by the first ``t`` points, for every ``t`` (chapter 2, §6).

    Parameters
    ----------
    A : array_like of shape (n, m)
    points : array_like of shape (n_points, n)
        Limits of independent starts, in the order they were made.
    threshold : float
        In (0, 1]: a point recovers its nearest column when their cosine is at least ``threshold``.

    Returns
    -------
    ndarray of shape (n_points,), dtype int
        Entry ``t - 1`` counts the columns recovered by points ``0 .. t-1``; all ``m`` columns have been
        recovered once it reaches ``m``.
    """
    threshold = _threshold(threshold)
    index, corr = nearest_column(A, points)
    if index.ndim != 1:
        raise ValueError(f"points must have shape (N, n), one point per row; got {np.shape(points)}")
    new = np.zeros(index.size, dtype=np.intp)
    hit = np.flatnonzero(corr >= threshold)
    _, first = np.unique(index[hit], return_index=True)  # first point that recovers each column
    new[hit[first]] = 1
    return np.cumsum(new)


def first_recovery(A, points, *, threshold: float) -> np.ndarray:
    r"""For each column, the first point (in order) that recovers it (chapter 3, section 3).

    Parameters
    ----------
    A : array_like of shape (n, m)
    points : array_like of shape (n_points, n)
        Limits of ``n_points`` independent runs, in the order they were made.
    threshold : float
        In (0, 1]: point ``q`` recovers :math:`a_i` when :math:`|\langle a_i, q\rangle|/\|a_i\| \ge`
        ``threshold`` (not only the nearest column: a point between two coherent columns can recover both).

    Returns
    -------
    first : ndarray of shape (m,)
        Index of the first point that recovers each column, ``-1`` if none does. The number of runs needed
        to recover the whole dictionary is ``first.max() + 1`` when no entry is ``-1``.
    """
    threshold = _threshold(threshold)
    hit = np.abs(_cosines(A, points, rows=True)) >= threshold  # (N, m)
    return np.where(hit.any(axis=0), np.argmax(hit, axis=0), -1)


@dataclass(frozen=True)
class ColumnMatch:
    r"""Best matching of estimated columns to the true ones up to sign and permutation (chapter 3).

    Attributes
    ----------
    estimate_index : ndarray of shape (m,)
        For each true column ``a_i`` the index of the estimate (row of ``points``) matched to it (``-1``:
        none, when there are fewer estimates than columns).
    signs : ndarray of shape (m,)
        The sign ``signs[i]`` :math:`= \pm 1` with ``signs[i]`` :math:`\hat a_{j(i)} \approx a_i`, where
        :math:`j(i)` = ``estimate_index[i]`` (0 where unmatched).
    correlations : ndarray of shape (m,)
        :math:`|\langle \hat a_{j(i)}, a_i\rangle|/\|a_i\|` (0 where unmatched).
    errors : ndarray of shape (m,)
        :math:`\|\pm\hat a_{j(i)} - a_i/\|a_i\|\|_2 = \sqrt{2 - 2\,\text{correlation}}`, sign ``signs[i]``
        (``nan`` where unmatched).
    threshold : float
        Correlation at or above which a column counts as recovered.
    """

    estimate_index: np.ndarray
    signs: np.ndarray
    correlations: np.ndarray
    errors: np.ndarray
    threshold: float

    @property
    def recovered(self) -> np.ndarray:
        """Boolean mask of shape (m,): matched with correlation ``>= threshold``."""
        return self.correlations >= self.threshold

    @property
    def n_recovered(self) -> int:
        return int(self.recovered.sum())

    @property
    def max_error(self) -> float:
        """Largest column error (``inf`` if some column is unmatched)."""
        e = self.errors
        return float(np.inf) if np.any(np.isnan(e)) else float(e.max())

    @property
    def relative_error(self) -> float:
        r""":math:`\|\hat A \Pi_\pm - A\|_F / \|A\|_F` for unit columns, :math:`\Pi_\pm` the matching signed
        permutation (``inf`` if some column is unmatched)."""
        e = self.errors
        return float(np.inf) if np.any(np.isnan(e)) else float(np.sqrt(np.sum(e**2) / e.size))


def match_columns(A, points, *, threshold: float) -> ColumnMatch:
    r"""Match estimated columns to the true ones as a signed permutation (chapter 3).

    Parameters
    ----------
    A : array_like of shape (n, m)
        True dictionary (nonzero columns; compared by direction).
    points : array_like of shape (n_estimates, n)
        Estimated columns, one unit vector per row, any order and signs; ``n_estimates`` may differ from ``m``: the
        distinct limits of :func:`recover_dictionary` (``DictionaryRecovery.columns.T``), or MSP's ``W``
        (its rows estimate the columns).
    threshold : float
        In (0, 1]: correlation at which a matched column counts as recovered (reported, not used in the
        matching).

    Returns
    -------
    ColumnMatch

    Notes
    -----
    Solves the assignment problem :math:`\max_\Pi \sum_i |\langle \hat a_{\Pi(i)}, a_i\rangle|/\|a_i\|` with
    :func:`scipy.optimize.linear_sum_assignment`, then picks each sign from the sign of the inner product.
    Each estimate is used at most once.
    """
    threshold = _threshold(threshold)
    G = _cosines(A, points, rows=True)  # (k, m)
    rows, cols = linear_sum_assignment(np.abs(G), maximize=True)
    m = G.shape[1]
    index = np.full(m, -1, dtype=np.intp)
    signs = np.zeros(m)
    corr = np.zeros(m)
    index[cols] = rows
    g = G[rows, cols]
    signs[cols] = np.where(g >= 0, 1.0, -1.0)
    corr[cols] = np.minimum(np.abs(g), 1.0)
    errors = np.full(m, np.nan)
    errors[cols] = np.sqrt(np.maximum(2.0 - 2.0 * corr[cols], 0.0))
    return ColumnMatch(index, signs, corr, errors, threshold)


@dataclass(frozen=True)
class DictionaryRecovery:
    r"""Result of :func:`recover_dictionary` (chapter 3).

    Attributes
    ----------
    points : ndarray of shape (n_starts, n)
        Limit of each independent run, in order.
    converged : ndarray of shape (n_starts,)
        Whether each run met the solver's stopping rule.
    columns : ndarray of shape (n, n_columns)
        The distinct converged limits up to sign (``±q`` merged): the estimated dictionary.
    counts : ndarray of shape (n_columns,)
        How many converged runs ended at each distinct column.
    index : ndarray of shape (n_starts,)
        Column of ``columns`` each run ended at (``-1`` for runs that did not converge).
    iterations : ndarray of shape (n_starts,)
        Iterations each run took.
    """

    points: np.ndarray
    converged: np.ndarray
    columns: np.ndarray
    counts: np.ndarray
    index: np.ndarray
    iterations: np.ndarray


def recover_dictionary(objective, n_starts: int, *, rng=None, starts=None, tol: float = 1e-6,
                       max_iter: int = 1000, polish: bool = True, merge_tol: float = 1e-3) -> DictionaryRecovery:
    r"""Estimate the whole dictionary from independent random starts of the power iteration on ``objective``.

    Parameters
    ----------
    objective : landscape_lib.objectives.L4Objective
        Chapter 3: the data objective ``DataObjective(Y, theta)``, so that ``tol`` refers to the gradient
        of :math:`f_{\tilde Y}`, whose expectation is the tensor objective up to a constant; the tensor
        objective ``TensorObjective(A)`` runs the same experiment with infinitely many samples.
    n_starts : int
        Number of independent uniformly random starts, all run at once by
        :func:`landscape_lib.solvers.power_iteration` (for the data objective one pass over the data per
        iteration for all starts: two products of shapes ``(n_starts, n) @ (n, p)`` and ``(n_starts, p) @ (p, n)``).
    rng : None, int or numpy.random.Generator
        Draws the starts.
    starts : array_like of shape (n_starts, n), optional
        Given unit-vector starts instead of random ones (e.g. a true column, to ask whether the data
        objective has a minimizer next to it); ``rng`` is then not used.
    tol : float, default 1e-6
        A start has converged when its Riemannian gradient norm is below ``tol`` times the objective's
        scale (:func:`landscape_lib.solvers.objective_scale`, 1 for unit-norm columns).
    max_iter : int, default 1000
    polish : bool, default True
        Finish the slow linear tail with Newton steps near minimizers (chapter 2's solver option).
    merge_tol : float, default 1e-3
        Two limits are the same column when :math:`\min\|q \mp q'\|_2 \le` ``merge_tol``.

    Returns
    -------
    DictionaryRecovery

    Notes
    -----
    From a random start the iteration almost surely avoids strict saddles (Lee et al. 2016) and lands at
    a local minimizer; in the benign regime those sit near the columns :math:`\pm a_i`, so independent
    starts collect columns like coupons. Chapter 3, section 3.
    """
    if not isinstance(objective, L4Objective):
        raise ValueError("objective must be an ℓ4 objective of landscape_lib.objectives (DataObjective(Y, theta) "
                         f"or TensorObjective(A)); got {type(objective).__name__}")
    n = objective.n
    n_starts = check_scalar(n_starts, "n_starts", integer=True, low=1)
    check_positive(merge_tol, "merge_tol")
    if starts is None:
        q0 = random_points(n, (n_starts,), rng=as_rng(rng))
    else:
        q0 = as_points(starts, n, name="starts")
        if q0.shape != (n_starts, n):
            raise ValueError(f"starts must have shape (n_starts, n) = ({n_starts}, {n}); got {q0.shape}")
    res = power_iteration(objective, q0, tol=tol, max_iter=max_iter, polish=polish)
    points = np.asarray(res.points, dtype=np.float64)
    converged = np.asarray(res.converged, dtype=bool)
    index = np.full(n_starts, -1, dtype=np.intp)
    if converged.any():
        unique, idx = deduplicate(points[converged], tol=merge_tol, antipodal=True)
        index[converged] = idx
        counts = np.bincount(idx, minlength=unique.shape[0])
    else:
        unique, counts = np.empty((0, n)), np.zeros(0, dtype=np.intp)
    return DictionaryRecovery(points, converged, unique.T.copy(), counts, index, np.asarray(res.iterations))


@dataclass(frozen=True)
class RecoveryGrid:
    r"""Outcome of :func:`recovery_grid`: recovery from random starts over a grid of ``(n, m)``.

    Attributes
    ----------
    n_values : ndarray of shape (len(n_values),)
    m_values : ndarray of shape (len(m_values),)
    rate : ndarray of shape (len(m_values), len(n_values))
        Fraction of starts whose limit has :math:`\max_i|\langle a_i, q\rangle| \ge` ``threshold``;
        NaN where ``(n, m)`` is outside the measured range.
    converged : ndarray of shape (len(m_values), len(n_values))
        Fraction of starts that met the solver's stopping rule within ``max_iter``.
    correlations : dict of (int, int) to ndarray of shape (frames * starts,)
        :math:`\max_i|\langle a_i, q\rangle|` at every limit, per measured ``(n, m)``.
    baseline : dict of (int, int) to ndarray of shape (frames * starts,)
        The same statistic at uniformly random points (no solver), on the same matrices: how often the
        criterion would call a point that no solver attracted a success.
    threshold : float
    theta, p : float and int, or None
        The data the starts ran on (``None``: the tensor objective).
    """

    n_values: np.ndarray
    m_values: np.ndarray
    rate: np.ndarray
    converged: np.ndarray
    correlations: dict
    baseline: dict
    threshold: float
    theta: float | None = None
    p: int | None = None

    def rate_at(self, threshold: float, *, baseline: bool = False) -> np.ndarray:
        """The rate grid recomputed for another ``threshold`` in (0, 1] from the stored correlations (of the
        random points instead with ``baseline=True``: the false-positive rate of the criterion)."""
        threshold = _threshold(threshold)
        out = np.full_like(self.rate, np.nan)
        for (n, m), c in (self.baseline if baseline else self.correlations).items():
            out[list(self.m_values).index(m), list(self.n_values).index(n)] = np.mean(c >= threshold)
        return out


def recovery_grid(n_values, m_values, *, threshold: float, frames: int = 3, starts: int = 32,
                  max_m_factor: float = 2.0, make_frame: Callable = random_frame, theta: float | None = None,
                  p: int | None = None, tol: float = 1e-6, max_iter: int = 1000, rng=None) -> RecoveryGrid:
    r"""Measure how often a random start of the power iteration recovers a column, over ``(n, m)``.

    For each ``n`` and each ``m`` with :math:`n \le m \le` ``max_m_factor`` :math:`n^2`: draw ``frames``
    matrices (by default of random unit columns, :func:`landscape_lib.generators.random_frame`), run the
    power iteration from ``starts`` uniform random starts on each, and count a start as a success when its
    limit has :math:`\max_i |\langle a_i, q\rangle| \ge` ``threshold`` (chapter 2, section 5). The starts run
    on the tensor objective of ``A``, or, with ``theta`` and ``p``, on the data objective of ``p`` samples
    :math:`Y = AX` drawn for each matrix (chapter 3's question: how many samples the landscape needs; the data
    landscape is the tensor one up to a constant only for a unit-norm tight frame: pass ``make_frame``).

    Parameters
    ----------
    n_values, m_values : sequence of int
        Grids of dimensions and numbers of columns (one ``m`` grid shared by all ``n``).
    threshold : float
        Recovery criterion, in (0, 1].
    frames, starts : int
        Random matrices per cell and random starts per matrix.
    max_m_factor : float, default 2.0
        Largest measured ``m`` as a multiple of :math:`n^2`.
    make_frame : callable, default :func:`landscape_lib.generators.random_frame`
        ``make_frame(n, m, rng=generator)`` returns a frame of unit columns, of shape ``(n, m)``, e.g.
        :func:`landscape_lib.generators.tight_frame`.
    theta, p : float and int, optional
        Sparsity and number of samples of the data (both or neither).
    tol, max_iter
        Stopping rule of :func:`landscape_lib.solvers.power_iteration`.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    RecoveryGrid
    """
    threshold = _threshold(threshold)
    check_positive(frames, "frames", integer=True)
    check_positive(starts, "starts", integer=True)
    check_positive(max_m_factor, "max_m_factor")
    if not callable(make_frame):
        raise ValueError(f"make_frame must be callable as make_frame(n, m, rng=...); got {type(make_frame).__name__}")
    if (theta is None) != (p is None):
        raise ValueError(f"theta and p go together (data from the frames) or are both None (the tensor objective); "
                         f"got theta = {theta!r}, p = {p!r}")
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
                A = make_frame(int(n), int(m), rng=gen)
                if theta is None:
                    objective = TensorObjective(A)
                else:
                    objective = DataObjective(sample_data(A, p, theta, rng=gen)[0], theta)
                q0 = random_points(int(n), (2, starts), rng=gen)
                res = power_iteration(objective, q0[0], tol=tol, max_iter=max_iter)
                c.append(nearest_column(A, res.points)[1])
                b.append(nearest_column(A, q0[1])[1])
                ok.append(res.converged)
            corr[(int(n), int(m))] = np.concatenate(c)
            base[(int(n), int(m))] = np.concatenate(b)
            rate[i, j] = np.mean(corr[(int(n), int(m))] >= threshold)
            conv[i, j] = np.mean(np.concatenate(ok))
    return RecoveryGrid(ns, ms, rate, conv, corr, base, threshold, theta=None if theta is None else float(theta),
                        p=p)



def rates_at_cells(grid: RecoveryGrid, n_values, m_values, thresholds, *, baseline: bool = False) -> np.ndarray:
    r"""The recovery rate of a :class:`RecoveryGrid` at given cells ``(n, m)``, for several thresholds.

    Cell ``c`` is ``(n_values[c], m_values[c])``. Its rate at a threshold is the fraction of the grid's
    limits at that cell with :math:`\max_i|\langle a_i, q\rangle|` at least that threshold (the criterion of chapter 2,
    section 5), read from :meth:`RecoveryGrid.rate_at`. A cell
    the grid did not measure (an ``n`` or ``m`` not in its grids, or ``m`` beyond ``max_m_factor`` :math:`n^2`)
    gets NaN, so that the rates can be set beside another measurement on its own set of cells (chapter 2 sets
    the live random-frame grid beside the stored tight-frame one).

    Parameters
    ----------
    grid : RecoveryGrid
        The result of :func:`recovery_grid`.
    n_values, m_values : sequence of int, each of length n_cells
        The cells, ``(n_values[c], m_values[c])``.
    thresholds : sequence of float, of length n_thresholds
        Recovery criteria, each in (0, 1].
    baseline : bool, default False
        Read the uniformly random points (no solver) instead of the limits: the chance rate of the
        criterion.

    Returns
    -------
    ndarray of shape (n_cells, n_thresholds)
        ``rates[c, j]`` for cell ``c`` and ``thresholds[j]``, NaN where cell ``c`` was not measured.
    """
    n = np.asarray(n_values)
    m = np.asarray(m_values)
    if n.ndim != 1 or n.shape != m.shape:
        raise ValueError(f"n_values and m_values must be sequences of the same length; got shapes {n.shape} "
                         f"and {m.shape}")
    grids = [grid.rate_at(t, baseline=baseline) for t in np.atleast_1d(np.asarray(thresholds, dtype=float))]
    row = {int(v): i for i, v in enumerate(grid.m_values)}
    col = {int(v): j for j, v in enumerate(grid.n_values)}
    rates = np.full((n.size, len(grids)), np.nan)
    for c, (nc, mc) in enumerate(zip(n.tolist(), m.tolist(), strict=True)):
        if nc in col and mc in row:  # rate_at leaves NaN where the grid skipped the cell (m beyond its limit)
            rates[c] = [g[row[mc], col[nc]] for g in grids]
    return rates


def format_rate(rate: float) -> str:
    """A rate as printed in the chapters' tables: two decimals in four characters; NaN as ``-`` right-aligned in
    four characters.

    Parameters
    ----------
    rate : float
        A fraction in [0, 1], or NaN for a cell that was not measured (see :func:`rates_at_cells`).

    Returns
    -------
    str
        Four characters: ``0.25``, ``1.00``, or three spaces and ``-``.
    """
    rate = float(rate)
    return "   -" if np.isnan(rate) else f"{rate:4.2f}"


@dataclass(frozen=True)
class ColumnProbe:
    r"""Result of :func:`probe_columns`: what an objective does next to given columns (chapter 3, section 4).

    Attributes
    ----------
    descent_points : ndarray of shape (c, n)
        Limits of small-step gradient descent started at each column.
    descent_converged : ndarray of shape (c,)
    descent_correlation : ndarray of shape (c,)
        :math:`|\langle a_i, q\rangle|` between each limit and *its own* starting column.
    newton_points : ndarray of shape (c, n)
        The critical point Newton's method reaches from each column.
    newton_converged : ndarray of shape (c,)
    newton_grad_norm : ndarray of shape (c,)
        Riemannian gradient norm where Newton stopped (well above ``newton_tol`` when it found no critical
        point: a minimizer that has merged with a saddle leaves a point where the gradient is small, not zero).
    newton_correlation : ndarray of shape (c,)
        :math:`|\langle a_i, q\rangle|` between that critical point and its starting column.
    newton_min_eigenvalue : ndarray of shape (c,)
        Smallest eigenvalue of the tangent Hessian there: positive at a strict local minimizer, negative at a
        saddle or maximizer.
    """

    descent_points: np.ndarray
    descent_converged: np.ndarray
    descent_correlation: np.ndarray
    newton_points: np.ndarray
    newton_converged: np.ndarray
    newton_grad_norm: np.ndarray
    newton_correlation: np.ndarray
    newton_min_eigenvalue: np.ndarray

    def minimizer_next_to_column(self, threshold: float) -> np.ndarray:
        """Boolean mask of shape (c,): Newton converged within ``threshold`` of the column to a point with a
        positive definite tangent Hessian, or descent from the column stayed within ``threshold`` of it."""
        newton_min = (self.newton_converged & (self.newton_correlation >= threshold)
                      & (self.newton_min_eigenvalue > 0))
        return newton_min | (self.descent_converged & (self.descent_correlation >= threshold))


def probe_columns(objective, columns, *, step: float = 0.05, tol: float = 1e-7, max_iter: int = 20_000,
                  newton_tol: float = 1e-10, newton_iter: int = 200) -> ColumnProbe:
    r"""Start at each given column and ask whether ``objective`` has a local minimizer next to it.

    Two probes from each column :math:`a_i`: (i) Riemannian gradient descent with the small relative step
    ``step`` (:func:`landscape_lib.solvers.gradient_descent`), which follows the gradient flow out of the
    column and stops at the first minimizer downhill; (ii) Newton's method
    (:func:`landscape_lib.solvers.newton`), which converges to the critical point nearest the column whatever
    its type, classified by the smallest eigenvalue of its tangent Hessian. If descent leaves the
    neighbourhood of :math:`a_i` and the critical point Newton finds there is a saddle (a negative
    eigenvalue), the objective has no minimizer next to that column (chapter 3, section 4).

    Parameters
    ----------
    objective : landscape_lib.objectives.L4Objective
    columns : array_like of shape (c, n)
        The columns to probe, one per row (normalized here).
    step : float, default 0.05
        Relative step :math:`\eta` of the descent (:math:`\eta = 1` is the power iteration).
    tol, max_iter
        Stopping rule of the descent (gradient norm below ``tol`` times the objective's scale).
    newton_tol : float, default 1e-10
    newton_iter : int, default 200
        Newton iterations, with tangent steps of length at most 0.1 (so that it stays near the column).

    Returns
    -------
    ColumnProbe
    """
    if not isinstance(objective, L4Objective):
        raise ValueError("objective must be an ℓ4 objective of landscape_lib.objectives; "
                         f"got {type(objective).__name__}")
    cols = np.asarray(columns, dtype=np.float64)
    if cols.ndim != 2 or cols.shape[1] != objective.n:
        raise ValueError(f"columns must have shape (c, {objective.n}), one column per row; got {cols.shape}")
    norms = np.linalg.norm(cols, axis=1)
    if np.any(norms == 0) or not np.all(np.isfinite(cols)):
        raise ValueError("columns must be finite and nonzero")
    q0 = cols / norms[:, None]
    desc = gradient_descent(objective, q0, step=step, tol=tol, max_iter=max_iter)
    newt = newton(objective, q0, tol=newton_tol, max_iter=newton_iter, max_step=0.1)
    d_corr = np.abs(np.sum(desc.points * q0, axis=1))
    n_corr = np.abs(np.sum(newt.points * q0, axis=1))
    eig = np.linalg.eigvalsh(objective.tangent_hessian(newt.points))[:, 0]
    return ColumnProbe(desc.points, np.asarray(desc.converged), d_corr, newt.points,
                       np.asarray(newt.converged), np.asarray(newt.grad_norms), n_corr, eig)


@dataclass(frozen=True)
class SampleGrid:
    r"""Outcome of :func:`sample_grid`: column recovery against the number of samples and of columns.

    Attributes
    ----------
    n : int
    m_values : ndarray of shape (len(m_values),)
    p_values : ndarray of shape (len(p_values),)
    kinds : tuple of str
        ``("plain", "cumulant")``: the data objectives measured.
    rate : ndarray of shape (len(kinds), len(m_values), len(p_values))
        Fraction of random starts that converged *and* ended within ``threshold`` of a column, per kind.
    converged : ndarray of shape (len(kinds), len(m_values), len(p_values))
        Fraction of starts that met the stopping rule within ``max_iter``.
    columns : ndarray of shape (len(kinds), len(m_values), len(p_values))
        Fraction of the ``m`` columns recovered by at least one converged start.
    tensor_rate, tensor_converged, tensor_columns : ndarray of shape (len(m_values),)
        The same for the tensor objective of the same frames (``p = ∞``).
    threshold : float
    theta : float
    """

    n: int
    m_values: np.ndarray
    p_values: np.ndarray
    kinds: tuple
    rate: np.ndarray
    converged: np.ndarray
    columns: np.ndarray
    tensor_rate: np.ndarray
    tensor_converged: np.ndarray
    tensor_columns: np.ndarray
    threshold: float
    theta: float

    def critical_samples(self, level: float = 0.5) -> np.ndarray:
        r"""The sample size :math:`p^\star` at which ``rate`` first reaches ``level``, per kind and ``m``.

        Interpolated linearly in :math:`\log p` between the two grid points around the first crossing;
        ``nan`` if the rate never reaches ``level`` on the grid, ``p_values[0]`` if it starts above it.

        Returns
        -------
        ndarray of shape (len(kinds), len(m_values))
        """
        level = check_scalar(level, "level", low=0.0, high=1.0, low_inclusive=False)
        logp = np.log(self.p_values.astype(float))
        out = np.full(self.rate.shape[:2], np.nan)
        for k in range(self.rate.shape[0]):
            for i in range(self.rate.shape[1]):
                r = self.rate[k, i]
                above = np.flatnonzero(r >= level)
                if not above.size:
                    continue
                j = above[0]
                if j == 0:
                    out[k, i] = self.p_values[0]
                    continue
                t = (level - r[j - 1]) / (r[j] - r[j - 1])
                out[k, i] = np.exp(logp[j - 1] + t * (logp[j] - logp[j - 1]))
        return out


def sample_grid(n: int, m_values, p_values, *, theta: float, threshold: float, starts: int = 32,
                frames: int = 1, make_frame: Callable | None = None, tol: float = 1e-6, max_iter: int = 1000,
                rng=None) -> SampleGrid:
    r"""The ``(p, m)`` phase diagram of dictionary learning at fixed ``n`` (chapter 3, section 6).

    For each ``m``: draw ``frames`` unit-norm tight frames (by default
    :func:`landscape_lib.generators.tight_frame`), one data stream of ``max(p_values)`` samples each, and the
    same ``starts`` uniform random starts for every objective; run :func:`landscape_lib.solvers.power_iteration`
    (one call, one step rule, one stopping test: gradient norm below ``tol`` times the objective's scale,
    within ``max_iter``, Newton polish near minimizers) on the plain data objective
    (:class:`~landscape_lib.objectives.DataObjective`) and the cumulant objective
    (:class:`~landscape_lib.objectives.CumulantObjective`) of the first ``p`` samples, for every ``p``, and on
    the tensor objective of the frame.

    Parameters
    ----------
    n : int
    m_values, p_values : sequence of int
        Numbers of columns (``>= n``) and of samples (``>= 2``).
    theta : float
        Sparsity in (0, 1).
    threshold : float
        A converged start recovers a column when :math:`\max_i|\langle a_i, q\rangle| \ge` ``threshold``.
    starts, frames : int
    make_frame : callable, optional
        ``make_frame(n, m, rng=generator)``; default a unit-norm tight frame.
    tol, max_iter
        The stopping rule, shared by the three objectives.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    SampleGrid
    """
    from .generators import tight_frame

    threshold = _threshold(threshold)
    n = check_scalar(n, "n", integer=True, low=2)
    check_positive(starts, "starts", integer=True)
    check_positive(frames, "frames", integer=True)
    make_frame = tight_frame if make_frame is None else make_frame
    ms = np.asarray(m_values, dtype=int)
    ps = np.asarray(p_values, dtype=int)
    if ms.ndim != 1 or ms.size == 0 or ms.min() < n:
        raise ValueError(f"m_values must be a non-empty sequence of integers >= n = {n}; got {m_values!r}")
    if ps.ndim != 1 or ps.size == 0 or ps.min() < 2:
        raise ValueError(f"p_values must be a non-empty sequence of integers >= 2; got {p_values!r}")
    gen = as_rng(rng)
    kinds = ("plain", "cumulant")
    classes = (DataObjective, CumulantObjective)
    shape = (len(kinds), ms.size, ps.size)
    rate, conv, cols = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    t_rate, t_conv, t_cols = np.zeros(ms.size), np.zeros(ms.size), np.zeros(ms.size)

    def score(A, res):
        index, corr = nearest_column(A, res.points)
        hit = np.asarray(res.converged) & (corr >= threshold)
        return np.mean(hit), np.mean(res.converged), np.unique(index[hit]).size / A.shape[1]

    for i, m in enumerate(ms):
        for _ in range(frames):
            A = make_frame(n, int(m), rng=gen)
            Y, _ = sample_data(A, int(ps.max()), theta, rng=gen)
            q0 = random_points(n, (starts,), rng=gen)
            run = dict(tol=tol, max_iter=max_iter, polish=True)
            r = score(A, power_iteration(TensorObjective(A), q0, **run))
            t_rate[i], t_conv[i], t_cols[i] = t_rate[i] + r[0], t_conv[i] + r[1], t_cols[i] + r[2]
            for k, cls in enumerate(classes):
                for j, p in enumerate(ps):
                    r = score(A, power_iteration(cls(Y[:, :p], theta), q0, **run))
                    rate[k, i, j] += r[0]
                    conv[k, i, j] += r[1]
                    cols[k, i, j] += r[2]
    return SampleGrid(n, ms, ps, kinds, rate / frames, conv / frames, cols / frames, t_rate / frames,
                      t_conv / frames, t_cols / frames, threshold, float(theta))
