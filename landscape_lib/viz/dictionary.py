"""Figures of chapter 3 (dictionary learning through the ℓ4 landscape).

Every builder takes numbers already computed by the library (:mod:`landscape_lib.objectives`,
:mod:`landscape_lib.recovery`, the solvers) and returns a ``plotly.graph_objects.Figure``; nothing here
computes a landscape or runs a solver, so the figures are cheap to rebuild and the chapter's printed numbers
come from the library, not from plotting code. Interactivity for the static book is a plotly slider over
precomputed frames. The recovery histogram and the coverage curve are chapter 2's
(:mod:`landscape_lib.viz.sphere`); the live view that computes a landscape on the spot is
:func:`landscape_lib.explore.data_landscape`.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import LINE_COLORS, SPHERE_SCENE, SUBPLOT_TITLE_ROOM, base_layout, log_ticks

__all__ = ["landscape_convergence", "gap_versus_samples", "recovery_heatmap", "phase_transition"]


def _round(x, digits: int = 4):
    return np.round(np.asarray(x, dtype=float), digits)


def landscape_convergence(mesh, tensor_values, data_values, p_values, *, columns=None,
                          title: str | None = None) -> go.Figure:
    r"""The tensor objective beside the normalized data objective, with a slider over ``p``.

    Parameters
    ----------
    mesh : array_like of shape (r, c, 3)
        Points of the unit sphere on a latitude–longitude grid (:func:`landscape_lib.sphere.lat_lon_mesh`;
        the surface is drawn through them).
    tensor_values : array_like of shape (r, c)
        :math:`f_A` on the mesh.
    data_values : array_like of shape (P, r, c)
        :math:`f_{\tilde Y} + \omega` on the mesh for each sample size (the constant :math:`\omega`
        added so that both panels share one colour scale).
    p_values : sequence of int, length P
        Sample sizes, one slider step each.
    columns : array_like of shape (3, m), optional
        True columns :math:`a_i`, drawn as ``±a_i`` markers on both spheres.
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
        Two 3-D panels; the slider (works in the static HTML) replaces the colours of the right panel.
    """
    xyz = _round(mesh, 3)
    T = _round(tensor_values)
    D = _round(data_values)
    lo = float(min(T.min(), np.quantile(D, 0.01)))
    hi = float(max(T.max(), np.quantile(D, 0.99)))
    fig = make_subplots(rows=1, cols=2, specs=[[{"type": "scene"}, {"type": "scene"}]],
                        subplot_titles=("tensor objective f<sub>A</sub>",
                                        f"data objective f<sub>Ỹ</sub> + ω, p = {p_values[0]}"))
    surf = dict(x=xyz[..., 0], y=xyz[..., 1], z=xyz[..., 2], cmin=lo, cmax=hi, colorscale="Viridis",
                hovertemplate="f = %{surfacecolor:.3f}<extra></extra>")
    fig.add_trace(go.Surface(surfacecolor=T, showscale=False, **surf), row=1, col=1)
    fig.add_trace(go.Surface(surfacecolor=D[0], colorbar=dict(title="f", len=0.8), **surf), row=1, col=2)
    if columns is not None:
        a = _round(np.asarray(columns, dtype=float), 3)
        pts = np.hstack([a, -a]) * 1.03
        for col in (1, 2):
            fig.add_trace(go.Scatter3d(x=pts[0], y=pts[1], z=pts[2], mode="markers", name="±aᵢ",
                                       showlegend=col == 1, marker=dict(size=4, color="#D55E00")),
                          row=1, col=col)
    frames, steps = [], []
    for k, p in enumerate(p_values):
        name = str(p)
        frames.append(go.Frame(name=name, data=[go.Surface(surfacecolor=D[k])], traces=[1],
                               layout=dict(annotations=[fig.layout.annotations[0],
                                                        dict(fig.layout.annotations[1].to_plotly_json(),
                                                             text=f"data objective f<sub>Ỹ</sub> + ω, p = {p}")])))
        steps.append(dict(method="animate", label=name,
                          args=[[name], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                             transition=dict(duration=0))]))
    fig.frames = frames
    fig.update_layout(**base_layout(title, height=480, top=SUBPLOT_TITLE_ROOM if title else 0),
                      sliders=[dict(active=0, steps=steps, currentvalue=dict(prefix="samples p = "),
                                    pad=dict(t=10))],
                      scene=SPHERE_SCENE, scene2=SPHERE_SCENE)
    return fig


def gap_versus_samples(p_values, gaps, *, slope: float, intercept: float, title: str | None = None,
                       band=None) -> go.Figure:
    r"""Largest gap between the data and tensor landscapes against ``p`` on log–log axes.

    Parameters
    ----------
    p_values : array_like of shape (P,)
    gaps : array_like of shape (P,) or (R, P)
        Gap per sample size (one row per repetition, drawn as points; the median as a line).
    slope, intercept : float
        Least-squares fit :math:`\log \mathrm{gap} = \text{intercept} + \text{slope}\,\log p`.
    band : None
        Reserved.
    title : str, optional
    """
    p = np.asarray(p_values, dtype=float)
    g = np.atleast_2d(np.asarray(gaps, dtype=float))
    fig = go.Figure()
    for r, row in enumerate(g):
        fig.add_trace(go.Scatter(x=p, y=_round(row, 6), mode="markers", marker=dict(color=LINE_COLORS[0],
                                 size=6, opacity=0.6), name="measured (each data set)", showlegend=r == 0))
    fit = np.exp(intercept) * p**slope
    fig.add_trace(go.Scatter(x=p, y=_round(fit, 6), mode="lines", line=dict(color=LINE_COLORS[1]),
                             name=f"fit: slope {slope:.2f}"))
    ref = fit[0] * (p / p[0]) ** -0.5
    fig.add_trace(go.Scatter(x=p, y=_round(ref, 6), mode="lines", line=dict(color="gray", dash="dash"),
                             name="slope −1/2 (Monte Carlo rate)"))
    fig.update_layout(**base_layout(title, height=420),
                      xaxis=dict(type="log", title="number of samples p", **log_ticks(p)),
                      yaxis=dict(type="log", title="max over the sphere of |f<sub>Ỹ</sub> + ω − f<sub>A</sub>|",
                                 **log_ticks(np.concatenate([g.ravel(), fit]))))
    return fig


def recovery_heatmap(values, x_values, y_values, *, x_title: str, y_title: str, title: str | None = None,
                     colorbar_title: str = "fraction", zmin: float = 0.0, zmax: float = 1.0) -> go.Figure:
    """Heatmap of recovery rates (or any numbers in ``[zmin, zmax]``) with the values written in the cells.

    Parameters
    ----------
    values : array_like of shape (len(y_values), len(x_values))
    x_values, y_values : sequences
        Axis labels (drawn as categories).
    """
    z = _round(values, 3)
    xs = [str(x) for x in x_values]
    ys = [str(y) for y in y_values]
    fig = go.Figure(go.Heatmap(z=z, x=xs, y=ys, zmin=zmin, zmax=zmax, colorscale="Blues",
                               colorbar=dict(title=colorbar_title),
                               text=[[f"{v:.2f}" for v in row] for row in z],
                               texttemplate="%{text}", hovertemplate="%{x}, %{y}: %{z}<extra></extra>"))
    fig.update_layout(**base_layout(title, height=420), xaxis=dict(title=x_title, type="category"),
                      yaxis=dict(title=y_title, type="category"))
    return fig


def phase_transition(n_values, m_values, data_rates, tensor_rates, *, title: str | None = None,
                     labels=("data Y = AX", "tensor (chapter 2 objective)")) -> go.Figure:
    """Recovery rate over (n, m) for the data and the tensor objective, with the lines m = n and m = n².

    Parameters
    ----------
    n_values : array_like of shape (N,)
    m_values : array_like of shape (N, M)
        The m grid used at each n.
    data_rates, tensor_rates : array_like of shape (N, M)
        Fraction of random starts that recover a column (NaN where not measured).
    """
    n = np.asarray(n_values, dtype=float)
    M = np.asarray(m_values, dtype=float)
    fig = make_subplots(rows=1, cols=2, subplot_titles=labels, shared_yaxes=True, horizontal_spacing=0.06)
    nn = np.repeat(n[:, None], M.shape[1], axis=1)
    line_n = np.linspace(n.min() * 0.9, n.max() * 1.1, 50)
    for col, rates in ((1, data_rates), (2, tensor_rates)):
        r = _round(rates, 3)
        ok = np.isfinite(r)
        fig.add_trace(go.Scatter(x=nn[ok], y=M[ok], mode="markers", showlegend=False,
                                 marker=dict(symbol="square", size=22, color=r[ok], cmin=0, cmax=1,
                                             colorscale="Blues", showscale=col == 2,
                                             line=dict(color="gray", width=0.5),
                                             colorbar=dict(title="recovery rate")),
                                 text=[f"{v:.2f}" for v in r[ok]],
                                 hovertemplate="n = %{x}, m = %{y}: %{text}<extra></extra>"),
                      row=1, col=col)
        for expo, name, dash in ((1, "m = n", "dot"), (1.5, "m = n<sup>1.5</sup>", "dashdot"), (2, "m = n²", "dash")):
            fig.add_trace(go.Scatter(x=line_n, y=_round(line_n**expo, 2), mode="lines", name=name,
                                     showlegend=col == 1, line=dict(color="black", dash=dash, width=1)),
                          row=1, col=col)
    # A tick at every n drawn (plotly's log ticks label decades, which a few n between 4 and 16 lack).
    fig.update_xaxes(type="log", title="n (dimension)", tickvals=n.tolist(), ticktext=[f"{v:g}" for v in n])
    fig.update_yaxes(type="log", range=[np.log10(M[np.isfinite(M)].min() * 0.7),
                                        np.log10(M[np.isfinite(M)].max() * 1.4)])
    fig.update_yaxes(title="m (number of columns)", row=1, col=1)
    fig.update_yaxes(**log_ticks(M[np.isfinite(M)]))
    # The legend in a row under the plot: at the right it lay over the colour bar.
    fig.update_layout(**base_layout(title, height=500, top=SUBPLOT_TITLE_ROOM if title else 0))
    fig.update_layout(legend=dict(orientation="h", x=0.0, xanchor="left", y=0.0, yref="container",
                                  yanchor="bottom"), margin=dict(b=90))
    return fig
