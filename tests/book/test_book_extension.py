"""The myst-nb plugin that draws plotly figures in the HTML book."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("docutils")
from landscape_lib._book_plugin import PLOTLY_MIME, PlotlyMimeRenderer, figure_html  # noqa: E402


def test_figure_html_is_deterministic_and_escapes_script_end():
    fig = {"data": [{"type": "scatter", "x": [1, 2], "y": [3, 4], "name": "</script><b>"}],
           "layout": {"height": 321}, "frames": [{"name": "f0", "data": []}]}
    html = figure_html(fig)
    assert html == figure_html(json.loads(json.dumps(fig)))
    assert html.count("</script>") == 1, "a '</script>' inside the data must be escaped"
    assert "height:321px" in html and "landscapeDrawPlotly" in html and '"frames"' in html


def test_plugin_ranks_plotly_first_for_html_and_ignores_other_types():
    assert ("html", PLOTLY_MIME, 1) in PlotlyMimeRenderer.mime_priority_overrides

    class Data:
        mime_type = "text/plain"
        content = "x"

    assert PlotlyMimeRenderer.handle_mime(None, Data(), False) is None
    Data.mime_type, Data.content = PLOTLY_MIME, {"data": [], "layout": {}}
    (node,) = PlotlyMimeRenderer.handle_mime(None, Data(), False)
    assert node["format"] == "html" and "plotly-graph-div" in node.astext()
