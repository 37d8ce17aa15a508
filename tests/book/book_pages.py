"""Shared helpers for the tests of the chapter notebooks and of the rendered book."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from execute_notebooks import toc_notebooks  # noqa: E402
from notebook_tools import setup_cell_source, smoke_parameters  # noqa: E402

PLOTLY_MIME = "application/vnd.plotly.v1+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

CHAPTERS = toc_notebooks()


def tags(cell) -> list:
    """A cell's tags (``metadata.tags``), empty when it has none."""
    return cell.get("metadata", {}).get("tags", [])


def read(path: Path):
    return nbformat.read(path, as_version=4)


def plotly_outputs(nb) -> list[dict]:
    """Every plotly figure a notebook's stored outputs hold, in order."""
    return [out["data"][PLOTLY_MIME] for cell in nb.cells if cell.cell_type == "code"
            for out in cell.get("outputs", []) if PLOTLY_MIME in out.get("data", {})]


__all__ = ["ROOT", "CHAPTERS", "PLOTLY_MIME", "WIDGET_MIME", "read", "plotly_outputs",
           "setup_cell_source", "smoke_parameters"]
