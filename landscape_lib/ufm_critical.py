r"""Critical points of the UFM beyond the origin, their certificates, and the step-size bound (chapters 4, 4b).

**Symmetric criticality.** If a group of linear isometries leaves the objective unchanged, its gradient
at a point fixed by the group is fixed too, so it lies in the fixed subspace. A critical point of the
objective *restricted* to the fixed subspace is therefore a critical point of the whole objective. Two such
subspaces of the UFM (:func:`symmetric_subspace`):

- **rank** ``r``: every ``w_k`` and ``h_{k,i}`` in the span of the first ``r`` coordinates (fixed by the
  reflections of the other ``d - r``). For ``r < K - 1`` no point there is a global minimizer;
- **merged classes**: classes of a group share ``w_k``, ``h_{k,i}`` (sample by sample) and ``b_k`` (fixed by
  the permutations of the group, which relabel the classes).

:func:`symmetric_critical_point` minimizes the objective on such a subspace (L-BFGS with the projected
gradient, then Newton steps) and certifies the result in the full space with :func:`certify`: the norm of
the full gradient and the smallest Hessian eigenvalue by Lanczos
(:func:`landscape_lib.ufm.smallest_hessian_eigenpairs`).
:func:`newton_critical_point` is a saddle-seeking method: Newton's method on :math:`\nabla f = 0` (MINRES
on the indefinite Hessian), which converges to the critical point near its start, whatever its type.

**Curvature off the span** (:func:`off_span_curvature`). Let the rows of ``W`` and ``H`` lie in a subspace
:math:`\mathcal U` with :math:`\dim \mathcal U < d`. For directions whose rows lie in :math:`\mathcal U^\perp` the
logits do not change
to first order, and the Hessian there is the block
:math:`\begin{pmatrix}\lambda_W I & G^\top\\ G & \lambda_H I\end{pmatrix}` (:math:`G = \nabla_Z f` of shape
(N, K)), decoupled from the rest, with smallest eigenvalue

.. math:: \lambda_\perp = \frac{\lambda_W + \lambda_H}2 - \sqrt{\Big(\frac{\lambda_W - \lambda_H}2\Big)^2
    + \sigma_{\max}(G)^2}.

At the origin :math:`\sigma_{\max}(G) = 1/(K\sqrt{n_{\mathrm c}})` (:math:`n_{\mathrm c}` samples per class, the
argument ``n``) and this is :func:`landscape_lib.ufm.origin_min_eigenvalue`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import losses, ufm
from ._validation import check_positive, check_scalar

__all__ = ["symmetric_subspace", "symmetric_critical_point", "newton_critical_point", "certify", "Certificate",
           "off_span_curvature", "gradient_lipschitz_bound", "escape_profile", "catalogue"]


def _check_groups(K: int, merge) -> list[list[int]]:
    groups = [] if merge is None else [list(map(int, g)) for g in merge]
    seen = [k for g in groups for k in g]
    if any(k < 0 or k >= K for k in seen) or len(set(seen)) != len(seen) or any(len(g) < 2 for g in groups):
        raise ValueError(f"merge must be disjoint groups of at least two class indices in [0, {K}); got {merge!r}")
    return groups


def symmetric_subspace(K: int, n: int, d: int, *, rank: int | None = None, merge=None):
    r"""The orthogonal projection onto the fixed subspace of a symmetry of the UFM (flat vectors).

    Used in chapter 4, section 5.

    Parameters
    ----------
    K, n, d : int
    rank : int, optional
        Keep only the first ``rank`` coordinates of every ``w_k`` and ``h_{k,i}`` (``0 <= rank <= d``).
    merge : sequence of sequences of int, optional
        Disjoint groups of classes whose ``w_k``, ``h_{k,i}`` and ``b_k`` are averaged (made equal).

    Returns
    -------
    callable
        ``project(theta)`` for ``theta`` of shape (..., D) in the :func:`landscape_lib.ufm.pack` order;
        linear, symmetric and idempotent.
    """
    ufm._check_sizes(K, n, d)
    if rank is not None:
        rank = check_scalar(rank, "rank", integer=True, low=0, high=d)
    groups = _check_groups(K, merge)
    D = ufm.num_parameters(K, n, d)

    def project(theta):
        theta = np.array(theta, dtype=np.float64, copy=True)
        if theta.shape[-1] != D:
            raise ValueError(f"theta must have last dimension D={D}; got {theta.shape}")
        lead = theta.shape[:-1]
        W = theta[..., : K * d].reshape(lead + (K, d))
        H = theta[..., K * d: K * d + K * n * d].reshape(lead + (K, n, d))
        b = theta[..., K * d + K * n * d:]
        if rank is not None:
            W[..., rank:] = 0.0
            H[..., rank:] = 0.0
        for g in groups:
            W[..., g, :] = W[..., g, :].mean(axis=-2, keepdims=True)
            H[..., g, :, :] = H[..., g, :, :].mean(axis=-3, keepdims=True)
            b[..., g] = b[..., g].mean(axis=-1, keepdims=True)
        return theta
    return project


@dataclass(frozen=True)
class Certificate:
    """A certified critical point: of the UFM (:func:`certify`) or of the normalized-feature model
    (:func:`landscape_lib.ufm_sphere.certify`, where there is no bias and the gradient and Hessian are
    Riemannian).

    Attributes
    ----------
    W, H : ndarrays of shapes (K, d), (K, n, d)
    b : ndarray of shape (K,), or None for the normalized-feature model
    loss : float
    grad_norm : float
        Norm of the full (or Riemannian) gradient.
    eigenvalues : ndarray of shape (k,)
        The ``k`` smallest Hessian eigenvalues (Lanczos), ascending.
    escape : ndarray of shape (D,)
        Unit eigenvector of the smallest one (pack order; ``W`` then ``H`` for the normalized model).
    """

    W: np.ndarray
    H: np.ndarray
    b: np.ndarray | None
    loss: float
    grad_norm: float
    eigenvalues: np.ndarray
    escape: np.ndarray

    @property
    def lambda_min(self) -> float:
        return float(self.eigenvalues[0])


def certify(W, H, b, *, lambda_W: float, lambda_H: float, lambda_b: float, loss="ce", k: int = 1,
            rng=0) -> Certificate:
    """Gradient norm and smallest Hessian eigenvalues (Lanczos) of the UFM at a point.

    Used in chapter 4, section 5, and chapter 4b.

    Parameters
    ----------
    W, H, b : arrays of shapes (K, d), (K, n, d), (K,)
    lambda_W, lambda_H, lambda_b : float
    loss : Loss or str, default "ce"
    k : int, default 1
        How many of the smallest eigenvalues.
    rng : None, int or Generator, default 0
        Seeds the Lanczos start vector.

    Returns
    -------
    Certificate
    """
    lam = dict(lambda_W=lambda_W, lambda_H=lambda_H, lambda_b=lambda_b, loss=loss)
    value, grads = ufm.loss_and_gradient(W, H, b, **lam)
    vals, vecs = ufm.smallest_hessian_eigenpairs(W, H, b, **lam, k=k, rng=rng)
    W, H, b = (np.array(a, dtype=np.float64) for a in (W, H, b))
    return Certificate(W=W, H=H, b=b, loss=float(value), grad_norm=float(np.linalg.norm(ufm.pack(*grads))),
                       eigenvalues=vals, escape=vecs[:, 0])


def newton_critical_point(W, H, b, *, lambda_W: float, lambda_H: float, lambda_b: float, loss="ce",
                          steps: int = 50, gtol: float = 1e-12, project=None):
    r"""Newton's method on :math:`\nabla f = 0`, a saddle-seeking method: the critical point near the start.

    Used in chapter 4, section 5. Each step solves :math:`\nabla^2 f\,\Delta\Theta = -\nabla f` for the step
    :math:`\Delta\Theta` by MINRES (the
    Hessian is indefinite at a saddle and singular along the rotation orbits; MINRES returns a least-squares
    step), using only Hessian-vector products, and halves the step until :math:`\|\nabla f\|` decreases. It
    does not prefer minimizers: from a start near a saddle it converges to the saddle.

    Parameters
    ----------
    W, H, b : arrays of shapes (K, d), (K, n, d), (K,)
        The start.
    lambda_W, lambda_H, lambda_b : float
    loss : Loss or str, default "ce"
    steps : int, default 50
    gtol : float, default 1e-12
        Stop when the gradient norm is below it.
    project : callable, optional
        Work in the fixed subspace of a symmetry (:func:`symmetric_subspace`).

    Returns
    -------
    W, H, b : ndarrays
        The last iterate.
    """
    from scipy.sparse.linalg import LinearOperator, minres

    lam = dict(lambda_W=lambda_W, lambda_H=lambda_H, lambda_b=lambda_b, loss=losses.as_loss(loss))
    W, H, b = ufm._check_point(W, H, b)
    K, n, d = H.shape
    steps = check_positive(steps, "steps", integer=True)
    check_positive(gtol, "gtol")
    P = (lambda v: v) if project is None else project
    theta = P(ufm.pack(W, H, b))
    D = theta.size

    def grad(th):
        return P(ufm.pack(*ufm.loss_and_gradient(*ufm.unpack(th, K, n, d), **lam)[1]))

    g = grad(theta)
    for _ in range(steps):
        gn = np.linalg.norm(g)
        if gn < gtol:
            break
        Wt, Ht, bt = (a.copy() for a in ufm.unpack(theta, K, n, d))
        op = LinearOperator((D, D), dtype=np.float64, matvec=lambda v, p=(Wt, Ht, bt): P(ufm.pack(
            *ufm.hessian_vector_product(*p, *ufm.unpack(P(np.ravel(v)), K, n, d), **lam))))
        delta, _ = minres(op, -g, rtol=1e-12, maxiter=20 * D)
        t = 1.0
        while t > 1e-6:
            trial = theta + t * P(delta)
            g_trial = grad(trial)
            if np.linalg.norm(g_trial) < gn:
                theta, g = trial, g_trial
                break
            t /= 2
        else:
            break
    return tuple(a.copy() for a in ufm.unpack(theta, K, n, d))


def symmetric_critical_point(K: int, n: int, d: int, *, lambda_W: float, lambda_H: float, lambda_b: float,
                             rank: int | None = None, merge=None, loss="ce", rng=0, init_scale: float = 1.0,
                             steps: int = 2000, newton_steps: int = 20):
    """Minimize the UFM on the fixed subspace of a symmetry (:func:`symmetric_subspace`): a critical point.

    Used in chapter 4, section 5 and chapter 4b. L-BFGS (:func:`landscape_lib.ufm.fit` with the projected
    gradient) from a random start in the subspace, then Newton steps (:func:`newton_critical_point`) in the
    subspace to reach the float64 floor. By symmetric criticality the result is critical for the full
    problem; check it with :func:`certify`.

    Parameters
    ----------
    K, n, d : int
    lambda_W, lambda_H, lambda_b : float
    rank, merge
        The symmetry, as in :func:`symmetric_subspace`.
    loss : Loss or str, default "ce"
    rng : None, int or Generator, default 0
        Seeds the random start.
    init_scale : float, default 1.0
    steps, newton_steps : int
        L-BFGS iterations and Newton steps.

    Returns
    -------
    W, H, b : ndarrays of shapes (K, d), (K, n, d), (K,)
    """
    project = symmetric_subspace(K, n, d, rank=rank, merge=merge)
    lam = dict(lambda_W=lambda_W, lambda_H=lambda_H, lambda_b=lambda_b, loss=loss)
    run = ufm.fit(K, n, d, **lam, method="lbfgs", steps=steps, rng=rng, init_scale=init_scale, project=project,
                  record_every=10**9)
    return newton_critical_point(run.W, run.H, run.b, **lam, steps=newton_steps, project=project)


def off_span_curvature(W, H, b, *, lambda_W: float, lambda_H: float, lambda_b: float, loss="ce",
                       tol: float = 1e-10) -> float:
    r"""Smallest Hessian eigenvalue along directions orthogonal to the span of the rows of ``W`` and ``H``.

    Used in chapter 4, section 5. The closed form :math:`\lambda_\perp` of the module docstring, from the
    largest singular value of :math:`G = \nabla_Z f` at the point; ``nan`` when the rows span
    :math:`\mathbb{R}^d` (no such direction).

    Parameters
    ----------
    W, H, b : arrays of shapes (K, d), (K, n, d), (K,)
    lambda_W, lambda_H, lambda_b : float
    loss : Loss or str, default "ce"
    tol : float, default 1e-10
        Singular values of the rows below ``tol`` times the largest (and at least ``tol``) count as zero.

    Returns
    -------
    float
    """
    lw, lh, _ = ufm._check_lambdas(lambda_W, lambda_H, lambda_b)
    W, H, b = ufm._check_point(W, H, b)
    K, n, d = H.shape
    rows = np.concatenate([W, H.reshape(K * n, d)])
    s = np.linalg.svd(rows, compute_uv=False)
    if np.sum(s > tol * max(s[0], 1.0)) >= d:
        return math.nan
    Hf, labels = ufm._flat_features(H)
    G = losses.value_and_gradient(ufm._logits(W, Hf, b), labels, loss)[1] / labels.shape[0]
    sigma = np.linalg.norm(G, 2)
    return (lw + lh) / 2 - math.sqrt(((lw - lh) / 2) ** 2 + sigma**2)


def escape_profile(certificate: Certificate, steps, *, lambda_W: float, lambda_H: float, lambda_b: float,
                   loss="ce") -> np.ndarray:
    r"""Loss change :math:`f(\Theta + t v) - f(\Theta)` along the escape eigenvector ``v`` for each step ``t``.

    Used in chapter 4, section 5. To second order it is :math:`t^2\lambda_{\min}/2 < 0` at a strict saddle.

    Returns
    -------
    ndarray of shape (S,)
    """
    c = certificate
    K, n, d = c.H.shape
    t = np.asarray(steps, dtype=np.float64).ravel()
    theta = ufm.pack(c.W, c.H, c.b)[None, :] + t[:, None] * c.escape[None, :]
    Wt, Ht, bt = (np.stack(a) for a in zip(*(ufm.unpack(th, K, n, d) for th in theta), strict=True))
    return ufm.loss(Wt, Ht, bt, lambda_W=lambda_W, lambda_H=lambda_H, lambda_b=lambda_b, loss=loss) - c.loss


def gradient_lipschitz_bound(K: int, n: int, *, lambda_W: float, lambda_H: float, lambda_b: float,
                             level: float) -> float:
    r"""An upper bound on the Lipschitz constant of :math:`\nabla f` (CE or label smoothing) on a sublevel set.

    Used in chapter 4, section 5. The cross-entropy is nonnegative, so the sublevel set
    :math:`\{f \le f(\Theta_0)\}` (``level`` is :math:`f(\Theta_0)`, the loss at the start) lies in the convex set
    :math:`\mathcal E = \{\lambda_W\|W\|_F^2 + \lambda_H\|H\|_F^2 \le 2f(\Theta_0)\}`. Along a direction
    :math:`\Delta = (\Delta W, \Delta H, \Delta b)` the second derivative is
    :math:`\frac1N\sum_i \dot z_i^\top (\operatorname{diag}(\hat y_i) - \hat y_i\hat y_i^\top) \dot z_i
    + 2\langle G, \Delta H\,\Delta W^\top\rangle` plus the weight decay (:math:`\hat y_i` the softmax probabilities
    of sample :math:`i`), with :math:`\|\operatorname{diag}(\hat y_i) - \hat y_i\hat y_i^\top\| \le \frac12`,
    :math:`\|\dot Z\|_F^2 \le (\|H\|_2^2 + \|W\|_2^2 + N)\|\Delta\|^2` and
    :math:`\|G\|_2 \le \|G\|_F \le \sqrt{2/N}`. On :math:`\mathcal E`,
    :math:`\|H\|_F^2 + \|W\|_F^2 \le 2f(\Theta_0)/\min(\lambda_W, \lambda_H)`, so

    .. math:: L_{\mathcal E} \le \max(\lambda_W, \lambda_H, \lambda_b)
        + \frac{2f(\Theta_0)/\min(\lambda_W,\lambda_H) + N}{2N} + \sqrt{2/N}.

    Returns
    -------
    float
        The bound :math:`L_{\mathcal E}`; gradient descent with step below :math:`1/L_{\mathcal E}` decreases
        :math:`f` on every segment inside :math:`\mathcal E`.
    """
    ufm._check_sizes(K, n)
    lw, lh, lb = ufm._check_lambdas(lambda_W, lambda_H, lambda_b)
    check_positive(level, "level")
    N = K * n
    return max(lw, lh, lb) + (2 * level / min(lw, lh) + N) / (2 * N) + math.sqrt(2 / N)


def catalogue(K: int, n: int, d: int, *, lambda_W: float, lambda_H: float, lambda_b: float, loss="ce",
              rng=0) -> dict:
    r"""Non-global critical points of the UFM built by the constructions of this module, each certified.

    Used in chapter 4, section 5 (and chapter 4b for other losses). The points, by name:

    - ``"origin"``: :math:`W = 0, H = 0` with the best bias (``b = 0`` for CE, label smoothing and focal loss);
    - ``"rank r"`` for :math:`1 \le r \le K-2` (and ``r < d``): the minimizer found on the rank-``r`` subspace;
    - ``"merge {0,1}"``: the minimizer found with classes 0 and 1 merged;
    - ``"Newton from a dropped class"``: :func:`newton_critical_point` started at the global minimizer
      (:func:`landscape_lib.ufm.global_minimizer`) with the classifier row and features of the last class
      set to zero, a point that is not critical itself.

    Returns
    -------
    dict of str to tuple (Certificate, float)
        The certificate and :func:`off_span_curvature` (``nan`` when the rows span :math:`\mathbb{R}^d`).
    """
    lam = dict(lambda_W=lambda_W, lambda_H=lambda_H, lambda_b=lambda_b, loss=loss)
    points = {"origin": symmetric_critical_point(K, n, d, **lam, rank=0, rng=rng)}
    for r in range(1, min(K - 1, d)):
        points[f"rank {r}"] = symmetric_critical_point(K, n, d, **lam, rank=r, rng=rng)
    points["merge {0,1}"] = symmetric_critical_point(K, n, d, **lam, merge=[[0, 1]], rng=rng)
    sol = ufm.global_minimizer(K, n, d, **lam)
    W, H = sol.W.copy(), sol.H.copy()
    W[-1], H[-1] = 0.0, 0.0
    points["Newton from a dropped class"] = newton_critical_point(W, H, sol.b, **lam)
    return {name: (certify(*p, **lam, rng=rng), off_span_curvature(*p, **lam)) for name, p in points.items()}
