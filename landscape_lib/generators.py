r"""Frames for the ℓ4 landscape: unit-norm tight frames, harmonic frames, random and coherent frames.

A *frame* here is a matrix :math:`A = [a_1, \dots, a_m] \in \mathbb{R}^{n \times m}` with unit columns,
overcomplete when :math:`m > n` (overcompleteness :math:`\kappa = m/n`). It is a *unit-norm tight frame*
(UNTF) when additionally

.. math:: \frac{n}{m} A A^\top = I_n \qquad (\text{trace: } \operatorname{tr} AA^\top = m),

and its *coherence* is :math:`\mu(A) = \max_{i \ne j} |\langle a_i, a_j\rangle|`, bounded below by the
Welch bound :math:`\mu \ge \sqrt{(m - n)/(n(m - 1))}`. These are the assumptions of the overcomplete
landscape theorem of Qu et al. (ICLR 2020), used in chapters 2 and 3. Which generator guarantees what:

============================  ============  =========================  ===========================
generator                     unit columns  tight (n/m) A Aᵀ = I       coherence
============================  ============  =========================  ===========================
:func:`random_frame`          yes           no                         ≈ √(4 log m / n), random
:func:`tight_frame`           yes           yes (to ``tol``)           low with ``low_coherence``
:func:`harmonic_frame`        yes           yes (exact)                structured, can be high
:func:`rotated_bases_frame`   yes           yes (exact)                high by construction
:func:`random_orthogonal`     yes           yes (m = n, to round-off)  0 (an orthonormal basis)
============================  ============  =========================  ===========================
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import expm

from ._validation import as_rng, check_positive, check_scalar
from .objectives import as_matrix

__all__ = [
    "random_frame", "tight_frame", "harmonic_frame", "rotated_bases_frame", "random_orthogonal", "coherence",
    "welch_bound", "tightness_error",
]


def _sizes(n, m, *, tight: bool):
    n = check_scalar(n, "n", integer=True, low=2)
    m = check_scalar(m, "m", integer=True, low=1)
    if tight and m < n:
        raise ValueError(f"a tight frame of m unit vectors in R^n needs m >= n; got n = {n}, m = {m}")
    return n, m


def _unit_columns(A: np.ndarray) -> np.ndarray:
    return A / np.linalg.norm(A, axis=0, keepdims=True)


def random_frame(n: int, m: int, *, rng=None) -> np.ndarray:
    """Random unit-norm columns: i.i.d. standard Gaussian columns, normalized. Not tight.

    Parameters
    ----------
    n, m : int
        Dimension and number of columns (any ``m >= 1``).
    rng : None, int or numpy.random.Generator

    Returns
    -------
    ndarray of shape (n, m)
    """
    n, m = _sizes(n, m, tight=False)
    return _unit_columns(as_rng(rng).standard_normal((n, m)))


def _polar_tight(A: np.ndarray, n: int, m: int) -> np.ndarray:
    """Nearest (Frobenius) matrix with :math:`(n/m) AA^\\top = I`: :math:`\\sqrt{m/n}\\, U V^\\top`."""
    u, _, vt = np.linalg.svd(A, full_matrices=False)
    return np.sqrt(m / n) * (u @ vt)


def tight_frame(n: int, m: int, *, low_coherence: bool = False, tol: float = 1e-12,
                max_iter: int = 20000, rng=None) -> np.ndarray:
    r"""Unit-norm tight frame by alternating projection (Tropp, Dhillon, Heath, Strohmer 2005).

    Starting from random unit columns, alternate the polar factor :math:`A \leftarrow \sqrt{m/n}\,UV^\top`
    (nearest tight matrix, from the SVD :math:`A = U\Sigma V^\top`) with column normalization, until
    both :math:`\|(n/m)AA^\top - I\|_{\max}` and the column norms are within ``tol``.

    With ``low_coherence=True`` the first phase also clips the Gram matrix
    :math:`A^\top A`: off-diagonal entries larger in magnitude than a target coherence (shrinking from 0.5
    towards 1.1× the Welch bound) are clipped to plus or minus that target, and
    ``A`` is rebuilt from the top ``n`` eigenpairs of the clipped Gram matrix; the final phase is the plain
    alternating projection, so the result is still tight to ``tol``.

    Parameters
    ----------
    n, m : int
        Dimension and number of columns, ``m >= n``.
    low_coherence : bool, default False
        Lower the coherence :math:`\mu` by Gram clipping first.
    tol : float, default 1e-12
        Accuracy of the tight-frame identity and of the unit norms.
    max_iter : int, default 20000
        Iterations of the final alternating projection.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    ndarray of shape (n, m)

    Raises
    ------
    ValueError
        If ``m < n``.
    RuntimeError
        If the alternating projection does not reach ``tol`` within ``max_iter``.
    """
    n, m = _sizes(n, m, tight=True)
    check_positive(tol, "tol")
    check_positive(max_iter, "max_iter", integer=True)
    A = random_frame(n, m, rng=rng)
    if m == n:
        # The only UNTFs with m = n are orthonormal bases: the polar factor of A.
        return _polar_tight(A, n, m)
    if low_coherence:
        A = _clip_coherence(A, n, m)
    eye = np.eye(n)
    for _ in range(max_iter):
        A = _unit_columns(_polar_tight(A, n, m))
        if np.max(np.abs((n / m) * (A @ A.T) - eye)) <= tol:
            return A
    raise RuntimeError(f"tight_frame did not reach tol = {tol:g} in {max_iter} iterations (n = {n}, m = {m})")


def _clip_coherence(A: np.ndarray, n: int, m: int, iterations: int = 400) -> np.ndarray:
    welch = welch_bound(n, m)
    targets = np.geomspace(max(0.5, 1.1 * welch), 1.1 * welch, iterations)
    off = ~np.eye(m, dtype=bool)
    for mu_t in targets:
        G = A.T @ A
        G[off] = np.clip(G[off], -mu_t, mu_t)
        np.fill_diagonal(G, 1.0)
        w, v = np.linalg.eigh(G)
        rebuilt = (v[:, -n:] * np.sqrt(np.maximum(w[-n:], 0.0))).T
        A = _unit_columns(_polar_tight(_nearest_rotation(rebuilt, A), n, m))
    return A


def _nearest_rotation(B: np.ndarray, A: np.ndarray) -> np.ndarray:
    r"""``Q B`` for the orthogonal ``Q`` that brings ``B`` nearest to ``A`` (orthogonal Procrustes).

    A frame rebuilt from its Gram matrix is fixed only up to a rotation of :math:`\mathbb{R}^n`, and
    near a tight frame the top eigenvalue of the Gram matrix is ``n``-fold: LAPACK then picks the
    eigenvectors, and so the rotation, differently on different CPUs. Rotating back to the previous
    iterate makes the result a continuous function of the start, the same on every machine.
    """
    u, _, vt = np.linalg.svd(A @ B.T)
    return (u @ vt) @ B


def harmonic_frame(n: int, m: int) -> np.ndarray:
    r"""Real harmonic frame: rows of the DFT written with cosines and sines, scaled to unit columns.

    Column ``k`` (``k = 0..m-1``) is :math:`\sqrt{2/n}\,(\tfrac{1}{\sqrt2}, \cos\phi_k, \sin\phi_k,
    \cos 2\phi_k, \sin 2\phi_k, \dots)` with the angle :math:`\phi_k = 2\pi k/m`: a pair of rows per frequency
    :math:`j = 1, \dots, \lfloor n/2\rfloor`, plus the constant row (weight :math:`1/\sqrt2`) when ``n`` is
    odd. Distinct frequencies :math:`0 < j < m/2` give orthogonal rows of equal norm, so this is an exact
    UNTF. For ``m = n`` even the top frequency :math:`m/2` has no sine row; the rows
    :math:`1/\sqrt2` and :math:`(-1)^k/\sqrt2` replace that pair.

    Parameters
    ----------
    n, m : int
        Dimension and number of columns, ``m >= n``.

    Returns
    -------
    ndarray of shape (n, m)
    """
    n, m = _sizes(n, m, tight=True)
    k = np.arange(m)
    rows = []
    if n % 2 == 1:
        rows.append(np.full(m, np.sqrt(0.5)))
        freqs = range(1, (n - 1) // 2 + 1)
    elif n < m:
        freqs = range(1, n // 2 + 1)
    else:  # m == n even
        rows += [np.full(m, np.sqrt(0.5)), np.sqrt(0.5) * (-1.0) ** k]
        freqs = range(1, n // 2)
    for j in freqs:
        theta = 2 * np.pi * j * k / m
        rows += [np.cos(theta), np.sin(theta)]
    return np.sqrt(2.0 / n) * np.array(rows)


def rotated_bases_frame(n: int, copies: int, angle: float, *, rng=None) -> np.ndarray:
    r"""A deliberately coherent UNTF: ``copies`` orthonormal bases, each rotated from the first by
    a small angle.

    :math:`A = [Q_0, Q Q_0, Q^2 Q_0, \dots]` with :math:`Q_0` a random orthogonal matrix and
    :math:`Q = \exp(\text{angle}\cdot\Lambda)` (taken through its polar factor, so orthogonal to round-off)
    for a random skew-symmetric :math:`\Lambda` of spectral norm 1. Each block
    is an orthonormal basis, so :math:`AA^\top = \text{copies}\cdot I = (m/n) I`: exactly tight, while
    columns of neighbouring blocks are at an angle of at most ``angle``: coherence close to
    :math:`\cos(\text{angle})`. Chapter 2 uses it to show what coherence does to the landscape.

    Parameters
    ----------
    n : int
        Dimension.
    copies : int
        Number of bases; ``m = n * copies``.
    angle : float
        Rotation angle between consecutive bases, in radians, ``0 < angle < pi/2``.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    ndarray of shape (n, n * copies)
    """
    n, _ = _sizes(n, n, tight=True)
    check_positive(copies, "copies", integer=True)
    angle = check_scalar(angle, "angle", low=0.0, high=np.pi / 2, low_inclusive=False, high_inclusive=False)
    gen = as_rng(rng)
    q, _ = np.linalg.qr(gen.standard_normal((n, n)))
    g = gen.standard_normal((n, n))
    s = g - g.T
    s /= np.linalg.norm(s, 2)
    u, _, vt = np.linalg.svd(expm(angle * s))  # polar factor: orthogonal to round-off
    r = u @ vt
    blocks = [q]
    for _ in range(copies - 1):
        blocks.append(r @ blocks[-1])
    return np.concatenate(blocks, axis=1)


def random_orthogonal(n: int, *, rng=None) -> np.ndarray:
    r"""Haar-random orthogonal matrix: the complete dictionary (``m = n``) of chapter 3, section 5.

    The orthogonal factor :math:`Q` of the QR factorization of a standard Gaussian matrix, with the signs
    of its columns fixed so that the triangular factor has a positive diagonal (without the fix :math:`Q` is
    not Haar distributed).

    Parameters
    ----------
    n : int
        Dimension, ``n >= 1``.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    ndarray of shape (n, n)
        :math:`Q^\top Q = Q Q^\top = I` to round-off; its columns are a unit-norm tight frame with ``m = n``.
    """
    n = check_scalar(n, "n", integer=True, low=1)
    G = as_rng(rng).standard_normal((n, n))
    Q, R = np.linalg.qr(G)
    return Q * np.where(np.diag(R) < 0, -1.0, 1.0)


def coherence(A) -> float:
    r"""Coherence :math:`\mu(A) = \max_{i\ne j} |\langle a_i, a_j\rangle| / (\|a_i\|\|a_j\|)`.

    Parameters
    ----------
    A : array_like of shape (n, m)
        At least two nonzero columns.

    Returns
    -------
    float
    """
    A = as_matrix(A)
    if A.shape[1] < 2:
        raise ValueError(f"coherence needs at least 2 columns; got shape {A.shape}")
    U = _unit_columns(A)
    G = np.abs(U.T @ U)
    np.fill_diagonal(G, 0.0)
    return float(G.max())


def welch_bound(n: int, m: int) -> float:
    r"""Welch lower bound on the coherence of ``m`` unit vectors in :math:`\mathbb{R}^n`:
    :math:`\sqrt{(m - n)/(n(m - 1))}` (0 when ``m <= n``).

    Parameters
    ----------
    n, m : int

    Returns
    -------
    float
    """
    n, m = _sizes(n, m, tight=False)
    if m <= n:
        return 0.0
    return float(np.sqrt((m - n) / (n * (m - 1))))


def tightness_error(A) -> float:
    r"""Distance from a unit-norm tight frame: :math:`\|(n/m) A A^\top - I\|_{\max}`.

    Parameters
    ----------
    A : array_like of shape (n, m)

    Returns
    -------
    float
    """
    A = as_matrix(A)
    n, m = A.shape
    return float(np.max(np.abs((n / m) * (A @ A.T) - np.eye(n))))
