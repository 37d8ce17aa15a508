"""Tests of landscape_lib.recovery.rates_at_cells and format_rate: a recovery grid's rate read at given cells
``(n, m)`` and thresholds (NaN where the grid did not measure the cell), and one rate as the chapters print it
(chapter 2, section 5, sets the live random-frame grid beside the stored tight-frame cells with them)."""

import numpy as np
import pytest

from landscape_lib import recovery


def hand_grid():
    """A grid small enough to count by hand: n in {4, 8}, m in {4, 8, 16}; cells (4, 4), (4, 8), (8, 8)
    measured, (4, 16) and (8, 16) not (as if m were beyond max_m_factor n^2), (8, 4) not (m < n)."""
    corr = {(4, 4): np.array([0.95, 0.85, 0.5, 1.0]),
            (4, 8): np.array([0.7, 0.79]),
            (8, 8): np.array([0.9, 0.89])}
    base = {(4, 4): np.array([0.3, 0.81, 0.2, 0.1]),
            (4, 8): np.array([0.2, 0.2]),
            (8, 8): np.array([0.1, 0.95])}
    rate = np.full((3, 2), np.nan)
    rate[0, 0], rate[1, 0], rate[1, 1] = 0.5, 0.0, 0.5  # at threshold 0.9, rows m, columns n
    return recovery.RecoveryGrid(np.array([4, 8]), np.array([4, 8, 16]), rate, np.ones((3, 2)), corr, base,
                                 0.9)


def test_rates_at_cells_hand_computed():
    grid = hand_grid()
    # cells: measured, measured, measured, m not measured for this n, n not in the grid, m not in the grid
    rates = recovery.rates_at_cells(grid, [4, 8, 4, 4, 5, 8], [4, 8, 8, 16, 4, 5], [0.8, 0.9])
    assert rates.shape == (6, 2)
    expected = np.array([[3 / 4, 2 / 4],   # 0.95, 0.85, 1.0 >= 0.8; 0.95, 1.0 >= 0.9
                         [2 / 2, 1 / 2],   # 0.9, 0.89 >= 0.8; only 0.9 >= 0.9
                         [0 / 2, 0 / 2],   # 0.7, 0.79: measured, no success (0, not NaN)
                         [np.nan, np.nan],
                         [np.nan, np.nan],
                         [np.nan, np.nan]])
    np.testing.assert_array_equal(rates, expected)
    chance = recovery.rates_at_cells(grid, [4, 8], [4, 8], [0.8, 0.9], baseline=True)
    np.testing.assert_array_equal(chance, [[1 / 4, 0.0], [1 / 2, 1 / 2]])


def test_rates_at_cells_agrees_with_rate_at_on_a_measured_grid():
    grid = recovery.recovery_grid([4, 6], [4, 6, 9, 13], threshold=0.9, frames=1, starts=5, max_m_factor=0.5,
                                  rng=0)
    cells = [(int(n), int(m)) for n in grid.n_values for m in grid.m_values]
    n, m = zip(*cells, strict=True)
    for baseline in (False, True):
        rates = recovery.rates_at_cells(grid, n, m, [0.5, 0.9, 0.99], baseline=baseline)
        for t, thr in enumerate([0.5, 0.9, 0.99]):
            full = grid.rate_at(thr, baseline=baseline)
            expected = [full[list(grid.m_values).index(mc), list(grid.n_values).index(nc)] for nc, mc in cells]
            np.testing.assert_array_equal(rates[:, t], expected)
    # m = 13 > 0.5 * 4^2 is not measured for n = 4: NaN, like the grid's own table
    assert np.isnan(recovery.rates_at_cells(grid, [4], [13], [0.9])[0, 0])


def test_rates_at_cells_rejects_bad_input():
    grid = hand_grid()
    with pytest.raises(ValueError, match="threshold"):
        recovery.rates_at_cells(grid, [4], [4], [0.0])
    with pytest.raises(ValueError, match="threshold"):
        recovery.rates_at_cells(grid, [4], [4], [1.5])
    with pytest.raises(ValueError, match="same length"):
        recovery.rates_at_cells(grid, [4, 8], [4], [0.9])


def test_format_rate():
    assert recovery.format_rate(np.nan) == "   -"
    assert recovery.format_rate(0.254) == "0.25"
    assert recovery.format_rate(1) == "1.00"
    assert recovery.format_rate(np.float64(0.0)) == "0.00"
    assert all(len(recovery.format_rate(x)) == 4 for x in (np.nan, 0.0, 0.5, 1.0))
