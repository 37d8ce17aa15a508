r"""Derivative checks by Taylor expansion, used by the tests and shown in the book.

For a smooth path :math:`x(t)` with :math:`x(0) = x`, :math:`\dot x(0) = v` (a straight line in
:math:`\mathbb{R}^n`, or, on the sphere at :math:`x = q`, the retraction :math:`R_q(tv)`),

.. math::

    f(x(t)) - f(x) - t\,\langle g, v\rangle = O(t^2), \qquad
    f(x(t)) - f(x) - t\,\langle g, v\rangle - \tfrac{t^2}{2}\langle v, H v\rangle = O(t^3)

when ``g`` and ``H`` are the right gradient and Hessian (for the Hessian term along a retraction, the
retraction must be second order, which :math:`R_q(v) = (q+v)/\|q+v\|` is on the sphere). On a log–log
plot of the remainder against ``t`` the slopes are 2 and 3; a wrong gradient gives slope 1 and a wrong
Hessian slope 2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._validation import as_float_array


@dataclass(frozen=True)
class TaylorCheck:
    """Remainders of a Taylor check and their fitted log–log slopes.

    Attributes
    ----------
    steps : ndarray of shape (S,)
        The step sizes ``t``.
    first_order : ndarray of shape (S,)
        :math:`|f(x(t)) - f(x) - t\\langle g, v\\rangle|`.
    second_order : ndarray of shape (S,) or None
        The remainder with the Hessian term too (``None`` when no Hessian was given).
    slope_first, slope_second : float
        Least-squares slopes of ``log remainder`` against ``log t`` over the steps where the remainder
        is above round-off (``nan`` when too few such steps remain).
    """

    steps: np.ndarray
    first_order: np.ndarray
    second_order: np.ndarray | None
    slope_first: float
    slope_second: float


def taylor_check(f: Callable[[np.ndarray], float], x, direction, gradient, hessian_vector=None, *,
                 path: Callable[[np.ndarray, np.ndarray, float], np.ndarray] | None = None,
                 steps=None) -> TaylorCheck:
    r"""Taylor-expansion check of a gradient (and Hessian) at one point along one direction.

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for ``x`` of shape (n,).
    x : array_like of shape (n,)
        Base point.
    direction : array_like of shape (n,)
        Direction ``v`` (tangent at ``x`` when ``path`` is a retraction).
    gradient : array_like of shape (n,)
        Claimed (Riemannian) gradient at ``x``.
    hessian_vector : array_like of shape (n,), optional
        Claimed (Riemannian) Hessian applied to ``v``.
    path : callable, optional
        ``path(x, v, t)`` returns the point at step ``t``; default the line ``x + t v``.
    steps : array_like of shape (S,), optional
        Default ``logspace(-1, -5, 9)``.

    Returns
    -------
    TaylorCheck
    """
    x = as_float_array(x, "x", ndim=1)
    v = as_float_array(direction, "direction", ndim=1)
    g = as_float_array(gradient, "gradient", ndim=1)
    t = np.logspace(-1, -5, 9) if steps is None else as_float_array(steps, "steps", ndim=1)
    if path is None:
        def path(x0, v0, s):
            return x0 + s * v0
    f0 = float(f(x))
    gv = float(g @ v)
    ft = np.array([float(f(path(x, v, s))) for s in t])
    r1 = np.abs(ft - f0 - t * gv)
    r2 = None
    if hessian_vector is not None:
        hv = as_float_array(hessian_vector, "hessian_vector", ndim=1)
        r2 = np.abs(ft - f0 - t * gv - 0.5 * t**2 * float(v @ hv))
    scale = max(abs(f0), 1.0)
    return TaylorCheck(t, r1, r2, _slope(t, r1, scale), _slope(t, r2, scale) if r2 is not None else np.nan)


def _slope(t: np.ndarray, r: np.ndarray, scale: float) -> float:
    # Remainders near machine precision times |f| are round-off, not Taylor terms: leave them out.
    keep = r > 1e3 * np.finfo(float).eps * scale
    if keep.sum() < 3:
        return float("nan")
    return float(np.polyfit(np.log(t[keep]), np.log(r[keep]), 1)[0])
