"""The training loop under faults: crafted and damaged checkpoints, resuming a GPU run, an existing run in the
output folder, Ctrl-C, kills during a write, NaN in the history, file modes, extending a run. Tiny networks."""

import dataclasses
import hashlib
import io
import json
import os
import stat

import pytest

torch = pytest.importorskip("torch")

import test_train  # noqa: E402
from test_train import _comparable, _one_thread  # noqa: E402, F401  (_one_thread: autouse fixture)

from landscape_lib import train as T  # noqa: E402
from landscape_lib.train import (  # noqa: E402
    CheckpointError,
    TrainingDiverged,
    TrainingInterrupted,
    load_checkpoint,
    main,
    train,
)

TINY = dataclasses.replace(test_train.TINY, epochs=3)
CLI_TINY = ["--dataset", "digits", "--width", "4", "--n-train-per-class", "5", "--n-test-per-class", "3",
            "--batch-size", "16", "--device", "cpu", "--eval-batch-size", "64", "--no-progress"]


def _with_header(payload: bytes, digest: str | None = None) -> bytes:
    digest = digest or hashlib.sha256(payload).hexdigest()
    return f"landscape_lib-checkpoint {T.CHECKPOINT_FORMAT} sha256 {digest}\n".encode() + payload


def _saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished 2-epoch run: (its folder, the raw bytes of its checkpoint, its history)."""
    out = tmp_path_factory.mktemp("finished")
    result = train(TINY, epochs=2, output_dir=out)
    return out, (out / "checkpoint.pt").read_bytes(), result.history


def _copy_run(finished, tmp_path, checkpoint: bytes | None = None):
    src, raw, _ = finished
    for name in ("history.json", "history.csv"):
        (tmp_path / name).write_bytes((src / name).read_bytes())
    (tmp_path / "checkpoint.pt").write_bytes(raw if checkpoint is None else checkpoint)
    return tmp_path / "checkpoint.pt"


# ------------------------------------------------------------------------------------------------------
# 1. a checkpoint cannot run code; damaged ones are refused with one error naming the file
# ------------------------------------------------------------------------------------------------------

class _RunsAShellCommand:
    """Unpickling this runs ``touch marker``: what a crafted checkpoint.pt did with weights_only=False."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_the_crafted_payload_really_runs_code_when_loaded_unsafely(tmp_path):
    marker = tmp_path / "marker"
    torch.load(io.BytesIO(_saved({"x": _RunsAShellCommand(marker)})), weights_only=False)
    assert marker.exists()                     # so the refusals below are refusals of a working exploit


@pytest.mark.parametrize("with_header", [False, True])
def test_a_crafted_checkpoint_is_refused_and_runs_nothing(finished, tmp_path, with_header, capsys):
    marker = tmp_path / "marker"
    state = load_checkpoint(finished[0] / "checkpoint.pt")
    state["history"] = _RunsAShellCommand(marker)          # hidden among the real entries
    payload = _saved(state)
    path = _copy_run(finished, tmp_path, _with_header(payload) if with_header else payload)
    with pytest.raises(CheckpointError, match=str(path)) as info:
        load_checkpoint(path)
    assert ("weights_only" in str(info.value)) if with_header else ("no checksum" in str(info.value))
    with pytest.raises(CheckpointError, match=str(path)):
        train(TINY, epochs=2, output_dir=tmp_path, resume=True)
    assert main(CLI_TINY + ["--output-dir", str(tmp_path), "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot use checkpoint") and str(path) in err and len(err.splitlines()) == 1
    assert not marker.exists()


def _damaged(raw: bytes):
    header_end = raw.index(b"\n") + 1
    middle = header_end + (len(raw) - header_end) // 2
    flipped = bytearray(raw)
    flipped[middle] ^= 0x01
    wrong_digest = bytearray(raw)
    wrong_digest[header_end - 5] = ord("0") if raw[header_end - 5] != ord("0") else ord("1")
    return {
        "empty": (b"", "empty"),
        "truncated": (raw[: len(raw) // 2], "checksum"),
        "truncated in the header": (raw[:20], "not a landscape_lib checkpoint"),
        "garbage": (os.urandom(4096), "not a landscape_lib checkpoint"),
        "a flipped byte": (bytes(flipped), "checksum"),
        "a flipped byte in the checksum": (bytes(wrong_digest), "checksum"),
        "a plain torch.save": (raw[header_end:], "no checksum"),
        "another format": (raw.replace(b"checkpoint 2 ", b"checkpoint 9 ", 1), "format"),
        "a checksummed payload that is not a torch file": (_with_header(b"not a zip"), "refused"),
    }


@pytest.mark.parametrize("case", list(_damaged(b"landscape_lib-checkpoint 2 sha256 x\nPK").keys()))
def test_damaged_checkpoints_are_refused_naming_the_file(finished, tmp_path, case):
    data, why = _damaged(finished[1])[case]
    path = _copy_run(finished, tmp_path, data)
    with pytest.raises(CheckpointError, match=why) as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)
    with pytest.raises(CheckpointError, match=why):
        train(TINY, epochs=2, output_dir=tmp_path, resume=True)


@pytest.mark.parametrize(("change", "why"), [
    (lambda s: s.pop("rng"), "no rng"),
    (lambda s: [s.pop("model"), s.pop("optimizer")], "no model, optimizer"),
    (lambda s: s.update(history=s["history"][:1]), "epoch and history disagree"),
    (lambda s: s.update(rng={"torch": 1}), "random states"),
    (lambda s: s.update(config=[1, 2]), "config is not a dict"),
    (lambda s: s["model"].pop("fc.weight"), "does not fit this model"),
])
def test_checkpoints_with_missing_or_wrong_entries_are_refused(finished, tmp_path, change, why):
    state = load_checkpoint(finished[0] / "checkpoint.pt")
    change(state)
    path = _copy_run(finished, tmp_path, _with_header(_saved(state)))
    with pytest.raises(CheckpointError, match=why) as info:
        train(TINY, epochs=3, output_dir=tmp_path, resume=True)
    assert str(path) in str(info.value)


def test_unreadable_checkpoint_names_the_file(tmp_path):
    (tmp_path / "checkpoint.pt").mkdir()
    with pytest.raises(CheckpointError, match="cannot be read") as info:
        load_checkpoint(tmp_path / "checkpoint.pt")
    assert str(tmp_path / "checkpoint.pt") in str(info.value)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "lbfgs"])
def test_every_optimizer_state_loads_safely(tmp_path, optimizer, monkeypatch):
    # weights_only=True must accept what train writes for each optimizer; the loader is called safely.
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    train(TINY, optimizer=optimizer, epochs=1, lbfgs_max_iter=2, output_dir=tmp_path)
    monkeypatch.setattr(torch, "load", spy)
    state = load_checkpoint(tmp_path / "checkpoint.pt")
    assert calls == [{"map_location": "cpu", "weights_only": True}]
    assert state["epoch"] == 1 and state["config"]["optimizer"] == optimizer


# ------------------------------------------------------------------------------------------------------
# 2. resuming a run whose tensors were saved on a GPU
# ------------------------------------------------------------------------------------------------------

def test_a_checkpoint_saved_on_cuda_resumes_from_cpu_tensors(tmp_path, monkeypatch):
    full = train(TINY, output_dir=tmp_path / "full")
    train(TINY, output_dir=tmp_path / "split", until_epoch=1)
    path = tmp_path / "split" / "checkpoint.pt"
    state = load_checkpoint(path)
    # Rewrite it as a CUDA run writes it: every storage tagged "cuda:0" (the RNG states included).
    with monkeypatch.context() as m:
        m.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        path.write_bytes(T._checkpoint_bytes(state))
    payload = path.read_bytes().split(b"\n", 1)[1]
    with pytest.raises(RuntimeError, match="CUDA"):                 # the simulation is real: it claims CUDA
        torch.load(io.BytesIO(payload), weights_only=True)
    loaded = load_checkpoint(path)
    tensors = [t for t in loaded["model"].values()] + [loaded["rng"]["torch"], loaded["rng"]["generator"]]
    assert all(t.device.type == "cpu" for t in tensors)
    resumed = train(TINY, output_dir=tmp_path / "split", resume=True)
    assert _comparable(resumed.history) == _comparable(full.history)


def test_rng_states_reach_torch_as_cpu_byte_tensors_on_cuda(monkeypatch):
    seen = []
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda state, device: seen.append((state, device)))
    monkeypatch.setattr(torch, "set_rng_state", lambda state: seen.append((state, "torch")))
    generator = torch.Generator()
    states = {"device_type": "cuda", "torch": torch.get_rng_state(), "generator": generator.get_state(),
              "cuda": torch.zeros(16, dtype=torch.uint8)}
    T._set_rng_states(states, generator, torch.device("cuda"))
    assert [d for _, d in seen] == ["torch", torch.device("cuda")]
    assert all(s.device.type == "cpu" and s.dtype == torch.uint8 for s, _ in seen)
    with pytest.raises(ValueError, match="random states are those of a cuda run"):
        T._set_rng_states(states, generator, torch.device("cpu"))


# ------------------------------------------------------------------------------------------------------
# 3. an existing run is never replaced silently; the folder is checked before training
# ------------------------------------------------------------------------------------------------------

def _no_data_loading(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the folder must be checked before the data is loaded")
    monkeypatch.setattr(T, "load_splits", refuse)


def test_an_existing_run_is_refused_unless_resume_or_overwrite(finished, tmp_path, monkeypatch, capsys):
    _copy_run(finished, tmp_path)
    before = (tmp_path / "history.json").read_bytes()
    with monkeypatch.context() as m:
        _no_data_loading(m)
        with pytest.raises(ValueError, match=r"already holds a run .*2 epoch\(s\).*resume=True.*overwrite=True"):
            train(TINY, epochs=1, output_dir=tmp_path)
        assert main(CLI_TINY + ["--epochs", "1", "--output-dir", str(tmp_path)]) == 2
        assert "--overwrite" in capsys.readouterr().err
        with pytest.raises(ValueError, match="contradict"):
            train(TINY, output_dir=tmp_path, resume=True, overwrite=True)
    assert (tmp_path / "history.json").read_bytes() == before
    result = train(TINY, epochs=1, output_dir=tmp_path, overwrite=True)
    assert len(result.history) == 1 and len(json.loads((tmp_path / "history.json").read_text())) == 1
    assert load_checkpoint(tmp_path / "checkpoint.pt")["epoch"] == 1


def test_resume_without_a_checkpoint_but_with_a_history_is_refused(finished, tmp_path):
    _copy_run(finished, tmp_path)
    (tmp_path / "checkpoint.pt").unlink()
    with pytest.raises(ValueError, match="holds history.json, history.csv but no checkpoint.pt"):
        train(TINY, output_dir=tmp_path, resume=True)


def test_output_dir_that_is_a_file_or_under_a_file_fails_early(tmp_path, monkeypatch):
    _no_data_loading(monkeypatch)
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(ValueError, match="is not a folder"):
        train(TINY, output_dir=afile)
    with pytest.raises(ValueError, match="not a writable folder"):
        train(TINY, output_dir=afile / "run")


def test_output_dir_that_cannot_be_written_fails_early(tmp_path, monkeypatch):
    _no_data_loading(monkeypatch)
    real = T._temporary_name

    def read_only(path):
        if path.name.startswith(".write-test"):
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(T, "_temporary_name", read_only)
    with pytest.raises(ValueError, match="not a writable folder .*Permission denied"):
        train(TINY, output_dir=tmp_path / "run")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_output_dir_fails_early(tmp_path, monkeypatch):
    _no_data_loading(monkeypatch)
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(ValueError, match="not a writable folder"):
            train(TINY, output_dir=tmp_path)
    finally:
        tmp_path.chmod(0o755)


# ------------------------------------------------------------------------------------------------------
# 4. Ctrl-C, kills during writes, NaN, file modes, checkpoint every epoch
# ------------------------------------------------------------------------------------------------------

def _interrupt_at_call(monkeypatch, n: int):
    real = T.train_epoch
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(T, "train_epoch", interrupted)


@pytest.mark.parametrize("checkpoint_every", [1, 0])
def test_ctrl_c_saves_the_last_finished_epoch_and_resume_continues(tmp_path, monkeypatch, checkpoint_every):
    full = train(TINY, output_dir=tmp_path / "full")
    with monkeypatch.context() as m:
        _interrupt_at_call(m, 3)
        with pytest.raises(TrainingInterrupted, match="after 2 finished epoch.*epoch 2 is in") as info:
            train(TINY, output_dir=tmp_path / "cut", checkpoint_every=checkpoint_every)
    assert isinstance(info.value, KeyboardInterrupt) and info.value.epoch == 2
    assert load_checkpoint(tmp_path / "cut" / "checkpoint.pt")["epoch"] == 2
    resumed = train(TINY, output_dir=tmp_path / "cut", resume=True)
    assert _comparable(resumed.history) == _comparable(full.history)


def test_ctrl_c_on_the_command_line_prints_one_line(tmp_path, monkeypatch, capsys):
    _interrupt_at_call(monkeypatch, 2)
    code = main(CLI_TINY + ["--epochs", "3", "--output-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 130 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("interrupted: interrupted after 1 finished epoch(s): the checkpoint of epoch 1")
    _interrupt_at_call(monkeypatch, 1)
    assert main(CLI_TINY + ["--epochs", "3", "--output-dir", str(tmp_path / "new")]) == 130
    assert "no epoch had finished, nothing was saved" in capsys.readouterr().err


def test_temporary_files_of_killed_writes_are_removed(finished, tmp_path):
    _copy_run(finished, tmp_path)
    leftovers = [".checkpoint.pt.1a2b3c.tmp", ".history.json.abc.tmp", ".history.csv.tmp1"]
    for name in leftovers:
        (tmp_path / name).write_bytes(b"half a file")
    (tmp_path / "notes.txt").write_text("mine")
    train(TINY, output_dir=tmp_path, resume=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt", "config.json", "history.csv",
                                                          "history.json", "notes.txt"]


def test_a_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "checkpoint.pt"
    target.write_bytes(b"old")
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    T._atomic_write(target, b"new")
    assert target.read_bytes() == b"new" and events[:2] == ["fsync", "replace"]     # on disk before the rename

    def killed(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", killed)
    with pytest.raises(OSError):
        T._atomic_write(target, b"newer")
    assert target.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


def _strict_json(text: str):
    def refuse(name):
        raise ValueError(f"not standard JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def test_history_json_writes_null_for_nan(tmp_path):
    with pytest.raises(TrainingDiverged):
        train(TINY, lr=1e30, output_dir=tmp_path)
    rows = _strict_json((tmp_path / "history.json").read_text())
    assert rows[0]["epoch"] == 1 and rows[0]["train_loss_running"] is None
    T.write_history([{"epoch": 1, "nc1": float("nan"), "nc4": float("inf"), "train_acc": 0.5}], tmp_path)
    rows = _strict_json((tmp_path / "history.json").read_text())
    assert rows == [{"epoch": 1, "nc1": None, "nc4": None, "train_acc": 0.5}]
    assert (tmp_path / "history.csv").read_text().splitlines()[1].split(",")[HISTORY_INDEX["train_acc"]] == "0.5"


HISTORY_INDEX = {k: i for i, k in enumerate(T.HISTORY_KEYS)}


def test_divergence_keeps_the_last_good_epoch(tmp_path, monkeypatch):
    real = T.train_epoch
    calls = []

    def explodes_at_2(*args, **kwargs):
        calls.append(1)
        loss, correct, n = real(*args, **kwargs)
        return (loss * float("nan") if len(calls) == 2 else loss), correct, n

    monkeypatch.setattr(T, "train_epoch", explodes_at_2)
    with pytest.raises(TrainingDiverged, match="epoch 2.*checkpoint of epoch 1 is kept"):
        train(TINY, output_dir=tmp_path, checkpoint_every=0)
    assert load_checkpoint(tmp_path / "checkpoint.pt")["epoch"] == 1


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_files_get_the_normal_umask_permissions(tmp_path, umask):
    old = os.umask(umask)
    try:
        train(TINY, epochs=1, output_dir=tmp_path)
    finally:
        os.umask(old)
    for name in T.RUN_FILES:
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~umask, name


def test_checkpoint_every_epoch_by_default(tmp_path, monkeypatch):
    written = []
    real = T._checkpoint_bytes
    monkeypatch.setattr(T, "_checkpoint_bytes", lambda state: (written.append(state["epoch"]), real(state))[1])
    train(TINY, output_dir=tmp_path)
    assert written == [1, 2, 3]
    assert T.build_parser().parse_args([]).__dict__ == {}             # nothing given: main fills the defaults
    assert T._RUN_OPTIONS["checkpoint_every"] == 1


# ------------------------------------------------------------------------------------------------------
# extending a run; what may change on resume
# ------------------------------------------------------------------------------------------------------

def test_epochs_may_grow_on_resume_and_the_schedule_is_kept(tmp_path, capsys):
    full = train(TINY, epochs=3, output_dir=tmp_path / "full")
    train(TINY, epochs=2, output_dir=tmp_path / "grow")
    resumed = train(TINY, epochs=3, output_dir=tmp_path / "grow", resume=True)
    assert _comparable(resumed.history) == _comparable(full.history)
    assert resumed.config.lr_decay_every == 10
    with pytest.raises(ValueError, match="it is at epoch 3, beyond epochs=2"):
        train(TINY, epochs=2, output_dir=tmp_path / "grow", resume=True)
    with pytest.raises(ValueError, match=r"until_epoch must lie in 4\.\.5"):
        train(TINY, epochs=5, output_dir=tmp_path / "grow", resume=True, until_epoch=3)
    # The command line: --resume takes the checkpoint's configuration, the options given change it.
    run = tmp_path / "cli"
    assert main(CLI_TINY + ["--epochs", "2", "--lr-decay-every", "1", "--output-dir", str(run)]) == 0
    assert main(["--output-dir", str(run), "--resume", "--epochs", "4", "--no-progress"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    history = json.loads((run / "history.json").read_text())
    assert summary["epoch"] == 4 and [r["epoch"] for r in history] == [1, 2, 3, 4]
    assert [r["lr"] for r in history] == pytest.approx([0.05, 0.01, 0.002, 0.0004])     # its schedule


def test_device_and_measurement_fields_may_change_on_resume_the_experiment_may_not(finished, tmp_path):
    _copy_run(finished, tmp_path)
    resumed = train(TINY, output_dir=tmp_path, resume=True, metrics_every=2, eval_batch_size=32, device="auto")
    assert len(resumed.history) == 3
    for change in (dict(seed=1), dict(width=8), dict(augment=False), dict(lr_decay_every=2)):
        with pytest.raises(ValueError, match=f"configuration differs.*{list(change)[0]}"):
            train(dataclasses.replace(TINY, **change), output_dir=tmp_path, resume=True)
