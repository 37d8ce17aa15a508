"""Tests of landscape_lib.census: the exact critical points of A = I_4, certification, the start families,
and the stored census of chapter 2 (book/data/census/) recomputed in part."""

import json
from collections import Counter
from math import comb
from pathlib import Path

import numpy as np
import pytest

from landscape_lib import census, generators
from landscape_lib.critical import CriticalType, classify_eigenvalues
from landscape_lib.objectives import TensorObjective

DATA = Path(__file__).resolve().parents[2] / "book" / "data" / "census"


def _identity_census():
    starts = census.census_starts(np.eye(4), n_random=1000, n_pairs=100, n_triples=100, seed=0)
    return census.run_census(np.eye(4), starts)


def test_census_finds_the_critical_points_of_I4_with_their_eigenvalues():
    c = _identity_census()
    first = c.first()
    counts = Counter(t for t in c.types[first])
    # q and -q are one row: 8 minimizers, 56 saddles, 16 maximizers
    assert {t: 2 * k for t, k in counts.items()} == {CriticalType.MINIMIZER: 8, CriticalType.STRICT_SADDLE: 56,
                                                     CriticalType.MAXIMIZER: 16}
    f = TensorObjective(np.eye(4))
    q = c.points[first]
    support = np.sum(np.abs(q) > 1e-6, axis=1)
    lam = np.linalg.eigvalsh(f.tangent_hessian(q))
    for k in range(1, 5):
        rows = support == k
        assert 2 * rows.sum() == comb(4, k) * 2**k
        closed = np.sort(np.r_[np.full(k - 1, -2 / k), np.full(4 - k, 1 / k)])
        np.testing.assert_allclose(lam[rows], np.tile(closed, (rows.sum(), 1)), atol=1e-9)
        np.testing.assert_allclose(c.lambda_min[first][rows], closed[0], atol=1e-9)


def test_every_certified_point_is_critical_and_typed_by_its_hessian():
    A = generators.tight_frame(8, 20, low_coherence=True, rng=1)
    c = census.run_census(A, census.census_starts(A, n_random=40, n_pairs=40, n_triples=40, seed=1))
    f = TensorObjective(A)
    ok = c.certified
    assert ok.mean() > 0.5
    q = c.points[ok]
    assert np.all(np.linalg.norm(f.gradient(q), axis=1) <= 1e-8)
    lam = np.linalg.eigvalsh(f.tangent_hessian(q))
    assert list(classify_eigenvalues(lam, tol=1e-6)) == list(c.types[ok])
    np.testing.assert_allclose(c.lambda_min[ok], lam[:, 0], atol=1e-12)
    np.testing.assert_allclose(c.n_negative[ok], np.sum(lam < -1e-6, axis=1))
    np.testing.assert_allclose(c.fourth_moment, -4 * c.values, rtol=1e-12)
    np.testing.assert_allclose(c.correlation, np.max(np.abs(c.points @ A), axis=1), atol=1e-12)
    # the column family reaches the minimizers at the columns of this incoherent frame
    cols = ok & (c.family == "columns")
    assert all(t is CriticalType.MINIMIZER for t in c.types[cols])
    assert np.all(c.correlation[cols] > 0.95)


def test_starts_are_unit_prefix_stable_mixtures():
    A = generators.tight_frame(6, 12, rng=0)
    big = census.census_starts(A, n_random=20, n_pairs=20, n_triples=20, seed=3)
    small = census.census_starts(A, n_random=5, n_pairs=5, n_triples=5, seed=3)
    for fam in census.FAMILIES:
        np.testing.assert_allclose(np.linalg.norm(big[fam], axis=1), 1.0, atol=1e-12)
        np.testing.assert_array_equal(small[fam], big[fam][:small[fam].shape[0]])
    # a pair start is (a_i ± a_j)/||.||: it lies in the span of two columns
    coef = np.linalg.lstsq(A, big["pairs"].T, rcond=None)[0]  # minimum-norm, not sparse: check via residual
    assert coef.shape == (12, 20)
    assert big["columns"].shape == (12, 6)


def test_region_summary_counts_violations():
    c = _identity_census()
    s = census.region_summary(c, threshold=0.0, near=0.9, margin=1e-3)
    assert s["points"] == 40 and s["violations"] == 0 and s["minimizers_near"] == 4
    assert s["near"] == pytest.approx(4 / 40) and s["negative"] == pytest.approx(36 / 40)
    # the maximizers (1/4 of ||q||_4^4... = 1/4) are excluded by a threshold above their fourth moment
    assert census.region_summary(c, threshold=0.3)["points"] == 4 + 24 // 2 + 32 // 2


def test_validation():
    with pytest.raises(ValueError, match="seed"):
        census.census_starts(np.eye(3), n_random=1, n_pairs=1, n_triples=1, seed=-1)
    with pytest.raises(ValueError, match="families"):
        census.run_census(np.eye(3), {"corners": np.eye(3)})
    with pytest.raises(ValueError, match="family"):
        census.region_summary(_identity_census(), threshold=0.1, family="corners")


@pytest.mark.skipif(not (DATA / "census.npz").exists(), reason="stored census not generated")
def test_stored_census_first_cell_recomputes():
    """The first (n, kappa) cell of book/data/census: the cached frame regenerates from its seed, and the first
    starts of every family give the stored outcomes."""
    meta = json.loads((DATA / "census.json").read_text())
    cell = meta["cells"][0]
    n, m, key, seed = cell["n"], cell["m"], cell["key"], meta["seed"]
    data = np.load(DATA / "census.npz")
    A = generators.tight_frame(n, m, low_coherence=True, rng=np.random.default_rng([seed, n, m]))
    np.testing.assert_allclose(A, data[f"{key}/A"], atol=1e-8)
    full = census.census_starts(data[f"{key}/A"], n_random=meta["starts"], n_pairs=meta["starts"],
                                n_triples=meta["starts"], seed=seed)
    k = 6
    small = {fam: full[fam][:k] for fam in census.FAMILIES}
    c = census.run_census(data[f"{key}/A"], small)
    family = data[f"{key}/family"]
    rows = np.concatenate([np.flatnonzero(family == i)[:k] for i in range(len(census.FAMILIES))])
    # Newton from a random start near a basin boundary can end at another critical point when the last bits
    # change (a smaller batch blocks its matrix products differently): the column starts must agree exactly,
    # the others start by start for most of them, and every recomputed point must be certified like the stored.
    same = np.ones(rows.size, dtype=bool)
    for field in ("values", "fourth_moment", "correlation", "lambda_min", "lambda_max"):
        same &= np.abs(getattr(c, field) - data[f"{key}/{field}"][rows]) <= 1e-8
    same &= c.certified == data[f"{key}/certified"][rows]
    same &= c.n_negative == data[f"{key}/n_negative"][rows]
    assert same[c.family == "columns"].all()
    assert same.mean() >= 0.8
