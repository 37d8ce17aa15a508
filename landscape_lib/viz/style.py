"""Shared look of the book's figures: one colour and marker per critical-point type, compact layout."""

from __future__ import annotations

from ..critical import CriticalType

#: Colour per critical-point type (colour-blind safe: Okabe–Ito palette).
CRITICAL_COLORS = {
    CriticalType.MINIMIZER: "#0072B2",
    CriticalType.STRICT_SADDLE: "#E69F00",
    CriticalType.MAXIMIZER: "#D55E00",
    CriticalType.DEGENERATE: "#009E73",
}
#: Plotly marker symbol per critical-point type.
CRITICAL_SYMBOLS = {
    CriticalType.MINIMIZER: "circle",
    CriticalType.STRICT_SADDLE: "x",
    CriticalType.MAXIMIZER: "diamond",
    CriticalType.DEGENERATE: "square",
}
#: Marker symbol per critical-point type in 3-D scenes. Plotly draws 3-D markers as text glyphs, and its
#: "x" is the emoji cross mark (an empty box where no emoji font is installed, a red emoji ignoring the
#: colour where one is); "cross" is a plain glyph.
CRITICAL_SYMBOLS_3D = {
    CriticalType.MINIMIZER: "circle",
    CriticalType.STRICT_SADDLE: "cross",
    CriticalType.MAXIMIZER: "diamond",
    CriticalType.DEGENERATE: "square",
}
#: Height of markers above a surface, as a fraction of the surface's range of values: surfaces are drawn
#: opaque (WebGL's transparency sorting shows the far side through a translucent one as a seam), so a
#: marker exactly on the surface would be half hidden.
MARKER_LIFT = 0.04
#: A categorical sequence for lines (Okabe–Ito).
LINE_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]


def base_layout(title: str | None = None, *, height: int = 480, width: int | None = None) -> dict:
    """Layout defaults shared by every figure (white template, compact margins)."""
    layout = dict(template="plotly_white", height=height, margin=dict(l=40, r=20, t=60 if title else 20, b=40))
    if title:
        layout["title"] = dict(text=title, x=0.5)
    if width:
        layout["width"] = width
    return layout
