"""Tests of landscape_lib.explore: the live-widget helper and the explorers that compute a landscape on the spot
(chapter 2's tensor landscape, chapter 3's data landscape) and hand it to the figure builders."""

from __future__ import annotations

import re

import numpy as np
import pytest

widgets = pytest.importorskip("ipywidgets")
go = pytest.importorskip("plotly.graph_objects")

from landscape_lib import dictionary, explore, generators, objectives, sphere  # noqa: E402

# ---------------------------------------------------------------------------------------------------
# live_figure
# ---------------------------------------------------------------------------------------------------

def scatter(a=1.0, kind="line"):
    return go.Figure(go.Scatter(x=[0, 1], y=[0, a], mode="lines" if kind == "line" else "markers"))


def figure_in(box):
    output = box.children[-1]
    (shown,) = output.outputs
    return shown["data"]["application/vnd.plotly.v1+json"]


@pytest.fixture(autouse=True)
def mimetype_renderer(monkeypatch):
    # Outside a kernel plotly's default renderer is a browser; a kernel uses its own MIME type.
    import plotly.io as pio

    monkeypatch.setattr(pio.renderers, "default", "plotly_mimetype")


def test_draws_once_and_redraws_on_change():
    slider = widgets.FloatSlider(value=1.0, min=0.0, max=2.0)
    menu = widgets.Dropdown(options=["line", "dots"], value="line")
    box = explore.live_figure(scatter, {"a": slider, "kind": menu})
    assert figure_in(box)["data"][0]["y"][1] == 1.0
    slider.value = 1.5
    menu.value = "dots"
    fig = figure_in(box)
    assert fig["data"][0]["y"][1] == 1.5 and fig["data"][0]["mode"] == "markers"
    assert len(box.children[-1].outputs) == 1, "each redraw replaces the figure"


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="callable"):
        explore.live_figure(None, {"a": widgets.IntSlider()})
    with pytest.raises(ValueError, match="at least one"):
        explore.live_figure(scatter, {})
    with pytest.raises(ValueError, match="value widget"):
        explore.live_figure(scatter, {"a": 3})


# ---------------------------------------------------------------------------------------------------
# tensor_landscape (chapter 2)
# ---------------------------------------------------------------------------------------------------

def test_tensor_landscape_both_views_and_bad_frame():
    fig = explore.tensor_landscape(n=5, m=10, frame="random", seed=1)
    assert len(fig.data) == 1 and isinstance(fig.data[0], go.Histogram) and len(fig.data[0].x) == 200
    fig3 = explore.tensor_landscape(n=3, m=4, frame="harmonic", seed=0)
    assert isinstance(fig3.data[0], go.Surface) and len(fig3.data) == 6
    assert "μ" in fig3.layout.title.text
    # the sphere view draws the critical points the library finds: ±q per type, counts in the title
    assert [len(t.x) for t in fig3.data[2:]] == [8, 12, 6, 0]
    assert fig3.layout.title.text.endswith("8 minimizer, 12 strict saddle, 6 maximizer")
    with pytest.raises(ValueError, match="frame must be one of"):
        explore.tensor_landscape(n=3, m=4, frame="nope")


# ---------------------------------------------------------------------------------------------------
# data_landscape (chapter 3)
# ---------------------------------------------------------------------------------------------------

M, THETA, P, SEED = 4, 0.3, 500, 1


def _expected(m, theta, p, seed):
    """The snapshot's numbers recomputed with the library: A, the mesh, f_A and f_Y + gamma on it."""
    A = generators.tight_frame(3, m, low_coherence=True, rng=seed)
    Y, _ = dictionary.sample_data(A, p, theta, rng=seed + 1)
    mesh = sphere.lat_lon_mesh(25, 49)
    tensor = objectives.TensorObjective(A).value(mesh)
    data = objectives.DataObjective(Y, theta).value(mesh) + dictionary.normalization_offset(3, m, theta)
    return A, mesh, tensor, data


def _gap_in_title(fig) -> float:
    return float(re.search(r"largest gap (\S+)$", fig.layout.title.text).group(1))


@pytest.fixture(scope="module")
def snapshot():
    return explore.data_landscape(m=M, theta=THETA, p=P, seed=SEED)


def test_data_landscape_traces_panels_and_slider(snapshot):
    fig = snapshot
    assert isinstance(fig, go.Figure)
    assert [type(t).__name__ for t in fig.data] == ["Surface", "Surface", "Scatter3d", "Scatter3d"]
    assert [t.scene for t in fig.data] == ["scene", "scene2", "scene", "scene2"]
    # the true columns ±a_i on both spheres, one legend entry
    assert [t.name for t in fig.data[2:]] == ["±aᵢ", "±aᵢ"]
    assert [bool(t.showlegend) for t in fig.data[2:]] == [True, False]
    assert [a.text for a in fig.layout.annotations] == ["tensor objective f<sub>A</sub>",
                                                        f"data objective f<sub>Ỹ</sub> + ω, p = {P}"]
    # one sample size: one frame and one slider step, named by p
    assert [f.name for f in fig.frames] == [str(P)]
    assert [s.label for s in fig.layout.sliders[0].steps] == [str(P)]
    assert fig.layout.title.text.startswith(f"m = {M}, θ = {THETA:g}, p = {P}: largest gap ")
    for scene in (fig.layout.scene, fig.layout.scene2):
        # chapter 2's sphere scene (room for the markers just outside the sphere)
        assert scene.aspectmode == "cube" and tuple(scene.xaxis.range) == (-1.15, 1.15)
    assert len(fig.to_json()) < 250_000


def test_data_landscape_draws_the_library_landscapes(snapshot):
    fig = snapshot
    A, mesh, tensor, data = _expected(M, THETA, P, SEED)
    surf_t, surf_d = fig.data[0], fig.data[1]
    np.testing.assert_allclose(np.asarray(surf_t.x), np.round(mesh[..., 0], 3))
    np.testing.assert_allclose(np.asarray(surf_t.z), np.round(mesh[..., 2], 3))
    np.testing.assert_allclose(np.asarray(surf_t.surfacecolor), np.round(tensor, 4))
    np.testing.assert_allclose(np.asarray(surf_d.surfacecolor), np.round(data, 4))
    np.testing.assert_allclose(np.asarray(fig.frames[0].data[0].surfacecolor), np.round(data, 4))
    # both panels share one colour scale that spans the tensor objective
    assert surf_t.cmin == surf_d.cmin <= tensor.min() + 1e-4 and surf_t.cmax == surf_d.cmax >= tensor.max() - 1e-4
    # markers: ±a_i just outside the sphere
    pts = np.c_[fig.data[2].x, fig.data[2].y, fig.data[2].z]
    np.testing.assert_allclose(pts, 1.03 * np.vstack([A.T, -A.T]), atol=2e-3)
    # the printed gap is the largest difference of the two landscapes on the mesh
    assert _gap_in_title(fig) == pytest.approx(np.max(np.abs(data - tensor)), rel=1e-2)


def test_data_landscape_is_reproducible_and_gap_shrinks_with_samples():
    a = explore.data_landscape(m=6, theta=0.2, p=100, seed=0)
    b = explore.data_landscape(m=6, theta=0.2, p=100, seed=0)
    assert a.to_json() == b.to_json()
    c = explore.data_landscape(m=6, theta=0.2, p=100, seed=3)
    assert not np.allclose(np.asarray(a.data[1].surfacecolor), np.asarray(c.data[1].surfacecolor))
    # the data landscape approaches the tensor landscape as p grows (the chapter's point), here 30× the samples
    assert _gap_in_title(explore.data_landscape(m=6, theta=0.2, p=3000, seed=0)) < 0.5 * _gap_in_title(a)


@pytest.mark.parametrize(("kw", "match"), [
    (dict(m=2), "m >= n"),                              # fewer columns than the dimension 3
    (dict(theta=0.0), r"theta must lie in the open interval \(0.0, 1.0\)"),
    (dict(theta=1.5), r"theta must lie in the open interval \(0.0, 1.0\)"),
    (dict(p=0), "^p must be >= 1"),
])
def test_data_landscape_bad_parameters(kw, match):
    with pytest.raises(ValueError, match=match):
        explore.data_landscape(**{"p": 100, **kw})


def test_gradient_descent_path_title_reports_the_run():
    import numpy as np

    from landscape_lib import explore, toy2d

    toy = toy2d.strict_saddle()
    fig = explore.gradient_descent_path(toy, [1.0, 0.0], step=0.1, n_iter=20)
    gd = [tr for tr in fig.data if tr.name == "gradient descent"]
    assert len(gd) == 1
    # On the stable manifold (the x-axis) gradient descent moves toward the saddle along y = 0.
    assert np.all(np.asarray(gd[0].y) == 0) and gd[0].x[-1] < gd[0].x[0]
    assert fig.layout.title.text.startswith("20 steps of size 0.1")
