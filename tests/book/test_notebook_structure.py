"""Every chapter follows the book's conventions (CONTRIBUTING.md): checked on the committed notebooks."""

from __future__ import annotations

import ast
import json

import pytest
import yaml
from book_pages import CHAPTERS, PLOTLY_MIME, ROOT, WIDGET_MIME, read, setup_cell_source, smoke_parameters, tags

pytestmark = pytest.mark.notebooks
IGNORE = "nbval-ignore-output"
MAX_FIGURE_BYTES = 2 * 1024 * 1024


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_every_chapter_in_book_is_in_the_toc():
    on_disk = {p.name for p in (ROOT / "book").glob("*.ipynb")}
    assert on_disk == {p.name for p in CHAPTERS}, "a notebook in book/ is missing from _toc.yml (or the reverse)"


def test_smoke_parameters_name_existing_chapters():
    assert set(smoke_parameters()) <= {p.name for p in CHAPTERS}


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
class TestChapter:
    def test_title_then_setup_then_parameters(self, path):
        nb = read(path)
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), \
            "the first cell is the chapter's title in markdown"
        code = code_cells(nb)
        assert code[0].source == setup_cell_source(), \
            "the first code cell must be the setup cell of scripts/notebook_tools.py (URL from _config.yml)"
        params = [c for c in code if "parameters" in tags(c)]
        assert len(params) == 1, f"exactly one cell tagged 'parameters', found {len(params)}"
        assert code.index(params[0]) == 1, "the parameters cell follows the setup cell"

    def test_smoke_parameters_exist_in_parameters_cell(self, path):
        nb = read(path)
        cell = next(c for c in code_cells(nb) if "parameters" in tags(c))
        assigned = {t.id for node in ast.parse(cell.source).body if isinstance(node, (ast.Assign, ast.AnnAssign))
                    for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                    if isinstance(t, ast.Name)}
        unknown = set(smoke_parameters().get(path.name, {})) - assigned
        assert not unknown, f"smoke parameters not defined in the parameters cell: {sorted(unknown)}"

    def test_executed_in_order_without_errors(self, path):
        nb = read(path)
        counts = [c.execution_count for c in code_cells(nb)]
        assert None not in counts, "unexecuted code cells: run `make execute`"
        assert counts == list(range(1, len(counts) + 1)), "cells were not executed top to bottom in one run"
        errors = [o for c in code_cells(nb) for o in c.outputs if o.output_type == "error"]
        assert not errors, f"a committed output is an error: {errors[0].get('ename')}"

    def test_figures_and_widgets_are_tagged_and_small(self, path):
        nb = read(path)
        for i, cell in enumerate(code_cells(nb)):
            for out in cell.outputs:
                data = out.get("data", {})
                if PLOTLY_MIME in data or WIDGET_MIME in data:
                    assert IGNORE in tags(cell), f"code cell {i}: figure/widget output without '{IGNORE}'"
                if PLOTLY_MIME in data:
                    size = len(json.dumps(data[PLOTLY_MIME]))
                    assert size <= MAX_FIGURE_BYTES, f"code cell {i}: figure of {size / 2**20:.1f} MB"
                assert "text/html" not in data or IGNORE in tags(cell), \
                    f"code cell {i}: HTML output in a compared cell"

    def test_every_figure_has_its_static_fallback(self, path):
        """Each plotly output carries the PNG of that very figure (make execute renders them): GitHub,
        nbviewer and Colab before running show it where they cannot draw plotly's JSON."""
        import base64
        import sys as _sys

        _sys.path.insert(0, str(ROOT / "scripts"))
        import figures

        for i, cell in enumerate(read(path).cells):
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                if PLOTLY_MIME not in data:
                    continue
                assert "image/png" in data, f"cell {i}: a figure without its static PNG (run make execute)"
                assert base64.b64decode(data["image/png"])[:8] == b"\x89PNG\r\n\x1a\n", f"cell {i}: not a PNG"
                key = out.get("metadata", {}).get("landscape_figure")
                assert key == figures.figure_key(data[PLOTLY_MIME]), f"cell {i}: the PNG shows an older figure"

    def test_compared_cells_write_nothing_to_stderr(self, path):
        nb = read(path)
        for i, cell in enumerate(code_cells(nb)):
            if IGNORE in tags(cell):
                continue
            stderr = [o for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
            assert not stderr, f"code cell {i} writes to stderr (nbval compares it): {stderr[0].text[:200]}"

    def test_no_volatile_metadata(self, path):
        nb = read(path)
        assert "papermill" not in nb.metadata
        for cell in nb.cells:
            assert "papermill" not in cell.metadata and "execution" not in cell.metadata, \
                "volatile metadata left: execute with scripts/execute_notebooks.py"
        assert nb.metadata.get("kernelspec", {}).get("name") == "python3"

    def test_chapter_prints_numbers(self, path):
        nb = read(path)
        printed = [o for c in code_cells(nb) if IGNORE not in tags(c) for o in c.outputs
                   if o.output_type == "stream" and o.name == "stdout" and any(ch.isdigit() for ch in o.text)]
        assert printed, "the chapter prints no numbers in compared cells: nbval would guard nothing"


def test_launch_buttons_configured():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["url"].startswith("https://github.com/")
    assert config["launch_buttons"]["binderhub_url"] and config["launch_buttons"]["colab_url"]
    assert config["repository"]["url"] in setup_cell_source()
