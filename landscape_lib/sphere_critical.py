r"""Finding, de-duplicating and classifying the critical points of an ℓ4 objective on the sphere (chapter 2).

Chapter 2 needs *every* critical point of :math:`f(q) = -\tfrac14\|A^\top q\|_4^4` for small ``n``, not
only the minimizers that descent finds. :func:`find_critical_points` (the sphere's counterpart of
:func:`landscape_lib.euclidean.find_critical_points`: the objective first, the same result type) therefore
collects the limits of three solvers from many random starts:

* descent (the power iteration), attracted by local minimizers;
* ascent (Riemannian gradient ascent), attracted by local maximizers;
* Riemannian Newton's method on :math:`\operatorname{grad} f = 0`, attracted by critical points of every
  type, which is how the saddles are found;

polishes every limit with Newton steps to a gradient norm below ``tol`` :math:`\cdot\,\varsigma`, merges ``q`` with
``-q`` (``f`` is even) with :func:`landscape_lib.critical.deduplicate`, and classifies each point by the
eigenvalues of its tangent-space Hessian :math:`B^\top \operatorname{Hess} f(q) B` into a
:class:`landscape_lib.critical.CriticalPoints` (``antipodal=True``), an eigenvalue counting as zero when
:math:`|\lambda| \le` ``eig_tol`` :math:`\cdot\,\varsigma`. Both tolerances are relative to the objective's scale
:math:`\varsigma` (:func:`landscape_lib.solvers.objective_scale`, :math:`\varsigma(tA) = t^4\varsigma(A)`, 1 for
unit-norm columns): gradients and Hessians of ``f`` scale like :math:`\varsigma`, and so the search finds the
same points with the same types for ``A`` and :math:`tA`, every :math:`t > 0`. Random starts can miss a critical point
with a tiny basin; the search is a numerical experiment, and the orthogonal case (closed form,
``book/formulas.md``) is the test that it finds everything there. :func:`search_until_stable` repeats the
search with independent starts until a round adds no new point (a stopping rule, not a proof of
completeness: the Euler characteristic :math:`\#\min - \#\text{saddle} + \#\max = 2` of the sphere
:math:`\mathbb{S}^2` is necessary, not sufficient, since missing a saddle together with a minimizer keeps it).

:func:`escape_iterations` measures how long perturbed Riemannian gradient descent needs to leave a certified
saddle (chapter 2, against the law of chapter 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_rng, check_positive
from .critical import CriticalPoints, collect, deduplicate
from .solvers import _check_objective, _scale, gradient_descent, newton, power_iteration
from .sphere import _inner, as_points, project, random_points

__all__ = ["find_critical_points", "classify_points", "StableSearch", "search_until_stable", "SaddleEscape",
           "escape_iterations"]


def _classified(objective, q: np.ndarray, *, eig_tol: float, scale: float, **search) -> CriticalPoints:
    lam = np.linalg.eigvalsh(objective.tangent_hessian(q))
    grad_norms = np.linalg.norm(objective.gradient(q), axis=-1)
    # eig_tol is relative: collect classifies with the absolute tolerance, in the units of f.
    return collect(q, objective.value(q), lam, eig_tol=eig_tol * scale, grad_norms=grad_norms, antipodal=True,
                   scale=scale, **search)


def classify_points(objective, q, *, eig_tol: float = 1e-6, scale: float | None = None) -> CriticalPoints:
    r"""Classify given critical points by the eigenvalues of their tangent Hessian (no search).

    Parameters
    ----------
    objective : landscape_lib.objectives.L4Objective
    q : array_like of shape (U, n)
        Unit-norm (approximate) critical points, distinct up to sign.
    eig_tol : float, default 1e-6
        Eigenvalues with :math:`|\lambda| \le` ``eig_tol`` :math:`\cdot\,\varsigma` count as zero (type
        ``DEGENERATE``).
    scale : float, optional
        The objective's scale :math:`\varsigma > 0`; default :func:`landscape_lib.solvers.objective_scale` (1 for
        unit-norm columns).

    Returns
    -------
    landscape_lib.critical.CriticalPoints
        With ``antipodal=True``, sorted like every ``CriticalPoints`` (type, value, coordinates); no
        ``hits``; its ``eig_tol`` is the absolute tolerance ``eig_tol * scale``.
    """
    _check_objective(objective)
    q = as_points(q, objective.n)
    if q.ndim != 2:
        raise ValueError(f"q must have shape (U, n); got {q.shape}")
    check_positive(eig_tol, "eig_tol", allow_zero=True)
    return _classified(objective, q, eig_tol=eig_tol, scale=_scale(objective, scale))


def find_critical_points(objective, *, n_starts: int = 300, tol: float = 1e-10, dedup_tol: float = 1e-6,
                         eig_tol: float = 1e-6, rng=None, scale: float | None = None) -> CriticalPoints:
    r"""Find (numerically) all critical points of an ℓ4 objective on the sphere.

    Runs descent (power iteration), ascent (Riemannian gradient ascent with Armijo backtracking, which
    converges for any frame; a fixed relative step can cycle) and Newton's
    method, each from ``n_starts`` random starts, polishes every converged limit with Newton steps, keeps
    the points with :math:`\|\operatorname{grad} f\| <` ``tol`` :math:`\cdot\,\varsigma`, merges :math:`\pm q` and
    points closer than ``dedup_tol``, and classifies them (:func:`classify_points`). Cost grows like
    ``n_starts · n² m``: meant for small ``n`` (chapter 2 draws ``n = 3``).

    Every tolerance that compares a gradient norm or an eigenvalue is relative to the objective's scale
    :math:`\varsigma` (:func:`landscape_lib.solvers.objective_scale`): for :math:`A \to tA` the values,
    gradients, Hessians and :math:`\varsigma` all gain the factor :math:`t^4` and the three solvers are scale
    invariant, so the result has the same points (up to round-off), types and counts at every scale
    :math:`t > 0`; ``dedup_tol`` is a distance on the sphere and needs no scale. For unit-norm columns
    :math:`\varsigma = 1`.

    Parameters
    ----------
    objective : landscape_lib.objectives.L4Objective
        Chapter 2: ``TensorObjective(A)``, :math:`f(q) = -\tfrac14\|A^\top q\|_4^4`.
    n_starts : int, default 300
        Random starts per solver.
    tol : float, default 1e-10
        Gradient norm, relative to :math:`\varsigma`, below which a point counts as critical.
    dedup_tol : float, default 1e-6
        Distance below which two points (up to sign) are the same.
    eig_tol : float, default 1e-6
        Zero tolerance for the tangent Hessian eigenvalues, relative to :math:`\varsigma`.
    rng : None, int or numpy.random.Generator
    scale : float, optional
        The objective's scale :math:`\varsigma > 0`; default :func:`landscape_lib.solvers.objective_scale`.

    Returns
    -------
    landscape_lib.critical.CriticalPoints
        One row per pair :math:`\pm q` (``antipodal=True``: ``counts()`` counts both), sorted by type
        (minimizers, saddles, maximizers, degenerate), then by value, then by coordinates; ``hits`` counts
        the polished limits merged into each point, ``n_starts`` the starts of all three solvers; ``scale``
        is :math:`\varsigma` and ``eig_tol`` the absolute tolerance ``eig_tol * scale``.
    """
    _check_objective(objective)
    check_positive(n_starts, "n_starts", integer=True)
    check_positive(tol, "tol")
    check_positive(dedup_tol, "dedup_tol")
    check_positive(eig_tol, "eig_tol", allow_zero=True)
    sigma = _scale(objective, scale)  # once: for the data objectives it costs a pass over the data
    n = objective.n
    starts = random_points(n, (3, n_starts), rng=rng)
    limits = [
        power_iteration(objective, starts[0], tol=1e-6, max_iter=2000, scale=sigma).points,
        gradient_descent(objective, starts[1], step=1.0, ascent=True, line_search=True, tol=1e-6,
                         max_iter=2000, scale=sigma).points,
        newton(objective, starts[2], tol=tol, max_iter=100, scale=sigma).points,
    ]
    polished = newton(objective, np.concatenate(limits), tol=tol, max_iter=20, max_step=0.05, scale=sigma)
    found = polished.points[polished.converged]
    if found.shape[0] == 0:
        raise RuntimeError("no start converged to a critical point; increase n_starts")
    unique, index = deduplicate(found, tol=dedup_tol, antipodal=True)
    return _classified(objective, unique, eig_tol=eig_tol, scale=sigma,
                       hits=np.bincount(index, minlength=unique.shape[0]), n_starts=3 * int(n_starts),
                       n_converged=int(found.shape[0]))


@dataclass(frozen=True)
class StableSearch:
    """Outcome of :func:`search_until_stable`.

    Attributes
    ----------
    critical : landscape_lib.critical.CriticalPoints
        The union of all rounds, classified (``hits``: limits merged into each point over all rounds).
    new_per_round : ndarray of shape (n_rounds,), dtype int
        Distinct points (pairs ``±q``) that each round added to the union; the last ``patience`` entries are 0
        when ``stable``.
    stable : bool
        Whether the search stopped because ``patience`` rounds in a row added nothing (else: ``max_rounds``).
    """

    critical: CriticalPoints
    new_per_round: np.ndarray
    stable: bool

    @property
    def rounds(self) -> int:
        """Rounds run."""
        return int(self.new_per_round.size)


def search_until_stable(objective, *, n_starts: int = 300, patience: int = 1, max_rounds: int = 20,
                        tol: float = 1e-10, dedup_tol: float = 1e-6, eig_tol: float = 1e-6,
                        rng=None, scale: float | None = None) -> StableSearch:
    r"""Repeat :func:`find_critical_points` with independent starts until no new critical point appears.

    Round ``r`` runs the three-solver search from ``n_starts`` fresh random starts per solver (drawn from
    ``rng``), merges its points (up to sign, ``dedup_tol``) into the union of the earlier rounds and counts the
    new ones. The search stops after ``patience`` rounds in a row that add nothing, or after ``max_rounds``.
    This measures coverage honestly: one round of 300 starts on ``A = I_4`` (seed 1003) misses 2 of the 56
    saddles. It is a stopping rule, not a certificate: a critical point with a tiny basin for all three
    solvers can still be missed. Chapter 2.

    Parameters
    ----------
    objective : landscape_lib.objectives.L4Objective
    n_starts : int, default 300
        Random starts per solver and round.
    patience : int, default 1
        Rounds in a row without a new point before stopping.
    max_rounds : int, default 20
    tol, dedup_tol, eig_tol : float
        As in :func:`find_critical_points` (``tol`` and ``eig_tol`` relative to the objective's scale).
    rng : None, int or numpy.random.Generator
    scale : float, optional
        The objective's scale :math:`\varsigma > 0`; default :func:`landscape_lib.solvers.objective_scale`.

    Returns
    -------
    StableSearch
    """
    _check_objective(objective)
    check_positive(patience, "patience", integer=True)
    check_positive(max_rounds, "max_rounds", integer=True)
    sigma = _scale(objective, scale)
    gen = as_rng(rng)
    reps = np.empty((0, objective.n))
    hits = np.zeros(0, dtype=np.int64)
    new, quiet, starts, converged = [], 0, 0, 0
    for _ in range(int(max_rounds)):
        found = find_critical_points(objective, n_starts=n_starts, tol=tol, dedup_tol=dedup_tol, eig_tol=eig_tol,
                                     rng=gen, scale=sigma)
        unique, index = deduplicate(np.concatenate([reps, found.points]), tol=dedup_tol, antipodal=True)
        counts = np.concatenate([hits, found.hits])
        added = unique.shape[0] - reps.shape[0]
        reps = unique
        hits = np.bincount(index, weights=counts, minlength=unique.shape[0]).astype(np.int64)
        starts += found.n_starts
        converged += found.n_converged
        new.append(added)
        quiet = quiet + 1 if added == 0 else 0
        if quiet >= patience:
            break
    critical = _classified(objective, reps, eig_tol=eig_tol, scale=sigma, hits=hits, n_starts=starts,
                           n_converged=converged)
    return StableSearch(critical=critical, new_per_round=np.asarray(new, dtype=np.int64), stable=quiet >= patience)


@dataclass(frozen=True)
class SaddleEscape:
    r"""Outcome of :func:`escape_iterations` (``n_saddles`` saddles, ``runs`` runs each).

    Attributes
    ----------
    iterations : ndarray of shape (n_saddles, runs), dtype int
        First iteration at which the run is at distance at least ``escape_radius`` from its saddle (up to
        sign); ``-1`` if not within ``max_iter``.
    lambda_min : ndarray of shape (n_saddles,)
        Smallest tangent Hessian eigenvalue at each saddle.
    predicted : ndarray of shape (n_saddles,)
        Chapter 1's law for a kick of size ``radius`` entirely along the unstable direction,
        :math:`\log(R_{\mathrm{esc}}/r_\xi)/\log(1 + \eta|\lambda_{\min}|)`: a lower bound, up to the linearization.
    final_values : ndarray of shape (n_saddles, runs)
        :math:`f` where each run stopped (below the saddle's value once it has escaped downhill).
    step, radius, escape_radius : float
    """

    iterations: np.ndarray
    lambda_min: np.ndarray
    predicted: np.ndarray
    final_values: np.ndarray
    step: float
    radius: float
    escape_radius: float


def escape_iterations(objective, saddles, *, step: float, radius: float = 1e-6, escape_radius: float = 0.3,
                      runs: int = 8, max_iter: int = 5000, rng=None) -> SaddleEscape:
    r"""Perturbed Riemannian gradient descent started exactly at saddles: one kick, then fixed steps.

    Each run starts at a saddle :math:`q_\star`, takes one random kick :math:`q_0 = R_{q_\star}(\xi)`,
    :math:`\xi` uniform on the tangent sphere of radius :math:`r_\xi` = ``radius`` (the kick of perturbed
    gradient descent, Jin et al. 2017; chapter 1, section 5), then iterates
    :math:`q_{k+1} = R_{q_k}(-\eta\operatorname{grad} f(q_k))` with the fixed step :math:`\eta` = ``step``
    until :math:`\min\|q_k \mp q_\star\| \ge R_{\mathrm{esc}}` = ``escape_radius``. Linearized at the
    saddle, the displacement along the eigenvector of :math:`\lambda_{\min} < 0` grows by
    :math:`1 + \eta|\lambda_{\min}|` per step, so a kick entirely along it escapes after

    .. math:: k \approx \frac{\log(R_{\mathrm{esc}}/r_\xi)}{\log(1 + \eta|\lambda_{\min}|)}

    steps (chapter 1, section 4); a random kick has a smaller unstable component, so this is a lower bound
    up to the linearization. All ``n_saddles · runs`` runs go as one batch.

    Parameters
    ----------
    objective : landscape_lib.objectives.L4Objective
    saddles : array_like of shape (n_saddles, n)
        Certified saddles (unit norm, :math:`\lambda_{\min} < 0`).
    step : float
        Fixed Riemannian step :math:`\eta > 0`. It is absolute, not relative to the objective's scale: the law
        depends on :math:`\eta|\lambda_{\min}|`, so for :math:`tA` the same runs take :math:`\eta / t^4`.
    radius : float, default 1e-6
        Kick size :math:`r_\xi`.
    escape_radius : float, default 0.3
        Distance :math:`R_{\mathrm{esc}}` that counts as escaped, larger than ``radius``.
    runs : int, default 8
        Kicks per saddle.
    max_iter : int, default 5000
    rng : None, int or numpy.random.Generator

    Returns
    -------
    SaddleEscape
    """
    _check_objective(objective)
    q_s = as_points(saddles, objective.n, name="saddles")
    if q_s.ndim != 2:
        raise ValueError(f"saddles must have shape (S, n); got {q_s.shape}")
    eta = check_positive(step, "step")
    r = check_positive(radius, "radius")
    big = check_positive(escape_radius, "escape_radius")
    if not r < big:
        raise ValueError(f"radius must be smaller than escape_radius; got {r} and {big}")
    runs = check_positive(runs, "runs", integer=True)
    max_iter = check_positive(max_iter, "max_iter", integer=True)
    lam_min = np.linalg.eigvalsh(objective.tangent_hessian(q_s))[:, 0]
    if np.any(lam_min >= 0):
        raise ValueError("every point in saddles needs a negative tangent Hessian eigenvalue; "
                         f"got lambda_min = {lam_min.max():.3g}")
    S = q_s.shape[0]
    centre = np.repeat(q_s, runs, axis=0)
    xi = project(centre, as_rng(rng).standard_normal(centre.shape))
    xi *= (r / np.sqrt(_inner(xi, xi)))[:, None]
    q = centre + xi
    q /= np.sqrt(_inner(q, q))[:, None]
    out = np.full(centre.shape[0], -1, dtype=np.intp)
    final = np.empty(centre.shape[0])
    active = np.arange(centre.shape[0])
    for it in range(max_iter + 1):
        c = centre[active]
        dist = np.minimum(np.linalg.norm(q - c, axis=1), np.linalg.norm(q + c, axis=1))
        left = dist >= big
        if left.any():
            out[active[left]] = it
            final[active[left]] = objective.value(q[left])
            active, q = active[~left], q[~left]
        if not active.size or it == max_iter:
            break
        new = q - eta * objective.gradient(q)
        q = new / np.sqrt(_inner(new, new))[:, None]
    if active.size:
        final[active] = objective.value(q)
    predicted = np.log(big / r) / np.log1p(eta * np.abs(lam_min))
    return SaddleEscape(iterations=out.reshape(S, runs), lambda_min=lam_min, predicted=predicted,
                        final_values=final.reshape(S, runs), step=float(eta), radius=float(r),
                        escape_radius=float(big))
