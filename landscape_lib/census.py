r"""A census of the critical points of the tensor objective in high dimension, from families of starts (chapter 2).

The overcomplete theorem of Qu et al. (ICLR 2020) speaks about low-coherence unit-norm tight frames and about
a *region* of the sphere where :math:`\|A^\top q\|_4^4` is large (a sublevel set of
:math:`f(q) = -\tfrac14\|A^\top q\|_4^4`): there every critical point is either near a target :math:`\pm a_i`
or has a direction of negative curvature. For ``n`` in the tens nobody can list every critical point, so the
census runs Riemannian Newton's method (:func:`landscape_lib.solvers.newton`, attracted by critical points of
every type) from *families* of starts and certifies each limit:

* ``"columns"``: the columns :math:`a_i` themselves (where the targets should be);
* ``"random"``: uniform random points;
* ``"pairs"``: symmetric mixtures :math:`(a_i \pm a_j)/\|a_i \pm a_j\|` of random pairs;
* ``"triples"``: :math:`(a_i \pm a_j \pm a_k)/\|\cdot\|` of random triples.

A limit is *certified* when its Riemannian gradient norm is at most ``tol`` (default :math:`10^{-8}`); its
type comes from the dense spectrum of its tangent Hessian :math:`B^\top\operatorname{Hess} f(q) B` (``n - 1``
eigenvalues). What a family reports describes the points that family reaches, not all critical points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_positive, check_scalar
from .critical import CriticalType, classify_eigenvalues, deduplicate
from .objectives import TensorObjective, as_matrix
from .solvers import newton
from .sphere import _inner, random_points

__all__ = ["FAMILIES", "census_starts", "Census", "run_census", "region_summary", "load_census"]

#: The start families, in the order every table lists them.
FAMILIES = ("columns", "random", "pairs", "triples")


def _mixtures(A: np.ndarray, count: int, k: int, gen: np.random.Generator) -> np.ndarray:
    m = A.shape[1]
    if m < k:
        return np.empty((0, A.shape[0]))
    # k distinct columns per start: argsort of uniform keys (one draw per row, so a prefix of the rows is the
    # draw with fewer rows)
    u = gen.random((count, m + k))
    idx = np.argsort(u[:, :m], axis=1)[:, :k]
    signs = np.where(u[:, m:] < 0.5, -1.0, 1.0)
    signs[:, 0] = 1.0
    x = np.einsum("nkc,kc->kn", A[:, idx], signs) if count else np.empty((0, A.shape[0]))
    return x / np.sqrt(_inner(x, x))[:, None]


def census_starts(A, *, n_random: int, n_pairs: int, n_triples: int, seed: int) -> dict:
    r"""The starts of each family (see the module notes).

    Each family draws from its own generator ``default_rng([seed, k])`` (``k`` its place in :data:`FAMILIES`),
    and row by row: the starts for fewer points are the first rows of those for more, so a small census is a
    prefix of a large one (the unit test of the stored census relies on this).

    Parameters
    ----------
    A : array_like of shape (n, m)
        Unit-norm columns.
    n_random, n_pairs, n_triples : int
        Starts of the random, pair and triple families (the column family has the ``m`` columns).
    seed : int

    Returns
    -------
    dict of str to ndarray of shape (N_family, n)
        Keyed by :data:`FAMILIES`, unit-norm rows.
    """
    A = as_matrix(A)
    n = A.shape[0]
    counts = [check_scalar(c, name, integer=True, low=0) for c, name in
              ((n_random, "n_random"), (n_pairs, "n_pairs"), (n_triples, "n_triples"))]
    seed = check_scalar(seed, "seed", integer=True, low=0)
    gens = [np.random.default_rng([seed, k]) for k in range(len(FAMILIES))]
    cols = A / np.linalg.norm(A, axis=0)
    return {
        "columns": cols.T.copy(),
        "random": random_points(n, (counts[0],), rng=gens[1]).reshape(counts[0], n),
        "pairs": _mixtures(cols, counts[1], 2, gens[2]),
        "triples": _mixtures(cols, counts[2], 3, gens[3]),
    }


@dataclass(frozen=True)
class Census:
    r"""Per-start outcome of :func:`run_census` (``N`` starts of all families together).

    Attributes
    ----------
    family : ndarray of shape (N,), dtype str
        The family of each start (:data:`FAMILIES`).
    points : ndarray of shape (N, n)
        Newton's limit of each start.
    grad_norms : ndarray of shape (N,)
        :math:`\|\operatorname{grad} f\|` at the limits.
    certified : ndarray of shape (N,), dtype bool
        ``grad_norms <= tol``.
    values : ndarray of shape (N,)
        :math:`f` at the limits.
    fourth_moment : ndarray of shape (N,)
        :math:`\|A^\top q\|_4^4 = -4f(q)`: the region of the theorem is where it is large.
    correlation : ndarray of shape (N,)
        :math:`\max_i |\langle a_i, q\rangle|`, the largest correlation with a column.
    lambda_min, lambda_max : ndarray of shape (N,)
        Smallest and largest tangent Hessian eigenvalue.
    n_negative : ndarray of shape (N,), dtype int
        Eigenvalues below ``-eig_tol`` (the index of a nondegenerate critical point).
    types : ndarray of shape (N,), dtype object
        :class:`landscape_lib.critical.CriticalType` from the spectrum (``eig_tol``).
    distinct : ndarray of shape (N,), dtype int
        Index of the distinct certified point (up to sign, distance ``1e-6``) each start reached, numbered in
        order of first appearance; ``-1`` if not certified.
    tol, eig_tol : float
    """

    family: np.ndarray
    points: np.ndarray
    grad_norms: np.ndarray
    certified: np.ndarray
    values: np.ndarray
    fourth_moment: np.ndarray
    correlation: np.ndarray
    lambda_min: np.ndarray
    lambda_max: np.ndarray
    n_negative: np.ndarray
    types: np.ndarray
    distinct: np.ndarray
    tol: float
    eig_tol: float

    def first(self) -> np.ndarray:
        """Mask of shape (N,): the first start to reach each distinct certified point (one row per point)."""
        out = np.zeros(self.distinct.shape, dtype=bool)
        ok = np.flatnonzero(self.distinct >= 0)
        _, where = np.unique(self.distinct[ok], return_index=True)
        out[ok[where]] = True
        return out


def run_census(A, starts: dict, *, tol: float = 1e-8, eig_tol: float = 1e-6, max_iter: int = 100) -> Census:
    r"""Newton's method from every start, then certification and the tangent Hessian spectrum of every limit.

    Parameters
    ----------
    A : array_like of shape (n, m)
        Unit-norm columns (chapter 2: a low-coherence unit-norm tight frame).
    starts : dict of str to array_like of shape (N_family, n)
        From :func:`census_starts`; all families run as one batch.
    tol : float, default 1e-8
        A limit is certified when :math:`\|\operatorname{grad} f(q)\|_2 \le` ``tol``.
    eig_tol : float, default 1e-6
        Eigenvalues with :math:`|\lambda| \le` ``eig_tol`` count as zero.
    max_iter : int, default 100
        Newton steps per start (step length at most 0.5).

    Returns
    -------
    Census
    """
    A = as_matrix(A)
    check_positive(tol, "tol")
    check_positive(eig_tol, "eig_tol", allow_zero=True)
    check_positive(max_iter, "max_iter", integer=True)
    if not isinstance(starts, dict) or set(starts) - set(FAMILIES):
        raise ValueError(f"starts must be a dict keyed by families among {FAMILIES}; got {starts!r:.80}")
    names = [k for k in FAMILIES if k in starts]
    blocks = [np.asarray(starts[k], dtype=np.float64).reshape(-1, A.shape[0]) for k in names]
    q0 = np.concatenate(blocks) if blocks else np.empty((0, A.shape[0]))
    family = (np.concatenate([np.full(b.shape[0], k) for k, b in zip(names, blocks, strict=True)])
              if blocks else np.empty(0, str))
    objective = TensorObjective(A)
    res = newton(objective, q0, tol=min(1e-10, tol), max_iter=max_iter)
    q = res.points
    gnorm = np.linalg.norm(objective.gradient(q), axis=1)
    lam = np.linalg.eigvalsh(objective.tangent_hessian(q))
    certified = gnorm <= tol
    distinct = np.full(q.shape[0], -1, dtype=np.intp)
    if certified.any():
        distinct[certified] = deduplicate(q[certified], tol=1e-6, antipodal=True)[1]
    z = q @ (A / np.linalg.norm(A, axis=0))
    return Census(
        family=family, points=q, grad_norms=gnorm, certified=certified, values=objective.value(q),
        fourth_moment=np.sum((q @ A) ** 4, axis=1), correlation=np.max(np.abs(z), axis=1), lambda_min=lam[:, 0],
        lambda_max=lam[:, -1], n_negative=np.sum(lam < -eig_tol, axis=1), types=classify_eigenvalues(lam, tol=eig_tol),
        distinct=distinct, tol=float(tol), eig_tol=float(eig_tol),
    )


def region_summary(census: Census, *, threshold: float, near: float = 0.9, margin: float = 1e-3,
                   family: str | None = None) -> dict:
    r"""What the theorem's claim looks like on the certified points of a region :math:`\|A^\top q\|_4^4 \ge`
    ``threshold``.

    Counts each distinct certified point once (at its first start; with ``family``, among the points reached
    by a start of that family).

    Parameters
    ----------
    census : Census
    threshold : float
        The level: the region is :math:`\{q : \|A^\top q\|_4^4 \ge` ``threshold`` :math:`\}`.
    near : float, default 0.9
        "Near a column": :math:`\max_i|\langle a_i, q\rangle| \ge` ``near``.
    margin : float, default 1e-3
        "Negative curvature": :math:`\lambda_{\min} < -` ``margin``.
    family : str, optional
        Restrict to the points reached from this family.

    Returns
    -------
    dict
        ``points`` (distinct certified points in the region), ``near`` and ``negative`` (fractions of them),
        ``minimizers`` and ``minimizers_near`` (counts), ``violations`` (points in the region neither near a
        column nor with :math:`\lambda_{\min} < -` margin: counterexamples to the target-set claim),
        ``smallest_curvature`` (the largest :math:`\lambda_{\min}` among the points not near a column: the
        margin actually observed; NaN if none).
    """
    threshold = check_scalar(threshold, "threshold", low=0.0)
    near = check_scalar(near, "near", low=0.0, high=1.0)
    margin = check_scalar(margin, "margin", low=0.0)
    mask = census.certified.copy()
    if family is not None:
        if family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}; got {family!r}")
        mask &= census.family == family
    # one row per distinct point among the selected starts
    sel = np.flatnonzero(mask)
    _, first = np.unique(census.distinct[sel], return_index=True)
    rows = sel[first]
    rows = rows[census.fourth_moment[rows] >= threshold]
    close = census.correlation[rows] >= near
    negative = census.lambda_min[rows] < -margin
    is_min = np.array([t is CriticalType.MINIMIZER for t in census.types[rows]], dtype=bool)
    far = ~close
    return {
        "points": int(rows.size),
        "near": float(np.mean(close)) if rows.size else float("nan"),
        "negative": float(np.mean(negative)) if rows.size else float("nan"),
        "minimizers": int(is_min.sum()),
        "minimizers_near": int((is_min & close).sum()),
        "violations": int(np.sum(far & ~negative)),
        "smallest_curvature": float(np.max(census.lambda_min[rows][far])) if far.any() else float("nan"),
    }


def load_census(directory) -> dict:
    r"""Read a census stored by ``scripts/make_census.py`` (chapter 2 reads ``book/data/census``).

    Parameters
    ----------
    directory : str or path-like
        Folder with ``census.json`` (command, seed, commit, per-cell metadata) and ``census.npz``.

    Returns
    -------
    dict
        ``meta`` (the JSON), and ``cells``: a list of ``(cell, A, Census)`` in the order of ``meta["cells"]``,
        ``A`` the cached frame of shape (n, m); the stored census has no points (``points`` of shape (N, 0))
        and its types come from the stored :math:`\lambda_{\min}, \lambda_{\max}` (which decide them).
    """
    import json
    from pathlib import Path

    folder = Path(directory)
    meta = json.loads((folder / "census.json").read_text())
    data = np.load(folder / "census.npz")
    cells = []
    for cell in meta["cells"]:
        key = cell["key"]
        lam = np.stack([data[f"{key}/lambda_min"], data[f"{key}/lambda_max"]], axis=1)
        c = Census(
            family=np.array(FAMILIES)[data[f"{key}/family"]], points=np.empty((lam.shape[0], 0)),
            grad_norms=data[f"{key}/grad_norms"], certified=data[f"{key}/certified"], values=data[f"{key}/values"],
            fourth_moment=data[f"{key}/fourth_moment"], correlation=data[f"{key}/correlation"],
            lambda_min=lam[:, 0], lambda_max=lam[:, 1], n_negative=data[f"{key}/n_negative"],
            types=classify_eigenvalues(lam, tol=meta["eig_tol"]), distinct=data[f"{key}/distinct"],
            tol=float(meta["tol"]), eig_tol=float(meta["eig_tol"]),
        )
        cells.append((cell, data[f"{key}/A"], c))
    return {"meta": meta, "cells": cells}
