"""Execute chapter notebooks with papermill.

Usage::

    python scripts/execute_notebooks.py [NOTEBOOK ...]                 # in place, default parameters
    python scripts/execute_notebooks.py --output-dir DIR               # into DIR (the build copy)
    python scripts/execute_notebooks.py --smoke --output-dir DIR       # quick parameters
                                                                       # (tests/book/smoke_parameters.yml)

Without notebooks, every chapter listed in ``_toc.yml`` is executed in reading order. Prints which
chapter runs and how long it took. Volatile metadata (papermill timings, execution timestamps) is
stripped so that re-executing an unchanged chapter changes nothing nbval compares. A cell that raises
stops the run with the notebook and the cell named, and a nonzero exit status.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
if __name__ == "__main__":
    # Before anything numerical loads, in this process and in the kernels it starts (they inherit it).
    import numerics_env

    numerics_env.ensure()

import nbformat  # noqa: E402
import papermill as pm  # noqa: E402
import yaml  # noqa: E402
from notebook_tools import smoke_parameters  # noqa: E402

CELL_TIMEOUT_S = 900
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def toc_notebooks() -> list[Path]:
    """Chapter notebooks in the order of ``_toc.yml``."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            for part in entry.get("parts", []) or []:
                walk(part.get("chapters"))

    walk(toc.get("chapters"))
    for part in toc.get("parts", []) or []:
        walk(part.get("chapters"))
    paths = []
    for f in files:
        p = ROOT / f
        p = p if p.suffix else p.with_suffix(".ipynb")
        if p.suffix == ".ipynb" and p.exists():
            paths.append(p)
    return paths


def strip_volatile(path: Path, name: str | None = None) -> None:
    """Make a re-execution of an unchanged chapter write the same file.

    Removes timing metadata, merges consecutive stream outputs (how stdout is cut into messages varies
    from run to run; nbval merges them too) and renames the widget models, whose ids are random uuids,
    to ids derived from their order of creation.
    """
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
    # Written again after the renaming so that the state's keys are sorted by their new ids.
    text = nbformat.writes(nbformat.reads(rename_widget_models(nbformat.writes(nb), name or path.stem), as_version=4))
    path.write_text(text if text.endswith("\n") else text + "\n")


def merge_streams(outputs: list) -> list:
    merged = []
    for out in outputs:
        if (out.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream"
                and merged[-1].get("name") == out.get("name")):
            merged[-1]["text"] = merged[-1]["text"] + out["text"]
        else:
            merged.append(out)
    return merged


def rename_widget_models(text: str, salt: str) -> str:
    """Replace every widget model id in a notebook's JSON text by a deterministic one.

    Models are numbered in the order they are reached from the widget views in the cell outputs
    (following their ``IPY_MODEL_`` references), then any others in the order of their state with ids
    masked; the new id of model ``i`` is a hash of ``salt`` and ``i``.
    """
    nb = json.loads(text)
    state = nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    if not state:
        return text
    order: list[str] = []

    def visit(model_id):
        if model_id in state and model_id not in order:
            order.append(model_id)
            walk(state[model_id].get("state", {}))

    def walk(value):
        if isinstance(value, str) and value.startswith("IPY_MODEL_"):
            visit(value[len("IPY_MODEL_"):])
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for key in sorted(value):
                walk(value[key])

    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            visit(out.get("data", {}).get(WIDGET_VIEW, {}).get("model_id"))
    masked = {m: re.sub("|".join(map(re.escape, state)), "", json.dumps(state[m], sort_keys=True)) for m in state}
    order += sorted((m for m in state if m not in order), key=lambda m: masked[m])
    # Through placeholders, so that an old id equal to some new id cannot be renamed twice.
    for i, old in enumerate(order):
        text = text.replace(old, f"@@widget-{i}@@")
    for i in range(len(order)):
        text = text.replace(f"@@widget-{i}@@", hashlib.sha1(f"{salt}:{i}".encode()).hexdigest()[:32])
    return text


def own_cell_index(source: Path, index: int, injected: bool) -> int:
    """The index in the *source* notebook of papermill's cell ``index``: with parameters, papermill
    injects a cell after the one tagged ``parameters`` (at the top when there is none), so past that
    point its index is one too high."""
    if not injected:
        return index
    nb = nbformat.read(source, as_version=4)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    injected_at = tagged[0] + 1 if tagged else 0
    return index - 1 if index > injected_at else index


def ipc_kernel_manager():
    """A kernel manager whose kernels talk over local (IPC) sockets instead of TCP ports.

    With TCP, jupyter_client picks free ports and the kernel binds them a moment later; another process
    can take one in between, and the kernel then dies at start ("Address already in use" on its
    heartbeat port; seen once in a test run, where papermill then waited for the dead kernel).
    """
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            # Socket paths in a folder of this kernel's own: two executions started at once picked the same
            # paths in one folder, and each kernel then received the other's messages ("Invalid Signature").
            self._socket_dir = tempfile.mkdtemp(prefix="landscapes-kernel-")
            kwargs.setdefault("ip", os.path.join(self._socket_dir, "kernel"))
            super().__init__(transport="ipc", **kwargs)

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            if not restart:  # the kernel is gone for good: so is its socket folder (one per kernel otherwise stays)
                shutil.rmtree(self._socket_dir, ignore_errors=True)

    return IPCKernelManager


def execute(path: Path, output: Path, parameters: dict | None) -> float:
    """Execute ``path`` into ``output``; ``output`` is replaced only when every cell ran.

    The run writes to a temporary file beside ``output`` (so that a failed run never leaves papermill's
    error banners in a committed notebook), which replaces ``output`` once the run has succeeded and its
    volatile metadata is stripped. A failing cell, a cell timeout and a dead kernel each stop the run with
    one line naming the notebook and the cell (its index in the source notebook).
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    start = time.perf_counter()
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=".tmp.ipynb", dir=output.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    try:
        pm.execute_notebook(
            str(path), str(tmp), parameters=parameters or None, cwd=str(path.parent),
            kernel_name="python3", progress_bar=False, log_output=False, request_save_on_cell_execute=False,
            # A cell that runs this long is stuck, not slow (the book profile of a chapter takes minutes).
            execution_timeout=CELL_TIMEOUT_S, kernel_manager_class=ipc_kernel_manager(),
        )
        strip_volatile(tmp, name=output.stem)  # the ids depend on the chapter, not on the temporary name
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would otherwise replace the notebook's mode
        os.replace(tmp, output)
    except pm.PapermillExecutionError as exc:
        index = own_cell_index(path, exc.cell_index, injected=bool(parameters))
        raise SystemExit(f"FAILED: {where}, cell {index} (execution count {exc.exec_count}): "
                         f"{exc.ename}: {exc.evalue}; {output.name} was left unchanged") from None
    except CellTimeoutError:
        raise SystemExit(f"FAILED: {where}: a cell ran longer than {CELL_TIMEOUT_S} s (the cell timeout) and was "
                         f"stopped; {output.name} was left unchanged") from None
    except DeadKernelError:
        raise SystemExit(f"FAILED: {where}: the kernel died (out of memory, or killed); "
                         f"{output.name} was left unchanged") from None
    finally:
        tmp.unlink(missing_ok=True)
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter in _toc.yml")
    parser.add_argument("--output-dir", type=Path, help="write executed copies here (default: in place)")
    parser.add_argument("--smoke", action="store_true",
                        help="use the quick parameters of tests/book/smoke_parameters.yml")
    parser.add_argument("--extra", action="append", default=[], metavar="NAME=YAML",
                        help="override one parameter for every notebook (repeatable)")
    parser.add_argument("--no-fallbacks", action="store_true",
                        help="in place: skip the static PNG beside each figure (scripts/figures.py)")
    args = parser.parse_args(argv)

    notebooks = [p.resolve() for p in args.notebooks] or toc_notebooks()
    smoke = smoke_parameters() if args.smoke else {}
    extra = {}
    for item in args.extra:
        name, _, value = item.partition("=")
        extra[name] = yaml.safe_load(value)
    # Notebooks run with the repository on the path (a fresh checkout without `pip install -e .` works).
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    total = 0.0
    for path in notebooks:
        if not path.exists():
            raise SystemExit(f"no such notebook: {path}")
        params = {**smoke.get(path.name, {}), **extra}
        if args.output_dir:
            out = args.output_dir.resolve() / path.relative_to(ROOT)
            out.parent.mkdir(parents=True, exist_ok=True)
        else:
            out = path
        print(f"executing {path.relative_to(ROOT)}"
              + (f" with {params}" if params else " (default parameters)"), flush=True)
        seconds = execute(path, out, params)
        total += seconds
        print(f"  done in {seconds:.1f} s", flush=True)
    print(f"executed {len(notebooks)} notebook(s) in {total:.1f} s")
    if not args.output_dir and not args.smoke and not args.no_fallbacks:
        # The committed chapters carry a static PNG beside each interactive figure, for the readers whose
        # viewer cannot draw plotly's JSON (GitHub, nbviewer, Colab before running).
        import figures

        start = time.perf_counter()
        with figures.renderer() as render:
            count = sum(figures.add_fallbacks(path, render) for path in notebooks)
        print(f"static fallbacks for {count} figure(s) in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
