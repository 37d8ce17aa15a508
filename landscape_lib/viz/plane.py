"""Figures of chapter 1: landscapes in the plane, critical points by type, saddle escape, basins.

Every function returns a :class:`plotly.graph_objects.Figure` (never shown, no renderer set). Colours and
markers per critical-point type come from :mod:`landscape_lib.viz.style`. Interactivity that works in the
static book (dropdowns, sliders) is precomputed here in Python: every state is a trace whose visibility a
button or slider step switches.
"""

from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .._validation import as_float_array
from ..critical import TYPE_ORDER, CriticalType
from .style import (
    CRITICAL_COLORS,
    CRITICAL_SYMBOLS,
    CRITICAL_SYMBOLS_3D,
    GUIDE_COLOR,
    LINE_COLORS,
    MARKER_LIFT,
    MENU_ROOM,
    PATH_COLOR,
    SUBPLOT_TITLE_ROOM,
    base_layout,
    menu_above_plot,
    tick_label,
)

__all__ = [
    "critical_point_traces", "surface_figure", "contour_figure", "taxonomy_figure", "escape_figure",
    "escape_slider_figure", "perturbed_gd_figure", "basin_figure",
]

# Spurious basins: colours no critical type and no global basin uses (Okabe–Ito and Paul Tol).
_BASIN_COLORS = ["#CC79A7", "#F0E442", "#999933", "#882255", "#332288"]
# Global basins: the minimizer blue, then the Okabe–Ito sky blue, alternating, so that two global basins
# side by side stay apart while both read as "global" (blue).
_GLOBAL_BASIN_COLORS = [CRITICAL_COLORS[CriticalType.MINIMIZER], "#56B4E9"]
# Ticks at -1, 0, 1 only: plotly's default five or more per axis run into each other at the scene's front
# corner, where the x and y labels meet.
_SCENE = dict(xaxis=dict(title="x", tickvals=[-1, 0, 1]), yaxis=dict(title="y", tickvals=[-1, 0, 1]),
              zaxis_title="f", aspectmode="manual",
              aspectratio=dict(x=1, y=1, z=0.6), camera=dict(eye=dict(x=1.3, y=-1.3, z=1.7)))
_DIGITS = 4  # coordinates are rounded to this many decimals: small figures, stable output


def _grid(toy, resolution: int):
    (x0, x1), (y0, y1) = toy.domain
    xs = np.linspace(x0, x1, resolution)
    ys = np.linspace(y0, y1, resolution)
    gx, gy = np.meshgrid(xs, ys)
    z = toy.value(np.stack([gx, gy], axis=-1))
    return np.round(xs, _DIGITS), np.round(ys, _DIGITS), np.round(z, _DIGITS)


def _points_and_types(toy, critical):
    """(points, types) from a CriticalPoints result, or the toy's known ones when ``critical`` is None."""
    if critical is None:
        return toy.critical_points, tuple(toy.critical_types)
    return critical.points, tuple(critical.types)


def critical_point_traces(points, types, *, values=None, showlegend: bool = True, size: int = 10,
                          lift: float = 0.0) -> list:
    """One scatter trace per critical-point type (colour and symbol from :mod:`.style`).

    Parameters
    ----------
    points : array_like of shape (K, 2)
    types : sequence of CriticalType, length K
    values : array_like of shape (K,), optional
        Function values: when given the traces are 3-D (``Scatter3d``) at height ``values + lift``.
    lift : float, default 0
        Height above the surface, so that markers on an opaque surface stay visible.
    """
    pts = as_float_array(points, "points", ndim=2, last_dim=2, allow_empty=True)
    types = tuple(types)
    if len(types) != pts.shape[0]:
        raise ValueError(f"types must have one entry per point ({pts.shape[0]}); got {len(types)}")
    vals = None if values is None else as_float_array(values, "values", ndim=1, allow_empty=True)
    traces = []
    for kind in TYPE_ORDER:
        sel = np.array([t == kind for t in types], dtype=bool)
        if not sel.any():
            continue
        p = np.round(pts[sel], _DIGITS) + 0.0
        text = [f"{kind.value} ({x:.3f}, {y:.3f})" for x, y in p]
        common = dict(mode="markers", name=kind.value, text=text, hoverinfo="text", showlegend=showlegend,
                      legendgroup=kind.value)
        if vals is None:
            traces.append(go.Scatter(x=p[:, 0], y=p[:, 1], marker=dict(
                color=CRITICAL_COLORS[kind], symbol=CRITICAL_SYMBOLS[kind], size=size,
                line=dict(color="white", width=1)), **common))
        else:
            traces.append(go.Scatter3d(x=p[:, 0], y=p[:, 1], z=np.round(vals[sel] + lift, _DIGITS), marker=dict(
                color=CRITICAL_COLORS[kind], symbol=CRITICAL_SYMBOLS_3D[kind], size=size * 0.8,
                line=dict(color="black", width=1)), **common))
    return traces


def surface_figure(toy, critical=None, *, resolution: int = 41, title: str | None = None) -> go.Figure:
    """3-D surface of ``toy`` over its domain with its critical points marked by type.

    ``critical`` is a :class:`~landscape_lib.critical.CriticalPoints` (default: the known points).
    """
    xs, ys, z = _grid(toy, resolution)
    pts, types = _points_and_types(toy, critical)
    fig = go.Figure([go.Surface(x=xs, y=ys, z=z, colorscale="Viridis", showscale=False,
                                name="f", hoverinfo="x+y+z")])
    fig.add_traces(critical_point_traces(pts, types, values=toy.value(pts) if len(pts) else np.empty(0),
                                         lift=MARKER_LIFT * float(np.ptp(z))))
    fig.update_layout(**base_layout(title or f"f(x, y) = {_plain(toy.formula)}", height=520))
    fig.update_layout(scene=_SCENE)
    return fig


def contour_figure(toy, critical=None, *, trajectories=None, resolution: int = 101, title: str | None = None,
                   ncontours: int = 30) -> go.Figure:
    """Filled contour plot of ``toy`` with critical points by type and optional trajectories.

    Parameters
    ----------
    trajectories : array_like of shape (T, N, 2), optional
        Paths to draw as lines (e.g. ``GDResult.trajectory``).
    """
    xs, ys, z = _grid(toy, resolution)
    pts, types = _points_and_types(toy, critical)
    fig = go.Figure([go.Contour(x=xs, y=ys, z=z, colorscale="Viridis", ncontours=ncontours, showscale=True,
                                colorbar=dict(title="f", thickness=12, x=1.0, len=0.75, y=0.4),
                                name="f", hoverinfo="x+y+z",
                                contours=dict(coloring="heatmap"), line=dict(width=0.5))])
    if trajectories is not None:
        tr = as_float_array(trajectories, "trajectories", ndim=3, last_dim=2)
        for j in range(tr.shape[1]):
            p = _thin(tr[:, j])
            fig.add_trace(go.Scatter(x=p[:, 0], y=p[:, 1], mode="lines", line=dict(color=PATH_COLOR, width=1.5),
                                     showlegend=j == 0, name="gradient descent", legendgroup="gd",
                                     hoverinfo="skip"))
    fig.add_traces(critical_point_traces(pts, types))
    _square_axes(fig, toy)
    # No fixed width: wider than the page's text, a figure is cut off at the right. The legend sits in a
    # row between the title and the plot.
    fig.update_layout(**base_layout(title or f"f(x, y) = {_plain(toy.formula)}", height=520, top=30))
    fig.update_layout(legend=dict(x=0.0, y=1.0, yanchor="bottom", orientation="h"))
    return fig


def taxonomy_figure(toys, criticals=None, *, resolution: int = 41) -> go.Figure:
    """One 3-D figure with a dropdown that switches between the examples (works in the static book).

    Parameters
    ----------
    toys : sequence of Toy2D
    criticals : sequence of landscape_lib.critical.CriticalPoints or None, optional
        Numerically found critical points per example (default: the known ones).
    """
    toys = list(toys)
    criticals = [None] * len(toys) if criticals is None else list(criticals)
    if len(criticals) != len(toys):
        raise ValueError(f"criticals must have one entry per example ({len(toys)}); got {len(criticals)}")
    fig = go.Figure()
    owner = []
    for i, (toy, crit) in enumerate(zip(toys, criticals, strict=True)):
        xs, ys, z = _grid(toy, resolution)
        fig.add_trace(go.Surface(x=xs, y=ys, z=z, colorscale="Viridis", showscale=False,
                                 name=toy.name, visible=i == 0, hoverinfo="x+y+z"))
        owner.append(i)
        pts, types = _points_and_types(toy, crit)
        for tr in critical_point_traces(pts, types, values=toy.value(pts), lift=MARKER_LIFT * float(np.ptp(z))):
            tr.visible = i == 0
            fig.add_trace(tr)
            owner.append(i)
    buttons = []
    for i, toy in enumerate(toys):
        buttons.append(dict(label=toy.name.replace("_", " "), method="update",
                            args=[{"visible": [o == i for o in owner]},
                                  {"title.text": f"f(x, y) = {_plain(toy.formula)}"}]))
    # The menu sits between the title and the scene: the longest formula fills most of the title line.
    fig.update_layout(**base_layout(f"f(x, y) = {_plain(toys[0].formula)}", height=560, top=MENU_ROOM))
    fig.update_layout(updatemenus=[menu_above_plot(buttons)], scene=_SCENE)
    return fig


def escape_figure(strict, flat, *, title: str | None = None) -> go.Figure:
    """Iterations to escape against δ: strict saddles on semilog axes, flat saddles on log–log axes.

    Parameters
    ----------
    strict, flat : sequence of (label, EscapeResult, EscapeLaw)
        Measured counts and the fitted laws (``"log"`` for ``strict``, ``"power"`` for ``flat``); the
        fitted law is drawn as a line and written in the legend. Powers in the labels and laws
        (``x^2``, ``(1/δ)^1.00``) are shown as superscripts.
    title : str, optional
        Figure title, above the two-line panel titles.
    """
    # Two-line panel titles: on one line each is wider than its half of the page and they run together.
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=(
        "strict saddle: semilog axes<br>(straight line = log(1/δ))",
        "flat saddles: log–log axes<br>(straight line = power of 1/δ)"))
    colour = iter(LINE_COLORS)
    for col, group in ((1, strict), (2, flat)):
        for label, res, law in group:
            c = next(colour)
            ok = res.escaped
            d = res.deltas[ok]
            fig.add_trace(go.Scatter(x=d, y=res.iterations[ok], mode="markers",
                                     name=f"{_superscripts(label)}: measured",
                                     marker=dict(color=c, size=8), legendgroup=label), row=1, col=col)
            dd = np.logspace(np.log10(d.min()), np.log10(d.max()), 50)
            fig.add_trace(go.Scatter(x=dd, y=np.round(law.predict(dd), 3), mode="lines",
                                     name=_superscripts(f"{label}: {law.describe()}"), line=dict(color=c, dash="dash"),
                                     legendgroup=label), row=1, col=col)
    # dtick=1: one label per decade (plotly labels 2 and 5 between decades when the range is short).
    fig.update_xaxes(type="log", title_text="δ (initial distance from the saddle)", autorange="reversed",
                     exponentformat="power", dtick=1)
    fig.update_yaxes(title_text="iterations to reach the escape radius", row=1, col=1)
    fig.update_yaxes(type="log", exponentformat="power", dtick=1, title_text="iterations (log scale)", row=1, col=2)
    # Room for the two-line panel titles under the figure title.
    fig.update_layout(**base_layout(title, height=520 if title else 480, top=2 * SUBPLOT_TITLE_ROOM + 8))
    fig.update_layout(legend=dict(orientation="h", y=-0.22, x=0.0), margin=dict(b=150))
    return fig


def escape_slider_figure(toy, trajectories, deltas, escape_iterations, *, critical=None,
                         radius: float | None = None, center=None, max_points: int = 400) -> go.Figure:
    """Gradient-descent paths from several distances δ to a saddle, one slider step per δ.

    Parameters
    ----------
    trajectories : array_like of shape (T, m, 2)
        One path per δ (e.g. ``GDResult.trajectory``); each iterate is drawn as a dot, so the crowding of
        dots near the saddle shows how long the run lingers there.
    deltas : array_like of shape (m,)
    escape_iterations : array_like of shape (m,)
        Shown in the slider label.
    radius, center : optional
        Draw the escape circle of this radius around ``center``.
    """
    tr = as_float_array(trajectories, "trajectories", ndim=3, last_dim=2)
    d = as_float_array(deltas, "deltas", ndim=1)
    k = np.asarray(escape_iterations)
    if tr.shape[1] != d.shape[0] or k.shape != d.shape:
        raise ValueError(f"need one trajectory and one count per delta ({d.shape[0]}); got "
                         f"{tr.shape[1]} trajectories and {k.shape} counts")
    fig = contour_figure(toy, critical, resolution=81)
    n_base = len(fig.data)
    if radius is not None:
        c = np.zeros(2) if center is None else as_float_array(center, "center", ndim=1)
        t = np.linspace(0, 2 * np.pi, 90)
        fig.add_trace(go.Scatter(x=np.round(c[0] + radius * np.cos(t), _DIGITS),
                                 y=np.round(c[1] + radius * np.sin(t), _DIGITS), mode="lines",
                                 line=dict(color=GUIDE_COLOR, dash="dot", width=2), name="escape radius",
                                 hoverinfo="skip"))
        n_base += 1
    for j in range(d.shape[0]):
        p = _thin(tr[:, j], max_points)
        fig.add_trace(go.Scatter(x=p[:, 0], y=p[:, 1], mode="lines+markers", visible=j == 0,
                                 marker=dict(size=4, color="#CC79A7"), line=dict(color="#CC79A7", width=1),
                                 name="GD iterates", hoverinfo="skip"))
    steps = []
    for j in range(d.shape[0]):
        vis = [True] * n_base + [i == j for i in range(d.shape[0])]
        label = f"δ = {tick_label(d[j])}"
        title = f"GD from {label}: {int(k[j])} iterations to escape" if k[j] >= 0 else label
        steps.append(dict(method="update", label=label, args=[{"visible": vis}, {"title.text": title}]))
    first = steps[0]["args"][1]["title.text"]
    fig.update_layout(title=dict(text=first, x=0.5), sliders=[dict(
        active=0, steps=steps, currentvalue=dict(prefix="start: "), pad=dict(t=40))], height=600)
    return fig


def perturbed_gd_figure(toy, result, *, critical=None, n_show: int = 30, max_points: int = 300,
                        title: str | None = None) -> go.Figure:
    """Paths of perturbed gradient descent started exactly at a saddle (left) and their escape times
    (right, histogram); ``title`` above the two panel titles."""
    tr = result.trajectory
    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4], horizontal_spacing=0.1, subplot_titles=(
        "perturbed GD paths from the saddle", f"iterations to reach distance {result.escape_radius:g}"))
    base = contour_figure(toy, critical, resolution=81)
    for trace in base.data:
        if isinstance(trace, go.Contour):
            trace.showscale = False
        fig.add_trace(trace, row=1, col=1)
    for j in range(min(n_show, tr.shape[1])):
        p = _thin(tr[:, j], max_points)
        fig.add_trace(go.Scatter(x=p[:, 0], y=p[:, 1], mode="lines", line=dict(color=PATH_COLOR, width=1),
                                 showlegend=j == 0, name="perturbed GD", legendgroup="pgd", hoverinfo="skip"),
                      row=1, col=1)
    esc = result.escape_iteration[result.escape_iteration >= 0]
    fig.add_trace(go.Histogram(x=esc, nbinsx=20, marker_color=PATH_COLOR, name="escape time",
                               showlegend=False), row=1, col=2)
    (x0, x1), (y0, y1) = toy.domain
    fig.update_xaxes(range=[x0, x1], title_text="x", row=1, col=1)
    fig.update_yaxes(range=[y0, y1], title_text="y", row=1, col=1)
    fig.update_xaxes(title_text="iteration", row=1, col=2)
    fig.update_yaxes(title_text="runs", row=1, col=2)
    # Without a figure title the panel titles still need 50 px above the plots.
    fig.update_layout(**base_layout(title, height=480, top=SUBPLOT_TITLE_ROOM if title else 30))
    return fig


def basin_figure(toy, basins, *, critical=None, title: str | None = None) -> go.Figure:
    """Basin map: each grid start coloured by the minimizer gradient descent reaches from it.

    ``basins`` is a :class:`~landscape_lib.euclidean.BasinMap`. Every global minimizer
    (``basins.global_mask``: there can be several, e.g. ``±x`` of a symmetric landscape) has its basin in
    a blue, alternating the minimizer blue and sky blue so that neighbouring global basins stay apart; the
    spurious basins have colours no critical type uses; starts that reached no minimizer are grey. Each
    minimizer is named in the legend with its value and its share of the starts.
    """
    k = basins.minimizers.shape[0]
    is_global = np.asarray(basins.global_mask, dtype=bool)
    spurious = iter(_BASIN_COLORS * (k // len(_BASIN_COLORS) + 1))
    tints = _global_tints(np.asarray(basins.labels), is_global)
    colours = ["#BBBBBB"] + [tints[i] if is_global[i] else next(spurious) for i in range(k)]
    # A discrete colour scale: label -1 (unresolved) .. k-1 mapped to k+1 flat bands.
    scale = []
    for i, c in enumerate(colours):
        scale += [[i / (k + 1), c], [(i + 1) / (k + 1), c]]
    fig = go.Figure([go.Heatmap(x=np.round(basins.xs, _DIGITS), y=np.round(basins.ys, _DIGITS),
                                z=basins.labels,
                                zmin=-1.5, zmax=k - 0.5, colorscale=scale, showscale=False, opacity=0.75,
                                hovertemplate="start (%{x}, %{y}) → minimizer %{z}<extra></extra>")])
    xs, ys, z = _grid(toy, 81)
    fig.add_trace(go.Contour(x=xs, y=ys, z=z, ncontours=25, contours=dict(coloring="none"),
                             line=dict(color="rgba(0,0,0,0.35)", width=0.6), showscale=False,
                             hoverinfo="skip", name="level sets"))
    frac = basins.fractions
    for i in range(k):
        m = basins.minimizers[i]
        tag = "global" if is_global[i] else "spurious"
        name = f"{tag} min, f = {basins.minimizer_values[i]:.3f}: {100 * frac[i]:.1f}%"
        fig.add_trace(go.Scatter(x=[round(m[0], _DIGITS)], y=[round(m[1], _DIGITS)], mode="markers",
                                 marker=dict(color=colours[1 + i], size=13, symbol="circle",
                                             line=dict(color="black", width=1.5)),
                                 name=name))
    pts, types = _points_and_types(toy, critical)
    others = [i for i, t in enumerate(types) if t != CriticalType.MINIMIZER]
    fig.add_traces(critical_point_traces(pts[others], [types[i] for i in others]))
    _square_axes(fig, toy)
    # No fixed width: wider than the page's text, the legend was cut off at the right.
    fig.update_layout(**base_layout(title or "basins of attraction of gradient descent", height=560))
    return fig


def _neighbours(labels: np.ndarray, reach: int = 2) -> set[tuple[int, int]]:
    """Pairs ``(i, j)`` of basins (labels >= 0) that come within ``reach`` grid steps of each other along
    a grid axis (so across a thin unresolved line too, but not across a single corner point)."""
    pairs = set()
    for shift in range(1, reach + 1):
        for a, b in ((labels[:, :-shift], labels[:, shift:]), (labels[:-shift], labels[shift:])):
            sel = (a >= 0) & (b >= 0) & (a != b)
            pairs.update(zip(a[sel].tolist(), b[sel].tolist(), strict=True))
    return pairs | {(j, i) for i, j in pairs}


def _global_tints(labels: np.ndarray, is_global: np.ndarray) -> dict[int, str]:
    """Colour of each global basin: a greedy colouring with the global blues in index order, each basin
    taking the first blue no neighbouring global basin already has (the blues repeat in turn when every
    one is taken)."""
    near = _neighbours(labels)
    tint: dict[int, int] = {}
    for j in np.flatnonzero(is_global).tolist():
        used = {tint[m] for m in tint if (j, m) in near}
        free = [c for c in range(len(_GLOBAL_BASIN_COLORS)) if c not in used]
        tint[j] = free[0] if free else len(tint) % len(_GLOBAL_BASIN_COLORS)
    return {j: _GLOBAL_BASIN_COLORS[c] for j, c in tint.items()}


def _thin(path: np.ndarray, max_points: int = 400) -> np.ndarray:
    """Drop repeated points at the end (a stopped run) and keep at most ``max_points``; round."""
    moved = np.flatnonzero(np.any(np.diff(path, axis=0) != 0, axis=1))
    last = moved[-1] + 2 if moved.size else 1
    p = path[:last]
    if p.shape[0] > max_points:
        idx = np.unique(np.round(np.linspace(0, p.shape[0] - 1, max_points)).astype(int))
        p = p[idx]
    return np.round(p, _DIGITS)


def _square_axes(fig: go.Figure, toy) -> None:
    (x0, x1), (y0, y1) = toy.domain
    fig.update_xaxes(range=[x0, x1], title_text="x", constrain="domain")
    fig.update_yaxes(range=[y0, y1], title_text="y", scaleanchor="x", scaleratio=1, constrain="domain")


def _plain(tex: str) -> str:
    """A LaTeX formula made readable as plain text in a plotly title (``_F``: a ``<sub>``)."""
    out = tex.replace(r"\tfrac14", "¼").replace(r"\|", "‖").replace(r"^\top", "ᵀ").replace("_F", "<sub>F</sub>")
    return _superscripts(out)


_SUPERSCRIPT_DIGITS = {"2": "²", "3": "³", "4": "⁴"}


def _superscripts(text: str) -> str:
    """``x^2`` as ``x²`` (2, 3, 4), other powers such as ``(1/δ)^1.00`` as ``(1/δ)<sup>1.00</sup>``:
    plotly writes a caret literally."""
    return re.sub(r"\^(-?[0-9]+(?:\.[0-9]+)?)",
                  lambda m: _SUPERSCRIPT_DIGITS.get(m.group(1)) or f"<sup>{m.group(1)}</sup>", text)
