r"""The data model of dictionary learning and its expectation identity (chapter 3).

Data :math:`Y = A X \in \mathbb{R}^{n \times p}` with a dictionary :math:`A \in \mathbb{R}^{n \times m}`
(unit columns) and Bernoulli(θ)–Gaussian codes :math:`X \in \mathbb{R}^{m \times p}`. For a unit
:math:`q` and :math:`\zeta = A^\top q`, a column :math:`y = A x` of the data gives

.. math::

    \mathbb{E}\,(q^\top y)^4 = 3\theta(1-\theta)\,\|\zeta\|_4^4 + 3\theta^2\,\|\zeta\|_2^4 ,

so :math:`\mathbb{E}\|Y^\top q\|_4^4 = c_1 \|A^\top q\|_4^4 + c_2(q)` with :math:`c_1 = 3\theta(1-\theta)p`
and :math:`c_2(q) = 3\theta^2 p \|A^\top q\|_2^4`. For a unit-norm tight frame
(:math:`(n/m) A A^\top = I`) :math:`\|A^\top q\|_2^2 = m/n = \kappa` on the whole sphere, and
:math:`c_2 = 3\theta^2 p \kappa^2` is a constant (``book/formulas.md``).

**Normalization used throughout the book.** The data objective
(:class:`landscape_lib.objectives.DataObjective`) is the chapter-2 ℓ4 objective with ``A`` replaced by the
*normalized data*

.. math::

    \tilde Y = c_1^{-1/4}\, Y = \bigl(3\theta(1-\theta)p\bigr)^{-1/4} Y ,
    \qquad f_{\tilde Y}(q) = -\tfrac14 \|\tilde Y^\top q\|_4^4 ,

so that for a unit-norm tight frame

.. math::

    \mathbb{E}_X f_{\tilde Y}(q) = f_A(q) - \omega, \qquad
    \omega = \frac{c_2}{4 c_1} = \frac{\theta\,\kappa^2}{4(1-\theta)}
    \quad\text{(independent of } p\text{)} .

The power iteration and all the other chapter-2 routines therefore apply unchanged to :math:`\tilde Y`
(and the power iteration is even invariant to the scale of ``Y``).

This module holds the model and its constants: the Bernoulli–Gaussian codes and the data, the constants
:math:`c_1, c_2, \omega` and the normalization, and the expectation identity with its Monte Carlo check.
The data objective is :class:`landscape_lib.objectives.DataObjective`; recovering columns from it is
:mod:`landscape_lib.recovery`; the complete-dictionary baseline MSP is :mod:`landscape_lib.msp`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._threads import one_blas_thread
from ._validation import as_float_array, as_rng, check_scalar, check_unit_norm
from .sphere import as_points

__all__ = [
    "bernoulli_gaussian", "sample_data", "expectation_constants", "normalize_data", "normalization_offset",
    "expected_fourth_moment", "constant_term", "MonteCarloMoment", "monte_carlo_fourth_moment",
    "sample_fourth_cumulant", "monte_carlo_fourth_cumulant",
]


# ----------------------------------------------------------------------------------------------------
# helpers: validation and the constant c1
# ----------------------------------------------------------------------------------------------------

def _theta(theta) -> float:
    # At θ = 1 the codes are Gaussian, c1 = 0 and the data carry no information about A; at θ = 0
    # the data are zero.
    return check_scalar(theta, "theta", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)


def _dictionary(A, name: str = "A") -> np.ndarray:
    A = as_float_array(A, name, ndim=2)
    check_unit_norm(A.T, f"the columns of {name}", atol=1e-6)
    return A


def _c1(theta: float, p) -> float:
    # c1 = 3θ(1-θ)p, the factor of ||A^T q||_4^4 in the expectation identity: one formula for the constants
    # and the normalization.
    return 3.0 * theta * (1.0 - theta) * p


# ----------------------------------------------------------------------------------------------------
# the generative model
# ----------------------------------------------------------------------------------------------------

def bernoulli_gaussian(m: int, p: int, theta: float, *, rng=None) -> np.ndarray:
    r"""Bernoulli(θ)–Gaussian sparse codes (chapter 3).

    Parameters
    ----------
    m : int
        Number of atoms (rows of the code matrix).
    p : int
        Number of samples (columns), ``p >= 1``.
    theta : float
        Probability that an entry is active, in the open interval (0, 1).
    rng : None, int or numpy.random.Generator
        Seed or generator.

    Returns
    -------
    X : ndarray of shape (m, p)
        :math:`X_{ij} = \Omega_{ij} g_{ij}` with independent :math:`\Omega_{ij} \sim \mathrm{Bern}(\theta)` and
        :math:`g_{ij} \sim \mathcal N(0, 1)`.
    """
    theta = _theta(theta)
    m = check_scalar(m, "m", integer=True, low=1)
    p = check_scalar(p, "p", integer=True, low=1)
    gen = as_rng(rng)
    g = gen.standard_normal((m, p))
    b = gen.random((m, p)) < theta
    return np.where(b, g, 0.0)


def sample_data(A, p: int, theta: float, *, rng=None) -> tuple[np.ndarray, np.ndarray]:
    r"""Draw data :math:`Y = A X` with Bernoulli(θ)–Gaussian codes (chapter 3).

    Parameters
    ----------
    A : array_like of shape (n, m)
        Dictionary with unit-norm columns.
    p : int
        Number of samples, ``p >= 1``.
    theta : float
        Sparsity level in (0, 1).
    rng : None, int or numpy.random.Generator

    Returns
    -------
    Y : ndarray of shape (n, p)
        The data.
    X : ndarray of shape (m, p)
        The codes (returned for checks; a learner only sees ``Y``).
    """
    A = _dictionary(A)
    X = bernoulli_gaussian(A.shape[1], p, theta, rng=rng)
    with one_blas_thread():  # (n, m) @ (m, p) with small n: threads gain little, and stall when loaded
        return A @ X, X


# ----------------------------------------------------------------------------------------------------
# the expectation identity
# ----------------------------------------------------------------------------------------------------

def expectation_constants(n: int, m: int, theta: float, p: int = 1) -> tuple[float, float]:
    r"""Constants of :math:`\mathbb{E}\|Y^\top q\|_4^4 = c_1\|A^\top q\|_4^4 + c_2` (unit-norm tight frame).

    Parameters
    ----------
    n, m : int
        Dimension and number of columns of the frame (``κ = m/n``).
    theta : float
        Sparsity level in (0, 1).
    p : int, default 1
        Number of samples (``p = 1`` gives the per-sample moment).

    Returns
    -------
    c1, c2 : float
        .. math:: c_1 = 3\theta(1-\theta)p, \qquad c_2 = 3\theta^2 p\,\kappa^2 .

    Notes
    -----
    Valid only when :math:`\|A^\top q\|_2^2 = \kappa` for every unit ``q``, i.e. for a unit-norm tight
    frame; for any other frame use :func:`constant_term`, which depends on ``q``. Chapter 3, section 1.
    """
    n = check_scalar(n, "n", integer=True, low=1)
    m = check_scalar(m, "m", integer=True, low=1)
    theta = _theta(theta)
    p = check_scalar(p, "p", integer=True, low=1)
    kappa = m / n
    return _c1(theta, p), 3.0 * theta**2 * p * kappa**2


def constant_term(A, q, theta: float, p: int = 1) -> np.ndarray:
    r"""The term :math:`c_2(q) = 3\theta^2 p\,\|A^\top q\|_2^4` for any dictionary (chapter 3).

    Parameters
    ----------
    A : array_like of shape (n, m)
        Dictionary with unit-norm columns.
    q : array_like of shape (..., n)
        Unit vectors.
    theta : float
        Sparsity level in (0, 1).
    p : int, default 1

    Returns
    -------
    c2 : ndarray of shape (...,)
        Constant over the sphere exactly when :math:`A A^\top \propto I` (a tight frame).
    """
    A = _dictionary(A)
    q = as_points(q, A.shape[0])
    theta = _theta(theta)
    p = check_scalar(p, "p", integer=True, low=1)
    return 3.0 * theta**2 * p * np.sum((q @ A) ** 2, axis=-1) ** 2


def expected_fourth_moment(A, q, theta: float, p: int = 1) -> np.ndarray:
    r"""Closed form of :math:`\mathbb{E}_X \|Y^\top q\|_4^4` for :math:`Y = AX` (chapter 3).

    Parameters
    ----------
    A : array_like of shape (n, m)
        Dictionary with unit-norm columns (any frame, tight or not).
    q : array_like of shape (..., n)
        Unit vectors.
    theta : float
        Sparsity level in (0, 1).
    p : int, default 1
        Number of samples.

    Returns
    -------
    moment : ndarray of shape (...,)
        .. math:: p\,\bigl(3\theta(1-\theta)\|\zeta\|_4^4 + 3\theta^2\|\zeta\|_2^4\bigr),
           \qquad \zeta = A^\top q .

    Notes
    -----
    For :math:`x` Bernoulli–Gaussian, :math:`\mathbb{E}(\zeta^\top x)^4 = 3\theta\sum_i\zeta_i^4
    + 3\theta^2\sum_{i\ne j}\zeta_i^2\zeta_j^2` (the Gaussian fourth moment 3 and pairs of active
    entries), which rearranges to the formula above.
    """
    A = _dictionary(A)
    q = as_points(q, A.shape[0])
    theta = _theta(theta)
    p = check_scalar(p, "p", integer=True, low=1)
    zeta = q @ A
    z2 = zeta**2
    fourth = np.sum(z2**2, axis=-1)
    return p * (3.0 * theta * (1.0 - theta) * fourth + 3.0 * theta**2 * np.sum(z2, axis=-1) ** 2)


@dataclass(frozen=True)
class MonteCarloMoment:
    """Monte Carlo estimate of the per-sample moment :math:`\\mathbb{E}(q^\\top y)^4`, or of the fourth
    cumulant :math:`\\kappa_4(q^\\top y)` (:func:`monte_carlo_fourth_cumulant`) (chapter 3).

    Attributes
    ----------
    mean : ndarray of shape (...,)
        Sample mean of :math:`(q^\\top y_j)^4` over the samples, per point ``q``.
    stderr : ndarray of shape (...,)
        Its standard error (sample standard deviation over the square root of ``n_samples``).
    n_samples : int
        Number of samples.
    """

    mean: np.ndarray
    stderr: np.ndarray
    n_samples: int

    def interval(self, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
        """Normal-approximation confidence interval ``mean ± z·stderr`` (``z = 1.96``: 95%)."""
        return self.mean - z * self.stderr, self.mean + z * self.stderr


def monte_carlo_fourth_moment(A, q, theta: float, n_samples: int, *, rng=None,
                              chunk: int = 65536) -> MonteCarloMoment:
    r"""Estimate :math:`\mathbb{E}(q^\top y)^4`, :math:`y = Ax`, by sampling codes (chapter 3, section 1).

    Parameters
    ----------
    A : array_like of shape (n, m)
        Dictionary with unit-norm columns.
    q : array_like of shape (..., n)
        Unit vectors; all are evaluated on the same samples.
    theta : float
        Sparsity level in (0, 1).
    n_samples : int
        Number of independent samples ``y``.
    rng : None, int or numpy.random.Generator
    chunk : int, default 65536
        Samples drawn per block (bounds the memory to ``m * chunk`` floats).

    Returns
    -------
    MonteCarloMoment
        Mean and standard error per point; compare with :func:`expected_fourth_moment` (``p = 1``).

    Notes
    -----
    Uses :math:`q^\top (A x) = (A^\top q)^\top x`, so the samples ``y`` are never formed.
    """
    A = _dictionary(A)
    q = as_points(q, A.shape[0])
    theta = _theta(theta)
    n_samples = check_scalar(n_samples, "n_samples", integer=True, low=1)
    chunk = check_scalar(chunk, "chunk", integer=True, low=1)
    gen = as_rng(rng)
    zeta = (q @ A).reshape(-1, A.shape[1])
    s1 = np.zeros(zeta.shape[0])
    s2 = np.zeros(zeta.shape[0])
    done = 0
    with one_blas_thread():  # small (k, m) @ (m, chunk) products: BLAS threads only add contention
        while done < n_samples:
            c = min(chunk, n_samples - done)
            t = (zeta @ bernoulli_gaussian(A.shape[1], c, theta, rng=gen)) ** 2
            t *= t
            s1 += t.sum(axis=1)
            s2 += np.einsum("ij,ij->i", t, t)
            done += c
    mean = s1 / n_samples
    var = np.maximum(s2 / n_samples - mean**2, 0.0) * n_samples / max(n_samples - 1, 1)
    shape = q.shape[:-1]
    return MonteCarloMoment(mean.reshape(shape), np.sqrt(var / n_samples).reshape(shape), n_samples)


# ----------------------------------------------------------------------------------------------------
# the normalization
# ----------------------------------------------------------------------------------------------------

def normalize_data(Y, theta: float) -> np.ndarray:
    r"""The normalized data :math:`\tilde Y = (3\theta(1-\theta)p)^{-1/4}\,Y` (chapter 3).

    Parameters
    ----------
    Y : array_like of shape (n, p)
        Data, one sample per column.
    theta : float
        Sparsity level in (0, 1) of the codes that generated ``Y``.

    Returns
    -------
    Y_tilde : ndarray of shape (n, p)
        A new array; with it the chapter-2 ℓ4 objective :math:`-\frac14\|\tilde Y^\top q\|_4^4`
        (:class:`landscape_lib.objectives.DataObjective`) has expectation :math:`f_A(q) - \omega` for a
        unit-norm tight frame ``A`` (:func:`normalization_offset`).
    """
    Y = as_float_array(Y, "Y", ndim=2)
    theta = _theta(theta)
    return Y * _c1(theta, Y.shape[1]) ** -0.25


def normalization_offset(n: int, m: int, theta: float) -> float:
    r"""The constant :math:`\omega = c_2/(4c_1) = \theta\kappa^2/(4(1-\theta))` (chapter 3).

    With the normalization of :func:`normalize_data` and a unit-norm tight frame,
    :math:`\mathbb{E} f_{\tilde Y}(q) + \omega = f_A(q)` on the whole sphere, for every ``p``
    (:meth:`landscape_lib.objectives.DataObjective.offset`).

    Parameters
    ----------
    n, m : int
        Dimension and number of columns of the frame (``κ = m/n``).
    theta : float
        Sparsity level in (0, 1).

    Returns
    -------
    float
    """
    c1, c2 = expectation_constants(n, m, theta)
    return c2 / (4.0 * c1)


# ----------------------------------------------------------------------------------------------------
# the fourth cumulant
# ----------------------------------------------------------------------------------------------------

def sample_fourth_cumulant(Y, q) -> np.ndarray:
    r"""The unbiased sample fourth cumulant of :math:`q^\top y` over the columns of ``Y`` (zero mean known).

    Parameters
    ----------
    Y : array_like of shape (n, p)
        Samples, one per column, ``p >= 2``.
    q : array_like of shape (..., n)
        Any finite points.

    Returns
    -------
    ndarray of shape (...)
        Over the columns :math:`y_j` of ``Y``,

        .. math:: \hat\kappa_4 = \frac{(p+2)\sum_j (q^\top y_j)^4 - 3\bigl(\sum_j (q^\top y_j)^2\bigr)^2}{p(p-1)},

        whose expectation is :math:`\mathbb{E}(q^\top y)^4 - 3(\mathbb{E}(q^\top y)^2)^2`; for Bernoulli(θ)–Gaussian
        codes :math:`3\theta(1-\theta)\|A^\top q\|_4^4` for every dictionary ``A`` (chapter 3, section 3;
        :class:`landscape_lib.objectives.CumulantObjective` is :math:`-\hat\kappa_4/(12\theta(1-\theta))`).
    """
    Y = as_float_array(Y, "Y", ndim=2)
    p = Y.shape[1]
    if p < 2:
        raise ValueError(f"Y must have p >= 2 samples; got shape {Y.shape}")
    q = as_float_array(q, "q", min_ndim=1, last_dim=Y.shape[0])
    with one_blas_thread():
        z2 = (q @ Y) ** 2
    s2 = np.sum(z2, axis=-1)
    s4 = np.sum(z2 * z2, axis=-1)
    return ((p + 2.0) * s4 - 3.0 * s2**2) / (p * (p - 1.0))


def monte_carlo_fourth_cumulant(A, q, theta: float, n_samples: int, *, batches: int = 20,
                                rng=None) -> MonteCarloMoment:
    r"""Estimate :math:`\kappa_4(q^\top y)`, :math:`y = Ax`, by sampling codes (chapter 3, section 3).

    The samples are cut into ``batches`` equal batches; each gives an unbiased estimate
    (:func:`sample_fourth_cumulant`), and the result is their mean with the standard error of that mean
    (their standard deviation over :math:`\sqrt{\text{batches}}`).

    Parameters
    ----------
    A : array_like of shape (n, m)
        Dictionary with unit-norm columns (any frame).
    q : array_like of shape (..., n)
        Unit vectors; all are evaluated on the same samples.
    theta : float
        Sparsity level in (0, 1).
    n_samples : int
        Number of samples, at least ``2 * batches``.
    batches : int, default 20
    rng : None, int or numpy.random.Generator

    Returns
    -------
    MonteCarloMoment
        Compare ``mean`` with :math:`3\theta(1-\theta)\|A^\top q\|_4^4`.
    """
    A = _dictionary(A)
    q = as_points(q, A.shape[0])
    theta = _theta(theta)
    batches = check_scalar(batches, "batches", integer=True, low=2)
    n_samples = check_scalar(n_samples, "n_samples", integer=True, low=2 * batches)
    gen = as_rng(rng)
    size = n_samples // batches
    zeta = (q @ A).reshape(-1, A.shape[1])
    est = np.empty((batches, zeta.shape[0]))
    with one_blas_thread():
        for b in range(batches):
            z2 = (zeta @ bernoulli_gaussian(A.shape[1], size, theta, rng=gen)) ** 2
            s2, s4 = z2.sum(axis=1), np.einsum("ij,ij->i", z2, z2)
            est[b] = ((size + 2.0) * s4 - 3.0 * s2**2) / (size * (size - 1.0))
    shape = q.shape[:-1]
    mean = est.mean(axis=0)
    stderr = est.std(axis=0, ddof=1) / np.sqrt(batches)
    return MonteCarloMoment(mean.reshape(shape), stderr.reshape(shape), size * batches)
