"""The regression net can fail: nbval rejects a copy of a chapter whose printed number was changed.

To keep this cheap the copy is cut after the first compared cell that prints a number; the unchanged cut
copy must pass and the changed one must fail.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from book_pages import CHAPTERS, ROOT, read

pytestmark = pytest.mark.notebooks
IGNORE = "nbval-ignore-output"


def cut_after_first_printed_number(nb):
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or IGNORE in cell.metadata.get("tags", []):
            continue
        for out in cell.get("outputs", []):
            if out.output_type == "stream" and out.name == "stdout" and re.search(r"\d", out.text):
                nb.cells = nb.cells[: i + 1]
                return nb, out
    return None, None


def run_nbval(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "numerics_env.py"), "--",
         sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--nbval",
         "--nbval-sanitize-with", str(ROOT / "book" / "nbval_sanitize.cfg"), str(path)],
        cwd=path.parent, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.skipif(not CHAPTERS, reason="no chapter yet")
def test_changed_printed_number_makes_nbval_fail(tmp_path):
    for chapter in CHAPTERS:
        nb, output = cut_after_first_printed_number(read(chapter))
        if nb is not None:
            break
    else:
        pytest.fail("no chapter prints a number in a compared cell")
    book = tmp_path / "book"
    book.mkdir()
    unchanged = book / "unchanged.ipynb"
    nbformat.write(nb, unchanged)
    result = run_nbval(unchanged)
    assert result.returncode == 0, f"the unchanged copy of {chapter.name} should pass:\n{result.stdout[-3000:]}"

    digit = re.search(r"\d", output.text)
    output.text = output.text[: digit.start()] + str((int(digit.group()) + 1) % 10) + output.text[digit.end():]
    changed = book / "changed.ipynb"
    nbformat.write(nb, changed)
    result = run_nbval(changed)
    assert result.returncode != 0, f"nbval accepted a changed number in {chapter.name}"
    assert "mismatch" in result.stdout.lower() or "failed" in result.stdout.lower()
