r"""Calculus on the unit sphere :math:`\mathbb{S}^{n-1} = \{q \in \mathbb{R}^n : \|q\|_2 = 1\}`.

Every function is batched over leading axes: points have shape ``(..., n)`` and the last axis is the
coordinate axis (as in geoopt). Used by chapter 2 (tensor decomposition) and chapter 3 (dictionary
learning).

With :math:`P_q = I - q q^\top` the projection onto the tangent space :math:`T_q = \{v : \langle q, v\rangle
= 0\}`, a smooth :math:`f` on :math:`\mathbb{R}^n` restricted to the sphere has

.. math::

    \operatorname{grad} f(q) = P_q \nabla f(q), \qquad
    \operatorname{Hess} f(q) = P_q\bigl(\nabla^2 f(q) - \langle q, \nabla f(q)\rangle I\bigr) P_q,

and the retraction :math:`R_q(v) = (q + v)/\|q + v\|_2` (second order, so Taylor checks with the Hessian
term hold along it). Critical points (:math:`\operatorname{grad} f = 0`) are classified by the
:math:`n - 1` eigenvalues of :math:`B^\top \operatorname{Hess} f(q) B` where the columns of ``B`` are an
orthonormal basis of :math:`T_q` (:func:`tangent_basis`). See the book's Formulas appendix (``book/formulas.md``).
"""

from __future__ import annotations

import numpy as np

from ._validation import as_float_array, as_rng, check_positive, check_scalar, check_unit_norm

__all__ = [
    "as_points", "normalize", "random_points", "lat_lon_mesh", "project", "retract", "tangent_basis",
    "riemannian_gradient", "riemannian_hessian", "riemannian_hessian_vector", "tangent_hessian",
]

#: Tolerance on :math:`|\|q\| - 1|` used to accept points as lying on the sphere.
SPHERE_ATOL = 1e-8


def as_points(q, n: int | None = None, *, name: str = "q", atol: float = SPHERE_ATOL) -> np.ndarray:
    """Validate points on the sphere: a finite float64 array of shape ``(..., n)`` with unit rows.

    Parameters
    ----------
    q : array_like of shape (..., n)
        Points, batched over leading axes.
    n : int, optional
        Required length of the last axis.
    name : str
        Name used in error messages.
    atol : float
        Accepted deviation of each norm from 1.

    Returns
    -------
    ndarray of shape (..., n)
        ``q`` as float64 (not copied when already float64).

    Raises
    ------
    ValueError
        If ``q`` is not finite, has the wrong last dimension, or a row is off the sphere.
    """
    arr = as_float_array(q, name, min_ndim=1, last_dim=n)
    check_unit_norm(arr, name, atol=atol)
    return arr


def normalize(x) -> np.ndarray:
    r"""Scale every vector along the last axis to unit norm, :math:`x \mapsto x/\|x\|_2`.

    Parameters
    ----------
    x : array_like of shape (..., n)
        Nonzero vectors.

    Returns
    -------
    ndarray of shape (..., n)
        A new array of unit vectors.

    Raises
    ------
    ValueError
        If a vector is zero (it has no direction) or ``x`` is not finite.
    """
    arr = as_float_array(x, "x", min_ndim=1)
    with np.errstate(over="ignore", under="ignore"):
        norms = np.linalg.norm(arr, axis=-1, keepdims=True)
    # The sum of squares overflows past 1e154 and underflows below 1e-154: for those vectors only, divide
    # by the largest entry first (every other vector is normalized exactly as before).
    extreme = ~np.isfinite(norms) | (norms < np.sqrt(np.finfo(np.float64).tiny))
    if np.any(extreme):
        largest = np.max(np.abs(arr), axis=-1, keepdims=True)
        if np.any(largest[extreme] == 0):
            raise ValueError("x must not contain zero vectors (they cannot be normalized)")
        safe = np.where(extreme, largest, 1.0)
        norms = np.where(extreme, largest * np.linalg.norm(arr / safe, axis=-1, keepdims=True), norms)
    return arr / norms


def random_points(n: int, size=(), *, rng=None) -> np.ndarray:
    """Points drawn uniformly on :math:`\\mathbb{S}^{n-1}` (normalized standard Gaussians).

    Parameters
    ----------
    n : int
        Ambient dimension (``n >= 2``).
    size : int or tuple of int, default ()
        Leading (batch) shape.
    rng : None, int or numpy.random.Generator
        Source of randomness.

    Returns
    -------
    ndarray of shape size + (n,)
    """
    check_positive(n, "n", integer=True)
    if n < 2:
        raise ValueError(f"n must be >= 2 for the sphere S^(n-1) to have random points; got {n}")
    size = (size,) if np.isscalar(size) else tuple(size)
    g = as_rng(rng).standard_normal(size + (n,))
    # A standard Gaussian vector is zero with probability 0; float64 never produces it in practice.
    return g / np.linalg.norm(g, axis=-1, keepdims=True)


def lat_lon_mesh(rows: int = 25, cols: int = 49) -> np.ndarray:
    r"""Latitude–longitude grid on the unit sphere :math:`\mathbb{S}^2 \subset \mathbb{R}^3`.

    .. math::

        q_{jk} = (\cos\mathrm{lat}_j \cos\mathrm{lon}_k,\ \cos\mathrm{lat}_j \sin\mathrm{lon}_k,\
        \sin\mathrm{lat}_j), \qquad
        \mathrm{lat}_j \in [-\tfrac{\pi}{2}, \tfrac{\pi}{2}],\ \mathrm{lon}_k \in [-\pi, \pi]

    on equally spaced latitudes :math:`\mathrm{lat}_j` (the poles included) and longitudes
    :math:`\mathrm{lon}_k` (the meridian :math:`\mathrm{lon} = \pm\pi` twice, so that a surface drawn through
    the grid closes). The points the sphere figures colour and, in chapter 3, the points over which the
    largest gap between the data and tensor landscapes is measured.

    Parameters
    ----------
    rows : int, default 25
        Number of latitudes, ``rows >= 2``.
    cols : int, default 49
        Number of longitudes, ``cols >= 2``.

    Returns
    -------
    ndarray of shape (rows, cols, 3)
        Unit vectors (rows of one latitude share the last coordinate).
    """
    rows = check_scalar(rows, "rows", integer=True, low=2)
    cols = check_scalar(cols, "cols", integer=True, low=2)
    lat = np.linspace(-np.pi / 2, np.pi / 2, rows)[:, None]
    lon = np.linspace(-np.pi, np.pi, cols)[None, :]
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat) + 0 * lon], axis=-1)


def project(q, v) -> np.ndarray:
    r"""Tangent projection :math:`P_q v = v - \langle q, v\rangle q`.

    Parameters
    ----------
    q : array_like of shape (..., n)
        Points on the sphere.
    v : array_like of shape (..., n)
        Ambient vectors (broadcast against ``q``).

    Returns
    -------
    ndarray of shape (..., n)
    """
    q = as_points(q)
    v = as_float_array(v, "v", min_ndim=1, last_dim=q.shape[-1])
    return _project(q, v)


def retract(q, v) -> np.ndarray:
    r"""Retraction :math:`R_q(v) = (q + v)/\|q + v\|_2` (metric projection; second order).

    Parameters
    ----------
    q : array_like of shape (..., n)
        Points on the sphere.
    v : array_like of shape (..., n)
        Tangent vectors at ``q`` (only the sum ``q + v`` is used).

    Returns
    -------
    ndarray of shape (..., n)
    """
    q = as_points(q)
    v = as_float_array(v, "v", min_ndim=1, last_dim=q.shape[-1])
    return normalize(q + v)


def tangent_basis(q) -> np.ndarray:
    r"""Orthonormal basis of the tangent space :math:`T_q` for every point.

    Uses the Householder reflection :math:`I - 2 u u^\top` (:math:`u` a unit vector) that maps ``q`` to
    :math:`\pm e_k` (``k`` the largest coordinate of ``|q|``); the columns of the reflection other than the
    ``k``-th are orthonormal and orthogonal to ``q``.

    Parameters
    ----------
    q : array_like of shape (..., n)
        Points on the sphere.

    Returns
    -------
    B : ndarray of shape (..., n, n - 1)
        :math:`B^\top B = I_{n-1}` and :math:`B^\top q = 0`.
    """
    q = as_points(q)
    return _tangent_basis(q)


def riemannian_gradient(q, egrad) -> np.ndarray:
    r"""Riemannian gradient :math:`\operatorname{grad} f(q) = P_q \nabla f(q)`.

    Parameters
    ----------
    q : array_like of shape (..., n)
        Points on the sphere.
    egrad : array_like of shape (..., n)
        Euclidean gradient :math:`\nabla f(q)`.

    Returns
    -------
    ndarray of shape (..., n)
    """
    return project(q, egrad)


def riemannian_hessian(q, egrad, ehess) -> np.ndarray:
    r"""Riemannian Hessian as a matrix on :math:`\mathbb{R}^n` (zero along ``q``).

    .. math:: \operatorname{Hess} f(q) = P_q\bigl(\nabla^2 f(q) - \langle q, \nabla f(q)\rangle I\bigr) P_q.

    Parameters
    ----------
    q : array_like of shape (..., n)
        Points on the sphere.
    egrad : array_like of shape (..., n)
        Euclidean gradient.
    ehess : array_like of shape (..., n, n)
        Euclidean Hessian (symmetric).

    Returns
    -------
    ndarray of shape (..., n, n)
    """
    q = as_points(q)
    n = q.shape[-1]
    g = as_float_array(egrad, "egrad", min_ndim=1, last_dim=n)
    h = as_float_array(ehess, "ehess", min_ndim=2, last_dim=n)
    if h.shape[-2] != n:
        raise ValueError(f"ehess must have shape (..., {n}, {n}); got {h.shape}")
    return _riemannian_hessian(q, np.sum(q * g, axis=-1), h)


def riemannian_hessian_vector(q, egrad, ehess_v, v) -> np.ndarray:
    r"""Riemannian Hessian applied to a tangent vector, without forming a matrix.

    .. math:: \operatorname{Hess} f(q)[v] = P_q\bigl(\nabla^2 f(q) v - \langle q, \nabla f(q)\rangle v\bigr)
       \quad (v \in T_q).

    Parameters
    ----------
    q : array_like of shape (..., n)
        Points on the sphere.
    egrad : array_like of shape (..., n)
        Euclidean gradient at ``q``.
    ehess_v : array_like of shape (..., n)
        Euclidean Hessian applied to ``v``, :math:`\nabla^2 f(q) v`.
    v : array_like of shape (..., n)
        Tangent vectors at ``q``.

    Returns
    -------
    ndarray of shape (..., n)
    """
    q = as_points(q)
    n = q.shape[-1]
    g = as_float_array(egrad, "egrad", min_ndim=1, last_dim=n)
    hv = as_float_array(ehess_v, "ehess_v", min_ndim=1, last_dim=n)
    v = as_float_array(v, "v", min_ndim=1, last_dim=n)
    return _riemannian_hessian_vector(q, np.sum(q * g, axis=-1), hv, v)


def tangent_hessian(q, rhess) -> np.ndarray:
    r"""The :math:`(n-1)\times(n-1)` matrix :math:`B^\top \operatorname{Hess} f(q)\, B` in the basis
    of :func:`tangent_basis`; its eigenvalues classify a critical point.

    Parameters
    ----------
    q : array_like of shape (..., n)
        Points on the sphere.
    rhess : array_like of shape (..., n, n)
        Riemannian Hessian as returned by :func:`riemannian_hessian`.

    Returns
    -------
    ndarray of shape (..., n - 1, n - 1)
    """
    q = as_points(q)
    h = as_float_array(rhess, "rhess", min_ndim=2, last_dim=q.shape[-1])
    return _tangent_hessian(q, h)


# --- unchecked kernels (inputs already validated), shared with the other modules -----------------

def _inner(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Inner products along the last axis (one einsum pass, no temporary product array)."""
    return np.einsum("...i,...i->...", a, b)


def _project(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    return v - _inner(q, v)[..., None] * q


# The two Hessian kernels take the radial derivative r = <q, ∇f(q)> instead of the gradient: an objective
# that has it already (the ℓ4 objectives, from their gradient pass) does not compute it twice.
def _riemannian_hessian(q: np.ndarray, radial: np.ndarray, h: np.ndarray) -> np.ndarray:
    n = q.shape[-1]
    p = np.eye(n) - q[..., :, None] * q[..., None, :]
    shifted = h - radial[..., None, None] * np.eye(n)
    return p @ shifted @ p


def _riemannian_hessian_vector(q: np.ndarray, radial: np.ndarray, hv: np.ndarray, v: np.ndarray) -> np.ndarray:
    return _project(q, hv - radial[..., None] * v)


def _tangent_basis(q: np.ndarray) -> np.ndarray:
    n = q.shape[-1]
    k = np.argmax(np.abs(q), axis=-1)
    s = np.sign(np.take_along_axis(q, k[..., None], axis=-1))
    s[s == 0] = 1.0
    ek = np.zeros_like(q)
    np.put_along_axis(ek, k[..., None], 1.0, axis=-1)
    w = q + s * ek  # reflect q onto -s e_k; |q_k| >= 1/sqrt(n) keeps w far from 0
    w = w / np.linalg.norm(w, axis=-1, keepdims=True)
    h = np.eye(n) - 2.0 * w[..., :, None] * w[..., None, :]
    # Drop column k of the reflection h: the remaining n - 1 columns span the tangent space.
    keep = np.ones(q.shape, dtype=bool)
    np.put_along_axis(keep, k[..., None], False, axis=-1)
    cols = np.broadcast_to(np.arange(n), q.shape[:-1] + (n,))
    order = np.sort(np.where(keep, cols, n), axis=-1)[..., : n - 1]
    return np.take_along_axis(h, np.broadcast_to(order[..., None, :], q.shape + (n - 1,)), axis=-1)


def _tangent_hessian(q: np.ndarray, h: np.ndarray) -> np.ndarray:
    b = _tangent_basis(q)
    return np.swapaxes(b, -1, -2) @ h @ b
