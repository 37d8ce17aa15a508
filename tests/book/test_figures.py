"""The one figure renderer (scripts/figures.py): static fallbacks that are a function of the figure alone,
and the screenshots of the rendered book."""

from __future__ import annotations

import base64
import sys

import nbformat
import pytest
from book_pages import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import figures  # noqa: E402

pytestmark = pytest.mark.book

FLAT = {"data": [{"type": "scatter", "x": [0, 1, 2], "y": [1, 3, 2], "name": "a line"}],
        "layout": {"title": {"text": "a plane figure, $x^2$"}, "height": 300}}
SOLID = {"data": [{"type": "surface", "z": [[0, 1, 2], [1, 2, 3], [2, 3, 5]], "showscale": False}],
         "layout": {"title": {"text": "a 3-D figure"}, "height": 320}}


@pytest.fixture(scope="module")
def render(tmp_path_factory):
    figures.CACHE = tmp_path_factory.mktemp("cache")
    with figures.renderer() as r:
        yield r


def test_a_rendering_depends_on_the_figure_alone(render, tmp_path):
    first = {k: render.png(f) for k, f in (("flat", FLAT), ("solid", SOLID))}
    for path in figures.CACHE.iterdir():
        path.unlink()  # render again, not from the cache
    again = {k: render.png(f) for k, f in (("flat", FLAT), ("solid", SOLID))}
    assert first == again
    assert first["flat"][:8] == b"\x89PNG\r\n\x1a\n"


def test_three_d_scenes_are_drawn(render):
    """A blank WebGL scene leaves the middle of the image white: the surface must colour part of it."""
    from io import BytesIO

    import numpy as np
    from PIL import Image

    image = np.asarray(Image.open(BytesIO(render.png(SOLID))).convert("RGB"), dtype=float)
    assert image.shape[:2] == (320, figures.WIDTH)
    h, w = image.shape[:2]
    middle = image[h // 3: 2 * h // 3, w // 3: 2 * w // 3]
    coloured = np.mean(middle.min(axis=2) < 200)  # pixels clearly not white or light grey
    # measured: 0 for a scene left undrawn (plotly's staticPlot), about 0.1 for this small surface
    assert coloured > 0.03, f"only {coloured:.0%} of the middle of the 3-D figure is drawn"


def test_fallbacks_sit_beside_every_plotly_output(render, tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("fig")
    cell.outputs = [nbformat.v4.new_output("display_data", data={figures.PLOTLY_MIME: FLAT, "text/plain": "F"}),
                    nbformat.v4.new_output("stream", name="stdout", text="no figure\n")]
    nb.cells.append(cell)
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    assert figures.add_fallbacks(path, render) == 1
    data = nbformat.read(path, as_version=4).cells[0].outputs[0]["data"]
    assert figures.PLOTLY_MIME in data, "the interactive figure stays"
    assert base64.b64decode(data["image/png"]) == render.png(FLAT)
