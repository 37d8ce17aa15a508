"""Figures of the deep neural-collapse chapters (5–7): NC metrics and accuracy against epochs or width.

Inputs are training histories as written by :func:`landscape_lib.train.train` (a list of per-epoch
dictionaries; metric columns are ``None`` on epochs without metrics). Only plotly is imported here, so
the figures can be redrawn from a ``history.json`` without torch.

Logarithmic axes are labelled by one helper, ``log_ticks``: powers of ten where the values span a few
decades, else a 1–2–3–5 sequence, never plotly's own minor labels (it writes a small 2 and 5 in every
decade, which crowd a panel of the book's width).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .._validation import check_scalar
from ..stored_runs import final_values, seed_band
from .style import LINE_COLORS, SUBPLOT_TITLE_ROOM, base_layout, log_ticks

__all__ = ["METRIC_LABELS", "metric_series", "training_curves_figure", "width_sweep_figure",
           "width_band_figure", "final_metrics_table", "seed_band_figure", "seed_summary_table"]

#: Panel titles of the history columns: short enough for three panels side by side in the book's width.
#: Subscripts as plotly's ``<sub>`` (it shows a ``_`` literally).
METRIC_LABELS = {
    "nc1": "NC1 = tr(Σ<sub>W</sub> Σ<sub>B</sub><sup>†</sup>)/K",
    "nc2_classifier": "NC2 of W",
    "nc2_means": "NC2 of the class means",
    "nc3_ufm": "NC3 (UFM form)",
    "nc3_papyan": "NC3 (Papyan form)",
    "nc4": "NC4 (≠ nearest mean)",
    "train_acc": "training accuracy",
    "test_acc": "test accuracy",
    "train_loss": "training loss",
    "test_loss": "test loss",
}
#: Columns shown on a logarithmic y axis (the NC metrics that decay towards 0 without reaching it).
LOG_METRICS = {"nc1", "nc2_classifier", "nc2_means", "nc3_ufm", "nc3_papyan", "train_loss", "test_loss"}
#: With this many legend entries or more, the legend goes in rows under the plot: a column of them at the
#: right takes the panels' width (the book's text column is 688 px).
LEGEND_BELOW = 4
#: Height of one row of a horizontal legend (px).
LEGEND_ROW = 22
#: Linear columns that are fractions in [0, 1]: a flat panel of them (all 1, all 0) keeps a range near [0, 1].
FRACTION_METRICS = {"nc4", "train_acc", "test_acc"}


def _check_history(history, name: str = "history") -> Sequence[Mapping]:
    if (isinstance(history, (str, bytes)) or not isinstance(history, Sequence)
            or not all(isinstance(row, Mapping) for row in history)):
        raise ValueError(f"{name} must be a sequence of dicts (one per epoch, as train writes); "
                         f"got {type(history).__name__}")
    if not all("epoch" in row for row in history):
        raise ValueError(f"every row of {name} must have an 'epoch'")
    return history


def _check_histories(histories, *, widths: bool = False) -> Mapping:
    if not isinstance(histories, Mapping):
        raise ValueError(f"histories must be a mapping of run label to history; got {type(histories).__name__}")
    if not histories:
        raise ValueError("histories must contain at least one run")
    for label, history in histories.items():
        _check_history(history, f"histories[{label!r}]")
    if widths:
        _check_widths(histories, "histories")
    return histories


def _check_widths(keys, name: str) -> None:
    if not all(isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in keys):
        raise ValueError(f"widths must be integers >= 1 (the keys of {name}); got {list(keys)}")


def _check_metrics(metrics) -> list:
    if isinstance(metrics, str) or not isinstance(metrics, Sequence) or not metrics \
            or not all(isinstance(m, str) for m in metrics):
        raise ValueError(f"metrics must be a non-empty sequence of column names; got {metrics!r}")
    return list(metrics)


def metric_series(history: Sequence[Mapping], key: str) -> tuple[list, list]:
    """``(epochs, values)`` of one history column, skipping epochs where it was not measured (``None``).

    Parameters
    ----------
    history : sequence of dict
        Rows with an ``"epoch"`` (as written by :func:`landscape_lib.train.train`).
    key : str
        The column.

    Returns
    -------
    (list of int, list of float)
    """
    history = _check_history(history)
    if not isinstance(key, str):
        raise ValueError(f"key must be a string (a history column); got {key!r}")
    rows = [r for r in history if r.get(key) is not None]
    return [r["epoch"] for r in rows], [float(r[key]) for r in rows]


def _positive(values: list) -> list:
    """Values for a log axis: exact zeros become gaps (plotly cannot draw them on a log scale)."""
    return [v if v > 0 else None for v in values]


def _panel_values(fig: go.Figure, row: int, col: int, axis: str = "y") -> list:
    """All ``axis`` values of the traces drawn in the subplot at ``(row, col)``."""
    name = getattr(fig.get_subplot(row, col), f"{axis}axis").plotly_name   # e.g. "yaxis2"
    ref = name.replace("axis", "")                                        # the traces' reference: "y2"
    return [y for trace in fig.data if (getattr(trace, axis + "axis") or axis) == ref
            for y in (getattr(trace, axis) or ())]


def training_curves_figure(histories: Mapping[str, Sequence[Mapping]],
                           metrics: Sequence[str] = ("nc1", "nc2_classifier", "nc3_ufm", "nc4", "train_acc",
                                                     "test_acc"),
                           *, title: str | None = None, cols: int = 3, height: int | None = None) -> go.Figure:
    """One panel per metric against epochs, one coloured line per run (chapters 5–7).

    NC1–NC3 and losses use a logarithmic y axis (exact zeros are left out); NC4 and accuracies a linear
    one, since they reach 0 and 1 exactly.

    Parameters
    ----------
    histories : mapping of str to list of dict
        Run label (e.g. the optimizer) → history of :func:`landscape_lib.train.train`.
    metrics : sequence of str
        History columns, one panel each.
    title : str or None
    cols : int
        Panels per row.
    height : int or None
        Figure height in pixels (default: 300 per row of panels).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    _check_histories(histories)
    fig, metrics, cols = _metric_panels(metrics, cols)
    for i, (label, history) in enumerate(histories.items()):
        colour = LINE_COLORS[i % len(LINE_COLORS)]
        for j, key in enumerate(metrics):
            epochs, values = metric_series(history, key)
            if key in LOG_METRICS:
                values = _positive(values)
            fig.add_trace(go.Scatter(x=epochs, y=[None if v is None else round(v, 6) for v in values],
                                     mode="lines+markers", marker=dict(size=4), name=str(label),
                                     legendgroup=str(label), showlegend=(j == 0), line=dict(color=colour),
                                     hovertemplate=f"{label}<br>epoch %{{x}}<br>{key} %{{y:.4g}}<extra></extra>"),
                          row=j // cols + 1, col=j % cols + 1)
    return _finish_panels(fig, metrics, cols, title, height)


def _metric_panels(metrics, cols) -> tuple[go.Figure, list, int]:
    """One subplot per metric, ``cols`` per row, titled by :data:`METRIC_LABELS`."""
    metrics = _check_metrics(metrics)
    cols = check_scalar(cols, "cols", integer=True, low=1)
    rows = -(-len(metrics) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[METRIC_LABELS.get(m, m) for m in metrics],
                        horizontal_spacing=0.08, vertical_spacing=0.16)
    return fig, metrics, cols


def _set_y_axis(fig: go.Figure, key: str, row: int, col: int) -> None:
    """A log y axis labelled by :func:`log_ticks` for :data:`LOG_METRICS`, a linear one otherwise."""
    if key in LOG_METRICS:
        fig.update_yaxes(type="log", **log_ticks(_panel_values(fig, row, col)), row=row, col=col)
        return
    fig.update_yaxes(type="linear", row=row, col=col)
    values = np.array([v for v in _panel_values(fig, row, col) if v is not None], dtype=float)
    values = values[np.isfinite(values)]
    if key in FRACTION_METRICS and values.size and np.ptp(values) == 0:
        # Plotly stretches a flat panel to [v - 1, v + 1] (an accuracy up to 2); keep it near [0, 1].
        fig.update_yaxes(range=[max(values.min() - 0.05, -0.02), min(values.max() + 0.05, 1.02)], row=row,
                         col=col)


def _finish_panels(fig: go.Figure, metrics: list, cols: int, title, height, x_title: str = "epoch") -> go.Figure:
    """Y axes by :func:`_set_y_axis`, ``x_title`` under the bottom row, the layout (300 px a row).

    The top margin leaves room for the panel titles under a title of any number of lines; with
    :data:`LEGEND_BELOW` legend entries or more the legend is horizontal, under the plot. Call it after
    the traces are added: the log axes' ticks are chosen from them.
    """
    if height is not None:
        height = check_scalar(height, "height", integer=True, low=1)
    rows = -(-len(metrics) // cols)
    for j, key in enumerate(metrics):
        _set_y_axis(fig, key, j // cols + 1, j % cols + 1)
        # the bottom panel of each column (the last row may be short)
        bottom = j + cols >= len(metrics)
        fig.update_xaxes(title_text=x_title if bottom else None, row=j // cols + 1, col=j % cols + 1)
    layout = base_layout(title, height=height or 300 * rows + 60, top=SUBPLOT_TITLE_ROOM)
    entries = sum(1 for t in fig.data if t.showlegend is not False and t.name)
    if entries >= LEGEND_BELOW:
        # Rows under the x titles (``yref="container"``: at the figure's bottom edge, whatever its
        # height); the bottom margin grows by the rows of two entries each (plotly fits more if it can).
        legend_rows = -(-entries // 2)
        layout["margin"]["b"] += 20 + LEGEND_ROW * legend_rows
        if height is None:
            layout["height"] += 20 + LEGEND_ROW * legend_rows
        layout["legend"] = dict(orientation="h", x=0.5, xanchor="center", yref="container", y=0,
                                yanchor="bottom")
    fig.update_layout(**layout)
    return fig


def width_sweep_figure(histories: Mapping[int, Sequence[Mapping]],
                       metrics: Sequence[str] = ("nc1", "nc2_classifier", "nc3_ufm", "train_acc"),
                       *, title: str | None = None) -> go.Figure:
    """Final value of each metric against the network width (chapter 6), log-log for NC1–NC3.

    Parameters
    ----------
    histories : mapping of int to list of dict
        Base width (an integer ``>= 1``, for the logarithmic axis) → history.
    metrics : sequence of str
    title : str or None

    Returns
    -------
    plotly.graph_objects.Figure
    """
    _check_histories(histories, widths=True)
    metrics = _check_metrics(metrics)
    widths = sorted(histories)
    fig = make_subplots(rows=1, cols=len(metrics), subplot_titles=[METRIC_LABELS.get(m, m) for m in metrics],
                        horizontal_spacing=0.07)
    for j, key in enumerate(metrics):
        finals = [metric_series(histories[w], key)[1] for w in widths]
        ys = [v[-1] if v else None for v in finals]
        if key in LOG_METRICS:
            ys = [None if y is None or y <= 0 else y for y in ys]
        fig.add_trace(go.Scatter(x=widths, y=[None if y is None else round(y, 6) for y in ys], mode="lines+markers",
                                 line=dict(color=LINE_COLORS[0]), showlegend=False,
                                 hovertemplate=f"width %{{x}}<br>{key} %{{y:.4g}}<extra></extra>"),
                      row=1, col=j + 1)
        fig.update_xaxes(type="log", title_text="base width", tickvals=widths, row=1, col=j + 1)
        _set_y_axis(fig, key, 1, j + 1)
    fig.update_layout(**base_layout(title, height=340))
    return fig


def width_band_figure(groups: Mapping[int, Sequence[Sequence[Mapping]]],
                      metrics: Sequence[str] = ("train_acc", "nc1", "nc2_classifier", "nc2_means", "nc3_ufm",
                                                "nc4"),
                      *, title: str | None = None, cols: int = 3, height: int | None = None) -> go.Figure:
    """The last stored value of each metric against the network width: median over seeds, min–max band.

    For a width :math:`w` with seeds :math:`s = 1, \\dots, S_w` and a metric whose last stored values are
    :math:`v_{w,s}`, the panel draws :math:`\\operatorname{median}_s v_{w,s}` as a line with markers and
    the band from :math:`\\min_s v_{w,s}` to :math:`\\max_s v_{w,s}` (seeds that recorded ``null`` are
    left out). The x axis is logarithmic with a tick at every width; NC1–NC3 and losses have a
    logarithmic y axis (exact zeros are gaps there), NC4 and accuracies a linear one, as in
    :func:`seed_band_figure`, whose figure over the epochs this one ends. A width with one seed has no
    band, so one run per width draws the plain sweep of :func:`width_sweep_figure` in this layout.

    Parameters
    ----------
    groups : mapping of int to list of histories
        Base width (an integer ``>= 1``) → the histories of its :math:`S_w` seeds, e.g.
        :func:`landscape_lib.stored_runs.seed_groups` keyed by ``run.config["width"]``. The runs of one
        width must end at the same epoch, so that a band compares seeds at one point of training.
    metrics : sequence of str
        History columns, one panel each.
    title : str or None
    cols : int
        Panels per row.
    height : int or None
        Default: 300 pixels per row of panels.

    Returns
    -------
    plotly.graph_objects.Figure
        Per panel, in the order of ``metrics``: the band (a closed polygon over the W widths, shape
        ``(2W,)``: the maxima left to right, then the minima right to left; only when some width has
        more than one seed) and the median line, ``x`` the W widths in increasing order.

    Raises
    ------
    ValueError
        For widths that are not integers ``>= 1``, an empty group, or seeds of one width whose last
        stored epochs differ.
    """
    _check_groups(groups)
    _check_widths(groups, "groups")
    for w, histories in groups.items():
        last = sorted({h[-1]["epoch"] for h in histories})
        if len(last) > 1:
            raise ValueError(f"the seeds of width {w} end at different epochs {last}; "
                             "compare runs at one epoch (finish them, or cut them to the same epoch)")
    widths = sorted(groups)
    band = any(len(groups[w]) > 1 for w in widths)
    fig, metrics, cols = _metric_panels(metrics, cols)
    colour = LINE_COLORS[0]
    for j, key in enumerate(metrics):
        finals = [final_values(groups[w], key) for w in widths]  # (S_w,) per width
        low, mid, high = (np.array([f(v) if np.isfinite(v).any() else np.nan for v in finals])
                          for f in (np.nanmin, np.nanmedian, np.nanmax))
        low, mid, high = _drawable(key, low, mid, high)
        where = dict(row=j // cols + 1, col=j % cols + 1)
        if band:
            fig.add_trace(_band_trace(widths, low, high, colour, name="min–max over seeds"), **where)
        seeds = [len(groups[w]) for w in widths]
        fig.add_trace(go.Scatter(x=widths, y=_rounded(mid), mode="lines+markers", line=dict(color=colour, width=2),
                                 marker=dict(size=6), showlegend=False, name="median over seeds",
                                 customdata=np.column_stack([_rounded(low), _rounded(high), seeds]).tolist(),
                                 hovertemplate=f"width %{{x}}<br>{key} median %{{y:.3g}} "
                                               "[%{customdata[0]:.3g}, %{customdata[1]:.3g}] "
                                               "over %{customdata[2]} seeds<extra></extra>"),
                      **where)
        fig.update_xaxes(type="log", tickvals=widths, **where)
    return _finish_panels(fig, metrics, cols, title, height, x_title="base width")


def final_metrics_table(histories: Mapping[str, Sequence[Mapping]],
                        metrics: Sequence[str] = ("train_acc", "test_acc", "nc1", "nc2_classifier", "nc3_ufm", "nc4"),
                        *, digits: int = 2) -> str:
    """Plain-text table of each run's last measured value of each metric (for the printed chapter output).

    Values are printed with ``digits`` significant digits (``%.{digits}g``), accuracies with ``digits``
    decimals; magnitudes below 1e-12 (round-off) as ``<1e-12``.

    Parameters
    ----------
    histories : mapping of str to list of dict
        Run label → history.
    metrics : sequence of str
    digits : int
        ``>= 0``.

    Returns
    -------
    str
    """
    _check_histories(histories)
    metrics = _check_metrics(metrics)
    digits = check_scalar(digits, "digits", integer=True, low=0)
    label_width = max(len(str(k)) for k in histories) + 2
    header = "run".ljust(label_width) + "".join(m.rjust(16) for m in metrics)
    lines = [header]
    for label, history in histories.items():
        cells = []
        for key in metrics:
            values = metric_series(history, key)[1]
            if not values:
                cells.append("-".rjust(16))
            elif 0 < abs(values[-1]) < 1e-12:
                cells.append("<1e-12".rjust(16))        # round-off: its digits vary from machine to machine
            elif key.endswith("_acc"):
                cells.append(f"{values[-1]:.{digits}f}".rjust(16))
            else:
                cells.append(f"{values[-1]:.{digits}g}".rjust(16))
        lines.append(str(label).ljust(label_width) + "".join(cells))
    return "\n".join(lines)


def _check_groups(groups) -> Mapping:
    if not isinstance(groups, Mapping) or not groups:
        raise ValueError("groups must be a non-empty mapping of label to a list of histories (one per seed)")
    for label, histories in groups.items():
        if isinstance(histories, (str, bytes)) or not isinstance(histories, Sequence) or not histories:
            raise ValueError(f"groups[{label!r}] must be a non-empty list of histories (one per seed)")
        for i, history in enumerate(histories):
            _check_history(history, f"groups[{label!r}][{i}]")
    return groups


def _rgba(colour: str, alpha: float) -> str:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def seed_band_figure(groups: Mapping[str, Sequence[Sequence[Mapping]]],
                     metrics: Sequence[str] = ("nc1", "nc2_classifier", "nc2_means", "nc3_ufm", "nc4", "train_acc"),
                     *, title: str | None = None, cols: int = 3, height: int | None = None) -> go.Figure:
    """One panel per metric against epochs: per group the median over seeds as a line, min–max as a band.

    The figure of the stored reference runs (chapters 5–7): a group is one setting (an optimizer, a width)
    trained from several seeds. NC1–NC3 and losses on a logarithmic y axis; NC4 and accuracies linear.

    Parameters
    ----------
    groups : mapping of str to list of histories
        Label → the histories of its seeds (:func:`landscape_lib.stored_runs.seed_groups`).
    metrics : sequence of str
    title : str or None
    cols : int
        Panels per row.
    height : int or None
        Default: 300 pixels per row of panels.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    _check_groups(groups)
    fig, metrics, cols = _metric_panels(metrics, cols)
    for i, (label, histories) in enumerate(groups.items()):
        colour = LINE_COLORS[i % len(LINE_COLORS)]
        for j, key in enumerate(metrics):
            epochs, values = seed_band(histories, key)
            low, mid, high = (np.nanmin(values, axis=0), np.nanmedian(values, axis=0), np.nanmax(values, axis=0))
            low, mid, high = _drawable(key, low, mid, high)
            x = epochs.tolist()
            where = dict(row=j // cols + 1, col=j % cols + 1)
            fig.add_trace(_band_trace(x, low, high, colour, legendgroup=str(label)), **where)
            fig.add_trace(go.Scatter(x=x, y=_rounded(mid), mode="lines", line=dict(color=colour, width=2),
                                     name=f"{label} ({len(histories)} seeds)", legendgroup=str(label),
                                     showlegend=(j == 0),
                                     hovertemplate=f"{label}<br>epoch %{{x}}<br>{key} median "
                                                   "%{y:.3g}<extra></extra>"),
                          **where)
    return _finish_panels(fig, metrics, cols, title, height)


def _drawable(key: str, *arrays: np.ndarray) -> tuple:
    """The arrays as drawn in ``key``'s panel: exact zeros become gaps on a log axis (plotly cannot draw them)."""
    if key not in LOG_METRICS:
        return arrays
    return tuple(np.where(v > 0, v, np.nan) for v in arrays)


def _band_trace(x: list, low: np.ndarray, high: np.ndarray, colour: str, **kwargs) -> go.Scatter:
    """The min–max band over seeds: a closed polygon through ``high`` left to right, then ``low`` back."""
    # mode "lines": plotly adds markers in its own colours to a trace of fewer than 20 points
    return go.Scatter(x=list(x) + list(x)[::-1], y=_rounded(np.concatenate([high, low[::-1]])), fill="toself",
                      mode="lines", fillcolor=_rgba(colour, 0.2), line=dict(width=0), hoverinfo="skip",
                      showlegend=False, **kwargs)


def _rounded(values: np.ndarray) -> list:
    return [None if not np.isfinite(v) else float(f"{v:.6g}") for v in values]


def seed_summary_table(groups: Mapping[str, Sequence[Sequence[Mapping]]],
                       metrics: Sequence[str] = ("train_acc", "test_acc", "nc1", "nc2_classifier", "nc2_means",
                                                 "nc3_ufm", "nc4"),
                       *, digits: int = 2) -> str:
    """Plain-text table of the last stored value per group: median over the seeds and [min, max].

    Parameters
    ----------
    groups : mapping of str to list of histories
    metrics : sequence of str
    digits : int
        Significant digits (accuracies: decimals).

    Returns
    -------
    str
    """
    _check_groups(groups)
    metrics = _check_metrics(metrics)
    digits = check_scalar(digits, "digits", integer=True, low=0)

    def fmt(key, v):
        if not np.isfinite(v):
            return "-"
        return f"{v:.{digits}f}" if key.endswith("_acc") else f"{v:.{digits}g}"

    labels = [f"{label} ({len(histories)})" for label, histories in groups.items()]
    table = []
    for histories in groups.values():
        row = []
        for key in metrics:
            v = final_values(histories, key)
            row.append(f"{fmt(key, np.nanmedian(v))} [{fmt(key, np.nanmin(v))}, {fmt(key, np.nanmax(v))}]")
        table.append(row)
    label_width = max(len(t) for t in labels + ["setting (seeds)"]) + 2
    widths = [max(len(m), *(len(row[j]) for row in table)) + 2 for j, m in enumerate(metrics)]
    lines = ["setting (seeds)".ljust(label_width) + "".join(m.rjust(w) for m, w in zip(metrics, widths, strict=True))]
    for label, row in zip(labels, table, strict=True):
        lines.append(label.ljust(label_width) + "".join(t.rjust(w) for t, w in zip(row, widths, strict=True)))
    return "\n".join(lines)
