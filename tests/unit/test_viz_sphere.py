"""Tests of the chapter-2 figure builders in landscape_lib.viz.sphere, at tiny sizes.

They check what a reader relies on: which traces a figure holds and how many points each draws, that the
colours are the objective on the mesh, that a slider has one frame and one step per landscape, and that the
figures stay small enough to embed in the static book.
"""

import numpy as np
import plotly.graph_objects as go
import pytest

from landscape_lib import generators, objectives, solvers, sphere, sphere_critical
from landscape_lib.critical import CriticalType
from landscape_lib.viz import sphere as viz

MESH = sphere.lat_lon_mesh(5, 9)


def _values(A, mesh):
    return objectives.TensorObjective(A).value(mesh)


@pytest.fixture(scope="module")
def crit_orth():
    return sphere_critical.find_critical_points(objectives.TensorObjective(np.eye(3)), n_starts=60, rng=0)


def _n_points(trace):
    return 0 if trace.x is None else len(trace.x)


def test_landscape_figure_traces_colours_and_critical_points(crit_orth):
    fig = viz.landscape_figure(np.eye(3), crit_orth, mesh=MESH, title="t")
    assert isinstance(fig, go.Figure)
    assert [type(t).__name__ for t in fig.data] == ["Surface", "Scatter3d"] + ["Scatter3d"] * 4
    expected = np.round(_values(np.eye(3), MESH), 4)
    np.testing.assert_allclose(np.asarray(fig.data[0].surfacecolor), expected)
    assert fig.data[0].cmin == pytest.approx(expected.min()) and fig.data[0].cmax == pytest.approx(expected.max())
    assert _n_points(fig.data[1]) == 2 * 3  # ±a_i
    # the four critical traces in the book's order, each drawing q and -q: 6 / 12 / 8 / 0 for A = I_3
    names = [t.name for t in fig.data[2:]]
    assert names == [t.value for t in (CriticalType.MINIMIZER, CriticalType.STRICT_SADDLE,
                                       CriticalType.MAXIMIZER, CriticalType.DEGENERATE)]
    assert [_n_points(t) for t in fig.data[2:]] == [6, 12, 8, 0]
    # markers are drawn just outside the unit sphere
    mins = np.c_[fig.data[2].x, fig.data[2].y, fig.data[2].z]
    np.testing.assert_allclose(np.linalg.norm(mins, axis=1), 1.04, atol=2e-3)


def test_landscape_figure_options_and_errors():
    fig = viz.landscape_figure(np.eye(3), None, mesh=MESH, show_columns=False)
    assert len(fig.data) == 1 + 4 and all(_n_points(t) == 0 for t in fig.data[1:])
    with pytest.raises(ValueError, match="n = 3"):
        viz.landscape_figure(np.eye(4), mesh=MESH)


def test_landscape_slider_frames_and_steps(crit_orth):
    A4 = generators.tight_frame(3, 4, low_coherence=True, rng=0)
    frames = [("m = 3", np.eye(3), crit_orth), ("m = 4", A4, None)]
    fig = viz.landscape_slider(frames, mesh=MESH, title="s")
    assert len(fig.frames) == 2
    assert [f.name for f in fig.frames] == ["m = 3", "m = 4"]
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == ["m = 3", "m = 4"]
    assert [list(s.args[0]) for s in steps] == [["m = 3"], ["m = 4"]]  # animate to the frame of that name
    for f in fig.frames:
        assert len(f.data) == 6 and list(f.traces) == list(range(6))
    # each frame carries its own colours and colour range
    v4 = np.round(_values(A4, MESH), 4)
    np.testing.assert_allclose(np.asarray(fig.frames[1].data[0].surfacecolor), v4)
    assert fig.frames[1].data[0].cmin == pytest.approx(v4.min())
    assert _n_points(fig.frames[1].data[1]) == 2 * 4
    assert [_n_points(t) for t in fig.frames[0].data[2:]] == [6, 12, 8, 0]
    # the first frame is also what is drawn before the slider moves
    np.testing.assert_allclose(np.asarray(fig.data[0].surfacecolor), np.asarray(fig.frames[0].data[0].surfacecolor))
    with pytest.raises(ValueError, match="at least one"):
        viz.landscape_slider([], mesh=MESH)


def test_landscape_slider_default_mesh_stays_small(crit_orth):
    frames = [(f"f{k}", np.eye(3), crit_orth) for k in range(3)]
    size = len(viz.landscape_slider(frames).to_json())
    assert size < 250_000, size  # three frames on the default mesh: a few tens of kB each


def test_trajectory_figure_one_line_per_start():
    A = generators.tight_frame(3, 4, low_coherence=True, rng=0)
    starts = sphere.random_points(3, 3, rng=0)
    f = objectives.TensorObjective(A)
    p = solvers.power_iteration(f, starts, max_iter=50, record=True)
    g = solvers.gradient_descent(f, starts, step=0.2, max_iter=50, record=True)
    fig = viz.trajectory_figure(A, {"power": p.path, "rgd": g.path}, mesh=MESH)
    lines = [t for t in fig.data if isinstance(t, go.Scatter3d) and t.mode == "lines+markers"]
    assert len(fig.data) == 2 + 2 * 3  # surface, columns, one line per start and solver
    assert len(lines) == 6
    assert [t.showlegend for t in lines] == [True, False, False] * 2
    assert {t.name for t in lines} == {"power", "rgd"}
    # each line starts at its (scaled) start point
    np.testing.assert_allclose([lines[0].x[0], lines[0].y[0], lines[0].z[0]], np.round(starts[0] * 1.02, 3))


def test_convergence_figure_drops_nan_after_stop():
    g = np.array([[1.0, 1.0], [0.1, 0.5], [np.nan, 0.01]])
    fig = viz.convergence_figure({"a": g, "b": g[:2]})
    assert len(fig.data) == 4
    assert [len(t.y) for t in fig.data] == [2, 3, 2, 2]
    assert fig.layout.yaxis.type == "log"


def test_phase_transition_heatmap_shape_and_lines():
    n, m = [4, 8], [4, 8, 16, 32]
    rate = np.array([[1.0, np.nan], [0.5, 1.0], [0.0, 0.75], [0.0, 0.25]])
    fig = viz.phase_transition_heatmap(n, m, rate)
    assert isinstance(fig.data[0], go.Heatmap)
    np.testing.assert_allclose(np.asarray(fig.data[0].z, dtype=float), rate)
    np.testing.assert_allclose(fig.data[0].y, np.log2(m))
    lines = {t.name: t for t in fig.data[1:]}
    assert set(lines) == {"m = n", "m = n²"}
    x = np.asarray(lines["m = n²"].x)
    np.testing.assert_allclose(lines["m = n²"].y, np.round(2 * np.log2(x), 3), atol=2e-3)
    with pytest.raises(ValueError, match="shape"):
        viz.phase_transition_heatmap(n, m, rate.T)


def test_recovery_histogram_traces_and_threshold():
    samples = {"a": np.linspace(0.5, 1, 11), "b": np.full(5, 0.95)}
    fig = viz.recovery_histogram(samples, threshold=0.9, baseline=np.full(7, 0.4))
    assert [t.name for t in fig.data] == ["random points (no solver)", "a", "b"]
    # step outlines over shared bins of width 0.01 (101 edges), the fraction of each sample per bin
    assert all(len(t.x) == len(t.y) == 101 and t.line.shape == "hv" for t in fig.data)
    assert [t.fill for t in fig.data] == ["tozeroy", None, None]           # only the grey baseline filled
    for t, n in zip(fig.data, (7, 11, 5), strict=True):
        assert sum(t.y[:-1]) == pytest.approx(1.0, abs=1e-3) and t.customdata[0] == n
    assert fig.data[2].y[95] == pytest.approx(1.0)                        # all of "b" in [0.95, 0.96)
    assert fig.data[0].y[40] == pytest.approx(1.0)                        # the baseline at 0.4
    assert len(fig.layout.shapes) == 1 and fig.layout.shapes[0].x0 == 0.9
    assert len(viz.recovery_histogram(samples, threshold=0.9).data) == 2


def test_coverage_figure_measured_and_coupon_curves():
    m, found = 5, np.array([1, 2, 2, 3, 4, 5, 5, 5])
    fig = viz.coverage_figure({"x": found}, m, {"x": 0.5})
    assert [t.name for t in fig.data] == ["x: measured", "x: coupon collector"]
    np.testing.assert_array_equal(fig.data[0].y, found)
    t = np.arange(1, found.size + 1)
    np.testing.assert_allclose(fig.data[1].y, np.round(m * (1 - (1 - 0.5 / m) ** t), 2))
    assert fig.data[1].y[0] == pytest.approx(0.5)  # one start finds p columns on average


def test_correlation_histogram_counts_on_the_unit_interval():
    corr = np.array([0.31234, 0.5, 0.99, 1.0])
    fig = viz.correlation_histogram(corr, title="t")
    assert len(fig.data) == 1 and isinstance(fig.data[0], go.Histogram)
    np.testing.assert_allclose(fig.data[0].x, np.round(corr, 4))
    assert fig.data[0].histnorm is None  # counts of starts, not fractions
    assert (fig.data[0].xbins.start, fig.data[0].xbins.size) == (0, 0.01)
    assert tuple(fig.layout.xaxis.range) == (0, 1.01) and fig.layout.title.text == "t"


def test_sphere_is_opaque_and_markers_use_plain_glyphs():
    """A translucent WebGL sphere shows its far side as a seam; plotly's 3-D "x" marker is an emoji."""
    import numpy as np

    from landscape_lib import critical, objectives, sphere_critical
    from landscape_lib.viz import sphere as viz_sphere

    A = np.eye(3)
    crit = sphere_critical.find_critical_points(objectives.TensorObjective(A), n_starts=60, rng=0)
    fig = viz_sphere.landscape_figure(A, crit)
    assert all(t.opacity in (None, 1) for t in fig.data if t.type == "surface")
    markers = [t for t in fig.data if t.type == "scatter3d"]
    assert markers and all(t.marker.symbol != "x" for t in markers)
    saddles = next(t for t in markers if t.name == critical.CriticalType.STRICT_SADDLE.value)
    radius = np.linalg.norm(np.column_stack([saddles.x, saddles.y, saddles.z]), axis=1)
    assert np.all(radius > 1.0), "lifted off the unit sphere"
