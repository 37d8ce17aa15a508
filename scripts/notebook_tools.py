"""Helpers for the chapter notebooks: the standard setup cell, the release it installs, the repository
URL, and the quick (smoke) parameters.

    python scripts/notebook_tools.py setup-cell           # print the setup cell every chapter starts with
    python scripts/notebook_tools.py update-setup-cells   # write it into every chapter (cell 1)
    python scripts/notebook_tools.py set-url NEW_URL      # move the repository: _config.yml, CITATION.cff,
                                                          # the setup cells; then check nothing names the old

The setup cell installs ``landscape_lib`` from the repository at the release tag ``v<version>`` of
``pyproject.toml`` (CHANGELOG.md: a release tag equals that version), so a reader in Colab gets the code
that printed the chapter's numbers. The URL lives in ``_config.yml`` only; ``tests/book/
test_notebook_structure.py`` checks that each chapter carries exactly the generated cell.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SMOKE_FILE = ROOT / "tests" / "book" / "smoke_parameters.yml"
SETUP_CELL_INDEX = 1


def repository_url(root: Path = ROOT) -> str:
    config = yaml.safe_load((root / "_config.yml").read_text())
    return config["repository"]["url"]


def release_tag(root: Path = ROOT) -> str:
    """``v`` + the version of ``pyproject.toml``: the tag the setup cells install from."""
    return "v" + tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]


def setup_cell_source(extras: str = "book", root: Path = ROOT) -> str:
    """Source of the setup cell: where landscape_lib is missing (Colab) install it, never torch, and if the
    book's stored data (``data/``: censuses, phase diagrams, reference runs) is not beside the notebook,
    fetch the book at the same release and work from its ``book/`` folder. Where the library is installed
    (a checkout, Binder, the tests) the cell does nothing. Lines fit 88 characters."""
    url, tag = repository_url(root), release_tag(root)
    return (
        "# Setup: in Colab (or wherever landscape_lib is missing) install the companion library\n"
        "# and fetch the stored data, from the release that printed this chapter's numbers.\n"
        "# Torch is an optional extra and is never reinstalled.\n"
        "import importlib.util\n"
        "import os\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        f'REPOSITORY = "{url}"\n'
        f'RELEASE = "{tag}"\n'
        'if importlib.util.find_spec("landscape_lib") is None:\n'
        '    subprocess.run([sys.executable, "-m", "pip", "install", "-q",\n'
        f'                    f"landscape_lib[{extras}] @ git+{{REPOSITORY}}@{{RELEASE}}"], check=True)\n'
        '    if not os.path.isdir("data"):  # the stored results the chapters read\n'
        '        if not os.path.isdir("landscapes"):\n'
        '            subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", RELEASE,\n'
        '                            REPOSITORY, "landscapes"], check=True)\n'
        '        os.chdir("landscapes/book")'
    )


def chapters(root: Path = ROOT) -> list[Path]:
    return sorted((root / "book").glob("[0-9][0-9]*_*.ipynb"))


def update_setup_cells(root: Path = ROOT) -> list[Path]:
    """Write the generated setup cell into every chapter (only that cell's source and its ``remove-cell``
    tag; outputs untouched)."""
    import nbformat

    changed = []
    source = setup_cell_source(root=root)
    for path in chapters(root):
        nb = nbformat.read(path, as_version=4)
        cell = nb.cells[SETUP_CELL_INDEX]
        if cell.cell_type != "code" or "landscape_lib" not in cell.source:
            raise SystemExit(f"{path.name}: cell {SETUP_CELL_INDEX} is not the setup cell")
        tags = cell.metadata.setdefault("tags", [])
        if cell.source != source or "remove-cell" not in tags:
            cell.source = source
            if "remove-cell" not in tags:  # it runs in Colab and Binder; the rendered book leaves it out
                tags.append("remove-cell")
            text = nbformat.writes(nb)
            path.write_text(text if text.endswith("\n") else text + "\n")
            changed.append(path)
    return changed


def set_url(new: str, root: Path = ROOT) -> list[str]:
    """Move the repository URL from ``_config.yml``'s to ``new`` everywhere it is used.

    Rewrites ``_config.yml`` and ``CITATION.cff`` and regenerates the setup cells. Returns the files
    (tracked by git, or all files when ``root`` is not a checkout) that still name the old URL.
    """
    if not re.fullmatch(r"https://[\w.-]+/[\w.-]+/[\w.-]+", new):
        raise SystemExit(f"the repository URL must look like https://host/owner/name; got {new!r}")
    old = repository_url(root)
    for name in ("_config.yml", "CITATION.cff"):
        path = root / name
        path.write_text(path.read_text().replace(old, new))
    update_setup_cells(root)
    try:
        files = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True,
                               check=True).stdout.split()
    except (subprocess.CalledProcessError, FileNotFoundError):
        files = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()]
    stale = []
    for name in files:
        path = root / name
        try:
            if old in path.read_text():
                stale.append(name)
        except (UnicodeDecodeError, OSError):
            continue
    return stale


def smoke_parameters() -> dict:
    """The quick parameter set of every chapter, keyed by notebook file name (one place for all)."""
    return yaml.safe_load(SMOKE_FILE.read_text()) or {}


def main(argv: list[str]) -> int:
    if argv == ["setup-cell"]:
        print(setup_cell_source())
        return 0
    if argv == ["update-setup-cells"]:
        for path in update_setup_cells():
            print(f"updated {path.relative_to(ROOT)}")
        return 0
    if len(argv) == 2 and argv[0] == "set-url":
        stale = set_url(argv[1])
        if stale:
            print("these files still name the old URL:\n  " + "\n  ".join(stale), file=sys.stderr)
            return 1
        print(f"repository URL set to {argv[1]} everywhere")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
