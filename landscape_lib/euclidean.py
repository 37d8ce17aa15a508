r"""Critical points and gradient descent in :math:`\mathbb{R}^n` (chapter 1).

Everything here is batched over many starting points at once (no Python loop over starts) and works for
any *objective*: an object with methods ``value``, ``gradient`` and ``hessian`` taking points of shape
``(..., n)`` (for instance a :class:`landscape_lib.toy2d.Toy2D`).

* :func:`gradient_descent` — plain gradient descent :math:`x_{k+1} = x_k - \eta \nabla f(x_k)` from many
  starts;
* :func:`newton_critical_points` and :func:`find_critical_points` — Newton's method on the equation
  :math:`\nabla f(x) = 0` from many starts finds *all* kinds of critical points (gradient descent only
  finds minimizers), which are then de-duplicated and classified by their Hessian eigenvalues with
  :mod:`landscape_lib.critical`;
* :func:`escape_iterations` and :func:`fit_escape_law` — how long gradient descent started at distance
  :math:`\delta` from a saddle needs to get away from it: :math:`O(\log(1/\delta))` at a strict saddle, a
  power of :math:`1/\delta` at a flat one;
* :func:`perturbed_gradient_descent` — gradient descent with random kicks, which leaves a saddle even
  when started exactly on it :cite:p:`jin2017escape`;
* :func:`basin_map` — which minimizer gradient descent reaches from each point of a grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_float_array, as_rng, check_positive, check_scalar
from .critical import CriticalPoints, collect, deduplicate

__all__ = [
    "GDResult", "gradient_descent", "NewtonResult", "newton_critical_points",
    "find_critical_points", "KnownComparison", "compare_with_known", "critical_points_table",
    "unstable_direction", "EscapeResult", "escape_iterations", "EscapeLaw", "fit_escape_law",
    "PGDResult", "perturbed_gradient_descent", "BasinMap", "basin_map", "grid_starts",
]


# --------------------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------------------

def _check_objective(objective) -> None:
    for attr in ("value", "gradient", "hessian"):
        if not callable(getattr(objective, attr, None)):
            raise ValueError(f"objective must have a callable {attr!r} method (e.g. a toy2d.Toy2D); "
                             f"got {type(objective).__name__}")


def _as_starts(starts) -> np.ndarray:
    return as_float_array(starts, "starts", ndim=2)


# --------------------------------------------------------------------------------------------------
# gradient descent
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GDResult:
    """Result of :func:`gradient_descent` from ``N`` starts in dimension ``n``.

    Attributes
    ----------
    points : ndarray of shape (N, n)
        Last iterate of each run (frozen where it converged or diverged).
    iterations : ndarray of shape (N,)
        Number of gradient steps taken by each run.
    converged : ndarray of shape (N,), bool
        ``||∇f|| <= tol`` was reached.
    diverged : ndarray of shape (N,), bool
        The iterate left the ball of radius ``blowup`` (the run was stopped there).
    trajectory : ndarray of shape (n_iter + 1, N, n) or None
        All iterates (with ``record=True``); a stopped run repeats its last point.
    """

    points: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    diverged: np.ndarray
    trajectory: np.ndarray | None


def gradient_descent(objective, starts, *, step: float, n_iter: int, tol: float = 1e-8,
                     blowup: float = 1e6, record: bool = False) -> GDResult:
    r"""Gradient descent :math:`x_{k+1} = x_k - \eta\,\nabla f(x_k)` from many starts at once.

    Parameters
    ----------
    objective : object with ``gradient``
        E.g. a :class:`~landscape_lib.toy2d.Toy2D`.
    starts : array_like of shape (N, n)
        Starting points (not modified).
    step : float
        Step size :math:`\eta > 0`.
    n_iter : int
        Maximum number of steps.
    tol : float, default 1e-8
        A run stops when :math:`\|\nabla f(x_k)\| \le` ``tol``.
    blowup : float, default 1e6
        A run stops (``diverged``) when :math:`\|x_k\|` exceeds this (functions unbounded below).
    record : bool, default False
        Keep the whole trajectory.

    Returns
    -------
    GDResult

    Notes
    -----
    Used in chapter 1 for basin maps and trajectories near saddles.
    """
    _check_objective(objective)
    x = _as_starts(starts).copy()
    check_positive(step, "step")
    n_iter = check_scalar(n_iter, "n_iter", integer=True, low=0)
    check_positive(tol, "tol", allow_zero=True)
    check_positive(blowup, "blowup")
    n = x.shape[0]
    iterations = np.zeros(n, dtype=np.int64)
    converged = np.zeros(n, dtype=bool)
    diverged = np.linalg.norm(x, axis=1) > blowup
    traj = np.empty((n_iter + 1,) + x.shape) if record else None
    if record:
        traj[0] = x
    active = ~diverged
    for k in range(n_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            if record:
                traj[k + 1:] = x
            break
        g = objective.gradient(x[idx])
        done = np.linalg.norm(g, axis=1) <= tol
        converged[idx[done]] = True
        move = idx[~done]
        x[move] -= step * g[~done]
        iterations[move] += 1
        blown = np.linalg.norm(x[move], axis=1) > blowup
        diverged[move[blown]] = True
        active[idx[done]] = False
        active[move[blown]] = False
        if record:
            traj[k + 1] = x
    else:
        idx = np.flatnonzero(active)
        if idx.size:
            converged[idx] = np.linalg.norm(objective.gradient(x[idx]), axis=1) <= tol
    return GDResult(x, iterations, converged, diverged, traj)


# --------------------------------------------------------------------------------------------------
# Newton's method on the gradient: all critical points
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewtonResult:
    """Result of :func:`newton_critical_points`.

    Attributes
    ----------
    points : ndarray of shape (N, n)
        Last Newton iterate of each start.
    gradient_norm : ndarray of shape (N,)
        :math:`\\|\\nabla f\\|` there.
    converged : ndarray of shape (N,), bool
        ``gradient_norm <= grad_tol``.
    """

    points: np.ndarray
    gradient_norm: np.ndarray
    converged: np.ndarray


def newton_critical_points(objective, starts, *, n_iter: int = 100, grad_tol: float = 1e-9,
                           max_step: float = 0.5, blowup: float = 1e6) -> NewtonResult:
    r"""Newton's method for the equation :math:`\nabla f(x) = 0`, from many starts at once.

    .. math::

        x_{k+1} = x_k - \eta_k\, \nabla^2 f(x_k)^{+}\, \nabla f(x_k), \qquad
        \eta_k = \min\bigl(1, \text{max\_step} / \|\nabla^2 f(x_k)^{+} \nabla f(x_k)\|\bigr).

    Unlike gradient descent, Newton's method is attracted by every nondegenerate critical point —
    minimizers, saddles and maximizers alike — which is why it is used to *locate* critical points. At a
    degenerate critical point (a singular Hessian) it still converges, linearly instead of quadratically
    (e.g. by the factor 1/2 per step at the monkey saddle, 2/3 at :math:`x^4 - y^4`). The pseudo-inverse
    :math:`\nabla^2 f(x_k)^{+}` (via the eigen-decomposition, zero eigenvalues dropped) keeps the step defined where the
    Hessian is singular; the step length is capped at ``max_step`` so that far-away starts do not jump
    across the domain.

    Parameters
    ----------
    objective : object with ``gradient`` and ``hessian``
    starts : array_like of shape (N, n)
    n_iter : int, default 100
        Number of Newton steps (all runs take them; at a converged point the step is of the size of the
        gradient there, i.e. negligible).
    grad_tol : float, default 1e-9
        A run has converged when :math:`\|\nabla f\| \le` ``grad_tol`` at its last iterate.
    max_step : float, default 0.5
        Largest step length.
    blowup : float, default 1e6
        Runs leaving this ball are stopped (and are not converged).

    Returns
    -------
    NewtonResult
    """
    _check_objective(objective)
    x = _as_starts(starts).copy()
    n_iter = check_scalar(n_iter, "n_iter", integer=True, low=1)
    check_positive(grad_tol, "grad_tol")
    check_positive(max_step, "max_step")
    check_positive(blowup, "blowup")
    active = np.linalg.norm(x, axis=1) <= blowup
    for _ in range(n_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        g = objective.gradient(x[idx])
        lam, vec = np.linalg.eigh(objective.hessian(x[idx]))
        coef = np.einsum("nij,ni->nj", vec, g)
        with np.errstate(divide="ignore", invalid="ignore"):
            coef = np.where(lam != 0.0, coef / np.where(lam != 0.0, lam, 1.0), 0.0)
        d = -np.einsum("nij,nj->ni", vec, coef)
        length = np.linalg.norm(d, axis=1)
        d *= np.minimum(1.0, max_step / np.maximum(length, 1e-300))[:, None]
        x[idx] += d
        active[idx[np.linalg.norm(x[idx], axis=1) > blowup]] = False
    finite = np.linalg.norm(x, axis=1) <= blowup
    gnorm = np.full(x.shape[0], np.inf)
    if finite.any():
        gnorm[finite] = np.linalg.norm(objective.gradient(x[finite]), axis=1)
    return NewtonResult(x, gnorm, gnorm <= grad_tol)


def find_critical_points(objective, starts, *, eig_tol: float = 1e-6, dedup_tol: float = 1e-6,
                         grad_tol: float = 1e-9, n_iter: int = 100, max_step: float = 0.5) -> CriticalPoints:
    r"""Locate, de-duplicate and classify the critical points reached from many starts.

    Runs :func:`newton_critical_points`, keeps the converged runs, merges limits closer than ``dedup_tol``
    (:func:`~landscape_lib.critical.deduplicate`) and classifies each distinct point by the eigenvalues
    :math:`\lambda_1 \le \dots \le \lambda_n` of its Hessian
    (:func:`~landscape_lib.critical.classify_eigenvalues`): minimizer if :math:`\lambda_1 > \tau`,
    maximizer if :math:`\lambda_n < -\tau`, strict saddle if :math:`\lambda_1 < -\tau` otherwise, and
    degenerate when no eigenvalue is below :math:`-\tau` and one is in :math:`[-\tau, \tau]`, with
    :math:`\tau =` ``eig_tol``.

    Parameters
    ----------
    objective : object with ``value``, ``gradient`` and ``hessian``
    starts : array_like of shape (N, n)
    eig_tol : float, default 1e-6
        The explicit tolerance :math:`\tau` for "zero" eigenvalues.
    dedup_tol : float, default 1e-6
        Two limits are the same critical point when closer than this.
    grad_tol, n_iter, max_step : see :func:`newton_critical_points`.

    Returns
    -------
    landscape_lib.critical.CriticalPoints
        Sorted by type, then value, then coordinates.

    Notes
    -----
    Used in chapter 1. A degenerate critical point is reached only linearly by Newton's method, so it
    needs more iterations than a nondegenerate one; with the defaults the limits agree to far better than
    ``dedup_tol`` for the chapter's examples.
    """
    _check_objective(objective)
    check_positive(eig_tol, "eig_tol", allow_zero=True)
    check_positive(dedup_tol, "dedup_tol")
    res = newton_critical_points(objective, starts, n_iter=n_iter, grad_tol=grad_tol, max_step=max_step)
    conv = res.points[res.converged]
    d = res.points.shape[1]
    n_starts, n_converged = res.points.shape[0], int(conv.shape[0])
    if n_converged == 0:
        empty = np.empty((0, d))
        return collect(empty, np.empty(0), empty.copy(), eig_tol=eig_tol, hits=np.empty(0, dtype=np.int64),
                       n_starts=n_starts, n_converged=0)
    unique, index = deduplicate(conv, tol=dedup_tol)
    hits = np.bincount(index, minlength=unique.shape[0])
    lam = np.linalg.eigvalsh(objective.hessian(unique))
    grad_norms = np.linalg.norm(objective.gradient(unique), axis=-1)
    return collect(unique, objective.value(unique), lam, eig_tol=eig_tol, grad_norms=grad_norms, hits=hits,
                   n_starts=n_starts, n_converged=n_converged)


@dataclass(frozen=True)
class KnownComparison:
    """How a numerically found set of critical points compares with the known one.

    Attributes
    ----------
    missing : tuple of int
        Indices of known points that were not found.
    extra : tuple of int
        Indices of found points that are not known critical points.
    type_mismatches : tuple of (int, int)
        ``(found index, known index)`` pairs at the same place with different types.
    """

    missing: tuple
    extra: tuple
    type_mismatches: tuple

    @property
    def ok(self) -> bool:
        """Every known point found with its type, nothing else found."""
        return not (self.missing or self.extra or self.type_mismatches)


def compare_with_known(found: CriticalPoints, known_points, known_types, *,
                       tol: float = 1e-6) -> KnownComparison:
    """Match found critical points to known ones (within ``tol``) and compare their types.

    Parameters
    ----------
    found : landscape_lib.critical.CriticalPoints
    known_points : array_like of shape (n_known, n)
    known_types : sequence of CriticalType, length n_known
    tol : float, default 1e-6

    Returns
    -------
    KnownComparison
    """
    known = as_float_array(known_points, "known_points", ndim=2, allow_empty=True)
    known_types = tuple(known_types)
    if len(known_types) != known.shape[0]:
        raise ValueError(f"known_types must have one entry per known point ({known.shape[0]}); "
                         f"got {len(known_types)}")
    check_positive(tol, "tol")
    if found.points.shape[0] == 0 or known.shape[0] == 0:
        return KnownComparison(tuple(range(known.shape[0])), tuple(range(found.points.shape[0])), ())
    dist = np.linalg.norm(found.points[:, None, :] - known[None, :, :], axis=-1)
    near = dist <= tol
    missing = tuple(int(k) for k in np.flatnonzero(~near.any(axis=0)))
    extra = tuple(int(i) for i in np.flatnonzero(~near.any(axis=1)))
    mism = []
    for i in np.flatnonzero(near.any(axis=1)):
        k = int(np.argmin(dist[i]))
        if found.types[i] != known_types[k]:
            mism.append((int(i), k))
    return KnownComparison(missing, extra, tuple(mism))


def critical_points_table(found: CriticalPoints, known_types=None, *, known_points=None, digits: int = 4,
                          label: str | None = None) -> str:
    """The found critical points as a plain-text table (rounded to ``digits``), for printing in the book.

    With ``known_points`` and ``known_types`` a last column gives the known type at that place (``-`` when
    the point is not a known one).
    """
    digits = check_scalar(digits, "digits", integer=True, low=0)
    d = found.points.shape[1]
    coord = ["x", "y"] if d == 2 else [f"x{j + 1}" for j in range(d)]
    head = coord + ["f"] + [f"lambda{j + 1}" for j in range(d)] + ["type", "starts"]
    if known_types is not None:
        head.append("known")
        known = as_float_array(known_points, "known_points", ndim=2)
    rows = []
    for i in range(found.points.shape[0]):
        nums = list(found.points[i]) + [found.values[i]] + list(found.eigenvalues[i])
        row = [_fmt(v, digits) for v in nums] + [found.types[i].value, str(int(found.hits[i]))]
        if known_types is not None:
            dist = np.linalg.norm(known - found.points[i], axis=1)
            k = int(np.argmin(dist))
            row.append(known_types[k].value if dist[k] <= 1e-6 else "-")
        rows.append(row)
    widths = [max(len(h), *(len(r[j]) for r in rows)) if rows else len(h) for j, h in enumerate(head)]
    lines = [] if label is None else [label]
    lines.append("  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True)))
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def _fmt(v: float, digits: int) -> str:
    r = round(float(v), digits) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{r:.{digits}f}"


def unstable_direction(objective, point) -> np.ndarray:
    """Unit eigenvector of the most negative Hessian eigenvalue at ``point`` (largest coordinate > 0).

    Returns
    -------
    ndarray of shape (n,)
    """
    _check_objective(objective)
    p = as_float_array(point, "point", ndim=1)
    lam, vec = np.linalg.eigh(objective.hessian(p))
    v = vec[:, 0]
    return v * (1.0 if v[np.argmax(np.abs(v))] > 0 else -1.0)


# --------------------------------------------------------------------------------------------------
# saddle escape
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EscapeResult:
    r"""Iterations gradient descent needs to leave a saddle, per initial distance :math:`\delta`.

    Attributes
    ----------
    deltas : ndarray of shape (n_deltas,)
        Initial distances.
    iterations : ndarray of shape (n_deltas,)
        First ``k`` with :math:`\|x_k - x_\star\| \ge` ``radius`` (``-1`` if not within ``max_iter``).
    escaped : ndarray of shape (n_deltas,), bool
    saddle, direction : ndarray of shape (n,)
        The saddle :math:`x_\star` and the unit direction: :math:`x_0 = x_\star + \delta\,u`.
    step, radius : float
        Step size and escape radius.
    """

    deltas: np.ndarray
    iterations: np.ndarray
    escaped: np.ndarray
    saddle: np.ndarray
    direction: np.ndarray
    step: float
    radius: float


def escape_iterations(objective, saddle, direction, deltas, *, step: float, radius: float,
                      max_iter: int = 100_000) -> EscapeResult:
    r"""Gradient descent from :math:`x_\star + \delta u` until it is ``radius`` away from :math:`x_\star`.

    Parameters
    ----------
    objective : object with ``gradient``
    saddle : array_like of shape (n,)
        The critical point :math:`x_\star`.
    direction : array_like of shape (n,)
        Nonzero direction :math:`u` (normalized here); it must point off the stable manifold, or gradient
        descent converges to the saddle and never escapes (reported as ``-1``).
    deltas : array_like of shape (n_deltas,)
        Initial distances, each in ``(0, radius)``.
    step : float
        Step size :math:`\eta > 0`.
    radius : float
        Escape radius :math:`R_{\mathrm{esc}} > 0`.
    max_iter : int, default 100000

    Returns
    -------
    EscapeResult

    Notes
    -----
    Near a strict saddle with most negative eigenvalue :math:`\lambda_1 < 0`, the unstable component grows
    like :math:`(1 + \eta|\lambda_1|)^k`, so the count is about
    :math:`\log(R_{\mathrm{esc}}/(|\langle u, v_1\rangle|\,\delta))/\log(1 + \eta|\lambda_1|)`, where
    :math:`|\langle u, v_1\rangle|` is the component of ``direction`` along the unit unstable eigenvector
    :math:`v_1` (:math:`1/\sqrt2` for the diagonal at :math:`x^2 - y^2`). At a
    flat saddle the escape is polynomial: e.g. along the unstable axis of :math:`x^4 - y^4`,
    :math:`\dot y = 4y^3` takes a time :math:`(\delta^{-2} - R_{\mathrm{esc}}^{-2})/8`, i.e. about
    :math:`1/(8\eta\delta^2)` steps, and at the monkey saddle about :math:`1/(3\eta\delta)` along a descent
    ray. All runs are iterated together; each stops once it has escaped. Used in chapter 1.
    """
    _check_objective(objective)
    x_star = as_float_array(saddle, "saddle", ndim=1)
    u = as_float_array(direction, "direction", ndim=1)
    if u.shape != x_star.shape:
        raise ValueError(f"direction must have the shape of saddle {x_star.shape}; got {u.shape}")
    norm = np.linalg.norm(u)
    if norm == 0:
        raise ValueError("direction must be nonzero")
    u = u / norm
    check_positive(step, "step")
    check_positive(radius, "radius")
    max_iter = check_scalar(max_iter, "max_iter", integer=True, low=1)
    d = as_float_array(deltas, "deltas", ndim=1)
    if np.any(d <= 0) or np.any(d >= radius):
        raise ValueError(f"deltas must lie in (0, radius={radius}); "
                         f"got values from {d.min():g} to {d.max():g}")
    x = x_star + d[:, None] * u
    iters = np.full(d.shape[0], -1, dtype=np.int64)
    active = np.ones(d.shape[0], dtype=bool)
    idx = np.arange(d.shape[0])
    for k in range(1, max_iter + 1):
        xa = x[idx]
        xa -= step * objective.gradient(xa)
        x[idx] = xa
        out = np.linalg.norm(xa - x_star, axis=1) >= radius
        if out.any():
            iters[idx[out]] = k
            active[idx[out]] = False
            idx = idx[~out]
            if idx.size == 0:
                break
    return EscapeResult(d, iters, iters >= 0, x_star, u, float(step), float(radius))


@dataclass(frozen=True)
class EscapeLaw:
    r"""A fitted escape law.

    ``kind == "log"``: :math:`k(\delta) \approx \mathrm{intercept} + \mathrm{slope}\cdot\log(1/\delta)`
    (least squares in :math:`k`);
    ``kind == "power"``: :math:`k(\delta) \approx e^{\mathrm{intercept}}\,(1/\delta)^{\mathrm{slope}}`
    (least squares in :math:`\log k`).

    Attributes
    ----------
    kind : str
    intercept, slope : float
        The two fitted coefficients.
    max_rel_residual : float
        Largest relative deviation of the data from the fitted law.
    """

    kind: str
    intercept: float
    slope: float
    max_rel_residual: float

    def predict(self, deltas) -> np.ndarray:
        """The law evaluated at ``deltas`` (ndarray of the same shape)."""
        d = as_float_array(deltas, "deltas", min_ndim=1)
        t = np.log(1.0 / d)
        lin = self.intercept + self.slope * t
        return lin if self.kind == "log" else np.exp(lin)

    def describe(self, digits: int = 2) -> str:
        """The law as text, e.g. ``iterations ≈ 3.10 + 5.48·ln(1/δ)``."""
        if self.kind == "log":
            return f"iterations ≈ {_fmt(self.intercept, digits)} + {_fmt(self.slope, digits)}·ln(1/δ)"
        return f"iterations ≈ {_fmt(np.exp(self.intercept), digits)}·(1/δ)^{_fmt(self.slope, digits)}"


def fit_escape_law(deltas, iterations, kind: str) -> EscapeLaw:
    r"""Fit :math:`k = \mathrm{intercept} + \mathrm{slope}\cdot\log(1/\delta)` (``kind="log"``) or
    :math:`\log k = \mathrm{intercept} + \mathrm{slope}\cdot\log(1/\delta)` (``kind="power"``) by least squares.

    Parameters
    ----------
    deltas : array_like of shape (n_deltas,)
        Positive initial distances (at least 3).
    iterations : array_like of shape (n_deltas,)
        Positive escape counts (a ``-1`` — not escaped — is an error: drop it first).
    kind : {"log", "power"}

    Returns
    -------
    EscapeLaw
    """
    if kind not in ("log", "power"):
        raise ValueError(f"kind must be 'log' or 'power'; got {kind!r}")
    d = as_float_array(deltas, "deltas", ndim=1)
    k = as_float_array(iterations, "iterations", ndim=1)
    if d.shape != k.shape:
        raise ValueError(f"deltas and iterations must have the same shape; got {d.shape} and {k.shape}")
    if d.shape[0] < 3:
        raise ValueError(f"need at least 3 points to fit a law; got {d.shape[0]}")
    if np.any(d <= 0) or np.any(k <= 0):
        raise ValueError("deltas and iterations must be positive (drop runs that did not escape)")
    t = np.log(1.0 / d)
    target = k if kind == "log" else np.log(k)
    slope, intercept = np.polyfit(t, target, 1)
    law = EscapeLaw(kind, float(intercept), float(slope), 0.0)
    resid = float(np.max(np.abs(law.predict(d) - k) / k))
    return EscapeLaw(kind, float(intercept), float(slope), resid)


# --------------------------------------------------------------------------------------------------
# perturbed gradient descent
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PGDResult:
    """Result of :func:`perturbed_gradient_descent` (``n_runs`` independent runs).

    Attributes
    ----------
    trajectory : ndarray of shape (n_iter + 1, n_runs, n)
        All iterates.
    n_perturbations : ndarray of shape (n_runs,)
        Number of random kicks each run received.
    escape_iteration : ndarray of shape (n_runs,)
        First iteration at distance at least ``escape_radius`` from the start (``-1``: never).
    escape_radius : float
    """

    trajectory: np.ndarray
    n_perturbations: np.ndarray
    escape_iteration: np.ndarray
    escape_radius: float

    @property
    def points(self) -> np.ndarray:
        """Last iterates, ndarray of shape (n_runs, n)."""
        return self.trajectory[-1]


def perturbed_gradient_descent(objective, start, *, step: float, n_iter: int, radius: float,
                               gradient_threshold: float, wait: int, n_runs: int = 1,
                               escape_radius: float = 1.0, blowup: float = 1e6, rng=None) -> PGDResult:
    r"""Perturbed gradient descent (a simplified form of Jin et al. 2017), ``n_runs`` runs at once.

    At iteration :math:`k`, if :math:`\|\nabla f(x_k)\|` is at most ``gradient_threshold`` and no kick was
    given in the last ``wait`` iterations, the iterate is kicked, :math:`x_k \leftarrow x_k + \xi` with
    :math:`\xi` uniform in the ball of radius :math:`r_\xi` (``radius``); then
    :math:`x_{k+1} = x_k - \eta \nabla f(x_k)`. Started exactly at a saddle, plain gradient descent
    never moves (the gradient is zero); the kick puts the iterate off the stable manifold with probability
    one, and the negative curvature does the rest :cite:p:`jin2017escape`.

    Parameters
    ----------
    objective : object with ``gradient``
    start : array_like of shape (n,)
        Common starting point of all runs (e.g. exactly a saddle).
    step : float
        :math:`\eta > 0`.
    n_iter : int
        Number of iterations.
    radius : float
        Kick radius :math:`r_\xi > 0`.
    gradient_threshold : float
        Gradient norm at or below which a run may be kicked, ``>= 0``.
    wait : int
        Minimum number of iterations between two kicks of the same run (:math:`\ge 1`).
    n_runs : int, default 1
    escape_radius : float, default 1.0
        Distance from ``start`` at which a run counts as escaped.
    blowup : float, default 1e6
        Runs leaving this ball stop moving (functions unbounded below).
    rng : None, int or numpy.random.Generator
        Source of the kicks (same seed, same result).

    Returns
    -------
    PGDResult

    Notes
    -----
    Used in chapter 1.
    """
    _check_objective(objective)
    x0 = as_float_array(start, "start", ndim=1)
    check_positive(step, "step")
    n_iter = check_scalar(n_iter, "n_iter", integer=True, low=1)
    check_positive(radius, "radius")
    check_positive(gradient_threshold, "gradient_threshold", allow_zero=True)
    wait = check_scalar(wait, "wait", integer=True, low=1)
    n_runs = check_scalar(n_runs, "n_runs", integer=True, low=1)
    check_positive(escape_radius, "escape_radius")
    check_positive(blowup, "blowup")
    gen = as_rng(rng)
    d = x0.shape[0]
    x = np.repeat(x0[None, :], n_runs, axis=0)
    traj = np.empty((n_iter + 1, n_runs, d))
    traj[0] = x
    last_kick = np.full(n_runs, -wait - 1)
    kicks = np.zeros(n_runs, dtype=np.int64)
    moving = np.ones(n_runs, dtype=bool)
    for k in range(n_iter):
        g = objective.gradient(x)
        kick = moving & (np.linalg.norm(g, axis=1) <= gradient_threshold) & (k - last_kick > wait)
        if kick.any():
            # Uniform in the ball: Gaussian direction, radius r_xi U^{1/d} in dimension d (the book's n). The
            # draws are made for all runs so that the stream of random numbers does not depend on which runs are kicked.
            z = gen.standard_normal((n_runs, d))
            z *= (radius * gen.random(n_runs) ** (1.0 / d) / np.linalg.norm(z, axis=1))[:, None]
            x[kick] += z[kick]
            g[kick] = objective.gradient(x[kick])
            last_kick[kick] = k
            kicks[kick] += 1
        x[moving] -= step * g[moving]
        moving &= np.linalg.norm(x, axis=1) <= blowup
        traj[k + 1] = x
    dist = np.linalg.norm(traj - x0, axis=2) >= escape_radius
    esc = np.where(dist.any(axis=0), np.argmax(dist, axis=0), -1)
    return PGDResult(traj, kicks, esc, float(escape_radius))


# --------------------------------------------------------------------------------------------------
# basins of attraction
# --------------------------------------------------------------------------------------------------

def grid_starts(xlim, ylim, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ``resolution × resolution`` grid on a rectangle.

    Returns
    -------
    xs, ys : ndarray of shape (resolution,)
    points : ndarray of shape (resolution * resolution, 2)
        Row-major: ``points[i * resolution + j] = (xs[j], ys[i])``.
    """
    resolution = check_scalar(resolution, "resolution", integer=True, low=2)
    lims = []
    for lim, nm in ((xlim, "xlim"), (ylim, "ylim")):
        arr = as_float_array(lim, nm, ndim=1)
        if arr.shape != (2,) or not arr[0] < arr[1]:
            raise ValueError(f"{nm} must be (low, high) with low < high; got {lim!r}")
        lims.append(arr)
    xs = np.linspace(*lims[0], resolution)
    ys = np.linspace(*lims[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.stack([gx.ravel(), gy.ravel()], axis=1)


@dataclass(frozen=True)
class BasinMap:
    """Where gradient descent goes from each point of a grid (chapter 1).

    Attributes
    ----------
    xs, ys : ndarray of shape (nx,), (ny,)
        Grid coordinates.
    labels : ndarray of shape (ny, nx)
        Index of the minimizer reached from ``(xs[j], ys[i])`` at ``labels[i, j]``; ``-1`` when the run
        did not end within ``tol`` of a minimizer (e.g. it started on a stable manifold of a saddle).
    minimizers : ndarray of shape (n_min, 2)
    minimizer_values : ndarray of shape (n_min,)
    """

    xs: np.ndarray
    ys: np.ndarray
    labels: np.ndarray
    minimizers: np.ndarray
    minimizer_values: np.ndarray

    @property
    def fractions(self) -> np.ndarray:
        """Fraction of grid starts reaching each minimizer, ndarray of shape (n_min,)."""
        return np.array([(self.labels == k).mean() for k in range(self.minimizers.shape[0])])

    @property
    def global_index(self) -> int:
        """Index of the minimizer of lowest value."""
        return int(np.argmin(self.minimizer_values))

    @property
    def global_mask(self) -> np.ndarray:
        """Which minimizers are global (value within ``1e-9 · max(1, |f_min|)`` of the lowest), shape (n_min,)."""
        lowest = self.minimizer_values.min()
        return self.minimizer_values <= lowest + 1e-9 * max(1.0, abs(lowest))

    @property
    def global_fraction(self) -> float:
        """Fraction of grid starts that reach a global minimizer (any of them, if there are several)."""
        return float(self.fractions[self.global_mask].sum())

    @property
    def unresolved_fraction(self) -> float:
        """Fraction of starts that reached no minimizer."""
        return float((self.labels < 0).mean())


def basin_map(objective, minimizers, *, xlim, ylim, resolution: int = 101, step: float = 0.02,
              n_iter: int = 2000, tol: float = 1e-3) -> BasinMap:
    r"""Run gradient descent from every point of a grid and record which minimizer it reaches.

    Parameters
    ----------
    objective : object with ``value`` and ``gradient`` on points of shape (..., 2)
    minimizers : array_like of shape (n_min, 2)
        The local minimizers (e.g. those of :func:`find_critical_points`).
    xlim, ylim : (float, float)
        The rectangle.
    resolution : int, default 101
        Grid points per axis.
    step : float, default 0.02
        Gradient step :math:`\eta`; must be below :math:`2/L` on the rectangle for a clean map.
    n_iter : int, default 2000
    tol : float, default 1e-3
        A run is assigned to a minimizer when its last iterate is within ``tol`` of it.

    Returns
    -------
    BasinMap
    """
    mins = as_float_array(minimizers, "minimizers", ndim=2, last_dim=2)
    check_positive(tol, "tol")
    xs, ys, starts = grid_starts(xlim, ylim, resolution)
    res = gradient_descent(objective, starts, step=step, n_iter=n_iter, tol=1e-10)
    dist = np.linalg.norm(res.points[:, None, :] - mins[None], axis=-1)
    lab = np.argmin(dist, axis=1)
    lab[dist[np.arange(lab.size), lab] > tol] = -1
    return BasinMap(xs, ys, lab.reshape(ys.size, xs.size), mins.copy(), objective.value(mins))

