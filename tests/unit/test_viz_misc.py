"""Tests of the remaining figure helper: landscape_lib.viz.style.base_layout (the layout every figure of the book
starts from)."""

from __future__ import annotations

import plotly.graph_objects as go

from landscape_lib.viz.style import base_layout

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
