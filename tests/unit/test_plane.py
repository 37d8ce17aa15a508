"""Tests of landscape_lib.viz.plane: the figure builders of chapter 1 return plotly figures with the
expected traces, dropdowns, sliders and visibility states (small sizes throughout)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from landscape_lib import euclidean, toy2d
from landscape_lib.critical import CriticalType
from landscape_lib.viz import plane
from landscape_lib.viz.style import CRITICAL_COLORS, CRITICAL_SYMBOLS


def _found(toy, n=60, seed=0):
    (lo, hi), _ = toy.domain
    starts = np.random.default_rng(seed).uniform(lo, hi, size=(n, 2))
    return euclidean.find_critical_points(toy, starts)


def _marker_traces(fig):
    return {tr.name: tr for tr in fig.data if tr.name in {t.value for t in CriticalType}}


def test_critical_point_traces_one_per_type_with_style():
    toy = toy2d.four_wells()
    traces = plane.critical_point_traces(toy.critical_points, toy.critical_types)
    names = [tr.name for tr in traces]
    assert names == ["minimizer", "strict saddle", "maximizer"]  # no degenerate point here
    counts = {tr.name: len(tr.x) for tr in traces}
    assert counts == {"minimizer": 4, "strict saddle": 4, "maximizer": 1}
    for tr in traces:
        kind = CriticalType(tr.name)
        assert isinstance(tr, go.Scatter)
        assert tr.marker.color == CRITICAL_COLORS[kind] and tr.marker.symbol == CRITICAL_SYMBOLS[kind]
    traces3d = plane.critical_point_traces(toy.critical_points, toy.critical_types,
                                           values=toy.value(toy.critical_points))
    assert all(isinstance(tr, go.Scatter3d) for tr in traces3d)
    mins = traces3d[0]
    sel = [t == CriticalType.MINIMIZER for t in toy.critical_types]
    np.testing.assert_allclose(sorted(mins.z), sorted(toy.value(toy.critical_points[sel])), atol=1e-4)
    with pytest.raises(ValueError, match="one entry per point"):
        plane.critical_point_traces(toy.critical_points, toy.critical_types[:-1])


def test_surface_and_contour_figures():
    toy = toy2d.monkey_saddle()
    found = _found(toy)
    fig = plane.surface_figure(toy, found, resolution=11)
    assert isinstance(fig, go.Figure)
    assert isinstance(fig.data[0], go.Surface) and np.shape(fig.data[0].z) == (11, 11)
    assert list(_marker_traces(fig)) == ["degenerate"]
    fig = plane.contour_figure(toy, None, resolution=15, trajectories=np.zeros((4, 3, 2)) + [0.5, 0.0])
    assert isinstance(fig.data[0], go.Contour) and np.shape(fig.data[0].z) == (15, 15)
    gd = [tr for tr in fig.data if tr.name == "gradient descent"]
    assert len(gd) == 3 and sum(bool(tr.showlegend) for tr in gd) == 1
    assert fig.layout.yaxis.scaleanchor == "x"
    assert list(fig.layout.xaxis.range) == list(toy.domain[0])


def test_taxonomy_figure_dropdown_switches_examples():
    toys = [toy2d.strict_saddle(), toy2d.rank_one_factorization()]
    fig = plane.taxonomy_figure(toys, [_found(t) for t in toys], resolution=9)
    surfaces = [tr for tr in fig.data if isinstance(tr, go.Surface)]
    assert len(surfaces) == 2
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["strict saddle", "rank one factorization"]
    # 1 surface + 1 marker trace for the saddle; 1 surface + 3 marker traces for rank-one factorization.
    assert len(fig.data) == 2 + 4
    for i, b in enumerate(buttons):
        vis = b.args[0]["visible"]
        assert len(vis) == len(fig.data)
        shown = [tr for tr, v in zip(fig.data, vis, strict=True) if v]
        assert sum(isinstance(tr, go.Surface) for tr in shown) == 1
        assert shown[0].name == toys[i].name
    # The initial state is the first button's.
    assert [bool(tr.visible) for tr in fig.data] == buttons[0].args[0]["visible"]
    with pytest.raises(ValueError, match="one entry per example"):
        plane.taxonomy_figure(toys, [None])


def test_escape_figure_has_measured_points_and_fitted_laws():
    strict_toy, flat_toy = toy2d.strict_saddle(), toy2d.quartic_saddle()
    deltas = np.logspace(-4, -1, 4)
    res_s = euclidean.escape_iterations(strict_toy, [0, 0], [1, 1], deltas, step=0.1, radius=1.0)
    res_f = euclidean.escape_iterations(flat_toy, [0, 0], [1, 1], np.logspace(-1.5, -1, 4), step=0.1,
                                        radius=1.0)
    law_s = euclidean.fit_escape_law(res_s.deltas, res_s.iterations, "log")
    law_f = euclidean.fit_escape_law(res_f.deltas, res_f.iterations, "power")
    fig = plane.escape_figure([("s", res_s, law_s)], [("f", res_f, law_f)])
    assert len(fig.data) == 4
    measured = [tr for tr in fig.data if tr.mode == "markers"]
    fitted = [tr for tr in fig.data if tr.mode == "lines"]
    assert len(measured) == 2 and len(fitted) == 2
    np.testing.assert_array_equal(measured[0].y, res_s.iterations)
    # the laws as written, powers as superscripts: (1/δ)^1.99 -> (1/δ)<sup>1.99</sup>
    assert law_s.describe() in fitted[0].name
    assert law_f.describe().replace("^", "<sup>") + "</sup>" in fitted[1].name
    # Semilog on the left (linear y), log-log on the right.
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis2.type == "log"
    assert fig.layout.yaxis.type in (None, "linear") and fig.layout.yaxis2.type == "log"


def test_escape_slider_figure_one_step_per_delta():
    toy = toy2d.strict_saddle()
    deltas = np.array([1e-1, 1e-2, 1e-3])
    starts = np.outer(deltas, [1.0, 1.0]) / np.sqrt(2)
    paths = euclidean.gradient_descent(toy, starts, step=0.1, n_iter=30, record=True)
    esc = euclidean.escape_iterations(toy, [0, 0], [1, 1], deltas, step=0.1, radius=0.5)
    fig = plane.escape_slider_figure(toy, paths.trajectory, deltas, esc.iterations, radius=0.5,
                                     center=[0, 0])
    steps = fig.layout.sliders[0].steps
    assert len(steps) == 3
    iterates = [tr for tr in fig.data if tr.name == "GD iterates"]
    assert len(iterates) == 3
    circle = [tr for tr in fig.data if tr.name == "escape radius"][0]
    np.testing.assert_allclose(np.hypot(circle.x, circle.y), 0.5, atol=1e-3)
    for j, st in enumerate(steps):
        vis = st.args[0]["visible"]
        assert len(vis) == len(fig.data)
        shown = [tr for tr, v in zip(fig.data, vis, strict=True) if v and tr.name == "GD iterates"]
        assert shown == [iterates[j]]
        assert f"{esc.iterations[j]} iterations" in st.args[1]["title.text"]
    with pytest.raises(ValueError, match="one trajectory and one count per delta"):
        plane.escape_slider_figure(toy, paths.trajectory, deltas[:2], esc.iterations[:2])


def test_perturbed_gd_figure_paths_and_histogram():
    toy = toy2d.strict_saddle()
    res = euclidean.perturbed_gradient_descent(toy, [0.0, 0.0], step=0.1, n_iter=60, radius=1e-3,
                                               gradient_threshold=1e-3, wait=10, n_runs=5,
                                               escape_radius=0.5, rng=0)
    fig = plane.perturbed_gd_figure(toy, res, n_show=3)
    paths = [tr for tr in fig.data if tr.name == "perturbed GD"]
    assert len(paths) == 3
    hist = [tr for tr in fig.data if isinstance(tr, go.Histogram)]
    assert len(hist) == 1
    np.testing.assert_array_equal(np.sort(hist[0].x), np.sort(res.escape_iteration[res.escape_iteration >= 0]))
    assert all(not tr.showscale for tr in fig.data if isinstance(tr, go.Contour))


def test_basin_figure_names_global_share():
    toy = toy2d.four_wells()
    found = _found(toy, n=80)
    mins = found.points[[t == CriticalType.MINIMIZER for t in found.types]]
    basins = euclidean.basin_map(toy, mins, xlim=toy.domain[0], ylim=toy.domain[1], resolution=9,
                                 n_iter=1500)
    fig = plane.basin_figure(toy, basins, critical=found)
    heat = fig.data[0]
    assert isinstance(heat, go.Heatmap) and np.shape(heat.z) == (9, 9)
    named = [tr.name for tr in fig.data if tr.name and "min, f =" in tr.name]
    assert len(named) == 4
    assert sum(n.startswith("global") for n in named) == 1
    glob = [n for n in named if n.startswith("global")][0]
    assert f"{100 * basins.global_fraction:.1f}%" in glob
    # Minimizers appear once (as basin markers), the other critical points by type.
    assert set(_marker_traces(fig)) == {"strict saddle", "maximizer"}


def test_3d_figures_are_opaque_and_use_glyphs_every_browser_has():
    """Translucent WebGL surfaces show a seam; plotly's 3-D "x" marker is an emoji (a box without an
    emoji font). Markers sit slightly above the opaque surface so that they stay visible."""
    toy = toy2d.four_wells()
    for fig in (plane.surface_figure(toy), plane.taxonomy_figure([toy2d.strict_saddle(), toy])):
        surfaces = [t for t in fig.data if t.type == "surface"]
        assert surfaces and all(t.opacity in (None, 1) for t in surfaces)
        markers = [t for t in fig.data if t.type == "scatter3d"]
        assert markers and all(t.marker.symbol != "x" for t in markers)
    fig = plane.surface_figure(toy)
    saddle = next(t for t in fig.data if t.type == "scatter3d" and t.name == "strict saddle")
    assert saddle.marker.symbol == "cross"
    pts = np.column_stack([saddle.x, saddle.y])
    assert np.all(np.asarray(saddle.z) > toy.value(pts))
