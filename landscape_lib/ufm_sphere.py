r"""The UFM with normalized features and classifier: a Riemannian landscape on products of spheres (ch. 4b).

The classifier rows :math:`w_k` and the features :math:`h_{k,i}` lie on the unit sphere of
:math:`\mathbb{R}^d`, there is no bias and no weight decay, and a temperature
:math:`\nu > 0` (the argument ``tau``) scales the logits (Yaras et al., NeurIPS 2022; Jiang et al., ICML 2024):

.. math:: \min_{\|w_k\| = \|h_{k,i}\| = 1}\; F(W, H) = \frac1N\sum_{k,i} \ell(\nu W h_{k,i}, k).

The Euclidean gradient and Hessian-vector product are those of :mod:`landscape_lib.ufm` at
:math:`(\nu W, H)` with zero weight decay (one implementation, chain rule for :math:`\nu`); the
Riemannian ones project row by row with :func:`landscape_lib.sphere.riemannian_gradient` and
:func:`landscape_lib.sphere.riemannian_hessian_vector`. The smallest eigenvalues of the Riemannian Hessian
come from :func:`landscape_lib.ufm.lanczos_eigenpairs` on the tangent space (normal directions are shifted
out of the way). Points are ``W`` of shape (K, d) and ``H`` of shape (K, n, d), unit rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import losses, sphere, ufm, ufm_critical
from ._validation import as_rng, check_positive, check_scalar

__all__ = ["loss", "riemannian_gradient", "riemannian_hessian_vector", "smallest_hessian_eigenvalues",
           "random_point", "fit", "SphereRun", "min_pairwise_angle", "best_min_angle", "rotation_orbit_dimension",
           "minimize_on_spheres", "symmetric_subspace", "symmetric_critical_point", "certify",
           "escape_profile"]


def _check(W, H, tau):
    W = sphere.as_points(W, name="W")
    H = sphere.as_points(H, W.shape[-1], name="H")
    if W.ndim != 2 or H.ndim != 3 or H.shape[0] != W.shape[0]:
        raise ValueError(f"W must have shape (K, d) and H (K, n, d); got {W.shape}, {H.shape}")
    if W.shape[0] < 2:
        raise ValueError(f"the model needs K >= 2 classes; got K={W.shape[0]}")
    check_positive(tau, "tau")
    return W, H


def _euclidean(W, H, tau, loss):
    """Value and Euclidean gradient (gW, gH) of F at unit rows (no validation)."""
    K, n, d = H.shape
    value, (gW, gH, _) = ufm._value_and_gradient(tau * W, H.reshape(K * n, d), np.zeros(K), ufm.labels_of(K, n),
                                                 0.0, 0.0, 0.0, loss)
    return float(value), tau * gW, gH.reshape(K, n, d)


def loss(W, H, *, tau: float, loss="ce") -> float:
    r""":math:`F(W, H)`. Used in chapter 4b, sections 3-4.

    Parameters
    ----------
    W : array_like of shape (K, d)
        Unit rows.
    H : array_like of shape (K, n, d)
        Unit features.
    tau : float
        Temperature, > 0.
    loss : Loss or str, default "ce"

    Returns
    -------
    float
    """
    W, H = _check(W, H, tau)
    return _euclidean(W, H, tau, losses.as_loss(loss))[0]


def riemannian_gradient(W, H, *, tau: float, loss="ce"):
    r"""Riemannian gradient of :math:`F`: each row's Euclidean gradient projected on its tangent space.

    Used in chapter 4b, sections 3-4.

    Returns
    -------
    value : float
    rgW : ndarray of shape (K, d)
    rgH : ndarray of shape (K, n, d)
    """
    W, H = _check(W, H, tau)
    value, gW, gH = _euclidean(W, H, tau, losses.as_loss(loss))
    return value, sphere.riemannian_gradient(W, gW), sphere.riemannian_gradient(H, gH)


def riemannian_hessian_vector(W, H, dW, dH, *, tau: float, loss="ce"):
    r"""Riemannian Hessian of :math:`F` applied to a tangent direction ``(dW, dH)`` (rows tangent).

    Used in chapter 4b, sections 3-4. Row by row,
    :math:`\operatorname{Hess}F[v] = P_q(\nabla^2 F\,v) - \langle q, \nabla F\rangle v` at a unit row :math:`q`, with
    the Euclidean product :math:`\nabla^2F\,v` from :mod:`landscape_lib.ufm` at :math:`(\nu W, H)`.

    Returns
    -------
    HW : ndarray of shape (K, d)
    HH : ndarray of shape (K, n, d)
    """
    W, H = _check(W, H, tau)
    loss = losses.as_loss(loss)
    dW = np.asarray(dW, dtype=np.float64)
    dH = np.asarray(dH, dtype=np.float64)
    if dW.shape != W.shape or dH.shape != H.shape:
        raise ValueError(f"the direction must have the shapes of the point {W.shape}, {H.shape}; "
                         f"got {dW.shape}, {dH.shape}")
    return _rhvp(W, H, dW, dH, tau, loss)


def _rhvp(W, H, dW, dH, tau, loss):
    K, n, d = H.shape
    _, gW, gH = _euclidean(W, H, tau, loss)
    hW, hH, _ = ufm._hvp(tau * W, H.reshape(K * n, d), np.zeros(K), tau * dW, dH.reshape(K * n, d),
                         np.zeros(K), ufm.labels_of(K, n), 0.0, 0.0, 0.0, loss)
    return (sphere.riemannian_hessian_vector(W, gW, tau * hW, dW),
            sphere.riemannian_hessian_vector(H, gH, hH.reshape(K, n, d), dH))


def smallest_hessian_eigenvalues(W, H, *, tau: float, loss="ce", k: int = 1, rng=0, shift: float = 1.0):
    r"""The ``k`` smallest eigenvalues of the Riemannian Hessian on the tangent space, by Lanczos.

    Used in chapter 4b, sections 3-4. The operator is :math:`P\,\mathrm{Hess}F\,P + s(I - P)` on the
    ambient space (``P`` the tangent projection, ``s = shift``), so the ``K + Kn`` normal directions sit at
    ``shift`` and the smallest eigenvalues are the tangent ones
    (:func:`landscape_lib.ufm.lanczos_eigenpairs`).

    Returns
    -------
    eigenvalues : ndarray of shape (k,), ascending
    eigenvectors : ndarray of shape (K d + K n d, k)
        Tangent directions, ``W`` then ``H`` flattened.
    """
    W, H = _check(W, H, tau)
    loss = losses.as_loss(loss)
    check_positive(shift, "shift")
    K, n, d = H.shape

    def matvec(v):
        v = np.ravel(v)
        vW, vH = v[: K * d].reshape(K, d), v[K * d:].reshape(K, n, d)
        pW, pH = sphere.project(W, vW), sphere.project(H, vH)
        hW, hH = _rhvp(W, H, pW, pH, tau, loss)
        return np.concatenate([(hW + shift * (vW - pW)).ravel(), (hH + shift * (vH - pH)).ravel()])
    return ufm.lanczos_eigenpairs(matvec, K * d + K * n * d, k=k, rng=rng)


def random_point(K: int, n: int, d: int, *, rng=None):
    """Uniformly random unit rows: ``W`` of shape (K, d), ``H`` of shape (K, n, d)."""
    K = check_scalar(K, "K", integer=True, low=2)
    n = check_scalar(n, "n", integer=True, low=1)
    d = check_scalar(d, "d", integer=True, low=1)
    gen = as_rng(rng)
    return sphere.random_points(d, (K,), rng=gen), sphere.random_points(d, (K, n), rng=gen)


@dataclass(frozen=True)
class SphereRun:
    """Result of :func:`fit`: the final point, its loss and Riemannian gradient norm, per-record losses.

    Attributes
    ----------
    W : ndarray of shape (K, d)
    H : ndarray of shape (K, n, d)
    loss : ndarray of shape (T,)
    grad_norm : ndarray of shape (T,)
    """

    W: np.ndarray
    H: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray


def fit(K: int, n: int, d: int, *, tau: float, loss="ce", steps: int = 2000, lr: float = 1.0, rng=None,
        init=None, record_every: int = 100) -> SphereRun:
    r"""Riemannian gradient descent on the product of spheres with the retraction :math:`x \mapsto x/\|x\|`.

    Used in chapter 4b, sections 3-4.

    Parameters
    ----------
    K, n, d : int
        Classes, samples per class, dimension (``d >= 1``).
    tau : float
        Temperature.
    loss : Loss or str, default "ce"
    steps : int, default 2000
    lr : float, default 1.0
    rng : None, int or Generator
        Seeds the random start (:func:`random_point`).
    init : tuple (W, H), optional
    record_every : int, default 100

    Returns
    -------
    SphereRun
    """
    K = check_scalar(K, "K", integer=True, low=2)
    n = check_scalar(n, "n", integer=True, low=1)
    d = check_scalar(d, "d", integer=True, low=1)
    check_positive(tau, "tau")
    check_positive(lr, "lr")
    steps = check_positive(steps, "steps", integer=True)
    check_positive(record_every, "record_every", integer=True)
    loss = losses.as_loss(loss)
    W, H = random_point(K, n, d, rng=rng) if init is None else _check(*init, tau)
    vals, gns = [], []
    for it in range(steps + 1):
        f, gW, gH = _euclidean(W, H, tau, loss)
        rW, rH = sphere.project(W, gW), sphere.project(H, gH)
        if it % record_every == 0 or it == steps:
            vals.append(f)
            gns.append(math.sqrt(float(np.sum(rW**2) + np.sum(rH**2))))
        if it == steps:
            break
        W, H = sphere.retract(W, -lr * rW), sphere.retract(H, -lr * rH)
    return SphereRun(W=W, H=H, loss=np.array(vals), grad_norm=np.array(gns))


def min_pairwise_angle(vectors) -> float:
    r"""Smallest angle, in degrees, between two of the rows (nonzero vectors), shape (K, d) -> float.

    Used in chapter 4b, section 4.
    """
    v = np.asarray(vectors, dtype=np.float64)
    if v.ndim != 2 or v.shape[0] < 2:
        raise ValueError(f"vectors must have shape (K, d) with K >= 2; got {v.shape}")
    u = v / np.linalg.norm(v, axis=1, keepdims=True)
    c = np.clip(u @ u.T, -1.0, 1.0)
    i, j = np.triu_indices(v.shape[0], k=1)
    return float(np.degrees(np.arccos(c[i, j].max())))


def best_min_angle(K: int, d: int) -> float:
    r"""The largest possible smallest pairwise angle of ``K`` unit vectors in :math:`\mathbb{R}^d`, in degrees.

    Used in chapter 4b, section 4. Known cases only: :math:`K \le d + 1`, the simplex,
    :math:`\arccos(-1/(K-1))`; :math:`d = 2`, the regular polygon, :math:`360°/K`;
    :math:`d + 2 \le K \le 2d`, :math:`90°` (Rankin's bound, attained by part of the cross-polytope
    :math:`\pm e_i`; for :math:`d = 3` these are the Tammes optima for :math:`K = 5, 6`). Otherwise
    ``ValueError``.
    """
    K = check_scalar(K, "K", integer=True, low=2)
    d = check_scalar(d, "d", integer=True, low=1)
    if K <= d + 1:
        return math.degrees(math.acos(-1 / (K - 1)))
    if d == 1:
        return 0.0
    if d == 2:
        return 360.0 / K
    if K <= 2 * d:
        return 90.0
    raise ValueError(f"the best arrangement of K={K} unit vectors in d={d} dimensions is not built in")


def rotation_orbit_dimension(K: int, d: int, rank: int) -> int:
    r"""Dimension of the :math:`\mathrm{O}(d)` orbit of a configuration whose rows span ``rank`` dimensions.

    :math:`\binom d2 - \binom{d - r}{2}` (the rotations fixing the span pointwise do not move it).
    """
    d = check_scalar(d, "d", integer=True, low=1)
    r = check_scalar(rank, "rank", integer=True, low=0, high=d)
    m = d - r
    return d * (d - 1) // 2 - m * (m - 1) // 2


# ----------------------------------------------------------------------------------------------------
# Minimizing on products of spheres; symmetric critical points and their certificates (chapter 4b, §3-4)
# ----------------------------------------------------------------------------------------------------

def minimize_on_spheres(fun, blocks, radii, *, project=None, steps: int = 5000, gtol: float = 1e-12):
    r"""Minimize a function of arrays whose rows lie on spheres, by L-BFGS on the normalized parametrization.

    Used in chapter 4b (the layer-peeled model, :mod:`landscape_lib.ufm_imbalanced`, and the symmetric
    critical points of this module). Every row (last axis) of block ``j`` is constrained to the sphere of
    radius ``radii[j]``. The free variables are unconstrained rows :math:`u`, mapped to :math:`r u/\|u\|`; the
    objective is then smooth away from :math:`u = 0`, and its gradient in :math:`u` is
    :math:`(r/\|u\|) P_{u^\perp}\nabla F`, the Riemannian gradient scaled. scipy's L-BFGS-B minimizes it. The
    Riemannian gradient returned is the tangent projection of the Euclidean one at the final point (for a
    sphere of radius :math:`r`, :math:`P_q\nabla F` at a row :math:`q` with :math:`P_q = I - qq^\top/r^2`).

    Parameters
    ----------
    fun : callable
        ``fun(blocks) -> (value, grads)``: the value and the Euclidean gradients (a list shaped like ``blocks``).
    blocks : sequence of array_like of shape (..., m_j)
        The start; rows need not have the right norm (they are rescaled).
    radii : sequence of float
        One positive radius per block.
    project : callable, optional
        ``project(blocks) -> blocks``, a linear projection onto a subspace invariant under the gradient (a
        symmetry's fixed points); applied to the start and to every gradient.
    steps : int, default 5000
    gtol : float, default 1e-12

    Returns
    -------
    blocks : list of ndarray
        The final point, rows on their spheres.
    value : float
    grad_norm : float
        Norm of the Riemannian gradient at the final point.
    """
    from scipy.optimize import minimize

    blocks = [np.array(b, dtype=np.float64) for b in blocks]
    radii = [check_positive(r, "radius") for r in radii]
    if len(radii) != len(blocks):
        raise ValueError(f"give one radius per block; got {len(radii)} radii for {len(blocks)} blocks")
    steps = check_positive(steps, "steps", integer=True)
    check_positive(gtol, "gtol")
    P = (lambda bl: bl) if project is None else project
    shapes = [b.shape for b in blocks]
    cuts = np.cumsum([b.size for b in blocks])[:-1]

    def split(x):
        return [p.reshape(s) for p, s in zip(np.split(x, cuts), shapes, strict=True)]

    def to_point(us):
        return [r * u / np.linalg.norm(u, axis=-1, keepdims=True) for u, r in zip(us, radii, strict=True)]

    def fg(x):
        us = split(x)
        xs = to_point(us)
        value, grads = fun(xs)
        grads = P([np.asarray(g, dtype=np.float64) for g in grads])
        out = []
        for u, p, g, r in zip(us, xs, grads, radii, strict=True):
            tang = g - np.sum(p * g, axis=-1, keepdims=True) * p / r**2
            out.append((r / np.linalg.norm(u, axis=-1, keepdims=True) * tang).ravel())
        return float(value), np.concatenate(out)

    x0 = np.concatenate([b.ravel() for b in P(to_point(blocks))])
    res = minimize(fg, x0, jac=True, method="L-BFGS-B", options=dict(maxiter=steps, gtol=gtol, ftol=0.0, maxcor=30))
    xs = to_point(P(to_point(split(res.x))))
    value, grads = fun(xs)
    rg = [g - np.sum(p * g, axis=-1, keepdims=True) * p / r**2 for p, g, r in zip(xs, grads, radii, strict=True)]
    return xs, float(value), float(math.sqrt(sum(float(np.sum(g**2)) for g in rg)))


def symmetric_subspace(K: int, n: int, d: int, *, rank: int | None = None, merge=None):
    r"""Projection onto the fixed points of a symmetry of :math:`F` (ambient arrays ``[W, H]``).

    Used in chapter 4b, section 4. As in :func:`landscape_lib.ufm_critical.symmetric_subspace`:

    - ``rank`` ``r``: every row in the span of the first ``r`` coordinates (the fixed points of the
      reflections of the other ``d - r``); on the spheres, the rows lie on a great sphere :math:`S^{r-1}`;
    - ``merge``: classes of a group share ``w_k`` and ``h_{k,i}`` sample by sample (the fixed points of the
      relabellings within the group).

    These maps act by isometries of the product of spheres and leave :math:`F` unchanged, so the Riemannian
    gradient at a fixed point is fixed, and a critical point of :math:`F` restricted to the fixed points is
    critical (symmetric criticality).

    Returns
    -------
    callable
        ``project([W, H]) -> [W, H]`` for ``W`` of shape (K, d), ``H`` of shape (K, n, d): linear (it is
        applied to points before normalization and to gradients).
    """
    K = check_scalar(K, "K", integer=True, low=2)
    n = check_scalar(n, "n", integer=True, low=1)
    d = check_scalar(d, "d", integer=True, low=1)
    if rank is not None:
        rank = check_scalar(rank, "rank", integer=True, low=1, high=d)
    from .ufm_critical import _check_groups

    groups = _check_groups(K, merge)

    def project(blocks):
        W, H = (np.array(b, dtype=np.float64, copy=True) for b in blocks)
        if rank is not None:
            W[..., rank:] = 0.0
            H[..., rank:] = 0.0
        for g in groups:
            W[g] = W[g].mean(axis=0, keepdims=True)
            H[g] = H[g].mean(axis=0, keepdims=True)
        return [W, H]
    return project


def certify(W, H, *, tau: float, loss="ce", k: int = 1, rng=0) -> ufm_critical.Certificate:
    r"""Riemannian gradient norm and the smallest Riemannian Hessian eigenvalues at a point (chapter 4b, §4).

    The Hessian is :math:`\operatorname{Hess}F[v] = P_q(\nabla^2F\,v) - \langle q, \nabla F\rangle v` row by
    row (:math:`q` a unit row) (:func:`landscape_lib.sphere.riemannian_hessian_vector`), its eigenvalues by Lanczos
    (:func:`smallest_hessian_eigenvalues`).

    Returns
    -------
    landscape_lib.ufm_critical.Certificate
        With ``b = None`` (the model has no bias).
    """
    value, gW, gH = riemannian_gradient(W, H, tau=tau, loss=loss)
    vals, vecs = smallest_hessian_eigenvalues(W, H, tau=tau, loss=loss, k=k, rng=rng)
    return ufm_critical.Certificate(W=np.array(W, dtype=np.float64), H=np.array(H, dtype=np.float64), b=None,
                                    loss=value, grad_norm=math.sqrt(float(np.sum(gW**2) + np.sum(gH**2))),
                                    eigenvalues=vals, escape=vecs[:, 0] / np.linalg.norm(vecs[:, 0]))


def _newton_polish(W, H, tau, loss, project, steps):
    """Riemannian Newton steps (MINRES on the tangent space of the fixed points), halving until |grad| drops."""
    from scipy.sparse.linalg import LinearOperator, minres

    K, n, d = H.shape
    D = K * d + K * n * d

    def flat(a, b):
        return np.concatenate([a.ravel(), b.ravel()])

    def split(v):
        return v[: K * d].reshape(K, d), v[K * d:].reshape(K, n, d)

    def grad(W, H):
        _, gW, gH = _euclidean(W, H, tau, loss)
        return project([sphere.project(W, gW), sphere.project(H, gH)])

    g = grad(W, H)
    for _ in range(steps):
        gn = math.sqrt(sum(float(np.sum(a**2)) for a in g))
        if gn < 1e-14:
            break

        def mv(v, W=W, H=H):
            a, c = split(np.ravel(v))
            tW, tH = project([sphere.project(W, a), sphere.project(H, c)])
            return flat(*project(list(_rhvp(W, H, tW, tH, tau, loss))))

        delta, _ = minres(LinearOperator((D, D), matvec=mv, dtype=np.float64), -flat(*g), rtol=1e-12, maxiter=20 * D)
        dW, dH = project(list(split(delta)))
        t = 1.0
        while t > 1e-6:
            Wt, Ht = project([sphere.retract(W, t * dW), sphere.retract(H, t * dH)])
            Wt, Ht = sphere.normalize(Wt), sphere.normalize(Ht)
            gt = grad(Wt, Ht)
            if math.sqrt(sum(float(np.sum(a**2)) for a in gt)) < gn:
                W, H, g = Wt, Ht, gt
                break
            t /= 2
        else:
            break
    return W, H


def symmetric_critical_point(K: int, n: int, d: int, *, tau: float, rank: int | None = None, merge=None,
                             loss="ce", rng=0, steps: int = 3000, newton_steps: int = 10):
    r"""A critical point of the normalized-feature model from a symmetry (chapter 4b, section 4).

    Minimizes :math:`F` on the fixed points of the symmetry (:func:`symmetric_subspace`) by L-BFGS on the
    normalized parametrization (:func:`minimize_on_spheres`) from a random start, then takes Riemannian Newton
    steps there (MINRES on the tangent space, a least-squares step where the Hessian is singular). By
    symmetric criticality the result is a critical point of :math:`F` on the whole product of spheres; check
    it with :func:`certify`.

    Parameters
    ----------
    K, n, d : int
    tau : float
    rank, merge
        The symmetry, as in :func:`symmetric_subspace`.
    loss : Loss or str, default "ce"
    rng : None, int or Generator, default 0
        Seeds the random start.
    steps, newton_steps : int

    Returns
    -------
    W : ndarray of shape (K, d)
    H : ndarray of shape (K, n, d)
    """
    check_positive(tau, "tau")
    loss = losses.as_loss(loss)
    project = symmetric_subspace(K, n, d, rank=rank, merge=merge)
    newton_steps = check_scalar(newton_steps, "newton_steps", integer=True, low=0)
    W0, H0 = random_point(K, n, d, rng=rng)

    def fun(blocks):
        value, gW, gH = _euclidean(blocks[0], blocks[1], tau, loss)
        return value, [gW, gH]

    (W, H), _, _ = minimize_on_spheres(fun, [W0, H0], [1.0, 1.0], project=project, steps=steps)
    return _newton_polish(W, H, tau, loss, project, newton_steps)


def escape_profile(certificate: ufm_critical.Certificate, steps, *, tau: float, loss="ce") -> np.ndarray:
    r"""The loss change :math:`F(R(t v)) - F(W, H)` along the escape eigenvector ``v``, for each ``t``.

    Used in chapter 4b, section 4. :math:`R` retracts row by row, a unit row :math:`q` with tangent part
    :math:`v_q` going to :math:`R_q(t v_q) = (q + t v_q)/\|q + t v_q\|`. To second order the change is
    :math:`t^2\lambda_{\min}/2` (the retraction is second order).

    Returns
    -------
    ndarray of shape (S,)
    """
    c = certificate
    K, n, d = c.H.shape
    vW, vH = c.escape[: K * d].reshape(K, d), c.escape[K * d:].reshape(K, n, d)
    t = np.asarray(steps, dtype=np.float64).ravel()
    return np.array([loss_fn(sphere.retract(c.W, s * vW), sphere.retract(c.H, s * vH), tau=tau, loss=loss)
                     for s in t]) - c.loss


loss_fn = loss
