"""Helpers for the chapter notebooks: the standard setup cell and the quick (smoke) parameters.

``python scripts/notebook_tools.py setup-cell`` prints the setup cell every chapter starts with; it is
generated from the repository URL in ``_config.yml`` and ``tests/book/test_notebook_structure.py`` checks that
each chapter carries exactly this cell.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SMOKE_FILE = ROOT / "tests" / "book" / "smoke_parameters.yml"


def repository_url() -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return config["repository"]["url"]


def setup_cell_source(extras: str = "book") -> str:
    """Source of the setup cell: install landscape_lib where it is missing (Colab), never torch."""
    url = repository_url()
    return (
        "# Setup: in Colab (or anywhere landscape_lib is missing) install the companion library.\n"
        "# Torch is an optional extra and is never reinstalled over the one already there.\n"
        "import importlib.util\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        'if importlib.util.find_spec("landscape_lib") is None:\n'
        "    subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"-q\",\n"
        f"                    \"landscape_lib[{extras}] @ git+{url}\"], check=True)"
    )


def smoke_parameters() -> dict:
    """The quick parameter set of every chapter, keyed by notebook file name (one place for all)."""
    return yaml.safe_load(SMOKE_FILE.read_text()) or {}


if __name__ == "__main__":
    if sys.argv[1:] == ["setup-cell"]:
        print(setup_cell_source())
    else:
        sys.exit("usage: python scripts/notebook_tools.py setup-cell")
