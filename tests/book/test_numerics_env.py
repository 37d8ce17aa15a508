"""The pinned numerical environment (scripts/numerics_env.py) and the portability check's comparison."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest
from book_pages import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import numerics_env  # noqa: E402
import portability  # noqa: E402

AVX2 = {"avx", "avx2", "fma", "f16c", "sse4_2"}
AVX512 = AVX2 | {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}


def test_mode_follows_the_cpu():
    assert numerics_env.choose_mode("pinned", AVX2)[0] == "pinned"
    assert numerics_env.choose_mode("alternative", AVX512)[0] == "alternative"
    mode, why = numerics_env.choose_mode("pinned", {"avx", "sse4_2"})
    assert mode == "tolerance" and "avx2" in why and "fma" in why
    mode, why = numerics_env.choose_mode("pinned", None)
    assert mode == "tolerance" and "x86-64" in why
    with pytest.raises(SystemExit, match="must be one of"):
        numerics_env.choose_mode("fast", AVX2)


def test_alternative_kernels_differ_from_the_pinned_ones_and_fit_the_cpu():
    pinned = numerics_env.environment("pinned", AVX512)
    on_avx512 = numerics_env.environment("alternative", AVX512)
    on_avx2 = numerics_env.environment("alternative", AVX2)
    assert on_avx512["OPENBLAS_CORETYPE"] == "SkylakeX" and on_avx512["ATEN_CPU_CAPABILITY"] == "avx512"
    assert on_avx2["OPENBLAS_CORETYPE"] == "Sandybridge" and on_avx2["ATEN_CPU_CAPABILITY"] == "default"
    for alternative in (on_avx512, on_avx2):
        differ = [k for k in ("OPENBLAS_CORETYPE", "ATEN_CPU_CAPABILITY", "MKL_CBWR", "ONEDNN_MAX_CPU_ISA",
                              "NPY_DISABLE_CPU_FEATURES") if alternative[k] != pinned[k]]
        assert len(differ) == 5
        assert all(alternative[k] == pinned[k] for k in numerics_env.THREADS)


def test_tolerance_mode_forces_no_kernel():
    env = numerics_env.environment("tolerance", None)
    assert env["OPENBLAS_CORETYPE"] is None and env["ATEN_CPU_CAPABILITY"] is None
    assert env["OMP_NUM_THREADS"] == "2" and env[numerics_env.MODE_VARIABLE] == "tolerance"


def test_apply_removes_stale_kernel_choices():
    env, mode, _ = numerics_env.apply({"OPENBLAS_CORETYPE": "Zen", "PATH": "/bin"}, "tolerance")
    assert mode == "tolerance" and "OPENBLAS_CORETYPE" not in env and env["PATH"] == "/bin"


PROBE = """
import json, threadpoolctl, torch
from numpy._core._multiarray_umath import __cpu_features__ as f
blas = [i.get("architecture") for i in threadpoolctl.threadpool_info() if i["internal_api"] == "openblas"]
print(json.dumps({"x86_v4": f.get("X86_V4", False), "avx512_spr": f.get("AVX512_SPR", False), "blas": blas,
                  "aten": torch.backends.cpu.get_cpu_capability()}))
"""


@pytest.mark.skipif(numerics_env.choose_mode("pinned")[0] != "pinned", reason="this CPU cannot run the pinned kernels")
def test_the_libraries_load_the_pinned_kernels():
    """Each variable reaches its library: numpy's dispatch, OpenBLAS's core type, torch's capability."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "numerics_env.py"), "--", sys.executable,
                             "-c", PROBE], capture_output=True, text=True,
                            env={**os.environ, "LANDSCAPES_NUMERICS": "pinned"})
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {"x86_v4": False, "avx512_spr": False, "blas": ["Haswell"], "aten": "AVX2"}
    assert "numerical environment: pinned" in result.stderr


def notebook(lines: list[str], tags=()) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for i, text in enumerate(lines):
        cell = nbformat.v4.new_code_cell("print()")
        cell.id = f"cell{i}"
        cell.metadata["tags"] = list(tags)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        nb.cells.append(cell)
    return nb


def changes(tmp_path, old, new, tolerances=None, tolerance_mode=False, tags=()):
    (tmp_path / "a").mkdir(exist_ok=True)
    (tmp_path / "b").mkdir(exist_ok=True)
    nbformat.write(notebook(old, tags), tmp_path / "a" / "ch.ipynb")
    nbformat.write(notebook(new, tags), tmp_path / "b" / "ch.ipynb")
    return portability.compare(tmp_path / "a" / "ch.ipynb", tmp_path / "b" / "ch.ipynb", tolerances or {},
                               tolerance_mode)


def test_equal_outputs_report_nothing(tmp_path):
    assert changes(tmp_path, ["NC1 0.095 at epoch 40\n"], ["NC1 0.095 at epoch 40\n"]) == []


def test_a_changed_number_is_reported(tmp_path):
    found = changes(tmp_path, ["counts [26, 19, 21]\n", "x 1.5e-08\n"], ["counts [26, 24, 21]\n", "x 1.5e-08\n"])
    assert [(c.old, c.new, c.kind, c.cell) for c in found] == [("19", "24", "CHANGE", 0)]


def test_changed_words_are_reported(tmp_path):
    found = changes(tmp_path, ["relative error < 1e-08\n"], ["relative error 1.66e-08\n"])
    assert [c.kind for c in found] == ["CHANGE"] and found[0].old == ""


def test_column_widths_do_not_count(tmp_path):
    found = changes(tmp_path, ["SGD   0.11   0.52\n"], ["SGD    0.1   0.52\n"])
    assert [(c.old, c.new) for c in found] == [("0.11", "0.1")]


def test_chaotic_cells_use_their_stated_tolerance(tmp_path):
    tolerances = {"ch.ipynb": {"cell0": {"factor": 1.5, "atol": 0.01, "why": "training"}}}
    found = changes(tmp_path, ["NC1 0.11\n", "NC1 0.11\n"], ["NC1 0.15\n", "NC1 0.15\n"], tolerances)
    assert [c.kind for c in found] == ["chaotic", "CHANGE"]
    # the ratio is symmetric, and the sign must agree unless the change is within atol
    assert [c.kind for c in changes(tmp_path, ["NC1 0.2\n"], ["NC1 0.11\n"], tolerances)] == ["CHANGE"]
    assert [c.kind for c in changes(tmp_path, ["d 0.02\n"], ["d -0.02\n"], tolerances)] == ["CHANGE"]
    assert [c.kind for c in changes(tmp_path, ["d 0.005\n"], ["d -0.004\n"], tolerances)] == ["chaotic"]


def test_tolerance_mode_allows_one_unit_of_the_last_digit_of_fractions_only(tmp_path):
    found = changes(tmp_path, ["a 0.123 b 7 c 2.5e-03\n"], ["a 0.124 b 8 c 2.7e-03\n"], tolerance_mode=True)
    assert [(c.old, c.kind) for c in found] == [("0.123", "rounding"), ("7", "CHANGE"), ("2.5e-03", "CHANGE")]
    found = changes(tmp_path, ["a 0.123\n"], ["a 0.124\n"], tolerance_mode=False)
    assert [c.kind for c in found] == ["CHANGE"]


def test_ignored_cells_are_not_compared(tmp_path):
    assert changes(tmp_path, ["figure 1\n"], ["figure 2\n"], tags=["nbval-ignore-output"]) == []


def test_tolerance_file_entries_state_their_reason(tmp_path):
    path = tmp_path / "t.yml"
    path.write_text("ch.ipynb:\n  cell0: {factor: 1.1, atol: 0}\n")
    with pytest.raises(SystemExit, match="needs why"):
        portability.load_tolerances(path)
    path.write_text("ch.ipynb:\n  cell0: {factor: 0.5, atol: 0, why: x}\n")
    with pytest.raises(SystemExit, match="factor must be"):
        portability.load_tolerances(path)
    assert portability.load_tolerances(ROOT / "tests" / "book" / "portability.yml") is not None
