"""The portability check: do the chapters print the same numbers under another choice of kernels?

    python scripts/portability.py                       # execute every chapter under the *alternative*
                                                        # kernels and compare with the committed outputs
    python scripts/portability.py --mode tolerance      # what `make test` runs where the pinned kernels
                                                        # cannot run (see scripts/numerics_env.py)
    python scripts/portability.py --compare A.ipynb B.ipynb   # compare two executed copies, no execution

Every compared cell (code cells without the ``nbval-ignore-output`` tag) is reduced to its printed text
(stdout, stderr and ``text/plain`` results); the text is cut into numbers and the words between them.
The words must be equal. Each number that changes is reported with its chapter, cell and line, and
classified:

* **chaotic** — the cell is listed in ``tests/book/portability.yml`` (training runs, where a last-bit
  difference in one kernel grows over thousands of steps) and the number lies within the tolerance
  stated there (within ``atol``, or within a ratio ``factor``), with the reason and the measured spread
  it was derived from;
* **rounding** (tolerance mode only) — a number with a fractional part moved by one unit of its last
  printed digit: a value that sits next to a rounding boundary can flip under kernels this check never
  saw, so where the pinned kernels cannot run the text is compared up to that;
* **CHANGE** — anything else. Under the alternative kernels every change that is not chaotic is a
  printed precision to fix: a printed number must not depend on which kernels ran.

The exit status is nonzero when any CHANGE is reported.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
TOLERANCES_FILE = ROOT / "tests" / "book" / "portability.yml"
IGNORE = "nbval-ignore-output"
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?\b(?:nan|inf)\b")


@dataclass(frozen=True)
class Change:
    """One printed number (or one piece of text) that differs between the reference and the new run."""

    chapter: str
    cell: int  # the cell's index in the notebook, as nbval counts it
    cell_id: str
    line: str  # the reference line
    new_line: str
    old: str
    new: str
    kind: str  # "chaotic", "rounding" or "CHANGE"

    def __str__(self) -> str:
        what = f"{self.old} -> {self.new}" if self.old or self.new else "text differs"
        return (f"{self.kind:8s} {self.chapter} cell {self.cell} ({self.cell_id}): {what}\n"
                f"           was: {self.line.strip()[:150]}\n           now: {self.new_line.strip()[:150]}")


def printed_text(cell) -> str:
    """What nbval compares of a code cell, as one text: streams and ``text/plain`` results."""
    parts = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            parts.append(out.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
        elif kind == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue')}\n")
    return "".join(parts)


def split_numbers(line: str) -> tuple[list[str], list[str]]:
    """The words between the numbers of ``line`` (runs of spaces as one: table columns move with the width
    of their numbers) and the numbers themselves."""
    return [" ".join(w.split()) for w in NUMBER.split(line)], NUMBER.findall(line)


def last_digit_unit(text: str) -> float | None:
    """One unit of the last printed digit of a number with a fractional part (None for integers)."""
    mantissa, _, exponent = text.lower().partition("e")
    if "." not in mantissa:
        return None
    decimals = len(mantissa.split(".")[1])
    return 10.0 ** (int(exponent or 0) - decimals)


def within(old: str, new: str, factor: float, atol: float) -> bool:
    """``|a - b| <= atol``, or ``a`` and ``b`` of one sign with ``max/min <= factor`` (symmetric in a, b)."""
    a, b = float(old), float(new)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if abs(a - b) <= atol:
        return True
    return a * b > 0 and max(abs(a), abs(b)) <= factor * min(abs(a), abs(b))


def load_tolerances(path: Path = TOLERANCES_FILE) -> dict:
    """``{chapter file name: {cell id: {"factor", "atol", "why"}}}`` from ``tests/book/portability.yml``."""
    import yaml

    data = yaml.safe_load(path.read_text()) if path.exists() else None
    data = data or {}
    for chapter, cells in data.items():
        for cell_id, entry in (cells or {}).items():
            missing = {"factor", "atol", "why"} - set(entry or {})
            if not missing and not float(entry["factor"]) >= 1:
                raise SystemExit(f"{path}: {chapter} cell {cell_id}: factor must be >= 1")
            if missing:
                raise SystemExit(f"{path}: {chapter} cell {cell_id} needs {', '.join(sorted(missing))}")
    return data


def compare(reference: Path, new: Path, tolerances: dict, tolerance_mode: bool = False) -> list[Change]:
    """Every difference between the printed numbers of two executions of one chapter."""
    import nbformat

    ref_nb, new_nb = nbformat.read(reference, as_version=4), nbformat.read(new, as_version=4)
    chapter = reference.name
    chaotic = tolerances.get(chapter, {})
    ref_cells = [(i, c) for i, c in enumerate(ref_nb.cells) if c.cell_type == "code"]
    new_cells = [c for c in new_nb.cells if c.cell_type == "code"]
    # papermill injects a parameters cell into the new run; compare the cells that carry the same source.
    new_by_id = {c.get("id"): c for c in new_cells}
    changes = []
    for index, cell in ref_cells:
        if IGNORE in cell.metadata.get("tags", []):
            continue
        other = new_by_id.get(cell.get("id"))
        if other is None:
            changes.append(Change(chapter, index, cell.get("id", "?"), "(cell)", "(missing)", "", "", "CHANGE"))
            continue
        entry = chaotic.get(cell.get("id"))
        old_lines, new_lines = printed_text(cell).splitlines(), printed_text(other).splitlines()
        if len(old_lines) != len(new_lines):
            changes.append(Change(chapter, index, cell.id, f"{len(old_lines)} lines", f"{len(new_lines)} lines",
                                  "", "", "CHANGE"))
            continue
        for old_line, new_line in zip(old_lines, new_lines, strict=True):
            if old_line == new_line:
                continue
            (old_words, old_numbers), (new_words, new_numbers) = split_numbers(old_line), split_numbers(new_line)
            if old_words != new_words:
                changes.append(Change(chapter, index, cell.id, old_line, new_line, "", "", "CHANGE"))
                continue
            for old, new in zip(old_numbers, new_numbers, strict=True):
                if old == new:
                    continue
                if entry is not None and within(old, new, float(entry["factor"]), float(entry["atol"])):
                    kind = "chaotic"
                elif tolerance_mode and (unit := last_digit_unit(old)) and within(old, new, 1, 1.001 * unit):
                    kind = "rounding"
                else:
                    kind = "CHANGE"
                changes.append(Change(chapter, index, cell.id, old_line, new_line, old, new, kind))
    return changes


def report(changes: list[Change], compared: int) -> int:
    for change in changes:
        print(change)
    counts = {kind: sum(c.kind == kind for c in changes) for kind in ("chaotic", "rounding", "CHANGE")}
    print(f"portability: {compared} chapter(s) compared; {counts['CHANGE']} unexplained change(s), "
          f"{counts['chaotic']} within a stated chaotic tolerance, {counts['rounding']} last-digit rounding")
    return 1 if counts["CHANGE"] else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="chapters to check (default: all in _toc.yml)")
    parser.add_argument("--mode", choices=("alternative", "tolerance"), default="alternative",
                        help="kernels to execute under (default: alternative)")
    parser.add_argument("--output-dir", type=Path, help="where the executed copies go "
                        "(default: _build/portability/MODE)")
    parser.add_argument("--reuse", action="store_true", help="compare copies already in the output "
                        "directory instead of executing")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("REFERENCE", "NEW"),
                        help="compare two executed notebooks and exit")
    args = parser.parse_args(argv)
    tolerances = load_tolerances()
    if args.compare:
        return report(compare(*args.compare, tolerances, tolerance_mode=args.mode == "tolerance"), 1)

    import numerics_env

    mode = numerics_env.ensure(args.mode)  # re-executes this script under the kernels of that mode
    import execute_notebooks

    notebooks = [p.resolve() for p in args.notebooks] or execute_notebooks.toc_notebooks()
    out_dir = (args.output_dir or ROOT / "_build" / "portability" / mode).resolve()
    if not args.reuse:
        status = execute_notebooks.main([str(p) for p in notebooks] + ["--output-dir", str(out_dir)])
        if status:
            return status
    changes = []
    for path in notebooks:
        executed = out_dir / path.relative_to(ROOT)
        changes += compare(path, executed, tolerances, tolerance_mode=mode == "tolerance")
    return report(changes, len(notebooks))


if __name__ == "__main__":
    sys.exit(main())
