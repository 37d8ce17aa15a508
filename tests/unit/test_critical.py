"""Tests of landscape_lib.critical: the second-order classification of critical points from Hessian
eigenvalues (chapters 1, 2 and 4) and the merging of solver limits into distinct points (chapters 1–3).

The classification rule, with λ_1 ≤ … ≤ λ_d: minimizer if λ_1 > tol, maximizer if λ_d < -tol, strict saddle
if λ_1 < -tol otherwise, degenerate otherwise. The tests pin the rule on each side of the tolerance, its
batching over leading axes, and the errors for inputs it cannot classify.
"""

from __future__ import annotations

import numpy as np
import pytest

from landscape_lib.critical import CriticalType, classify_eigenvalues, deduplicate

MIN, SADDLE, MAX, DEG = (CriticalType.MINIMIZER, CriticalType.STRICT_SADDLE, CriticalType.MAXIMIZER,
                         CriticalType.DEGENERATE)


def _one(eigenvalues, **kw):
    """Classify a single point (one row of eigenvalues)."""
    out = classify_eigenvalues([eigenvalues], **kw)
    assert out.shape == (1,)
    return out[0]


# ---------------------------------------------------------------------------------------------------
# CriticalType
# ---------------------------------------------------------------------------------------------------

def test_critical_type_values_are_the_book_labels():
    # The figures and tables use the values as legend names and column entries.
    assert [t.value for t in CriticalType] == ["minimizer", "strict saddle", "maximizer", "degenerate"]
    assert CriticalType("strict saddle") is SADDLE
    assert SADDLE == "strict saddle"  # a str Enum: compares equal to its label


# ---------------------------------------------------------------------------------------------------
# classify_eigenvalues: one type per row
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("eigenvalues", "expected"), [
    ([2.0, 0.5, 1.0], MIN),              # all positive, any order
    ([1e-3], MIN),                       # d = 1
    ([-2.0, -0.5, -1.0], MAX),           # all negative
    ([-1.0, 3.0], SADDLE),               # one of each sign
    ([3.0, -1.0, 2.0], SADDLE),          # unsorted input: the smallest is what counts
    ([-1.0, 0.0], SADDLE),               # λ_min < 0 = λ_max: negative curvature makes it strict
    ([-1.0, 0.0, 2.0], SADDLE),
    ([0.0, 1.0], DEG),                   # zero eigenvalue and otherwise positive: undecided (e.g. x² + y⁴)
    ([0.0, 0.0], DEG),                   # monkey saddle x³ − 3xy² at the origin
    ([0.0], DEG),
])
def test_each_type_from_one_row(eigenvalues, expected):
    got = _one(eigenvalues)
    assert got is expected
    assert isinstance(got, CriticalType)


def test_degenerate_zero_with_negative_rest_is_a_strict_saddle_not_a_maximizer():
    # λ = (-2, 0): λ_d = 0 is not < -tol, so not a maximizer; λ_1 < -tol, so a strict saddle by the rule
    # (negative curvature exists). Only all-positive-or-zero rows with a zero are degenerate.
    assert _one([-2.0, 0.0]) is SADDLE
    assert _one([0.0, 2.0]) is DEG


@pytest.mark.parametrize("tol", [1e-8, 1e-3, 0.5])
def test_tolerance_boundary_on_both_sides(tol):
    just_in, just_out = tol, tol * (1 + 1e-6)
    # smallest eigenvalue near +tol: |λ| <= tol counts as zero, just above is positive
    assert _one([just_in, 1.0], tol=tol) is DEG
    assert _one([just_out, 1.0], tol=tol) is MIN
    # smallest eigenvalue near -tol: -tol counts as zero, just below is negative curvature
    assert _one([-just_in, 1.0], tol=tol) is DEG
    assert _one([-just_out, 1.0], tol=tol) is SADDLE
    # largest eigenvalue near -tol: a maximizer only when every eigenvalue is below -tol
    assert _one([-1.0, -just_out], tol=tol) is MAX
    assert _one([-1.0, -just_in], tol=tol) is SADDLE


def test_default_tolerance_is_1e_8():
    assert _one([1e-8, 1.0]) is DEG
    assert _one([2e-8, 1.0]) is MIN
    assert _one([-2e-8, 1.0]) is SADDLE


def test_zero_tolerance_only_exact_zeros_are_degenerate():
    assert _one([0.0, 1.0], tol=0) is DEG
    assert _one([1e-300, 1.0], tol=0) is MIN
    assert _one([-1e-300, 1.0], tol=0) is SADDLE


def test_larger_tolerance_turns_small_curvature_degenerate():
    lam = [[1e-4, 1.0], [-1e-4, 1.0], [-1.0, -1e-4]]
    assert list(classify_eigenvalues(lam)) == [MIN, SADDLE, MAX]
    assert list(classify_eigenvalues(lam, tol=1e-3)) == [DEG, DEG, SADDLE]


# ---------------------------------------------------------------------------------------------------
# classify_eigenvalues: batching and output
# ---------------------------------------------------------------------------------------------------

def test_batched_over_leading_axes():
    rows = {MIN: [1.0, 2.0, 3.0], MAX: [-1.0, -2.0, -3.0], SADDLE: [-1.0, 2.0, 3.0], DEG: [0.0, 2.0, 3.0]}
    kinds = [MIN, SADDLE, DEG, MAX, MAX, MIN]
    lam = np.array([rows[k] for k in kinds]).reshape(2, 3, 3)   # (2, 3) points with d = 3
    out = classify_eigenvalues(lam)
    assert out.shape == (2, 3)
    assert out.dtype == object
    assert out.ravel().tolist() == kinds
    assert all(isinstance(t, CriticalType) for t in out.ravel())  # Enum members, not truncated strings
    # each point is classified on its own: agrees with one call per row
    for idx in np.ndindex(2, 3):
        assert out[idx] is _one(lam[idx])


def test_single_row_gives_a_zero_dimensional_array():
    out = classify_eigenvalues([-1.0, 2.0])
    assert out.shape == ()
    assert out[()] is SADDLE


def test_input_is_not_modified_and_integers_are_accepted():
    lam = np.array([[3, -1, 2], [1, 1, 1]])
    before = lam.copy()
    assert list(classify_eigenvalues(lam)) == [SADDLE, MIN]
    np.testing.assert_array_equal(lam, before)


# ---------------------------------------------------------------------------------------------------
# classify_eigenvalues: bad input
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("eigenvalues", "match"), [
    (1.0, "at least 1 dimension"),                     # a scalar: no eigenvalue axis
    ([], "must not be empty"),
    (np.zeros((3, 0)), "must not be empty"),           # points without eigenvalues
    ([[1.0, np.nan]], "finite"),
    ([[1.0, np.inf]], "finite"),
    ([[1.0, 2.0], [3.0]], "real numeric array"),       # ragged rows
    ("abc", "real numeric array"),
    ([1.0 + 1j, 2.0], "real numeric array"),           # complex eigenvalues (non-symmetric Hessian)
])
def test_bad_eigenvalues_raise_clear_errors(eigenvalues, match):
    with pytest.raises(ValueError, match=match) as info:
        classify_eigenvalues(eigenvalues)
    assert "eigenvalues" in str(info.value)


@pytest.mark.parametrize(("tol", "match"), [(-1e-8, ">= 0"), (np.nan, "finite"), (None, "finite"),
                                             (True, "finite"), ("1e-8", "finite")])
def test_bad_tolerance_raises(tol, match):
    with pytest.raises(ValueError, match=match) as info:
        classify_eigenvalues([1.0, 2.0], tol=tol)
    assert "tol" in str(info.value)


# ---------------------------------------------------------------------------------------------------
# deduplicate
# ---------------------------------------------------------------------------------------------------

def test_deduplicate_merges_within_tolerance_and_keeps_first_met_order():
    pts = np.array([[1.0, 0.0], [0.0, 1.0], [1.0 + 1e-8, 0.0], [5.0, 5.0], [0.0, 1.0 - 1e-8], [1.0, 1e-8]])
    unique, index = deduplicate(pts, tol=1e-6)
    # representatives in the order first met, each the first point of its group (not an average)
    np.testing.assert_array_equal(unique, pts[[0, 1, 3]])
    np.testing.assert_array_equal(index, [0, 1, 0, 2, 1, 0])
    assert index.shape == (6,) and np.issubdtype(index.dtype, np.integer)
    # every point lies within tol of its representative
    assert np.all(np.linalg.norm(pts - unique[index], axis=1) <= 1e-6)


def test_deduplicate_order_follows_input_order():
    pts = np.array([[3.0, 0.0], [1.0, 0.0], [2.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
    unique, index = deduplicate(pts)
    np.testing.assert_array_equal(unique[:, 0], [3.0, 1.0, 2.0])   # not sorted
    np.testing.assert_array_equal(index, [0, 1, 2, 1, 0])


def test_deduplicate_tolerance_boundary_is_inclusive():
    pts = np.array([[0.0, 0.0], [0.5, 0.0]])            # distance exactly 0.5 (exact in binary)
    unique, index = deduplicate(pts, tol=0.5)
    assert unique.shape == (1, 2) and index.tolist() == [0, 0]
    unique, index = deduplicate(pts, tol=0.5 * (1 - 1e-12))
    assert unique.shape == (2, 2) and index.tolist() == [0, 1]


def test_deduplicate_tolerance_decides_the_number_of_groups():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    labels = rng.integers(0, 3, size=40)
    labels[:3] = [0, 1, 2]                                # every group present, met in this order
    pts = centres[labels] + 1e-7 * rng.standard_normal((40, 3))
    unique, index = deduplicate(pts, tol=1e-5)
    assert unique.shape == (3, 3)
    np.testing.assert_array_equal(index, labels)
    np.testing.assert_allclose(unique, centres, atol=1e-6)
    # a tolerance below the noise keeps (almost) every point apart; one above the spacing merges all
    assert deduplicate(pts, tol=1e-12)[0].shape[0] == 40
    assert deduplicate(pts, tol=2.0)[0].shape[0] == 1


def test_deduplicate_single_point_and_input_not_modified():
    pts = np.array([[0.6, -0.8]])
    before = pts.copy()
    unique, index = deduplicate(pts, antipodal=True)
    np.testing.assert_allclose(unique, [[-0.6, 0.8]])    # sign-normalized copy
    assert index.tolist() == [0]
    np.testing.assert_array_equal(pts, before)


def test_antipodal_pairs_merged_only_with_antipodal():
    q = np.array([0.6, 0.0, -0.8])
    r = np.array([0.0, 1.0, 0.0])
    pts = np.array([q, -q, r, -r + 1e-9, q + 1e-9])
    unique, index = deduplicate(pts, tol=1e-6, antipodal=True)
    assert unique.shape == (2, 3)
    np.testing.assert_array_equal(index, [0, 0, 1, 1, 0])
    unique, index = deduplicate(pts, tol=1e-6)
    assert unique.shape == (4, 3)
    np.testing.assert_array_equal(index, [0, 1, 2, 3, 0])
    np.testing.assert_array_equal(unique, pts[:4])        # untouched signs without antipodal


def test_antipodal_canonical_sign_makes_largest_coordinate_positive():
    pts = np.array([[0.6, 0.0, -0.8],     # largest magnitude is the 3rd, negative: flipped
                    [-0.6, 0.0, 0.8],     # its antipode: same representative
                    [0.0, -1.0, 0.0],     # flipped
                    [0.3, -0.3, 0.0]])    # a tie of magnitudes: the first one decides, already positive
    unique, index = deduplicate(pts, antipodal=True)
    np.testing.assert_allclose(unique, [[-0.6, 0.0, 0.8], [0.0, 1.0, 0.0], [0.3, -0.3, 0.0]])
    np.testing.assert_array_equal(index, [0, 0, 1, 2])
    k = np.argmax(np.abs(unique), axis=1)
    assert np.all(unique[np.arange(3), k] > 0)
    # the tie case from the other sign: the first coordinate becomes positive
    np.testing.assert_allclose(deduplicate([[-0.3, 0.3, 0.0]], antipodal=True)[0], [[0.3, -0.3, 0.0]])


def test_antipodal_merges_across_a_near_tie_of_the_canonical_sign():
    # |x_1| and |x_2| differ by 2e-9, beyond the 1e-9 tie margin, so the two antipodes get opposite
    # canonical signs; the merge still identifies them through min(|x - y|, |x + y|).
    x = np.array([0.5, -0.5 - 2e-9])
    y = -np.array([0.5 + 2e-9, -0.5])
    unique, index = deduplicate(np.array([x, y]), tol=1e-6, antipodal=True)
    assert unique.shape == (1, 2)
    assert index.tolist() == [0, 0]
    np.testing.assert_allclose(unique[0], -x)               # x with its largest coordinate made positive


def test_deduplicate_empty_input_raises():
    # The callers (euclidean, sphere_critical, dictionary) handle "nothing converged" themselves.
    with pytest.raises(ValueError, match="must not be empty"):
        deduplicate(np.empty((0, 3)))
    with pytest.raises(ValueError, match="must not be empty"):
        deduplicate(np.empty((0, 3)), antipodal=True)


@pytest.mark.parametrize(("points", "kw", "match"), [
    ([1.0, 2.0, 3.0], {}, "points must have 2 dimension"),           # one point needs shape (1, d)
    (np.zeros((2, 2, 2)), {}, "points must have 2 dimension"),
    ([], {}, "points must have 2 dimension"),
    (np.zeros((3, 0)), {}, "must not be empty"),
    ([[1.0, np.nan]], {}, "points must be finite"),
    ([[1.0, 2.0]], {"tol": 0}, "tol must be > 0"),
    ([[1.0, 2.0]], {"tol": -1e-6}, "tol must be > 0"),
    ([[1.0, 2.0]], {"tol": np.inf}, "tol must be a finite"),
])
def test_deduplicate_bad_input_raises(points, kw, match):
    with pytest.raises(ValueError, match=match):
        deduplicate(points, **kw)


# ------------------------------------------------------------------ the one scalar checker (_validation)

@pytest.mark.parametrize(("value", "kwargs", "message"), [
    (True, dict(integer=True), "m must be a finite integer; got True"),
    (np.bool_(True), {}, "m must be a finite number"),
    (2.5, dict(integer=True), "m must be a finite integer; got 2.5 of type float"),
    ("3", {}, "m must be a finite number; got '3' of type str"),
    (np.nan, {}, "m must be a finite number; got nan"),
    (0, dict(integer=True, low=1), "m must be >= 1; got 0"),
    (1.0, dict(high=1.0, high_inclusive=False), "m must be < 1.0; got 1.0"),
    (0.0, dict(low=0.0, high=1.0, low_inclusive=False, high_inclusive=False),
     r"m must lie in the open interval \(0.0, 1.0\); got 0.0"),
    (-1, dict(integer=True, low=0, high=5), "m must be >= 0 and <= 5; got -1"),
])
def test_check_scalar_names_what_was_expected(value, kwargs, message):
    from landscape_lib._validation import check_scalar

    with pytest.raises(ValueError, match=message):
        check_scalar(value, "m", **kwargs)


def test_check_scalar_accepts_numpy_scalars_and_returns_python_ones():
    from landscape_lib._validation import check_scalar

    out = check_scalar(np.int64(7), "m", integer=True, low=1)
    assert out == 7 and type(out) is int
    out = check_scalar(np.float32(0.5), "t", low=0, high=1, low_inclusive=False, high_inclusive=False)
    assert out == 0.5 and type(out) is float
    assert check_scalar(1, "t", low=1) == 1.0  # inclusive bound


# ------------------------------------------------------------------ the one result type (CriticalPoints)

def test_collect_sorts_by_type_then_value_then_coordinates():
    from landscape_lib.critical import TYPE_ORDER, collect

    points = [[0.0, 1.0], [1.0, 0.0], [0.0, 0.0], [2.0, 0.0], [-1.0, 0.0]]
    values = [3.0, -1.0, 0.0, -2.0, -1.0]
    eig = [[-1.0, 2.0], [1.0, 2.0], [-2.0, -1.0], [2.0, 1.0], [1.0, 3.0]]  # saddle, min, max, min, min
    crit = collect(points, values, eig, eig_tol=1e-8, hits=[1, 2, 3, 4, 5], n_starts=20, n_converged=15)
    assert [TYPE_ORDER.index(t) for t in crit.types] == [0, 0, 0, 1, 2]
    np.testing.assert_array_equal(crit.values, [-2.0, -1.0, -1.0, 3.0, 0.0])
    np.testing.assert_array_equal(crit.points[1:3], [[-1.0, 0.0], [1.0, 0.0]])  # tie in value: by coordinate
    np.testing.assert_array_equal(crit.hits, [4, 5, 2, 1, 3])  # rows move together
    assert np.all(np.diff(crit.eigenvalues, axis=1) >= 0)  # stored ascending
    assert crit.counts() == {CriticalType.MINIMIZER: 3, CriticalType.STRICT_SADDLE: 1,
                             CriticalType.MAXIMIZER: 1, CriticalType.DEGENERATE: 0}
    assert crit.count(CriticalType.MINIMIZER) == 3 and (crit.n_starts, crit.n_converged) == (20, 15)


def test_antipodal_results_count_both_signs_unless_pairs():
    from landscape_lib.critical import collect

    crit = collect(np.eye(3), [-0.25] * 3, [[1.0, 1.0]] * 3, eig_tol=1e-8, antipodal=True)
    assert crit.count(CriticalType.MINIMIZER) == 6
    assert crit.count(CriticalType.MINIMIZER, pairs=True) == 3
    assert crit.of_type(CriticalType.MINIMIZER).all() and np.isnan(crit.grad_norms).all()


def test_collect_accepts_nothing_found_and_rejects_mismatched_rows():
    from landscape_lib.critical import collect

    empty = collect(np.empty((0, 2)), np.empty(0), np.empty((0, 2)), eig_tol=1e-6)
    assert empty.points.shape == (0, 2) and all(v == 0 for v in empty.counts().values())
    with pytest.raises(ValueError, match="one row per point"):
        collect([[0.0, 0.0]], [1.0, 2.0], [[1.0, 1.0]], eig_tol=1e-6)
    with pytest.raises(ValueError, match="eig_tol must be >= 0"):
        collect([[0.0, 0.0]], [1.0], [[1.0, 1.0]], eig_tol=-1.0)
