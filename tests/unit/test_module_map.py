"""The module map of docs/DESIGN.md agrees with the files of landscape_lib.

The map is the markdown table under ``## Module map`` with the columns
``| module | object it holds | chapters | may import |``. The rule for its columns:

* ``module``: one path in backticks, relative to ``landscape_lib/`` (``sphere.py``, ``viz/style.py``). Every
  ``.py`` file of the package has exactly one row, and every row names such a file.
* ``may import``: the entries in backticks are what the module imports, each either a module of
  landscape_lib written like the ``module`` column (``_validation.py``, ``viz/style.py``) or the top-level
  import name of a third-party package (``numpy``, ``plotly``, ``sklearn``). Text outside backticks is
  commentary, so ``none`` (no backticks) means nothing. The standard library is free and is not listed.

Imports are read from the source with :mod:`ast`, wherever they stand (module level, inside functions, in
``try`` blocks); relative imports are resolved; ``from package import name`` counts as importing the
submodule ``name`` when there is one (otherwise the package's ``__init__.py``), and a package's
``__init__.py`` that Python runs on the way to a submodule does not count. A module that imports
something its row does not list fails, and so does a row listing something the module does not import
(the column states what the module imports now). The architecture of the design is checked on the map
too: plotly and the notebook display packages only under ``viz/``, torch only in ``nets.py``,
``data.py`` and ``train.py``.

The checker is plain functions on a string (:func:`check_module_map`), so its own tests below feed it
broken copies of a map and require a message that names the module.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DESIGN = ROOT / "docs" / "DESIGN.md"
LIB = ROOT / "landscape_lib"
PACKAGE = "landscape_lib"
HEADING = "## Module map"
COLUMNS = ("module", "object it holds", "chapters", "may import")

# Where the design allows a third-party package: name -> (where, in words; test on a module path). Packages
# not named here are allowed anywhere.
_VIZ = ("under viz/", lambda module: module.startswith("viz/"))
# The live widgets: the figure package and the explorers, which compute and then draw.
_LIVE = ("under viz/ and in explore.py", lambda module: module.startswith("viz/") or module == "explore.py")
_TORCH = ("in nets.py, data.py, train.py", lambda module: module in {"nets.py", "data.py", "train.py"})
ONLY_IN = {"plotly": _VIZ, "ipywidgets": _LIVE, "IPython": _LIVE, "torch": _TORCH, "torchvision": _TORCH}


@dataclass(frozen=True)
class Row:
    module: str
    holds: str
    chapters: str
    may_import: frozenset[str]


# ---------------------------------------------------------------------------------------------------------
# The map


def _cells(line: str) -> list[str]:
    """The cells of one markdown table row (``\\|`` is a literal bar inside a cell)."""
    body = line.strip()
    if not (body.startswith("|") and body.endswith("|")):
        raise ValueError(f"not a table row: {line!r}")
    return [cell.replace("\\|", "|").strip() for cell in re.split(r"(?<!\\)\|", body[1:-1])]


def parse_module_map(text: str) -> dict[str, Row]:
    """The rows of the module map in ``text`` (the markdown of docs/DESIGN.md), keyed by module path.

    Raises ValueError, naming the line, when the section, the table or a row is malformed.
    """
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == HEADING)
    except StopIteration:
        raise ValueError(f"no '{HEADING}' heading") from None
    table = []
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        if line.strip().startswith("|"):
            table.append(line)
        elif table:
            break  # the first table of the section ends at its first non-table line
    if len(table) < 3:
        raise ValueError(f"no table with a header, a separator and rows under '{HEADING}'")
    if tuple(_cells(table[0])) != COLUMNS:
        raise ValueError(f"the module map's columns must be {' | '.join(COLUMNS)}; got {table[0].strip()}")
    if not all(re.fullmatch(r":?-+:?", cell) for cell in _cells(table[1])):
        raise ValueError(f"the second line of the module map must be the separator; got {table[1].strip()}")
    rows: dict[str, Row] = {}
    for line in table[2:]:
        cells = _cells(line)
        if len(cells) != len(COLUMNS):
            raise ValueError(f"a module-map row needs {len(COLUMNS)} cells, found {len(cells)}: {line.strip()}")
        names = re.findall(r"`([^`]+)`", cells[0])
        if len(names) != 1:
            raise ValueError(f"the module cell must hold one path in backticks: {line.strip()}")
        module = names[0]
        if module in rows:
            raise ValueError(f"{module}: two rows in the module map")
        rows[module] = Row(module, cells[1], cells[2], frozenset(re.findall(r"`([^`]+)`", cells[3])))
    return rows


# ---------------------------------------------------------------------------------------------------------
# The package


def library_modules(lib: Path = LIB) -> set[str]:
    """Every ``.py`` file of the package, as a path relative to it (``viz/sphere.py``)."""
    return {p.relative_to(lib).as_posix() for p in lib.rglob("*.py") if "__pycache__" not in p.parts}


def _module_path(parts: list[str], modules: set[str]) -> str:
    """The file of the package module ``landscape_lib.<parts>``: a module file or a package's __init__.py."""
    stem = "/".join(parts)
    if f"{stem}.py" in modules:
        return f"{stem}.py"
    init = f"{stem}/__init__.py" if stem else "__init__.py"
    return init if init in modules else f"{stem}.py"  # unknown modules are reported as not in the map


def imports_of(module: str, lib: Path = LIB) -> set[str]:
    """What ``module`` (a path relative to the package) imports, in the notation of the "may import" column:
    package modules as paths, third-party packages by top-level name; the standard library left out."""
    modules = library_modules(lib)
    source = (lib / module).read_text(encoding="utf-8")
    package = module.split("/")[:-1]  # the package that holds the module (also for an __init__.py)
    found: set[str] = set()

    def add_package(parts: list[str], names: list[str]) -> None:
        for name in names:
            sub = [*parts, name]
            if f"{'/'.join(sub)}.py" in modules or f"{'/'.join(sub)}/__init__.py" in modules:
                found.add(_module_path(sub, modules))
            else:
                found.add(_module_path(parts, modules))

    for node in ast.walk(ast.parse(source, filename=str(lib / module))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top, *rest = alias.name.split(".")
                if top == PACKAGE:
                    found.add(_module_path(rest, modules))
                else:
                    found.add(top)
        elif isinstance(node, ast.ImportFrom):
            names = [alias.name for alias in node.names if alias.name != "*"]
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level - 1 <= len(package) else None
                if base is None:
                    raise ValueError(f"{module}: relative import beyond the package")
                parts = [*base, *(node.module.split(".") if node.module else [])]
                add_package(parts, names)
            else:
                top, *rest = (node.module or "").split(".")
                if top == PACKAGE:
                    add_package(rest, names)
                else:
                    found.add(top)
    found.discard(module)
    return {name for name in found if name.endswith(".py") or name not in sys.stdlib_module_names}


def check_module_map(text: str, lib: Path = LIB) -> list[str]:
    """Every disagreement between the module map in ``text`` and the package in ``lib``, one message each,
    naming the module. Empty when the map is right."""
    try:
        rows = parse_module_map(text)
    except ValueError as error:
        return [f"docs/DESIGN.md: {error}"]
    modules = library_modules(lib)
    problems = []
    for module in sorted(modules - set(rows)):
        problems.append(f"{module}: a module of landscape_lib with no row in the module map")
    for module in sorted(set(rows) - modules):
        problems.append(f"{module}: listed in the module map but there is no landscape_lib/{module}")
    for module in sorted(modules & set(rows)):
        allowed = rows[module].may_import
        actual = imports_of(module, lib)
        for name in sorted(actual - allowed):
            problems.append(f"{module}: imports {name}, which its row's 'may import' column does not list")
        for name in sorted(allowed - actual):
            problems.append(f"{module}: its row lists {name} under 'may import', but the module does not import it")
    for module, row in sorted(rows.items()):
        for name in sorted(row.may_import):
            where, allowed_in = ONLY_IN.get(name, ("", None))
            if allowed_in is not None and not allowed_in(module):
                problems.append(f"{module}: may import {name}, which the design allows only {where}")
    return problems


# ---------------------------------------------------------------------------------------------------------
# The tests


@pytest.fixture(scope="module")
def design_text() -> str:
    assert DESIGN.exists(), f"{DESIGN.relative_to(ROOT)} is missing"
    return DESIGN.read_text(encoding="utf-8")


def test_the_module_map_parses(design_text):
    rows = parse_module_map(design_text)
    assert rows, "the module map has no rows"


def test_every_module_has_one_row_and_every_row_a_module(design_text):
    problems = [p for p in check_module_map(design_text) if "row in the module map" in p or "there is no" in p]
    assert not problems, "\n".join(problems)


def test_each_module_imports_what_its_row_lists(design_text):
    problems = check_module_map(design_text)
    assert not problems, "the module map of docs/DESIGN.md is wrong:\n" + "\n".join(problems)


def test_imports_are_read_and_resolved_from_the_source(tmp_path):
    # A small package: relative imports at both levels, `from package import module`, a name that is not a
    # module, deferred imports inside a function and a try block, absolute imports of the package itself.
    files = {
        "__init__.py": "",
        "a.py": ("from __future__ import annotations\nimport os\nimport numpy as np\nfrom . import b\n"
                 "from .sub import c\n\n\ndef f():\n    from scipy.linalg import expm\n    import landscape_lib.sub\n"),
        "b.py": "try:\n    import threadpoolctl\nexcept ImportError:\n    pass\nx = 1\n",
        "sub/__init__.py": "",
        "sub/c.py": "from .. import b\nfrom ..b import x\nfrom . import d\nimport torch.nn.functional as F\n",
    }
    for name, source in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(source, encoding="utf-8")
    assert library_modules(tmp_path) == set(files)
    assert imports_of("a.py", tmp_path) == {"numpy", "b.py", "sub/c.py", "scipy", "sub/__init__.py"}
    assert imports_of("b.py", tmp_path) == {"threadpoolctl"}
    assert imports_of("sub/c.py", tmp_path) == {"b.py", "sub/__init__.py", "torch"}
    assert imports_of("__init__.py", tmp_path) == set()


# The checker must be able to fail. Its own checks start from a map that is right by construction (generated
# from the source, so they do not depend on the state of docs/DESIGN.md) and break a copy of it: each edit is
# a mistake the checker must report, naming the module.


def generated_map(lib: Path = LIB) -> str:
    """A module map that agrees with the package in ``lib`` by construction."""
    lines = ["# Design", "", HEADING, "", "| " + " | ".join(COLUMNS) + " |", "|---|---|---|---|"]
    for module in sorted(library_modules(lib)):
        names = ", ".join(f"`{name}`" for name in sorted(imports_of(module, lib))) or "none"
        lines.append(f"| `{module}` | what {module} holds | 1 | {names} |")
    return "\n".join([*lines, "", "## After the map", ""])


def _is_row_of(line: str, module: str) -> bool:
    return line.strip().startswith("|") and _cells(line)[0] == f"`{module}`"


def _edit_row(text: str, module: str, edit) -> str:
    lines = text.splitlines()
    i = next(i for i, line in enumerate(lines) if _is_row_of(line, module))
    lines[i] = "| " + " | ".join(edit(_cells(lines[i]))) + " |"
    return "\n".join(lines) + "\n"


def _drop_row(text: str, module: str) -> str:
    return "\n".join(line for line in text.splitlines() if not _is_row_of(line, module)) + "\n"


def _add_row(text: str, after: str, row: str) -> str:
    lines = text.splitlines()
    i = next(i for i, line in enumerate(lines) if _is_row_of(line, after))
    return "\n".join([*lines[: i + 1], row, *lines[i + 1:]]) + "\n"


def _unlist(module: str, name: str):
    return lambda text: _edit_row(text, module, lambda c: [*c[:3], ", ".join(
        entry for entry in c[3].split(", ") if entry != f"`{name}`")])


def _list(module: str, name: str):
    return lambda text: _edit_row(text, module, lambda c: [*c[:3], f"{c[3]}, `{name}`"])


def test_the_generated_map_is_right():
    assert not check_module_map(generated_map())


@pytest.mark.parametrize(("mistake", "expected"), [
    (lambda t: _drop_row(t, "sphere.py"), "sphere.py: a module of landscape_lib with no row"),
    (lambda t: _drop_row(t, "explore.py"), "explore.py: a module of landscape_lib with no row"),
    (lambda t: _add_row(t, "sphere.py", "| `manifold.py` | x | 2 | `numpy` |"),
     "manifold.py: listed in the module map but there is no landscape_lib/manifold.py"),
    (_unlist("sphere.py", "numpy"), "sphere.py: imports numpy, which its row's 'may import' column does not list"),
    (_unlist("explore.py", "viz/sphere.py"), "explore.py: imports viz/sphere.py"),
    (_unlist("sphere_critical.py", "solvers.py"), "sphere_critical.py: imports solvers.py"),
    (_unlist("train.py", "collapse.py"), "train.py: imports collapse.py"),  # imported inside a function
    (_list("critical.py", "scipy"),
     "critical.py: its row lists scipy under 'may import', but the module does not import it"),
    (_list("collapse.py", "torch"),
     "collapse.py: may import torch, which the design allows only in nets.py, data.py, train.py"),
    (_list("ufm.py", "plotly"), "ufm.py: may import plotly, which the design allows only under viz/"),
    (lambda t: _add_row(t, "sphere.py", "| `sphere.py` | again | 2 | `numpy` |"), "sphere.py: two rows"),
    (lambda t: t.replace("| may import |", "| imports |", 1), "the module map's columns must be"),
    (lambda t: t.replace(HEADING, "## Modules", 1), f"no '{HEADING}' heading"),
])
def test_a_wrong_map_fails_naming_the_module(mistake, expected):
    problems = check_module_map(mistake(generated_map()))
    assert any(expected in p for p in problems), f"expected a problem containing {expected!r}; got {problems}"


def test_a_module_that_imports_more_than_its_row_fails(tmp_path):
    # A copy of the package in which one module gains imports its row does not list.
    copy = tmp_path / PACKAGE
    for module in library_modules():
        target = copy / module
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text((LIB / module).read_text(encoding="utf-8"), encoding="utf-8")
    text = generated_map(copy)
    sphere = copy / "sphere.py"
    extra = "\n\ndef _f():\n    from .viz import style\n    import pandas\n    import json\n"
    sphere.write_text(sphere.read_text(encoding="utf-8") + extra, encoding="utf-8")
    problems = check_module_map(text, lib=copy)
    assert sorted(problems) == [
        "sphere.py: imports pandas, which its row's 'may import' column does not list",
        "sphere.py: imports viz/style.py, which its row's 'may import' column does not list",
    ], problems
