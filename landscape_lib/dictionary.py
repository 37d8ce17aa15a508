r"""Dictionary learning through the ℓ4 landscape (chapter 3).

Data :math:`Y = A X \in \mathbb{R}^{n \times p}` with a dictionary :math:`A \in \mathbb{R}^{n \times m}`
(unit columns) and Bernoulli(θ)–Gaussian codes :math:`X \in \mathbb{R}^{m \times p}`. For a unit
:math:`q` and :math:`\zeta = A^\top q`, a column :math:`y = A x` of the data gives

.. math::

    \mathbb{E}\,(q^\top y)^4 = 3\theta(1-\theta)\,\|\zeta\|_4^4 + 3\theta^2\,\|\zeta\|_2^4 ,

so :math:`\mathbb{E}\|Y^\top q\|_4^4 = c_1 \|A^\top q\|_4^4 + c_2(q)` with :math:`c_1 = 3\theta(1-\theta)p`
and :math:`c_2(q) = 3\theta^2 p \|A^\top q\|_2^4`. For a unit-norm tight frame
(:math:`(n/m) A A^\top = I`) :math:`\|A^\top q\|_2^2 = m/n = \kappa` on the whole sphere, and
:math:`c_2 = 3\theta^2 p \kappa^2` is a constant (``book/formulas.md``).

**Normalization used throughout the book.** The data objective is the chapter-2 ℓ4 objective with ``A``
replaced by the *normalized data*

.. math::

    \tilde Y = c_1^{-1/4}\, Y = \bigl(3\theta(1-\theta)p\bigr)^{-1/4} Y ,
    \qquad f_{\tilde Y}(q) = -\tfrac14 \|\tilde Y^\top q\|_4^4 ,

so that for a unit-norm tight frame

.. math::

    \mathbb{E}_X f_{\tilde Y}(q) = f_A(q) - \gamma, \qquad
    \gamma = \frac{c_2}{4 c_1} = \frac{\theta\,\kappa^2}{4(1-\theta)}
    \quad\text{(independent of } p\text{)} .

The power iteration and all the other chapter-2 routines therefore apply unchanged to :math:`\tilde Y`
(and the power iteration is even invariant to the scale of ``Y``).

Also here: matching estimated columns to true ones up to a signed permutation, whole-dictionary recovery
from repeated independent starts, and the complete-dictionary baseline MSP (ℓ4 maximization over the
orthogonal group, Zhai et al. 2020).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from ._threads import one_blas_thread
from ._validation import as_float_array, as_rng, check_open_interval, check_positive, check_unit_norm
from .critical import deduplicate

__all__ = [
    "bernoulli_gaussian", "sample_data", "expectation_constants", "expected_fourth_moment",
    "constant_term", "MonteCarloMoment", "monte_carlo_fourth_moment", "normalize_data",
    "normalization_offset", "data_objective", "data_objective_prefixes", "landscape_gap", "landscape_gaps",
    "ColumnMatch", "match_columns",
    "first_recovery", "DictionaryRecovery", "recover_dictionary", "polar_orthogonal",
    "MSPResult", "msp", "random_orthogonal",
]


# ----------------------------------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------------------------------

def _theta(theta) -> float:
    # At θ = 1 the codes are Gaussian, c1 = 0 and the data carry no information about A; at θ = 0
    # the data are zero.
    return check_open_interval(theta, "theta", 0.0, 1.0)


def _num_samples(p, name: str = "p") -> int:
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, np.integer)):
        raise ValueError(f"{name} (number of samples) must be an integer >= 1; got {p!r}")
    if p < 1:
        raise ValueError(f"{name} (number of samples) must be >= 1; got {p!r}")
    return int(p)


def _dictionary(A, name: str = "A") -> np.ndarray:
    A = as_float_array(A, name, ndim=2)
    check_unit_norm(A.T, f"the columns of {name}", atol=1e-6)
    return A


def _points(q, n: int, name: str = "q") -> np.ndarray:
    q = as_float_array(q, name, min_ndim=1)
    if q.shape[-1] != n:
        raise ValueError(f"{name} must have last dimension n = {n} (the rows of the dictionary); "
                         f"got shape {q.shape}")
    check_unit_norm(q, name, atol=1e-6)
    return q


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
        :math:`X_{ij} = b_{ij} g_{ij}` with independent :math:`b_{ij} \sim \mathrm{Bern}(\theta)` and
        :math:`g_{ij} \sim \mathcal N(0, 1)`.
    """
    theta = _theta(theta)
    m = _num_samples(m, "m")
    p = _num_samples(p)
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
    n = _num_samples(n, "n")
    m = _num_samples(m, "m")
    theta = _theta(theta)
    p = _num_samples(p)
    kappa = m / n
    return 3.0 * theta * (1.0 - theta) * p, 3.0 * theta**2 * p * kappa**2


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
    q = _points(q, A.shape[0])
    theta = _theta(theta)
    p = _num_samples(p)
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
    q = _points(q, A.shape[0])
    theta = _theta(theta)
    p = _num_samples(p)
    zeta = q @ A
    z2 = zeta**2
    fourth = np.sum(z2**2, axis=-1)
    return p * (3.0 * theta * (1.0 - theta) * fourth + 3.0 * theta**2 * np.sum(z2, axis=-1) ** 2)


@dataclass(frozen=True)
class MonteCarloMoment:
    """Monte Carlo estimate of the per-sample moment :math:`\\mathbb{E}(q^\\top y)^4` (chapter 3).

    Attributes
    ----------
    mean : ndarray of shape (...,)
        Sample mean of :math:`(q^\\top y_k)^4` over the samples, per point ``q``.
    stderr : ndarray of shape (...,)
        Its standard error (sample standard deviation over :math:`\\sqrt{N}`).
    n_samples : int
        Number of samples ``N``.
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
    q = _points(q, A.shape[0])
    theta = _theta(theta)
    n_samples = _num_samples(n_samples, "n_samples")
    chunk = _num_samples(chunk, "chunk")
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
# the normalized data objective
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
        has expectation :math:`f_A(q) - \gamma` for a unit-norm tight frame ``A``
        (:func:`normalization_offset`).
    """
    Y = as_float_array(Y, "Y", ndim=2)
    theta = _theta(theta)
    c1 = 3.0 * theta * (1.0 - theta) * Y.shape[1]
    return Y * c1 ** -0.25


def normalization_offset(n: int, m: int, theta: float) -> float:
    r"""The constant :math:`\gamma = c_2/(4c_1) = \theta\kappa^2/(4(1-\theta))` (chapter 3).

    With the normalization of :func:`normalize_data` and a unit-norm tight frame,
    :math:`\mathbb{E} f_{\tilde Y}(q) + \gamma = f_A(q)` on the whole sphere, for every ``p``.
    """
    c1, c2 = expectation_constants(n, m, theta)
    return c2 / (4.0 * c1)


def data_objective(Y, q, theta: float) -> np.ndarray:
    r"""The normalized data objective :math:`f_{\tilde Y}(q) = -\frac14\|\tilde Y^\top q\|_4^4` (chapter 3).

    Parameters
    ----------
    Y : array_like of shape (n, p)
        Raw data (normalized here with :func:`normalize_data`).
    q : array_like of shape (..., n)
        Unit vectors.
    theta : float
        Sparsity level in (0, 1).

    Returns
    -------
    values : ndarray of shape (...,)
        Computed by the chapter-2 objective (:mod:`landscape_lib.objectives`) on :math:`\tilde Y`.
    """
    Yt = _nonzero_samples(normalize_data(Y, theta))
    q = _points(q, Yt.shape[0])
    flat = q.reshape(-1, q.shape[-1])
    # Evaluate in blocks of points so that the (points, p) intermediate stays near 2**22 floats.
    block = max(1, (1 << 22) // Yt.shape[1])
    # The products have inner dimension n (3 in the chapter's sphere plots): one BLAS thread, because
    # spinning BLAS threads on a loaded machine made this several times slower than a single thread.
    with one_blas_thread():
        out = np.concatenate([_l4_value(Yt, flat[i:i + block]) for i in range(0, flat.shape[0], block)])
    return out.reshape(q.shape[:-1])


def data_objective_prefixes(Y, q, theta: float, p_values) -> np.ndarray:
    r""":func:`data_objective` on the first ``p`` samples of ``Y``, for several ``p``, in one pass (chapter 3).

    Parameters
    ----------
    Y : array_like of shape (n, P)
        Raw data, one sample per column.
    q : array_like of shape (..., n)
        Unit vectors.
    theta : float
        Sparsity level in (0, 1).
    p_values : sequence of int
        Sample sizes, each in ``1 .. P``.

    Returns
    -------
    values : ndarray of shape (len(p_values), ...)
        ``values[k]`` equals ``data_objective(Y[:, :p_values[k]], q, theta)`` (up to rounding):
        :math:`-\frac14\sum_{j \le p}(y_j^\top q)^4 / (3\theta(1-\theta)p)`, from cumulative sums of one
        pass over ``Y[:, :max(p_values)]`` instead of one pass per ``p``.
    """
    Y = as_float_array(Y, "Y", ndim=2)
    theta = _theta(theta)
    q = _points(q, Y.shape[0])
    p_arr = np.asarray(p_values)
    if p_arr.ndim != 1 or p_arr.size == 0 or not np.issubdtype(p_arr.dtype, np.integer):
        raise ValueError(f"p_values must be a non-empty sequence of integers; got {p_values!r}")
    if p_arr.min() < 1 or p_arr.max() > Y.shape[1]:
        raise ValueError(f"p_values must lie in 1 .. {Y.shape[1]} (the samples in Y); got {p_arr.tolist()}")
    bounds = np.unique(p_arr)                                  # sorted distinct prefix lengths
    Yp = Y[:, :bounds[-1]]
    flat = q.reshape(-1, q.shape[-1])
    sums = np.empty((flat.shape[0], bounds.size))
    block = max(1, (1 << 22) // Yp.shape[1])
    starts = np.concatenate([[0], bounds[:-1]])
    with one_blas_thread():
        for i in range(0, flat.shape[0], block):
            Z = flat[i:i + block] @ Yp
            Z *= Z
            Z *= Z
            sums[i:i + block] = np.cumsum(np.add.reduceat(Z, starts, axis=1), axis=1)
    values = -0.25 * sums / (3.0 * theta * (1.0 - theta) * bounds)
    values = values[:, np.searchsorted(bounds, p_arr)].T
    return values.reshape((p_arr.size,) + q.shape[:-1])


def landscape_gaps(A, Y, theta: float, q, p_values) -> np.ndarray:
    r""":func:`landscape_gap` on the first ``p`` samples of ``Y`` for each ``p`` of ``p_values`` (chapter 3).

    Returns
    -------
    gaps : ndarray of shape (len(p_values),)
        One pass over the data (:func:`data_objective_prefixes`) instead of one per ``p``.
    """
    A, Y, q, delta = _gap_inputs(A, Y, theta, q)
    values = data_objective_prefixes(Y, q, theta, p_values).reshape(len(p_values), -1)
    return np.max(np.abs(values + delta - _l4_value(A, q).reshape(1, -1)), axis=1)


def landscape_gap(A, Y, theta: float, q) -> float:
    r"""Largest gap :math:`\max_q |f_{\tilde Y}(q) + \gamma - f_A(q)|` over the given points (chapter 3).

    Parameters
    ----------
    A : array_like of shape (n, m)
        The dictionary (a unit-norm tight frame for the gap to tend to zero).
    Y : array_like of shape (n, p)
        Data generated from ``A`` with sparsity ``theta``.
    theta : float
    q : array_like of shape (k, n)
        Points of the sphere (e.g. a grid).

    Returns
    -------
    gap : float
        Decays like :math:`p^{-1/2}` (Monte Carlo rate) for a tight frame.
    """
    A, Y, q, delta = _gap_inputs(A, Y, theta, q)
    return float(np.max(np.abs(data_objective(Y, q, theta) + delta - _l4_value(A, q))))


def _gap_inputs(A, Y, theta, q):
    A = _dictionary(A)
    q = _points(q, A.shape[0])
    Y = as_float_array(Y, "Y", ndim=2)
    if Y.shape[0] != A.shape[0]:
        raise ValueError(f"Y must have n = {A.shape[0]} rows like A; got shape {Y.shape}")
    delta = normalization_offset(A.shape[0], A.shape[1], theta)
    return A, Y, q, delta


def _l4_value(M: np.ndarray, q: np.ndarray) -> np.ndarray:
    from . import objectives

    return objectives.l4_value(_nonzero_samples(M), q)


def _nonzero_samples(Y: np.ndarray) -> np.ndarray:
    # A sample whose code is all zero (probability (1-θ)^m) is a zero column of Y: it adds nothing to
    # ||Y^T q||_4^4 nor to a power-iteration step, and the chapter-2 routines reject zero columns
    # (a zero component makes no sense for a tensor), so leave such samples out.
    keep = np.any(Y != 0, axis=0)
    return Y if keep.all() else Y[:, keep]


# ----------------------------------------------------------------------------------------------------
# matching up to a signed permutation
# ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ColumnMatch:
    r"""Best matching of estimated columns to true ones up to sign and permutation (chapter 3).

    Attributes
    ----------
    estimate_index : ndarray of shape (m,)
        For each true column ``a_i`` the index of the estimated column matched to it (``-1``: none,
        when there are fewer estimates than columns).
    signs : ndarray of shape (m,)
        Sign ``s_i`` with :math:`s_i \hat a_{j(i)} \approx a_i` (0 where unmatched).
    correlations : ndarray of shape (m,)
        :math:`|\langle \hat a_{j(i)}, a_i\rangle|` (0 where unmatched).
    errors : ndarray of shape (m,)
        :math:`\|s_i \hat a_{j(i)} - a_i\|_2 = \sqrt{2 - 2|\langle\hat a_{j(i)}, a_i\rangle|}`
        (``nan`` where unmatched).
    threshold : float
        Correlation at or above which a column counts as recovered.
    """

    estimate_index: np.ndarray
    signs: np.ndarray
    correlations: np.ndarray
    errors: np.ndarray
    threshold: float

    @property
    def recovered(self) -> np.ndarray:
        """Boolean mask of shape (m,): matched with correlation ``>= threshold``."""
        return self.correlations >= self.threshold

    @property
    def n_recovered(self) -> int:
        return int(self.recovered.sum())

    @property
    def max_error(self) -> float:
        """Largest column error (``inf`` if some column is unmatched)."""
        e = self.errors
        return float(np.inf) if np.any(np.isnan(e)) else float(e.max())

    @property
    def relative_error(self) -> float:
        r""":math:`\|\hat A P S - A\|_F / \|A\|_F` (``inf`` if some column is unmatched)."""
        e = self.errors
        return float(np.inf) if np.any(np.isnan(e)) else float(np.sqrt(np.sum(e**2) / e.size))


def match_columns(estimate, A, *, threshold: float = 0.95) -> ColumnMatch:
    r"""Match estimated columns to the true ones as a signed permutation (chapter 3).

    Parameters
    ----------
    estimate : array_like of shape (n, k)
        Estimated columns (unit norm), any order and signs; ``k`` may differ from ``m``. For MSP pass
        the transpose of its ``W`` (rows of ``W`` estimate columns).
    A : array_like of shape (n, m)
        True dictionary, unit-norm columns.
    threshold : float, default 0.95
        Correlation at which a matched column counts as recovered (reported, not used in matching).

    Returns
    -------
    ColumnMatch

    Notes
    -----
    Solves the assignment problem :math:`\max_\pi \sum_i |\langle \hat a_{\pi(i)}, a_i\rangle|` with
    :func:`scipy.optimize.linear_sum_assignment` on the matrix :math:`|\hat A^\top A|`, then picks
    each sign from the sign of the inner product. Each estimate is used at most once.
    """
    E = as_float_array(estimate, "estimate", ndim=2)
    A = _dictionary(A)
    if E.shape[0] != A.shape[0]:
        raise ValueError(f"estimate must have n = {A.shape[0]} rows like A (one estimated column per "
                         f"column of the array); got shape {E.shape}")
    check_unit_norm(E.T, "the columns of estimate", atol=1e-6)
    threshold = check_open_interval(threshold, "threshold", 0.0, 1.0 + 1e-12)
    G = E.T @ A                                              # (k, m)
    rows, cols = linear_sum_assignment(np.abs(G), maximize=True)
    m = A.shape[1]
    index = np.full(m, -1, dtype=np.intp)
    signs = np.zeros(m)
    corr = np.zeros(m)
    index[cols] = rows
    g = G[rows, cols]
    signs[cols] = np.where(g >= 0, 1.0, -1.0)
    corr[cols] = np.minimum(np.abs(g), 1.0)
    errors = np.full(m, np.nan)
    errors[cols] = np.sqrt(np.maximum(2.0 - 2.0 * corr[cols], 0.0))
    return ColumnMatch(index, signs, corr, errors, threshold)


def first_recovery(points, A, *, threshold: float = 0.95) -> np.ndarray:
    r"""For each column, the first run (in order) that lands near it (chapter 3, section 3).

    Parameters
    ----------
    points : array_like of shape (s, n)
        Limits of ``s`` independent runs, in the order they were made.
    A : array_like of shape (n, m)
        True dictionary, unit-norm columns.
    threshold : float, default 0.95
        A run recovers :math:`a_i` when :math:`|\langle q, a_i\rangle| \ge` ``threshold``.

    Returns
    -------
    first : ndarray of shape (m,)
        Index of the first run that recovers each column, ``-1`` if none does. The number of runs
        needed to recover the whole dictionary is ``first.max() + 1`` when no entry is ``-1``.
    """
    A = _dictionary(A)
    Q = _points(points, A.shape[0], "points")
    if Q.ndim != 2:
        raise ValueError(f"points must have shape (s, n); got {Q.shape}")
    threshold = check_open_interval(threshold, "threshold", 0.0, 1.0 + 1e-12)
    hit = np.abs(Q @ A) >= threshold                          # (s, m)
    return np.where(hit.any(axis=0), np.argmax(hit, axis=0), -1)


# ----------------------------------------------------------------------------------------------------
# whole-dictionary recovery from repeated independent starts
# ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DictionaryRecovery:
    r"""Result of :func:`recover_dictionary` (chapter 3).

    Attributes
    ----------
    points : ndarray of shape (s, n)
        Limit of each independent run, in order.
    converged : ndarray of shape (s,)
        Whether each run met the solver's stopping rule.
    columns : ndarray of shape (n, k)
        The distinct converged limits up to sign (``±q`` merged): the estimated dictionary.
    counts : ndarray of shape (k,)
        How many converged runs ended at each distinct column.
    index : ndarray of shape (s,)
        Column of ``columns`` each run ended at (``-1`` for runs that did not converge).
    iterations : ndarray of shape (s,)
        Iterations each run took.
    """

    points: np.ndarray
    converged: np.ndarray
    columns: np.ndarray
    counts: np.ndarray
    index: np.ndarray
    iterations: np.ndarray


def recover_dictionary(Y, theta: float, n_starts: int, *, rng=None, starts=None, tol: float = 1e-6,
                       max_iter: int = 1000, polish: bool = True, merge_tol: float = 1e-3) -> DictionaryRecovery:
    r"""Estimate the whole dictionary from independent random starts of the power iteration on the data.

    Parameters
    ----------
    Y : array_like of shape (n, p)
        Raw data; normalized here with :func:`normalize_data` so that ``tol`` refers to the gradient of
        :math:`f_{\tilde Y}`, whose expectation is the tensor objective up to a constant.
    theta : float
        Sparsity level in (0, 1) of the codes.
    n_starts : int
        Number of independent uniformly random starts, all run at once by
        :func:`landscape_lib.solvers.power_iteration` (one pass over the data per iteration for all
        starts: two products of shapes ``(s, n) @ (n, p)`` and ``(s, p) @ (p, n)``).
    rng : None, int or numpy.random.Generator
        Draws the starts.
    starts : array_like of shape (n_starts, n), optional
        Given unit-vector starts instead of random ones (e.g. a true column, to ask whether the data
        objective has a minimizer next to it); ``rng`` is then not used.
    tol : float, default 1e-6
        A start has converged when its Riemannian gradient norm of :math:`f_{\tilde Y}` is below ``tol``.
    max_iter : int, default 1000
    polish : bool, default True
        Finish the slow linear tail with Newton steps near minimizers (chapter 2's solver option).
    merge_tol : float, default 1e-3
        Two limits are the same column when :math:`\min\|q \mp q'\|_2 \le` ``merge_tol``.

    Returns
    -------
    DictionaryRecovery

    Notes
    -----
    From a random start the iteration almost surely avoids strict saddles (Lee et al. 2016) and lands at
    a local minimizer of :math:`f_{\tilde Y}`; in the benign regime those sit near the columns
    :math:`\pm a_i`, so independent starts collect columns like coupons. Chapter 3, section 3.
    """
    from . import solvers, sphere

    Yt = _nonzero_samples(normalize_data(Y, theta))
    n_starts = _num_samples(n_starts, "n_starts")
    check_positive(merge_tol, "merge_tol")
    if starts is None:
        q0 = sphere.random_points(Yt.shape[0], (n_starts,), rng=as_rng(rng))
    else:
        q0 = _points(starts, Yt.shape[0], "starts")
        if q0.shape != (n_starts, Yt.shape[0]):
            raise ValueError(f"starts must have shape (n_starts, n) = ({n_starts}, {Yt.shape[0]}); "
                             f"got {q0.shape}")
    res = solvers.power_iteration(Yt, q0, tol=tol, max_iter=max_iter, polish=polish)
    points = np.asarray(res.points, dtype=np.float64)
    converged = np.asarray(res.converged, dtype=bool)
    index = np.full(n_starts, -1, dtype=np.intp)
    if converged.any():
        unique, idx = deduplicate(points[converged], tol=merge_tol, antipodal=True)
        index[converged] = idx
        counts = np.bincount(idx, minlength=unique.shape[0])
    else:
        unique, counts = np.empty((0, Yt.shape[0])), np.zeros(0, dtype=np.intp)
    return DictionaryRecovery(points, converged, unique.T.copy(), counts, index, np.asarray(res.iterations))


# ----------------------------------------------------------------------------------------------------
# the complete case: MSP, ℓ4 maximization over the orthogonal group
# ----------------------------------------------------------------------------------------------------

def polar_orthogonal(M) -> np.ndarray:
    r"""Projection onto the orthogonal group: :math:`P_{O(n)}(M) = U V^\top` for :math:`M = U \Sigma V^\top`.

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


def random_orthogonal(n: int, *, rng=None) -> np.ndarray:
    """Haar-random orthogonal matrix of shape (n, n) (QR of a Gaussian matrix with the sign fix)."""
    n = _num_samples(n, "n")
    G = as_rng(rng).standard_normal((n, n))
    Q, R = np.linalg.qr(G)
    return Q * np.where(np.diag(R) < 0, -1.0, 1.0)


@dataclass(frozen=True)
class MSPResult:
    r"""Result of :func:`msp` (chapter 3, section 5).

    Attributes
    ----------
    W : ndarray of shape (n, n)
        Final orthogonal iterate; its rows estimate the columns of ``A`` up to sign and order, so pass
        ``W.T`` to :func:`match_columns`.
    iterations : int
        Iterations made.
    converged : bool
        Whether :math:`\|W_{t+1} - W_t\|_F \le` ``tol`` was met.
    objective : ndarray of shape (iterations + 1,)
        :math:`\|W_t \tilde Y\|_4^4 / 4` along the run (with :math:`\tilde Y` from :func:`normalize_data`
        only if the caller normalized; MSP itself is scale invariant).
    """

    W: np.ndarray
    iterations: int
    converged: bool
    objective: np.ndarray


def msp(Y, *, W0=None, rng=None, max_iter: int = 200, tol: float = 1e-10) -> MSPResult:
    r"""Matching, stretching and projection: ℓ4 maximization over :math:`O(n)` (Zhai et al. 2020).

    Parameters
    ----------
    Y : array_like of shape (n, p)
        Data from a complete (square, orthogonal) dictionary.
    W0 : array_like of shape (n, n), optional
        Orthogonal starting point; default a Haar-random one from ``rng``.
    rng : None, int or numpy.random.Generator
    max_iter : int, default 200
    tol : float, default 1e-10
        Stop when :math:`\|W_{t+1} - W_t\|_F \le` ``tol``.

    Returns
    -------
    MSPResult

    Notes
    -----
    The iteration

    .. math:: W \leftarrow P_{O(n)}\bigl[(W Y)^{\circ 3}\, Y^\top\bigr]

    is the power iteration of :math:`\max_{W \in O(n)} \|W Y\|_4^4` (projected gradient ascent with an
    infinite step): one step costs two ``n × n × p`` products and an ``n × n`` SVD. The rows of the
    limit estimate the columns of the dictionary. Chapter 3 compares it with recovering columns one at
    a time on the sphere.
    """
    Y = as_float_array(Y, "Y", ndim=2)
    n = Y.shape[0]
    check_positive(tol, "tol", allow_zero=True)
    max_iter = _num_samples(max_iter, "max_iter")
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
