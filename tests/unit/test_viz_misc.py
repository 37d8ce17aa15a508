"""Tests of the remaining figure helpers: landscape_lib.viz.dictionary.landscape_snapshot (the live widget of
chapter 3, which computes its landscape on the spot) and landscape_lib.viz.style.base_layout (the layout
every figure of the book starts from)."""

from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go
import pytest

from landscape_lib import dictionary, generators, objectives
from landscape_lib.viz import dictionary as vd
from landscape_lib.viz.sphere import sphere_mesh
from landscape_lib.viz.style import base_layout

# ---------------------------------------------------------------------------------------------------
# landscape_snapshot
# ---------------------------------------------------------------------------------------------------

M, THETA, P, SEED = 4, 0.3, 500, 1


def _expected(m, theta, p, seed):
    """The snapshot's numbers recomputed with the library: A, the mesh, f_A and f_Y + gamma on it."""
    A = generators.tight_frame(3, m, low_coherence=True, rng=seed)
    Y, _ = dictionary.sample_data(A, p, theta, rng=seed + 1)
    mesh = sphere_mesh(25, 49)
    tensor = objectives.l4_value(A, mesh)
    data = dictionary.data_objective(Y, mesh, theta) + dictionary.normalization_offset(3, m, theta)
    return A, mesh, tensor, data


def _gap_in_title(fig) -> float:
    return float(re.search(r"largest gap (\S+)$", fig.layout.title.text).group(1))


@pytest.fixture(scope="module")
def snapshot():
    return vd.landscape_snapshot(m=M, theta=THETA, p=P, seed=SEED)


def test_landscape_snapshot_traces_panels_and_slider(snapshot):
    fig = snapshot
    assert isinstance(fig, go.Figure)
    assert [type(t).__name__ for t in fig.data] == ["Surface", "Surface", "Scatter3d", "Scatter3d"]
    assert [t.scene for t in fig.data] == ["scene", "scene2", "scene", "scene2"]
    # the true columns ±a_i on both spheres, one legend entry
    assert [t.name for t in fig.data[2:]] == ["±aᵢ", "±aᵢ"]
    assert [bool(t.showlegend) for t in fig.data[2:]] == [True, False]
    assert [a.text for a in fig.layout.annotations] == ["tensor objective f_A", f"data objective f_Ỹ + γ, p = {P}"]
    # one sample size: one frame and one slider step, named by p
    assert [f.name for f in fig.frames] == [str(P)]
    assert [s.label for s in fig.layout.sliders[0].steps] == [str(P)]
    assert fig.layout.title.text.startswith(f"m = {M}, θ = {THETA:g}, p = {P}: largest gap ")
    for scene in (fig.layout.scene, fig.layout.scene2):
        assert scene.aspectmode == "cube" and tuple(scene.xaxis.range) == (-1.05, 1.05)
    assert len(fig.to_json()) < 250_000


def test_landscape_snapshot_draws_the_library_landscapes(snapshot):
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


def test_landscape_snapshot_is_reproducible_and_gap_shrinks_with_samples():
    a = vd.landscape_snapshot(m=6, theta=0.2, p=100, seed=0)
    b = vd.landscape_snapshot(m=6, theta=0.2, p=100, seed=0)
    assert a.to_json() == b.to_json()
    c = vd.landscape_snapshot(m=6, theta=0.2, p=100, seed=3)
    assert not np.allclose(np.asarray(a.data[1].surfacecolor), np.asarray(c.data[1].surfacecolor))
    # the data landscape approaches the tensor landscape as p grows (the chapter's point), here 30× the samples
    assert _gap_in_title(vd.landscape_snapshot(m=6, theta=0.2, p=3000, seed=0)) < 0.5 * _gap_in_title(a)


@pytest.mark.parametrize(("kw", "match"), [
    (dict(m=2), "m >= n"),                              # fewer columns than the dimension 3
    (dict(theta=0.0), r"theta must lie in the open interval \(0.0, 1.0\)"),
    (dict(theta=1.5), r"theta must lie in the open interval \(0.0, 1.0\)"),
    (dict(p=0), "p .* must be >= 1"),
])
def test_landscape_snapshot_bad_parameters(kw, match):
    with pytest.raises(ValueError, match=match):
        vd.landscape_snapshot(**{"p": 100, **kw})


# ---------------------------------------------------------------------------------------------------
# base_layout
# ---------------------------------------------------------------------------------------------------

def test_base_layout_defaults_without_title():
    layout = base_layout()
    assert layout == {"template": "plotly_white", "height": 480, "margin": {"l": 40, "r": 20, "t": 20, "b": 40}}


def test_base_layout_title_height_and_width():
    layout = base_layout("A title", height=300, width=500)
    assert layout["title"] == {"text": "A title", "x": 0.5}       # centred
    assert layout["margin"]["t"] == 60                            # room for the title
    assert layout["height"] == 300 and layout["width"] == 500
    # an empty title is no title; no width leaves the width to the page
    assert "title" not in base_layout("") and base_layout("")["margin"]["t"] == 20
    assert "width" not in base_layout("t") and "width" not in base_layout("t", width=None)


def test_base_layout_returns_a_fresh_dict_that_plotly_accepts():
    first = base_layout("x")
    first["margin"]["t"] = 999
    first["height"] = 1
    assert base_layout("x")["margin"]["t"] == 60 and base_layout("x")["height"] == 480
    fig = go.Figure(layout=base_layout("shown", height=350, width=640))
    assert fig.layout.title.text == "shown" and fig.layout.title.x == 0.5
    assert fig.layout.height == 350 and fig.layout.width == 640
    assert fig.layout.margin.t == 60 and fig.layout.margin.l == 40
    assert fig.layout.template.layout.paper_bgcolor == "white"     # the plotly_white template was applied
