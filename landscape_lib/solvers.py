r"""Batched first- and second-order solvers on the sphere for the ℓ4 objectives, from many starts at once.

Every solver takes an *objective* first, an :class:`~landscape_lib.objectives.L4Objective` (the tensor
objective :class:`~landscape_lib.objectives.TensorObjective` of chapter 2 or the data objective
:class:`~landscape_lib.objectives.DataObjective` of chapter 3: one code path for both), then starting
points of shape ``(..., n)``, the argument order of :func:`landscape_lib.euclidean.gradient_descent` in the
plane. It runs every start at once, with the objective's gradient pass (two matrix products of shapes
``(N, n) @ (n, k)`` and ``(N, k) @ (k, n)`` per iteration, one BLAS thread), and drops each start from the
batch as soon as it has converged (Riemannian gradient norm :math:`\|\operatorname{grad} f(q)\|_2 <`
``tol``), so the cost follows the starts still running, not the slowest one.

* :func:`gradient_descent` — Riemannian gradient descent (or ascent) with the step rule
  :math:`\tau_k = \eta / \langle q_k, -\nabla f(q_k)\rangle` (:math:`= \eta/\|\zeta_k\|_4^4` for the ℓ4
  objectives, :math:`\zeta_k = M^\top q_k`), :math:`q_{k+1} = R_{q_k}(-\tau_k \operatorname{grad} f(q_k))`.
  The rule is scale invariant (``f`` is homogeneous of degree 4 in ``M``); :math:`\eta = 1` is exactly the
  power iteration.
* :func:`power_iteration` — :math:`q_{k+1} = -\nabla f(q_k)/\|\nabla f(q_k)\|_2`, for the ℓ4 objectives
  :math:`M\zeta_k^{\circ 3} / \|M\zeta_k^{\circ 3}\|_2` (the book's Formulas appendix, ``book/formulas.md``:
  Riemannian GD with :math:`\tau = 1/\|\zeta\|_4^4`).
* :func:`newton` — Riemannian Newton's method on :math:`\operatorname{grad} f = 0`, which converges to
  the nearby critical point whatever its type (used to find saddles and maxima, chapter 2).

With ``polish=True`` the descent solvers switch, for each start still running after ``polish_after``
iterations, to Newton steps once its gradient norm is below ``polish_below`` and the tangent Hessian is
positive definite along the Krylov directions (a strict local minimizer is near). The Newton system is
solved by truncated conjugate gradients with the objective's Hessian-vector products (each costs about one
first-order step), so the slow linear tail of the first-order iteration becomes a few superlinear steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._threads import one_blas_thread
from ._validation import check_positive, check_scalar
from .objectives import L4Objective
from .sphere import _inner, as_points

__all__ = ["SolverResult", "gradient_descent", "power_iteration", "newton"]


@dataclass(frozen=True)
class SolverResult:
    """Outcome of a batched solver (leading shape ``S`` = the batch shape of ``starts``).

    Attributes
    ----------
    points : ndarray of shape S + (n,)
        Final iterates (unit vectors).
    values : ndarray of shape S
        :math:`f` at the final iterates.
    grad_norms : ndarray of shape S
        Riemannian gradient norms at the final iterates.
    iterations : ndarray of shape S, dtype int
        Iterations (steps taken) per start, first-order and Newton steps together.
    newton_steps : ndarray of shape S, dtype int
        How many of those were Newton steps.
    converged : ndarray of shape S, dtype bool
        ``grad_norms < tol`` reached within ``max_iter``.
    path : ndarray of shape (T + 1,) + S + (n,), or None
        With ``record=True``: the iterates, a start's last point repeated after it has stopped.
    grad_norm_path : ndarray of shape (T + 1,) + S, or None
        With ``record=True``: gradient norms per iteration, NaN after a start has stopped.
    """

    points: np.ndarray
    values: np.ndarray
    grad_norms: np.ndarray
    iterations: np.ndarray
    newton_steps: np.ndarray
    converged: np.ndarray
    path: np.ndarray | None = None
    grad_norm_path: np.ndarray | None = None


def gradient_descent(objective, starts, *, step: float = 1.0, ascent: bool = False, tol: float = 1e-8,
                     max_iter: int = 1000, polish: bool = False, polish_below: float = 1e-3,
                     polish_after: int = 50, record: bool = False, line_search: bool = False,
                     armijo: float = 1e-4, max_backtracks: int = 40) -> SolverResult:
    r"""Riemannian gradient descent (or ascent) on the sphere from many starts at once.

    .. math::

        q_{k+1} = \frac{q_k \mp \tau_k \operatorname{grad} f(q_k)}{\|q_k \mp \tau_k \operatorname{grad}
        f(q_k)\|_2}, \qquad \tau_k = \frac{\eta}{\langle q_k, -\nabla f(q_k)\rangle}
        = \frac{\eta}{\|M^\top q_k\|_4^4},

    for :math:`f(q) = -\tfrac14\|M^\top q\|_4^4` (``-`` descent, ``+`` ascent). For descent,
    :math:`\eta = 1` gives :math:`q_{k+1} \propto -\nabla f(q_k) = M\zeta_k^{\circ 3}`, the power iteration; smaller
    :math:`\eta` gives shorter steps (smoother trajectories, chapter 2).

    A fixed :math:`\eta` does not converge for every frame: ascent at :math:`\eta = 1/2` on random unit columns
    (``n = 6``, ``m = 15``) falls into period-2 cycles from every start (chapter 2). With
    ``line_search=True`` each step starts from :math:`\tau_k = \eta/\|M^\top q_k\|_4^4` and is halved
    (Armijo backtracking along the retraction, batched over the starts still running) until

    .. math::

        \pm\bigl(f(R_{q_k}(\mp\tau_k \operatorname{grad} f(q_k))) - f(q_k)\bigr)
        \le -c\,\tau_k \|\operatorname{grad} f(q_k)\|_2^2 \qquad (c = ``armijo``),

    so ``f`` decreases (ascent: increases) by a sufficient amount at every step; ``f`` is smooth and bounded on
    the compact sphere, so :math:`\|\operatorname{grad} f(q_k)\| \to 0` for every frame, tight or not, and
    no cycle can persist (Absil, Mahony, Sepulchre 2008, Thm. 4.3.1). The default ``line_search=False`` keeps
    the fixed rule (and its iterates, bit for bit).

    Parameters
    ----------
    objective : landscape_lib.objectives.L4Objective
        The objective: ``TensorObjective(A)`` (chapter 2) or ``DataObjective(Y, theta)`` (chapter 3).
    starts : array_like of shape (..., n)
        Unit-norm starting points.
    step : float, default 1.0
        The relative step :math:`\eta > 0`.
    ascent : bool, default False
        Climb ``f`` instead of descending.
    tol : float, default 1e-8
        Stop a start when its Riemannian gradient norm is below ``tol``.
    max_iter : int, default 1000
        Largest number of steps per start.
    polish : bool, default False
        Descent only: switch to Newton steps near strict local minimizers (see the module notes).
    polish_below : float, default 1e-3
        Gradient norm below which a start tries Newton steps.
    polish_after : int, default 50
        Iteration from which Newton steps are tried: only the slow tail of starts is polished (a start
        that converges quickly does not pay for second-order steps).
    record : bool, default False
        Keep the whole path (memory ``T · N · n``; for plots with few starts).
    line_search : bool, default False
        Armijo backtracking from the relative step ``step`` (see above): converges for any frame.
    armijo : float, default 1e-4
        Sufficient-decrease constant :math:`c \in (0, 1)`.
    max_backtracks : int, default 40
        Halvings per step at most; a step still failing then (a gradient at round-off level) is taken as is.

    Returns
    -------
    SolverResult
    """
    check_positive(step, "step")
    check_scalar(armijo, "armijo", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    check_positive(max_backtracks, "max_backtracks", integer=True)
    if polish and ascent:
        raise ValueError("polish=True is for descent (it targets local minimizers); got ascent=True")
    eta = float(step)
    sign = -1.0 if ascent else 1.0

    def update(q, g, s):
        # q - sign * tau * grad with grad = s q - g and tau = eta / s
        return (1.0 - sign * eta) * q + (sign * eta / s)[:, None] * g

    if line_search:
        c = float(armijo)

        def update(q, g, s):  # noqa: F811 (the Armijo variant of the rule above)
            grad = s[:, None] * q - g
            gg = _inner(grad, grad)
            f0 = -0.25 * s  # f(q) = -||ζ||₄⁴/4 = -s/4, free from the gradient pass
            tau = eta / s
            new = q - (sign * tau)[:, None] * grad
            todo = np.arange(q.shape[0])
            for _ in range(int(max_backtracks)):
                trial = new[todo]
                trial = trial / np.sqrt(_inner(trial, trial))[:, None]
                # sufficient decrease (ascent: increase), with a round-off allowance of a few ulps of f
                gain = sign * (objective._value(trial) - f0[todo])
                ok = gain <= -c * tau[todo] * gg[todo] + 8 * np.finfo(float).eps * np.abs(f0[todo])
                todo = todo[~ok]
                if not todo.size:
                    break
                tau[todo] *= 0.5
                new[todo] = q[todo] - (sign * tau[todo])[:, None] * grad[todo]
            return new

    return _run(objective, starts, update, tol=tol, max_iter=max_iter, polish=polish, polish_below=polish_below,
                polish_after=polish_after, record=record)


def power_iteration(objective, starts, *, tol: float = 1e-8, max_iter: int = 1000, polish: bool = False,
                    polish_below: float = 1e-3, polish_after: int = 50, record: bool = False) -> SolverResult:
    r"""The power iteration :math:`q_{k+1} = -\nabla f(q_k) / \|\nabla f(q_k)\|_2`.

    For the ℓ4 objectives :math:`-\nabla f(q) = M (M^\top q)^{\circ 3}`: it is Riemannian gradient descent
    with step :math:`1/\|M^\top q_k\|_4^4` (:func:`gradient_descent` with ``step=1``), the classical
    algorithm for tensor decomposition (Anandkumar et al. 2014). Parameters and result as in
    :func:`gradient_descent`.
    """

    def update(q, g, s):
        return g

    return _run(objective, starts, update, tol=tol, max_iter=max_iter, polish=polish, polish_below=polish_below,
                polish_after=polish_after, record=record)


def newton(objective, starts, *, tol: float = 1e-10, max_iter: int = 50, max_step: float = 0.5,
           record: bool = False) -> SolverResult:
    r"""Riemannian Newton's method for :math:`\operatorname{grad} f(q) = 0` from many starts at once.

    Each step solves :math:`\operatorname{Hess} f(q)[d] = -\operatorname{grad} f(q)` on the tangent
    space (as the nonsingular system :math:`(\operatorname{Hess} f(q) + q q^\top) d =
    -\operatorname{grad} f(q)`, whose solution is tangent), shortens ``d`` to at most ``max_step``, and
    retracts. Newton's method is attracted by critical points of every type, so from many random starts it
    finds saddles and maximizers as well as minimizers (chapter 2). Starts that do not converge within
    ``max_iter`` (e.g. near a degenerate point) are reported with ``converged=False``.

    Parameters
    ----------
    objective : landscape_lib.objectives.L4Objective
    starts : array_like of shape (..., n)
        Unit-norm starting points.
    tol : float, default 1e-10
        Stop a start when its Riemannian gradient norm is below ``tol``.
    max_iter : int, default 50
    max_step : float, default 0.5
        Largest tangent step length.
    record : bool, default False
        Keep the whole path.

    Returns
    -------
    SolverResult
    """
    check_positive(max_step, "max_step")
    return _run(objective, starts, None, tol=tol, max_iter=max_iter, polish=False, polish_below=0.0, record=record,
                max_step=max_step)


def _newton_direction(objective, q, g_r, s, z):
    """Tangent Newton steps ``d`` for rows ``q`` (any critical type), and the mask of finite steps."""
    # Solve (Hess f(q) + q q^T) d = -grad f(q) in the eigenbasis: the matrix is nonsingular where Hess f is
    # on the tangent space, and d is tangent because grad f is.
    M = objective._hessian(q, z, s) + q[:, :, None] * q[:, None, :]
    w, v = np.linalg.eigh(M)
    coef = -np.einsum("kji,kj->ki", v, g_r) / w
    d = np.einsum("kij,kj->ki", v, coef)
    return d, np.all(np.isfinite(d), axis=1)


def _newton_cg(objective, q, g_r, s, z, iters):
    r"""Truncated conjugate gradients for the Newton system :math:`\operatorname{Hess} f(q)[d] =
    -\operatorname{grad} f(q)` on the tangent spaces, batched over rows, with the objective's Hessian-vector
    products only (two matrix products each, the cost of one first-order step). Rows where CG meets
    nonpositive curvature are flagged ``ok = False`` (not in the basin of a strict local minimizer)."""
    d = np.zeros_like(q)
    r = -g_r
    p = r.copy()
    rr = _inner(r, r)
    gnorm = np.sqrt(rr)
    # Forcing term min(0.1, |grad|): superlinear convergence. Floored at 1e-6 relative: asked for less, CG
    # runs on into round-off, where the sign of p·Hp (and so the "negative curvature" flag) is noise.
    goal = (np.clip(gnorm, 1e-6, 0.1) * gnorm) ** 2
    ok = np.ones(q.shape[0], dtype=bool)
    run = rr > goal
    for _ in range(iters):
        if not np.any(run):
            break
        hp = objective._hessian_vector(q, z, s, p)
        php = _inner(p, hp)
        bad = run & (php <= 0)
        ok &= ~bad
        run &= ~bad
        alpha = np.where(run, rr / np.where(run, php, 1.0), 0.0)
        d += alpha[:, None] * p
        r -= alpha[:, None] * hp
        rr_new = _inner(r, r)
        beta = np.where(run, rr_new / np.where(run, rr, 1.0), 0.0)
        p = r + beta[:, None] * p
        rr = np.where(run, rr_new, rr)
        run &= rr > goal
    return d, ok


def _run(objective, starts, update, *, tol, max_iter, polish, polish_below, polish_after=0, record,
         max_step=None, cg_iter=None) -> SolverResult:
    if not isinstance(objective, L4Objective):
        raise ValueError("objective must be an ℓ4 objective of landscape_lib.objectives (TensorObjective(A) or "
                         f"DataObjective(Y, theta)); got {type(objective).__name__}")
    q0 = as_points(starts, objective.n, name="starts")
    check_positive(tol, "tol")
    check_positive(max_iter, "max_iter", integer=True)
    check_positive(polish_below, "polish_below", allow_zero=True)
    check_positive(polish_after, "polish_after", integer=True, allow_zero=True)
    batch, n = q0.shape[:-1], q0.shape[-1]
    q = q0.reshape(-1, n).copy()
    N = q.shape[0]
    out_q = np.empty((N, n))
    out_g = np.empty(N)
    iters = np.zeros(N, dtype=np.intp)
    nsteps = np.zeros(N, dtype=np.intp)
    conv = np.zeros(N, dtype=bool)
    active = np.arange(N)
    paths, gpaths = [], []
    newton_only = update is None
    cg_iter = min(n - 1, 20) if cg_iter is None else cg_iter

    work = (np.empty((N, objective.matrix.shape[1])), np.empty((N, objective.matrix.shape[1])))
    with one_blas_thread():
        for it in range(max_iter + 1):
            z, g, s = objective._pass(q, work)  # g = -∇f(q), s = <q, g>: two matrix products
            g_r = objective._riemannian_gradient(q, g, s)
            gnorm = np.sqrt(_inner(g_r, g_r))
            if record:
                pq = paths[-1].copy() if paths else np.empty((N, n))
                pg = np.full(N, np.nan)
                pq[active], pg[active] = q, gnorm
                paths.append(pq)
                gpaths.append(pg)
            last = it == max_iter
            done = gnorm < tol
            stop = np.ones_like(done) if last else done
            if stop.any():
                idx = active[stop]
                out_q[idx], out_g[idx], iters[idx], conv[idx] = q[stop], gnorm[stop], it, done[stop]
                if last or stop.all():
                    break
                keep = ~stop
                active, q, s, z, g, g_r, gnorm = (active[keep], q[keep], s[keep], z[keep], g[keep], g_r[keep],
                                                  gnorm[keep])
            if newton_only:
                d, ok = _newton_direction(objective, q, g_r, s, z)
                d = np.where(ok[:, None], d, -g_r)
                length = np.linalg.norm(d, axis=1)
                d *= np.minimum(1.0, max_step / np.maximum(length, 1e-300))[:, None]
                new = q + d
                nsteps[active] += 1
            else:
                new = update(q, g, s)
                if polish and it >= polish_after:
                    near = np.flatnonzero(gnorm < polish_below)
                    if near.size:
                        d, ok = _newton_cg(objective, q[near], g_r[near], s[near], z[near], cg_iter)
                        rows = near[ok]
                        new[rows] = q[rows] + d[ok]
                        nsteps[active[rows]] += 1
            q = new / np.sqrt(_inner(new, new))[:, None]

    values = objective._value(out_q)
    path = gpath = None
    if record:
        path = np.stack(paths).reshape((len(paths),) + batch + (n,))
        gpath = np.stack(gpaths).reshape((len(gpaths),) + batch)
    return SolverResult(
        points=out_q.reshape(batch + (n,)), values=values.reshape(batch), grad_norms=out_g.reshape(batch),
        iterations=iters.reshape(batch), newton_steps=nsteps.reshape(batch), converged=conv.reshape(batch),
        path=path, grad_norm_path=gpath,
    )
