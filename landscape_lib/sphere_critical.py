r"""Finding, de-duplicating and classifying the critical points of an ℓ4 objective on the sphere (chapter 2).

Chapter 2 needs *every* critical point of :math:`f(q) = -\tfrac14\|A^\top q\|_4^4` for small ``n``, not
only the minimizers that descent finds. :func:`find_critical_points` (the sphere's counterpart of
:func:`landscape_lib.euclidean.find_critical_points`: the objective first, the same result type) therefore
collects the limits of three solvers from many random starts:

* descent (the power iteration), attracted by local minimizers;
* ascent (Riemannian gradient ascent), attracted by local maximizers;
* Riemannian Newton's method on :math:`\operatorname{grad} f = 0`, attracted by critical points of every
  type, which is how the saddles are found;

polishes every limit with Newton steps to a gradient norm below ``tol``, merges ``q`` with ``-q`` (``f`` is
even) with :func:`landscape_lib.critical.deduplicate`, and classifies each point by the eigenvalues of its
tangent-space Hessian :math:`B^\top \operatorname{Hess} f(q) B` into a
:class:`landscape_lib.critical.CriticalPoints` (``antipodal=True``). Random starts can miss a critical point
with a tiny basin; the search is a numerical experiment, and the orthogonal case (closed form,
``book/formulas.md``) is the test that it finds everything there.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_positive
from .critical import CriticalPoints, collect, deduplicate
from .objectives import L4Objective
from .solvers import gradient_descent, newton, power_iteration
from .sphere import as_points, random_points

__all__ = ["find_critical_points", "classify_points"]


def _check_objective(objective) -> None:
    if not isinstance(objective, L4Objective):
        raise ValueError("objective must be an ℓ4 objective of landscape_lib.objectives (e.g. TensorObjective(A)); "
                         f"got {type(objective).__name__}")


def _classified(objective, q: np.ndarray, *, eig_tol: float, **search) -> CriticalPoints:
    lam = np.linalg.eigvalsh(objective.tangent_hessian(q))
    grad_norms = np.linalg.norm(objective.gradient(q), axis=-1)
    return collect(q, objective.value(q), lam, eig_tol=eig_tol, grad_norms=grad_norms, antipodal=True, **search)


def classify_points(objective, q, *, eig_tol: float = 1e-6) -> CriticalPoints:
    """Classify given critical points by the eigenvalues of their tangent Hessian (no search).

    Parameters
    ----------
    objective : landscape_lib.objectives.L4Objective
    q : array_like of shape (U, n)
        Unit-norm (approximate) critical points, distinct up to sign.
    eig_tol : float, default 1e-6
        Eigenvalues with :math:`|\\lambda| \\le` ``eig_tol`` count as zero (type ``DEGENERATE``).

    Returns
    -------
    landscape_lib.critical.CriticalPoints
        With ``antipodal=True``, sorted like every ``CriticalPoints`` (type, value, coordinates); no
        ``hits``.
    """
    _check_objective(objective)
    q = as_points(q, objective.n)
    if q.ndim != 2:
        raise ValueError(f"q must have shape (U, n); got {q.shape}")
    return _classified(objective, q, eig_tol=eig_tol)


def find_critical_points(objective, *, n_starts: int = 300, tol: float = 1e-10, dedup_tol: float = 1e-6,
                         eig_tol: float = 1e-6, rng=None) -> CriticalPoints:
    r"""Find (numerically) all critical points of an ℓ4 objective on the sphere.

    Runs descent (power iteration), ascent (Riemannian gradient ascent, relative step 1/2) and Newton's
    method, each from ``n_starts`` random starts, polishes every converged limit with Newton steps, keeps
    the points with :math:`\|\operatorname{grad} f\| <` ``tol``, merges :math:`\pm q` and points closer than
    ``dedup_tol``, and classifies them (:func:`classify_points`). Cost grows like ``n_starts · n² m``: meant
    for small ``n`` (chapter 2 draws ``n = 3``).

    Parameters
    ----------
    objective : landscape_lib.objectives.L4Objective
        Chapter 2: ``TensorObjective(A)``, :math:`f(q) = -\tfrac14\|A^\top q\|_4^4`.
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
    landscape_lib.critical.CriticalPoints
        One row per pair :math:`\pm q` (``antipodal=True``: ``counts()`` counts both), sorted by type
        (minimizers, saddles, maximizers, degenerate), then by value, then by coordinates; ``hits`` counts
        the polished limits merged into each point, ``n_starts`` the starts of all three solvers.
    """
    _check_objective(objective)
    check_positive(n_starts, "n_starts", integer=True)
    check_positive(tol, "tol")
    check_positive(dedup_tol, "dedup_tol")
    check_positive(eig_tol, "eig_tol", allow_zero=True)
    n = objective.n
    starts = random_points(n, (3, n_starts), rng=rng)
    limits = [
        power_iteration(objective, starts[0], tol=1e-6, max_iter=2000).points,
        gradient_descent(objective, starts[1], step=0.5, ascent=True, tol=1e-6, max_iter=2000).points,
        newton(objective, starts[2], tol=tol, max_iter=100).points,
    ]
    polished = newton(objective, np.concatenate(limits), tol=tol, max_iter=20, max_step=0.05)
    found = polished.points[polished.converged]
    if found.shape[0] == 0:
        raise RuntimeError("no start converged to a critical point; increase n_starts")
    unique, index = deduplicate(found, tol=dedup_tol, antipodal=True)
    return _classified(objective, unique, eig_tol=eig_tol, hits=np.bincount(index, minlength=unique.shape[0]),
                       n_starts=3 * int(n_starts), n_converged=int(found.shape[0]))
