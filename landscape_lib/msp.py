r"""MSP: matching, stretching and projection, ℓ4 maximization over the orthogonal group (chapter 3, section 5).

For data :math:`Y = AX` from a *complete* dictionary (``A`` orthogonal, ``m = n``) every column can be found
at once: maximize :math:`\|Q Y\|_4^4` over orthogonal matrices :math:`Q`, whose rows then estimate the columns
of ``A`` up to sign and order (Zhai et al. 2020). :func:`msp` is the power iteration of that problem,

.. math:: Q \leftarrow P_{\mathrm{O}(n)}\bigl[(Q Y)^{\circ 3}\, Y^\top\bigr],

with :func:`polar_orthogonal` the projection onto the orthogonal group :math:`\mathrm{O}(n)`. (The code
calls :math:`Q` ``W``: the argument ``W0`` and the result field ``MSPResult.W``.) Chapter 3 compares it
with recovering the columns one at a time on the sphere (:func:`landscape_lib.recovery.recover_dictionary`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._threads import one_blas_thread
from ._validation import as_float_array, check_positive, check_scalar
from .generators import random_orthogonal

__all__ = ["polar_orthogonal", "MSPResult", "msp"]


def polar_orthogonal(M) -> np.ndarray:
    r"""Projection onto the orthogonal group, :math:`P_{\mathrm{O}(n)}`, the polar factor.

    For ``M`` with SVD :math:`U \Sigma V^\top` the result is :math:`U V^\top`.

    Parameters
    ----------
    M : array_like of shape (..., n, n)

    Returns
    -------
    Q : ndarray of shape (..., n, n)
        The orthogonal matrix nearest to ``M`` in Frobenius norm (the polar factor).
    """
    M = as_float_array(M, "M", min_ndim=2)
    if M.shape[-1] != M.shape[-2]:
        raise ValueError(f"M must be square in its last two axes; got shape {M.shape}")
    U, _, Vt = np.linalg.svd(M)
    return U @ Vt


@dataclass(frozen=True)
class MSPResult:
    r"""Result of :func:`msp` (chapter 3, section 5).

    Attributes
    ----------
    W : ndarray of shape (n, n)
        Final orthogonal iterate :math:`Q`; its rows estimate the columns of ``A`` up to sign and order: match them
        with :func:`landscape_lib.recovery.match_columns` ``(A, W, threshold=...)``.
    iterations : int
        Iterations made.
    converged : bool
        Whether :math:`\|Q_{k+1} - Q_k\|_F \le` ``tol`` was met.
    objective : ndarray of shape (iterations + 1,)
        :math:`\|Q_k \tilde Y\|_4^4 / 4` along the run (with :math:`\tilde Y` from
        :func:`landscape_lib.dictionary.normalize_data` only if the caller normalized; MSP itself is scale
        invariant).
    """

    W: np.ndarray
    iterations: int
    converged: bool
    objective: np.ndarray


def msp(Y, *, W0=None, rng=None, max_iter: int = 200, tol: float = 1e-10) -> MSPResult:
    r"""Matching, stretching and projection: ℓ4 maximization over :math:`\mathrm{O}(n)` (Zhai et al. 2020).

    Parameters
    ----------
    Y : array_like of shape (n, p)
        Data from a complete (square, orthogonal) dictionary.
    W0 : array_like of shape (n, n), optional
        Orthogonal starting point :math:`Q_0`; default a Haar-random one from ``rng``
        (:func:`landscape_lib.generators.random_orthogonal`).
    rng : None, int or numpy.random.Generator
    max_iter : int, default 200
    tol : float, default 1e-10
        Stop when :math:`\|Q_{k+1} - Q_k\|_F \le` ``tol``.

    Returns
    -------
    MSPResult

    Notes
    -----
    The iteration

    .. math:: Q \leftarrow P_{\mathrm{O}(n)}\bigl[(Q Y)^{\circ 3}\, Y^\top\bigr]

    is the power iteration of :math:`\max_{Q \in \mathrm{O}(n)} \|Q Y\|_4^4` (projected gradient ascent with an
    infinite step): one step costs two ``n × n × p`` products and an ``n × n`` SVD. The rows of the
    limit estimate the columns of the dictionary. Chapter 3 compares it with recovering columns one at
    a time on the sphere.
    """
    Y = as_float_array(Y, "Y", ndim=2)
    n = Y.shape[0]
    check_positive(tol, "tol", allow_zero=True)
    max_iter = check_scalar(max_iter, "max_iter", integer=True, low=1)
    if W0 is None:
        W = random_orthogonal(n, rng=rng)
    else:
        W = as_float_array(W0, "W0", ndim=2)
        if W.shape != (n, n):
            raise ValueError(f"W0 must have shape ({n}, {n}) to act on Y of shape {Y.shape}; got {W.shape}")
        if not np.allclose(W @ W.T, np.eye(n), atol=1e-8):
            raise ValueError("W0 must be orthogonal (W0 @ W0.T = I to 1e-8)")
    Z = W @ Y
    obj = [0.25 * float(np.sum((Z * Z) ** 2))]
    converged = False
    it = 0
    with one_blas_thread():  # n × n × p products with small n, and an n × n SVD
        while it < max_iter:
            it += 1
            W_new = polar_orthogonal((Z * Z * Z) @ Y.T)
            step = float(np.linalg.norm(W_new - W))
            W = W_new
            Z = W @ Y
            obj.append(0.25 * float(np.sum((Z * Z) ** 2)))
            if step <= tol:
                converged = True
                break
    return MSPResult(W, it, converged, np.asarray(obj))
