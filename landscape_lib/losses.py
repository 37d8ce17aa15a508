r"""Classification losses on logits: value, gradient and Hessian-vector product (chapters 4 and 4b).

A loss :math:`\ell(z, k)` takes the logits :math:`z \in \mathbb{R}^K` of one sample and its label ``k``.
Every function here works on rows: logits ``Z`` of shape ``(..., N, K)`` and labels of shape ``(N,)``, and
returns per-row values, per-row gradients :math:`\nabla_z \ell` and per-row Hessian-vector products
:math:`\nabla_z^2 \ell\,[\dot z]` (no averaging over rows: the caller divides by ``N``). With the softmax
probabilities :math:`\hat y = \mathrm{softmax}(z)` (the code's ``P`` holds them row by row), whose Jacobian is
:math:`\operatorname{diag}(\hat y) - \hat y\hat y^\top` (the code's ``J``):

- ``"ce"``, cross-entropy: :math:`\ell = \log\sum_j e^{z_j} - z_k`, :math:`\nabla\ell = \hat y - e_k`,
  :math:`\nabla^2\ell = \operatorname{diag}(\hat y) - \hat y\hat y^\top`;
- ``"label_smoothing"`` with :math:`\alpha \in [0, 1)`: cross-entropy against the smoothed target
  :math:`\tilde e_k = (1-\alpha)e_k + \frac\alpha K\mathbf 1`, :math:`\ell = \log\sum_j e^{z_j} - \tilde e_k^\top z`,
  :math:`\nabla\ell = \hat y - \tilde e_k`, :math:`\nabla^2\ell = \operatorname{diag}(\hat y) - \hat y\hat y^\top`
  (Szegedy et al., 2016);
- ``"focal"`` with :math:`\gamma \ge 0`: :math:`\ell = \mathrm{fl}(\hat y_k) = -(1-\hat y_k)^\gamma\log\hat y_k`
  (Lin et al., 2017), :math:`\mathrm{fl}', \mathrm{fl}''` the derivatives of this scalar function of the
  true-class probability :math:`\hat y_k`. With :math:`\nabla\hat y_k = \hat y_k(e_k - \hat y)`,
  :math:`\nabla\ell = \mathrm{fl}'(\hat y_k)\nabla\hat y_k` and
  :math:`\nabla^2\ell = \mathrm{fl}''(\hat y_k)\nabla\hat y_k\nabla\hat y_k^\top +
  \mathrm{fl}'(\hat y_k)\,\hat y_k\,[(e_k-\hat y)(e_k-\hat y)^\top - \operatorname{diag}(\hat y) + \hat y\hat y^\top]`;
  :math:`\gamma = 0` is cross-entropy;
- ``"mse"``, squared error to the one-hot label: :math:`\ell = \frac12\|z - e_k\|^2`, :math:`\nabla\ell = z - e_k`,
  :math:`\nabla^2\ell = I`.

A loss is named by a :class:`Loss` (made by :func:`get`); the UFM functions of :mod:`landscape_lib.ufm` take
one as ``loss=`` (or its name, for the default parameter). Everything is float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_scalar

__all__ = ["LOSS_NAMES", "Loss", "get", "as_loss", "values", "value_and_gradient", "hessian_vector_product"]

#: The losses this module knows.
LOSS_NAMES = ("ce", "label_smoothing", "focal", "mse")


@dataclass(frozen=True)
class Loss:
    """A classification loss and its parameter (made by :func:`get`; do not build directly).

    Attributes
    ----------
    name : {"ce", "label_smoothing", "focal", "mse"}
    alpha : float
        Label-smoothing weight (used by ``"label_smoothing"`` only).
    gamma : float
        Focusing exponent (used by ``"focal"`` only).
    """

    name: str
    alpha: float = 0.0
    gamma: float = 0.0

    def __str__(self) -> str:
        return {"ce": "CE", "mse": "MSE", "label_smoothing": f"LS (alpha = {self.alpha:g})",
                "focal": f"focal (gamma = {self.gamma:g})"}[self.name]


def get(name: str, *, alpha: float = 0.1, gamma: float = 2.0) -> Loss:
    """The loss called ``name``, with its parameter validated.

    Used in chapter 4b, section 1.

    Parameters
    ----------
    name : {"ce", "label_smoothing", "focal", "mse"}
    alpha : float, default 0.1
        Label smoothing, in ``[0, 1)``.
    gamma : float, default 2.0
        Focal exponent, ``>= 0``.

    Returns
    -------
    Loss
    """
    if name not in LOSS_NAMES:
        raise ValueError(f"loss must be one of {LOSS_NAMES}; got {name!r}")
    if name == "label_smoothing":
        return Loss(name, alpha=check_scalar(alpha, "alpha", low=0.0, high=1.0, high_inclusive=False))
    if name == "focal":
        return Loss(name, gamma=check_scalar(gamma, "gamma", low=0.0))
    return Loss(name)


def as_loss(loss) -> Loss:
    """A :class:`Loss` from a :class:`Loss` or a name (with the default parameter of :func:`get`)."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str):
        return get(loss)
    raise ValueError(f"loss must be a name in {LOSS_NAMES} or a Loss from losses.get; got {loss!r}")


# ----------------------------------------------------------------------------------------------------
# Softmax pieces shared by the losses
# ----------------------------------------------------------------------------------------------------

def softmax_cross_entropy(Z, labels):
    r"""Softmax probabilities ``P`` (rows :math:`\hat y`) of the rows of ``Z`` (..., N, K) and the cross-entropy
    of each row (..., N).

    No validation (the UFM's solver calls it at every step).
    """
    zmax = Z.max(axis=-1, keepdims=True)
    E = np.exp(Z - zmax)
    S = E.sum(axis=-1, keepdims=True)
    ce = np.log(S[..., 0]) + zmax[..., 0] - Z[..., np.arange(labels.shape[0]), labels]
    return E / S, ce


def _target(loss: Loss, labels, K: int):
    Y = np.eye(K)[labels]
    if loss.name == "label_smoothing":
        return (1 - loss.alpha) * Y + loss.alpha / K
    return Y


def _focal_g(q, one_minus_q, gamma):
    """g'(q) and g''(q) for g(q) = -(1-q)^gamma log q (one_minus_q computed accurately by the caller)."""
    logq = np.log(q)
    a = one_minus_q**gamma
    a1 = one_minus_q ** (gamma - 1) if gamma != 0 else np.zeros_like(q)
    a2 = one_minus_q ** (gamma - 2) if gamma not in (0, 1) else np.zeros_like(q)
    g1 = gamma * a1 * logq - a / q
    g2 = -gamma * (gamma - 1) * a2 * logq + 2 * gamma * a1 / q + a / q**2
    return g1, g2


def _focal_pieces(P, labels):
    rows = np.arange(labels.shape[0])
    q = P[..., rows, labels]
    Pm = P.copy()
    Pm[..., rows, labels] = 0.0
    one_minus_q = Pm.sum(axis=-1)                         # 1 - p_k without cancellation
    R = np.eye(P.shape[-1])[labels] - P                   # y - p
    return q, one_minus_q, R


# ----------------------------------------------------------------------------------------------------
# Public functions
# ----------------------------------------------------------------------------------------------------

def value_and_gradient(Z, labels, loss="ce"):
    r"""Per-row loss values and gradients with respect to the logits.

    Used by :mod:`landscape_lib.ufm` (chapter 4b, section 1).

    Parameters
    ----------
    Z : ndarray of shape (..., N, K)
        Logits, one row per sample.
    labels : ndarray of int of shape (N,)
    loss : Loss or str, default "ce"

    Returns
    -------
    values : ndarray of shape (..., N)
        :math:`\ell(z_i, k_i)`.
    grad : ndarray of shape (..., N, K)
        :math:`\nabla_z\ell(z_i, k_i)`, formulas in the module docstring.
    """
    loss = as_loss(loss)
    K = Z.shape[-1]
    if loss.name == "mse":
        R = Z - np.eye(K)[labels]
        return 0.5 * np.sum(R**2, axis=-1), R
    P, ce = softmax_cross_entropy(Z, labels)
    if loss.name == "ce":
        return ce, P - np.eye(K)[labels]
    if loss.name == "label_smoothing":
        # LSE(z) - y_a^T z = ce + alpha (z_k - mean_j z_j)
        rows = np.arange(labels.shape[0])
        val = ce + loss.alpha * (Z[..., rows, labels] - Z.mean(axis=-1))
        return val, P - _target(loss, labels, K)
    q, one_minus_q, R = _focal_pieces(P, labels)
    g1, _ = _focal_g(q, one_minus_q, loss.gamma)
    return one_minus_q**loss.gamma * ce, (g1 * q)[..., None] * R


def values(Z, labels, loss="ce"):
    """Per-row loss values, shape (..., N) (see :func:`value_and_gradient`)."""
    return value_and_gradient(Z, labels, loss)[0]


def hessian_vector_product(Z, labels, dZ, loss="ce"):
    r"""Per-row Hessian of the loss in the logits applied to ``dZ``: :math:`\nabla_z^2\ell(z_i)\,\dot z_i`.

    Used by :mod:`landscape_lib.ufm` (chapter 4b, section 1).

    Parameters
    ----------
    Z, dZ : ndarray of shape (..., N, K)
    labels : ndarray of int of shape (N,)
    loss : Loss or str, default "ce"

    Returns
    -------
    ndarray of shape (..., N, K)
    """
    loss = as_loss(loss)
    if loss.name == "mse":
        return np.array(dZ, dtype=np.float64, copy=True)
    P, _ = softmax_cross_entropy(Z, labels)
    JdZ = P * (dZ - np.sum(P * dZ, axis=-1, keepdims=True))
    if loss.name in ("ce", "label_smoothing"):
        return JdZ
    q, one_minus_q, R = _focal_pieces(P, labels)
    g1, g2 = _focal_g(q, one_minus_q, loss.gamma)
    Rv = np.sum(R * dZ, axis=-1)                          # (y - p)^T dz
    return ((g2 * q**2 * Rv + g1 * q * Rv)[..., None] * R) - (g1 * q)[..., None] * JdZ
