"""Chapters 1-4 in an environment with Google Colab's package versions (tests/colab/constraints.txt).

    python scripts/colab_check.py          # make the environment (.venv-colab, once) and run the chapters

Colab ships older plotly and ipywidgets than the book's pins (ipywidgets 7, which Colab's widget
frontend needs). The library declares ranges that include them (pyproject.toml); this check installs
exactly Colab's versions into a second environment, installs landscape_lib there without dependencies,
and executes chapters 1-4 with their smoke parameters (tests/book/smoke_parameters.yml) through
papermill. A chapter that fails is named with its cell. Numbers are not compared: the kernels and
versions differ from the book's pinned environment.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = ROOT / ".venv-colab"
CONSTRAINTS = ROOT / "tests" / "colab" / "constraints.txt"
CHAPTERS = ["book/01_critical_points.ipynb", "book/02_tensor_landscape.ipynb",
            "book/03_dictionary_learning.ipynb", "book/04_ufm_neural_collapse.ipynb"]
# papermill is not part of Colab; it only drives the kernel here (its version as in requirements.txt).
DRIVER = ["papermill==2.7.0", "pyyaml==6.0.4"]


def packages() -> list[str]:
    return [line.strip() for line in CONSTRAINTS.read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def ensure_environment() -> Path:
    """``.venv-colab`` with Colab's versions; rebuilt when the constraints file changes."""
    python = ENV / "bin" / "python"
    stamp = ENV / ".constraints-sha256"
    digest = hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    print(f"creating {ENV.name} with Colab's versions ({CONSTRAINTS.relative_to(ROOT)})", flush=True)
    venv.EnvBuilder(clear=True, with_pip=True).create(ENV)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *packages(), *DRIVER], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "-e", str(ROOT)], check=True)
    subprocess.run([str(python), "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"], check=True,
                   stdout=subprocess.DEVNULL)
    stamp.write_text(digest)
    return python


RUNNER = r'''
import sys, yaml, papermill as pm
smoke = yaml.safe_load(open(sys.argv[1]))
failed = 0
for path, out in zip(sys.argv[2::2], sys.argv[3::2]):
    name = path.rsplit("/", 1)[-1]
    try:
        pm.execute_notebook(path, out, parameters=smoke.get(name, {}), cwd=path.rsplit("/", 1)[0],
                            kernel_name="python3", progress_bar=False, execution_timeout=600)
        print(f"ok     {name}", flush=True)
    except pm.PapermillExecutionError as exc:
        failed += 1
        print(f"FAILED {name}, cell {exc.cell_index}: {exc.ename}: {exc.evalue}", flush=True)
sys.exit(1 if failed else 0)
'''


def main() -> int:
    python = ensure_environment()
    out = ROOT / "_build" / "colab"
    out.mkdir(parents=True, exist_ok=True)
    versions = subprocess.run([str(python), "-c", "import numpy, scipy, plotly, ipywidgets; print("
                               "f'numpy {numpy.__version__}, scipy {scipy.__version__}, plotly {plotly.__version__},"
                               " ipywidgets {ipywidgets.__version__}')"], capture_output=True, text=True, check=True)
    print("Colab versions:", versions.stdout.strip(), flush=True)
    args = [str(ROOT / "tests" / "book" / "smoke_parameters.yml")]
    for chapter in CHAPTERS:
        args += [str(ROOT / chapter), str(out / Path(chapter).name)]
    # ipykernel 6.17's debugger warns about frozen modules on every kernel start; it is not a failure.
    env = {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([str(python), "-Xfrozen_modules=off", "-c", RUNNER, *args], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
