"""Stored reference runs of the deep neural-collapse chapters (5–7): read, check and summarize them.

A stored run is a folder holding two JSON files, written by ``scripts/make_runs.py`` (``make runs``), or
by the command line ``python -m landscape_lib.train --output-dir FOLDER`` for a run of one's own (then
``config.json`` has no ``segments`` and ``history.json`` every epoch; rows without metrics are skipped
when it is read, so a reader's CIFAR-10 run on a GPU drops into the same figures):

* ``config.json`` — the provenance: ``argv`` (the exact command-line arguments of
  ``python -m landscape_lib.train``), ``train_config`` (the resolved :class:`~landscape_lib.train.TrainConfig`
  as a dict), and ``segments`` (one entry per sitting that trained part of it: library commit, epochs,
  torch/numpy/Python versions, machine, numerical environment, threads, seconds);
* ``history.json`` — the training history on the epochs with metrics (every ``metrics_every`` epochs and
  the last) by column, ``{"epoch": [...], "nc1": [...], ...}``, numbers rounded to :data:`STORED_DIGITS`
  significant digits (:func:`history_columns`; a list of rows, as the command line writes, is read too).

Runs are grouped into *families* (one folder each: a chapter's experiment); the runs of a family that
differ only in their seed form a *group*, drawn as a band (:func:`seed_band`). Only ``json`` and ``numpy``
are used here: the chapters draw stored runs without torch, and a stored file cannot run code (JSON holds
data only; every field is checked when it is read).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["STORED_DIGITS", "StoredRun", "load_run", "load_family", "seed_groups", "seed_band", "final_values",
           "round_significant", "compact_history", "history_columns"]

#: Significant digits of the numbers in a stored ``history.json`` (the provenance test compares to these).
STORED_DIGITS = 6
_CONFIG_KEYS = ("argv", "train_config")
_SEGMENT_KEYS = ("commit", "first_epoch", "last_epoch", "torch", "python", "cpu", "threads")


@dataclass(frozen=True)
class StoredRun:
    """One stored run.

    Attributes
    ----------
    name : str
        The run's folder name (e.g. ``"sgd-seed0"``).
    family : str
        The family's folder name (e.g. ``"ch5-optimizers"``).
    config : dict
        The resolved training configuration (``train_config`` of ``config.json``).
    argv : tuple of str
        The command-line arguments that produced it (empty for a run started from Python).
    segments : tuple of dict
        Provenance of each sitting (commit, epochs, versions, machine, threads, seconds); empty for a run
        not made by ``make runs``.
    history : tuple of dict
        Rows with metrics, in epoch order.
    """

    name: str
    family: str
    config: dict
    argv: tuple
    segments: tuple
    history: tuple

    @property
    def seed(self) -> int:
        return int(self.config["seed"])

    @property
    def final(self) -> dict:
        """The last stored row."""
        return dict(self.history[-1])

    @property
    def complete(self) -> bool:
        """Whether the history reaches the configured number of epochs."""
        return int(self.history[-1]["epoch"]) == int(self.config["epochs"])


def _fail(path: Path, why: str):
    raise ValueError(f"stored run {path}: {why}")


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        _fail(path.parent, f"{path.name} is missing")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        _fail(path.parent, f"{path.name} is not readable JSON ({exc})")


def _rows(columns: dict, path: Path) -> list:
    lengths = {len(v) if isinstance(v, list) else -1 for v in columns.values()}
    if "epoch" not in columns or len(lengths) != 1 or -1 in lengths:
        _fail(path, "history.json by column must map 'epoch' and every other column to lists of one length")
    keys = list(columns)
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _check_history(rows, path: Path) -> tuple:
    if isinstance(rows, dict):
        rows = _rows(rows, path)
    if not isinstance(rows, list) or not rows:
        _fail(path, "history.json must be a non-empty list of rows or an object of columns")
    last = 0
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not isinstance(row.get("epoch"), int) or row["epoch"] <= last:
            _fail(path, f"history.json row {i} must be an object with an integer 'epoch' after {last}")
        for key, value in row.items():
            if not isinstance(key, str) or not (value is None or isinstance(value, (int, float))) \
                    or isinstance(value, bool):
                _fail(path, f"history.json row {i}: {key!r} must be a number or null; got {value!r}")
        last = row["epoch"]
    return tuple(rows)


def load_run(folder) -> StoredRun:
    """Read and check one stored run.

    Parameters
    ----------
    folder : str or Path
        Holds ``config.json`` and ``history.json``.

    Returns
    -------
    StoredRun

    Raises
    ------
    ValueError
        Naming the folder and what is wrong: a missing or unreadable file, a missing key, a field of the
        wrong type, epochs out of order, a history that runs past the configured epochs.
    """
    path = Path(folder)
    if not path.is_dir():
        _fail(path, "not a folder (expected one holding config.json and history.json)")
    config = _read_json(path / "config.json")
    if not isinstance(config, dict) or any(k not in config for k in _CONFIG_KEYS):
        _fail(path, f"config.json must be an object with the keys {list(_CONFIG_KEYS)}")
    argv, train_config = (config[k] for k in _CONFIG_KEYS)
    segments = config.get("segments", [])
    argv = [] if argv is None else argv
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        _fail(path, "config.json 'argv' must be a list of strings (the command-line arguments) or null")
    if not isinstance(train_config, dict) or not all(k in train_config for k in ("seed", "epochs", "optimizer")):
        _fail(path, "config.json 'train_config' must be the training configuration (seed, epochs, optimizer, ...)")
    if not isinstance(segments, list) or not all(
            isinstance(s, dict) and all(k in s for k in _SEGMENT_KEYS) for s in segments):
        _fail(path, f"config.json 'segments' must be a list of objects with {list(_SEGMENT_KEYS)}")
    history = _check_history(_read_json(path / "history.json"), path)
    history = tuple(row for row in history if row.get("nc1") is not None)  # a full history: its metric rows
    if not history:
        _fail(path, "history.json has no row with metrics yet")
    if history[-1]["epoch"] > train_config["epochs"]:
        _fail(path, f"history runs to epoch {history[-1]['epoch']}, past epochs={train_config['epochs']}")
    return StoredRun(path.name, path.parent.name, train_config, tuple(argv), tuple(segments), history)


def load_family(folder) -> dict:
    """All stored runs in a family folder, by run name (sorted).

    Raises ``ValueError`` when the folder is missing or holds no run (with the command that makes them).
    """
    path = Path(folder)
    runs = sorted(p for p in path.iterdir() if p.is_dir()) if path.is_dir() else []
    if not runs:
        raise ValueError(f"no stored runs in {path}; make them with `make runs` (scripts/make_runs.py)")
    return {p.name: load_run(p) for p in runs}


def seed_groups(runs: Mapping[str, StoredRun], label) -> dict:
    """Group runs by a label, e.g. ``lambda run: run.config["optimizer"]``: ``{label: [histories...]}``.

    Runs in one group must differ only in their seed (checked), so that a group's spread is the seeds'.
    """
    groups: dict = {}
    settings: dict = {}
    for run in runs.values():
        key = label(run)
        rest = {k: v for k, v in run.config.items() if k != "seed"}
        if settings.setdefault(key, rest) != rest:
            differ = sorted(k for k in rest if rest[k] != settings[key].get(k))
            raise ValueError(f"runs labelled {key!r} differ in more than the seed: {differ}")
        groups.setdefault(key, []).append(list(run.history))
    return groups


def seed_band(histories: Sequence[Sequence[Mapping]], metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Values of one metric over the seeds, on the epochs every run measured.

    Parameters
    ----------
    histories : sequence of S histories
    metric : str
        A history column.

    Returns
    -------
    epochs : ndarray of shape (E,), int
    values : ndarray of shape (S, E), float
        ``nan`` where a run recorded ``null``.
    """
    if not histories:
        raise ValueError("histories must hold at least one run")
    by_epoch = [{row["epoch"]: row.get(metric) for row in h} for h in histories]
    epochs = sorted(set.intersection(*(set(d) for d in by_epoch)))
    if not epochs:
        raise ValueError(f"the runs share no epoch with a measurement of {metric!r}")
    values = np.array([[np.nan if d[e] is None else float(d[e]) for e in epochs] for d in by_epoch])
    return np.asarray(epochs), values


def final_values(histories: Sequence[Sequence[Mapping]], metric: str) -> np.ndarray:
    """The last stored value of ``metric`` of each run, shape ``(S,)``."""
    return np.array([np.nan if h[-1].get(metric) is None else float(h[-1][metric]) for h in histories])


def round_significant(value, digits: int = STORED_DIGITS):
    """``value`` rounded to ``digits`` significant digits (ints, ``None`` and non-finite floats as they are:
    the latter become ``None`` in JSON)."""
    if value is None or isinstance(value, (bool, int)):
        return value
    value = float(value)
    if not math.isfinite(value):
        return None
    return float(f"{value:.{digits - 1}e}")


def compact_history(history: Sequence[Mapping], *, drop=("seconds",)) -> list:
    """The rows of a full training history that carry metrics, rounded for storage.

    Rows without metrics (``nc1`` is ``None``) are left out; numbers are rounded to :data:`STORED_DIGITS`
    significant digits; the columns in ``drop`` (wall-clock time, which no re-run reproduces) removed.
    """
    return [{k: round_significant(v) for k, v in row.items() if k not in drop}
            for row in history if row.get("nc1") is not None]


def history_columns(rows: Sequence[Mapping]) -> dict:
    """Rows (dicts with the same keys) as columns, ``{key: [value per row]}``: the stored ``history.json``."""
    if not rows:
        raise ValueError("rows must hold at least one row")
    keys = list(rows[0])
    if any(list(row) != keys for row in rows):
        raise ValueError("every row must have the same keys in the same order")
    return {k: [row[k] for row in rows] for k in keys}
