"""Figures of chapter 4: neural-collapse metrics, the UFM's ETF geometry, its threshold and loss slices.

Every function returns a :class:`plotly.graph_objects.Figure` (never shown, no renderer set). Animations
are plotly frames precomputed here, so they play in the static HTML book. Coordinates are rounded to a few
significant digits to keep figures small.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .._validation import as_float_array
from .style import LINE_COLORS, MENU_ROOM, SUBPLOT_TITLE_ROOM, base_layout, log_ticks, menu_above_plot, plotly_label

__all__ = ["METRIC_TITLES", "PANEL_TITLES", "metrics_sweep_figure", "nc_curves_figure", "etf_animation_figure",
           "threshold_figure", "loss_slice_figure", "critical_values_figure", "angles_figure",
           "minority_collapse_figure"]

#: Short titles of the CollapseMetrics fields (plotly text: subscripts as ``<sub>``).
METRIC_TITLES = {
    "nc1": "NC1: tr(Σ<sub>W</sub> Σ<sub>B</sub><sup>†</sup>)/K",
    "nc2_classifier": "NC2 of W",
    "nc2_means": "NC2 of the class means",
    "nc3_ufm": "NC3 (UFM form)",
    "nc3_papyan": "NC3 (Papyan et al. form)",
    "nc4": "NC4: prediction ≠ nearest mean",
    "equinorm_classifier": "equinorm of W",
    "equinorm_means": "equinorm of the means",
    "equiangularity_classifier": "equiangularity of W",
    "equiangularity_means": "equiangularity of the means",
    "loss_gap": "loss − closed-form minimum",
}
#: Panel titles of :func:`nc_curves_figure`: with three or four panels in a row a panel is about 130 px
#: wide, too narrow for :data:`METRIC_TITLES` (the chapters define each metric in the text).
PANEL_TITLES = {
    "nc1": "NC1",
    "nc2_classifier": "NC2 of W",
    "nc2_means": "NC2 of means",
    "nc3_ufm": "NC3 (UFM)",
    "nc3_papyan": "NC3 (Papyan)",
    "nc4": "NC4",
    "equinorm_classifier": "equinorm of W",
    "equinorm_means": "equinorm, means",
    "equiangularity_classifier": "equiangular, W",
    "equiangularity_means": "equiangular, means",
    "loss_gap": "loss − minimum",
}
_LINEAR = {"nc4"}          # metrics that reach 0 exactly: linear axis


def _round(x, digits: int = 4):
    """Round to ``digits`` significant digits (keeps tiny values that log axes need)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where((x == 0) | ~np.isfinite(x), 0, np.floor(np.log10(np.abs(np.where(x == 0, 1, x)))))
    scale = 10.0 ** (digits - 1 - mag)
    return np.where(np.isfinite(x), np.round(x * scale) / scale, np.nan)


def _log_values(values) -> list:
    """Values for a log axis: zeros, negatives and NaN become gaps."""
    v = _round(values)
    return [float(a) if np.isfinite(a) and a > 0 else None for a in v]


def _grid(n_panels: int, cols: int):
    rows = -(-n_panels // cols)
    return rows, min(cols, n_panels)


def metrics_sweep_figure(t, metrics: Sequence, names: Sequence[str] = ("nc1", "nc2_means", "nc3_ufm",
                                                                        "nc3_papyan", "nc4"),
                         *, xaxis_title: str = "t (0 = random, 1 = collapsed)",
                         title: str | None = None) -> go.Figure:
    """Several metrics against one parameter, on a log y axis (NC4 linear), one line per metric.

    Used in chapter 4, section 1.

    Parameters
    ----------
    t : array_like of shape (T,)
    metrics : sequence of CollapseMetrics, length T
    names : sequence of str
        Fields of :class:`~landscape_lib.collapse.CollapseMetrics` to draw.
    """
    t = as_float_array(t, "t", ndim=1)
    if len(metrics) != t.size:
        raise ValueError(f"metrics must have one entry per value of t ({t.size}); got {len(metrics)}")
    fig = make_subplots(rows=1, cols=2, column_widths=[0.7, 0.3],
                        subplot_titles=("NC1–NC3 (log scale)", "NC4 (fraction)"))
    for j, name in enumerate(names):
        vals = [getattr(m, name) for m in metrics]
        color = LINE_COLORS[j % len(LINE_COLORS)]
        if name in _LINEAR:
            fig.add_trace(go.Scatter(x=_round(t), y=_round(vals), name=METRIC_TITLES.get(name, name),
                                     mode="lines+markers", line=dict(color=color)), row=1, col=2)
        else:
            fig.add_trace(go.Scatter(x=_round(t), y=_log_values(vals), name=METRIC_TITLES.get(name, name),
                                     mode="lines+markers", line=dict(color=color)), row=1, col=1)
    fig.update_yaxes(type="log", exponentformat="power", row=1, col=1)
    fig.update_xaxes(title_text=xaxis_title)
    fig.update_layout(**base_layout(title, height=420, top=SUBPLOT_TITLE_ROOM if title else 0))
    return fig


def nc_curves_figure(runs: Mapping, names: Sequence[str] = ("loss_gap", "nc1", "nc2_classifier", "nc2_means",
                                                            "nc3_ufm", "nc4"),
                     *, optimal_loss: float | None = None, cols: int = 3, title: str | None = None,
                     height: int | None = None) -> go.Figure:
    """NC metrics against iterations on log–log axes, one panel per metric and one line per run.

    Used in chapter 4, sections 2 and 8. Panels are titled by :data:`PANEL_TITLES` (short: several share a
    row). The legend takes the first empty cell of the grid, or a row under the panels when there is none.

    Parameters
    ----------
    runs : mapping of str to UFMRun
        Label (e.g. the optimizer) → :class:`~landscape_lib.ufm.UFMRun`.
    names : sequence of str
        CollapseMetrics fields, plus ``"loss_gap"`` (the loss minus ``optimal_loss``) and ``"loss"``.
    optimal_loss : float, optional
        Needed for ``"loss_gap"``.
    cols : int, default 3
    """
    names = [n for n in names if n != "loss_gap" or optimal_loss is not None]
    rows, cols = _grid(len(names), cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[PANEL_TITLES.get(n, n) for n in names],
                        horizontal_spacing=0.08, vertical_spacing=0.14)
    for r, (label, run) in enumerate(runs.items()):
        color = LINE_COLORS[r % len(LINE_COLORS)]
        x = _round(np.asarray(run.iterations) + 1)          # iteration + 1, so the start fits a log axis
        for p, name in enumerate(names):
            if name == "loss_gap":
                y = np.asarray(run.loss) - optimal_loss
            elif name == "loss":
                y = np.asarray(run.loss)
            else:
                y = run.history(name)
            yy = _round(y) if name in _LINEAR else _log_values(y)
            fig.add_trace(go.Scatter(x=x, y=yy, mode="lines", name=label, legendgroup=label,
                                     showlegend=p == 0, line=dict(color=color, width=2)),
                          row=p // cols + 1, col=p % cols + 1)
    for p, name in enumerate(names):
        kw = dict(row=p // cols + 1, col=p % cols + 1)
        # Decades only: plotly's 2 and 5 between them crowd a narrow panel.
        fig.update_xaxes(type="log", dtick=1, title_text="iteration + 1" if p // cols == rows - 1 else None, **kw)
        if name not in _LINEAR:
            fig.update_yaxes(type="log", exponentformat="power", **kw)
    fig.update_layout(**base_layout(title, height=height or 300 * rows + 80,
                                    top=SUBPLOT_TITLE_ROOM if title else 0))
    fig.update_annotations(font_size=14)
    if len(names) < rows * cols:
        # The legend in the first empty cell, where it takes no width from the panels.
        empty = fig.get_subplot(rows, len(names) - (rows - 1) * cols + 1)
        fig.update_layout(legend=dict(x=empty.xaxis.domain[0] + 0.02, xanchor="left",
                                      y=empty.yaxis.domain[1], yanchor="top"))
    else:
        fig.update_layout(legend=dict(orientation="h", x=0.0, xanchor="left", y=0.0, yref="container",
                                      yanchor="bottom"), margin=dict(b=70))
    return fig


def _projection_basis(class_means: np.ndarray) -> np.ndarray:
    """Orthonormal basis (d, K-1) of the span of the centred class means, ordered by singular value."""
    centred = class_means - class_means.mean(axis=0)
    u, _, _ = np.linalg.svd(centred.T, full_matrices=False)
    return u[:, : class_means.shape[0] - 1]


def etf_animation_figure(run, *, feature_ratio: float, title: str | None = None,
                         max_frames: int = 60) -> go.Figure:
    r"""Features and classifier rows moving to a simplex ETF during UFM training (plotly animation).

    Used in chapter 4, section 6.

    Every frame shows the features :math:`h_{k,i}` (dots, one colour per class) and the scaled classifier
    rows :math:`c\,w_k` (lines from the origin, :math:`c` = ``feature_ratio``, so that at the global
    minimizer each class's features sit at the tip of its classifier line), projected on the span of the
    *final* centred class means: a plane for ``K = 3``, 3-D space for ``K = 4``. Fit with ``d >= K + 1``
    (the landscape theorem assumes ``d > K``): the projection hides the other ``d - K + 1`` directions,
    which carry the early, uncollapsed part of the features.

    Parameters
    ----------
    run : UFMRun
        From :func:`landscape_lib.ufm.fit` with ``keep_snapshots=True``; ``K`` must be 3 or 4.
    feature_ratio : float
        :math:`c = \sqrt{\lambda_W/(n_{\mathrm c}\lambda_H)}`.
    max_frames : int, default 60
        At most this many frames (evenly chosen among the snapshots).
    """
    if run.snapshots is None:
        raise ValueError("run has no snapshots: fit it with landscape_lib.ufm.fit(..., keep_snapshots=True)")
    K, n, d = run.H.shape
    if K not in (3, 4):
        raise ValueError(f"the ETF animation draws K = 3 (plane) or K = 4 (3-D); got K={K}")
    Q = _projection_basis(run.H.mean(axis=1))
    pick = np.unique(np.linspace(0, len(run.snapshots) - 1, min(max_frames, len(run.snapshots))).astype(int))
    three_d = K == 4
    scatter = go.Scatter3d if three_d else go.Scatter
    coords = ("x", "y", "z") if three_d else ("x", "y")

    def traces(idx):
        W, H, _ = run.snapshots[idx]
        P = _round(H.reshape(K * n, d) @ Q, 3)
        C = _round(feature_ratio * W @ Q, 3)
        out = []
        for k in range(K):
            pts = P[k * n:(k + 1) * n]
            out.append(scatter(**{c: pts[:, j] for j, c in enumerate(coords)}, mode="markers",
                               name=f"features, class {k}", legendgroup=str(k),
                               marker=dict(color=LINE_COLORS[k], size=4 if three_d else 7, opacity=0.8)))
        for k in range(K):
            seg = np.vstack([np.zeros(K - 1), C[k]])
            out.append(scatter(**{c: seg[:, j] for j, c in enumerate(coords)}, mode="lines+markers",
                               name=f"c·w<sub>{k}</sub>", legendgroup=str(k), showlegend=False,
                               line=dict(color=LINE_COLORS[k], width=5),
                               marker=dict(size=[0, 6 if three_d else 12], symbol="diamond",
                                           color=LINE_COLORS[k])))
        return out

    extent = float(np.max(np.abs(np.vstack([run.snapshots[i][1].reshape(K * n, d) @ Q for i in pick]
                                            + [feature_ratio * run.snapshots[i][0] @ Q for i in pick]))))
    extent = float(_round(1.1 * extent, 2))
    frames = [go.Frame(data=traces(i), name=str(int(run.iterations[i]))) for i in pick]
    fig = go.Figure(data=traces(pick[0]), frames=frames)
    steps = [dict(method="animate", label=str(int(run.iterations[i])),
                  args=[[str(int(run.iterations[i]))], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                                            transition=dict(duration=0))]) for i in pick]
    # Play/pause in the legend's column, below the legend; the slider under the x-axis title across the
    # plot's width. (Stacked at the bottom left, the buttons lay over the tick labels, the axis title and
    # the slider's start.)
    fig.update_layout(
        **base_layout(title, height=600),
        updatemenus=[dict(type="buttons", direction="down", showactive=False, x=1.02, xanchor="left", y=0.0,
                          yanchor="bottom",
                          buttons=[dict(label="▶ play", method="animate",
                                        args=[None, dict(frame=dict(duration=120, redraw=True),
                                                         fromcurrent=True, transition=dict(duration=0))]),
                                   dict(label="❚❚ pause", method="animate",
                                        args=[[None], dict(mode="immediate", frame=dict(duration=0))])])],
        sliders=[dict(active=0, steps=steps, x=0.0, len=1.0, y=0.0, yanchor="top", pad=dict(t=50),
                      currentvalue=dict(prefix="iteration "))],
    )
    fig.update_layout(margin=dict(b=120))
    rng_ = [-extent, extent]
    if three_d:
        fig.update_layout(scene=dict(xaxis=dict(range=rng_, title="u₁"), yaxis=dict(range=rng_, title="u₂"),
                                     zaxis=dict(range=rng_, title="u₃"), aspectmode="cube"))
    else:
        fig.update_xaxes(range=rng_, title_text="u₁")
        fig.update_yaxes(range=rng_, title_text="u₂", scaleanchor="x", scaleratio=1)
    return fig


def threshold_figure(ratios, rho_trained, rho_predicted, loss_trained, loss_predicted, *,
                     title: str | None = None) -> go.Figure:
    r"""Trained against predicted solutions across the threshold :math:`K\beta = 1`,
    :math:`\beta = \sqrt{n_{\mathrm c}\lambda_W\lambda_H}`.

    Used in chapter 4, section 4.

    Parameters
    ----------
    ratios : array_like of shape (S,)
        :math:`K\beta = K\sqrt{n_{\mathrm c}\lambda_W\lambda_H}` of each run.
    rho_trained, rho_predicted : array_like of shape (S,)
        Mean :math:`\|w_k\|^2` of the trained classifier and the closed form :math:`\rho^*`.
    loss_trained, loss_predicted : array_like of shape (S,)
    """
    x = _round(as_float_array(ratios, "ratios", ndim=1))
    fig = make_subplots(rows=1, cols=2, subplot_titles=("‖w<sub>k</sub>‖² (mean over k)", "loss"))
    for col, (tr, pr) in enumerate([(rho_trained, rho_predicted), (loss_trained, loss_predicted)], start=1):
        fig.add_trace(go.Scatter(x=x, y=_round(pr), mode="lines", name="closed form", legendgroup="p",
                                 showlegend=col == 1, line=dict(color=LINE_COLORS[0], width=2)), row=1, col=col)
        fig.add_trace(go.Scatter(x=x, y=_round(tr), mode="markers", name="trained (L-BFGS)", legendgroup="t",
                                 showlegend=col == 1, marker=dict(color=LINE_COLORS[1], size=8, symbol="x")),
                      row=1, col=col)
        fig.add_vline(x=1.0, line=dict(color="gray", dash="dash"), row=1, col=col)
    fig.update_xaxes(title_text="Kβ = K √(n<sub>c</sub> λ<sub>W</sub> λ<sub>H</sub>)")
    fig.update_layout(**base_layout(title, height=400, top=SUBPLOT_TITLE_ROOM if title else 0))
    return fig


def loss_slice_figure(alphas, betas, Z, points: Mapping[str, tuple] | None = None, *,
                      xaxis_title: str = "α", yaxis_title: str = "β", title: str | None = None) -> go.Figure:
    """A 2-D slice of a loss as a contour plot, with labelled points (e.g. a saddle and a minimizer).

    Used in chapter 4, section 5.

    Parameters
    ----------
    alphas : array_like of shape (A,)
    betas : array_like of shape (B,)
    Z : array_like of shape (B, A)
        From :func:`landscape_lib.ufm.loss_slice`.
    points : mapping of str to (alpha, beta), optional
    """
    a = _round(as_float_array(alphas, "alphas", ndim=1))
    b = _round(as_float_array(betas, "betas", ndim=1))
    z = as_float_array(Z, "Z", ndim=2)
    if z.shape != (b.size, a.size):
        raise ValueError(f"Z must have shape (len(betas), len(alphas)) = ({b.size}, {a.size}); got {z.shape}")
    fig = go.Figure(go.Contour(x=a, y=b, z=_round(z), colorscale="Viridis", ncontours=30,
                               colorbar=dict(title="loss"), contours=dict(showlabels=False)))
    symbols = ["x", "star", "circle", "diamond"]
    for j, (name, (pa, pb)) in enumerate((points or {}).items()):
        fig.add_trace(go.Scatter(x=[float(_round(pa))], y=[float(_round(pb))], mode="markers+text",
                                 text=[name], textposition="top center", name=name, showlegend=False,
                                 textfont=dict(color="white", size=13),
                                 marker=dict(symbol=symbols[j % len(symbols)], size=14, color="white",
                                             line=dict(color="black", width=1))))
    fig.update_xaxes(title_text=xaxis_title)
    fig.update_yaxes(title_text=yaxis_title)
    fig.update_layout(**base_layout(title, height=480))
    return fig


def critical_values_figure(loss_values, lambda_mins, kinds: Sequence[str], settings: Sequence[str], *,
                           title: str | None = None,
                           xaxis_title: str = "loss f at the critical point") -> go.Figure:
    r"""Smallest Hessian eigenvalue against the loss at critical points, one colour per setting.

    Used in chapter 4, section 5 and chapter 4b. Hovering shows the construction of each point; the dashed
    line is :math:`\lambda_{\min} = 0`. The legend has a colour swatch per setting and a grey marker per
    construction (its symbol); labels are shown through :func:`~landscape_lib.viz.style.plotly_label`
    (``n_c`` as a subscript, ``alpha`` as α).

    Parameters
    ----------
    loss_values, lambda_mins : array_like of shape (P,)
    kinds : sequence of str, length P
        The construction of each point (marker symbol).
    settings : sequence of str, length P
        The problem each point belongs to (colour and legend).
    xaxis_title : str, default "loss f at the critical point"
        Name what ``loss_values`` holds (e.g. the gap :math:`f - f^*` to the global minimum).
    """
    f = _round(as_float_array(loss_values, "loss_values", ndim=1), 6)
    lm = _round(as_float_array(lambda_mins, "lambda_mins", ndim=1), 6)
    if not (len(kinds) == len(settings) == f.size == lm.size):
        raise ValueError(f"loss_values, lambda_mins, kinds and settings must have one length; got {f.size}, "
                         f"{lm.size}, {len(kinds)}, {len(settings)}")
    symbols = ["circle", "x", "diamond", "square", "triangle-up", "star", "cross", "triangle-down"]
    kind_list = list(dict.fromkeys(kinds))
    fig = go.Figure()
    for j, setting in enumerate(dict.fromkeys(settings)):
        idx = [i for i, s in enumerate(settings) if s == setting]
        colour = LINE_COLORS[j % len(LINE_COLORS)]
        # The points: shape = construction, so their own legend icon (the first point's shape) would
        # mislead; the setting's entry is a colour swatch (a thick line) instead.
        fig.add_trace(go.Scatter(
            x=f[idx], y=lm[idx], mode="markers", name=plotly_label(setting), text=[kinds[i] for i in idx],
            legendgroup=setting, showlegend=False,
            hovertemplate="%{text}<br>loss %{x}<br>λ<sub>min</sub> %{y}<extra></extra>",
            marker=dict(size=11, color=colour,
                        symbol=[symbols[kind_list.index(kinds[i]) % len(symbols)] for i in idx])))
        # a thick line: a colour, not a shape (a square would read as the construction drawn as one)
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=plotly_label(setting),
                                 legendgroup=setting, line=dict(color=colour, width=6)))
    # One grey entry per construction: what each marker shape means.
    for k, kind in enumerate(kind_list):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=plotly_label(kind),
                                 legendgroup="kinds", legendgrouptitle_text="construction" if k == 0 else None,
                                 marker=dict(size=11, color="gray", symbol=symbols[k % len(symbols)])))
    fig.add_hline(y=0.0, line=dict(color="gray", dash="dash"))
    fig.update_xaxes(title_text=xaxis_title)
    fig.update_yaxes(title_text="smallest Hessian eigenvalue λ<sub>min</sub>")
    fig.update_layout(**base_layout(title, height=460))
    return fig


def angles_figure(points: Mapping[str, np.ndarray], *, title: str | None = None) -> go.Figure:
    r"""Unit vectors in the plane or in space (rows), one trace per configuration, with a dropdown to switch.

    Used in chapter 4b, section 4 (classifier rows on the sphere when ``d < K - 1``).

    Parameters
    ----------
    points : mapping of str to array_like of shape (K, 2) or (K, 3)
        Rows :math:`w_k` drawn as segments from the origin; all of the same dimension. The axes are their
        coordinates (ranges :math:`\pm 1.25`, room for the unit vectors' markers): "coordinate i of
        w_k" in the plane, :math:`w_{k,i}` in space.
    """
    items = [(name, as_float_array(p, name, ndim=2)) for name, p in points.items()]
    if not items or len({p.shape[1] for _, p in items}) != 1 or items[0][1].shape[1] not in (2, 3):
        raise ValueError("points must be a non-empty mapping of arrays of shape (K, 2) or all of shape (K, 3)")
    dim = items[0][1].shape[1]
    fig = go.Figure()
    for j, (name, p) in enumerate(items):
        p = _round(p, 5)
        seg = np.full((3 * p.shape[0], dim), np.nan)
        seg[0::3] = 0.0
        seg[1::3] = p
        color = LINE_COLORS[j % len(LINE_COLORS)]
        kw = dict(name=name, visible=j == 0, mode="lines+markers", line=dict(color=color, width=4),
                  marker=dict(size=5, color=color))
        if dim == 2:
            fig.add_trace(go.Scatter(x=seg[:, 0], y=seg[:, 1], **kw))
        else:
            fig.add_trace(go.Scatter3d(x=seg[:, 0], y=seg[:, 1], z=seg[:, 2], **kw))
    buttons = [dict(label=name, method="update", args=[{"visible": [i == j for i in range(len(items))]}])
               for j, (name, _) in enumerate(items)]
    # The menu between the title and the plot (over the title, it hid the title's start).
    fig.update_layout(updatemenus=[menu_above_plot(buttons)], showlegend=False)
    names = [f"coordinate {i + 1} of w<sub>k</sub>" for i in range(dim)]
    if dim == 2:
        fig.update_yaxes(scaleanchor="x", range=[-1.25, 1.25], title_text=names[1])
        fig.update_xaxes(range=[-1.25, 1.25], title_text=names[0])
    else:
        # Ticks at -1, 0, 1 only, so that the labels at the scene's corners stay apart; short titles
        # (w_k,i: coordinate i of w_k), as a long one runs out of the figure at the front corner.
        axis = dict(range=[-1.25, 1.25], tickvals=[-1, 0, 1])
        fig.update_layout(scene=dict(aspectmode="cube", **{f"{c}axis": dict(axis, title=f"w<sub>k,{i + 1}</sub>")
                                                           for i, c in enumerate("xyz")}))
    fig.update_layout(**base_layout(title, height=480, top=MENU_ROOM))
    return fig


def minority_collapse_figure(ratios, cosine_curves: Mapping[str, np.ndarray], grams: Mapping[str, np.ndarray], *,
                             minority: Sequence[int], title: str | None = None) -> go.Figure:
    r"""Minority collapse against the imbalance ratio: cosine curves, and cosine matrices with a slider over R.

    Used in chapter 4b, section 3. Top: the mean cosine between the minority classifier rows against
    :math:`R` (log axis), one curve per model (gaps where the rows vanish). Bottom: for each model the
    :math:`K \times K` matrix of cosines between classifier rows at the :math:`R` the slider selects (blank
    rows and columns for zero rows).

    Parameters
    ----------
    ratios : array_like of shape (S,)
    cosine_curves : mapping of str to array_like of shape (S,)
        NaN where undefined.
    grams : mapping of str to array_like of shape (S, K, K)
        Gram matrices :math:`WW^\top` per ratio, same keys as ``cosine_curves``.
    minority : sequence of int
        Indices (0-based) of the minority classes; the matrices' axes label class ``k`` as ``k + 1`` (classes
        1..K, as in the book's text), starred for a minority class.
    """
    R = as_float_array(ratios, "ratios", ndim=1)
    names = list(cosine_curves)
    if list(grams) != names:
        raise ValueError(f"grams and cosine_curves must have the same keys; got {list(grams)} and {names}")
    G = {k: as_float_array(v, f"grams[{k!r}]", ndim=3, allow_empty=False) for k, v in grams.items()}
    if any(g.shape[0] != R.size for g in G.values()):
        raise ValueError(f"every grams entry must have one matrix per ratio ({R.size})")
    K = next(iter(G.values())).shape[1]
    starred = set(minority)
    labels = [f"{k + 1}{'*' if k in starred else ''}" for k in range(K)]  # classes 1..K, as in the text
    fig = make_subplots(rows=2, cols=len(names), specs=[[{"colspan": len(names)}] + [None] * (len(names) - 1),
                                                         [{} for _ in names]],
                        row_heights=[0.45, 0.55], vertical_spacing=0.14,
                        subplot_titles=["minority cosine against R"] + names)
    for j, name in enumerate(names):
        c = np.asarray(cosine_curves[name], dtype=float)
        fig.add_trace(go.Scatter(x=_round(R), y=[None if not np.isfinite(v) else float(v) for v in _round(c)],
                                 mode="lines+markers", name=name, line=dict(color=LINE_COLORS[j % len(LINE_COLORS)])),
                      row=1, col=1)
    n_curves = len(names)

    def cos_matrix(g):
        d = np.sqrt(np.clip(np.diag(g), 0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            c = g / np.outer(d, d)
        c[(d < 1e-9 * max(d.max(), 1e-300))[:, None] | (d < 1e-9 * max(d.max(), 1e-300))[None, :]] = np.nan
        return [[None if not np.isfinite(v) else float(v) for v in row] for row in _round(c, 3)]

    # One colour bar per slider step (the first model's; the others share its scale), so that it stays
    # when the slider shows another step.
    for s in range(R.size):
        for j, name in enumerate(names):
            fig.add_trace(go.Heatmap(z=cos_matrix(G[name][s]), x=labels, y=labels, zmin=-1, zmax=1,
                                     colorscale="RdBu", reversescale=True, showscale=j == 0,
                                     visible=s == 0,
                                     hovertemplate="cos(w<sub>%{y}</sub>, w<sub>%{x}</sub>) = %{z}<extra></extra>"),
                          row=2, col=j + 1)
    steps = []
    for s in range(R.size):
        vis = [True] * n_curves + [t == s for t in range(R.size) for _ in names]
        steps.append(dict(method="update", label=f"{R[s]:g}", args=[{"visible": vis}]))
    fig.update_layout(sliders=[dict(active=0, steps=steps, currentvalue=dict(prefix="R = "), pad=dict(t=40))])
    # The colour bar beside the matrices only: over the full height it lay under the curves' legend.
    bottom = fig.get_subplot(2, 1).yaxis.domain
    fig.update_traces(colorbar=dict(y=bottom[0], yanchor="bottom", len=bottom[1] - bottom[0],
                                    title="cosine"), selector=dict(type="heatmap"))
    fig.update_xaxes(type="log", title_text="imbalance ratio R", **log_ticks(R), row=1, col=1)
    fig.update_yaxes(title_text="cosine", range=[-0.4, 1.05], row=1, col=1)
    for j in range(len(names)):
        fig.update_yaxes(autorange="reversed", title_text="class (* = minority)" if j == 0 else None,
                         row=2, col=j + 1)
        fig.update_xaxes(title_text="class (* = minority)", row=2, col=j + 1)
    fig.update_layout(**base_layout(title, height=720, top=SUBPLOT_TITLE_ROOM if title else 0))
    return fig

