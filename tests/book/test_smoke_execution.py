"""Every chapter runs end to end under papermill with its quick parameters (tests/book/smoke_parameters.yml).

This exercises parameter injection and the alternative code paths those parameters select; the numbers
are not compared (nbval does that against the committed outputs with the default parameters).
"""

from __future__ import annotations

import os

import papermill as pm
import pytest
from book_pages import CHAPTERS, ROOT, smoke_parameters
from execute_notebooks import ipc_kernel_manager

pytestmark = pytest.mark.notebooks


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_runs_with_quick_parameters(path, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    # Chapters that read data written by a test (CIFAR-10 format) find its location here.
    monkeypatch.setenv("LANDSCAPES_SMOKE_DIR", str(tmp_path))
    params = smoke_parameters().get(path.name, {})
    out = tmp_path / path.name
    try:
        pm.execute_notebook(str(path), str(out), parameters=params, cwd=str(path.parent), kernel_name="python3",
                            progress_bar=False, log_output=False, execution_timeout=600,
                            kernel_manager_class=ipc_kernel_manager())
    except pm.PapermillExecutionError as exc:
        pytest.fail(f"{path.name} failed in cell {exc.cell_index}: {exc.ename}: {exc.evalue}", pytrace=False)
    assert out.exists()
