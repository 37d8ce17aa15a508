"""Fixes from the audit of the book's figures: titles, legends, labels and markers that read."""

from __future__ import annotations

import re

import numpy as np
import pytest

from landscape_lib import euclidean, toy2d
from landscape_lib.critical import CriticalPoints, CriticalType
from landscape_lib.viz import collapse, dictionary, plane, sphere, training
from landscape_lib.viz.style import SUBPLOT_TITLE_ROOM, base_layout, plotly_label

RAW_SUBSCRIPT = re.compile(r"(?<![\w])[A-Za-zΑ-Ωα-ω]_[A-Za-z0-9]")


def _history(n=4, scale=1.0):
    return [dict(epoch=e, nc1=scale / (e + 1), nc2_classifier=0.5, train_acc=min(1.0, 0.5 + e / 4))
            for e in range(n)]


# --- training panels: room for the panel titles, the legend under the plot with 4 or more entries -------

@pytest.mark.parametrize("k", [3, 4])
def test_training_panels_make_room_and_put_a_long_legend_below(k):
    groups = {f"run {i}": [_history(scale=i + 1)] for i in range(k)}
    fig = training.seed_band_figure(groups, ("nc1", "nc2_classifier", "train_acc"),
                                    title="A title long enough to be broken into two lines by the wrapping of "
                                          "the book's titles, so that it reaches the panels")
    assert fig.layout.margin.t == 60 + 22 + SUBPLOT_TITLE_ROOM  # two title lines (22 px each extra) + panel titles
    assert fig.layout.title.yanchor == "top"           # two lines hang from the top, above the panel titles
    below = fig.layout.legend.orientation == "h" and fig.layout.legend.yref == "container"
    assert below == (k >= 4)
    if k >= 4:
        assert fig.layout.margin.b > 40 and fig.layout.legend.y == 0


def test_metric_labels_have_no_raw_underscores():
    for label in list(training.METRIC_LABELS.values()) + list(collapse.METRIC_TITLES.values()):
        assert not RAW_SUBSCRIPT.search(label), label
    assert "Σ<sub>W</sub>" in training.METRIC_LABELS["nc1"] and "Σ<sub>B</sub>" in collapse.METRIC_TITLES["nc1"]


def test_plotly_label():
    assert plotly_label("K=4, n_c=10") == "K=4, n<sub>c</sub>=10"
    assert plotly_label("λ_min of w_k") == "λ<sub>min</sub> of w<sub>k</sub>"
    assert plotly_label("LS (alpha = 0.1), focal (gamma = 2)") == "LS (α = 0.1), focal (γ = 2)"
    assert plotly_label("train_acc") == "train_acc"
    # titles pass through it (the chapters write n_c, λ_min in them), TeX titles do not
    assert base_layout("K = 4, n_c = 10: λ_min")["title"]["text"] == "K = 4, n<sub>c</sub> = 10: λ<sub>min</sub>"
    assert base_layout("$n_c$")["title"]["text"] == "$n_c$"


# --- chapter 1 -------------------------------------------------------------------------------------------

def _escapes():
    out = []
    for label, toy, kind in (("x^2 - y^2", toy2d.strict_saddle(), "log"),
                             ("x^4 - y^4", toy2d.quartic_saddle(), "power")):
        res = euclidean.escape_iterations(toy, [0, 0], [1, 1], np.logspace(-2, -1, 4), step=0.1, radius=1.0)
        out.append((label, res, euclidean.fit_escape_law(res.deltas, res.iterations, kind)))
    return out


def test_escape_figure_title_and_superscripts():
    strict, flat = _escapes()
    fig = plane.escape_figure([strict], [flat], title="escape")
    assert fig.layout.title.text == "escape"
    names = [t.name for t in fig.data]
    assert not any("^" in n for n in names), names
    assert names[0] == "x² - y²: measured" and "<sup>" in names[3]
    assert plane.escape_figure([strict], [flat]).layout.title.text is None


def test_perturbed_gd_title_slider_labels_and_scene_ticks():
    toy = toy2d.strict_saddle()
    res = euclidean.perturbed_gradient_descent(toy, [0.0, 0.0], step=0.1, n_iter=40, radius=1e-3,
                                               gradient_threshold=1e-3, wait=10, n_runs=3,
                                               escape_radius=0.5, rng=0)
    assert plane.perturbed_gd_figure(toy, res, title="PGD").layout.title.text == "PGD"
    deltas = np.array([0.1, 0.01])
    paths = euclidean.gradient_descent(toy, np.outer(deltas, [1, 1]), step=0.1, n_iter=10, record=True)
    fig = plane.escape_slider_figure(toy, paths.trajectory, deltas, [5, 9])
    assert [s.label for s in fig.layout.sliders[0].steps] == ["δ = 10<sup>−1</sup>", "δ = 10<sup>−2</sup>"]
    for f in (plane.surface_figure(toy2d.example("rank_one_factorization")), plane.taxonomy_figure([toy])):
        assert list(f.layout.scene.xaxis.tickvals) == [-1, 0, 1] == list(f.layout.scene.yaxis.tickvals)
    title = plane.surface_figure(toy2d.example("rank_one_factorization")).layout.title.text
    assert "<sub>F</sub>²" in title and "_F" not in title


# --- chapter 2 and 3 -------------------------------------------------------------------------------------

def test_sphere_saddles_and_columns_are_visible():
    pts = np.array([[1.0, 0, 0], [1, 1, 0] / np.sqrt(2)])
    crit = CriticalPoints(points=pts, values=np.zeros(2), grad_norms=np.zeros(2), eigenvalues=np.zeros((2, 2)),
                          types=np.array([CriticalType.MINIMIZER, CriticalType.STRICT_SADDLE], dtype=object),
                          eig_tol=1e-6)
    fig = sphere.landscape_figure(np.eye(3), crit)
    by_name = {t.name: t for t in fig.data}
    saddle, minimizer, columns = by_name["strict saddle"], by_name["minimizer"], by_name["±aᵢ (columns)"]
    assert saddle.marker.size >= 7 and saddle.marker.line.color.lower() not in ("white", "#fff", "#ffffff")
    assert columns.marker.size > minimizer.marker.size        # a ring round the minimizer, not under it


def test_axis_titles_and_ticks_of_the_phase_transitions():
    fig = sphere.phase_transition_heatmap([4, 8], [4, 8, 16], np.ones((3, 2)))
    assert fig.layout.xaxis.title.text == "n (dimension)" and fig.layout.yaxis.title.text == "m (number of columns)"
    n = np.array([4, 6, 8])
    m = np.array([[4, 8, 16], [6, 15, 36], [8, 23, 64]])
    fig = dictionary.phase_transition(n, m, np.ones((3, 3)), np.ones((3, 3)))
    assert list(fig.layout.xaxis.tickvals) == [4, 6, 8] and fig.layout.xaxis.title.text == "n (dimension)"
    assert fig.layout.yaxis.title.text == "m (number of columns)"
    assert {t.name for t in fig.data if t.showlegend} == {"m = n", "m = n<sup>1.5</sup>", "m = n²"}


def test_dictionary_scenes_are_the_sphere_scenes():
    mesh = np.random.default_rng(0).standard_normal((3, 4, 3))
    fig = dictionary.landscape_convergence(mesh, np.zeros((3, 4)), np.zeros((1, 3, 4)), [10])
    for scene in (fig.layout.scene, fig.layout.scene2):
        assert scene.zaxis.showticklabels is False and (scene.camera.eye.x, scene.camera.eye.y) == (1.5, 1.2)
    assert not any(RAW_SUBSCRIPT.search(a.text) for a in fig.layout.annotations)


# --- chapter 4 and 4b ------------------------------------------------------------------------------------

def test_critical_values_legend_explains_the_shapes():
    kinds = ["minimizer", "saddle", "minimizer", "saddle"]
    settings = ["K=4, n_c=10", "K=4, n_c=10", "LS (alpha = 0.1)", "LS (alpha = 0.1)"]
    fig = collapse.critical_values_figure([0, 1, 0, 1], [0.1, -0.1, 0.2, -0.2], kinds, settings)
    shown = [t for t in fig.data if t.showlegend is not False]
    grey = [t for t in shown if t.marker.color == "gray"]
    assert [t.name for t in grey] == ["minimizer", "saddle"]
    assert [t.marker.symbol for t in grey] == ["circle", "x"]
    assert {t.name for t in shown} - {t.name for t in grey} == {"K=4, n<sub>c</sub>=10", "LS (α = 0.1)"}
    assert "λ<sub>min</sub>" in fig.layout.yaxis.title.text


def test_angles_axes_are_named_and_wide_enough():
    rows = np.eye(4, 3)
    fig = collapse.angles_figure({"s": rows})
    assert list(fig.layout.scene.xaxis.range) == [-1.25, 1.25] and "w<sub>k" in fig.layout.scene.zaxis.title.text
    fig = collapse.angles_figure({"s": np.eye(4, 2)})
    assert fig.layout.xaxis.title.text == "coordinate 1 of w<sub>k</sub>"
    assert list(fig.layout.yaxis.range) == [-1.25, 1.25]


def test_minority_collapse_axes():
    R = np.array([1.0, 10.0, 100.0, 1000.0])
    grams = {"a": np.stack([np.eye(3)] * 4)}
    fig = collapse.minority_collapse_figure(R, {"a": [0.1, 0.2, 0.3, 0.4]}, grams, minority=[2])
    assert list(fig.layout.xaxis.tickvals) == [1, 10, 100, 1000]
    assert fig.layout.xaxis2.title.text == fig.layout.yaxis2.title.text == "class (* = minority)"
