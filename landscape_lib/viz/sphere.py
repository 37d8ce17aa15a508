r"""Figures of chapter 2: the ℓ4 landscape on the sphere :math:`\mathbb{S}^2`, its critical points,
solver trajectories and convergence, and the recovery phase transition.

Sphere figures colour a coarse latitude–longitude mesh (:func:`landscape_lib.sphere.lat_lon_mesh`) by
:math:`f(q) = -\tfrac14\|A^\top q\|_4^4`, mark critical points with the book-wide colours and symbols of
:mod:`landscape_lib.viz.style`, and round coordinates so a figure with all its slider frames stays small.
Everything here draws; the numbers come from :mod:`landscape_lib.objectives`, :mod:`landscape_lib.solvers`,
:mod:`landscape_lib.sphere_critical` and :mod:`landscape_lib.recovery` (the live explorers that compute on
the spot are in :mod:`landscape_lib.explore`).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..critical import TYPE_ORDER, CriticalType
from ..objectives import TensorObjective, as_matrix
from ..sphere import lat_lon_mesh
from .style import CRITICAL_COLORS, CRITICAL_SYMBOLS_3D, LINE_COLORS, SPHERE_SCENE, base_layout

__all__ = ["landscape_figure", "landscape_slider", "trajectory_figure", "convergence_figure",
           "phase_transition_heatmap", "recovery_histogram", "correlation_histogram", "coverage_figure",
           "census_figure"]


def _round(x, digits: int = 3) -> np.ndarray:
    return np.round(np.asarray(x, dtype=float), digits)


def _values_on(A, mesh) -> np.ndarray:
    return TensorObjective(A).value(mesh)


def _check_3d(A) -> np.ndarray:
    A = as_matrix(A)
    if A.shape[0] != 3:
        raise ValueError(f"sphere figures draw S^2: A must have n = 3 rows; got shape {A.shape}")
    return A


def _surface(mesh, values, *, colorbar: bool = True) -> go.Surface:
    v = _round(values, 4)
    return go.Surface(x=_round(mesh[..., 0]), y=_round(mesh[..., 1]), z=_round(mesh[..., 2]), surfacecolor=v,
                      cmin=float(v.min()), cmax=float(v.max()), colorscale="Viridis",
                      showscale=colorbar, colorbar=dict(title="f(q)", len=0.6), name="f",
                      hovertemplate="f = %{surfacecolor:.4f}<extra></extra>")


#: Size of the critical-point markers on the sphere; the saddles' cross, a thin glyph, is drawn larger (it
#: was lost on the surface at 5).
CRITICAL_SIZE = 7
SADDLE_SIZE = 10
#: Size of the rings marking the columns: larger than a critical-point marker, so that a ring stays visible
#: round the minimizer that sits on (or next to) its column.
COLUMN_SIZE = 11


def _columns_trace(A) -> go.Scatter3d:
    pts = np.concatenate([A.T, -A.T]) * 1.08
    return go.Scatter3d(x=_round(pts[:, 0]), y=_round(pts[:, 1]), z=_round(pts[:, 2]), mode="markers",
                        marker=dict(size=COLUMN_SIZE, color="black", symbol="circle-open",
                                    line=dict(color="black", width=2)),
                        name="±aᵢ (columns)", hoverinfo="name")


def _critical_traces(critical) -> list:
    """One Scatter3d per critical type (always four traces, possibly empty), ±q both drawn."""
    traces = []
    for t in TYPE_ORDER:
        if critical is None:
            pts = np.empty((0, 3))
        else:
            mask = critical.of_type(t)
            # Just off the (opaque) unit sphere, so the markers are not half buried in it.
            pts = np.concatenate([critical.points[mask], -critical.points[mask]]) * 1.04
        traces.append(go.Scatter3d(
            x=_round(pts[:, 0]), y=_round(pts[:, 1]), z=_round(pts[:, 2]), mode="markers", name=t.value,
            # A dark outline: a white one vanished into the light (yellow-green) end of Viridis.
            marker=dict(size=SADDLE_SIZE if t is CriticalType.STRICT_SADDLE else CRITICAL_SIZE,
                        color=CRITICAL_COLORS[t], symbol=CRITICAL_SYMBOLS_3D[t],
                        line=dict(color="#222222", width=2)), hoverinfo="name"))
    return traces


def landscape_figure(A, critical=None, *, mesh=None, show_columns: bool = True, title: str | None = None,
                     height: int = 520) -> go.Figure:
    r"""The sphere coloured by :math:`f(q) = -\tfrac14\|A^\top q\|_4^4`, with critical points and columns.

    Parameters
    ----------
    A : array_like of shape (3, m)
    critical : landscape_lib.critical.CriticalPoints, optional
        From :func:`landscape_lib.sphere_critical.find_critical_points`; drawn as ``±q`` by type.
    mesh : ndarray of shape (r, c, 3), optional
        Default :func:`landscape_lib.sphere.lat_lon_mesh` ``()``.
    show_columns : bool, default True
        Mark :math:`\pm a_i` (slightly outside the sphere).
    title : str, optional
    height : int, default 520

    Returns
    -------
    plotly.graph_objects.Figure
    """
    A = _check_3d(A)
    mesh = lat_lon_mesh() if mesh is None else mesh
    data = [_surface(mesh, _values_on(A, mesh))]
    if show_columns:
        data.append(_columns_trace(A))
    data += _critical_traces(critical)
    fig = go.Figure(data=data)
    fig.update_layout(**base_layout(title, height=height), scene=SPHERE_SCENE,
                      legend=dict(x=0.0, y=1.0, bgcolor="rgba(255,255,255,0.7)", itemsizing="constant"))
    return fig


def landscape_slider(frames, *, mesh=None, title: str | None = None, height: int = 560) -> go.Figure:
    """Several landscapes on one sphere with a slider (precomputed frames: works in the static HTML).

    Parameters
    ----------
    frames : sequence of (label, A, critical)
        ``label`` names the slider step; ``A`` has shape (3, m_k); ``critical`` is a
        :class:`~landscape_lib.critical.CriticalPoints` (or ``None``).
    mesh : ndarray of shape (r, c, 3), optional
    title : str, optional
    height : int, default 560

    Returns
    -------
    plotly.graph_objects.Figure
        The first frame is drawn; the slider swaps the surface colours, the columns and the critical
        points (each frame has its own colour range, shown on the colour bar).
    """
    mesh = lat_lon_mesh() if mesh is None else mesh
    if len(frames) == 0:
        raise ValueError("frames must contain at least one (label, A, critical) entry")
    plotly_frames = []
    for label, A, critical in frames:
        A = _check_3d(A)
        v = _round(_values_on(A, mesh), 4)
        surf = go.Surface(surfacecolor=v, cmin=float(v.min()), cmax=float(v.max()))
        plotly_frames.append(go.Frame(name=str(label), data=[surf, _columns_trace(A)] + _critical_traces(critical),
                                      traces=list(range(6))))
    label0, A0, crit0 = frames[0]
    fig = landscape_figure(A0, crit0, mesh=mesh, title=title, height=height)
    fig.frames = plotly_frames
    steps = [dict(method="animate", label=str(label),
                  args=[[str(label)], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                           transition=dict(duration=0))])
             for label, _, _ in frames]
    fig.update_layout(sliders=[dict(active=0, steps=steps, x=0.05, len=0.9, y=0.02,
                                    currentvalue=dict(prefix="", visible=True))])
    return fig


def trajectory_figure(A, paths: dict, *, mesh=None, title: str | None = None, height: int = 520) -> go.Figure:
    r"""Solver trajectories drawn on the landscape sphere.

    Parameters
    ----------
    A : array_like of shape (3, m)
    paths : dict of str to ndarray of shape (T + 1, N, 3)
        Label → iterates (``SolverResult.path``); one colour per label, one line per start.
    mesh : ndarray of shape (r, c, 3), optional
    title : str, optional
    height : int, default 520

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig = landscape_figure(A, None, mesh=mesh, title=title, height=height)
    fig.data = [tr for tr in fig.data if not (isinstance(tr, go.Scatter3d) and tr.x is not None
                                              and len(tr.x) == 0)]
    for k, (label, path) in enumerate(paths.items()):
        path = np.asarray(path, dtype=float) * 1.02
        color = LINE_COLORS[(k + 1) % len(LINE_COLORS)]
        for j in range(path.shape[1]):
            p = path[:, j]
            keep = np.concatenate([[True], np.any(np.abs(np.diff(p, axis=0)) > 1e-4, axis=1)])
            p = p[keep]
            fig.add_trace(go.Scatter3d(x=_round(p[:, 0]), y=_round(p[:, 1]), z=_round(p[:, 2]),
                                       mode="lines+markers", line=dict(color=color, width=4),
                                       marker=dict(size=2, color=color), name=label, legendgroup=label,
                                       showlegend=j == 0, hoverinfo="name"))
    return fig


def convergence_figure(curves: dict, *, title: str | None = None, height: int = 400) -> go.Figure:
    r"""Riemannian gradient norm against iteration, log scale, one colour per solver.

    Parameters
    ----------
    curves : dict of str to ndarray of shape (T + 1, N)
        Label → ``SolverResult.grad_norm_path`` (NaN after a start stopped); one line per start.
    title : str, optional
    height : int, default 400

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig = go.Figure()
    for k, (label, g) in enumerate(curves.items()):
        g = np.asarray(g, dtype=float)
        color = LINE_COLORS[k % len(LINE_COLORS)]
        for j in range(g.shape[1]):
            y = g[:, j]
            y = y[np.isfinite(y)]
            fig.add_trace(go.Scatter(x=np.arange(y.size), y=[float(f"{v:.3g}") for v in y], mode="lines",
                                     line=dict(color=color, width=1), opacity=0.6, name=label,
                                     legendgroup=label, showlegend=j == 0))
    fig.update_layout(**base_layout(title, height=height), xaxis=dict(title="iteration"),
                      yaxis=dict(title="‖grad f(q)‖", type="log", exponentformat="power"))
    return fig


def phase_transition_heatmap(n_values, m_values, rate, *, title: str | None = None,
                             height: int = 460) -> go.Figure:
    r"""Recovery rate over ``(n, m)`` as a heatmap (``m`` on a log₂ axis) with the lines ``m = n`` and
    ``m = n²``.

    Parameters
    ----------
    n_values : array_like of shape (N,)
        Dimensions (columns of the heatmap).
    m_values : array_like of shape (M,)
        Numbers of components, a common grid (rows of the heatmap).
    rate : array_like of shape (M, N)
        Fraction of random starts that recover a column; NaN where not measured.
    title : str, optional
    height : int, default 460

    Returns
    -------
    plotly.graph_objects.Figure
    """
    n = np.asarray(n_values, dtype=float)
    m = np.asarray(m_values, dtype=float)
    r = np.asarray(rate, dtype=float)
    if r.shape != (m.size, n.size):
        raise ValueError(f"rate must have shape (len(m_values), len(n_values)) = {(m.size, n.size)}; "
                         f"got {r.shape}")
    y = np.log2(m)
    fig = go.Figure(go.Heatmap(
        x=n, y=_round(y, 4), z=_round(r, 3), zmin=0, zmax=1, colorscale="Blues",
        colorbar=dict(title="recovery<br>rate"), customdata=np.broadcast_to(m[:, None], r.shape),
        hovertemplate="n = %{x}, m = %{customdata}: %{z}<extra></extra>"))
    nn = np.linspace(n.min() - 0.5 * (n[1] - n[0] if n.size > 1 else 1), n.max() * 1.05, 80)
    for expo, name, dash in ((1, "m = n", "dot"), (2, "m = n²", "dash")):
        fig.add_trace(go.Scatter(x=_round(nn), y=_round(expo * np.log2(nn)), mode="lines", name=name,
                                 line=dict(color="#D55E00", dash=dash, width=2)))
    ticks = m[:: max(1, m.size // 10)]
    fig.update_layout(**base_layout(title, height=height),
                      xaxis=dict(title="n (dimension)", tickvals=n, range=[float(nn.min()), float(nn.max())]),
                      yaxis=dict(title="m (number of columns)", tickvals=_round(np.log2(ticks), 4),
                                 ticktext=[str(int(v)) for v in ticks], range=[y.min() - 0.3, y.max() + 0.3]),
                      legend=dict(x=0.01, y=0.99, bgcolor="rgba(255,255,255,0.7)"))
    return fig


def recovery_histogram(samples: dict, *, threshold: float, baseline=None, title: str | None = None,
                       height: int = 400) -> go.Figure:
    r"""Distributions of :math:`\max_i |\langle a_i, q\rangle|`, one histogram per label, with the
    recovery threshold and optionally the same statistic for uniformly random points (a baseline).

    Parameters
    ----------
    samples : dict of str to array_like
        Label → correlations at the limits of the starts.
    threshold : float
        Drawn as a vertical line.
    baseline : array_like, optional
        Correlations of random points of the sphere (drawn in grey, filled).
    title : str, optional
    height : int, default 400

    Returns
    -------
    plotly.graph_objects.Figure
        One step line per distribution (:func:`_step_histogram`: fraction per bin of width 0.01).
    """
    fig = go.Figure()
    # Shared bins of width 0.01 on [0, 1]; each solver's distribution is an unfilled step outline, so
    # that overlapping distributions stay distinct (translucent filled bars blended into new colours).
    edges = np.round(np.linspace(0.0, 1.0, 101), 2)
    if baseline is not None:
        fig.add_trace(_step_histogram(baseline, edges, name="random points (no solver)", color="gray",
                                      fill=True))
    for k, (label, vals) in enumerate(samples.items()):
        fig.add_trace(_step_histogram(vals, edges, name=label, color=LINE_COLORS[k % len(LINE_COLORS)]))
    fig.add_vline(x=threshold, line=dict(color="black", dash="dash"), annotation_text=f"threshold {threshold:g}",
                  annotation_position="top left")
    fig.update_layout(**base_layout(title, height=height),
                      xaxis=dict(title="max over i of |⟨aᵢ, q⟩| at the limit", range=[0.3, 1.005]),
                      yaxis=dict(title="fraction of starts"))
    return fig


def _step_histogram(values, edges: np.ndarray, *, name: str, color: str, fill: bool = False) -> go.Scatter:
    r"""The fraction of ``values`` in each bin ``[edges[j], edges[j+1])`` (the last bin closed) as a step
    line: ``x`` the B + 1 edges, ``y`` the B fractions and the last one repeated (``line_shape="hv"``).

    ``fill``: a translucent area under the steps (the grey baseline), else the outline alone.
    """
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    counts, _ = np.histogram(np.clip(v, edges[0], edges[-1]), bins=edges)
    frac = counts / max(v.size, 1)
    y = _round(np.append(frac, frac[-1]), 4)
    extra = dict(fill="tozeroy", fillcolor="rgba(128,128,128,0.35)") if fill else {}
    return go.Scatter(x=edges, y=y, mode="lines", line=dict(color=color, width=1 if fill else 2, shape="hv"),
                      name=name, customdata=np.full(y.shape, v.size),
                      hovertemplate=f"{name}<br>%{{x:.2f}}: %{{y:.3f}} of %{{customdata}}<extra></extra>",
                      **extra)


def coverage_figure(curves: dict, m: int, success: dict, *, title: str | None = None,
                    height: int = 400) -> go.Figure:
    r"""Distinct columns recovered against the number of independent starts, with the coupon-collector
    expectation :math:`m\,(1 - (1 - p/m)^t)` for starts that succeed with probability ``p`` and land on a
    uniformly random column.

    Parameters
    ----------
    curves : dict of str to array_like of shape (N,)
        Label → :func:`landscape_lib.recovery.coverage`.
    m : int
        Number of columns.
    success : dict of str to float
        Label → measured probability ``p`` that a start recovers some column.
    title : str, optional
    height : int, default 400

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig = go.Figure()
    for k, (label, found) in enumerate(curves.items()):
        found = np.asarray(found)
        t = np.arange(1, found.size + 1)
        color = LINE_COLORS[k % len(LINE_COLORS)]
        step = max(1, found.size // 400)  # thin the curve: a few hundred points are plenty
        fig.add_trace(go.Scatter(x=t[::step], y=found[::step], mode="lines", line=dict(color=color),
                                 name=f"{label}: measured"))
        p = float(success[label])
        fig.add_trace(go.Scatter(x=t[::step], y=_round(m * (1 - (1 - p / m) ** t[::step]), 2), mode="lines",
                                 line=dict(color=color, dash="dash"), name=f"{label}: coupon collector"))
    fig.add_hline(y=m, line=dict(color="gray", dash="dot"))
    fig.update_layout(**base_layout(title, height=height), xaxis=dict(title="independent starts"),
                      yaxis=dict(title="distinct columns recovered", range=[0, 1.05 * m]))
    return fig


def correlation_histogram(correlations, *, title: str | None = None, height: int = 380) -> go.Figure:
    r"""Counts of :math:`\max_i |\langle a_i, q\rangle|` at the limits of many starts, on [0, 1].

    Parameters
    ----------
    correlations : array_like of shape (N,)
        E.g. the second output of :func:`landscape_lib.recovery.nearest_column` at solver limits.
    title : str, optional
    height : int, default 380

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig = go.Figure(go.Histogram(x=_round(correlations, 4), xbins=dict(start=0, end=1.0001, size=0.01),
                                 marker=dict(color=LINE_COLORS[0])))
    fig.update_layout(**base_layout(title, height=height),
                      xaxis=dict(title="max over i of |⟨aᵢ, q⟩| at the limit", range=[0, 1.01]),
                      yaxis=dict(title="starts"))
    return fig


def census_figure(cells, *, title: str | None = None, height: int = 460) -> go.Figure:
    r"""The certified critical points of a census: :math:`\lambda_{\min}` against :math:`f` (left) and against
    :math:`\max_i|\langle a_i, q\rangle|` (right), one colour per cell (e.g. per :math:`\kappa`), a marker
    per critical type. Chapter 2, section 7.

    Parameters
    ----------
    cells : sequence of (str, landscape_lib.census.Census)
        A label and a census; each distinct certified point is drawn once.
    title : str, optional
    height : int, default 460

    Returns
    -------
    plotly.graph_objects.Figure
    """
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.06)
    for j, (label, c) in enumerate(cells):
        rows = c.first()
        color = LINE_COLORS[j % len(LINE_COLORS)]
        for kind in TYPE_ORDER:
            sel = rows & np.array([t is kind for t in c.types], dtype=bool)
            if not sel.any():
                continue
            common = dict(mode="markers", legendgroup=label, name=f"{label}: {kind.value}",
                          marker=dict(color=color, size=4, symbol=CRITICAL_SYMBOLS_3D[kind], opacity=0.6))
            y = _round(c.lambda_min[sel], 4)
            fig.add_trace(go.Scattergl(x=_round(c.values[sel], 4), y=y, **common), row=1, col=1)
            fig.add_trace(go.Scattergl(x=_round(c.correlation[sel], 4), y=y, showlegend=False, **common),
                          row=1, col=2)
    fig.add_hline(y=0, line=dict(color="grey", width=1))
    fig.update_layout(**base_layout(title, height=height))
    # The points are small and translucent; legend symbols of a fixed size keep the colours legible.
    fig.update_layout(legend=dict(itemsizing="constant"))
    fig.update_xaxes(title_text="f(q)", row=1, col=1)
    fig.update_xaxes(title_text="max over i of |⟨aᵢ, q⟩|", row=1, col=2)
    fig.update_yaxes(title_text="λ<sub>min</sub> of the tangent Hessian", row=1, col=1)
    return fig
