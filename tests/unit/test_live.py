"""landscape_lib.viz.live: the chapters' ipywidgets cells."""

from __future__ import annotations

import pytest

widgets = pytest.importorskip("ipywidgets")
go = pytest.importorskip("plotly.graph_objects")
from landscape_lib.viz.live import live_figure  # noqa: E402


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
    box = live_figure(scatter, {"a": slider, "kind": menu})
    assert figure_in(box)["data"][0]["y"][1] == 1.0
    slider.value = 1.5
    menu.value = "dots"
    fig = figure_in(box)
    assert fig["data"][0]["y"][1] == 1.5 and fig["data"][0]["mode"] == "markers"
    assert len(box.children[-1].outputs) == 1, "each redraw replaces the figure"


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="callable"):
        live_figure(None, {"a": widgets.IntSlider()})
    with pytest.raises(ValueError, match="at least one"):
        live_figure(scatter, {})
    with pytest.raises(ValueError, match="value widget"):
        live_figure(scatter, {"a": 3})
