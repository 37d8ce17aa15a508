r"""Two-dimensional example functions of chapter 1 (critical points in the plane).

Each example is a :class:`Toy2D`: value, gradient and Hessian batched over points of shape ``(..., 2)``,
together with its critical points and their types, known in closed form (or as the real roots of a
polynomial), so that the numerical critical-point finder of :mod:`landscape_lib.euclidean` can be checked
against them.

==============================  =============================================  =========================================
factory                         :math:`f(x, y)`                                critical points
==============================  =============================================  =========================================
:func:`bowl`                    :math:`x^2 + 2y^2`                             minimizer at 0
:func:`cap`                     :math:`-x^2 - 2y^2`                            maximizer at 0
:func:`strict_saddle`           :math:`x^2 - y^2`                              strict saddle at 0
:func:`monkey_saddle`           :math:`x^3 - 3xy^2`                            degenerate at 0
:func:`quartic_saddle`          :math:`x^4 - y^4`                              degenerate at 0
:func:`four_wells`              :math:`(x^2-1)^2 + (y^2-1)^2 + ax + by + cxy`  4 minima (1 global), 4 saddles, 1 maximum
:func:`rank_one_factorization`  :math:`\tfrac14\|xx^\top - M\|_F^2`            global minima, strict saddles, a maximum
==============================  =============================================  =========================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._validation import as_float_array
from .critical import CriticalType

__all__ = [
    "Toy2D", "bowl", "cap", "strict_saddle", "monkey_saddle", "quartic_saddle", "four_wells",
    "rank_one_factorization", "EXAMPLES", "example",
]


@dataclass(frozen=True, eq=False)
class Toy2D:
    r"""A smooth function on :math:`\mathbb{R}^2` with known critical points (chapter 1).

    Attributes
    ----------
    name : str
        Short identifier (``"monkey_saddle"``).
    formula : str
        LaTeX formula of :math:`f(x, y)` (for figure titles and tables).
    critical_points : ndarray of shape (n_crit, 2)
        All critical points (:math:`\nabla f = 0`) of ``f``.
    critical_types : tuple of CriticalType, length n_crit
        The type of each critical point, decided by hand (closed form), not numerically.
    domain : tuple of two (low, high) pairs
        A square that contains the critical points and shows the interesting part (for plots and starts).

    Notes
    -----
    Use :meth:`value`, :meth:`gradient` and :meth:`hessian`; they validate their input (shape ``(..., 2)``,
    finite) and are batched over the leading axes.
    """

    name: str
    formula: str
    _value: Callable[[np.ndarray], np.ndarray]
    _gradient: Callable[[np.ndarray], np.ndarray]
    _hessian: Callable[[np.ndarray], np.ndarray]
    critical_points: np.ndarray
    critical_types: tuple
    domain: tuple

    def value(self, points) -> np.ndarray:
        """Function values, ndarray of shape (...,) for ``points`` of shape (..., 2)."""
        return self._value(_as_points(points))

    def gradient(self, points) -> np.ndarray:
        """Gradients, ndarray of shape (..., 2)."""
        return self._gradient(_as_points(points))

    def hessian(self, points) -> np.ndarray:
        """Hessians, ndarray of shape (..., 2, 2) (symmetric)."""
        return self._hessian(_as_points(points))

    @property
    def global_minimizers(self) -> np.ndarray:
        """The minimizers of lowest value among the known critical points, ndarray of shape (n_global, 2)."""
        mins = self.critical_points[[t == CriticalType.MINIMIZER for t in self.critical_types]]
        if mins.shape[0] == 0:
            return mins
        vals = self._value(mins)
        return mins[vals <= vals.min() + 1e-12 * max(1.0, abs(vals.min()))]

    def __repr__(self) -> str:
        return f"Toy2D({self.name!r}, {len(self.critical_types)} critical points)"


def _as_points(points) -> np.ndarray:
    return as_float_array(points, "points", min_ndim=1, last_dim=2)


def _stack_hessian(hxx, hxy, hyy) -> np.ndarray:
    hxx, hxy, hyy = np.broadcast_arrays(hxx, hxy, hyy)
    return np.stack([np.stack([hxx, hxy], axis=-1), np.stack([hxy, hyy], axis=-1)], axis=-2)


def _make(name, formula, value, gradient, hessian, points, types, half_width) -> Toy2D:
    pts = np.array(points, dtype=float).reshape(-1, 2)
    pts.setflags(write=False)
    return Toy2D(name, formula, value, gradient, hessian, pts, tuple(types),
                 ((-half_width, half_width), (-half_width, half_width)))


def _quadratic(name, formula, a, b, ctype) -> Toy2D:
    def value(p):
        return a * p[..., 0] ** 2 + b * p[..., 1] ** 2

    def gradient(p):
        return np.stack([2 * a * p[..., 0], 2 * b * p[..., 1]], axis=-1)

    def hessian(p):
        z = np.zeros(p.shape[:-1])
        return _stack_hessian(z + 2 * a, z, z + 2 * b)

    return _make(name, formula, value, gradient, hessian, [[0.0, 0.0]], [ctype], 1.5)


def bowl() -> Toy2D:
    r"""Convex bowl :math:`f = x^2 + 2y^2`: one critical point, a minimizer (Hessian eigenvalues 2, 4)."""
    return _quadratic("bowl", r"x^2 + 2y^2", 1.0, 2.0, CriticalType.MINIMIZER)


def cap() -> Toy2D:
    r"""Concave cap :math:`f = -x^2 - 2y^2`: a maximizer at 0 (eigenvalues −4, −2)."""
    return _quadratic("cap", r"-x^2 - 2y^2", -1.0, -2.0, CriticalType.MAXIMIZER)


def strict_saddle() -> Toy2D:
    r"""Strict saddle :math:`f = x^2 - y^2` (eigenvalues 2, −2 at 0).

    Its stable manifold is the :math:`x`-axis: gradient descent started on it converges to the saddle,
    started anywhere else it leaves along :math:`\pm y`.
    """
    return _quadratic("strict_saddle", r"x^2 - y^2", 1.0, -1.0, CriticalType.STRICT_SADDLE)


def monkey_saddle() -> Toy2D:
    r"""Monkey saddle :math:`f = x^3 - 3xy^2 = s^3\cos 3\phi`, a degenerate ("flat") saddle at 0.

    The Hessian :math:`\begin{pmatrix}6x & -6y\\ -6y & -6x\end{pmatrix}` vanishes at the origin, so
    second-order information cannot decide; ``f`` decreases fastest along the rays
    :math:`\phi = \pi/3, \pi, 5\pi/3` and increases along :math:`\phi = 0, \pm 2\pi/3` (the stable
    rays of gradient descent), in polar coordinates :math:`(x, y) = s(\cos\phi, \sin\phi)`.
    """
    def value(p):
        x, y = p[..., 0], p[..., 1]
        return x**3 - 3 * x * y**2

    def gradient(p):
        x, y = p[..., 0], p[..., 1]
        return np.stack([3 * x**2 - 3 * y**2, -6 * x * y], axis=-1)

    def hessian(p):
        x, y = p[..., 0], p[..., 1]
        return _stack_hessian(6 * x, -6 * y, -6 * x)

    return _make("monkey_saddle", r"x^3 - 3xy^2", value, gradient, hessian, [[0.0, 0.0]],
                 [CriticalType.DEGENERATE], 1.2)


def quartic_saddle() -> Toy2D:
    r"""Flat saddle :math:`f = x^4 - y^4`: Hessian :math:`\mathrm{diag}(12x^2, -12y^2)`, zero at 0.

    The :math:`x`-axis is its stable manifold (gradient descent started on it converges to 0, slowly).
    """
    def value(p):
        return p[..., 0] ** 4 - p[..., 1] ** 4

    def gradient(p):
        return np.stack([4 * p[..., 0] ** 3, -4 * p[..., 1] ** 3], axis=-1)

    def hessian(p):
        return _stack_hessian(12 * p[..., 0] ** 2, np.zeros(p.shape[:-1]), -12 * p[..., 1] ** 2)

    return _make("quartic_saddle", r"x^4 - y^4", value, gradient, hessian, [[0.0, 0.0]],
                 [CriticalType.DEGENERATE], 1.2)


def four_wells(a: float = 0.3, b: float = 0.2, c: float = 0.5) -> Toy2D:
    r"""Tilted, coupled double well with one global and three spurious ("bad") local minimizers.

    .. math::

        f(x, y) = (x^2 - 1)^2 + (y^2 - 1)^2 + a x + b y + c x y .

    With ``a = b = c = 0`` the four minima :math:`(\pm1, \pm1)` are all global; the tilts ``a, b`` make
    their values differ and the coupling ``c`` bends the basin boundaries. For the defaults (and for small
    tilts and coupling) there are nine critical points: four minimizers (one global), four strict saddles
    and one maximizer. Large values merge some of them: for ``a = b = c = -0.8`` only five remain.

    Parameters
    ----------
    a, b, c : float
        Tilts and coupling; ``|a|, |b|, |c|`` must be at most 0.8. The returned critical points are all
        real critical points for these parameters, however many there are.

    Notes
    -----
    The critical points are computed independently of any iterative solver: from
    :math:`\partial_x f = 4x^3 - 4x + a + c y = 0` (for ``c != 0``) :math:`y = -(4x^3 - 4x + a)/c`, and
    :math:`\partial_y f = 0` becomes a polynomial of degree 9 in :math:`x`, whose real roots are taken
    (``c = 0``: the product of the real roots of the two cubics). That polynomial has coefficients of
    order :math:`1/c^3`; for :math:`|c| < 0.05` the roots for ``c = 0`` are used instead as starting points
    of Newton's method on the gradient (each moves by :math:`O(c)`). Used in chapter 1.
    """
    for val, nm in ((a, "a"), (b, "b"), (c, "c")):
        if isinstance(val, bool) or not np.isfinite(val) or abs(val) > 0.8:
            raise ValueError(f"{nm} must be a finite number with |{nm}| <= 0.8; got {val!r}")
    a, b, c = float(a), float(b), float(c)

    def value(p):
        x, y = p[..., 0], p[..., 1]
        return (x**2 - 1) ** 2 + (y**2 - 1) ** 2 + a * x + b * y + c * x * y

    def gradient(p):
        x, y = p[..., 0], p[..., 1]
        return np.stack([4 * x**3 - 4 * x + a + c * y, 4 * y**3 - 4 * y + b + c * x], axis=-1)

    def hessian(p):
        x, y = p[..., 0], p[..., 1]
        return _stack_hessian(12 * x**2 - 4, np.full(x.shape, c), 12 * y**2 - 4)

    if abs(c) < 0.05:
        xs = _real_roots([4.0, 0.0, -4.0, a])
        ys = _real_roots([4.0, 0.0, -4.0, b])
        pts = np.array([[x, y] for x in xs for y in ys])
    else:
        yx = np.poly1d([-4.0 / c, 0.0, 4.0 / c, -a / c])
        poly = 4 * yx**3 - 4 * yx + np.poly1d([c, b])
        xs = _real_roots(poly.coeffs)
        pts = np.stack([xs, yx(xs)], axis=-1)
    # Polish the algebraic roots with Newton steps on the gradient (they are nondegenerate).
    for _ in range(30):
        pts = pts - np.linalg.solve(hessian(pts), gradient(pts)[..., None])[..., 0]
        if np.abs(gradient(pts)).max() <= 1e-13:
            break
    lam = np.linalg.eigvalsh(hessian(pts))
    types = [CriticalType.MINIMIZER if lo > 0 else CriticalType.MAXIMIZER if hi < 0 else
             CriticalType.STRICT_SADDLE for lo, hi in lam[:, [0, -1]]]
    order = np.lexsort((pts[:, 1], pts[:, 0]))
    return _make("four_wells", rf"(x^2-1)^2 + (y^2-1)^2 + {a:g}x + {b:g}y + {c:g}xy", value, gradient,
                 hessian, pts[order], [types[i] for i in order], 1.8)


def _real_roots(coeffs) -> np.ndarray:
    r = np.roots(coeffs)
    return np.sort(r[np.abs(r.imag) < 1e-7 * np.maximum(1.0, np.abs(r))].real)


def rank_one_factorization(matrix=None) -> Toy2D:
    r"""Symmetric rank-one factorization :math:`f(x) = \tfrac14 \|x x^\top - M\|_F^2` on :math:`\mathbb{R}^2`.

    A small instance of low-rank matrix recovery, one of the benign problems of the talk's list
    :cite:p:`ge2017nospurious`: every local minimizer is global and every other critical point is a strict
    saddle (or a maximizer).

    .. math::

        \nabla f(x) = \|x\|^2 x - M x, \qquad \nabla^2 f(x) = \|x\|^2 I + 2 x x^\top - M .

    Parameters
    ----------
    matrix : array_like of shape (2, 2), optional
        Symmetric ``M`` with distinct eigenvalues (default ``diag(2, 1)``).

    Notes
    -----
    With eigenvalues :math:`\lambda_{\max}(M) > \lambda_{\min}(M)` of ``M`` and unit eigenvectors
    :math:`u_{\max}, u_{\min}`, the critical points are ``0``, :math:`\pm\sqrt{\lambda_{\max}(M)}\,u_{\max}`
    if :math:`\lambda_{\max}(M) > 0` and :math:`\pm\sqrt{\lambda_{\min}(M)}\,u_{\min}` if
    :math:`\lambda_{\min}(M) > 0`. For :math:`\lambda_{\max}(M) > \lambda_{\min}(M) > 0`:
    :math:`\pm\sqrt{\lambda_{\max}(M)}\,u_{\max}` are the global minimizers (Hessian eigenvalues
    :math:`2\lambda_{\max}(M)`, :math:`\lambda_{\max}(M) - \lambda_{\min}(M)`),
    :math:`\pm\sqrt{\lambda_{\min}(M)}\,u_{\min}` are strict saddles
    (:math:`\lambda_{\min}(M) - \lambda_{\max}(M) < 0`) and ``0`` is a maximizer (Hessian :math:`-M`).
    Used in chapter 1 as the preview of a benign landscape.
    """
    m = np.diag([2.0, 1.0]) if matrix is None else as_float_array(matrix, "matrix", ndim=2)
    if m.shape != (2, 2):
        raise ValueError(f"matrix must have shape (2, 2); got {m.shape}")
    if not np.allclose(m, m.T, rtol=0, atol=1e-12):
        raise ValueError("matrix must be symmetric")
    mu, u = np.linalg.eigh(m)
    if abs(mu[1] - mu[0]) <= 1e-9 * max(1.0, abs(mu[1])):
        raise ValueError(f"matrix must have distinct eigenvalues (isolated critical points); got {mu}")
    if np.any(np.abs(mu) <= 1e-9):
        raise ValueError(f"matrix must be nonsingular (isolated critical points); got eigenvalues {mu}")
    m = m.copy()

    def value(p):
        outer = p[..., :, None] * p[..., None, :]
        return 0.25 * np.sum((outer - m) ** 2, axis=(-2, -1))

    def gradient(p):
        return np.sum(p**2, axis=-1, keepdims=True) * p - p @ m

    def hessian(p):
        sq = np.sum(p**2, axis=-1)[..., None, None]
        return sq * np.eye(2) + 2 * p[..., :, None] * p[..., None, :] - m

    pts = [np.zeros(2)]
    # At 0 the Hessian is -M: maximizer if M > 0, minimizer if M < 0, strict saddle otherwise.
    types = [CriticalType.MAXIMIZER if mu[0] > 0 else CriticalType.MINIMIZER if mu[1] < 0
             else CriticalType.STRICT_SADDLE]
    top = int(np.argmax(mu))
    for i in range(2):
        if mu[i] > 0:
            for s in (1.0, -1.0):
                pts.append(s * np.sqrt(mu[i]) * u[:, i])
                types.append(CriticalType.MINIMIZER if i == top else CriticalType.STRICT_SADDLE)
    return _make("rank_one_factorization", r"\tfrac14\|xx^\top - M\|_F^2", value, gradient, hessian, pts,
                 types, 1.2 * np.sqrt(max(mu.max(), 1.0)) + 0.3)


#: Factories of the chapter's examples, in the order the chapter shows them.
EXAMPLES = {
    "bowl": bowl,
    "cap": cap,
    "strict_saddle": strict_saddle,
    "monkey_saddle": monkey_saddle,
    "quartic_saddle": quartic_saddle,
    "four_wells": four_wells,
    "rank_one_factorization": rank_one_factorization,
}


def example(name: str, **kwargs) -> Toy2D:
    """Build the example called ``name`` (a key of :data:`EXAMPLES`) with optional parameters."""
    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}; expected one of {sorted(EXAMPLES)}")
    return EXAMPLES[name](**kwargs)
