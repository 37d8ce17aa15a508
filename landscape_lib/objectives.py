r"""The ℓ4 objective on the sphere, for a matrix of columns ``A`` (chapter 2) or of data ``Y`` (chapter 3).

For :math:`A = [a_1, \dots, a_m] \in \mathbb{R}^{n \times m}` and :math:`\zeta = A^\top q`,

.. math::

    f(q) = -\tfrac14 \|A^\top q\|_4^4 = -\tfrac14 \sum_{i=1}^m \langle a_i, q\rangle^4
         = -\tfrac14\, \mathcal{T}(q, q, q, q), \qquad \mathcal{T} = \sum_{i=1}^m a_i^{\otimes 4},

    \nabla f(q) = -A \zeta^{\circ 3}, \qquad \nabla^2 f(q) = -3 A \operatorname{diag}(\zeta^{\circ 2}) A^\top,

    \operatorname{grad} f(q) = -P_q A \zeta^{\circ 3}, \qquad
    \operatorname{Hess} f(q) = P_q\bigl(-3 A \operatorname{diag}(\zeta^{\circ 2}) A^\top
        + \|\zeta\|_4^4 I\bigr) P_q

(``book/formulas.md``; :math:`\langle q, \nabla f(q)\rangle = -\|\zeta\|_4^4`). Minimizing ``f`` on the sphere
maximizes the fourth moment of the correlations with the columns: its targets are :math:`\pm a_i`.

Conventions
-----------
* ``A`` has shape ``(n, m)``: the columns are the components (tensor decomposition) or the samples
  (dictionary learning: pass the data ``Y`` of shape ``(n, p)``; to average over samples pass
  ``Y / p**0.25``, since ``f`` is homogeneous of degree 4 in ``A``).
* Points ``q`` have shape ``(..., n)``, batched over leading axes; outputs keep the leading shape.
* The *Euclidean* functions (``l4_value``, ``l4_euclidean_*``) accept any finite ``q``; the *Riemannian*
  ones (``l4_gradient``, ``l4_hessian*``) require unit-norm ``q``.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_float_array
from .sphere import _project, _riemannian_hessian, _tangent_hessian, as_points

__all__ = [
    "as_matrix", "l4_value", "l4_euclidean_gradient", "l4_euclidean_hessian",
    "l4_euclidean_hessian_vector", "l4_gradient", "l4_hessian", "l4_hessian_vector",
    "l4_tangent_hessian", "l4_tensor", "tensor_form",
]


def as_matrix(A, name: str = "A") -> np.ndarray:
    """Validate a matrix of columns: finite, float64, shape ``(n, m)`` with ``n >= 2``, no zero column.

    Parameters
    ----------
    A : array_like of shape (n, m)
        Columns :math:`a_1, \\dots, a_m` (components, or data samples in chapter 3).
    name : str
        Name used in error messages.

    Returns
    -------
    ndarray of shape (n, m)

    Raises
    ------
    ValueError
        If ``A`` is not 2-D, not finite, has fewer than 2 rows, or has a zero column.
    """
    arr = as_float_array(A, name, ndim=2)
    if arr.shape[0] < 2:
        raise ValueError(f"{name} must have n >= 2 rows (points live on S^(n-1)); got shape {arr.shape}")
    zero = np.flatnonzero(~np.any(arr != 0, axis=0))
    if zero.size:
        raise ValueError(f"{name} must have no zero columns; column(s) {zero[:5].tolist()} are zero")
    return arr


def _inputs(A, q, *, sphere: bool):
    A = as_matrix(A)
    if sphere:
        q = as_points(q, A.shape[0])
    else:
        q = as_float_array(q, "q", min_ndim=1, last_dim=A.shape[0])
    return A, q


def l4_value(A, q) -> np.ndarray:
    r"""Objective value :math:`f(q) = -\tfrac14 \|A^\top q\|_4^4`.

    Parameters
    ----------
    A : array_like of shape (n, m)
    q : array_like of shape (..., n)

    Returns
    -------
    ndarray of shape (...)
    """
    A, q = _inputs(A, q, sphere=False)
    z = q @ A
    z *= z
    return -0.25 * np.sum(z * z, axis=-1)


def l4_euclidean_gradient(A, q) -> np.ndarray:
    r"""Euclidean gradient :math:`\nabla f(q) = -A \zeta^{\circ 3}` with :math:`\zeta = A^\top q`.

    Parameters
    ----------
    A : array_like of shape (n, m)
    q : array_like of shape (..., n)

    Returns
    -------
    ndarray of shape (..., n)
    """
    A, q = _inputs(A, q, sphere=False)
    z = q @ A
    return -((z * z * z) @ A.T)


def l4_euclidean_hessian(A, q) -> np.ndarray:
    r"""Euclidean Hessian :math:`\nabla^2 f(q) = -3 A \operatorname{diag}(\zeta^{\circ 2}) A^\top`.

    Parameters
    ----------
    A : array_like of shape (n, m)
    q : array_like of shape (..., n)

    Returns
    -------
    ndarray of shape (..., n, n)
    """
    A, q = _inputs(A, q, sphere=False)
    return _ehess(A, q)


def l4_euclidean_hessian_vector(A, q, v) -> np.ndarray:
    r"""Euclidean Hessian-vector product :math:`-3 A (\zeta^{\circ 2} \circ A^\top v)`, O(nm) per point.

    Parameters
    ----------
    A : array_like of shape (n, m)
    q : array_like of shape (..., n)
    v : array_like of shape (..., n)

    Returns
    -------
    ndarray of shape (..., n)
    """
    A, q = _inputs(A, q, sphere=False)
    v = as_float_array(v, "v", min_ndim=1, last_dim=A.shape[0])
    z = q @ A
    return -3.0 * ((z * z * (v @ A)) @ A.T)


def l4_gradient(A, q) -> np.ndarray:
    r"""Riemannian gradient on the sphere, :math:`\operatorname{grad} f(q) = -P_q A \zeta^{\circ 3}`.

    Parameters
    ----------
    A : array_like of shape (n, m)
    q : array_like of shape (..., n)
        Unit vectors.

    Returns
    -------
    ndarray of shape (..., n)
    """
    A, q = _inputs(A, q, sphere=True)
    return _rgrad(A, q)[0]


def l4_hessian(A, q) -> np.ndarray:
    r"""Riemannian Hessian on the sphere as an ``n × n`` matrix (zero along ``q``):
    :math:`P_q(-3 A \operatorname{diag}(\zeta^{\circ 2}) A^\top + \|\zeta\|_4^4 I) P_q`.

    Parameters
    ----------
    A : array_like of shape (n, m)
    q : array_like of shape (..., n)
        Unit vectors.

    Returns
    -------
    ndarray of shape (..., n, n)
    """
    A, q = _inputs(A, q, sphere=True)
    return _rhess(A, q)


def l4_hessian_vector(A, q, v) -> np.ndarray:
    r"""Riemannian Hessian applied to tangent vectors ``v``, without forming a matrix:
    :math:`P_q(-3 A(\zeta^{\circ 2} \circ A^\top v) + \|\zeta\|_4^4 v)`.

    Parameters
    ----------
    A : array_like of shape (n, m)
    q : array_like of shape (..., n)
        Unit vectors.
    v : array_like of shape (..., n)
        Tangent vectors at ``q`` (:math:`\langle q, v\rangle = 0`).

    Returns
    -------
    ndarray of shape (..., n)
    """
    A, q = _inputs(A, q, sphere=True)
    v = as_float_array(v, "v", min_ndim=1, last_dim=A.shape[0])
    z = q @ A
    z2 = z * z
    s = np.sum(z2 * z2, axis=-1, keepdims=True)
    return _project(q, -3.0 * ((z2 * (v @ A)) @ A.T) + s * v)


def l4_tangent_hessian(A, q) -> np.ndarray:
    r"""The :math:`(n-1)\times(n-1)` tangent Hessian :math:`B^\top \operatorname{Hess} f(q) B`
    (basis :func:`landscape_lib.sphere.tangent_basis`); its eigenvalues classify critical points.

    Parameters
    ----------
    A : array_like of shape (n, m)
    q : array_like of shape (..., n)
        Unit vectors.

    Returns
    -------
    ndarray of shape (..., n - 1, n - 1)
    """
    A, q = _inputs(A, q, sphere=True)
    return _tangent_hessian(q, _rhess(A, q))


def l4_tensor(A) -> np.ndarray:
    r"""The explicit fourth-order tensor :math:`\mathcal{T} = \sum_i a_i \otimes a_i \otimes a_i \otimes a_i`.

    Memory grows like :math:`n^4`: for small examples and checks only (chapter 2, section 1).

    Parameters
    ----------
    A : array_like of shape (n, m)

    Returns
    -------
    ndarray of shape (n, n, n, n)
    """
    A = as_matrix(A)
    if A.shape[0] > 64:
        raise ValueError(f"l4_tensor builds n^4 entries; use it for n <= 64, got n = {A.shape[0]}")
    return np.einsum("ai,bi,ci,di->abcd", A, A, A, A, optimize=True)


def tensor_form(T, q) -> np.ndarray:
    r"""Evaluate the quartic form :math:`\mathcal{T}(q, q, q, q) = \sum_{abcd} T_{abcd} q_a q_b q_c q_d`.

    Parameters
    ----------
    T : array_like of shape (n, n, n, n)
    q : array_like of shape (..., n)

    Returns
    -------
    ndarray of shape (...)
    """
    T = as_float_array(T, "T", ndim=4)
    n = T.shape[0]
    if T.shape != (n, n, n, n):
        raise ValueError(f"T must have shape (n, n, n, n); got {T.shape}")
    q = as_float_array(q, "q", min_ndim=1, last_dim=n)
    return np.einsum("abcd,...a,...b,...c,...d->...", T, q, q, q, q, optimize=True)


# --- unchecked kernels (validated inputs), used by the solvers -------------------------------------

def _rgrad(A: np.ndarray, q: np.ndarray):
    """Riemannian gradient, :math:`\\|\\zeta\\|_4^4` and :math:`\\zeta` at validated unit ``q``."""
    z = q @ A
    z3 = z * z * z
    g = z3 @ A.T
    s = np.sum(q * g, axis=-1, keepdims=True)  # <q, A z^3> = ||z||_4^4, O(n) instead of O(m)
    return s * q - g, s[..., 0], z


def _ehess(A: np.ndarray, q: np.ndarray) -> np.ndarray:
    z = q @ A
    return -3.0 * (A * (z * z)[..., None, :]) @ A.T


def _rhess(A: np.ndarray, q: np.ndarray) -> np.ndarray:
    z = q @ A
    z3 = z * z * z
    return _riemannian_hessian(q, -(z3 @ A.T), -3.0 * (A * (z * z)[..., None, :]) @ A.T)
