"""Tests of the chapter-4 figure builders in landscape_lib.viz.collapse, on tiny UFMs built with the library.

Each test builds its input the way chapter 4 does (a path from random to collapsed features, UFM runs of a
few optimizers, a sweep across the threshold, a loss slice, snapshots of a GD run) and checks what a reader
relies on: which traces a figure holds and where, that the plotted numbers are the inputs (rounded to a few
significant digits to keep the book small), log axes where the builder promises them, the slider and frames
of the ETF animation, and the errors for inputs the builders validate.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import plotly.graph_objects as go
import pytest

from landscape_lib import collapse, etf, ufm
from landscape_lib.viz import collapse as viz
from landscape_lib.viz.style import LINE_COLORS

LAM = dict(lambda_W=5e-3, lambda_H=5e-3, lambda_b=1e-3)
K, N, D = 3, 4, 5
CHAPTER_SWEEP_NAMES = ("nc1", "nc2_classifier", "nc2_means", "nc3_ufm", "nc3_papyan", "nc4")
CHAPTER_CURVE_NAMES = ("loss_gap", "nc1", "nc2_classifier", "nc2_means", "nc3_ufm", "nc3_papyan", "nc4")


def _values(seq) -> np.ndarray:
    """A trace's x/y/z as floats, with plotly's gaps (None) as NaN."""
    return np.array([np.nan if v is None else v for v in np.ravel(np.asarray(seq, dtype=object))], dtype=float)


def _assert_sig_digits(values, digits):
    """Every finite value is written with at most ``digits`` significant digits (figures stay small)."""
    v = _values(values)
    v = v[np.isfinite(v) & (v != 0)]
    np.testing.assert_allclose(v, [float(f"{x:.{digits}g}") for x in v], rtol=1e-12)


def _axis_names(fig):
    return sorted(k for k in fig.layout.to_plotly_json() if k.startswith(("xaxis", "yaxis")))


# ---------------------------------------------------------------------------------------------------
# inputs, built like the chapter's
# ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sweep():
    """Metrics along the straight path from random to collapsed features (chapter 4, section 1)."""
    rng = np.random.default_rng(0)
    labels = ufm.labels_of(K, N)
    means = etf.simplex_etf(K, D, rng=rng)
    H_c, W_c = np.repeat(means, N, axis=0), means.copy()
    H_r, W_r = rng.standard_normal((K * N, D)), rng.standard_normal((K, D))
    ts = np.linspace(0, 0.999, 8)
    metrics = [collapse.collapse_metrics((1 - t) * H_r + t * H_c, labels, (1 - t) * W_r + t * W_c, None, K)
               for t in ts]
    return ts, metrics


@pytest.fixture(scope="module")
def runs():
    """Two optimizers on one small UFM, recorded at log-spaced iterations (chapter 4, section 2)."""
    at = np.unique(np.geomspace(1, 100, 8).astype(int))
    return {"GD": ufm.fit(K, N, D, **LAM, method="gd", steps=100, rng=0, record_at=at),
            "Adam": ufm.fit(K, N, D, **LAM, method="adam", steps=100, rng=0, record_at=at)}


@pytest.fixture(scope="module")
def threshold_sweep():
    """Trained (L-BFGS) against closed form across K sqrt(n lambda_W lambda_H) = 1 (chapter 4, section 4)."""
    k, n, d = 3, 2, 5
    lam_star = 1 / (k * math.sqrt(n))
    rows = []
    for factor in (0.5, 0.9, 1.1, 2.0):
        lam = factor * lam_star
        r = ufm.fit(k, n, d, lambda_W=lam, lambda_H=lam, lambda_b=1e-3, method="lbfgs", steps=500, rng=0,
                      record_every=10_000)
        rows.append((ufm.threshold(k, n, lam, lam), np.mean(np.sum(r.W**2, axis=1)),
                     ufm.optimal_rho(k, n, lam, lam), r.loss[-1], ufm.optimal_loss(k, n, lam, lam)))
    return np.array(rows)


@pytest.fixture(scope="module")
def loss_slice():
    """The UFM loss on the plane through the origin (a saddle) and two global minimizers (section 5)."""
    k, n, d = 3, 2, 4
    sol = ufm.global_minimizer(k, n, d, **LAM)
    theta_star = ufm.pack(sol.W, sol.H, sol.b)
    flip = ufm.pack(sol.W, -sol.H, sol.b)
    flip = flip - (flip @ theta_star) / (theta_star @ theta_star) * theta_star
    flip *= np.linalg.norm(theta_star) / np.linalg.norm(flip)
    alphas, betas = np.linspace(-1.5, 1.5, 13), np.linspace(-1.0, 1.0, 9)
    Z = ufm.loss_slice(np.zeros(theta_star.size), theta_star, flip, alphas, betas, K=k, n=n, d=d, **LAM)
    return alphas, betas, Z


def _anim_run(k, steps=2000, frames=20):
    """GD from a large start with snapshots, d = K + 1 (chapter 4, section 6)."""
    run = ufm.fit(k, N, k + 1, **LAM, method="gd", steps=steps, lr=1.0, rng=0, init_scale=2.0,
                    keep_snapshots=True, record_at=np.unique(np.geomspace(1, steps, frames).astype(int)))
    return run, ufm.global_minimizer(k, N, k + 1, **LAM).feature_ratio


@pytest.fixture(scope="module")
def anim3():
    return _anim_run(3)


@pytest.fixture(scope="module")
def anim4():
    return _anim_run(4)


# ---------------------------------------------------------------------------------------------------
# metrics_sweep_figure
# ---------------------------------------------------------------------------------------------------

def test_metrics_sweep_traces_panels_and_axes(sweep):
    ts, metrics = sweep
    fig = viz.metrics_sweep_figure(ts, metrics, names=CHAPTER_SWEEP_NAMES, title="path")
    assert isinstance(fig, go.Figure)
    assert all(isinstance(t, go.Scatter) and t.mode == "lines+markers" for t in fig.data)
    assert [t.name for t in fig.data] == [viz.METRIC_TITLES[n] for n in CHAPTER_SWEEP_NAMES]
    # NC1-NC3 on the left (log) panel, NC4 (a fraction that reaches 0) on the right (linear) panel
    assert [(t.xaxis, t.yaxis) for t in fig.data] == [("x", "y")] * 5 + [("x2", "y2")]
    assert fig.layout.yaxis.type == "log"
    assert fig.layout.yaxis2.type != "log"
    assert [a.text for a in fig.layout.annotations] == ["NC1–NC3 (log scale)", "NC4 (fraction)"]
    assert fig.layout.xaxis.title.text == fig.layout.xaxis2.title.text == "t (0 = random, 1 = collapsed)"
    assert fig.layout.title.text == "path"
    assert fig.layout.height == 420
    assert len({t.line.color for t in fig.data}) == len(fig.data)   # one colour per metric


def test_metrics_sweep_values_are_the_metrics(sweep):
    ts, metrics = sweep
    fig = viz.metrics_sweep_figure(ts, metrics, names=CHAPTER_SWEEP_NAMES)
    for trace, name in zip(fig.data, CHAPTER_SWEEP_NAMES, strict=True):
        np.testing.assert_allclose(_values(trace.x), ts, rtol=1e-3, atol=1e-12)
        np.testing.assert_allclose(_values(trace.y), [getattr(m, name) for m in metrics], rtol=1e-3)
        _assert_sig_digits(trace.y, 4)
    # the path collapses: NC1 falls by orders of magnitude from t = 0 to t = 0.999
    nc1 = _values(fig.data[0].y)
    assert nc1[-1] < 1e-3 * nc1[0]
    # the title is off by default (a smaller top margin), the x title can be changed
    fig = viz.metrics_sweep_figure(ts, metrics, xaxis_title="s")
    assert fig.layout.title.text is None and fig.layout.xaxis.title.text == "s"
    assert [t.name for t in fig.data] == [viz.METRIC_TITLES[n] for n in ("nc1", "nc2_means", "nc3_ufm",
                                                                           "nc3_papyan", "nc4")]


def test_metrics_sweep_log_panel_has_gaps_for_zero_and_negative_values(sweep):
    ts, metrics = sweep
    ms = list(metrics[:3])
    ms[1] = dataclasses.replace(ms[1], nc1=0.0, nc4=0.0)
    ms[2] = dataclasses.replace(ms[2], nc1=-1e-17, nc4=0.0)     # round-off below zero
    fig = viz.metrics_sweep_figure(ts[:3], ms, names=("nc1", "nc4"))
    assert list(fig.data[0].y[1:]) == [None, None]              # no log of 0 or of a negative number
    assert fig.data[0].y[0] == pytest.approx(ms[0].nc1, rel=1e-3)
    np.testing.assert_array_equal(_values(fig.data[1].y)[1:], [0.0, 0.0])   # the linear panel keeps zeros


def test_metrics_sweep_figure_stays_small(sweep):
    ts, metrics = sweep
    assert len(viz.metrics_sweep_figure(ts, metrics).to_json()) < 20_000


def test_metrics_sweep_errors(sweep):
    ts, metrics = sweep
    with pytest.raises(ValueError, match=r"one entry per value of t \(8\); got 7"):
        viz.metrics_sweep_figure(ts, metrics[:-1])
    with pytest.raises(ValueError, match="t must have 1 dimension"):
        viz.metrics_sweep_figure(ts[None], metrics)
    with pytest.raises(ValueError, match="t must be finite"):
        viz.metrics_sweep_figure(np.r_[ts[:-1], np.nan], metrics)
    with pytest.raises((AttributeError, ValueError), match="bogus"):   # an unknown metric fails, naming it
        viz.metrics_sweep_figure(ts, metrics, names=("nc1", "bogus"))


# ---------------------------------------------------------------------------------------------------
# nc_curves_figure
# ---------------------------------------------------------------------------------------------------

def test_nc_curves_panels_traces_and_legend(runs):
    opt = ufm.optimal_loss(K, N, LAM["lambda_W"], LAM["lambda_H"])
    fig = viz.nc_curves_figure(runs, names=CHAPTER_CURVE_NAMES, optimal_loss=opt, cols=4, title="UFM")
    assert isinstance(fig, go.Figure)
    n_panels, rows = len(CHAPTER_CURVE_NAMES), 2
    assert [a.text for a in fig.layout.annotations] == [viz.PANEL_TITLES[n] for n in CHAPTER_CURVE_NAMES]
    assert len(fig.data) == len(runs) * n_panels
    assert all(isinstance(t, go.Scatter) and t.mode == "lines" for t in fig.data)
    # one line per run in every panel, in the order of the runs; the legend shows each run once
    for r, label in enumerate(runs):
        mine = fig.data[r * n_panels:(r + 1) * n_panels]
        assert {t.name for t in mine} == {label} and {t.legendgroup for t in mine} == {label}
        assert [bool(t.showlegend) for t in mine] == [True] + [False] * (n_panels - 1)
        assert {t.line.color for t in mine} == {LINE_COLORS[r]}
        assert [t.xaxis for t in mine] == ["x"] + [f"x{p + 1}" for p in range(1, n_panels)]
    # log-log axes, NC4 (which reaches 0) on a linear y axis; x title on the bottom row only
    layout = fig.layout
    for p, name in enumerate(CHAPTER_CURVE_NAMES):
        suffix = "" if p == 0 else str(p + 1)
        assert layout[f"xaxis{suffix}"].type == "log"
        assert (layout[f"yaxis{suffix}"].type == "log") == (name != "nc4")
        assert layout[f"xaxis{suffix}"].title.text == ("iteration + 1" if p // 4 == rows - 1 else None)
    assert layout.title.text == "UFM"
    assert layout.height == 300 * rows + 80


def test_nc_curves_values_are_the_run_histories(runs):
    opt = ufm.optimal_loss(K, N, LAM["lambda_W"], LAM["lambda_H"])
    fig = viz.nc_curves_figure(runs, names=CHAPTER_CURVE_NAMES, optimal_loss=opt)
    n_panels = len(CHAPTER_CURVE_NAMES)
    for r, run in enumerate(runs.values()):
        for p, name in enumerate(CHAPTER_CURVE_NAMES):
            trace = fig.data[r * n_panels + p]
            np.testing.assert_array_equal(_values(trace.x), run.iterations + 1)   # iteration 0 fits a log axis
            expected = run.loss - opt if name == "loss_gap" else run.history(name)
            np.testing.assert_allclose(_values(trace.y), expected, rtol=1e-3, atol=1e-12)
            _assert_sig_digits(trace.y, 4)
    # GD drives the loss towards the closed-form minimum
    gap = _values(fig.data[0].y)
    assert gap[-1] < 0.1 * gap[0]


def test_nc_curves_loss_gap_needs_the_optimal_loss(runs):
    fig = viz.nc_curves_figure(runs)                        # default names start with "loss_gap"
    titles = [a.text for a in fig.layout.annotations]
    assert viz.PANEL_TITLES["loss_gap"] not in titles
    assert len(titles) == 5 and len(fig.data) == 2 * 5
    assert fig.layout.height == 300 * 2 + 80                # 5 panels in 3 columns: 2 rows


def test_nc_curves_loss_panel_layout_options_and_gaps(runs):
    gd = runs["GD"]
    # "loss" draws the loss itself; more columns than panels gives one row; the height can be set
    fig = viz.nc_curves_figure({"GD": gd}, names=("loss", "nc4"), cols=5, height=250)
    assert [a.text for a in fig.layout.annotations] == ["loss", viz.PANEL_TITLES["nc4"]]
    np.testing.assert_allclose(_values(fig.data[0].y), gd.loss, rtol=1e-3)
    assert fig.layout.xaxis.title.text == fig.layout.xaxis2.title.text == "iteration + 1"
    assert fig.layout.height == 250
    assert "xaxis3" not in _axis_names(fig)
    # a loss gap of exactly 0 (a run that reached the minimum) is a gap on the log axis, not log(0)
    fig = viz.nc_curves_figure({"GD": gd}, names=("loss_gap",), optimal_loss=float(gd.loss[-1]))
    assert fig.data[0].y[-1] is None
    assert all(v is not None for v in fig.data[0].y[:-1])


def test_nc_curves_figure_stays_small(runs):
    opt = ufm.optimal_loss(K, N, LAM["lambda_W"], LAM["lambda_H"])
    assert len(viz.nc_curves_figure(runs, names=CHAPTER_CURVE_NAMES, optimal_loss=opt).to_json()) < 30_000


def test_nc_curves_unknown_metric_fails_naming_it(runs):
    with pytest.raises((AttributeError, ValueError), match="bogus"):
        viz.nc_curves_figure(runs, names=("nc1", "bogus"))


# ---------------------------------------------------------------------------------------------------
# etf_animation_figure
# ---------------------------------------------------------------------------------------------------

def _span_projector(run):
    """Orthogonal projector (d, d) on the span of the final centred class means."""
    means = run.H.mean(axis=1)
    centred = means - means.mean(axis=0)
    return np.linalg.pinv(centred) @ centred


def _points(trace, three_d):
    cols = [trace.x, trace.y] + ([trace.z] if three_d else [])
    return np.column_stack([_values(c) for c in cols])


@pytest.mark.parametrize("k", [3, 4])
def test_etf_animation_traces_frames_and_slider(k, anim3, anim4):
    run, c = anim3 if k == 3 else anim4
    fig = viz.etf_animation_figure(run, feature_ratio=c, title="ETF", max_frames=8)
    kind = go.Scatter3d if k == 4 else go.Scatter
    assert isinstance(fig, go.Figure)
    assert len(fig.data) == 2 * k and all(isinstance(t, kind) for t in fig.data)
    assert [t.name for t in fig.data] == ([f"features, class {j}" for j in range(k)]
                                          + [f"c·w<sub>{j}</sub>" for j in range(k)])
    assert [t.mode for t in fig.data] == ["markers"] * k + ["lines+markers"] * k
    assert [t.legendgroup for t in fig.data] == [str(j) for j in range(k)] * 2   # a class and its w_k together
    assert all(len(t.x) == N for t in fig.data[:k]) and all(len(t.x) == 2 for t in fig.data[k:])
    # frames: at most max_frames, evenly chosen, from the start to the last iteration, named by iteration
    names = [f.name for f in fig.frames]
    assert len(names) == 8 == len(set(names))
    its = [int(s) for s in names]
    assert its == sorted(its) and its[0] == 0 and its[-1] == run.iterations[-1]
    assert set(its) <= set(run.iterations.tolist())
    assert all(len(f.data) == 2 * k and all(isinstance(t, kind) for t in f.data) for f in fig.frames)
    # what is drawn before playing is the first frame
    for a, b in zip(fig.data, fig.frames[0].data, strict=True):
        np.testing.assert_array_equal(_points(a, k == 4), _points(b, k == 4))
    # a slider step per frame that jumps to it, and play/pause buttons
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == names
    assert [list(s.args[0]) for s in steps] == [[n] for n in names]
    assert [s.method for s in steps] == ["animate"] * len(names)
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["▶ play", "❚❚ pause"]
    assert fig.layout.title.text == "ETF"
    # a fixed symmetric range holding every point of every frame
    if k == 3:
        rng_x, rng_y = fig.layout.xaxis.range, fig.layout.yaxis.range
        assert rng_x == rng_y and rng_x[0] == -rng_x[1] and rng_x[1] > 0
        assert fig.layout.xaxis.title.text == "u₁" and fig.layout.yaxis.title.text == "u₂"
        assert fig.layout.yaxis.scaleanchor == "x"       # equal aspect: the triangle is not distorted
        extent = rng_x[1]
    else:
        scene = fig.layout.scene
        assert scene.xaxis.range == scene.yaxis.range == scene.zaxis.range
        assert [scene[a].title.text for a in ("xaxis", "yaxis", "zaxis")] == ["u₁", "u₂", "u₃"]
        assert scene.aspectmode == "cube"
        extent = scene.xaxis.range[1]
    reach = max(np.abs(_points(t, k == 4)).max() for f in fig.frames for t in f.data)
    assert reach <= extent <= 1.2 * reach


@pytest.mark.parametrize("k", [3, 4])
def test_etf_animation_draws_the_projected_snapshots(k, anim3, anim4):
    run, c = anim3 if k == 3 else anim4
    fig = viz.etf_animation_figure(run, feature_ratio=c, max_frames=5)
    P = _span_projector(run)
    three_d = k == 4
    for frame in fig.frames:
        W, H, _ = run.snapshots[int(np.flatnonzero(run.iterations == int(frame.name))[0])]
        feats = np.vstack([_points(t, three_d) for t in frame.data[:k]])          # (K n, K - 1)
        # orthonormal coordinates in the span: inner products are those of the projected features
        np.testing.assert_allclose(feats @ feats.T, H.reshape(k * N, -1) @ P @ H.reshape(k * N, -1).T,
                                   atol=2e-2 * max(1.0, np.abs(feats).max() ** 2))  # 3 digits
        _assert_sig_digits(feats, 3)
        for j, t in enumerate(frame.data[k:]):
            seg = _points(t, three_d)
            np.testing.assert_array_equal(seg[0], 0.0)                           # from the origin
            assert np.linalg.norm(seg[1]) == pytest.approx(c * np.linalg.norm(P @ W[j]), rel=5e-3, abs=1e-3)


def test_etf_animation_final_frame_is_collapsed_onto_the_classifier(anim3):
    # After 2000 GD steps the run is at the global minimizer: each class's features sit at the tip of c·w_k.
    run, c = anim3
    fig = viz.etf_animation_figure(run, feature_ratio=c)
    last = fig.frames[-1].data
    for j in range(3):
        feats, tip = _points(last[j], False), _points(last[3 + j], False)[1]
        np.testing.assert_allclose(feats, np.broadcast_to(tip, feats.shape), atol=5e-3 * np.abs(tip).max())
    # while the first frame is not
    first = fig.frames[0].data
    assert np.abs(_points(first[0], False) - _points(first[3], False)[1]).max() > 0.1


def test_etf_animation_frame_count_and_size(anim3):
    run, c = anim3
    n_snap = len(run.snapshots)
    assert len(viz.etf_animation_figure(run, feature_ratio=c).frames) == n_snap   # default 60 > snapshots
    fig = viz.etf_animation_figure(run, feature_ratio=c, max_frames=3)
    # evenly chosen snapshots: the first, the middle one (rounded down) and the last
    assert [int(f.name) for f in fig.frames] == [0, int(run.iterations[(n_snap - 1) // 2]), int(run.iterations[-1])]
    assert len(fig.to_json()) < 60_000


def test_etf_animation_errors(runs):
    with pytest.raises(ValueError, match="keep_snapshots=True"):
        viz.etf_animation_figure(runs["GD"], feature_ratio=1.0)
    for k in (2, 5):
        run = ufm.fit(k, 2, k + 1, **LAM, steps=3, rng=0, record_every=3, keep_snapshots=True)
        with pytest.raises(ValueError, match=f"K = 3 .* or K = 4 .*; got K={k}"):
            viz.etf_animation_figure(run, feature_ratio=1.0)


# ---------------------------------------------------------------------------------------------------
# threshold_figure
# ---------------------------------------------------------------------------------------------------

def test_threshold_traces_values_and_threshold_line(threshold_sweep):
    sw = threshold_sweep
    fig = viz.threshold_figure(sw[:, 0], sw[:, 1], sw[:, 2], sw[:, 3], sw[:, 4], title="threshold")
    assert isinstance(fig, go.Figure)
    assert [t.name for t in fig.data] == ["closed form", "trained (L-BFGS)"] * 2
    assert [t.mode for t in fig.data] == ["lines", "markers"] * 2
    assert [t.xaxis for t in fig.data] == ["x", "x", "x2", "x2"]
    assert [bool(t.showlegend) for t in fig.data] == [True, True, False, False]   # one legend entry each
    assert [t.legendgroup for t in fig.data] == ["p", "t", "p", "t"]
    # the plotted numbers are the inputs: rho in the left panel, the loss in the right one
    for t in fig.data:
        np.testing.assert_allclose(_values(t.x), sw[:, 0], rtol=1e-3)
    for t, col in zip(fig.data, (2, 1, 4, 3), strict=True):
        np.testing.assert_allclose(_values(t.y), sw[:, col], rtol=1e-3, atol=1e-12)
        _assert_sig_digits(t.y, 4)
    # a dashed vertical line at the threshold 1 in each panel
    lines = [(s.x0, s.x1, s.xref) for s in fig.layout.shapes]
    assert lines == [(1.0, 1.0, "x"), (1.0, 1.0, "x2")]
    assert [a.text for a in fig.layout.annotations] == ["‖w<sub>k</sub>‖² (mean over k)", "loss"]
    assert (fig.layout.xaxis.title.text == fig.layout.xaxis2.title.text
            == "Kβ = K √(n<sub>c</sub> λ<sub>W</sub> λ<sub>H</sub>)")
    assert fig.layout.title.text == "threshold" and fig.layout.height == 400
    # above the threshold the trained classifier collapses to zero, as the closed form says
    assert np.all(_values(fig.data[1].y)[sw[:, 0] > 1] < 1e-8)
    assert len(fig.to_json()) < 20_000


def test_threshold_errors():
    ok = [1.0, 2.0]
    with pytest.raises(ValueError, match="ratios must have 1 dimension"):
        viz.threshold_figure([[0.5, 2.0]], ok, ok, ok, ok)
    with pytest.raises(ValueError, match="ratios must be finite"):
        viz.threshold_figure([0.5, np.nan], ok, ok, ok, ok)
    with pytest.raises(ValueError, match="ratios must be a real numeric array"):
        viz.threshold_figure(["a", "b"], ok, ok, ok, ok)


# ---------------------------------------------------------------------------------------------------
# loss_slice_figure
# ---------------------------------------------------------------------------------------------------

def test_loss_slice_contour_points_and_axes(loss_slice):
    alphas, betas, Z = loss_slice
    points = {"saddle (origin)": (0, 0), "minimizer": (1, 0), "minimizer (R = -I)": (-1, 0),
              "elsewhere": (0.123456, -0.5), "fifth": (0.5, 0.5)}
    fig = viz.loss_slice_figure(alphas, betas, Z, points, xaxis_title="ξ", yaxis_title="η", title="slice")
    assert isinstance(fig, go.Figure)
    assert [type(t).__name__ for t in fig.data] == ["Contour"] + ["Scatter"] * len(points)
    contour = fig.data[0]
    np.testing.assert_allclose(_values(contour.x), alphas, rtol=1e-3, atol=1e-12)
    np.testing.assert_allclose(_values(contour.y), betas, rtol=1e-3, atol=1e-12)
    z = np.asarray(contour.z, dtype=float)
    assert z.shape == Z.shape == (betas.size, alphas.size)     # rows are betas, columns alphas
    np.testing.assert_allclose(z, Z, rtol=1e-3)
    _assert_sig_digits(z, 4)
    assert contour.colorbar.title.text == "loss"
    # one labelled marker per point, symbols cycling through four
    markers = fig.data[1:]
    assert [t.name for t in markers] == list(points)
    assert [list(t.text) for t in markers] == [[name] for name in points]
    assert [t.marker.symbol for t in markers] == ["x", "star", "circle", "diamond", "x"]
    assert not any(t.showlegend for t in markers)
    got = [(t.x[0], t.y[0]) for t in markers]
    np.testing.assert_allclose(got, [(0, 0), (1, 0), (-1, 0), (0.1235, -0.5), (0.5, 0.5)])
    assert fig.layout.xaxis.title.text == "ξ" and fig.layout.yaxis.title.text == "η"
    assert fig.layout.title.text == "slice" and fig.layout.height == 480
    assert len(fig.to_json()) < 20_000


def test_loss_slice_without_points_and_default_titles(loss_slice):
    alphas, betas, Z = loss_slice
    fig = viz.loss_slice_figure(alphas, betas, Z)
    assert len(fig.data) == 1
    assert fig.layout.xaxis.title.text == "α" and fig.layout.yaxis.title.text == "β"
    assert fig.layout.title.text is None


def test_loss_slice_errors(loss_slice):
    alphas, betas, Z = loss_slice
    with pytest.raises(ValueError, match=r"Z must have shape \(len\(betas\), len\(alphas\)\) = \(9, 13\); "
                                         r"got \(13, 9\)"):
        viz.loss_slice_figure(alphas, betas, Z.T)
    with pytest.raises(ValueError, match="Z must have 2 dimension"):
        viz.loss_slice_figure(alphas, betas, Z[None])
    with pytest.raises(ValueError, match="alphas must have 1 dimension"):
        viz.loss_slice_figure(alphas[:, None], betas, Z)
    with pytest.raises(ValueError, match="betas must have 1 dimension"):
        viz.loss_slice_figure(alphas, betas[:, None], Z)
    with pytest.raises(ValueError, match="Z must be finite"):
        viz.loss_slice_figure(alphas, betas, np.where(Z > np.median(Z), np.nan, Z))
