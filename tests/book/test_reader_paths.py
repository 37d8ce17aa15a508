"""The ways a reader opens the book besides the static HTML: Binder's environment, a local JupyterLab,
the setup cells' release tag and repository URL, the citation file and the CI workflows."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
import venv
from pathlib import Path

import pytest
from book_pages import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import notebook_tools  # noqa: E402

BIN = Path(sys.executable).parent


def pins(path: Path) -> dict[str, str]:
    """``{name: version}`` of the ``name==version`` lines of a requirements file."""
    out = {}
    for line in path.read_text().splitlines():
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def test_binder_asks_for_the_python_of_the_pins_and_only_what_a_reader_needs():
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    book, binder = pins(ROOT / "requirements.txt"), pins(ROOT / "binder" / "requirements.txt")
    for tool in ("jupyter-book", "sphinx", "playwright", "pytest", "ruff", "pymanopt", "nbval", "papermill"):
        assert tool not in binder, f"{tool} is a build/test tool, not something a reader needs"
    for name, version in binder.items():
        if name in ("torch", "torchvision"):
            assert version == book[name] + "+cpu", f"{name}: the CPU build of the pinned {book[name]}"
        else:
            assert book.get(name) == version, f"{name}=={version} differs from requirements.txt"
    assert {"numpy", "scipy", "plotly", "ipywidgets", "torch", "torchvision"} <= set(binder)


@pytest.mark.notebooks
def test_binder_requirements_install_in_a_fresh_environment(tmp_path):
    """Everything but the two CPU-torch lines (their index cannot be reached from here: see the comment
    in binder/requirements.txt) resolves and installs into a fresh environment of the runtime's Python."""
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == "3.11"
    lines = [line for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith(("#", "--")) and not line.startswith(("torch", "torchvision"))]
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("\n".join(lines) + "\n")
    venv.EnvBuilder(with_pip=True).create(tmp_path / "env")
    python = tmp_path / "env" / "bin" / "python"
    result = subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(reqs)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    check = subprocess.run([str(python), "-c", "import numpy, scipy, sklearn, plotly, ipywidgets; print('ok')"],
                           capture_output=True, text=True)
    assert check.stdout.strip() == "ok", check.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.notebooks
def test_make_lab_starts_jupyterlab_on_the_chapters():
    makefile = (ROOT / "Makefile").read_text()
    assert "$(BIN)/jupyter lab --notebook-dir=book" in makefile
    port = free_port()
    import os

    root = ["--allow-root"] if os.geteuid() == 0 else []  # as the Makefile passes it
    proc = subprocess.Popen([str(BIN / "jupyter"), "lab", "--notebook-dir=book", "--no-browser", f"--port={port}",
                             "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--ServerApp.password=",
                             *root],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents", timeout=5) as r:
                    listing = r.read().decode()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    pytest.fail("JupyterLab did not answer: " + proc.stderr.read().decode()[-2000:]
                                if proc.poll() is not None else "JupyterLab did not answer in 90 s")
                time.sleep(1)
        assert "01_critical_points.ipynb" in listing
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=10) as r:
            assert r.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_setup_cells_install_the_release_of_pyproject():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    source = notebook_tools.setup_cell_source()
    assert f'RELEASE = "v{version}"' in source
    assert f'REPOSITORY = "{notebook_tools.repository_url()}"' in source
    assert max(len(line) for line in source.splitlines()) <= 88


def _run_setup_cell(source: str, cwd: Path, *, colab: bool) -> str:
    """Run a setup cell in ``cwd``; ``colab``: as where landscape_lib is missing (the pip call is skipped)."""
    fake = ("import importlib.util, subprocess\n"
            "real_find, real_run = importlib.util.find_spec, subprocess.run\n"
            "importlib.util.find_spec = lambda name, *a: None if name == 'landscape_lib' else real_find(name, *a)\n"
            "subprocess.run = lambda cmd, *a, **k: None if 'pip' in cmd else real_run(cmd, *a, **k)\n")
    script = f"import os\n{fake if colab else ''}os.chdir({str(cwd)!r})\n{source}\nprint(os.getcwd())\n"
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout


def test_setup_cell_fetches_the_book_at_the_release_in_colab(tmp_path):
    # A stand-in for the published repository: a local one with the release tag and a book/data folder.
    origin = tmp_path / "origin"
    (origin / "book" / "data").mkdir(parents=True)
    (origin / "book" / "data" / "stored.json").write_text("{}")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(origin)]
    subprocess.run(["git", "init", "-q", str(origin)], check=True)
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "book"], check=True)
    release = notebook_tools.release_tag()
    subprocess.run(git + ["tag", release], check=True)
    source = notebook_tools.setup_cell_source().replace(notebook_tools.repository_url(), origin.as_uri())
    content = tmp_path / "content"  # where a Colab notebook starts
    content.mkdir()
    book = content / "landscapes" / "book"
    assert _run_setup_cell(source, content, colab=True).strip() == str(book)
    assert (book / "data" / "stored.json").is_file()
    # again (a second run of the cell): no second clone, the same folder
    assert _run_setup_cell(source, content, colab=True).strip() == str(book)
    # where the library is installed (a checkout, Binder, a copy made by a test): nothing happens
    elsewhere = tmp_path / "copy"
    elsewhere.mkdir()
    assert _run_setup_cell(source, elsewhere, colab=False).strip() == str(elsewhere)
    assert _run_setup_cell(source, ROOT / "book", colab=True).strip() == str(ROOT / "book")


def test_set_url_moves_the_repository_everywhere(tmp_path):
    for name in ("_config.yml", "CITATION.cff", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "book").mkdir()
    for chapter in notebook_tools.chapters():
        shutil.copy(chapter, tmp_path / "book" / chapter.name)
    old = notebook_tools.repository_url(tmp_path)
    (tmp_path / "notes.md").write_text(f"see {old}\n")  # a file the tool does not rewrite
    stale = notebook_tools.set_url("https://example.org/someone/landscapes", tmp_path)
    assert stale == ["notes.md"], "the check names every file that still has the old URL"
    assert notebook_tools.repository_url(tmp_path) == "https://example.org/someone/landscapes"
    assert "https://example.org/someone/landscapes" in (tmp_path / "CITATION.cff").read_text()
    import nbformat

    for chapter in (tmp_path / "book").glob("*.ipynb"):
        cell = nbformat.read(chapter, as_version=4).cells[notebook_tools.SETUP_CELL_INDEX]
        assert cell.source == notebook_tools.setup_cell_source(root=tmp_path)
    with pytest.raises(SystemExit, match="must look like"):
        notebook_tools.set_url("not a url", tmp_path)


def test_citation_file_is_valid_and_carries_the_release_version():
    import yaml

    schema = next(Path(p) for p in sys.path if (Path(p) / "cffconvert").is_dir()) / "cffconvert" / "schemas" / \
        "1.2.0" / "schema.json"
    result = subprocess.run([str(BIN / "check-jsonschema"), "--schemafile", str(schema), str(ROOT / "CITATION.cff")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["version"] == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert cff["repository-code"] == notebook_tools.repository_url()


def test_ci_workflows_pass_their_linters():
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    assert len(workflows) == 2
    schema = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                             *workflows], capture_output=True, text=True)
    assert schema.returncode == 0, schema.stdout + schema.stderr
    audit = subprocess.run([str(BIN / "zizmor"), "--offline", str(ROOT / ".github" / "workflows")],
                           capture_output=True, text=True)
    assert audit.returncode == 0, audit.stdout + audit.stderr
