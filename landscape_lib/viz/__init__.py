"""Plotly figure builders. Every function returns a ``plotly.graph_objects.Figure`` and never calls
``.show()`` nor sets a renderer: the notebook displays it, and the book draws it from plotly's own MIME
type through the book's own Sphinx extension (`book/_ext/landscape_book.py`).

Submodules by subject: :mod:`.style` (shared colours and layout), :mod:`.plane` (chapter 1),
:mod:`.sphere` (chapters 2–3), :mod:`.collapse` (chapters 4–7).
"""
