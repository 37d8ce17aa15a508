"""Shared look of the book's figures: one colour and marker per critical-point type, compact layout."""

from __future__ import annotations

import re

import numpy as np

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
#: Paths drawn over a Viridis contour plot (gradient-descent runs): Okabe–Ito reddish purple reads on both
#: ends of Viridis and, unlike white, on the white legend too.
PATH_COLOR = "#CC79A7"
#: Circles and guides drawn over a Viridis contour plot (e.g. an escape radius): Okabe–Ito sky blue, for the
#: same reason.
GUIDE_COLOR = "#56B4E9"

#: 3-D scene of a unit sphere (chapters 2 and 3): axes q₁, q₂, q₃ without tick labels (the coordinates are
#: not what a sphere figure shows, and the labels of the left axis were cut at a figure's edge), a cube
#: over [-1.15, 1.15]³ (room for markers just outside the sphere) and one camera for every sphere.
_SPHERE_AXIS = dict(range=[-1.15, 1.15], showticklabels=False, title="")
SPHERE_SCENE = dict(aspectmode="cube", xaxis=dict(_SPHERE_AXIS, title="q₁"), yaxis=dict(_SPHERE_AXIS, title="q₂"),
                    zaxis=dict(_SPHERE_AXIS, title="q₃"), camera=dict(eye=dict(x=1.5, y=1.2, z=0.9)))

#: Longest line of a figure title, in characters. Plotly never wraps a title: one longer than the figure
#: is cut off at both ends. A 17 px title line of 80 characters is about 580 px wide, within the book's
#: text width (688 px in a 1280 px window); longer titles are broken into lines (:func:`wrap_title`).
TITLE_CHARS = 80
#: Height of one title line in px (17 px font): the top margin grows by this much per extra line.
TITLE_LINE = 22
#: Room a dropdown menu takes between the title and the plot area (px), see :func:`menu_above_plot`.
MENU_ROOM = 40
#: Room a row of subplot titles takes below the figure title (px).
SUBPLOT_TITLE_ROOM = 16


def wrap_title(text: str, width: int = TITLE_CHARS) -> str:
    """``text`` broken at spaces into lines of about equal length, none longer than ``width`` characters
    (unless a single word is), joined by ``<br>`` (plotly's line break).

    Titles that already hold a ``<br>``, or TeX (``$``, which MathJax typesets as one unit), are returned
    unchanged.
    """
    if len(text) <= width or "<br>" in text or "$" in text:
        return text
    words = text.split(" ")
    n_lines = -(-len(text) // width)
    # Aim at equal lines: greedy filling to the average length, never past ``width``.
    target = min(width, -(-len(text) // n_lines) + 8)
    lines, line = [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > target:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "<br>".join(lines)


#: Greek letters that labels built from code may spell out (e.g. ``str`` of a loss: "alpha = 0.1").
_GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "lambda": "λ", "tau": "τ"}


def plotly_label(text: str) -> str:
    """``text`` as plotly should show it: ``n_c`` → ``n<sub>c</sub>``, ``λ_min`` → ``λ<sub>min</sub>``,
    spelled-out Greek letters (``alpha``, ``gamma``, ...) as letters.

    Plotly writes ``_`` literally. A subscript is a single letter (Latin or Greek) followed by ``_`` and
    a word; longer names such as ``train_acc`` are left alone.
    """
    out = re.sub(r"(?<![\w])([A-Za-zΑ-Ωα-ω])_([A-Za-z0-9]+)", r"\1<sub>\2</sub>", text)
    return re.sub(r"\b(" + "|".join(_GREEK) + r")\b", lambda m: _GREEK[m.group(1)], out)


def base_layout(title: str | None = None, *, height: int = 480, width: int | None = None, top: int = 0) -> dict:
    """Layout defaults shared by every figure (white template, compact margins).

    Parameters
    ----------
    title : str, optional
        Centred; wrapped by :func:`wrap_title` when longer than :data:`TITLE_CHARS` (the top margin grows by
        :data:`TITLE_LINE` per extra line); ``n_c``-style subscripts shown by :func:`plotly_label`.
    height : int, default 480
    width : int, optional
        Leave it unset in the book: the figure then takes the page's text width (a fixed width wider than
        the page is cut off at the right).
    top : int, default 0
        Extra room (px) between the title and the plot area, e.g. :data:`MENU_ROOM` for a dropdown or
        :data:`SUBPLOT_TITLE_ROOM` for subplot titles.

    Notes
    -----
    The template's paper and plot backgrounds are white (not transparent), so a figure stays readable on
    the dark page of the book's dark mode (pydata-sphinx-theme), whose text colour would not show on it.
    """
    text = wrap_title(title) if title else None
    lines = text.count("<br>") + 1 if text else 0
    layout = dict(template="plotly_white", height=height,
                  margin=dict(l=40, r=20, t=(60 + TITLE_LINE * (lines - 1) if text else 20) + top, b=40))
    if text:
        # Subscripts written with "_" in a chapter's title (n_c, λ_min) as plotly's <sub> (not in TeX).
        layout["title"] = dict(text=text if "$" in text else plotly_label(text), x=0.5)
        if lines > 1:
            # Plotly puts a title's first baseline at the middle of the top margin ("auto"), so the lines
            # of a long one run down onto subplot titles; hang it from the top edge instead.
            layout["title"].update(yref="container", y=1, yanchor="top", pad=dict(t=14))
    if width:
        layout["width"] = width
    return layout


def menu_above_plot(buttons: list, **options) -> dict:
    """A plotly dropdown (``updatemenus`` entry) at the top left, between the title and the plot area.

    Give the figure ``base_layout(..., top=MENU_ROOM)`` so that the menu has room there: placed over the
    title (plotly's usual ``y > 1``) it hides part of any title longer than half the figure's width.
    ``options`` override the entry's defaults (e.g. ``active``).
    """
    menu = dict(buttons=buttons, type="dropdown", direction="down", showactive=True, x=0.0, xanchor="left",
                y=1.0, yanchor="bottom", pad=dict(b=8, t=0, l=0, r=0))
    menu.update(options)
    return menu


#: Mantissas of the tick sequences tried, in order, when the values span too few decades for powers of ten.
_TICK_MANTISSAS = ((1, 2, 5), (1, 2, 3, 5), (1, 1.5, 2, 3, 4, 5, 6, 8))
#: At most this many power-of-ten labels on one axis (more: every second, third, ... decade).
_MAX_DECADES = 6


def tick_label(value: float, *, powers: bool = True) -> str:
    """``1``, ``10``, ``10⁻³``-style labels for powers of ten; plain decimals (``0.2``, ``30``) otherwise.

    With ``powers=False`` a power of ten between ``1e-4`` and ``1e4`` is a plain decimal too (``0.1``,
    ``100``), so that a 1-2-5 sequence reads in one format (``0.05, 0.1, 0.2``, not ``0.05, 10⁻¹, 0.2``).
    """
    exponent = int(np.floor(np.log10(value) + 1e-9))
    mantissa = value / 10.0 ** exponent
    if abs(mantissa - 1) < 1e-9 and (powers or not -4 <= exponent <= 4):
        return "1" if exponent == 0 else "10" if exponent == 1 else f"10<sup>{exponent}</sup>".replace("-", "−")
    if -4 <= exponent <= 4:
        return f"{value:g}"
    return f"{mantissa:g}·10<sup>{exponent}</sup>".replace("-", "−")


def log_ticks(values) -> dict:
    """Tick values and labels of a logarithmic axis over ``values``: a few, never crowded.

    Powers of ten when at least three lie within the values' range (every second or third one when more
    than :data:`_MAX_DECADES` do); otherwise the first sequence of :data:`_TICK_MANTISSAS` times powers of
    ten that puts at least three ticks within the range, so that a panel spanning less than a decade
    still has a readable scale (but the two powers of ten alone where that sequence would crowd the
    axis with more than ``_MAX_DECADES + 1`` labels). Ticks lie within the range of the values, which
    plotly's autorange covers.

    Parameters
    ----------
    values : iterable of float or None
        The values drawn on the axis (all traces of the panel); ``None``, non-finite and non-positive
        entries are ignored (a log axis does not draw them).

    Returns
    -------
    dict
        ``tickmode``, ``tickvals`` and ``ticktext`` for ``update_yaxes``/``update_xaxes``; empty when no
        value is positive (plotly's defaults then apply to an empty panel).
    """
    v = np.array([x for x in values if x is not None], dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return {}
    lo, hi = np.log10(v.min()), np.log10(v.max())
    eps = 1e-9  # a value that is a power of ten up to round-off counts as one
    decades = np.arange(np.ceil(lo - eps), np.floor(hi + eps) + 1)
    if decades.size >= 3:
        step = -(-decades.size // _MAX_DECADES)
        ticks = [10.0 ** k for k in decades[::step]]
    else:
        exponents = range(int(np.floor(lo)) - 1, int(np.ceil(hi)) + 1)
        for mantissas in _TICK_MANTISSAS:
            ticks = [float(f"{m * 10.0 ** k:.6g}") for k in exponents for m in mantissas
                     if lo - eps <= np.log10(m) + k <= hi + eps]
            if len(ticks) >= 3:
                break
        if len(ticks) > _MAX_DECADES + 1 and decades.size == 2:  # 1-2-5 over two decades: too many
            ticks = [10.0 ** k for k in decades]
        elif len(ticks) < 2:  # a range narrower than the finest sequence: its ends, labelled to 2 digits
            ticks = sorted({float(f"{10.0 ** lo:.2g}"), float(f"{10.0 ** hi:.2g}")})
    # Powers of ten alone read as 10^k; a sequence with mantissas reads as plain decimals throughout.
    powers = all(abs(np.log10(t) - round(np.log10(t))) < 1e-9 for t in ticks)
    return dict(tickmode="array", tickvals=ticks, ticktext=[tick_label(t, powers=powers) for t in ticks])
