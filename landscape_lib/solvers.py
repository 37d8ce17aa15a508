r"""Batched first- and second-order solvers on the sphere for the ℓ4 objectives, from many starts at once.

Every solver takes an *objective* first, an :class:`~landscape_lib.objectives.L4Objective` (the tensor
objective :class:`~landscape_lib.objectives.TensorObjective` of chapter 2 or the data objective
:class:`~landscape_lib.objectives.DataObjective` of chapter 3: one code path for both), then starting
points of shape ``(..., n)``, the argument order of :func:`landscape_lib.euclidean.gradient_descent` in the
plane. It runs every start at once, with the objective's gradient pass (two matrix products of shapes
``(N, n) @ (n, k)`` and ``(N, k) @ (k, n)`` per iteration, one BLAS thread), and drops each start from the
batch as soon as it has converged (Riemannian gradient norm :math:`\|\operatorname{grad} f(q)\|_2 <`
``tol`` :math:`\cdot\,\varsigma`), so the cost follows the starts still running, not the slowest one.

Every tolerance is relative to the objective's scale :math:`\varsigma` (:func:`objective_scale`), which is
homogeneous of degree 4 in the data like ``f`` itself: multiplying the columns by :math:`t > 0` multiplies
``f``, its gradient, its Hessian and :math:`\varsigma` by :math:`t^4`, so the solvers take the same steps, stop
at the same iteration and return the same points (up to round-off) at every scale. For unit-norm columns
(chapter 2, the tensor objectives of chapter 3) :math:`\varsigma = 1`, and the relative tolerances are the absolute
ones of earlier versions; for data from a unit-norm dictionary (chapter 3) :math:`\varsigma` is 1 up to sampling
error.

* :func:`gradient_descent` — Riemannian gradient descent (or ascent) with the step rule
  :math:`\eta_k = \eta / \langle q_k, -\nabla f(q_k)\rangle` (:math:`= \eta/\|\zeta_k\|_4^4` for the ℓ4
  objectives, :math:`\zeta_k = M^\top q_k`), :math:`q_{k+1} = R_{q_k}(-\eta_k \operatorname{grad} f(q_k))`.
  The rule is scale invariant (``f`` is homogeneous of degree 4 in ``M``); :math:`\eta = 1` is exactly the
  power iteration.
* :func:`power_iteration` — :math:`q_{k+1} = -\nabla f(q_k)/\|\nabla f(q_k)\|_2`, for the ℓ4 objectives
  :math:`M\zeta_k^{\circ 3} / \|M\zeta_k^{\circ 3}\|_2` (the book's Formulas appendix, ``book/formulas.md``:
  Riemannian GD with :math:`\eta_k = 1/\|\zeta_k\|_4^4`).
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

__all__ = ["SolverResult", "objective_scale", "gradient_descent", "power_iteration", "newton"]


@dataclass(frozen=True)
class SolverResult:
    r"""Outcome of a batched solver (leading shape ``S`` = the batch shape of ``starts``).

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
        ``grad_norms < tol * scale`` reached within ``max_iter``.
    path : ndarray of shape (T + 1,) + S + (n,), or None
        With ``record=True``: the iterates, a start's last point repeated after it has stopped.
    grad_norm_path : ndarray of shape (T + 1,) + S, or None
        With ``record=True``: gradient norms per iteration, NaN after a start has stopped.
    scale : float or None
        The objective's scale :math:`\varsigma` that the tolerances were relative to (:func:`objective_scale`, or
        the ``scale`` passed to the solver).
    """

    points: np.ndarray
    values: np.ndarray
    grad_norms: np.ndarray
    iterations: np.ndarray
    newton_steps: np.ndarray
    converged: np.ndarray
    path: np.ndarray | None = None
    grad_norm_path: np.ndarray | None = None
    scale: float | None = None


def objective_scale(objective) -> float:
    r"""The scale :math:`\varsigma` of an ℓ4 objective: the unit of every tolerance of the solvers and searches.

    ``f``, its gradients and its Hessians are homogeneous of degree 4 in the columns, so an absolute tolerance
    means something different at every scale (at :math:`10^{-3}A` every gradient norm is :math:`10^{-12}` times
    smaller, and a start would count as converged where it began). The solvers and
    :mod:`landscape_lib.sphere_critical` therefore compare gradient norms with ``tol`` :math:`\cdot\,\varsigma`
    and Hessian eigenvalues with ``eig_tol`` :math:`\cdot\,\varsigma`, where :math:`\varsigma` is the size of the
    columns of the dictionary behind the objective,

    .. math::

        \varsigma(A) = \Bigl(\frac{\sum_i \|a_i\|_2^4}{\sum_i \|a_i\|_2^2}\Bigr)^2 ,

    the square of the mean squared column norm, weighted by the squared norms. It is homogeneous of degree 4
    (:math:`\varsigma(tA) = t^4\varsigma(A)`), lies between :math:`\min_i\|a_i\|^4` and :math:`\max_i\|a_i\|^4`,
    and equals :math:`t^4` when every column has norm :math:`t`: :math:`\varsigma = 1` for the unit-norm columns of
    the book, where the relative tolerances are the absolute ones of earlier versions.

    * For :class:`~landscape_lib.objectives.TensorObjective` (and any ``L4Objective`` of a matrix of
      components) the columns are given: :math:`\varsigma` of :attr:`~landscape_lib.objectives.L4Objective.matrix`.
    * For :class:`~landscape_lib.objectives.DataObjective` and
      :class:`~landscape_lib.objectives.CumulantObjective` the columns of the matrix are samples, each of
      size about :math:`p^{-1/4}`, and the landscape is that of the unknown dictionary ``A`` (:math:`\mathbb{E}
      f_{\tilde Y} = f_A - \omega`, :math:`\mathbb{E} f_{\kappa_4} = f_A`). :math:`\varsigma(A)` is estimated
      from the second and fourth moments of the data under the model the normalization assumes (:math:`y =
      Ax`, Bernoulli(θ)–Gaussian codes): :math:`\mathbb{E}\|y\|^2 = \theta\sum_i\|a_i\|^2` and the fourth
      cumulant :math:`\sum_{k,l}\kappa_4(y)_{kkll} = 3\theta(1-\theta)\sum_i\|a_i\|^4`. With the normalized
      samples :math:`\tilde y_j` (:math:`\tilde Y = (3\theta(1-\theta)p)^{-1/4}Y`),

      .. math::

          \widehat{\textstyle\sum_i}\|a_i\|^2 = \sqrt{\frac{3(1-\theta)}{\theta p}}\,\sum_j\|\tilde y_j\|^2,
          \qquad
          \widehat{\textstyle\sum_i}\|a_i\|^4 = \frac{(p+2)\sum_j\|\tilde y_j\|^4 - \bigl(\sum_j\|\tilde
          y_j\|^2\bigr)^2 - 2\|\tilde Y\tilde Y^\top\|_F^2}{p-1}

      (the unbiased sample cumulant with known zero mean, as in ``CumulantObjective``), and :math:`\varsigma` is
      their ratio squared. For data from a unit-norm dictionary it is 1 up to sampling error (0.69 to 1.71
      over the runs of chapter 3). Where the data show no fourth-order signal (the second estimate
      :math:`\le 0`, or :math:`p < 2`) :math:`\varsigma` is instead the mean of :math:`\|\tilde Y^\top q\|_4^4` over
      the sphere, :math:`3F_4/(n(n+2))`. Both are homogeneous of degree 4 in ``Y``.

    Parameters
    ----------
    objective : landscape_lib.objectives.L4Objective

    Returns
    -------
    float
        :math:`\varsigma > 0`.

    Raises
    ------
    ValueError
        If ``objective`` is not an ℓ4 objective, or :math:`\varsigma` is not a finite positive number.
    """
    _check_objective(objective)
    return objective.scale  # computed once per objective (a cached property of the objective)


def _check_objective(objective) -> None:
    if not isinstance(objective, L4Objective):
        raise ValueError("objective must be an ℓ4 objective of landscape_lib.objectives (TensorObjective(A) or "
                         f"DataObjective(Y, theta)); got {type(objective).__name__}")


def _scale(objective, scale) -> float:
    """``scale`` validated, or the objective's own scale when it is None."""
    return objective_scale(objective) if scale is None else check_positive(scale, "scale")


def gradient_descent(objective, starts, *, step: float = 1.0, ascent: bool = False, tol: float = 1e-8,
                     max_iter: int = 1000, polish: bool = False, polish_below: float = 1e-3,
                     polish_after: int = 50, record: bool = False, line_search: bool = False,
                     armijo: float = 1e-4, max_backtracks: int = 40, scale: float | None = None) -> SolverResult:
    r"""Riemannian gradient descent (or ascent) on the sphere from many starts at once.

    .. math::

        q_{k+1} = \frac{q_k \mp \eta_k \operatorname{grad} f(q_k)}{\|q_k \mp \eta_k \operatorname{grad}
        f(q_k)\|_2}, \qquad \eta_k = \frac{\eta}{\langle q_k, -\nabla f(q_k)\rangle}
        = \frac{\eta}{\|M^\top q_k\|_4^4},

    for :math:`f(q) = -\tfrac14\|M^\top q\|_4^4` (``-`` descent, ``+`` ascent). For descent,
    :math:`\eta = 1` gives :math:`q_{k+1} \propto -\nabla f(q_k) = M\zeta_k^{\circ 3}`, the power iteration; smaller
    :math:`\eta` gives shorter steps (smoother trajectories, chapter 2).

    A fixed :math:`\eta` does not converge for every frame: ascent at :math:`\eta = 1/2` on random unit columns
    (``n = 6``, ``m = 15``) falls into period-2 cycles from every start (chapter 2). With
    ``line_search=True`` each step starts from :math:`\eta_k = \eta/\|M^\top q_k\|_4^4` and is halved
    (Armijo backtracking along the retraction, batched over the starts still running) until

    .. math::

        \pm\bigl(f(R_{q_k}(\mp\eta_k \operatorname{grad} f(q_k))) - f(q_k)\bigr)
        \le -\mathrm{armijo}\cdot\eta_k \|\operatorname{grad} f(q_k)\|_2^2

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
        Stop a start when its Riemannian gradient norm is below ``tol`` :math:`\cdot\,\varsigma` (relative to the
        objective's scale :math:`\varsigma`, see ``scale``).
    max_iter : int, default 1000
        Largest number of steps per start.
    polish : bool, default False
        Descent only: switch to Newton steps near strict local minimizers (see the module notes).
    polish_below : float, default 1e-3
        Gradient norm, relative to :math:`\varsigma` like ``tol``, below which a start tries Newton steps.
    polish_after : int, default 50
        Iteration from which Newton steps are tried: only the slow tail of starts is polished (a start
        that converges quickly does not pay for second-order steps).
    record : bool, default False
        Keep the whole path (memory ``T · N · n``; for plots with few starts).
    line_search : bool, default False
        Armijo backtracking from the relative step ``step`` (see above): converges for any frame.
    armijo : float, default 1e-4
        Sufficient-decrease constant of the Armijo test above, in ``(0, 1)``.
    max_backtracks : int, default 40
        Halvings per step at most; a step still failing then (a gradient at round-off level) is taken as is.
    scale : float, optional
        The objective's scale :math:`\varsigma > 0`, the unit of ``tol`` and ``polish_below``; default
        :func:`objective_scale` (1 for unit-norm columns). The step rule is scale invariant by itself, so with
        the default the iterates, iteration counts and limits do not change when the columns are multiplied by
        any :math:`t > 0` (up to round-off).

    Returns
    -------
    SolverResult

    Raises
    ------
    FloatingPointError
        If an iterate or its gradient becomes NaN or infinite (e.g. a step divides by
        :math:`\langle q, -\nabla f(q)\rangle = 0`, possible for ``CumulantObjective``).
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
                polish_after=polish_after, record=record, scale=scale)


def power_iteration(objective, starts, *, tol: float = 1e-8, max_iter: int = 1000, polish: bool = False,
                    polish_below: float = 1e-3, polish_after: int = 50, record: bool = False,
                    scale: float | None = None) -> SolverResult:
    r"""The power iteration :math:`q_{k+1} = -\nabla f(q_k) / \|\nabla f(q_k)\|_2`.

    For the ℓ4 objectives :math:`-\nabla f(q) = M (M^\top q)^{\circ 3}`: it is Riemannian gradient descent
    with step :math:`1/\|M^\top q_k\|_4^4` (:func:`gradient_descent` with ``step=1``), the classical
    algorithm for tensor decomposition (Anandkumar et al. 2014). Parameters (``tol`` and ``polish_below``
    relative to the objective's scale :math:`\varsigma`, :func:`objective_scale`), result and errors as in
    :func:`gradient_descent`. The iteration is invariant under :math:`A \to tA`, and so, with the relative
    tolerances, is everything it returns but ``values`` and ``grad_norms`` (multiplied by :math:`t^4`).
    """

    def update(q, g, s):
        return g

    return _run(objective, starts, update, tol=tol, max_iter=max_iter, polish=polish, polish_below=polish_below,
                polish_after=polish_after, record=record, scale=scale)


def newton(objective, starts, *, tol: float = 1e-10, max_iter: int = 50, max_step: float = 0.5,
           record: bool = False, scale: float | None = None) -> SolverResult:
    r"""Riemannian Newton's method for :math:`\operatorname{grad} f(q) = 0` from many starts at once.

    Each step solves :math:`\operatorname{Hess} f(q)[\Delta q] = -\operatorname{grad} f(q)` on the tangent
    space (as the nonsingular system :math:`(\operatorname{Hess} f(q) + \varsigma\, q q^\top)\,\Delta q =
    -\operatorname{grad} f(q)`, whose solution is tangent; the radial eigenvalue :math:`\varsigma` is of the size
    of the tangent ones at every scale), shortens :math:`\Delta q` to at most ``max_step``, and
    retracts. Newton's method is attracted by critical points of every type, so from many random starts it
    finds saddles and maximizers as well as minimizers (chapter 2). Starts that do not converge within
    ``max_iter`` (e.g. near a degenerate point) are reported with ``converged=False``.

    Parameters
    ----------
    objective : landscape_lib.objectives.L4Objective
    starts : array_like of shape (..., n)
        Unit-norm starting points.
    tol : float, default 1e-10
        Stop a start when its Riemannian gradient norm is below ``tol`` :math:`\cdot\,\varsigma`.
    max_iter : int, default 50
    max_step : float, default 0.5
        Largest tangent step length.
    record : bool, default False
        Keep the whole path.
    scale : float, optional
        The objective's scale :math:`\varsigma > 0`; default :func:`objective_scale`. Newton's step is scale
        invariant, so with the default the iterates do not change when the columns are multiplied by
        :math:`t > 0`.

    Returns
    -------
    SolverResult

    Raises
    ------
    FloatingPointError
        If an iterate or its gradient becomes NaN or infinite.
    """
    check_positive(max_step, "max_step")
    return _run(objective, starts, None, tol=tol, max_iter=max_iter, polish=False, polish_below=0.0, record=record,
                max_step=max_step, scale=scale)


def _newton_direction(objective, q, g_r, s, z, sigma):
    r"""Tangent Newton steps :math:`\Delta q` (``d``) for rows ``q`` (any critical type), and the mask of finite
    steps."""
    # Solve (Hess f(q) + sigma q q^T) d = -grad f(q) in the eigenbasis: the matrix is nonsingular where Hess f
    # is on the tangent space, and d is tangent because grad f is. The radial eigenvalue is sigma, not 1: with
    # 1 at the scale 1e-12 (A -> 1e-3 A) eigh would resolve the tangent eigenvalues only to 1e-16 absolute.
    M = objective._hessian(q, z, s) + sigma * (q[:, :, None] * q[:, None, :])
    w, v = np.linalg.eigh(M)
    coef = -np.einsum("kji,kj->ki", v, g_r) / w
    d = np.einsum("kij,kj->ki", v, coef)
    return d, np.all(np.isfinite(d), axis=1)


def _newton_cg(objective, q, g_r, s, z, iters, sigma):
    r"""Truncated conjugate gradients for the Newton system :math:`\operatorname{Hess} f(q)[\Delta q] =
    -\operatorname{grad} f(q)` on the tangent spaces, batched over rows, with the objective's Hessian-vector
    products only (two matrix products each, the cost of one first-order step). Rows where CG meets
    nonpositive curvature are flagged ``ok = False`` (not in the basin of a strict local minimizer)."""
    d = np.zeros_like(q)
    r = -g_r
    p = r.copy()
    rr = _inner(r, r)
    gnorm = np.sqrt(rr)
    # Forcing term min(0.1, |grad| / sigma) (dimensionless, so the same CG iterates at every scale):
    # superlinear convergence. Floored at 1e-6 relative: asked for less, CG runs on into round-off, where the
    # sign of p·Hp (and so the "negative curvature" flag) is noise.
    goal = (np.clip(gnorm / sigma, 1e-6, 0.1) * gnorm) ** 2
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
         max_step=None, cg_iter=None, scale=None) -> SolverResult:
    _check_objective(objective)
    q0 = as_points(starts, objective.n, name="starts")
    check_positive(tol, "tol")
    check_positive(max_iter, "max_iter", integer=True)
    check_positive(polish_below, "polish_below", allow_zero=True)
    check_positive(polish_after, "polish_after", integer=True, allow_zero=True)
    sigma = _scale(objective, scale)
    # The tolerances in the units of f: gradient norms scale like sigma (degree 4 in the columns).
    tol_f, polish_f = tol * sigma, polish_below * sigma
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
            if not np.all(np.isfinite(gnorm)):
                _raise_non_finite(active, gnorm, it)
            if record:
                pq = paths[-1].copy() if paths else np.empty((N, n))
                pg = np.full(N, np.nan)
                pq[active], pg[active] = q, gnorm
                paths.append(pq)
                gpaths.append(pg)
            last = it == max_iter
            done = gnorm < tol_f
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
                d, ok = _newton_direction(objective, q, g_r, s, z, sigma)
                # Where the Newton system is singular: a gradient step, of length |grad f| / sigma at every scale.
                d = np.where(ok[:, None], d, -g_r / sigma)
                length = np.linalg.norm(d, axis=1)
                d *= np.minimum(1.0, max_step / np.maximum(length, 1e-300))[:, None]
                new = q + d
                nsteps[active] += 1
            else:
                new = update(q, g, s)
                if polish and it >= polish_after:
                    near = np.flatnonzero(gnorm < polish_f)
                    if near.size:
                        d, ok = _newton_cg(objective, q[near], g_r[near], s[near], z[near], cg_iter, sigma)
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
        path=path, grad_norm_path=gpath, scale=sigma,
    )


def _raise_non_finite(active, gnorm, it):
    bad = active[~np.isfinite(gnorm)]
    # A silent NaN would compare False with the tolerance and run on to max_iter, returning NaN points as
    # "not converged"; say what happened instead.
    raise FloatingPointError(f"the iterates of {bad.size} start(s) (first: start {int(bad[0])} of the flattened "
                             f"batch) became NaN or infinite at iteration {it}: a step divided by "
                             "<q, -grad f(q)> = 0 (possible for CumulantObjective) or left float64's range")
