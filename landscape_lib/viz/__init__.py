"""Plotly figure builders. Every function returns a ``plotly.graph_objects.Figure`` and never calls
``.show()`` nor sets a renderer: the notebook displays it, and the book draws it from plotly's own MIME
type through the book's own Sphinx extension (`book/_ext/landscape_book.py`).

Submodules by subject: :mod:`.style` (shared colours and layout), :mod:`.plane` (chapter 1),
:mod:`.sphere` (chapters 2–3), :mod:`.collapse` (chapters 4–7).
"""

try:
    import plotly  # noqa: F401  (every submodule draws with it)
except ModuleNotFoundError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ModuleNotFoundError(
        "landscape_lib.viz draws with plotly, which is not installed: install the book's extra with "
        "`pip install 'landscape_lib[book]'` (or `pip install plotly`)") from exc
