"""scripts/execute_notebooks.py: re-executing an unchanged chapter must write the same file."""

from __future__ import annotations

import json
import sys

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
