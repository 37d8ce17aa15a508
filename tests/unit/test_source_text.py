"""No control characters in the sources: a TeX command written into a non-raw Python string (``"\\frac"``,
``"\\beta"``, ``"\\top"``) silently becomes a form feed, a backspace or a tab and breaks the rendered math."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTROL = {"\x07": r"\a", "\x08": r"\b", "\x0b": r"\v", "\x0c": r"\f"}


def texts():
    for pattern in ("landscape_lib/**/*.py", "scripts/*.py", "tests/**/*.py", "book/*.md", "docs/*.md"):
        for path in sorted(ROOT.glob(pattern)):
            yield path, path.read_text(encoding="utf-8")
    for path in sorted(ROOT.glob("book/*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb["cells"]):
            yield Path(f"{path} cell {i}"), "".join(cell["source"])


def test_no_control_characters_in_sources():
    found = [f"{path}: {CONTROL[c]!s} at offset {text.index(c)}" for path, text in texts() for c in CONTROL
             if c in text]
    assert not found, "control characters (a TeX backslash eaten by a Python string?):\n" + "\n".join(found)


def test_no_tabs_in_python_or_markdown_math():
    tabbed = [str(path) for path, text in texts() if "\t" in text and not str(path).endswith(".md")]
    assert not tabbed, "tab characters (\\t from a TeX '\\top'?) in: " + ", ".join(tabbed)
