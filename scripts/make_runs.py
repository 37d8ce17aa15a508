"""Make the stored reference runs of chapters 5–7 (book/data/runs/), resumably: ``make runs``.

    .venv/bin/python scripts/make_runs.py [--dry-run] [--family F ...] [--jobs J] [--allow-dirty]

Every run is one call of the project's command line, ``python -m landscape_lib.train`` with the arguments
listed in :data:`FAMILIES`, on the full digits training split (120 images per class) at 8×8 pixels. It
trains in ``runs/reference/FAMILY/RUN/`` (checkpoint every epoch, not committed) and, when it is
complete, its metric rows and its provenance are stored in ``book/data/runs/FAMILY/RUN/`` as
``history.json`` and ``config.json`` (:mod:`landscape_lib.stored_runs`). Stopping (Ctrl-C, a killed
session) loses at most the epoch in progress: the next call resumes every unfinished run from its
checkpoint and skips the stored ones. Each sitting of a run is recorded (commit, epochs, versions,
machine, threads, seconds). ``--jobs 2`` trains two runs at a time, one thread each (this machine has two
cores); the thread count is part of each run's command, since it changes the round-off.

The protocol is modelled on Papyan, Han & Donoho (2020): no augmentation, weight decay, SGD with
momentum, the learning rate divided by 10 at one and two thirds of the epochs, trained far past zero
training error. Adapted to the 1,200 digits: batch 32 (38 steps per epoch, so that the 300 epochs are 11,400
steps) and weight decay 5e-3. ``docs/recipes.md`` compares every setting with the reference code.
"""

from __future__ import annotations

import argparse
import ctypes
import fcntl
import json
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
STORE = ROOT / "book" / "data" / "runs"
WORK = ROOT / "runs" / "reference"
SEEDS = (0, 1, 2)
EPOCHS = 300
#: Arguments shared by every stored run: the data, the protocol's schedule, one thread, metrics every 5 epochs.
COMMON = ("--dataset", "digits", "--resolution", "8", "--no-augment", "--device", "cpu", "--threads", "1",
          "--metrics-every", "5", "--width", "8")
_PAPYAN = ("--lr-milestones", str(EPOCHS // 3), str(2 * EPOCHS // 3), "--lr-decay", "0.1",
           "--epochs", str(EPOCHS))
_SGD = ("--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9", "--batch-size", "32",
        "--weight-decay", "5e-3") + _PAPYAN
_ADAM = ("--optimizer", "adam", "--lr", "1e-3", "--batch-size", "32", "--weight-decay", "5e-3") + _PAPYAN
LBFGS_EPOCHS = 60
_LBFGS = ("--optimizer", "lbfgs", "--lr", "0.1", "--batch-size", "1200", "--weight-decay", "5e-3",
          "--lbfgs-history", "10", "--lbfgs-max-iter", "20", "--lr-milestones", str(LBFGS_EPOCHS // 3),
          str(2 * LBFGS_EPOCHS // 3), "--lr-decay", "0.1", "--epochs", str(LBFGS_EPOCHS))
RANDOM_WIDTHS = (2, 4, 8, 16)
RANDOM_EPOCHS = 200
_RANDOM = ("--random-labels", "--optimizer", "sgd", "--lr", "0.01", "--momentum", "0.9", "--batch-size", "32",
           "--weight-decay", "1e-4", "--lr-milestones", str(RANDOM_EPOCHS * 3 // 4), "--lr-decay", "0.1",
           "--epochs", str(RANDOM_EPOCHS))


def _with_width(args: tuple, width: int) -> tuple:
    i = COMMON.index("--width")
    return COMMON[:i + 1] + (str(width),) + COMMON[i + 2:] + args


#: family → run name → the command-line arguments (without the seed).
FAMILIES = {
    "ch5-optimizers": {"sgd": COMMON + _SGD, "adam": COMMON + _ADAM, "lbfgs": COMMON + _LBFGS},
    "ch6-random-labels": {f"width{w}": _with_width(_RANDOM, w) for w in RANDOM_WIDTHS},
    # The learned classifier of chapter 7 is chapter 5's SGD run (the same command without --fixed-classifier).
    "ch7-fixed-classifier": {"learned-d10": COMMON + _SGD + ("--feature-dim", "10"),
                             "fixed-d64": COMMON + _SGD + ("--fixed-classifier",),
                             "fixed-d10": COMMON + _SGD + ("--fixed-classifier", "--feature-dim", "10")},
}


def plan(families=None) -> list:
    """``[(family, run, argv)]`` of every stored run (in the order they are made)."""
    chosen = families or list(FAMILIES)
    unknown = sorted(set(chosen) - set(FAMILIES))
    if unknown:
        raise SystemExit(f"error: unknown family {unknown}; the families are {list(FAMILIES)}")
    return [(family, f"{name}-seed{seed}", list(args) + ["--seed", str(seed)])
            for family in chosen for name, args in FAMILIES[family].items() for seed in SEEDS]


def _epochs(argv: list) -> int:
    return int(argv[argv.index("--epochs") + 1])


def _history(folder: Path) -> list:
    try:
        return json.loads((folder / "history.json").read_text())
    except (OSError, ValueError):
        return []


def status(family: str, run: str, argv: list) -> str:
    """``"stored"``, ``"at epoch E of N"`` (a checkpoint to resume) or ``"not started"``."""
    if (STORE / family / run / "config.json").is_file():
        return "stored"
    done = len(_history(WORK / family / run))
    if done and (WORK / family / run / "checkpoint.pt").is_file():
        return f"at epoch {done} of {_epochs(argv)}"
    return "not started"


def command(argv: list, out: Path) -> list:
    return [sys.executable, "-m", "landscape_lib.train", *argv, "--output-dir", str(out), "--no-progress"]


def _store(family: str, run: str, argv: list, work: Path, segments: list) -> None:
    from landscape_lib.stored_runs import compact_history, history_columns
    from landscape_lib.train import load_checkpoint

    config = load_checkpoint(work / "checkpoint.pt")["config"]
    record = {"argv": argv, "command": shlex.join(["python", "-m", "landscape_lib.train", *argv]),
              "train_config": {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()},
              "segments": segments}
    dest = STORE / family / run
    dest.mkdir(parents=True, exist_ok=True)
    columns = history_columns(compact_history(_history(work)))
    (dest / "history.json").write_text(  # one column per line: small, and readable in a diff
        "{\n" + ",\n".join(f"{json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in columns.items())
        + "\n}\n")
    (dest / "config.json").write_text(json.dumps(record, indent=1) + "\n")


def training_modules() -> list[str]:
    """The files of ``landscape_lib`` that the training command imports (relative to the repository)."""
    # evaluate() imports the metric modules when it runs: import them too
    code = ("import sys, landscape_lib.train, landscape_lib.class_stats, landscape_lib.collapse; "
            "print('\\n'.join(sorted(m.__file__ for n, m in sys.modules.items() "
            "if n.startswith('landscape_lib') and getattr(m, '__file__', None))))")
    files = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    return [str(Path(f).resolve().relative_to(ROOT)) for f in files]


def changed_training_code(changes: list) -> list:
    """The uncommitted changes (paths) that touch a module the training imports."""
    return sorted(set(changes) & set(training_modules()))


def _interrupt_when_parent_dies() -> None:
    """In the child: SIGINT when make_runs dies (killed too), so the run saves its epoch and stops instead of
    training on unattended beside the next make_runs (Linux; elsewhere nothing)."""
    # A shell starts background jobs with SIGINT ignored, and Python then installs no KeyboardInterrupt
    # handler: restore the default, so that SIGINT (Ctrl-C, or the parent's death below) saves and stops.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGINT))  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


def train_one(family: str, run: str, argv: list) -> int:
    """Train (or resume) one run; store it when complete. Returns the command's exit status (75 when another
    process is training the run)."""
    work = WORK / family / run
    work.mkdir(parents=True, exist_ok=True)
    with open(work / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            print(f"\n{family}/{run}: another process is training it; skipped", flush=True)
            return 75
        return _train_locked(family, run, argv, work)


def _checkpoint_epoch(work: Path) -> int:
    """The epoch of the run's checkpoint (0 without one): where a resumed sitting starts."""
    from landscape_lib.train import load_checkpoint

    path = work / "checkpoint.pt"
    return int(load_checkpoint(path)["epoch"]) if path.is_file() else 0


def _train_locked(family: str, run: str, argv: list, work: Path) -> int:
    import numerics_env
    import provenance
    import torch

    start = _checkpoint_epoch(work)
    leftovers = any((work / name).exists() for name in ("history.json", "config.json"))
    resume = ["--resume"] if start else (["--overwrite"] if leftovers else [])
    segments_file = work / "segments.json"
    segments = json.loads(segments_file.read_text()) if segments_file.is_file() and start else []
    # A sitting is recorded when it starts; one that was killed (no last epoch) ended at the checkpoint.
    if segments and segments[-1]["last_epoch"] is None:
        segments[-1].update(last_epoch=start, ended="killed")
        if segments[-1]["first_epoch"] > start:
            segments.pop()
    changes = provenance.library_changes()
    segment = {"commit": provenance.library_commit()[0], "uncommitted": changes,
               "uncommitted_training_code": changed_training_code(changes), "first_epoch": start + 1,
               "last_epoch": None, "seconds": None, "torch": torch.__version__,
               "numpy": __import__("numpy").__version__, **provenance.machine(),
               "threads": int(argv[argv.index("--threads") + 1]), "numerics": numerics_env.describe(),
               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    segments.append(segment)
    segments_file.write_text(json.dumps(segments, indent=1) + "\n")
    t0 = time.perf_counter()
    with open(work / "train.log", "a") as log:
        rc = subprocess.run(command(argv, work) + resume, cwd=ROOT, stdout=log, stderr=log,
                            preexec_fn=_interrupt_when_parent_dies).returncode
    last = _checkpoint_epoch(work)
    segment.update(last_epoch=last, seconds=round(time.perf_counter() - t0, 1),
                   finished=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    if last <= start:
        segments.pop()
    segments_file.write_text(json.dumps(segments, indent=1) + "\n")
    if rc == 0 and last == _epochs(argv):
        _store(family, run, argv, work, segments)
    return rc


def _monitor(runs: list, stop: threading.Event) -> None:
    """One progress bar over the epochs of all runs (read from the work folders' histories)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return
    total = sum(_epochs(a) for _, _, a in runs)

    def done():
        return sum(_epochs(a) if status(f, r, a) == "stored" else len(_history(WORK / f / r)) for f, r, a in runs)

    bar = tqdm(total=total, initial=done(), unit="epoch", file=sys.stderr, dynamic_ncols=True)
    while not stop.wait(5.0):
        bar.update(done() - bar.n)
    bar.update(done() - bar.n)
    bar.close()


def main(argv=None) -> int:
    import numerics_env

    numerics_env.ensure()
    import provenance

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="list every run, its command and its state")
    parser.add_argument("--family", nargs="+", choices=list(FAMILIES), help="only these families")
    parser.add_argument("--jobs", type=int, default=1, help="runs trained at a time (one thread each)")
    parser.add_argument("--allow-dirty", action="store_true",
                        help="train although modules the training imports have uncommitted changes (recorded)")
    args = parser.parse_args(argv)
    runs = plan(args.family)
    if args.dry_run:
        for family, run, a in runs:
            print(f"{family}/{run} [{status(family, run, a)}]\n    python -m landscape_lib.train {shlex.join(a)}")
        return 0
    if args.jobs < 1:
        parser.error(f"--jobs must be >= 1; got {args.jobs}")
    touched = changed_training_code(provenance.library_changes())
    if touched and not args.allow_dirty:
        print(f"error: the training code has uncommitted changes ({', '.join(touched)}), so the recorded commit "
              "would not be the code that trained; commit them first (or pass --allow-dirty; every run records "
              "the uncommitted files)", file=sys.stderr)
        return 2
    todo = [r for r in runs if status(*r) != "stored"]
    print(f"{len(runs) - len(todo)} of {len(runs)} runs stored; training {len(todo)} with {args.jobs} job(s) "
          f"(logs in {WORK.relative_to(ROOT)}/FAMILY/RUN/train.log)", flush=True)
    stop = threading.Event()
    monitor = threading.Thread(target=_monitor, args=(runs, stop), daemon=True)
    monitor.start()
    failed = []
    lock = threading.Lock()
    queue = list(todo)

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                family, run, a = queue.pop(0)
            rc = train_one(family, run, a)
            if rc != 0:
                failed.append((family, run, rc))
            print(f"\n{family}/{run}: {status(family, run, a)} (exit {rc})", flush=True)
            if rc == 130:  # interrupted: stop taking new runs
                queue.clear()

    threads = [threading.Thread(target=worker) for _ in range(min(args.jobs, max(1, len(todo))))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    except KeyboardInterrupt:
        queue.clear()
        for t in threads:
            t.join()
    stop.set()
    monitor.join()
    for family, run, rc in failed:
        print(f"failed: {family}/{run} (exit {rc}; see {WORK / family / run / 'train.log'})", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
