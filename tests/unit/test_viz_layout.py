"""Layout of the book's figures: the defects seen in screenshots of the rendered book stay mended.

Global basins coloured as global (every one, not only the lowest index), titles wrapped instead of cut
off, menus and legends that lie over nothing, no fixed width wider than the page, legend colours that
show on the white legend, backgrounds that stay opaque for the dark mode, and the screenshot tool's dark
option. Small sizes throughout; no browser.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from landscape_lib import euclidean, toy2d
from landscape_lib.critical import CriticalType
from landscape_lib.viz import collapse as vcollapse
from landscape_lib.viz import dictionary as vdict
from landscape_lib.viz import plane, sphere
from landscape_lib.viz.style import (
    CRITICAL_COLORS,
    MENU_ROOM,
    TITLE_CHARS,
    TITLE_LINE,
    base_layout,
    wrap_title,
)

ROOT = Path(__file__).resolve().parents[2]
GLOBAL_BLUES = set(plane._GLOBAL_BASIN_COLORS)


def _found(toy, n=60, seed=0):
    (lo, hi), _ = toy.domain
    starts = np.random.default_rng(seed).uniform(lo, hi, size=(n, 2))
    return euclidean.find_critical_points(toy, starts)


def _basins(toy, resolution=15, step=0.02):
    found = _found(toy)
    mins = found.points[[t == CriticalType.MINIMIZER for t in found.types]]
    basins = euclidean.basin_map(toy, mins, xlim=toy.domain[0], ylim=toy.domain[1], resolution=resolution,
                                 step=step, n_iter=1500)
    return found, basins


def _minimizer_traces(fig):
    return [tr for tr in fig.data if tr.name and " min, f = " in tr.name]


def _band_colour(heatmap, label):
    """Colour the basin heatmap gives to ``label`` (−1 = unresolved, 0..k−1 = minimizers)."""
    k = round(heatmap.zmax + 0.5)
    pos = (label + 1.5) / (k + 1)           # the middle of the label's flat band
    scale = [(float(p), c) for p, c in heatmap.colorscale]
    return next(c for (p0, c), (p1, _) in zip(scale[::2], scale[1::2], strict=True) if p0 <= pos <= p1)


# ---------------------------------------------------------------------------------------------------
# basin_figure: every global minimizer's basin is coloured as global
# ---------------------------------------------------------------------------------------------------

def test_every_global_basin_is_coloured_global_rank_one():
    """M = diag(2, 1): the two minimizers ±√2·(1, 0) are both global; the old code coloured the second
    one's basin (and marker) as a spurious one."""
    toy = toy2d.rank_one_factorization()
    found, basins = _basins(toy, step=0.05)
    assert basins.global_mask.sum() == 2
    fig = plane.basin_figure(toy, basins, critical=found)
    heat = fig.data[0]
    traces = _minimizer_traces(fig)
    assert [tr.name.split()[0] for tr in traces] == ["global", "global"]
    for i, tr in enumerate(traces):
        assert tr.marker.color in GLOBAL_BLUES
        assert _band_colour(heat, i) == tr.marker.color
    assert _band_colour(heat, -1) == "#BBBBBB"                       # unresolved starts stay grey
    # the two global basins touch along x = 0: told apart by the two blues
    assert traces[0].marker.color != traces[1].marker.color


def test_four_global_basins_alternate_blues_like_a_checkerboard():
    toy = toy2d.four_wells(0.0, 0.0, 0.0)
    found, basins = _basins(toy)
    assert basins.global_mask.all() and basins.minimizers.shape[0] == 4
    fig = plane.basin_figure(toy, basins, critical=found)
    colour = {i: tr.marker.color for i, tr in enumerate(_minimizer_traces(fig))}
    assert set(colour.values()) <= GLOBAL_BLUES
    # neighbouring quadrants (sharing an axis) differ, diagonal ones agree
    quadrant = {i: (bool(m[0] > 0), bool(m[1] > 0)) for i, m in enumerate(basins.minimizers)}
    for i in colour:
        for j in colour:
            if i < j:
                same_side = sum(a == b for a, b in zip(quadrant[i], quadrant[j], strict=True))
                assert (colour[i] == colour[j]) == (same_side == 0), (quadrant[i], quadrant[j])


def test_a_single_global_basin_keeps_the_minimizer_colour_and_spurious_ones_are_not_blue():
    toy = toy2d.four_wells()
    found, basins = _basins(toy, resolution=9)
    fig = plane.basin_figure(toy, basins, critical=found)
    traces = _minimizer_traces(fig)
    g = int(np.flatnonzero(basins.global_mask)[0])
    assert basins.global_mask.sum() == 1
    assert traces[g].marker.color == CRITICAL_COLORS[CriticalType.MINIMIZER]
    assert all(tr.marker.color not in GLOBAL_BLUES for i, tr in enumerate(traces) if i != g)


# ---------------------------------------------------------------------------------------------------
# titles: wrapped, never cut off
# ---------------------------------------------------------------------------------------------------

CENSUS_TITLE = ("Certified critical points of the stored census (largest n): "
                "λ_min against f and against the largest correlation")


def test_long_titles_are_wrapped_and_the_top_margin_grows():
    text = wrap_title(CENSUS_TITLE)
    lines = text.split("<br>")
    assert len(lines) == 2 and all(len(line) <= TITLE_CHARS for line in lines)
    assert " ".join(lines) == CENSUS_TITLE                              # only spaces became breaks
    assert base_layout(CENSUS_TITLE)["margin"]["t"] == base_layout("short")["margin"]["t"] + TITLE_LINE
    # short titles, titles with a break already, and TeX are left alone
    for same in ("short", "a<br>b" + "x" * 100, "$" + "x " * 60 + "$"):
        assert wrap_title(same) == same


def test_census_figure_title_fits():
    fig = sphere.census_figure([], title=CENSUS_TITLE)
    assert "<br>" in fig.layout.title.text
    assert max(len(s) for s in fig.layout.title.text.split("<br>")) <= TITLE_CHARS


# ---------------------------------------------------------------------------------------------------
# menus, legends and colour bars that lie over nothing
# ---------------------------------------------------------------------------------------------------

def _assert_menu_below_title(fig):
    menu = fig.layout.updatemenus[0]
    assert menu.y == 1.0 and menu.yanchor == "bottom"                  # above the plot area, not over y > 1
    assert fig.layout.margin.t >= 60 + MENU_ROOM                        # room for the title and the menu


def test_dropdowns_sit_between_the_title_and_the_plot():
    rows = {"start 0": np.eye(4, 2), "start 1": -np.eye(4, 2)}
    _assert_menu_below_title(vcollapse.angles_figure(rows, title="Classifier rows, K = 4 in the plane"))
    _assert_menu_below_title(vcollapse.angles_figure({"s": np.eye(6, 3)}, title="in space"))
    _assert_menu_below_title(plane.taxonomy_figure([toy2d.strict_saddle(), toy2d.four_wells()], resolution=9))


def test_phase_transition_legend_is_not_on_the_colour_bar():
    n = np.array([4.0, 6.0])
    m = np.array([[4.0, 8.0], [6.0, 12.0]])
    fig = vdict.phase_transition(n, m, np.ones((2, 2)), np.ones((2, 2)), title="t")
    assert fig.layout.legend.orientation == "h" and fig.layout.legend.yref == "container"
    assert fig.layout.legend.y == 0 and fig.layout.margin.b >= 80     # a row under the plot


def test_minority_colour_bar_stays_beside_the_matrices_on_every_step():
    ratios = np.array([1.0, 10.0])
    grams = {name: np.stack([np.eye(3)] * 2) for name in ("a", "b")}
    fig = vcollapse.minority_collapse_figure(ratios, {"a": [0.1, 0.5], "b": [0.2, 0.6]}, grams, minority=[2])
    top = fig.get_subplot(1, 1).yaxis.domain
    heat = [t for t in fig.data if t.type == "heatmap"]
    shown = [t for t in heat if t.showscale]
    assert len(shown) == ratios.size                                  # one per slider step
    for t in shown:
        assert t.colorbar.y + t.colorbar.len <= top[0] + 1e-9         # below the curves and their legend


def test_nc_curves_panel_titles_are_short_and_the_legend_fills_the_empty_cell():
    class Run:
        iterations = np.arange(5)
        loss = np.linspace(2, 1, 5)

        def history(self, name):
            return np.linspace(1, 0.1, 5)

    names = ("loss_gap", "nc1", "nc2_classifier", "nc2_means", "nc3_ufm", "nc3_papyan", "nc4")
    fig = vcollapse.nc_curves_figure({"GD": Run()}, names=names, optimal_loss=0.5, cols=4, title="UFM")
    assert all(len(a.text) <= 14 for a in fig.layout.annotations)
    empty = fig.get_subplot(2, 4)
    assert fig.layout.legend.x >= empty.xaxis.domain[0] and fig.layout.legend.y <= empty.yaxis.domain[1]
    assert fig.layout.xaxis.dtick == 1                                 # decades only on narrow panels


def test_animation_buttons_do_not_cover_the_slider_or_the_axes():
    class Run:
        iterations = np.array([0, 1])
        H = np.random.default_rng(0).standard_normal((3, 2, 4))
        snapshots = [(np.eye(3, 4), H, None), (2 * np.eye(3, 4), H, None)]

    fig = vcollapse.etf_animation_figure(Run(), feature_ratio=1.0, title="ETF")
    buttons, slider = fig.layout.updatemenus[0], fig.layout.sliders[0]
    assert buttons.x >= 1.0 and buttons.xanchor == "left"              # in the legend's column
    assert slider.x == 0.0 and slider.y == 0.0 and slider.pad.t >= 40   # under the x-axis title


def test_critical_values_x_title_names_what_is_drawn():
    args = ([0.1, 0.2], [-0.1, -0.2], ["a", "b"], ["s", "s"])
    assert vcollapse.critical_values_figure(*args).layout.xaxis.title.text == "loss f at the critical point"
    fig = vcollapse.critical_values_figure(*args, xaxis_title="loss gap f − f*")
    assert fig.layout.xaxis.title.text == "loss gap f − f*"


# ---------------------------------------------------------------------------------------------------
# widths, legend colours, backgrounds
# ---------------------------------------------------------------------------------------------------

def test_no_fixed_width_wider_than_the_page():
    toy = toy2d.four_wells()
    found, basins = _basins(toy, resolution=9)
    for fig in (plane.contour_figure(toy, resolution=21), plane.basin_figure(toy, basins, critical=found)):
        assert fig.layout.width is None


def test_lines_over_contours_show_in_the_white_legend():
    toy = toy2d.four_wells()
    paths = np.zeros((3, 2, 2)) + np.linspace(0, 1, 3)[:, None, None]
    fig = plane.contour_figure(toy, trajectories=paths, resolution=21)
    fig2 = plane.escape_slider_figure(toy, paths, [0.1, 0.01], [3, 5], radius=0.5)
    legend_lines = [t for f in (fig, fig2) for t in f.data
                    if t.type == "scatter" and t.mode == "lines" and t.showlegend is not False]
    assert legend_lines
    assert all(t.line.color.lower() not in ("white", "#fff", "#ffffff") for t in legend_lines)


def test_backgrounds_are_opaque_white_for_the_dark_mode():
    """On the book's dark page a transparent figure would show plotly's dark text on a dark background."""
    template = go.Figure(layout=base_layout("t")).layout.template.layout
    assert template.paper_bgcolor == "white" and template.plot_bgcolor == "white"


# ---------------------------------------------------------------------------------------------------
# scripts/figures.py screenshots --theme
# ---------------------------------------------------------------------------------------------------

@pytest.fixture
def figures_script():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import figures
        yield figures
    finally:
        sys.path.remove(str(ROOT / "scripts"))


def test_screenshots_theme_option(figures_script, capsys):
    with pytest.raises(ValueError, match="theme"):
        figures_script.screenshots(theme="sepia")
    with pytest.raises(SystemExit):
        figures_script.main(["screenshots", "--theme", "sepia"])
    assert "invalid choice" in capsys.readouterr().err
