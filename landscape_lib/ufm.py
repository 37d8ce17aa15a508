r"""The unconstrained feature model (UFM) with cross-entropy and weight decay (chapter 4).

Balanced data: ``K`` classes, :math:`n_{\mathrm c}` samples per class (the argument ``n``),
:math:`N = n_{\mathrm c}K`. The features are free variables
:math:`h_{k,i} \in \mathbb{R}^d`, stored as ``H`` of shape ``(K, n, d)`` (class ``k``, sample ``i``); the
classifier is ``W`` of shape ``(K, d)`` and the bias ``b`` of shape ``(K,)``. The problem is

.. math::

    \min_{W, H, b}\; f(W, H, b) = \frac1N \sum_{k=1}^K \sum_{i=1}^{n_{\mathrm c}} \mathrm{CE}(W h_{k,i} + b, k)
    + \frac{\lambda_W}{2}\|W\|_F^2 + \frac{\lambda_H}{2}\|H\|_F^2 + \frac{\lambda_b}{2}\|b\|^2,

with :math:`\mathrm{CE}(z, k) = \log\sum_j e^{z_j} - z_k`. Its global minimizers are neural collapse
(Zhu et al., 2021): with :math:`\beta = \sqrt{n_{\mathrm c}\lambda_W\lambda_H}`, if :math:`K\beta < 1` then
:math:`h^*_{k,i} = c\, w^*_k` with :math:`c = \sqrt{\lambda_W/(n_{\mathrm c}\lambda_H)}`, the rows :math:`w^*_k` form a
simplex ETF of squared norm

.. math:: \rho^* = \frac{K-1}{K}\sqrt{\frac{n_{\mathrm c}\lambda_H}{\lambda_W}}\;\log\Big(\frac1\beta - (K-1)\Big),

and :math:`b^* = 0` (for :math:`\lambda_b > 0`); if :math:`K\beta \ge 1` the global minimizer is
:math:`W = 0, H = 0, b = 0` with loss :math:`\log K`. For :math:`d > K` every other critical point has a
direction of negative curvature (Zhu et al., 2021); at the origin the smallest Hessian eigenvalue of the
:math:`(W, H)` block is

.. math:: \lambda_{WH} = \frac{\lambda_W + \lambda_H}{2} - \sqrt{\Big(\frac{\lambda_W - \lambda_H}{2}\Big)^2
    + \frac{1}{K^2 n_{\mathrm c}}},

negative exactly when :math:`K\beta < 1` (the ``b`` block adds eigenvalues :math:`\ge \lambda_b`).

Everything is float64 numpy. The loss, gradient and Hessian-vector product are batched over leading axes
(``W`` of shape ``(..., K, d)`` etc.), so a 2-D slice of the landscape is one call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import collapse, etf, losses
from ._validation import as_float_array, as_rng, check_positive, check_scalar

__all__ = [
    "loss", "loss_and_gradient", "hessian_vector_product", "pack", "unpack", "num_parameters",
    "threshold", "optimal_rho", "optimal_loss", "etf_family_loss", "global_minimizer", "UFMSolution",
    "origin_min_eigenvalue", "hessian_matrix", "smallest_hessian_eigenpairs", "rotation_orbit_dimension",
    "rotation_orbit_tangents", "fit", "UFMRun", "random_init", "labels_of", "loss_slice", "lanczos_eigenpairs",
    "optimal_margin",
]


# ----------------------------------------------------------------------------------------------------
# Validation helpers
# ----------------------------------------------------------------------------------------------------

def _check_lambdas(lambda_W, lambda_H, lambda_b):
    check_positive(lambda_W, "lambda_W")
    check_positive(lambda_H, "lambda_H")
    check_positive(lambda_b, "lambda_b", allow_zero=True)
    return float(lambda_W), float(lambda_H), float(lambda_b)


def _check_point(W, H, b):
    W = as_float_array(W, "W", min_ndim=2)
    H = as_float_array(H, "H", min_ndim=3)
    b = as_float_array(b, "b", min_ndim=1)
    K, d = W.shape[-2:]
    if H.shape[-3] != K or H.shape[-1] != d:
        raise ValueError(f"H must have shape (..., K, n, d) = (..., {K}, n, {d}) to match W of shape "
                         f"{W.shape}; got {H.shape}")
    if b.shape[-1] != K:
        raise ValueError(f"b must have shape (..., K) with K={K}; got {b.shape}")
    if K < 2:
        raise ValueError(f"the UFM needs K >= 2 classes; got W of shape {W.shape}")
    return W, H, b


def labels_of(K: int, n: int) -> np.ndarray:
    """Labels of the rows of ``H.reshape(K * n, d)``: ``[0]*n + [1]*n + ...``, shape (K n,).

    Used in chapter 4, section 1.
    """
    return np.repeat(np.arange(K), n)


# ----------------------------------------------------------------------------------------------------
# Loss, gradient, Hessian-vector product (batched over leading axes)
# ----------------------------------------------------------------------------------------------------
# The pieces below work on the features flattened to rows, Hf of shape (..., N, d) with N = K n and the
# labels of labels_of(K, n): the logits Z = Hf W^T + b, their softmax probabilities Yhat and cross-entropy,
# the residual G = (Yhat - T)/N (T the one-hot labels), the adjoint of the logits map (how a change of Z
# pulls back to W, H, b) and the weight decay. The loss, its gradient, its Hessian-vector product and the
# solver of fit() are built from them.

def _logits(W, Hf, b):
    """Z = Hf W^T + b, shape (..., N, K)."""
    return Hf @ np.swapaxes(W, -1, -2) + b[..., None, :]


def _logits_adjoint(G, W, Hf):
    """The transpose of the logits map at (W, Hf) applied to G of shape (..., N, K): (G^T Hf, G W, sum_i G_i)."""
    return np.swapaxes(G, -1, -2) @ Hf, G @ W, G.sum(axis=-2)


def _objective(ce, W, Hf, b, lw, lh, lb):
    """Mean loss plus the weight decay (lambda_W ||W||^2 + lambda_H ||H||^2 + lambda_b ||b||^2)/2."""
    return ce.mean(axis=-1) + 0.5 * (lw * np.sum(W**2, axis=(-2, -1)) + lh * np.sum(Hf**2, axis=(-2, -1))
                                     + lb * np.sum(b**2, axis=-1))


_CE = losses.Loss("ce")


def _value_and_gradient(W, Hf, b, labels, lw, lh, lb, loss=_CE):
    """Objective and gradient (gW, gHf, gb) on flattened features; no validation (fit() calls it per step).

    ``G = grad_Z / N`` is the gradient of the mean loss with respect to the logits (for cross-entropy
    ``(Yhat - T)/N``, with the softmax probabilities and the one-hot labels).
    """
    ce, gZ = losses.value_and_gradient(_logits(W, Hf, b), labels, loss)
    gW, gH, gb = _logits_adjoint(gZ / labels.shape[0], W, Hf)
    return _objective(ce, W, Hf, b, lw, lh, lb), (gW + lw * W, gH + lh * Hf, gb + lb * b)


def _flat_features(H):
    """H of shape (..., K, n, d) as rows (..., K n, d) (a view), and the labels of those rows."""
    K, n, d = H.shape[-3:]
    return H.reshape(H.shape[:-3] + (K * n, d)), labels_of(K, n)


def _unflat_features(Hf, K: int):
    """Inverse of :func:`_flat_features`: rows (..., K n, d) back to (..., K, n, d)."""
    return Hf.reshape(Hf.shape[:-2] + (K, Hf.shape[-2] // K, Hf.shape[-1]))


def _scalar(value):
    return float(value) if value.ndim == 0 else value


def loss(W, H, b, *, lambda_W: float, lambda_H: float, lambda_b: float, loss="ce"):
    r"""UFM objective :math:`f(W, H, b)` (see the module docstring).

    Used in chapter 4, sections 5 (a step along the negative curvature) and 8.

    Parameters
    ----------
    W : array_like of shape (..., K, d)
    H : array_like of shape (..., K, n, d)
        ``H[..., k, i]`` is the feature of sample ``i`` of class ``k``.
    b : array_like of shape (..., K)
    lambda_W, lambda_H : float
        Positive weight-decay parameters.
    lambda_b : float
        Nonnegative.
    loss : Loss or str, default "ce"
        The classification loss in place of CE (:mod:`landscape_lib.losses`; chapter 4b).

    Returns
    -------
    float or ndarray of shape (...)
    """
    lw, lh, lb = _check_lambdas(lambda_W, lambda_H, lambda_b)
    W, H, b = _check_point(W, H, b)
    Hf, labels = _flat_features(H)
    vals = losses.values(_logits(W, Hf, b), labels, losses.as_loss(loss))
    return _scalar(_objective(vals, W, Hf, b, lw, lh, lb))


def loss_and_gradient(W, H, b, *, lambda_W: float, lambda_H: float, lambda_b: float, loss="ce"):
    r"""UFM objective and its gradient.

    Used in chapter 4, sections 3 and 5 (gradient at the closed form and at the origin), and by :func:`fit`.

    With :math:`\hat Y` the softmax probabilities and :math:`T` the one-hot labels, :math:`G = (\hat Y - T)/N`
    of shape ``(K, n, K)``:

    .. math::

        \nabla_W f = \sum_{k,i} G_{k,i} h_{k,i}^\top + \lambda_W W, \qquad
        \nabla_{h_{k,i}} f = W^\top G_{k,i} + \lambda_H h_{k,i}, \qquad
        \nabla_b f = \sum_{k,i} G_{k,i} + \lambda_b b.

    For another loss, :math:`G` is its gradient in the logits divided by :math:`N`.

    Parameters
    ----------
    W, H, b, lambda_W, lambda_H, lambda_b, loss
        As in :func:`loss`.

    Returns
    -------
    value : float or ndarray of shape (...)
    grads : tuple (gW, gH, gb) of arrays shaped like ``W``, ``H``, ``b``
    """
    lw, lh, lb = _check_lambdas(lambda_W, lambda_H, lambda_b)
    W, H, b = _check_point(W, H, b)
    Hf, labels = _flat_features(H)
    value, (gW, gH, gb) = _value_and_gradient(W, Hf, b, labels, lw, lh, lb, losses.as_loss(loss))
    return _scalar(value), (gW, _unflat_features(gH, H.shape[-3]), gb)


def hessian_vector_product(W, H, b, dW, dH, db, *, lambda_W: float, lambda_H: float, lambda_b: float,
                           loss="ce"):
    r"""Hessian of the UFM objective at ``(W, H, b)`` applied to a direction ``(dW, dH, db)``.

    Used in chapter 4, section 5 (curvature along chosen directions, Lanczos).

    Differentiating the gradient (:func:`loss_and_gradient`) along the direction, with
    :math:`\dot Z = H\,\Delta W^\top + \Delta H\,W^\top + \Delta b` the change of the logits (the direction
    :math:`\Delta = (\Delta W, \Delta H, \Delta b)` is ``(dW, dH, db)``) and
    :math:`\dot G = (\hat Y \odot \dot Z - \hat Y\,(\hat Y^\top \dot Z))/N` the change of :math:`G`:

    .. math::

        (\nabla^2 f)[\Delta]_W = \sum \dot G_{k,i} h_{k,i}^\top + G_{k,i}\, \Delta h_{k,i}^\top
        + \lambda_W \Delta W, \quad
        (\nabla^2 f)[\Delta]_{h_{k,i}} = W^\top \dot G_{k,i} + \Delta W^\top G_{k,i} + \lambda_H \Delta h_{k,i}, \quad
        (\nabla^2 f)[\Delta]_b = \sum \dot G_{k,i} + \lambda_b \Delta b.

    The first terms are the adjoint of the logits map applied to :math:`\dot G` (as in the gradient), the
    second ones the same adjoint taken at the direction and applied to :math:`G`. For another loss
    :math:`\dot G` is its Hessian in the logits applied to :math:`\dot Z`, divided by :math:`N`
    (:func:`landscape_lib.losses.hessian_vector_product`).

    Parameters
    ----------
    W, H, b : arrays of shapes (..., K, d), (..., K, n, d), (..., K)
        The point.
    dW, dH, db : arrays of the same shapes
        The direction.
    lambda_W, lambda_H, lambda_b : float
    loss : Loss or str, default "ce"

    Returns
    -------
    tuple (HW, HH, Hb) shaped like ``W``, ``H``, ``b``
    """
    lw, lh, lb = _check_lambdas(lambda_W, lambda_H, lambda_b)
    W, H, b = _check_point(W, H, b)
    dW, dH, db = _check_point(dW, dH, db)
    if dW.shape[-2:] != W.shape[-2:] or dH.shape[-3:] != H.shape[-3:]:
        raise ValueError(f"the direction must have the shapes of the point: W {W.shape[-2:]}, "
                         f"H {H.shape[-3:]}; got {dW.shape}, {dH.shape}")
    Hf, labels = _flat_features(H)
    dHf, _ = _flat_features(dH)
    hW, hH, hb = _hvp(W, Hf, b, dW, dHf, db, labels, lw, lh, lb, losses.as_loss(loss))
    return hW, _unflat_features(hH, H.shape[-3]), hb


def _hvp(W, Hf, b, dW, dHf, db, labels, lw, lh, lb, loss):
    """Hessian-vector product on flattened features, no validation (also used by :mod:`ufm_sphere`)."""
    Z = _logits(W, Hf, b)
    G = losses.value_and_gradient(Z, labels, loss)[1] / labels.shape[0]
    dZ = _logits(dW, Hf, db) + dHf @ np.swapaxes(W, -1, -2)           # the product rule on Hf W^T + b
    dG = losses.hessian_vector_product(Z, labels, dZ, loss) / labels.shape[0]
    aW, aH, ab = _logits_adjoint(dG, W, Hf)
    cW, cH, _ = _logits_adjoint(G, dW, dHf)                             # the bias enters the logits linearly
    return aW + cW + lw * dW, aH + cH + lh * dHf, ab + lb * db


# ----------------------------------------------------------------------------------------------------
# Flat parameter vectors (for optimizers and Lanczos)
# ----------------------------------------------------------------------------------------------------

def num_parameters(K: int, n: int, d: int) -> int:
    """Number of scalar parameters ``K d + K n d + K``."""
    K = check_scalar(K, "K", integer=True, low=2)
    n = check_scalar(n, "n", integer=True, low=1)
    d = check_scalar(d, "d", integer=True, low=1)
    return K * d + K * n * d + K


def pack(W, H, b) -> np.ndarray:
    """Concatenate ``(W, H, b)`` into one vector of length :func:`num_parameters` (W, then H, then b)."""
    return _flat(*_check_point(W, H, b))


def _flat(W, H, b) -> np.ndarray:
    return np.concatenate([W.ravel(), H.ravel(), b.ravel()])


def unpack(theta, K: int, n: int, d: int):
    """Inverse of :func:`pack`: ``theta`` of shape (K d + K n d + K,) to ``(W, H, b)`` (views)."""
    theta = np.asarray(theta, dtype=np.float64)
    D = num_parameters(K, n, d)
    if theta.shape != (D,):
        raise ValueError(f"theta must have shape ({D},) for K={K}, n={n}, d={d}; got {theta.shape}")
    W = theta[: K * d].reshape(K, d)
    H = theta[K * d: K * d + K * n * d].reshape(K, n, d)
    b = theta[K * d + K * n * d:]
    return W, H, b


# ----------------------------------------------------------------------------------------------------
# Closed forms
# ----------------------------------------------------------------------------------------------------

def _check_sizes(K, n, d=None):
    check_positive(K, "K", integer=True)
    check_positive(n, "n", integer=True)
    if K < 2:
        raise ValueError(f"the UFM needs K >= 2 classes; got K={K}")
    if d is not None:
        check_positive(d, "d", integer=True)


def threshold(K: int, n: int, lambda_W: float, lambda_H: float) -> float:
    r"""The quantity :math:`K\sqrt{n_{\mathrm c}\lambda_W\lambda_H}`; collapse is the global minimizer iff it
    is < 1 (the argument ``n`` is :math:`n_{\mathrm c}`).

    Used in chapter 4, section 4.

    Parameters
    ----------
    K, n : int
    lambda_W, lambda_H : float

    Returns
    -------
    float
    """
    _check_sizes(K, n)
    lw, lh, _ = _check_lambdas(lambda_W, lambda_H, 0.0)
    return K * math.sqrt(n * lw * lh)


def optimal_rho(K: int, n: int, lambda_W: float, lambda_H: float) -> float:
    r""":math:`\rho^* = \|w^*_k\|^2` of the global minimizer (0 at or above the threshold).

    Used in chapter 4, section 4.

    .. math:: \rho^* = \frac{K-1}{K}\sqrt{\frac{n_{\mathrm c}\lambda_H}{\lambda_W}}\,
        \log\Big(\frac{1}{\sqrt{n_{\mathrm c}\lambda_W\lambda_H}} - (K-1)\Big)
        \quad\text{if } K\sqrt{n_{\mathrm c}\lambda_W\lambda_H} < 1.

    Returns
    -------
    float
    """
    t = threshold(K, n, lambda_W, lambda_H)
    if t >= 1:
        return 0.0
    beta = t / K
    return (K - 1) / K * math.sqrt(n * lambda_H / lambda_W) * math.log(1 / beta - (K - 1))


def etf_family_loss(s, K: int, n: int, lambda_W: float, lambda_H: float):
    r"""UFM loss along the collapsed family: rows of ``W`` a simplex ETF of squared norm :math:`\rho`,
    :math:`h_{k,i} = c\,w_k`, ``b = 0``.

    With ``s`` :math:`= c\rho = \frac{K-1}K a` (:math:`a` the margin) this is chapter 4's :math:`\bar f(a)`,

    .. math::

        \log\big(1 + (K-1)e^{-Kc\rho/(K-1)}\big) + K\sqrt{n_{\mathrm c}\lambda_W\lambda_H}\; c\rho.

    Parameters
    ----------
    s : float or array_like
        :math:`c\rho \ge 0`.

    Returns
    -------
    float or ndarray
    """
    t = threshold(K, n, lambda_W, lambda_H)
    s = np.asarray(s, dtype=np.float64)
    out = np.log1p((K - 1) * np.exp(-K * s / (K - 1))) + t * s
    return float(out) if out.ndim == 0 else out


def optimal_loss(K: int, n: int, lambda_W: float, lambda_H: float) -> float:
    r"""Global minimum of the UFM objective (any :math:`\lambda_b \ge 0`).

    Used in chapter 4, sections 4 and 8.

    Below the threshold, with :math:`\beta = \sqrt{n_{\mathrm c}\lambda_W\lambda_H}`,
    :math:`f^* = -\log(1 - (K-1)\beta) + (K-1)\beta\log(1/\beta - (K-1))`; otherwise :math:`\log K`.
    """
    t = threshold(K, n, lambda_W, lambda_H)
    if t >= 1:
        return math.log(K)
    beta = t / K
    return -math.log1p(-(K - 1) * beta) + (K - 1) * beta * math.log(1 / beta - (K - 1))


@dataclass(frozen=True)
class UFMSolution:
    r"""A global minimizer of the UFM given in closed form (:func:`global_minimizer`).

    Attributes
    ----------
    W : ndarray of shape (K, d)
    H : ndarray of shape (K, n, d)
    b : ndarray of shape (K,)
    loss : float
        :func:`optimal_loss`.
    rho : float
        :math:`\|w^*_k\|^2` (0 for the zero solution).
    feature_ratio : float
        :math:`c = \|h^*_{k,i}\| / \|w^*_k\| = \sqrt{\lambda_W/(n_{\mathrm c}\lambda_H)}`.
    threshold : float
        :math:`K\sqrt{n_{\mathrm c}\lambda_W\lambda_H}`.
    collapsed : bool
        ``threshold < 1`` (otherwise the minimizer is the zero solution).
    """

    W: np.ndarray
    H: np.ndarray
    b: np.ndarray
    loss: float
    rho: float
    feature_ratio: float
    threshold: float
    collapsed: bool


def optimal_margin(K: int, n: int, lambda_W: float, lambda_H: float, lambda_b: float = 0.0, *,
                   loss="ce") -> tuple[float, float, float]:
    r"""The collapsed logits of the global minimizer for a loss: margin :math:`a^*`, mean logit, bias.

    Used in chapter 4b, section 1. As in chapter 4 (Jensen, then the nuclear norm), a global minimizer of a
    UFM whose loss is convex in the logits and symmetric under relabelling has logits
    :math:`Z = aJ + \bar z\,\mathbf 1\mathbf 1^\top` (:math:`J = I_K - \frac1K\mathbf 1\mathbf 1^\top`,
    :math:`\bar z` the mean logit), bias :math:`b = b_0\mathbf 1`, with
    :math:`\beta = \sqrt{n_{\mathrm c}\lambda_W\lambda_H}` and the scalar problems

    - CE: :math:`\min_a \log(1 + (K-1)e^{-a}) + \beta(K-1)a`, so :math:`a^* = \log(1/\beta - (K-1))`
      if :math:`K\beta < 1`, else 0 (:math:`\bar z = b_0 = 0`);
    - label smoothing :math:`\alpha`: the CE problem with :math:`\beta` replaced by :math:`\beta + \alpha/K`,
      :math:`a^* = \log\big(K/(K\beta + \alpha) - (K-1)\big)` if :math:`K\beta + \alpha < 1`, else 0;
    - MSE, :math:`\frac1{2K}\|Z + b\mathbf 1^\top - I\|_F^2 + \beta\|Z\|_* + \frac{\lambda_b}2\|b\|^2`, which
      splits: :math:`a^* = \max(1 - K\beta, 0)`; along :math:`\mathbf 1`, :math:`\bar z = 0` and
      :math:`b_0 = 1/(K(1+\lambda_b))` if :math:`\lambda_b/(1+\lambda_b) \le K\beta`, else
      :math:`K\bar z = 1 - K\beta(1 + 1/\lambda_b)`, :math:`b_0 = \beta/\lambda_b`
      (``lambda_b = 0``: :math:`b_0 = 1/K`);
    - focal :math:`\gamma`: the collapsed family only, :math:`\min_{a\ge0}\, \mathrm{FL}(a) + \beta(K-1)a` with
      :math:`\mathrm{FL}(a) = -(1-\hat y_k)^\gamma\log \hat y_k`, :math:`\hat y_k = 1/(1 + (K-1)e^{-a})`, solved
      numerically. The
      focal loss is not convex in the logits, so this is the best *collapsed* point; that it is the
      global minimizer is Zhou et al. (NeurIPS 2022)'s result, not derived here.

    Parameters
    ----------
    K, n : int
    lambda_W, lambda_H : float
    lambda_b : float, default 0
    loss : Loss or str, default "ce"

    Returns
    -------
    a : float
        Margin :math:`a^* \ge 0` (true logit minus each other one).
    u : float
        :math:`K\bar z`, :math:`K` times the mean logit (nonzero only for MSE with a strong bias penalty).
    b0 : float
        Every entry of the optimal bias.
    """
    _check_sizes(K, n)
    lw, lh, lb = _check_lambdas(lambda_W, lambda_H, lambda_b)
    loss = losses.as_loss(loss)
    beta = math.sqrt(n * lw * lh)
    if loss.name in ("ce", "label_smoothing"):
        eff = beta + loss.alpha / K
        return (math.log(1 / eff - (K - 1)) if K * eff < 1 else 0.0), 0.0, 0.0
    if loss.name == "mse":
        a = max(1 - K * beta, 0.0)
        if lb == 0:
            return a, 0.0, 1 / K
        if lb / (1 + lb) <= K * beta:
            return a, 0.0, 1 / (K * (1 + lb))
        return a, 1 - K * beta * (1 + 1 / lb), beta / lb
    from scipy.optimize import brentq

    direction = np.eye(K)[:1] - 1 / K                                  # dz/da for the class-0 sample
    label0 = np.zeros(1, dtype=int)

    def phi(a):
        return float(losses.values(a * direction, label0, loss)[0]) + beta * (K - 1) * a

    def dphi(a):
        return float(np.sum(losses.value_and_gradient(a * direction, label0, loss)[1] * direction)) + beta * (K - 1)

    grid = np.linspace(0.0, 60.0, 601)
    j = int(np.argmin([phi(a) for a in grid]))
    if j == 0:
        return 0.0, 0.0, 0.0
    lo, hi = grid[j - 1], grid[min(j + 1, grid.size - 1)]
    if dphi(lo) >= 0 or dphi(hi) <= 0:                                   # no interior stationary point bracketed
        return float(grid[j]), 0.0, 0.0
    return float(brentq(dphi, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps)), 0.0, 0.0


def global_minimizer(K: int, n: int, d: int, *, lambda_W: float, lambda_H: float, lambda_b: float,
                     rng=None, loss="ce") -> UFMSolution:
    r"""The closed-form global minimizer (one point of its orbit under rotations of :math:`\mathbb{R}^d`).

    Used in chapter 4, sections 2-7.

    Parameters
    ----------
    K, n, d : int
        Classes, samples per class, feature dimension (``d >= K - 1``).
    lambda_W, lambda_H : float
    lambda_b : float
        For :math:`\lambda_b = 0` every :math:`b = b_0\mathbf 1` is optimal too; ``b = 0`` is returned.
    rng : None, int or Generator, optional
        Rotation of the ETF (see :func:`landscape_lib.etf.simplex_etf`); ``None`` gives the
        deterministic frame.
    loss : Loss or str, default "ce"
        Another loss (chapter 4b): the logits of :func:`optimal_margin`, factored as
        :math:`Z = c\,WW^\top`, :math:`h_{k,i} = c\,w_k` (for focal loss, the best collapsed point).

    Returns
    -------
    UFMSolution
    """
    _check_sizes(K, n, d)
    lw, lh, lb = _check_lambdas(lambda_W, lambda_H, lambda_b)
    if d < K - 1:
        raise ValueError(f"a collapsed solution needs d >= K - 1 = {K - 1}; got d={d}")
    loss = losses.as_loss(loss)
    if loss.name != "ce":
        return _other_loss_minimizer(K, n, d, lw, lh, lb, rng, loss)
    t = threshold(K, n, lw, lh)
    rho = optimal_rho(K, n, lw, lh)
    c = math.sqrt(lw / (n * lh))
    W = math.sqrt(rho) * etf.simplex_etf(K, d, rng=rng)
    H = np.repeat((c * W)[:, None, :], n, axis=1)
    return UFMSolution(W=W, H=H, b=np.zeros(K), loss=optimal_loss(K, n, lw, lh), rho=rho, feature_ratio=c,
                       threshold=t, collapsed=t < 1)


def _other_loss_minimizer(K, n, d, lw, lh, lb, rng, loss):
    a, u, b0 = optimal_margin(K, n, lw, lh, lb, loss=loss)
    c = math.sqrt(lw / (n * lh))
    t = threshold(K, n, lw, lh)
    if u > 0 and d < K:
        raise ValueError(f"with this bias penalty the MSE minimizer has rank K and needs d >= K = {K}; got d={d}")
    E = etf.simplex_etf(K, d, rng=rng)                                # rows of squared norm 1, sum 0
    W = math.sqrt(a / c * (K - 1) / K) * E
    if u > 0:                                                         # a common direction orthogonal to the ETF
        q, _ = np.linalg.qr(np.concatenate([E.T, as_rng(0).standard_normal((d, 1))], axis=1))
        W = W + math.sqrt(u / (c * K)) * q[:, K - 1][None, :]
    H = np.repeat((c * W)[:, None, :], n, axis=1)
    b = np.full(K, b0)
    value = loss_fn(W, H, b, lambda_W=lw, lambda_H=lh, lambda_b=lb, loss=loss)
    rho = float(np.mean(np.sum(W**2, axis=1)))
    return UFMSolution(W=W, H=H, b=b, loss=value, rho=rho, feature_ratio=c, threshold=t, collapsed=a > 0)


def origin_min_eigenvalue(K: int, n: int, lambda_W: float, lambda_H: float,
                          lambda_b: float = math.inf) -> float:
    r"""Smallest Hessian eigenvalue of the UFM objective at :math:`W = 0, H = 0, b = 0`.

    Used in chapter 4, section 5.

    At the origin the softmax probabilities are uniform, :math:`\hat y = \mathbf 1/K`, and the Hessian splits into a
    :math:`(W, H)` block and a :math:`b` block. The :math:`(W, H)` block is
    :math:`\begin{pmatrix}\lambda_W I & C\\ C^\top & \lambda_H I\end{pmatrix}`, where the coupling
    :math:`C` is defined by
    :math:`\langle \Delta W, C\,\Delta H\rangle = \frac1N\sum_{k,i}(\hat y - e_k)^\top \Delta W\,\Delta h_{k,i}`
    (the second-order term of the cross-entropy). Its largest singular value is
    :math:`\sigma = \sqrt{n_{\mathrm c}}/N = 1/(K\sqrt{n_{\mathrm c}})` (Cauchy–Schwarz in :math:`\Delta H`, and
    :math:`J = I_K - \frac1K\mathbf 1\mathbf 1^\top` is a projection), attained for every :math:`\Delta W` with
    :math:`\mathbf 1^\top \Delta W = 0`. Such a block has the eigenvalues
    :math:`\frac{\lambda_W+\lambda_H}2 \pm \sqrt{(\frac{\lambda_W-\lambda_H}2)^2 + \sigma_j^2}` for the
    singular values :math:`\sigma_j` of :math:`C` (and :math:`\lambda_W`, :math:`\lambda_H` on its null
    spaces), so its smallest eigenvalue is

    .. math:: \lambda_{WH} = \frac{\lambda_W + \lambda_H}{2}
        - \sqrt{\Big(\frac{\lambda_W - \lambda_H}{2}\Big)^2 + \frac{1}{K^2 n_{\mathrm c}}},

    with multiplicity :math:`(K-1)d`, negative exactly when :math:`\lambda_W\lambda_H < \sigma^2`, that is
    :math:`K\sqrt{n_{\mathrm c}\lambda_W\lambda_H} < 1`. The :math:`b` block is
    :math:`\frac1K J + \lambda_b I`, smallest eigenvalue :math:`\lambda_b`
    (along :math:`\mathbf 1`: shifting every logit leaves CE unchanged).

    Parameters
    ----------
    K, n : int
    lambda_W, lambda_H : float
    lambda_b : float, default inf
        With the default only :math:`\lambda_{WH}` is returned; otherwise
        :math:`\min(\lambda_{WH}, \lambda_b)`, the smallest eigenvalue of the whole Hessian.

    Returns
    -------
    float
    """
    _check_sizes(K, n)
    lw, lh, _ = _check_lambdas(lambda_W, lambda_H, 0.0)
    lam_wh = (lw + lh) / 2 - math.sqrt(((lw - lh) / 2) ** 2 + 1 / (K**2 * n))
    if lambda_b != math.inf:
        check_positive(lambda_b, "lambda_b", allow_zero=True)
    return min(lam_wh, float(lambda_b))


def rotation_orbit_dimension(K: int, d: int) -> int:
    r"""Dimension of the orbit :math:`\{(W Q^\top, Q H)\colon Q \in \mathrm{O}(d)\}` of a collapsed point.

    Used in chapter 4, section 5.

    The rotations that fix the ``K - 1``-dimensional span of the ETF pointwise form :math:`\mathrm{O}(d - K + 1)`,
    so the orbit has dimension :math:`\binom d2 - \binom{d-K+1}{2}` (7 for ``K = 3``, ``d = 5``). The
    Hessian at a global minimizer has (at least) this many zero eigenvalues.
    """
    K = check_scalar(K, "K", integer=True, low=2)
    d = check_scalar(d, "d", integer=True, low=K - 1)
    m = d - K + 1
    return d * (d - 1) // 2 - m * (m - 1) // 2


def rotation_orbit_tangents(W, H, *, tol: float = 1e-10) -> np.ndarray:
    r"""Orthonormal basis of the tangent space of the rotation orbit through ``(W, H, b)`` (chapter 4).

    The loss is invariant under :math:`W \to W Q^\top`, :math:`h_{k,i} \to Q h_{k,i}` for orthogonal
    :math:`Q`. With :math:`Q = e^{t\Lambda}`, :math:`\Lambda` skew-symmetric, the orbit's tangent vectors are
    :math:`(W \Lambda^\top, H \Lambda^\top, 0)` (rows of ``H`` as the features). The :math:`\binom d2` generators
    :math:`\Lambda = e_i e_j^\top - e_j e_i^\top` span them; this returns an orthonormal basis of their span, whose
    size is :func:`rotation_orbit_dimension` at a collapsed point. At a global minimizer the Hessian vanishes
    on this space.

    Parameters
    ----------
    W : array_like of shape (K, d)
    H : array_like of shape (K, n, d)
    tol : float, default 1e-10
        Singular values below ``tol`` times the largest are treated as zero.

    Returns
    -------
    ndarray of shape (D, r)
        Columns in the :func:`pack` order (the ``b`` block is zero), ``D = K d + K n d + K``.
    """
    W = as_float_array(W, "W", ndim=2)
    W, H, _ = _check_point(W, H, np.zeros(W.shape[0]))
    if H.ndim != 3:
        raise ValueError(f"rotation_orbit_tangents takes one point, H of shape (K, n, d); got {H.shape}")
    K, n, d = H.shape
    i, j = np.triu_indices(d, k=1)
    if i.size == 0:
        return np.zeros((num_parameters(K, n, d), 0))
    S = np.zeros((i.size, d, d))
    S[np.arange(i.size), i, j] = 1.0
    S[np.arange(i.size), j, i] = -1.0
    St = np.swapaxes(S, -1, -2)
    tangents = np.concatenate([(W @ St).reshape(i.size, -1), (H[None] @ St[:, None]).reshape(i.size, -1),
                               np.zeros((i.size, K))], axis=1)              # (d(d-1)/2, D)
    u, s, _ = np.linalg.svd(tangents.T, full_matrices=False)
    return u[:, s > tol * max(s[0], np.finfo(float).tiny)]


# ----------------------------------------------------------------------------------------------------
# Curvature at a point
# ----------------------------------------------------------------------------------------------------

def _flat_hvp(W, H, b, lambdas):
    K, n, d = H.shape

    def matvec(v):
        dW, dH, db = unpack(np.ravel(v), K, n, d)
        return pack(*hessian_vector_product(W, H, b, dW, dH, db, **lambdas))
    return matvec


def hessian_matrix(W, H, b, *, lambda_W: float, lambda_H: float, lambda_b: float, loss="ce") -> np.ndarray:
    """Dense Hessian (in the :func:`pack` order), built from Hessian-vector products; for small problems.

    Returns
    -------
    ndarray of shape (D, D), ``D = K d + K n d + K``, symmetrised.
    """
    W, H, b = _check_point(W, H, b)
    K, n, d = H.shape
    D = num_parameters(K, n, d)
    eye = np.eye(D)
    dW = eye[:, : K * d].reshape(D, K, d)
    dH = eye[:, K * d: K * d + K * n * d].reshape(D, K, n, d)
    db = eye[:, K * d + K * n * d:]
    HW, HH, Hb = hessian_vector_product(W, H, b, dW, dH, db, lambda_W=lambda_W, lambda_H=lambda_H,
                                        lambda_b=lambda_b, loss=loss)  # batched over the D directions
    M = np.concatenate([HW.reshape(D, -1), HH.reshape(D, -1), Hb], axis=1)
    return 0.5 * (M + M.T)


def smallest_hessian_eigenpairs(W, H, b, *, lambda_W: float, lambda_H: float, lambda_b: float, k: int = 1,
                                tol: float = 1e-10, rng=0, largest: bool = False, loss="ce"):
    r"""The ``k`` smallest Hessian eigenvalues (and eigenvectors) by Lanczos on Hessian-vector products.

    Used in chapter 4, section 5.

    Uses :func:`scipy.sparse.linalg.eigsh` (``which="SA"``) on a ``LinearOperator`` whose matvec is
    :func:`hessian_vector_product`: the Hessian is never formed.

    Parameters
    ----------
    W, H, b : arrays of shapes (K, d), (K, n, d), (K,)
    lambda_W, lambda_H, lambda_b : float
    k : int, default 1
    tol : float, default 1e-10
        Relative accuracy asked of ARPACK.
    rng : None, int or Generator, default 0
        Seeds the Lanczos start vector (so results are reproducible).
    largest : bool, default False
        Return the ``k`` *largest* eigenpairs instead (``which="LA"``), e.g. to classify a critical point
        with :func:`landscape_lib.critical.classify_eigenvalues`.
    loss : Loss or str, default "ce"
        The classification loss (:mod:`landscape_lib.losses`).

    Returns
    -------
    eigenvalues : ndarray of shape (k,), ascending
    eigenvectors : ndarray of shape (D, k), columns in the :func:`pack` order
    """
    W, H, b = _check_point(W, H, b)
    if W.ndim != 2:
        raise ValueError(f"smallest_hessian_eigenpairs takes one point, W of shape (K, d); got {W.shape}")
    lambdas = dict(lambda_W=lambda_W, lambda_H=lambda_H, lambda_b=lambda_b)
    _check_lambdas(**lambdas)
    lambdas["loss"] = losses.as_loss(loss)
    K, n, d = H.shape
    return lanczos_eigenpairs(_flat_hvp(W, H, b, lambdas), num_parameters(K, n, d), k=k, tol=tol, rng=rng,
                              largest=largest)


def lanczos_eigenpairs(matvec, D: int, *, k: int = 1, tol: float = 1e-10, rng=0, largest: bool = False):
    r"""The ``k`` smallest (or largest) eigenpairs of a symmetric operator given by its products, by Lanczos.

    The one Lanczos of the UFM code: :func:`smallest_hessian_eigenpairs` calls it with the Hessian-vector
    product of the UFM, and :mod:`landscape_lib.ufm_sphere` with the Riemannian Hessian of the
    normalized-feature model (chapters 4 and 4b). Uses :func:`scipy.sparse.linalg.eigsh` on a
    ``LinearOperator``; the matrix is never formed.

    Parameters
    ----------
    matvec : callable
        ``matvec(v)`` for ``v`` of shape (D,) returns the product, shape (D,).
    D : int
        Dimension.
    k : int, default 1
    tol : float, default 1e-10
        Relative accuracy asked of ARPACK.
    rng : None, int or Generator, default 0
        Seeds the start vector.
    largest : bool, default False

    Returns
    -------
    eigenvalues : ndarray of shape (k,), ascending
    eigenvectors : ndarray of shape (D, k)
    """
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    D = check_scalar(D, "D", integer=True, low=2)
    check_positive(k, "k", integer=True)
    if k >= D:
        raise ValueError(f"k must be below the number of parameters D={D}; got {k}")
    op = LinearOperator((D, D), matvec=matvec, dtype=np.float64)
    v0 = as_rng(rng).standard_normal(D)
    try:
        vals, vecs = eigsh(op, k=k, which="LA" if largest else "SA", tol=tol, v0=v0,
                           ncv=min(D, max(2 * k + 1, 40)))
    except ArpackNoConvergence:
        # A cluster of (near-)zero eigenvalues, e.g. along a symmetry orbit, can stall ARPACK, and whether it
        # does depends on round-off (it differed between CPU kernels). Small operators are then formed and
        # decomposed densely: D products and one symmetric eigendecomposition.
        if D > _DENSE_FALLBACK_MAX:
            raise
        dense = np.column_stack([matvec(e) for e in np.eye(D)])
        all_vals, all_vecs = np.linalg.eigh(0.5 * (dense + dense.T))
        pick = slice(D - k, D) if largest else slice(0, k)
        vals, vecs = all_vals[pick], all_vecs[:, pick]
    order = np.argsort(vals)
    return vals[order], vecs[:, order]


# Operators up to this size are decomposed densely when Lanczos does not converge.
_DENSE_FALLBACK_MAX = 4000


# ----------------------------------------------------------------------------------------------------
# Fitting: minimizing the objective from a start
# ----------------------------------------------------------------------------------------------------

def random_init(K: int, n: int, d: int, *, scale: float = 1.0, rng=None):
    r"""Random start: i.i.d. :math:`\mathcal N(0, \mathrm{scale}^2/d)` entries for ``W`` and ``H``; ``b = 0``.

    Returns
    -------
    W : ndarray of shape (K, d)
    H : ndarray of shape (K, n, d)
    b : ndarray of shape (K,)
    """
    _check_sizes(K, n, d)
    check_positive(scale, "scale")
    gen = as_rng(rng)
    s = scale / math.sqrt(d)
    return s * gen.standard_normal((K, d)), s * gen.standard_normal((K, n, d)), np.zeros(K)


@dataclass(frozen=True)
class UFMRun:
    """Result of :func:`fit`: the final point and the recorded history.

    Attributes
    ----------
    method : str
    W, H, b : ndarrays of shapes (K, d), (K, n, d), (K,)
        The final point.
    iterations : ndarray of shape (T,)
        Iteration numbers of the records (0 = the start).
    loss, grad_norm : ndarray of shape (T,)
    metrics : tuple of CollapseMetrics, length T
    snapshots : tuple of (W, H, b) or None
        The recorded points (``keep_snapshots=True``), e.g. for animations.
    """

    method: str
    W: np.ndarray
    H: np.ndarray
    b: np.ndarray
    iterations: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    metrics: tuple
    snapshots: tuple | None

    def history(self, name: str) -> np.ndarray:
        """One field of the recorded CollapseMetrics over the records, shape (T,)."""
        return np.array([getattr(m, name) for m in self.metrics])


_METHODS = ("gd", "adam", "lbfgs")


def fit(K: int, n: int, d: int, *, lambda_W: float, lambda_H: float, lambda_b: float, method: str = "gd",
        steps: int = 2000, lr: float | None = None, rng=None, init=None, init_scale: float = 1.0,
        fixed_W=None, record_every: int = 10, record_at=None, keep_snapshots: bool = False,
        gtol: float = 1e-10, lr_decay_every: int | None = None, lr_decay: float = 0.1, loss="ce",
        project=None) -> UFMRun:
    r"""Fit the UFM: minimize its objective from a random (or given) start with gradient descent, Adam or L-BFGS.

    Every step evaluates :func:`loss_and_gradient` (without re-validating its inputs), and every record
    computes the NC metrics with :func:`landscape_lib.collapse.collapse_metrics`. Used in chapter 4,
    sections 2-8. (The training of deep networks, chapters 5–7, is :func:`landscape_lib.train.train`.)

    Parameters
    ----------
    K, n, d : int
    lambda_W, lambda_H, lambda_b : float
    method : {"gd", "adam", "lbfgs"}
        Full-batch gradient descent, Adam (moment decay rates 0.9 and 0.999, ``eps`` :math:`10^{-8}`), or
        scipy's L-BFGS-B (no bounds, ``gtol``).
    steps : int, default 2000
        Iterations (for L-BFGS the iteration limit).
    lr : float, optional
        Step size; default 1.0 for GD and 0.01 for Adam (unused by L-BFGS).
    rng : None, int or Generator
        Seeds the random start.
    init : tuple (W, H, b), optional
        Start here instead of at a random point.
    init_scale : float, default 1.0
        Scale of the random start (:func:`random_init`).
    fixed_W : array_like of shape (K, d), optional
        Keep the classifier fixed at this value (e.g. a simplex ETF, chapter 4 section 7) and optimize only
        ``H`` and ``b`` (then the problem is convex).
    record_every : int, default 10
        Record loss, gradient norm and NC metrics every this many iterations (and at the end).
    record_at : array_like of int, optional
        Record exactly at these iterations instead (e.g. log-spaced), plus 0 and the end.
    keep_snapshots : bool, default False
        Keep the recorded points (for animations).
    gtol : float, default 1e-10
        L-BFGS stops when the largest gradient entry is below it.
    lr_decay_every : int, optional
        GD/Adam: multiply ``lr`` by ``lr_decay`` every this many iterations.
    lr_decay : float, default 0.1
    loss : Loss or str, default "ce"
        The classification loss (:mod:`landscape_lib.losses`; chapter 4b).
    project : callable, optional
        An orthogonal projection ``project(theta) -> theta`` onto a linear subspace (flat vectors in the
        :func:`pack` order) that is invariant under the gradient, e.g. the points fixed by a symmetry of the
        loss: the gradient is projected at every step, so the run stays in the subspace (used by
        :mod:`landscape_lib.ufm_critical`). The start is projected too.

    Returns
    -------
    UFMRun
    """
    _check_sizes(K, n, d)
    loss = losses.as_loss(loss)
    lambdas = dict(zip(("lambda_W", "lambda_H", "lambda_b"), _check_lambdas(lambda_W, lambda_H, lambda_b),
                       strict=True))
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}; got {method!r}")
    steps = check_positive(steps, "steps", integer=True)
    check_positive(record_every, "record_every", integer=True)
    if lr_decay_every is not None:
        check_positive(lr_decay_every, "lr_decay_every", integer=True)
    check_positive(lr_decay, "lr_decay")
    check_positive(gtol, "gtol")
    if lr is None:
        lr = {"gd": 1.0, "adam": 0.01, "lbfgs": 0.0}[method]
    elif method != "lbfgs":
        check_positive(lr, "lr")
    if init is None:
        W0, H0, b0 = random_init(K, n, d, scale=init_scale, rng=rng)
    else:
        W0, H0, b0 = _check_point(*init)
        if W0.shape != (K, d) or H0.shape != (K, n, d):
            raise ValueError(f"init must have shapes (K, d)=({K}, {d}), (K, n, d)=({K}, {n}, {d}), (K,); "
                             f"got {W0.shape}, {H0.shape}, {b0.shape}")
    if fixed_W is not None:
        W0 = as_float_array(fixed_W, "fixed_W", ndim=2)
        if W0.shape != (K, d):
            raise ValueError(f"fixed_W must have shape (K, d)=({K}, {d}); got {W0.shape}")
    theta = pack(W0, H0, b0)
    if project is not None:
        theta = project(theta)
    mask = np.ones_like(theta)
    if fixed_W is not None:
        mask[: K * d] = 0.0
    labels = labels_of(K, n)
    if record_at is None:
        wanted = set(range(0, steps + 1, record_every))
    else:
        wanted = {int(i) for i in np.asarray(record_at).ravel() if 0 <= i <= steps} | {0}
    lw, lh, lb = lambdas["lambda_W"], lambdas["lambda_H"], lambdas["lambda_b"]

    def fg(th):
        # loss_and_gradient on the flat vector, without its validation (inputs checked once above).
        W, H, b = unpack(th, K, n, d)
        f, grads = _value_and_gradient(W, H.reshape(K * n, d), b, labels, lw, lh, lb, loss)
        g = _flat(*grads) * mask
        return float(f), (g if project is None else project(g))

    recs = dict(it=[], loss=[], gn=[], metrics=[], snaps=[])

    def record(it, th, f, g):
        W, H, b = unpack(th, K, n, d)
        recs["it"].append(it)
        recs["loss"].append(f)
        recs["gn"].append(float(np.linalg.norm(g)))
        recs["metrics"].append(collapse.collapse_metrics(H.reshape(K * n, d), labels, W, b, K))
        if keep_snapshots:
            recs["snaps"].append((W.copy(), H.copy(), b.copy()))

    if method == "lbfgs":
        from scipy.optimize import minimize

        f0, g0 = fg(theta)
        record(0, theta, f0, g0)
        state = {"it": 0}

        def callback(xk):
            state["it"] += 1
            if state["it"] in wanted:
                f, g = fg(xk)
                record(state["it"], xk.copy(), f, g)

        res = minimize(fg, theta, jac=True, method="L-BFGS-B", callback=callback,
                       options=dict(maxiter=steps, gtol=gtol, ftol=0.0, maxcor=20))
        theta = res.x
        if recs["it"][-1] != state["it"]:
            f, g = fg(theta)
            record(state["it"], theta, f, g)
    else:
        m = np.zeros_like(theta)
        v = np.zeros_like(theta)
        step = float(lr)
        for it in range(steps + 1):
            f, g = fg(theta)
            if it in wanted or it == steps:
                record(it, theta, f, g)
            if it == steps:
                break
            if lr_decay_every and it > 0 and it % lr_decay_every == 0:
                step *= lr_decay
            if method == "gd":
                theta = theta - step * g
            else:
                m = 0.9 * m + 0.1 * g
                v = 0.999 * v + 0.001 * g * g
                mhat = m / (1 - 0.9 ** (it + 1))
                vhat = v / (1 - 0.999 ** (it + 1))
                theta = theta - step * mhat / (np.sqrt(vhat) + 1e-8) * mask
    W, H, b = (a.copy() for a in unpack(theta, K, n, d))
    return UFMRun(method=method, W=W, H=H, b=b, iterations=np.array(recs["it"]), loss=np.array(recs["loss"]),
                  grad_norm=np.array(recs["gn"]), metrics=tuple(recs["metrics"]),
                  snapshots=tuple(recs["snaps"]) if keep_snapshots else None)


# ----------------------------------------------------------------------------------------------------
# Slices of the landscape
# ----------------------------------------------------------------------------------------------------

def loss_slice(center, direction1, direction2, alphas, betas, *, K: int, n: int, d: int, lambda_W: float,
               lambda_H: float, lambda_b: float, loss="ce") -> np.ndarray:
    r"""Loss on the plane :math:`\Theta(t_1, t_2) = \bar\Theta + t_1 u + t_2 v` (flat vectors).

    ``alphas`` and ``betas`` hold the grid values of :math:`t_1` and :math:`t_2`.

    Used in chapter 4, section 5.

    Parameters
    ----------
    center, direction1, direction2 : array_like of shape (D,)
        :math:`\bar\Theta` (the base point), :math:`u, v` in the :func:`pack` order.
    alphas : array_like of shape (A,)
    betas : array_like of shape (B,)
    K, n, d : int
    lambda_W, lambda_H, lambda_b : float

    Returns
    -------
    ndarray of shape (B, A)
        ``out[j, i]`` is the loss at ``(alphas[i], betas[j])`` (rows along ``beta``, as plotly's
        ``z`` expects). One batched call, no Python loop over the grid.
    """
    D = num_parameters(K, n, d)
    c = as_float_array(center, "center", ndim=1, last_dim=D)
    u = as_float_array(direction1, "direction1", ndim=1, last_dim=D)
    v = as_float_array(direction2, "direction2", ndim=1, last_dim=D)
    a = as_float_array(alphas, "alphas", ndim=1)
    bb = as_float_array(betas, "betas", ndim=1)
    thetas = c + a[None, :, None] * u + bb[:, None, None] * v          # (B, A, D)
    Wg = thetas[..., : K * d].reshape(bb.size, a.size, K, d)
    Hg = thetas[..., K * d: K * d + K * n * d].reshape(bb.size, a.size, K, n, d)
    bg = thetas[..., K * d + K * n * d:]
    return _loss(Wg, Hg, bg, lambda_W=lambda_W, lambda_H=lambda_H, lambda_b=lambda_b, loss=loss)


_loss = loss_fn = loss
