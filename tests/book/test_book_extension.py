"""The book's Sphinx extension (book/_ext/landscape_book.py) that draws plotly figures in the HTML book,
and the proof that it touches no other project."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
from book_pages import ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))
from landscape_book import PLOTLY_MIME, PlotlyMimeRenderer, alt_text, figure_html  # noqa: E402


def test_figure_html_is_deterministic_and_escapes_script_end():
    fig = {"data": [{"type": "scatter", "x": [1, 2], "y": [3, 4], "name": "</script><b>"}],
           "layout": {"height": 321}, "frames": [{"name": "f0", "data": []}]}
    html = figure_html(fig)
    assert html == figure_html(json.loads(json.dumps(fig)))
    assert html.count("</script>") == 1, "a '</script>' inside the data must be escaped"
    assert "height:321px" in html and "landscapeDrawPlotly" in html and '"frames"' in html


def test_plugin_ranks_plotly_first_for_html_and_ignores_other_types():
    assert ("html", PLOTLY_MIME, 1) in PlotlyMimeRenderer.mime_priority_overrides

    class Data:
        mime_type = "text/plain"
        content = "x"

    assert PlotlyMimeRenderer.handle_mime(None, Data(), False) is None
    Data.mime_type, Data.content = PLOTLY_MIME, {"data": [], "layout": {}}
    (node,) = PlotlyMimeRenderer.handle_mime(None, Data(), False)
    assert node["format"] == "html" and "plotly-graph-div" in node.astext()


def build_project(root, conf: str, outputs: dict) -> str:
    """Build a one-notebook myst-nb project with ``conf`` as its conf.py; the notebook's one cell has a
    display output with the mime bundle ``outputs``. Returns the notebook's HTML page."""
    root.mkdir()
    (root / "conf.py").write_text(conf)
    (root / "index.md").write_text("# Project\n\n```{toctree}\nnb\n```\n")
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("fig")
    cell.outputs = [nbformat.v4.new_output("display_data", data=outputs)]
    nb.cells.append(cell)
    nbformat.write(nb, root / "nb.ipynb")
    result = subprocess.run([sys.executable, "-m", "sphinx", "-q", "-b", "html", str(root), str(root / "_build")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return (root / "_build" / "nb.html").read_text()


FIGURE = {PLOTLY_MIME: {"data": [{"type": "scatter", "x": [1], "y": [2]}], "layout": {}}, "text/plain": "Figure()"}


def test_installing_the_library_leaves_other_myst_nb_projects_alone(tmp_path):
    """A myst-nb project in the same environment, not loading the book's extension, renders a plotly
    output as myst-nb would without this project: from its text/html, never through the book's drawing
    function (which that page does not define)."""
    from importlib.metadata import entry_points

    html = build_project(tmp_path / "other", 'extensions = ["myst_nb"]\nnb_execution_mode = "off"\n',
                         {**FIGURE, "text/html": "<div class='their-own-figure'>drawn by their plotly</div>"})
    assert "their-own-figure" in html
    assert "landscapeDrawPlotly" not in html and "landscape-figure" not in html
    assert not [ep for ep in entry_points(group="myst_nb.mime_renderers") if "landscape" in ep.value]


def test_the_book_extension_draws_plotly_in_its_own_build(tmp_path):
    """The same kind of notebook in a project that loads the extension gets the book's figure."""
    conf = (f"import sys\nsys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
            'extensions = ["myst_nb", "landscape_book"]\nnb_execution_mode = "off"\n')
    assert "landscapeDrawPlotly(" in build_project(tmp_path / "book", conf, FIGURE)


def test_every_figure_carries_a_text_alternative():
    titled = figure_html({"layout": {"title": {"text": "NC1 <b>against</b> $\\lambda$ & width"}}})
    assert 'role="img" aria-label="NC1 against \\lambda &amp; width"' in titled
    panels = {"layout": {"annotations": [{"text": "NC1"}, {"text": "NC2"}], "xaxis": {"title": {"text": "epoch"}}}}
    assert 'aria-label="NC1; NC2; epoch"' in figure_html(panels)
    assert 'aria-label="interactive figure"' in figure_html({"data": []})
    assert alt_text({"layout": {"title": 'a "quoted" title'}}) == 'a "quoted" title'
    assert 'aria-label="a &quot;quoted&quot; title"' in figure_html({"layout": {"title": 'a "quoted" title'}})
