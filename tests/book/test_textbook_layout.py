"""Every chapter reads like a textbook chapter (CONTRIBUTING.md, "The textbook layout of a chapter"):
an opening with objectives, prerequisites and time; key takeaways; at least five exercises, each with its
solution hidden until opened; code that fits the page; the Colab setup cell left out of the rendered book."""

from __future__ import annotations

import re

import pytest
from book_pages import CHAPTERS, ROOT, read, tags

pytestmark = pytest.mark.notebooks
MAX_CODE_LINE = 88
SYNTHESIS = ROOT / "book" / "08_synthesis.md"


def markdown(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def check_opening(text: str, where: str) -> None:
    assert "{admonition} In this chapter" in text, f"{where}: no opening admonition 'In this chapter'"
    opening = text[text.index("{admonition} In this chapter"):]
    opening = opening[:opening.index("\n:::")] if "\n:::" in opening else opening
    for part in ("You will learn", "Prerequisites", "Time"):
        assert f"**{part}**" in opening, f"{where}: the opening admonition has no **{part}**"


def check_exercises(text: str, where: str, hidden_code: int = 0) -> None:
    assert "## Key takeaways" in text, f"{where}: no '## Key takeaways'"
    assert "## Exercises" in text, f"{where}: no '## Exercises'"
    assert text.index("## Key takeaways") < text.index("## Exercises"), f"{where}: takeaways come first"
    exercises = text[text.index("## Exercises"):]
    derivations = len(re.findall(r"\*\(derivation\)\*", exercises))
    computations = len(re.findall(r"\*\(computation\)\*", exercises))
    assert derivations + computations >= 5, f"{where}: {derivations + computations} exercises, at least 5 expected"
    dropdowns = len(re.findall(r":class: dropdown", exercises))
    assert dropdowns >= derivations, f"{where}: {derivations} derivations but {dropdowns} hidden solutions"
    assert dropdowns + hidden_code >= derivations + computations, \
        f"{where}: {derivations + computations} exercises but {dropdowns + hidden_code} hidden solutions"


@pytest.fixture(scope="module", params=CHAPTERS, ids=lambda p: p.stem)
def chapter(request):
    return request.param, read(request.param)


def test_opening(chapter):
    path, nb = chapter
    check_opening("\n".join(markdown(nb)[:3]), path.name)


def test_takeaways_and_exercises_with_hidden_solutions(chapter):
    path, nb = chapter
    text = "\n".join(markdown(nb))
    start = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and "## Exercises" in c.source) \
        if "## Exercises" in text else len(nb.cells)
    hidden = [c for c in nb.cells[start:] if c.cell_type == "code" and "hide-input" in tags(c)]
    check_exercises(text, path.name, len(hidden))
    for cell in hidden:
        assert cell.outputs, f"{path.name}: a computational solution was not executed"


def test_code_fits_the_page(chapter):
    path, nb = chapter
    long = [(i, line) for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for line in c.source.splitlines() if len(line) > MAX_CODE_LINE]
    assert not long, f"{path.name}: {len(long)} code lines over {MAX_CODE_LINE} characters, first in cell " \
                     f"{long[0][0]}: {long[0][1][:60]}..."


def test_setup_cell_is_left_out_of_the_book(chapter):
    path, nb = chapter
    setup = next(c for c in nb.cells if c.cell_type == "code")
    assert "remove-cell" in tags(setup), f"{path.name}: the setup cell is not tagged remove-cell"


def test_synthesis_chapter():
    text = SYNTHESIS.read_text(encoding="utf-8")
    check_opening(text, SYNTHESIS.name)
    check_exercises(text, SYNTHESIS.name)
    assert "book/08_synthesis" in (ROOT / "_toc.yml").read_text(), "the synthesis chapter is not in _toc.yml"
