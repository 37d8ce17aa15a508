"""Figures of the deep neural-collapse chapters (5–7): NC metrics and accuracy against epochs.

Inputs are training histories as written by :func:`landscape_lib.train.train` (a list of per-epoch
dictionaries; metric columns are ``None`` on epochs without metrics). Only plotly is imported here, so
the figures can be redrawn from a ``history.json`` without torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .._validation import check_scalar
from .style import LINE_COLORS, base_layout

__all__ = ["METRIC_LABELS", "metric_series", "training_curves_figure", "width_sweep_figure",
           "final_metrics_table"]

#: Axis titles of the history columns.
METRIC_LABELS = {
    "nc1": "NC1 = tr(Σ_W Σ_B†)/K",
    "nc2_classifier": "NC2 of W (distance to ETF)",
    "nc2_means": "NC2 of the class means",
    "nc3_ufm": "NC3 (self-duality, UFM form)",
    "nc3_papyan": "NC3 (Papyan et al. form)",
    "nc4": "NC4 (prediction ≠ nearest mean)",
    "train_acc": "training accuracy",
    "test_acc": "test accuracy",
    "train_loss": "training loss",
    "test_loss": "test loss",
}
#: Columns shown on a logarithmic y axis (the NC metrics that decay towards 0 without reaching it).
LOG_METRICS = {"nc1", "nc2_classifier", "nc2_means", "nc3_ufm", "nc3_papyan", "train_loss", "test_loss"}


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
    if widths and not all(isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in histories):
        raise ValueError(f"widths must be integers >= 1 (the keys of histories); got {list(histories)}")
    return histories


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
    metrics = _check_metrics(metrics)
    cols = check_scalar(cols, "cols", integer=True, low=1)
    if height is not None:
        height = check_scalar(height, "height", integer=True, low=1)
    rows = -(-len(metrics) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[METRIC_LABELS.get(m, m) for m in metrics],
                        horizontal_spacing=0.08, vertical_spacing=0.16)
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
    for j, key in enumerate(metrics):
        fig.update_yaxes(type="log" if key in LOG_METRICS else "linear", row=j // cols + 1, col=j % cols + 1,
                         exponentformat="power")
        fig.update_xaxes(title_text="epoch" if j // cols == rows - 1 else None, row=j // cols + 1,
                         col=j % cols + 1)
    fig.update_layout(**base_layout(title, height=height or 300 * rows + 60))
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
        fig.update_yaxes(type="log" if key in LOG_METRICS else "linear", exponentformat="power", row=1, col=j + 1)
    fig.update_layout(**base_layout(title, height=340))
    return fig


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
