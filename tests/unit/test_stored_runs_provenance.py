"""Provenance of the stored reference runs (book/data/runs, made by `make runs`): every stored run loads and
says how it was made, and for each family the first epochs re-run from the stored command reproduce the
stored history to its stored precision (in the pinned numerical environment; elsewhere to 1 %)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from landscape_lib import stored_runs

ROOT = Path(__file__).resolve().parents[2]
STORE = ROOT / "book" / "data" / "runs"
sys.path.insert(0, str(ROOT / "scripts"))
import make_runs  # noqa: E402

FAMILIES = sorted(p.name for p in STORE.iterdir() if p.is_dir()) if STORE.is_dir() else []
#: One run per setting whose first epochs are re-run (seed 0 of each optimizer, width and classifier).
REPLAYED = [(family, run) for family in FAMILIES for run in sorted(os.listdir(STORE / family))
            if run.endswith("-seed0")]


def test_there_are_stored_runs():
    assert FAMILIES, f"no stored runs in {STORE}: make them with `make runs`"


@pytest.mark.parametrize("family", FAMILIES)
def test_stored_runs_load_and_match_the_plan(family):
    runs = stored_runs.load_family(STORE / family)
    planned = {run: argv for fam, run, argv in make_runs.plan([family])}
    for name, run in runs.items():
        assert name in planned, f"{family}/{name} is stored but not in scripts/make_runs.py"
        assert list(run.argv) == planned[name], f"{family}/{name} was made by another command"
        assert run.complete, f"{family}/{name} stops at epoch {run.history[-1]['epoch']}"
        assert run.config["seed"] == int(planned[name][planned[name].index("--seed") + 1])
        epochs = [(s["first_epoch"], s["last_epoch"]) for s in run.segments]
        assert epochs[0][0] == 1 and epochs[-1][1] == run.config["epochs"], f"{family}/{name}: {epochs}"
        assert all(b[0] == a[1] + 1 for a, b in zip(epochs, epochs[1:], strict=False)), \
            f"{family}/{name}: its sittings do not cover every epoch once: {epochs}"
        assert all(len(s["commit"]) == 40 and not s["uncommitted_training_code"] for s in run.segments)


def _replay(argv: list, epochs: int, out: Path) -> list:
    cmd = [sys.executable, "-m", "landscape_lib.train", *argv, "--until-epoch", str(epochs), "--output-dir",
           str(out), "--no-progress", "--checkpoint-every", "0"]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    return stored_runs.compact_history(json.loads((out / "history.json").read_text()))


@pytest.mark.parametrize("family,run", REPLAYED, ids=[f"{f}/{r}" for f, r in REPLAYED])
def test_first_epochs_reproduce_the_stored_history(family, run, tmp_path):
    stored = stored_runs.load_run(STORE / family / run)
    first = stored.history[0]["epoch"]           # the first epoch with metrics (metrics_every)
    replayed = _replay(list(stored.argv), first, tmp_path)
    assert [row["epoch"] for row in replayed] == [first]
    expected = stored.history[0]
    assert set(replayed[0]) == set(expected)
    if os.environ.get("LANDSCAPES_NUMERICS") == "pinned":
        assert replayed[0] == expected, "the re-run differs from the stored history at its stored precision"
    else:  # other kernels change the round-off of training
        for key, value in expected.items():
            if value is not None:
                assert replayed[0][key] == pytest.approx(value, rel=1e-2, abs=1e-3), key


def test_dry_run_lists_every_run_with_its_command():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_runs.py"), "--dry-run"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    planned = make_runs.plan()
    assert len(planned) == 30
    for family, run, argv in planned:
        line = f"{family}/{run} ["
        assert line in out, f"{family}/{run} is not listed"
        after = out[out.index(line):].splitlines()[1].strip()
        assert after == "python -m landscape_lib.train " + " ".join(argv)


def test_make_runs_records_a_killed_sitting_and_resumes_it(tmp_path, monkeypatch):
    """A sitting killed after epoch 2 (its segment has no last epoch) is closed at the checkpoint's epoch, and
    the next sitting trains epochs 3-4 and stores the run."""
    pytest.importorskip("torch")
    from landscape_lib.train import main

    argv = ["--dataset", "digits", "--resolution", "8", "--width", "2", "--n-train-per-class", "3",
            "--n-test-per-class", "2", "--epochs", "4", "--metrics-every", "2", "--no-augment", "--device", "cpu",
            "--threads", "1", "--seed", "0"]
    monkeypatch.setattr(make_runs, "WORK", tmp_path / "work")
    monkeypatch.setattr(make_runs, "STORE", tmp_path / "store")
    work = tmp_path / "work" / "fam" / "run-seed0"
    assert main(argv + ["--output-dir", str(work), "--until-epoch", "2", "--no-progress"]) == 0
    killed = {"commit": "0" * 40, "first_epoch": 1, "last_epoch": None, "started": "then", "torch": "2",
              "python": "3", "cpu": "x", "threads": 1}
    (work / "segments.json").write_text(json.dumps([killed]))
    assert make_runs.status("fam", "run-seed0", argv) == "at epoch 2 of 4"
    assert make_runs.train_one("fam", "run-seed0", argv) == 0
    run = stored_runs.load_run(tmp_path / "store" / "fam" / "run-seed0")
    assert [(s["first_epoch"], s["last_epoch"]) for s in run.segments] == [(1, 2), (3, 4)]
    assert run.segments[0]["ended"] == "killed" and run.complete and list(run.argv) == argv
    assert [row["epoch"] for row in run.history] == [2, 4]
    assert make_runs.status("fam", "run-seed0", argv) == "stored"
