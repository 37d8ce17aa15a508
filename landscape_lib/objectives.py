r"""The ℓ4 objectives on the sphere as objects: the tensor objective (chapter 2) and the data objective (chapter 3).

Both are the ℓ4 objective of a matrix of columns :math:`M = [m_1, \dots, m_k] \in \mathbb{R}^{n \times k}`:
with :math:`\zeta = M^\top q`,

.. math::

    f(q) = -\tfrac14 \|M^\top q\|_4^4 = -\tfrac14 \sum_{i=1}^k \langle m_i, q\rangle^4,

    \nabla f(q) = -M \zeta^{\circ 3}, \qquad \nabla^2 f(q) = -3 M \operatorname{diag}(\zeta^{\circ 2}) M^\top,

    \operatorname{grad} f(q) = -P_q M \zeta^{\circ 3}, \qquad
    \operatorname{Hess} f(q) = P_q\bigl(-3 M \operatorname{diag}(\zeta^{\circ 2}) M^\top
        + \|\zeta\|_4^4 I\bigr) P_q

(``book/formulas.md``). ``f`` is homogeneous of degree 4, so :math:`\langle q, \nabla f(q)\rangle = 4 f(q) =
-\|\zeta\|_4^4`: the gradient pass gives the value and the radial term of the Riemannian derivatives for
:math:`O(n)` more work per point.

* :class:`L4Objective` holds every formula above, once, for any ``M``; the solvers of
  :mod:`landscape_lib.solvers` and the critical-point search of :mod:`landscape_lib.sphere_critical` take any
  ``L4Objective``.
* :class:`TensorObjective` is the objective of chapter 2, ``M = A`` (the components):
  :math:`f_A(q) = -\tfrac14\|A^\top q\|_4^4 = -\tfrac14\,\mathcal{T}(q, q, q, q)` with
  :math:`\mathcal{T} = \sum_i a_i^{\otimes 4}`. Minimizing it maximizes the fourth moment of the
  correlations with the columns: its targets are :math:`\pm a_i`.
* :class:`DataObjective` is the objective of chapter 3, ``M =`` :math:`\tilde Y`, the data normalized by
  :func:`landscape_lib.dictionary.normalize_data`, whose expectation is :math:`f_A - \omega` for a unit-norm
  tight frame (:meth:`DataObjective.offset`).
* :class:`CumulantObjective` is chapter 3's de-biased data objective, minus a quarter of the sample fourth
  cumulant of :math:`q^\top y`: its expectation is :math:`f_A` exactly, for every dictionary, tight or not,
  and on all of :math:`\mathbb{R}^n`. It is not of the form :math:`-\tfrac14\|M^\top q\|_4^4`, but it is a
  quartic form in ``q`` whose gradient is still one product with the data, so it is an
  :class:`L4Objective` too (its own kernels) and the solvers run on it unchanged.

Conventions: points ``q`` have shape ``(..., n)``, batched over leading axes, and outputs keep the leading
shape. The *Euclidean* methods (``value``, ``euclidean_*``) accept any finite ``q``; the *Riemannian* ones
(``gradient``, ``value_and_gradient``, ``hessian*``, ``tangent_hessian``) require unit-norm ``q``.
"""

from __future__ import annotations

import functools

import numpy as np

from . import dictionary
from ._threads import one_blas_thread
from ._validation import as_float_array
from .sphere import _inner, _riemannian_hessian, _riemannian_hessian_vector, _tangent_hessian, as_points

__all__ = ["as_matrix", "L4Objective", "TensorObjective", "DataObjective", "CumulantObjective", "tensor_form"]

# Points evaluated per block by ``value``: the (points, k) intermediate stays near 2**22 floats even for data
# with hundreds of thousands of samples.
_BLOCK_FLOATS = 1 << 22


def as_matrix(A, name: str = "A") -> np.ndarray:
    """Validate a matrix of columns: finite, float64, shape ``(n, m)`` with ``n >= 2``, no zero column.

    Parameters
    ----------
    A : array_like of shape (n, m)
        Columns :math:`a_1, \\dots, a_m` (components, or normalized data samples in chapter 3).
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


def _checked_scale(sigma: float) -> float:
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"the scale of the objective is {sigma!r}, not a finite positive number; pass scale= "
                         "explicitly or rescale the data")
    return float(sigma)


class L4Objective:
    r"""The ℓ4 objective :math:`f(q) = -\tfrac14\|M^\top q\|_4^4` of a matrix of columns, on the sphere.

    The one implementation of the value, the Euclidean and Riemannian gradients, Hessians and
    Hessian-vector products (formulas in the module notes), batched over points of shape ``(..., n)``.
    Chapter 2 uses it through :class:`TensorObjective`, chapter 3 through :class:`DataObjective`; the
    solvers take any instance.

    Parameters
    ----------
    matrix : array_like of shape (n, k)
        The columns :math:`m_i` (``n >= 2``, no zero column). The object keeps its own read-only copy.
    name : str, default "matrix"
        Name of the matrix in error messages.

    Attributes
    ----------
    matrix : ndarray of shape (n, k)
        The columns (read-only).
    n : int
        Ambient dimension: points live on :math:`\mathbb{S}^{n-1}`.
    """

    def __init__(self, matrix, *, name: str = "matrix"):
        M = np.array(as_matrix(matrix, name), dtype=np.float64, copy=True)
        # |zeta_i| <= sqrt(n) max|M|, so ||M^T q||_4^4 <= k n^2 max|M|^4: refuse scales at which the value or
        # its gradient leaves float64's range (a rescaled matrix has the same critical points).
        n, k = M.shape
        largest = float(np.max(np.abs(M)))
        too_large = largest > (1e300 / (k * n * n)) ** 0.25
        if too_large or largest < 1e-70:
            raise ValueError(f"{name}'s largest entry is {largest:.3g}: the fourth powers of {name}^T q would "
                             f"{'overflow' if too_large else 'underflow'} float64; rescale {name} (c {name} has "
                             f"the same critical points on the sphere)")
        M.setflags(write=False)
        self._M = M
        # The transpose as its own contiguous array: the gradient product (N, k) @ (k, n) reads it row by row.
        self._Mt = np.ascontiguousarray(M.T)
        self._Mt.setflags(write=False)

    @property
    def matrix(self) -> np.ndarray:
        return self._M

    @functools.cached_property
    def scale(self) -> float:
        r"""The objective's scale :math:`\varsigma = (\sum_i\|m_i\|^4 / \sum_i\|m_i\|^2)^2` of its columns, computed
        once (:func:`landscape_lib.solvers.objective_scale` explains it; the data objectives estimate it)."""
        sq = np.einsum("ij,ij->j", self._M, self._M)  # squared column norms, shape (k,)
        return _checked_scale((float(np.sum(sq * sq)) / float(np.sum(sq))) ** 2)

    @property
    def n(self) -> int:
        return self._M.shape[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n = {self.n}, {self._M.shape[1]} columns)"

    # --- the public, validated methods -----------------------------------------------------------------

    def value(self, q) -> np.ndarray:
        r"""Objective value :math:`f(q) = -\tfrac14 \|M^\top q\|_4^4`.

        Parameters
        ----------
        q : array_like of shape (..., n)
            Any finite points (not only unit vectors).

        Returns
        -------
        ndarray of shape (...)
        """
        q = self._finite(q)
        flat = q.reshape(-1, self.n)
        block = max(1, _BLOCK_FLOATS // self._M.shape[1])
        # Products with inner dimension n (3 on the chapters' meshes): one BLAS thread, since spinning BLAS
        # threads on a loaded machine made this several times slower than a single thread.
        with one_blas_thread():
            out = np.concatenate([self._value(flat[i:i + block]) for i in range(0, flat.shape[0], block)])
        return out.reshape(q.shape[:-1])

    def euclidean_gradient(self, q) -> np.ndarray:
        r"""Euclidean gradient :math:`\nabla f(q) = -M \zeta^{\circ 3}`, :math:`\zeta = M^\top q`.

        Parameters
        ----------
        q : array_like of shape (..., n)
            Any finite points.

        Returns
        -------
        ndarray of shape (..., n)
        """
        return -self._pass(self._finite(q))[1]

    def euclidean_hessian(self, q) -> np.ndarray:
        r"""Euclidean Hessian :math:`\nabla^2 f(q) = -3 M \operatorname{diag}(\zeta^{\circ 2}) M^\top`.

        Parameters
        ----------
        q : array_like of shape (..., n)
            Any finite points.

        Returns
        -------
        ndarray of shape (..., n, n)
        """
        q = self._finite(q)
        return self._euclidean_hessian(q @ self._M)

    def euclidean_hessian_vector(self, q, v) -> np.ndarray:
        r"""Euclidean Hessian-vector product :math:`-3 M (\zeta^{\circ 2} \circ M^\top v)`, O(nk) per point.

        Parameters
        ----------
        q : array_like of shape (..., n)
            Any finite points.
        v : array_like of shape (..., n)
            Directions.

        Returns
        -------
        ndarray of shape (..., n)
        """
        q = self._finite(q)
        v = as_float_array(v, "v", min_ndim=1, last_dim=self.n)
        return self._euclidean_hessian_vector(q @ self._M, v)

    def gradient(self, q) -> np.ndarray:
        r"""Riemannian gradient on the sphere, :math:`\operatorname{grad} f(q) = -P_q M \zeta^{\circ 3}`.

        Parameters
        ----------
        q : array_like of shape (..., n)
            Unit vectors.

        Returns
        -------
        ndarray of shape (..., n)
        """
        q = self._unit(q)
        _, g, s = self._pass(q)
        return self._riemannian_gradient(q, g, s)

    def value_and_gradient(self, q) -> tuple[np.ndarray, np.ndarray]:
        r"""Value and Riemannian gradient in one pass: two matrix products, one BLAS thread.

        The value comes from the gradient pass, :math:`f(q) = \tfrac14\langle q, \nabla f(q)\rangle`
        (``f`` is homogeneous of degree 4): :math:`O(n)` more per point, and equal to :meth:`value` up to
        rounding.

        Parameters
        ----------
        q : array_like of shape (..., n)
            Unit vectors.

        Returns
        -------
        value : ndarray of shape (...)
        gradient : ndarray of shape (..., n)
        """
        q = self._unit(q)
        with one_blas_thread():
            _, g, s = self._pass(q)
        return -0.25 * s, self._riemannian_gradient(q, g, s)

    def hessian(self, q) -> np.ndarray:
        r"""Riemannian Hessian on the sphere as an ``n × n`` matrix (zero along ``q``):
        :math:`P_q(-3 M \operatorname{diag}(\zeta^{\circ 2}) M^\top + \|\zeta\|_4^4 I) P_q`.

        Parameters
        ----------
        q : array_like of shape (..., n)
            Unit vectors.

        Returns
        -------
        ndarray of shape (..., n, n)
        """
        q = self._unit(q)
        z, _, s = self._pass(q)
        return self._hessian(q, z, s)

    def hessian_vector(self, q, v) -> np.ndarray:
        r"""Riemannian Hessian applied to tangent vectors, without forming a matrix:
        :math:`\operatorname{Hess} f(q)[v] = P_q(-3 M(\zeta^{\circ 2} \circ M^\top v) + \|\zeta\|_4^4 v)`.

        Parameters
        ----------
        q : array_like of shape (..., n)
            Unit vectors.
        v : array_like of shape (..., n)
            Tangent vectors at ``q`` (:math:`\langle q, v\rangle = 0`).

        Returns
        -------
        ndarray of shape (..., n)
        """
        q = self._unit(q)
        v = as_float_array(v, "v", min_ndim=1, last_dim=self.n)
        z, _, s = self._pass(q)
        return self._hessian_vector(q, z, s, v)

    def tangent_hessian(self, q) -> np.ndarray:
        r"""The :math:`(n-1)\times(n-1)` tangent Hessian :math:`B^\top \operatorname{Hess} f(q) B`
        (basis :func:`landscape_lib.sphere.tangent_basis`); its eigenvalues classify critical points.

        Parameters
        ----------
        q : array_like of shape (..., n)
            Unit vectors.

        Returns
        -------
        ndarray of shape (..., n - 1, n - 1)
        """
        q = self._unit(q)
        z, _, s = self._pass(q)
        return _tangent_hessian(q, self._hessian(q, z, s))

    # --- kernels on validated arrays (the solvers call these in their loops) -------------------------

    def _finite(self, q) -> np.ndarray:
        return as_float_array(q, "q", min_ndim=1, last_dim=self.n)

    def _unit(self, q) -> np.ndarray:
        return as_points(q, self.n)

    def _value(self, q: np.ndarray) -> np.ndarray:
        z = q @ self._M
        z *= z
        return -0.25 * np.sum(z * z, axis=-1)

    def _pass(self, q: np.ndarray, work=None):
        r"""The gradient pass: :math:`\zeta = M^\top q`, ``g`` :math:`= M\zeta^{\circ 3} = -\nabla f(q)` and
        ``s`` :math:`= \langle q, -\nabla f(q)\rangle = \|\zeta\|_4^4 = -4 f(q)`; two matrix products.

        ``work``, for ``q`` of shape (N, n): two float arrays of shape (N', k), N' >= N, that receive ζ and
        ζ³ (the returned ζ is a view of the first). A solver's loop passes the same pair at every iteration:
        two fresh (N, k) temporaries per iteration cost page faults whenever the allocator has handed their
        memory back to the system (measured: 13% of the benchmark's time)."""
        if work is None:
            z = q @ self._M
            z3 = z * z
        else:
            z = np.matmul(q, self._M, out=work[0][:q.shape[0]])
            z3 = np.multiply(z, z, out=work[1][:q.shape[0]])
        z3 *= z
        g = z3 @ self._Mt
        s = _inner(q, g)  # O(n) per point instead of the O(k) of summing ζ⁴
        return z, g, s

    @staticmethod
    def _riemannian_gradient(q: np.ndarray, g: np.ndarray, s: np.ndarray) -> np.ndarray:
        # P_q ∇f = ∇f - <q, ∇f> q with ∇f = -g and <q, ∇f> = -s; in place: one temporary in the hot loop.
        r = q * s[..., None]
        r -= g
        return r

    def _euclidean_hessian(self, z: np.ndarray) -> np.ndarray:
        return -3.0 * (self._M * (z * z)[..., None, :]) @ self._M.T

    def _euclidean_hessian_vector(self, z: np.ndarray, v: np.ndarray) -> np.ndarray:
        # The view M.T, not the copy Mt: for a single row BLAS takes gemv, whose last bits depend on the
        # layout, and the polish's iterates have always been computed with this one.
        return -3.0 * ((z * z * (v @ self._M)) @ self._M.T)

    def _hessian(self, q: np.ndarray, z: np.ndarray, s: np.ndarray) -> np.ndarray:
        return _riemannian_hessian(q, -s, self._euclidean_hessian(z))

    def _hessian_vector(self, q: np.ndarray, z: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
        return _riemannian_hessian_vector(q, -s, self._euclidean_hessian_vector(z, v), v)


class TensorObjective(L4Objective):
    r"""The ℓ4 tensor objective of chapter 2, :math:`f_A(q) = -\tfrac14\|A^\top q\|_4^4
    = -\tfrac14\,\mathcal{T}(q, q, q, q)` with :math:`\mathcal{T} = \sum_i a_i^{\otimes 4}`.

    An :class:`L4Objective` with ``M = A``: every method is documented there.

    Parameters
    ----------
    A : array_like of shape (n, m)
        The components :math:`a_1, \dots, a_m` (``n >= 2``, no zero column).

    Attributes
    ----------
    A : ndarray of shape (n, m)
        The components (read-only).
    """

    def __init__(self, A):
        super().__init__(A, name="A")

    @property
    def A(self) -> np.ndarray:
        return self._M

    def tensor(self) -> np.ndarray:
        r"""The explicit fourth-order tensor :math:`\mathcal{T} = \sum_i a_i \otimes a_i \otimes a_i \otimes a_i`.

        Memory grows like :math:`n^4`: for small examples and checks only (chapter 2, section 1; evaluate it
        with :func:`tensor_form`).

        Returns
        -------
        ndarray of shape (n, n, n, n)
        """
        if self.n > 64:
            raise ValueError(f"the explicit tensor has n^4 entries; use it for n <= 64, got n = {self.n}")
        A = self._M
        return np.einsum("ai,bi,ci,di->abcd", A, A, A, A, optimize=True)


class _SampleObjective(L4Objective):
    """The part shared by the data objectives: the normalized nonzero samples, ``theta`` and ``p``."""

    def __init__(self, Y, theta: float):
        Y = as_float_array(Y, "Y", ndim=2)
        Yt = dictionary.normalize_data(Y, theta)
        keep = np.any(Yt != 0, axis=0)
        if not keep.any():
            raise ValueError(f"Y must have at least one nonzero sample; all {Y.shape[1]} are zero")
        super().__init__(Yt if keep.all() else Yt[:, keep], name="the normalized data")
        self._theta = float(theta)  # validated by normalize_data
        self._p = Y.shape[1]
        # Index in Y of each kept sample, for the objectives of the first p samples (prefix_values).
        self._sample_index = np.flatnonzero(keep)

    @property
    def theta(self) -> float:
        return self._theta

    @property
    def p(self) -> int:
        return self._p

    @functools.cached_property
    def scale(self) -> float:
        r"""The scale :math:`\varsigma` of the unknown dictionary, estimated from the data's second and fourth
        moments (:func:`landscape_lib.solvers.objective_scale` gives the estimate), computed once."""
        M, n, p, theta = self._M, self.n, self.p, self.theta
        # In units of the largest entry: T2^2 and ||C||_F^2 are squares of sums over all p samples, and must
        # not overflow (or underflow) where f itself does not; sigma is then rescaled by mu^4.
        mu = float(np.max(np.abs(M)))
        Mu = M / mu
        sq = np.einsum("ij,ij->j", Mu, Mu)  # squared sample norms, shape (k,)
        t2, f4 = float(np.sum(sq)), float(np.sum(sq * sq))
        sigma = 3.0 * f4 / (n * (n + 2))
        if p >= 2:
            C = Mu @ Mu.T
            s4 = ((p + 2) * f4 - t2 * t2 - 2.0 * float(np.sum(C * C))) / (p - 1)
            s2 = t2 * np.sqrt(3.0 * (1.0 - theta) / (theta * p))
            if s4 > 0:
                sigma = (s4 / s2) ** 2
        return _checked_scale(sigma * mu**4)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n = {self.n}, p = {self.p}, θ = {self.theta:g})"


class DataObjective(_SampleObjective):
    r"""The normalized data objective of chapter 3, :math:`f_{\tilde Y}(q) = -\tfrac14\|\tilde Y^\top q\|_4^4`.

    :math:`\tilde Y = (3\theta(1-\theta)p)^{-1/4}\,Y` (:func:`landscape_lib.dictionary.normalize_data`), so
    that for data :math:`Y = AX` from a unit-norm tight frame ``A`` and Bernoulli(θ)–Gaussian codes,
    :math:`\mathbb{E}_X f_{\tilde Y}(q) = f_A(q) - \omega` on the whole sphere, with the offset
    :math:`\omega = \theta\kappa^2/(4(1-\theta))` of :meth:`offset`, for every ``p`` (``book/formulas.md``).
    It is the :class:`L4Objective` of :math:`\tilde Y`: the solvers run on it exactly as on the tensor
    objective (two products with the data per iteration, for all starts at once).

    Samples whose code is all zero (probability :math:`(1-\theta)^m` each) are zero columns of ``Y``: they add
    nothing to :math:`\|\tilde Y^\top q\|_4^4`, and :attr:`matrix` leaves them out.

    Parameters
    ----------
    Y : array_like of shape (n, p)
        Raw data, one sample per column (at least one nonzero sample).
    theta : float
        Sparsity level in (0, 1) of the codes that generated ``Y``.

    Attributes
    ----------
    matrix : ndarray of shape (n, k)
        The ``k <= p`` nonzero columns of :math:`\tilde Y` (read-only).
    theta : float
    p : int
        Number of samples of ``Y``, zero ones included (the ``p`` of the normalization).
    """

    def offset(self, m: int) -> float:
        r"""The offset :math:`\omega = \theta\kappa^2/(4(1-\theta))`, :math:`\kappa = m/n`, of the expectation
        identity :math:`\mathbb{E} f_{\tilde Y} + \omega = f_A` for a unit-norm tight frame of ``m`` columns
        (:func:`landscape_lib.dictionary.normalization_offset`)."""
        return dictionary.normalization_offset(self.n, m, self.theta)

    def prefix_values(self, q, p_values) -> np.ndarray:
        r"""The data objectives of the first ``p`` samples, for several ``p``, in one pass over the data.

        Parameters
        ----------
        q : array_like of shape (..., n)
            Any finite points (chapter 3: a mesh of the sphere).
        p_values : sequence of int
            Sample sizes, each in ``1 .. p``.

        Returns
        -------
        values : ndarray of shape (len(p_values), ...)
            ``values[k]`` equals ``DataObjective(Y[:, :p_values[k]], theta).value(q)`` up to rounding:
            :math:`-\frac14\sum_{j \le p}(y_j^\top q)^4 / (3\theta(1-\theta)p)`, from cumulative sums of one
            pass instead of one pass per ``p``.
        """
        q = self._finite(q)
        p_arr = np.asarray(p_values)
        if p_arr.ndim != 1 or p_arr.size == 0 or not np.issubdtype(p_arr.dtype, np.integer):
            raise ValueError(f"p_values must be a non-empty sequence of integers; got {p_values!r}")
        if p_arr.min() < 1 or p_arr.max() > self.p:
            raise ValueError(f"p_values must lie in 1 .. {self.p} (the samples in Y); got {p_arr.tolist()}")
        bounds = np.unique(p_arr)
        kept = np.searchsorted(self._sample_index, bounds)  # nonzero samples among the first p
        M = self._M[:, :kept[-1]]
        flat = q.reshape(-1, self.n)
        sums = np.zeros((flat.shape[0], bounds.size))
        block = max(1, _BLOCK_FLOATS // max(M.shape[1], 1))
        has = kept > 0  # a prefix of zero samples only has the value 0
        with one_blas_thread():
            for i in range(0, flat.shape[0], block):
                Z = flat[i:i + block] @ M
                Z *= Z
                Z *= Z
                sums[i:i + block, has] = np.cumsum(Z, axis=1)[:, kept[has] - 1]
        # M holds Y scaled for all p samples; the objective of the first p rescales by c1(p_all)/c1(p) = p_all/p.
        values = -0.25 * sums * (self.p / bounds)
        values = values[:, np.searchsorted(bounds, p_arr)].T
        return values.reshape((p_arr.size,) + q.shape[:-1])

    def gap(self, A, q) -> float:
        r"""Largest gap :math:`\max_q |f_{\tilde Y}(q) + \omega - f_A(q)|` over the given points (chapter 3).

        Parameters
        ----------
        A : array_like of shape (n, m)
            The dictionary the data came from, unit-norm columns (a unit-norm tight frame for the gap to
            tend to zero).
        q : array_like of shape (k, n)
            Unit vectors (e.g. :func:`landscape_lib.sphere.lat_lon_mesh`).

        Returns
        -------
        float
            Decays like :math:`p^{-1/2}` (Monte Carlo rate) for a tight frame.
        """
        tensor, q = self._gap_inputs(A, q)
        return float(np.max(np.abs(self.value(q) + self.offset(tensor.A.shape[1]) - tensor.value(q))))

    def prefix_gaps(self, A, q, p_values) -> np.ndarray:
        r""":meth:`gap` for the data objectives of the first ``p`` samples, for each ``p`` of ``p_values``.

        Returns
        -------
        gaps : ndarray of shape (len(p_values),)
            One pass over the data (:meth:`prefix_values`) instead of one per ``p``.
        """
        tensor, q = self._gap_inputs(A, q)
        values = self.prefix_values(q, p_values).reshape(len(p_values), -1)
        f_A = tensor.value(q).reshape(1, -1)
        return np.max(np.abs(values + self.offset(tensor.A.shape[1]) - f_A), axis=1)

    def _gap_inputs(self, A, q):
        A = dictionary._dictionary(A)
        if A.shape[0] != self.n:
            raise ValueError(f"A must have n = {self.n} rows like the data; got shape {A.shape}")
        return TensorObjective(A), self._unit(q)


class CumulantObjective(_SampleObjective):
    r"""The fourth-cumulant data objective of chapter 3: :math:`f_{\kappa_4}(q) = -\frac{1}{4}\,
    \hat\kappa_4(q^\top y) / (3\theta(1-\theta))`, unbiased for :math:`f_A(q)` for every dictionary.

    For :math:`y = Ax` with independent Bernoulli(θ)–Gaussian code entries, fourth cumulants of independent
    sums add and a Gaussian has none, so
    :math:`\kappa_4(q^\top y) = \sum_i \langle a_i, q\rangle^4 \kappa_4(x_i) = 3\theta(1-\theta)\|A^\top q\|_4^4`
    for *every* ``A``: the term :math:`3\theta^2\|A^\top q\|_2^4` of the fourth moment
    (:func:`landscape_lib.dictionary.expected_fourth_moment`), constant on the sphere only for a tight frame,
    is exactly what :math:`-3(\mathbb{E}(q^\top y)^2)^2` removes. Over the samples :math:`y_j` the unbiased
    sample cumulant (zero mean known) is

    .. math::

        \hat\kappa_4 = \frac{(p+2)\sum_j (q^\top y_j)^4 - 3\bigl(\sum_j (q^\top y_j)^2\bigr)^2}{p(p-1)}
        = \frac1p\sum_j (q^\top y_j)^4 - 3\Bigl(\frac1p\sum_j (q^\top y_j)^2\Bigr)^2 + O(1/p),

    whose expectation is :math:`\kappa_4(q^\top y)` exactly (the plug-in version, the first two terms on the
    right, is biased by :math:`-3\operatorname{Var}((q^\top y)^2)/p`). In terms of the normalized data :math:`\tilde Y`
    (:func:`landscape_lib.dictionary.normalize_data`) and :math:`\zeta = \tilde Y^\top q`,

    .. math::

        f_{\kappa_4}(q) = -\frac14\Bigl(\frac{p+2}{p-1}\|\zeta\|_4^4 - \frac{3}{p-1}\|\zeta\|_2^4\Bigr),

        \nabla f_{\kappa_4}(q) = -\tilde Y\Bigl(\frac{p+2}{p-1}\,\zeta^{\circ 3}
            - \frac{3}{p-1}\|\zeta\|_2^2\,\zeta\Bigr), \qquad
        \nabla^2 f_{\kappa_4}(q) = -\tilde Y\Bigl(\frac{3(p+2)}{p-1}\operatorname{diag}(\zeta^{\circ 2})
            - \frac{3}{p-1}\bigl(\|\zeta\|_2^2 I + 2\zeta\zeta^\top\bigr)\Bigr)\tilde Y^\top ,

    and :math:`\mathbb{E} f_{\kappa_4}(q) = f_A(q) = -\tfrac14\|A^\top q\|_4^4` for every ``q`` in
    :math:`\mathbb{R}^n`: no offset, no tight frame, and the same Euclidean gradient in expectation as the
    tensor objective. It is a quartic form in ``q`` (so :math:`\langle q, \nabla f\rangle = 4f` still holds),
    but not a sum of fourth powers with one sign: :math:`-f_{\kappa_4}` is not convex, and the power
    iteration :math:`q \leftarrow -\nabla f/\|\nabla f\|` (Riemannian gradient descent with step
    :math:`1/\langle q, -\nabla f(q)\rangle`, :func:`landscape_lib.solvers.power_iteration`) is a descent step
    only where the sample cumulant is positive, :math:`\langle q, -\nabla f(q)\rangle = -4f(q) > 0` (where it
    is negative the same formula steps *up* hill); where it is positive it is the tensor power iteration's
    rule with the same step in expectation, so data and tensor run one algorithm. Chapter 3, section 3.

    Parameters
    ----------
    Y : array_like of shape (n, p)
        Raw data, one sample per column (``p >= 2``, at least one nonzero sample).
    theta : float
        Sparsity level in (0, 1) of the codes that generated ``Y``.

    Attributes
    ----------
    matrix : ndarray of shape (n, k)
        The ``k <= p`` nonzero columns of :math:`\tilde Y` (read-only; zero samples add to neither sum).
    theta : float
    p : int
        Number of samples of ``Y``, zero ones included.
    """

    def __init__(self, Y, theta: float):
        Y = as_float_array(Y, "Y", ndim=2)
        if Y.shape[1] < 2:
            raise ValueError(f"Y must have p >= 2 samples for the sample cumulant; got shape {Y.shape}")
        super().__init__(Y, theta)
        p = float(self._p)
        self._a = (p + 2.0) / (p - 1.0)
        self._b = 3.0 / (p - 1.0)

    def sample_cumulant(self, q) -> np.ndarray:
        r"""The unbiased sample fourth cumulant :math:`\hat\kappa_4(q^\top y)` of the raw data,
        :math:`= -12\theta(1-\theta) f_{\kappa_4}(q)`; its expectation is :math:`3\theta(1-\theta)\|A^\top q\|_4^4`.

        Parameters
        ----------
        q : array_like of shape (..., n)
            Any finite points.

        Returns
        -------
        ndarray of shape (...)
        """
        return -12.0 * self._theta * (1.0 - self._theta) * self.value(q)

    def gap(self, A, q) -> float:
        r"""Largest gap :math:`\max_q |f_{\kappa_4}(q) - f_A(q)|` over the given points, for any frame ``A``.

        Parameters
        ----------
        A : array_like of shape (n, m)
            The dictionary the data came from (unit-norm columns; tight or not).
        q : array_like of shape (k, n)
            Unit vectors.

        Returns
        -------
        float
        """
        A = dictionary._dictionary(A)
        if A.shape[0] != self.n:
            raise ValueError(f"A must have n = {self.n} rows like the data; got shape {A.shape}")
        q = self._unit(q)
        return float(np.max(np.abs(self.value(q) - TensorObjective(A).value(q))))

    # --- kernels: the L4Objective ones with ζ³ replaced by aζ³ - bρζ -----------------------------------

    def _value(self, q: np.ndarray) -> np.ndarray:
        z = q @ self._M
        z *= z
        return -0.25 * (self._a * np.sum(z * z, axis=-1) - self._b * np.sum(z, axis=-1) ** 2)

    def _pass(self, q: np.ndarray, work=None):
        r""":math:`\zeta = \tilde Y^\top q`, ``g`` :math:`= -\nabla f` (module formula) and
        ``s`` :math:`= \langle q, -\nabla f\rangle = -4f`: two matrix products, as for :class:`L4Objective`."""
        if work is None:
            z = q @ self._M
            w = z * z
        else:
            z = np.matmul(q, self._M, out=work[0][:q.shape[0]])
            w = np.multiply(z, z, out=work[1][:q.shape[0]])
        rho = np.sum(w, axis=-1)
        w *= self._a
        w -= (self._b * rho)[..., None]
        w *= z
        g = w @ self._Mt
        s = _inner(q, g)
        return z, g, s

    def _euclidean_hessian(self, z: np.ndarray) -> np.ndarray:
        rho = np.sum(z * z, axis=-1)
        M = self._M
        diag = (M * (3.0 * self._a * z * z - self._b * rho[..., None])[..., None, :]) @ M.T
        u = z @ M.T
        return -(diag - 2.0 * self._b * u[..., :, None] * u[..., None, :])

    def _euclidean_hessian_vector(self, z: np.ndarray, v: np.ndarray) -> np.ndarray:
        w = v @ self._M
        rho = np.sum(z * z, axis=-1)
        inner = np.sum(z * w, axis=-1)
        t = 3.0 * self._a * z * z * w - self._b * (rho[..., None] * w + 2.0 * inner[..., None] * z)
        return -(t @ self._M.T)


def tensor_form(T, q) -> np.ndarray:
    r"""Evaluate the quartic form :math:`\mathcal{T}(q, q, q, q) = \sum_{j_1 j_2 j_3 j_4}
    \mathcal{T}_{j_1 j_2 j_3 j_4} q_{j_1} q_{j_2} q_{j_3} q_{j_4}` of the array ``T`` :math:`= \mathcal{T}`.

    Parameters
    ----------
    T : array_like of shape (n, n, n, n)
        E.g. :meth:`TensorObjective.tensor`.
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
