"""Render the HTML book into ``_build/html``.

    python scripts/build_book.py            # execute every chapter (papermill, default parameters) into a
                                            # build copy, then render it (make book)
    python scripts/build_book.py --committed  # render the committed outputs, no execution (make test)

The source tree in git is never modified: the book is assembled in ``_build/src`` (configuration, the
pages of ``_toc.yml``, executed or committed notebooks, ``_vendor``) and rendered from there with Sphinx
warnings as errors (``-W -n --keep-going``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
SRC = BUILD / "src"
sys.path.insert(0, str(ROOT / "scripts"))
if __name__ == "__main__":
    import numerics_env

    numerics_env.ensure()  # the chapters execute under the pinned numerical environment
import execute_notebooks  # noqa: E402
import fetch_static_assets  # noqa: E402


def assemble(execute: bool) -> None:
    if SRC.exists():
        shutil.rmtree(SRC)
    SRC.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(ROOT / name, SRC / name)
    # Everything under book/ except notebooks (pages, bibliography); notebooks come next.
    shutil.copytree(ROOT / "book", SRC / "book", ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
    shutil.copytree(ROOT / "_vendor", SRC / "_vendor")
    notebooks = execute_notebooks.toc_notebooks()
    if execute:
        status = execute_notebooks.main([str(p) for p in notebooks] + ["--output-dir", str(SRC)])
        if status:
            raise SystemExit(status)
    else:
        for nb in notebooks:
            shutil.copy2(nb, SRC / nb.relative_to(ROOT))


def render() -> None:
    html = BUILD / "html"
    if html.exists():
        shutil.rmtree(html)
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(SRC), "--path-output", str(SRC),
           "--all", "--warningiserror", "--nitpick", "--keep-going", "--quiet"]
    print("rendering:", " ".join(cmd[1:]), flush=True)
    start = time.perf_counter()
    result = subprocess.run(cmd)
    if result.returncode:
        raise SystemExit(f"jupyter-book build failed (exit {result.returncode}); see the warnings above")
    shutil.move(str(SRC / "_build" / "html"), str(html))
    print(f"rendered {html.relative_to(ROOT)}/ in {time.perf_counter() - start:.1f} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--committed", action="store_true", help="render the committed outputs (no execution)")
    args = parser.parse_args(argv)
    fetch_static_assets.main()
    assemble(execute=not args.committed)
    render()
    return 0


if __name__ == "__main__":
    sys.exit(main())
