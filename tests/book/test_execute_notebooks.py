"""scripts/execute_notebooks.py: re-executing an unchanged chapter must write the same file."""

from __future__ import annotations

import json
import sys

import pytest
from book_pages import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from execute_notebooks import WIDGET_STATE, WIDGET_VIEW, merge_streams, rename_widget_models  # noqa: E402


def notebook_with_widgets(ids):
    root, child, layout = ids
    state = {
        root: {"model_name": "VBoxModel",
               "state": {"children": [f"IPY_MODEL_{child}"], "layout": f"IPY_MODEL_{layout}"}},
        child: {"model_name": "IntSliderModel", "state": {"value": 3, "layout": f"IPY_MODEL_{layout}"}},
        layout: {"model_name": "LayoutModel", "state": {"width": None}},
    }
    return json.dumps({
        "cells": [{"cell_type": "code", "outputs": [{"output_type": "display_data",
                                                      "data": {WIDGET_VIEW: {"model_id": root}}}]}],
        "metadata": {"widgets": {WIDGET_STATE: {"state": dict(sorted(state.items()))}}},
    }, sort_keys=True)


def test_widget_ids_depend_on_structure_not_on_the_random_ids():
    first = rename_widget_models(notebook_with_widgets(["a" * 32, "b" * 32, "c" * 32]), "ch")
    second = rename_widget_models(notebook_with_widgets(["9" * 32, "1" * 32, "5" * 32]), "ch")
    assert json.loads(first) == json.loads(second)
    nb = json.loads(first)
    state = nb["metadata"]["widgets"][WIDGET_STATE]["state"]
    root = nb["cells"][0]["outputs"][0]["data"][WIDGET_VIEW]["model_id"]
    assert state[root]["model_name"] == "VBoxModel", "the view still points at its model"
    (child_ref,) = state[root]["state"]["children"]
    assert state[child_ref.removeprefix("IPY_MODEL_")]["model_name"] == "IntSliderModel"
    assert rename_widget_models(first, "ch") == first, "renaming is idempotent"


def test_consecutive_streams_are_merged_per_name():
    outs = [{"output_type": "stream", "name": "stdout", "text": "a\n"},
            {"output_type": "stream", "name": "stdout", "text": "b\n"},
            {"output_type": "stream", "name": "stderr", "text": "w\n"},
            {"output_type": "display_data", "data": {}},
            {"output_type": "stream", "name": "stdout", "text": "c\n"}]
    merged = merge_streams(outs)
    assert [o.get("text") for o in merged] == ["a\nb\n", "w\n", None, "c\n"]


# ------------------------------------------------------------------ a failed run leaves the notebook alone

def small_notebook(path, last_cell: str):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("x = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), params, nbformat.v4.new_code_cell("y = x + 1"),
                nbformat.v4.new_code_cell(last_cell)]
    nbformat.write(nb, path)
    return path.read_bytes()


@pytest.mark.notebooks
@pytest.mark.parametrize(("cell", "timeout", "message"), [
    ("raise RuntimeError('boom')", 60, r"cell 3 \(execution count \d+\): RuntimeError: boom"),
    ("import time; time.sleep(30)", 2, "ran longer than 2 s"),
    ("import os; os._exit(1)", 60, "the kernel died"),
])
def test_a_failed_run_names_the_cell_and_leaves_the_notebook_unchanged(tmp_path, monkeypatch, cell, timeout,
                                                                       message):
    import execute_notebooks

    monkeypatch.setattr(execute_notebooks, "CELL_TIMEOUT_S", timeout)
    path = tmp_path / "nb.ipynb"
    before = small_notebook(path, cell)
    with pytest.raises(SystemExit, match=message) as info:
        execute_notebooks.execute(path, path, {"x": 2})  # parameters injected: papermill's index is 4
    assert "left unchanged" in str(info.value)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["nb.ipynb"], "no temporary file is left behind"


@pytest.mark.notebooks
def test_a_successful_run_replaces_the_notebook(tmp_path):
    import execute_notebooks
    import nbformat

    path = tmp_path / "nb.ipynb"
    small_notebook(path, "print(y)")
    execute_notebooks.execute(path, path, {"x": 41})
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[-1].outputs[0]["text"] == "42\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nb.ipynb"]


@pytest.mark.notebooks
def test_widget_ids_do_not_depend_on_the_temporary_file(tmp_path):
    """Executing the same notebook twice (each run through its own temporary file) writes the same bytes."""
    import execute_notebooks
    import nbformat

    path = tmp_path / "nb.ipynb"
    small_notebook(path, "import ipywidgets\nipywidgets.IntSlider(value=3)")
    nb = nbformat.read(path, as_version=4)
    nb.metadata["widgets"] = {}
    nbformat.write(nb, path)
    execute_notebooks.execute(path, path, None)
    first = path.read_bytes()
    execute_notebooks.execute(path, path, None)
    assert b"IPY_MODEL_" in first or b"model_id" in first
    assert path.read_bytes() == first
