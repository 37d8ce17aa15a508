"""Live exploration in a kernel (Colab, Binder, local Jupyter): controls that recompute and redraw a figure.

The chapters' one live cell each: :func:`live_figure` builds the ipywidgets controls, and the explorers here
*compute* a landscape on the spot (a frame, a critical-point search or a solver run, data) and hand the
numbers to a figure builder of ``landscape_lib.viz``, which only draws. The static book shows a snapshot.

* :func:`tensor_landscape` — chapter 2: one tensor landscape for a frame of the reader's choice;
* :func:`data_landscape` — chapter 3: the tensor and normalized data objectives side by side.

:func:`live_figure` shows the figure by setting the ``outputs`` of an ``Output`` widget directly instead of
capturing display calls with ``with output:`` (what ``ipywidgets.interact`` does): a captured display inside
an executing cell makes nbclient — and so papermill and nbval — hang now and then (about 1 run in 25 here,
nbclient issue 312), while setting the outputs is an ordinary widget-state update.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from . import generators, objectives, recovery, solvers, sphere, sphere_critical
from .critical import TYPE_ORDER
from .dictionary import sample_data
from .viz import dictionary as viz_dictionary
from .viz import sphere as viz_sphere

__all__ = ["live_figure", "tensor_landscape", "data_landscape", "gradient_descent_path"]


def live_figure(make_figure: Callable, controls: Mapping[str, object], *, title: str | None = None):
    """Controls plus a figure that ``make_figure(**values)`` redraws whenever a control changes.

    Parameters
    ----------
    make_figure : callable
        Called with one keyword argument per control (its current value); returns a plotly figure (or
        anything IPython can display), e.g. :func:`tensor_landscape`.
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


def tensor_landscape(n: int = 3, m: int = 6, frame: str = "tight (low μ)", seed: int = 0):
    """Chapter 2's live view: one tensor landscape computed on the spot.

    For ``n = 3`` the landscape sphere with every critical point found and classified
    (:func:`landscape_lib.sphere_critical.find_critical_points`, 200 starts per solver); for ``n > 3`` the
    histogram of :math:`\\max_i |\\langle a_i, q\\rangle|` at the limits of 200 power-iteration starts.

    Parameters
    ----------
    n, m : int
        Dimension and number of columns.
    frame : {"tight (low μ)", "tight", "harmonic", "random"}
        Which generator of :mod:`landscape_lib.generators` makes ``A``.
    seed : int
        Seed of the frame and of the starts.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    makers = {
        "tight (low μ)": lambda: generators.tight_frame(n, m, low_coherence=True, rng=seed),
        "tight": lambda: generators.tight_frame(n, m, rng=seed),
        "harmonic": lambda: generators.harmonic_frame(n, m),
        "random": lambda: generators.random_frame(n, m, rng=seed),
    }
    if frame not in makers:
        raise ValueError(f"frame must be one of {sorted(makers)}; got {frame!r}")
    A = makers[frame]()
    objective = objectives.TensorObjective(A)
    label = f"n = {n}, m = {m} (κ = {m / n:.2f}), {frame} frame, μ = {generators.coherence(A):.3f}"
    if n == 3:
        crit = sphere_critical.find_critical_points(objective, n_starts=200, rng=seed)
        counts = crit.counts()
        text = ", ".join(f"{counts[t]} {t.value}" for t in TYPE_ORDER if counts[t])
        return viz_sphere.landscape_figure(A, crit, title=f"{label}<br>{text}")
    res = solvers.power_iteration(objective, sphere.random_points(n, 200, rng=seed), tol=1e-6, max_iter=2000)
    _, corr = recovery.nearest_column(A, res.points)
    return viz_sphere.correlation_histogram(corr, title=label)


def data_landscape(m: int = 6, theta: float = 0.2, p: int = 10_000, seed: int = 0):
    """Chapter 3's live view: the tensor and normalized data objectives on the sphere, computed on the spot.

    Draws a low-coherence unit-norm tight frame ``A`` of shape (3, m), data ``Y = AX`` with ``p``
    Bernoulli(θ)–Gaussian samples, and both objectives on :func:`landscape_lib.sphere.lat_lon_mesh`
    ``(25, 49)``; one panel pair of :func:`landscape_lib.viz.dictionary.landscape_convergence`, titled with
    the largest gap :math:`\\max|f_{\\tilde Y} + \\omega - f_A|` on the mesh.

    Parameters
    ----------
    m : int
        Number of columns, ``m >= 3``.
    theta : float
        Sparsity level in (0, 1).
    p : int
        Number of samples.
    seed : int
        Seed of the frame (the data use ``seed + 1``).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    A = generators.tight_frame(3, int(m), low_coherence=True, rng=int(seed))
    Y, _ = sample_data(A, int(p), float(theta), rng=int(seed) + 1)
    data = objectives.DataObjective(Y, float(theta))
    mesh = sphere.lat_lon_mesh(25, 49)
    tensor_values = objectives.TensorObjective(A).value(mesh)
    data_values = data.value(mesh) + data.offset(int(m))
    gap = float(np.max(np.abs(data_values - tensor_values)))
    return viz_dictionary.landscape_convergence(mesh, tensor_values, data_values[None], [int(p)], columns=A,
                                                title=f"m = {m}, θ = {theta:g}, p = {p}: largest gap {gap:.3g}")


def gradient_descent_path(toy, start, *, step: float, n_iter: int, critical=None, title: str | None = None):
    """Run gradient descent on a plane example from ``start`` and draw its path on the contour plot.

    The live explorer of chapter 1 (recomputed for each slider position): it computes with
    :func:`landscape_lib.euclidean.gradient_descent` and draws with
    :func:`landscape_lib.viz.plane.contour_figure`.

    Parameters
    ----------
    toy : landscape_lib.toy2d.Toy2D
    start : array_like of shape (2,)
    step : float
    n_iter : int
    critical : landscape_lib.critical.CriticalPoints, optional
        Default: the example's known critical points.
    title : str, optional
        Default: the number of steps and where the run ends.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    from . import euclidean
    from ._validation import as_float_array
    from .viz import plane as viz_plane

    x0 = as_float_array(start, "start", ndim=1, last_dim=2)
    res = euclidean.gradient_descent(toy, x0[None, :], step=step, n_iter=n_iter, record=True, blowup=1e3)
    fig = viz_plane.contour_figure(toy, critical, resolution=81, trajectories=res.trajectory)
    end = res.points[0]
    fig.update_layout(title=dict(text=title or (f"{res.iterations[0]} steps of size {step:g}: "
                                                f"ends at ({end[0]:.3f}, {end[1]:.3f})"), x=0.5))
    return fig
