"""Provenance of stored results (the census, the phase diagram, the reference training runs).

One place for what every stored result records about how it was made: the library's commit and whether
``landscape_lib/`` had uncommitted changes, and the machine and library versions.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def library_commit() -> tuple[str, bool]:
    """``(commit, dirty)``: ``HEAD``'s hash and whether ``landscape_lib/`` differs from it."""
    return _git("rev-parse", "HEAD"), bool(_git("status", "--porcelain", "landscape_lib"))


def library_changes() -> list[str]:
    """Paths under ``landscape_lib/`` whose working copy differs from ``HEAD`` (``git status`` order)."""
    lines = subprocess.run(["git", "status", "--porcelain", "landscape_lib"], cwd=ROOT, capture_output=True,
                           text=True).stdout.splitlines()
    return [line[3:] for line in lines if line.strip()]


def cpu_model() -> str:
    """The CPU's model name (Linux), else ``platform.processor()``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict:
    """Operating system, CPU, core count and Python version of this machine."""
    return {"system": f"{platform.system()} {platform.release()}", "cpu": cpu_model(), "cores": os.cpu_count(),
            "python": sys.version.split()[0]}
