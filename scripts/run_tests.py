"""Everything `make test` runs, in order, with the time each stage took.

Runs under the pinned numerical environment (``scripts/numerics_env.py``), printed first.

1. lint (ruff) over landscape_lib, tests, benchmarks, scripts;
2. the library's unit tests (``tests/unit``), then the tests of the book's tooling (``tests/book``, not
   marked ``notebooks`` or ``book``: scripts, numerical environment, book extension);
3. the papermill smoke run of every chapter with its quick parameters, the notebook-structure checks and
   the proof that the regression net can fail (``-m notebooks``); then chapters 1-4 with their quick
   parameters in a second environment holding Google Colab's package versions (``scripts/colab_check.py``);
4. strict ``pytest --nbval`` of every chapter against its committed outputs, then the portability check:
   every chapter executed under other kernels (``scripts/portability.py``), each changed number reported.
   On a CPU that cannot run the pinned kernels both are replaced by the portability check in tolerance
   mode;
5. the committed outputs rendered into ``_build/html`` (no execution);
6. the rendered book in headless Chromium (``-m book``).

All stages run even when one fails, so one CI log shows every failure; the exit status is nonzero if any
stage failed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "scripts"))
if __name__ == "__main__":
    import numerics_env

    # Every stage inherits the pinned numerical environment (set before any numerical library loads).
    MODE = numerics_env.ensure()
else:
    MODE = "pinned"
from execute_notebooks import toc_notebooks  # noqa: E402


def stages(mode: str = "pinned") -> list[tuple[str, list[str]]]:
    pytest = [str(BIN / "pytest"), "-p", "no:cacheprovider"]
    chapters = [str(p.relative_to(ROOT)) for p in toc_notebooks()]
    nbval = pytest + ["--nbval", "--nbval-sanitize-with", "book/nbval_sanitize.cfg",
                      "--nbval-cell-timeout", "900", "-q", *chapters]
    portability = [sys.executable, "scripts/portability.py"]
    if mode == "tolerance":
        # The pinned kernels cannot run here: the chapters are executed with this machine's own kernels
        # and compared with the stated tolerances (scripts/portability.py) instead of exactly.
        regression = [("chapters against committed outputs, tolerance mode", portability + ["--mode", "tolerance"])]
    else:
        regression = [("nbval against committed outputs", nbval if chapters else ["true"]),
                      ("portability check (alternative kernels)", portability + ["--mode", "alternative"])]
    return [
        ("lint", [str(BIN / "ruff"), "check", "landscape_lib", "tests", "benchmarks", "scripts", "book/_ext",
                  "conftest.py"]),
        ("library unit tests", pytest + ["-q", "tests/unit"]),
        ("book tooling tests", pytest + ["-q", "-m", "not notebooks and not book", "tests/book"]),
        ("notebook smoke run and structure", pytest + ["-q", "-m", "notebooks", "tests/book"]),
        ("chapters 1-4 with Colab's package versions", [sys.executable, "scripts/colab_check.py"]),
        *regression,
        ("render committed outputs", [sys.executable, "scripts/build_book.py", "--committed"]),
        ("rendered book in Chromium", pytest + ["-q", "-m", "book", "tests/book"]),
    ]


def main() -> int:
    results = []
    for name, cmd in stages(MODE):
        print(f"\n=== {name}: {' '.join(cmd)}", flush=True)
        start = time.perf_counter()
        code = subprocess.run(cmd, cwd=ROOT).returncode
        results.append((name, code, time.perf_counter() - start))
    print("\n=== summary")
    for name, code, seconds in results:
        print(f"{'ok    ' if code == 0 else 'FAILED'} {seconds:7.1f} s  {name}")
    print(f"total {sum(r[2] for r in results):.1f} s")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
