r"""The UFM with imbalanced classes: minority collapse, the layer-peeled model and SELI (chapter 4b).

Class ``k`` has ``n_k`` samples (``counts``), :math:`N = \sum_k n_k`; the features are the rows of ``H`` of
shape ``(N, d)``, grouped by class in order (:func:`labels_of`). The **penalized** imbalanced UFM is chapter 4's
objective with these labels,

.. math:: f(W, H, b) = \frac1N\sum_{k}\sum_{i=1}^{n_k}\ell(W h_{k,i} + b, k)
    + \frac{\lambda_W}2\|W\|_F^2 + \frac{\lambda_H}2\|H\|_F^2 + \frac{\lambda_b}2\|b\|^2,

computed with the kernels of :mod:`landscape_lib.ufm` and the losses of :mod:`landscape_lib.losses`.
For fixed :math:`(W, b)` it is strictly convex in ``H`` and unchanged by permuting the samples of a class,
so at every critical point the features of a class are equal, :math:`h_{k,i} = \mu_k`. On such points, with
:math:`\tilde\mu_k = \sqrt{n_k}\,\mu_k` the rows of :math:`\tilde H_\mu`,

.. math:: f = \sum_k \frac{n_k}N\,\ell\Big(\frac{W\tilde\mu_k}{\sqrt{n_k}} + b, k\Big)
    + \frac{\lambda_W}2\|W\|_F^2 + \frac{\lambda_H}2\|\tilde H_\mu\|_F^2 + \frac{\lambda_b}2\|b\|^2,

the **class-mean** problem that :func:`fit` solves (``K d`` feature variables whatever the counts).

The **layer-peeled model** (Fang et al., PNAS 2021) replaces the penalties by budgets on average squared
norms, :math:`\frac1K\|W\|_F^2 \le E_W` and :math:`\frac1K\sum_k\frac1{n_k}\sum_i\|h_{k,i}\|^2 \le E_H`, with no
bias. By Jensen (the loss is convex in ``h`` and so is the budget) class-mean features are optimal, and the
problem becomes :math:`\min \sum_k \frac{n_k}N\ell(W \mu_k, k)` with :math:`\frac1K\|W\|_F^2 \le E_W`,
:math:`\frac1K\|H_\mu\|_F^2 \le E_H` (:math:`H_\mu` the matrix with rows :math:`\mu_k^\top`; :func:`fit_layer_peeled`).

**A certificate of global optimality** (both models, :func:`global_certificate`). With :math:`d \ge K` the
factored problem :math:`\min \mathcal L(Z) + \frac{\lambda_W}2\|W\|^2 + \frac{\lambda_H}2\|H\|^2`, :math:`Z = HW^\top`
(:math:`\mathcal L` the mean loss of the logits; :math:`H` the features, one row per sample), has the
same minimum as the convex
:math:`\min_Z \mathcal L(Z) + \sqrt{\lambda_W\lambda_H}\,\|Z\|_*`. At a critical
point, :math:`Z` solves the convex problem, hence the point is a global minimizer, if and only if

.. math:: \sigma_{\max}(\nabla \mathcal L(Z)) \le \sqrt{\lambda_W\lambda_H}.

For the layer-peeled model the multipliers of the active budgets play the role of :math:`\lambda_W`,
:math:`\lambda_H` (a KKT point with nonnegative multipliers that passes the test minimizes the penalized
problem, and so the constrained one, since its budgets are active).

**Minority collapse** is measured by the cosine between the classifier rows of the minority classes
(:func:`minority_cosine`). **SELI** (Thrampoulidis et al., NeurIPS 2022) describes the geometry of the
vanishing-regularization limit through the SVD of the simplex-encoded label matrix
:math:`\hat Z = JT^\top`, :math:`J = I_K - \frac1K\mathbf 1\mathbf 1^\top` and :math:`T` the one-hot labels (N, K);
:func:`seli_classifier_gram` computes our reading of it: with the SVD :math:`\hat Z = U\Sigma V^\top`
(:math:`U` of size K x K), :math:`WW^\top \propto U\Sigma U^\top = (\hat Z\hat Z^\top)^{1/2}`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import losses, ufm, ufm_sphere
from ._validation import as_float_array, as_rng, check_positive, check_scalar

__all__ = ["check_counts", "imbalanced_counts", "labels_of", "loss", "loss_and_gradient", "hessian_vector_product",
           "fit", "fit_per_sample", "fit_layer_peeled", "ImbalancedFit", "global_certificate", "minority_cosine",
           "seli_classifier_gram", "gram_cosine", "merge_threshold"]


# ----------------------------------------------------------------------------------------------------
# Counts and labels
# ----------------------------------------------------------------------------------------------------

def check_counts(counts) -> np.ndarray:
    """``counts`` as an int array of shape (K,), ``K >= 2``, every entry a positive integer; else ``ValueError``."""
    try:
        c = np.asarray(counts)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"counts must be a sequence of positive integers (samples per class); got {counts!r}") from exc
    if c.ndim != 1 or c.size < 2:
        raise ValueError(f"counts must be a 1-D sequence of K >= 2 sample counts; got shape {c.shape}")
    flags = counts if isinstance(counts, (list, tuple)) else []
    if c.dtype == bool or not np.issubdtype(c.dtype, np.number) or any(isinstance(x, (bool, np.bool_)) for x in flags):
        raise ValueError(f"counts must be positive integers; got {counts!r}")
    cf = c.astype(np.float64)
    if not np.all(np.isfinite(cf)) or np.any(cf != np.round(cf)) or np.any(cf < 1):
        raise ValueError(f"counts must be positive integers (samples per class); got {c.tolist()!r}")
    return cf.astype(np.int64)


def imbalanced_counts(K_major: int, K_minor: int, ratio: float, n_minor: int = 1) -> np.ndarray:
    r"""Counts of ``K_major`` majority classes with ``ratio * n_minor`` samples, then ``K_minor`` with ``n_minor``.

    Used in chapter 4b, section 3. The imbalance ratio :math:`R = n_A/n_B` must be positive and
    ``ratio * n_minor`` an integer.

    Returns
    -------
    ndarray of int of shape (K_major + K_minor,)
    """
    K_major = check_scalar(K_major, "K_major", integer=True, low=1)
    K_minor = check_scalar(K_minor, "K_minor", integer=True, low=1)
    ratio = check_scalar(ratio, "imbalance ratio R", low=0.0, low_inclusive=False)
    n_minor = check_scalar(n_minor, "n_minor", integer=True, low=1)
    n_major = ratio * n_minor
    if abs(n_major - round(n_major)) > 1e-9 * max(n_major, 1.0):
        raise ValueError(f"imbalance ratio R times n_minor must be an integer number of samples; "
                         f"got R={ratio!r}, n_minor={n_minor} (R n_minor = {n_major!r})")
    return check_counts([int(round(n_major))] * K_major + [n_minor] * K_minor)


def labels_of(counts) -> np.ndarray:
    """Labels of the rows of ``H``: ``counts[0]`` zeros, then ``counts[1]`` ones, ..., shape (N,)."""
    c = check_counts(counts)
    return np.repeat(np.arange(c.size), c)


# ----------------------------------------------------------------------------------------------------
# The penalized model on per-sample features (the kernels of ufm.py)
# ----------------------------------------------------------------------------------------------------

def _check(W, H, b, counts, lambdas):
    c = check_counts(counts)
    lw, lh, lb = ufm._check_lambdas(*lambdas)
    W = as_float_array(W, "W", min_ndim=2)
    H = as_float_array(H, "H", min_ndim=2)
    b = as_float_array(b, "b", min_ndim=1)
    K, d = W.shape[-2:]
    if K != c.size or H.shape[-2:] != (int(c.sum()), d) or b.shape[-1] != K:
        raise ValueError(f"with counts of {c.size} classes summing to N={int(c.sum())}, W must have shape "
                         f"(..., {c.size}, d), H (..., {int(c.sum())}, d) and b (..., {c.size}); got {W.shape}, "
                         f"{H.shape}, {b.shape}")
    return W, H, b, np.repeat(np.arange(c.size), c), (lw, lh, lb)


def _scalar(v):
    return float(v) if np.ndim(v) == 0 else v


def loss(W, H, b, counts, *, lambda_W: float, lambda_H: float, lambda_b: float, loss="ce"):
    r"""The penalized imbalanced UFM objective :math:`f(W, H, b)` (module docstring).

    Used in chapter 4b, section 3.

    Parameters
    ----------
    W : array_like of shape (..., K, d)
    H : array_like of shape (..., N, d)
        Features grouped by class (:func:`labels_of`), :math:`N = \sum_k n_k`.
    b : array_like of shape (..., K)
    counts : sequence of int, length K
        Samples per class, positive integers.
    lambda_W, lambda_H : float
        Positive.
    lambda_b : float
        Nonnegative.
    loss : Loss or str, default "ce"

    Returns
    -------
    float or ndarray of shape (...)
    """
    W, H, b, labels, (lw, lh, lb) = _check(W, H, b, counts, (lambda_W, lambda_H, lambda_b))
    vals = losses.values(ufm._logits(W, H, b), labels, losses.as_loss(loss))
    return _scalar(ufm._objective(vals, W, H, b, lw, lh, lb))


def loss_and_gradient(W, H, b, counts, *, lambda_W: float, lambda_H: float, lambda_b: float, loss="ce"):
    r"""The objective and its gradient (:func:`landscape_lib.ufm.loss_and_gradient` with these labels).

    Used in chapter 4b, section 3. With :math:`G = \nabla_Z\ell/N` of shape (N, K),
    :math:`\nabla_W f = G^\top H + \lambda_W W`, :math:`\nabla_H f = GW + \lambda_H H`,
    :math:`\nabla_b f = G^\top\mathbf 1 + \lambda_b b`.

    Returns
    -------
    value : float or ndarray of shape (...)
    grads : tuple (gW, gH, gb) shaped like ``W``, ``H``, ``b``
    """
    W, H, b, labels, (lw, lh, lb) = _check(W, H, b, counts, (lambda_W, lambda_H, lambda_b))
    value, grads = ufm._value_and_gradient(W, H, b, labels, lw, lh, lb, losses.as_loss(loss))
    return _scalar(value), grads


def hessian_vector_product(W, H, b, dW, dH, db, counts, *, lambda_W: float, lambda_H: float, lambda_b: float,
                           loss="ce"):
    r"""Hessian of the objective applied to ``(dW, dH, db)`` (:func:`landscape_lib.ufm.hessian_vector_product`).

    Used in chapter 4b, section 3.

    Returns
    -------
    tuple (HW, HH, Hb) shaped like ``W``, ``H``, ``b``
    """
    W, H, b, labels, (lw, lh, lb) = _check(W, H, b, counts, (lambda_W, lambda_H, lambda_b))
    dW, dH, db, _, _ = _check(dW, dH, db, counts, (lambda_W, lambda_H, lambda_b))
    return ufm._hvp(W, H, b, dW, dH, db, labels, lw, lh, lb, losses.as_loss(loss))


# ----------------------------------------------------------------------------------------------------
# The class-mean problems: weighted loss of the class features
# ----------------------------------------------------------------------------------------------------

def _weighted(W, X, b, weights, scale, loss):
    r"""Value and gradients of ``sum_k weights[k] * loss(W X[k] / scale[k] + b, k)`` in (W, X, b); rows of X
    are classes."""
    K = W.shape[0]
    labels = np.arange(K)
    Xs = X / scale[:, None]
    vals, gZ = losses.value_and_gradient(ufm._logits(W, Xs, b), labels, loss)
    G = weights[:, None] * gZ
    gW, gXs, gb = ufm._logits_adjoint(G, W, Xs)
    return float(weights @ vals), gW, gXs / scale[:, None], gb, G


@dataclass(frozen=True)
class ImbalancedFit:
    r"""A solution of an imbalanced model on class-mean features (:func:`fit`, :func:`fit_layer_peeled`).

    Attributes
    ----------
    model : {"penalized", "layer-peeled"}
    counts : ndarray of int of shape (K,)
    W : ndarray of shape (K, d)
    M : ndarray of shape (K, d)
        The class-mean features :math:`\mu_k` (every :math:`h_{k,i} = \mu_k`).
    b : ndarray of shape (K,)
        Zero without a bias.
    loss : float
        The objective (penalized) or the weighted loss (layer-peeled).
    grad_norm : float
        Norm of the gradient (penalized) or of the Riemannian gradient on the budget spheres (layer-peeled):
        the KKT residual.
    multipliers : tuple of float
        :math:`(\lambda_W, \lambda_H)` of the penalized model, or the KKT multipliers of the layer-peeled
        budgets in the same scaling, divided by ``K`` (:math:`\tilde\lambda_W`, :math:`\tilde\lambda_H`).
    certificate : float
        :func:`global_certificate`, :math:`\sigma_{\max}(\nabla \mathcal L)/\sqrt{\lambda_W\lambda_H}`: at most 1 means
        global.
    """

    model: str
    counts: np.ndarray
    W: np.ndarray
    M: np.ndarray
    b: np.ndarray
    loss: float
    grad_norm: float
    multipliers: tuple
    certificate: float

    def features(self) -> np.ndarray:
        """The per-sample features ``H`` of shape (N, d) (each class's mean repeated ``n_k`` times)."""
        return np.repeat(self.M, self.counts, axis=0)


def global_certificate(G, Z, lambda_W: float, lambda_H: float, *, rtol: float = 1e-8) -> float:
    r"""The global-optimality test of a critical point: :math:`\sigma_{\max}(P^\perp_{\mathrm{left}}\,G\,
    P^\perp_{\mathrm{right}})/\sqrt{\lambda_W\lambda_H}`.

    Used in chapter 4b, section 3. ``G`` is the loss gradient in the logits and ``Z`` the logits, both of
    shape (N, K) per sample or in the class form (K, K) (the rows of class :math:`k`
    scaled by :math:`\sqrt{n_k}`: the same singular structure). At a critical point of the factored problem,
    :math:`GW = -\lambda_H H` and :math:`G^\top H = -\lambda_W W` make ``G`` block-diagonal between the ranges
    of ``Z`` and their complements, with singular values exactly :math:`\sqrt{\lambda_W\lambda_H}` on the
    ranges; the point is a global minimizer (``d >= K``) iff :math:`\sigma_{\max}(G) \le
    \sqrt{\lambda_W\lambda_H}`, that is iff the value returned here is at most 1 (module docstring). It is
    the condition :math:`\lambda_\perp \ge 0` of :func:`landscape_lib.ufm_critical.off_span_curvature`, taken
    off the ranges of the logits. ``nan`` when ``Z`` has full rank (nothing off the ranges: the test is
    then :math:`\sigma_{\max}(G) = \sqrt{\lambda_W\lambda_H}`, met at every critical point).

    Parameters
    ----------
    G, Z : array_like of shape (N, K)
    lambda_W, lambda_H : float
    rtol : float, default 1e-8
        Singular values of ``Z`` below ``rtol`` times the largest count as zero.

    Returns
    -------
    float
    """
    G = as_float_array(G, "G", ndim=2)
    Z = as_float_array(Z, "Z", ndim=2)
    if G.shape != Z.shape:
        raise ValueError(f"G and Z must have one shape; got {G.shape} and {Z.shape}")
    lw = check_positive(lambda_W, "lambda_W")
    lh = check_positive(lambda_H, "lambda_H")
    U, s, Vt = np.linalg.svd(Z)
    r = int(np.sum(s > rtol * max(s[0], np.finfo(float).tiny)))
    if r >= min(Z.shape):
        return math.nan
    off = U[:, r:].T @ G @ Vt[r:].T
    return float(np.linalg.norm(off, 2) / math.sqrt(lw * lh))


def _merge_projector(K, merge):
    from .ufm_critical import _check_groups

    groups = _check_groups(K, merge)

    def project(arrays):
        out = [np.array(a, dtype=np.float64, copy=True) for a in arrays]
        for g in groups:
            for a in out:
                a[g] = a[g].mean(axis=0, keepdims=True)
        return out
    return project


def fit(counts, d: int, *, lambda_W: float, lambda_H: float, lambda_b: float | None = None, loss="ce",
        merge=None, rng=0, steps: int = 5000, gtol: float = 1e-13) -> ImbalancedFit:
    r"""Minimize the penalized imbalanced UFM on class-mean features by L-BFGS, and certify the result.

    Used in chapter 4b, section 3. Solves the class-mean problem of the module docstring in
    :math:`(W, \tilde H_\mu, b)` (scipy's L-BFGS-B, random start :func:`landscape_lib.ufm.random_init`), which has
    the critical points of the per-sample problem with equal features within each class.

    Parameters
    ----------
    counts : sequence of int, length K
    d : int
        Feature dimension; the certificate needs ``d >= K``.
    lambda_W, lambda_H : float
    lambda_b : float, optional
        ``None`` (default): no bias, ``b = 0`` (as in the layer-peeled model and SELI).
    loss : Loss or str, default "ce"
    merge : sequence of sequences of int, optional
        Keep the classifier rows and features of each group of classes equal (a symmetry's fixed points when
        the classes of a group have equal counts), e.g. the minority classes.
    rng : None, int or Generator, default 0
    steps : int, default 5000
    gtol : float, default 1e-13

    Returns
    -------
    ImbalancedFit
    """
    c = check_counts(counts)
    d = check_scalar(d, "d", integer=True, low=1)
    ufm._check_lambdas(lambda_W, lambda_H, 0.0 if lambda_b is None else lambda_b)
    steps = check_positive(steps, "steps", integer=True)
    check_positive(gtol, "gtol")
    return _fit_penalized(c, d, float(lambda_W), float(lambda_H), lambda_b, losses.as_loss(loss), merge, rng,
                          steps, gtol)


def _fit_penalized(c, d, lw, lh, lambda_b, loss, merge, rng, steps=5000, gtol=1e-13):
    """:func:`fit` without validation; ``c`` may hold real counts (the class-mean problem allows them)."""
    from scipy.optimize import minimize

    K = c.size
    bias = lambda_b is not None
    lb = float(lambda_b) if bias else 0.0
    N = float(c.sum())
    weights, scale = c / N, np.sqrt(c.astype(np.float64))
    project = _merge_projector(K, merge)

    def unflat(x):
        return x[: K * d].reshape(K, d), x[K * d: 2 * K * d].reshape(K, d), (x[2 * K * d:] if bias else np.zeros(K))

    def fg(x):
        W, X, b = unflat(x)
        value, gW, gX, gb, _ = _weighted(W, X, b, weights, scale, loss)
        value += 0.5 * (lw * np.sum(W**2) + lh * np.sum(X**2) + lb * np.sum(b**2))
        parts = project([gW + lw * W, gX + lh * X] + ([(gb + lb * b)[:, None]] if bias else []))
        return value, np.concatenate([p.ravel() for p in parts])

    W0, H0, _ = ufm.random_init(K, 1, d, rng=as_rng(rng))
    x0 = np.concatenate([p.ravel() for p in project([W0, H0[:, 0]])] + ([np.zeros(K)] if bias else []))
    res = minimize(fg, x0, jac=True, method="L-BFGS-B", options=dict(maxiter=steps, gtol=gtol, ftol=0.0, maxcor=30))
    value, g = fg(res.x)
    W, X, b = (a.copy() for a in unflat(res.x))
    # The per-sample gradient in the logits in class form: rows sqrt(n_k) grad l(z_k) / N (same singular values).
    G = _weighted(W, X, b, weights, scale, loss)[4] / np.sqrt(c)[:, None]
    Z = X @ W.T + np.sqrt(c)[:, None] * b[None, :]
    return ImbalancedFit(model="penalized", counts=c, W=W, M=X / scale[:, None], b=b, loss=value,
                         grad_norm=float(np.linalg.norm(g)), multipliers=(lw, lh),
                         certificate=global_certificate(G, Z, lw, lh))


def fit_per_sample(counts, d: int, *, lambda_W: float, lambda_H: float, lambda_b: float, loss="ce", rng=0,
                   steps: int = 5000, gtol: float = 1e-12):
    r"""Minimize the per-sample penalized imbalanced UFM (with bias) by L-BFGS from a random start.

    Used in chapter 4b, section 3, to check :func:`fit` against the model it reduces: every step evaluates
    :func:`loss_and_gradient` on all :math:`N` features.

    Returns
    -------
    W : ndarray of shape (K, d)
    H : ndarray of shape (N, d)
    b : ndarray of shape (K,)
    grad_norm : float
    """
    from scipy.optimize import minimize

    c = check_counts(counts)
    K, N = c.size, int(c.sum())
    d = check_scalar(d, "d", integer=True, low=1)
    lw, lh, lb = ufm._check_lambdas(lambda_W, lambda_H, lambda_b)
    loss = losses.as_loss(loss)
    labels = np.repeat(np.arange(K), c)
    gen = as_rng(rng)
    x0 = np.concatenate([gen.standard_normal(K * d + N * d) / math.sqrt(d), np.zeros(K)])

    def unflat(x):
        return x[: K * d].reshape(K, d), x[K * d: K * d + N * d].reshape(N, d), x[K * d + N * d:]

    def fg(x):
        value, grads = ufm._value_and_gradient(*unflat(x), labels, lw, lh, lb, loss)
        return float(value), np.concatenate([g.ravel() for g in grads])

    res = minimize(fg, x0, jac=True, method="L-BFGS-B",
                   options=dict(maxiter=check_positive(steps, "steps", integer=True), gtol=gtol, ftol=0.0, maxcor=30))
    W, H, b = (a.copy() for a in unflat(res.x))
    return W, H, b, float(np.linalg.norm(fg(res.x)[1]))


def fit_layer_peeled(counts, d: int, *, E_W: float = 1.0, E_H: float = 1.0, loss="ce", merge=None, rng=0,
                     steps: int = 5000, gtol: float = 1e-13) -> ImbalancedFit:
    r"""Solve the layer-peeled model (Fang et al., 2021) on class-mean features, and certify the result.

    Used in chapter 4b, section 3. The budgets are taken as active, so ``W`` lies on the sphere of radius
    :math:`\sqrt{KE_W}` in :math:`\mathbb{R}^{K\times d}` and ``M`` (:math:`H_\mu`) on that of radius
    :math:`\sqrt{KE_H}`;
    :func:`landscape_lib.ufm_sphere.minimize_on_spheres` minimizes the weighted loss there (L-BFGS on the
    normalized parametrization). At the result the multipliers are read off,
    :math:`\tilde\lambda_W = -\langle W, \nabla_W \mathcal L\rangle/\|W\|_F^2` and
    :math:`\tilde\lambda_H = -\langle H_\mu, \nabla_{H_\mu} \mathcal L\rangle/\|H_\mu\|_F^2` (the multipliers divided by
    ``K``): both positive and a small Riemannian gradient make it a KKT point of the
    inequality-constrained problem, and :func:`global_certificate` with these multipliers proves it global.

    Parameters
    ----------
    counts : sequence of int, length K
    d : int
    E_W, E_H : float, default 1
        The budgets :math:`\frac1K\|W\|_F^2 \le E_W`, :math:`\frac1K\sum_k\frac1{n_k}\sum_i\|h_{k,i}\|^2 \le E_H`.
    loss : Loss or str, default "ce"
    merge : sequence of sequences of int, optional
        As in :func:`fit`.
    rng : None, int or Generator, default 0
    steps : int, default 5000
    gtol : float, default 1e-13

    Returns
    -------
    ImbalancedFit
        ``multipliers`` holds :math:`(\tilde\lambda_W, \tilde\lambda_H)`; ``certificate`` is ``nan`` if one is not
        positive.
    """
    c = check_counts(counts)
    d = check_scalar(d, "d", integer=True, low=1)
    E_W = check_positive(E_W, "E_W")
    E_H = check_positive(E_H, "E_H")
    steps = check_positive(steps, "steps", integer=True)
    return _fit_layer_peeled(c, d, E_W, E_H, losses.as_loss(loss), merge, rng, steps, gtol)


def _fit_layer_peeled(c, d, E_W, E_H, loss, merge, rng, steps=5000, gtol=1e-13):
    """:func:`fit_layer_peeled` without validation; ``c`` may hold real counts."""
    K = c.size
    weights, ones = c / float(c.sum()), np.ones(K)
    project = _merge_projector(K, merge)

    def fun(blocks):
        W, M = blocks[0].reshape(K, d), blocks[1].reshape(K, d)
        value, gW, gM, _, _ = _weighted(W, M, np.zeros(K), weights, ones, loss)
        return value, [gW.ravel(), gM.ravel()]

    def proj(blocks):
        W, M = project([blocks[0].reshape(K, d), blocks[1].reshape(K, d)])
        return [W.ravel(), M.ravel()]

    W0, H0, _ = ufm.random_init(K, 1, d, rng=as_rng(rng))
    (w, m), value, gn = ufm_sphere.minimize_on_spheres(fun, [W0.ravel(), H0[:, 0].ravel()],
                                                       [math.sqrt(K * E_W), math.sqrt(K * E_H)], project=proj,
                                                       steps=steps, gtol=gtol)
    W, M = w.reshape(K, d), m.reshape(K, d)
    _, gW, gM, _, G = _weighted(W, M, np.zeros(K), weights, ones, loss)
    mu_W, mu_H = -float(np.sum(W * gW)) / float(np.sum(W**2)), -float(np.sum(M * gM)) / float(np.sum(M**2))
    cert = global_certificate(G, M @ W.T, mu_W, mu_H) if mu_W > 0 and mu_H > 0 else math.nan
    return ImbalancedFit(model="layer-peeled", counts=c, W=W, M=M, b=np.zeros(K), loss=value, grad_norm=gn,
                         multipliers=(mu_W, mu_H), certificate=cert)


# ----------------------------------------------------------------------------------------------------
# Geometry: minority cosine, SELI, the merging threshold
# ----------------------------------------------------------------------------------------------------

def minority_cosine(W, minority) -> float:
    r"""Mean cosine between the classifier rows of the given (minority) classes.

    Used in chapter 4b, section 3. 1 means minority collapse (the rows have merged).

    Parameters
    ----------
    W : array_like of shape (K, d)
        Classifier rows. To compare Gram matrices, pass a factor (e.g. the symmetric square root).
    minority : sequence of int
        At least two distinct class indices.

    Returns
    -------
    float
    """
    W = as_float_array(W, "W", ndim=2)
    idx = np.asarray(minority)
    if (idx.ndim != 1 or idx.size < 2 or not np.issubdtype(idx.dtype, np.integer) or np.unique(idx).size != idx.size
            or idx.min() < 0 or idx.max() >= W.shape[0]):
        raise ValueError(f"minority must be at least two distinct class indices in [0, {W.shape[0]}); got {minority!r}")
    norms = np.linalg.norm(W[idx], axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("the minority classifier rows must be nonzero to have a cosine")
    u = W[idx] / norms
    C = u @ u.T
    i, j = np.triu_indices(idx.size, k=1)
    return float(np.clip(C[i, j].mean(), -1.0, 1.0))


def gram_cosine(G, minority) -> float:
    """:func:`minority_cosine` from a Gram matrix ``G`` of shape (K, K) (e.g. :func:`seli_classifier_gram`)."""
    G = as_float_array(G, "G", ndim=2)
    vals, vecs = np.linalg.eigh(0.5 * (G + G.T))
    return minority_cosine(vecs * np.sqrt(np.clip(vals, 0.0, None)), minority)


def seli_classifier_gram(counts) -> np.ndarray:
    r"""Classifier Gram matrix of SELI, :math:`U\Sigma U^\top = (\hat Z\hat Z^\top)^{1/2}`, normalized to trace K.

    Used in chapter 4b, section 3. :math:`\hat Z = JT^\top` (:math:`J = I_K - \frac1K\mathbf 1\mathbf 1^\top`,
    :math:`T` the one-hot labels) is the simplex-encoded label matrix (K, N) and :math:`\hat Z = U\Sigma V^\top` its
    SVD (:math:`U` of shape (K, K)) (Thrampoulidis et al., NeurIPS 2022; our reading of their definition). Here
    :math:`\hat Z\hat Z^\top = J\operatorname{diag}(n_1, \dots, n_K)J`. Balanced counts give
    the simplex ETF.

    Returns
    -------
    ndarray of shape (K, K)
    """
    c = check_counts(counts).astype(np.float64)
    K = c.size
    P = np.eye(K) - 1.0 / K
    vals, vecs = np.linalg.eigh(P @ np.diag(c) @ P)
    root = (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T
    return K * root / np.trace(root)


def merge_threshold(K_major: int, K_minor: int, d: int, *, model: str = "penalized", n_minor: int = 1,
                    lambda_W: float = 5e-3, lambda_H: float = 5e-3, E_W: float = 1.0, E_H: float = 1.0,
                    loss="ce", low: float = 1.0, high: float = 1e4, rtol: float = 1e-6, rng=0) -> float:
    r"""The imbalance ratio :math:`R^*` above which the minority rows merge at the global minimizer.

    Used in chapter 4b, section 3. For each ratio the model is solved with the minority classes merged
    (:func:`fit` or :func:`fit_layer_peeled` with ``merge``): a critical point by symmetric criticality. It is
    the global minimizer exactly when :func:`global_certificate` is at most 1, so
    :math:`R^* = \inf\{R\colon \text{certificate} \le 1\}`, found by bisection on :math:`\log R` (the ratio is
    real here: the class-mean problems depend on the counts only through :math:`n_k/N` and :math:`n_k`).

    Parameters
    ----------
    K_major, K_minor, d : int
    model : {"penalized", "layer-peeled"}
    n_minor : int, default 1
        Minority samples per class (penalized model).
    lambda_W, lambda_H : float
        Penalized model.
    E_W, E_H : float
        Layer-peeled model.
    loss : Loss or str, default "ce"
    low, high : float
        A bracket: the certificate must fail at ``low`` and pass at ``high``.
    rtol : float, default 1e-6
        Relative width of the final bracket.
    rng : None, int or Generator, default 0

    Returns
    -------
    float
    """
    if model not in ("penalized", "layer-peeled"):
        raise ValueError(f"model must be 'penalized' or 'layer-peeled'; got {model!r}")
    K_major = check_scalar(K_major, "K_major", integer=True, low=1)
    K_minor = check_scalar(K_minor, "K_minor", integer=True, low=2)
    check_positive(rtol, "rtol")
    low = check_scalar(low, "low", low=0.0, low_inclusive=False)
    high = check_scalar(high, "high", low=low, low_inclusive=False)
    merge = [list(range(K_major, K_major + K_minor))]

    loss = losses.as_loss(loss)
    d = check_scalar(d, "d", integer=True, low=1)

    def cert(R):
        counts = np.array([R * n_minor] * K_major + [n_minor] * K_minor, dtype=np.float64)
        if model == "penalized":
            return _fit_penalized(counts, d, float(lambda_W), float(lambda_H), None, loss, merge, rng).certificate
        return _fit_layer_peeled(counts, d, float(E_W), float(E_H), loss, merge, rng).certificate

    if not cert(low) > 1 or not cert(high) <= 1:
        raise ValueError(f"the merged point must fail the certificate at low={low} and pass it at high={high}")
    lo, hi = math.log(low), math.log(high)
    while hi - lo > rtol:
        mid = 0.5 * (lo + hi)
        if cert(math.exp(mid)) <= 1:
            hi = mid
        else:
            lo = mid
    return math.exp(0.5 * (lo + hi))
