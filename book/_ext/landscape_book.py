"""The book's own Sphinx extension: plotly figures, local scripts, and one fix for duplicated scripts.

Loaded only by the book's configuration (``_config.yml``: ``sphinx.local_extensions``); it is not part of
``landscape_lib`` and registers nothing in the Python environment, so installing the library changes no
other project's rendering.

Executed by papermill, plotly emits ``application/vnd.plotly.v1+json`` (JupyterLab draws it, Colab picks
its own renderer when the cell runs). myst-nb does not know that type and would drop the figure. This
extension adds a mime renderer to the list myst-nb consults (myst-nb finds its renderers through the
``myst_nb.mime_renderers`` entry-point group; registering one there would change every myst-nb project
in the environment, so the list is extended here, inside this Sphinx process only). The renderer ranks
the plotly type first for the HTML builders and turns it into a ``div`` plus a ``Plotly.newPlot`` call
against the book's local ``_static/plotly.min.js``. The div id is a hash of the figure, so re-rendering
is reproducible.
"""

from __future__ import annotations

import hashlib
import html
import json
import re

from docutils import nodes

PLOTLY_MIME = "application/vnd.plotly.v1+json"
_HTML_BUILDERS = ("html", "dirhtml", "singlehtml")


def alt_text(figure: dict) -> str:
    """The figure's text alternative: its title (markup and $...$ delimiters removed), else its panel titles
    and axis titles, else "interactive figure"."""
    layout = figure.get("layout", {})
    title = layout.get("title")
    text = title.get("text") if isinstance(title, dict) else title
    if not text:
        parts = [a.get("text") for a in layout.get("annotations", []) if isinstance(a, dict) and a.get("text")]
        for key, axis in sorted(layout.items()):
            if re.fullmatch(r"[xy]axis\d*", key) and isinstance(axis, dict):
                axis_title = axis.get("title")
                parts.append(axis_title.get("text") if isinstance(axis_title, dict) else axis_title)
        text = "; ".join(p for p in parts if p)
    text = re.sub(r"<[^>]+>", " ", str(text or "")).replace("$", "")
    return " ".join(text.split()) or "interactive figure"


def figure_html(figure: dict) -> str:
    """HTML (a div and a script) that draws a plotly figure given as its JSON dict."""
    payload = json.dumps(
        {"data": figure.get("data", []), "layout": figure.get("layout", {}),
         "frames": figure.get("frames", []),
         "config": {"responsive": True, "displaylogo": False, **figure.get("config", {})}},
        separators=(",", ":"), sort_keys=True,
    )
    div_id = "plotly-" + hashlib.sha1(payload.encode()).hexdigest()[:16]
    height = figure.get("layout", {}).get("height") or 480
    # "</" inside a string literal would end the <script> element early.
    payload = payload.replace("</", "<\\/")
    return (
        f'<div id="{div_id}" class="plotly-graph-div landscape-figure" role="img" '
        f'aria-label="{html.escape(alt_text(figure), quote=True)}" '
        f'style="height:{int(height)}px; width:100%;"></div>\n'
        f'<script type="text/javascript">landscapeDrawPlotly("{div_id}", {payload});</script>\n'
    )


# plotly.js typesets $...$ labels with MathJax and picks the MathJax 2 or 3 API from `MathJax.version`.
# Sphinx loads MathJax 3 deferred, so while the page is parsed `window.MathJax` is only its configuration
# object and plotly would call the MathJax 2 API on it. Draw after MathJax has started, if it is there.
#
# The widgets manager typesets widget labels through the MathJax 2 API (`MathJax.Hub.Queue`) whenever
# `window.MathJax` exists; give MathJax 3 that one entry point before the widgets are drawn (both wait for
# DOMContentLoaded, by which time the deferred MathJax has loaded; this listener is registered first).
_DRAW_JS = """
document.addEventListener("DOMContentLoaded", function () {
  if (window.MathJax && !window.MathJax.Hub) {
    window.MathJax.Hub = {Queue: function (command) {
      var element = command[2];
      var ready = window.MathJax.startup && window.MathJax.startup.promise;
      (ready || Promise.resolve()).then(function () {
        if (element && window.MathJax.typesetPromise) { window.MathJax.typesetPromise([element]); }
      });
    }};
  }
});
function landscapeDrawPlotly(id, figure) {
  var draw = function () { Plotly.newPlot(id, figure); };
  if (window.MathJax && !window.MathJax.version) {
    window.addEventListener("load", function () {
      var ready = window.MathJax.startup && window.MathJax.startup.promise;
      (ready || Promise.resolve()).then(draw);
    });
  } else {
    draw();
  }
}
"""


class PlotlyMimeRenderer:
    """Render ``application/vnd.plotly.v1+json`` outputs as interactive figures in the HTML book."""

    mime_priority_overrides = [(builder, PLOTLY_MIME, 1) for builder in _HTML_BUILDERS]

    @staticmethod
    def handle_mime(renderer, data, inline):
        if data.mime_type != PLOTLY_MIME or inline:
            return None
        content = data.content
        figure = json.loads(content) if isinstance(content, (str, bytes)) else content
        return [nodes.raw("", figure_html(figure), format="html", classes=["output", "text_html"])]


def register_renderer() -> None:
    """Add :class:`PlotlyMimeRenderer` to the mime renderers myst-nb consults, in this process only."""
    from myst_nb.core import render

    found = render.load_mime_renders
    if getattr(found, "landscape_book", False):
        return

    def with_plotly():
        return [*found(), PlotlyMimeRenderer]

    with_plotly.landscape_book = True
    render.load_mime_renders = with_plotly


def setup(app):
    """Sphinx extension: the plotly renderer; the local plotly.js on every page, before require.js.

    plotly.js loaded after require.js would register itself as an anonymous AMD module instead of
    defining ``window.Plotly``, hence the priority below myst-nb's widget scripts (500).
    """
    register_renderer()
    app.add_js_file("plotly.min.js", priority=200)
    app.add_js_file(None, priority=205, body=_DRAW_JS)
    # The widgets manager (an AMD bundle loaded by require.js, only on pages with saved widget state)
    # resolves its font files against its module path; map that path to the local copy. A global
    # `require` object defined before require.js loads is taken as its configuration.
    # The controls bundle (buttons' icon fonts) resolves against '@jupyter-widgets' itself; require.js
    # matches the longest prefix, so both map to the same folder.
    app.add_js_file(None, priority=210, body=(
        "var require = (function () { var local = new URL((document.documentElement.dataset.content_root"
        " || '') + '_static/html-manager', document.baseURI).href;"
        " return {paths: {'@jupyter-widgets/html-manager/dist': local, '@jupyter-widgets': local}}; })();"))
    app.add_css_file("landscape-book.css")
    app.connect("html-page-context", _drop_duplicate_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    """Keep one copy of each script tag.

    sphinx-thebe registers its inline configuration (``const THEBE_JS_URL = …``) once per read phase;
    Jupyter Book's build runs two, and a second ``const`` declaration is a JavaScript error on every page.
    """
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {}) or {}
        # The same inline script comes once with filename None and once with "".
        filename = getattr(script, "filename", script) or ""
        key = (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique
