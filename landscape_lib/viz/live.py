"""Live controls for a kernel (Colab, Binder, local Jupyter): sliders and menus that redraw a figure.

:func:`live_figure` is the one way the chapters build their ipywidgets cell. It shows the figure by
setting the ``outputs`` of an ``Output`` widget directly instead of capturing display calls with
``with output:`` (what ``ipywidgets.interact`` does): a captured display inside an executing cell makes
nbclient — and so papermill and nbval — hang now and then (about 1 run in 25 here, nbclient issue 312),
while setting the outputs is an ordinary widget-state update.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping


def live_figure(make_figure: Callable, controls: Mapping[str, object], *, title: str | None = None):
    """Controls plus a figure that ``make_figure(**values)`` redraws whenever a control changes.

    Parameters
    ----------
    make_figure : callable
        Called with one keyword argument per control (its current value); returns a plotly figure (or
        anything IPython can display).
    controls : mapping of str to ipywidgets.ValueWidget
        The controls, by the keyword they feed. Use ``continuous_update=False`` on sliders whose
        redraw is slow.
    title : str, optional
        A line of text above the controls.

    Returns
    -------
    ipywidgets.VBox
        The controls and an ``Output`` holding the figure; display it as a cell's last expression.
    """
    import ipywidgets as widgets

    if not callable(make_figure):
        raise ValueError(f"make_figure must be callable; got {type(make_figure).__name__}")
    if not controls:
        raise ValueError("controls must name at least one widget")
    for name, control in controls.items():
        if not hasattr(control, "observe") or not hasattr(control, "value"):
            raise ValueError(f"control {name!r} must be an ipywidgets value widget; got {type(control).__name__}")
    output = widgets.Output()

    def redraw(_change=None):
        figure = make_figure(**{name: control.value for name, control in controls.items()})
        output.outputs = ({"output_type": "display_data", "data": _mime_bundle(figure), "metadata": {}},)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    header = [widgets.HTML(f"<b>{title}</b>")] if title else []
    return widgets.VBox([*header, widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap")),
                         output])


def _mime_bundle(obj) -> dict:
    """The MIME bundle IPython would display for ``obj``, without displaying it.

    Plotly figures are asked for their bundle directly (their ``_ipython_display_`` would publish the
    figure as a separate cell output); the bundle follows plotly's default renderer, so Colab gets its
    own. A plain-text line stands in where the figure cannot be drawn (the static book's snapshot).
    """
    if hasattr(obj, "_repr_mimebundle_"):
        data = obj._repr_mimebundle_(include=None, exclude=None)
        data = data[0] if isinstance(data, tuple) else data
    else:
        from IPython.core.interactiveshell import InteractiveShell

        data, _ = InteractiveShell.instance().display_formatter.format(obj)
    return {"text/plain": "(live figure: shown when the notebook runs in a kernel)", **data}
