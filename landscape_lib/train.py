"""Training loop of the deep neural-collapse chapters (5–7), with NC metrics per epoch and a command line.

:func:`train` trains a CIFAR ResNet (:mod:`landscape_lib.nets`) on a data set of :mod:`landscape_lib.data`
with SGD, Adam or L-BFGS and the schedules of the paper's public code (Zhu et al. 2021; chapter 5 lists them),
and every ``metrics_every`` epochs measures, on the training set in eval mode without augmentation:

* NC1–NC4 and the equinorm/equiangularity measures of :mod:`landscape_lib.collapse`, from the streaming
  statistics of :mod:`landscape_lib.class_stats` (forward in the training precision, features in float32,
  float64 accumulation on the device, NC4 counted on the device);
* train and test accuracy and loss.

Each epoch appends one row to the history, written as ``history.json`` (non-finite numbers as ``null``)
and ``history.csv`` in ``output_dir``. A checkpoint is written after every epoch by default (atomically:
a temporary file, flushed to disk, renamed), with a SHA-256 checksum of its contents; ``resume=True``
continues from it with the history and every random state intact, so a resumed CPU run reproduces an
uninterrupted one. Checkpoints are read with ``torch.load(weights_only=True)`` onto the CPU: a checkpoint
cannot run code, and a damaged one is refused with :class:`CheckpointError`. An existing run in
``output_dir`` is never replaced silently (``resume`` or ``overwrite``). Ctrl-C saves the last finished
epoch and raises :class:`TrainingInterrupted`. A non-finite or exploding loss stops the run with
:class:`TrainingDiverged`. On CUDA the loop uses bf16 autocast and channels-last, keeps the data on the
device (batched augmentation) and never synchronizes with the host inside an epoch; with ``compile`` every
batch has the same shape (the short last batch of an epoch is left out), so the model compiles once.

Command line (progress bar on)::

    python -m landscape_lib.train --dataset cifar10 --download --optimizer sgd --epochs 200 \\
        --device auto --output-dir runs/sgd
    python -m landscape_lib.train --output-dir runs/sgd --resume --epochs 300     # continue, longer
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import io
import json
import math
import os
import re
import secrets
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from ._validation import check_scalar
from .data import DATASETS, DeviceDataset, ImageData, _check_bool, check_resolution, dataset_key, load_splits
from .nets import MODELS, STEMS, CifarResNet, build_model

__all__ = ["TrainConfig", "TrainResult", "TrainingDiverged", "TrainingInterrupted", "CheckpointError", "OPTIMIZERS",
           "paper_defaults", "default_lr_decay_every", "train", "train_epoch", "evaluate", "extract_features",
           "make_optimizer", "resolve_device", "write_history", "load_checkpoint", "build_parser", "main"]

#: The optimizers :func:`train` accepts (``optimizer=``).
OPTIMIZERS = ("sgd", "adam", "lbfgs")
#: Columns of every history row that come from :class:`landscape_lib.collapse.CollapseMetrics`.
NC_KEYS = ("nc1", "nc2_classifier", "nc2_means", "nc3_ufm", "nc3_papyan", "nc4", "equinorm_classifier",
           "equinorm_means", "equiangularity_classifier", "equiangularity_means", "maximal_angle_classifier",
           "maximal_angle_means")
HISTORY_KEYS = ("epoch", "lr", "train_loss_running", "train_acc_running", "train_loss", "train_acc",
                "test_loss", "test_acc") + NC_KEYS + ("seconds",)
#: The checkpoint's file name in ``output_dir``, and the files that make up a run there.
CHECKPOINT_NAME = "checkpoint.pt"
RUN_FILES = (CHECKPOINT_NAME, "history.json", "history.csv")
#: Version of the checkpoint layout: a header line ``landscape_lib-checkpoint <format> sha256 <hex>`` and then
#: the bytes of ``torch.save``, whose SHA-256 the header holds.
CHECKPOINT_FORMAT = 2
_CHECKPOINT_MAGIC = b"landscape_lib-checkpoint "
_CHECKPOINT_KEYS = ("format", "config", "epoch", "model", "optimizer", "scheduler", "rng", "history")
#: Fields of :class:`TrainConfig` that may change when a run is resumed: they change how long it runs, where
#: the data and the computation live, and how often it is measured, not the experiment.
RESUMABLE_CHANGES = ("epochs", "device", "compile", "metrics_every", "eval_batch_size", "data_root", "download")
#: Least number of epochs between two learning-rate decays of the default schedule (see TrainConfig).
MIN_DECAY_INTERVAL = 10
_DEVICE_PATTERN = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


def paper_defaults(optimizer: str, *, random_labels: bool = False) -> dict:
    """Learning rate, batch size and weight decay of the reference code of Zhu et al. (2021).

    The values are those recorded with its published runs (``training_results/*/args.txt`` at commit
    a032ff5 of tding1/Neural-Collapse; ``docs/recipes.md`` cites every line): SGD lr 0.05, momentum 0.9,
    weight decay 5e-4, batch 128; Adam lr 1e-4, batch 128, weight decay 5e-4; L-BFGS lr 0.1, history 10,
    strong Wolfe line search, batch 1024, weight decay 5e-4 added to the loss. Random labels (chapter 6):
    SGD lr 0.01, batch 64, weight decay 1e-4 (``README.md`` at 04ef586, the only source). The reference's
    newest commands differ: Adam batch 64 and L-BFGS batch 2048 (``cmds.sh`` at 04ef586).

    Parameters
    ----------
    optimizer : {"sgd", "adam", "lbfgs"}
    random_labels : bool

    Returns
    -------
    dict
        Keys ``lr``, ``batch_size``, ``weight_decay``.
    """
    name = _check_choice(optimizer, OPTIMIZERS, "optimizer")
    if _check_bool(random_labels, "random_labels") and name == "sgd":
        return {"lr": 0.01, "batch_size": 64, "weight_decay": 1e-4}
    return {"sgd": {"lr": 0.05, "batch_size": 128, "weight_decay": 5e-4},
            "adam": {"lr": 1e-4, "batch_size": 128, "weight_decay": 5e-4},
            "lbfgs": {"lr": 0.1, "batch_size": 1024, "weight_decay": 5e-4}}[name]


def default_lr_decay_every(epochs: int) -> int:
    """The default interval of the step schedule: ``max(10, epochs // 5)`` epochs.

    The paper decays the learning rate by 0.2 every 40 of its 200 epochs, five phases; longer and shorter
    runs keep the five phases, but never fewer than :data:`MIN_DECAY_INTERVAL` (10) epochs between decays: a
    short run (``epochs=6``) scaled down to ``6 // 5 = 1`` would decay after every epoch and end at
    ``0.2**5`` of its learning rate, stalling (the training accuracy stopped at 0.31). Runs under 20 epochs
    therefore do not decay at all, runs under 50 decay every 10 epochs.
    """
    epochs = check_scalar(epochs, "epochs", integer=True, low=1)
    return max(MIN_DECAY_INTERVAL, epochs // 5)


def _optional(value, check):
    return None if value is None else check(value)


def _count(name: str):
    """The check of a count: an integer >= 1."""
    return lambda value: check_scalar(value, name, integer=True, low=1)


def _check_milestones(value) -> tuple:
    """``lr_milestones``: a non-empty, strictly increasing sequence of epochs >= 1, as a tuple of int."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) == 0:
        raise ValueError(f"lr_milestones must be a non-empty sequence of epochs (e.g. (100, 200)) or None; "
                         f"got {value!r}")
    epochs = tuple(check_scalar(v, f"lr_milestones[{i}]", integer=True, low=1) for i, v in enumerate(value))
    if any(b <= a for a, b in zip(epochs, epochs[1:], strict=False)):
        raise ValueError(f"lr_milestones must be strictly increasing; got {list(epochs)}")
    return epochs


def _check_device_name(device) -> str:
    key = device.lower() if isinstance(device, str) else None
    if key is None or not _DEVICE_PATTERN.fullmatch(key):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'; got {device!r}")
    return key


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (saved in checkpoints; ``resume`` requires equality except in
    the fields :data:`RESUMABLE_CHANGES`).

    Every field is checked when the configuration is made (a clear ``ValueError`` naming the field; numpy
    integers and floats are accepted and stored as Python numbers). ``None`` for ``lr``, ``batch_size``,
    ``weight_decay`` means the paper's value for the optimizer (:func:`paper_defaults`);
    ``lr_decay_every=None`` means :func:`default_lr_decay_every`, ``max(10, epochs // 5)``: the paper's
    "× 0.2 every 40 epochs" for its 200 epochs, never more often than every 10 epochs. ``lr_milestones``
    replaces that step schedule by decays (× ``lr_decay``) after the listed epochs only, e.g. Papyan et
    al.'s protocol: × 0.1 at one and two thirds of the epochs (the stored reference runs). The schedule
    is used by all three optimizers. ``resolution`` is the image side (the digits: 8, 16, 24 or 32;
    CIFAR-10: 32) and ``stem`` the network's first layer (:data:`landscape_lib.nets.STEMS`). The defaults
    are the paper's CIFAR-10 setting except ``dataset`` (``"digits"``, the offline default); the book
    profile narrows ``width`` and shortens ``epochs``.

    Bounds: counts (``epochs``, ``width``, ``batch_size``, ``metrics_every``, ...) are integers ``>= 1``;
    ``seed >= 0``; ``lr > 0``, ``weight_decay >= 0``, ``0 <= momentum < 1``, ``0 < lr_decay <= 1`` and
    ``max_loss > 0`` finite; ``device`` is ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
    """

    dataset: str = "digits"
    resolution: int = 32
    data_root: str | None = None
    download: bool = False
    n_train_per_class: int | None = None
    n_test_per_class: int | None = None
    random_labels: bool = False
    model: str = "resnet18"
    stem: str = "cifar"
    width: int = 64
    feature_dim: int | None = None
    fixed_classifier: bool = False
    optimizer: str = "sgd"
    epochs: int = 200
    lr: float | None = None
    batch_size: int | None = None
    weight_decay: float | None = None
    momentum: float = 0.9
    lr_decay: float = 0.2
    lr_decay_every: int | None = None
    lr_milestones: tuple | None = None
    lbfgs_history: int = 10
    lbfgs_max_iter: int = 20
    augment: bool = True
    metrics_every: int = 1
    eval_batch_size: int = 512
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    channels_last: bool = True
    compile: bool = False
    max_loss: float = 1e3

    def __post_init__(self):
        dataset = dataset_key(self.dataset)
        checked = {
            "dataset": dataset,
            "resolution": check_resolution(dataset, self.resolution),
            "stem": _check_choice(self.stem, STEMS, "stem"),
            "lr_milestones": _optional(self.lr_milestones, _check_milestones),
            "data_root": _optional(self.data_root, _check_path("data_root")),
            "model": _check_choice(self.model, tuple(MODELS), "model"),
            "optimizer": _check_choice(self.optimizer, OPTIMIZERS, "optimizer"),
            "lr": _optional(self.lr, lambda v: check_scalar(v, "lr", low=0, low_inclusive=False)),
            "weight_decay": _optional(self.weight_decay, lambda v: check_scalar(v, "weight_decay", low=0)),
            "momentum": check_scalar(self.momentum, "momentum", low=0, high=1, high_inclusive=False),
            "lr_decay": check_scalar(self.lr_decay, "lr_decay", low=0, high=1, low_inclusive=False),
            "max_loss": check_scalar(self.max_loss, "max_loss", low=0, low_inclusive=False),
            "seed": check_scalar(self.seed, "seed", integer=True, low=0),
            "device": _check_device_name(self.device),
        }
        for name in ("width", "epochs", "lbfgs_history", "lbfgs_max_iter", "metrics_every", "eval_batch_size"):
            checked[name] = _count(name)(getattr(self, name))
        for name in ("n_train_per_class", "n_test_per_class", "feature_dim", "batch_size", "lr_decay_every"):
            checked[name] = _optional(getattr(self, name), _count(name))
        for name in ("download", "random_labels", "fixed_classifier", "augment", "amp", "channels_last", "compile"):
            checked[name] = _check_bool(getattr(self, name), name)
        if checked["lr_milestones"] is not None and checked["lr_decay_every"] is not None:
            raise ValueError("give lr_milestones or lr_decay_every, not both: they are two schedules")
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    def resolved(self) -> TrainConfig:
        """A copy with the ``None`` defaults of ``lr``, ``batch_size``, ``weight_decay`` and ``lr_decay_every``
        filled in."""
        defaults = dict(paper_defaults(self.optimizer, random_labels=self.random_labels),
                        lr_decay_every=None if self.lr_milestones else default_lr_decay_every(self.epochs))
        return dataclasses.replace(self, **{name: defaults[name] if getattr(self, name) is None else getattr(self, name)
                                            for name in ("lr", "batch_size", "weight_decay", "lr_decay_every")})


def _check_path(name: str):
    def check(value) -> str:
        if not isinstance(value, (str, os.PathLike)):
            raise ValueError(f"{name} must be a path (str or os.PathLike); got {type(value).__name__}")
        return os.fspath(value)
    return check


@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`train`.

    Attributes
    ----------
    history : list of dict
        One row per epoch (keys ``HISTORY_KEYS``; metric columns are ``None`` on epochs without
        metrics).
    model : torch.nn.Module
        The trained network (on ``device``).
    config : TrainConfig
        The resolved configuration.
    device : torch.device
    output_dir : Path or None
    """

    history: list
    model: torch.nn.Module
    config: TrainConfig
    device: torch.device
    output_dir: Path | None = None
    train_data: ImageData | None = field(default=None, repr=False)
    test_data: ImageData | None = field(default=None, repr=False)

    @property
    def final(self) -> dict:
        """The last history row that carries metrics."""
        if not self.history:
            raise ValueError("the run has no epochs yet, so no final row")
        rows = [r for r in self.history if r.get("nc1") is not None or r.get("train_acc") is not None]
        return rows[-1] if rows else self.history[-1]


class TrainingDiverged(RuntimeError):
    """Raised when the training loss becomes non-finite or exceeds ``max_loss``; ``.history`` is attached."""

    def __init__(self, message: str, history: list):
        super().__init__(message)
        self.history = history


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`train`: the last finished epoch was saved (if ``output_dir``); ``str()`` says where.

    A :class:`KeyboardInterrupt`, so that it stops a notebook or a script like any interrupt. Attributes:
    ``history`` (the finished epochs), ``epoch`` (the last epoch in the checkpoint, or ``None``) and
    ``checkpoint`` (its path, or ``None``).
    """

    def __init__(self, message: str, history: list, epoch: int | None, checkpoint: Path | None):
        super().__init__(message)
        self.history, self.epoch, self.checkpoint = history, epoch, checkpoint


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed from: unreadable, empty, truncated, corrupted, not ours, refused by
    the safe loader, or missing entries. The message names the file."""


def resolve_device(device: str = "auto") -> torch.device:
    """The torch device of a device name, checked to exist here.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda", "cuda:N", "mps"}
        ``"auto"``: CUDA if available, else Apple MPS, else CPU.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        For another name, or a device that this machine or this build of torch does not have.
    """
    key = _check_device_name(device)
    if key == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    dev = torch.device(key)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} was asked for, but CUDA is not available here "
                             f"(torch {torch.__version__}, built for CUDA {torch.version.cuda or 'none'}, "
                             "torch.cuda.is_available() is False); use device 'auto' or 'cpu'")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device {device!r} was asked for, but there are {torch.cuda.device_count()} "
                             f"CUDA device(s): cuda:0..cuda:{torch.cuda.device_count() - 1}")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) is not None
                                  and torch.backends.mps.is_available()):
        raise ValueError(f"device {device!r} was asked for, but Apple MPS is not available here; "
                         "use device 'auto' or 'cpu'")
    return dev


def make_optimizer(name: str, params, *, lr: float, weight_decay: float, momentum: float = 0.9,
                   lbfgs_history: int = 10, lbfgs_max_iter: int = 20) -> torch.optim.Optimizer:
    """SGD (momentum, weight decay), Adam (L2 weight decay) or L-BFGS (strong Wolfe line search, up to
    ``lbfgs_max_iter`` iterations per batch — torch's default 20, as in the paper's code; the weight decay
    is added to the loss by :func:`train_epoch`, not here).

    Parameters
    ----------
    name : {"sgd", "adam", "lbfgs"}
    params : iterable of torch.Tensor
        At least one tensor.
    lr : float
        ``> 0``.
    weight_decay : float
        ``>= 0``.
    momentum : float
        SGD only, ``0 <= momentum < 1``.
    lbfgs_history, lbfgs_max_iter : int
        L-BFGS only, ``>= 1``.

    Returns
    -------
    torch.optim.Optimizer
    """
    name = _check_choice(name, OPTIMIZERS, "optimizer")
    params = list(params)
    if not params or not all(isinstance(p, torch.Tensor) for p in params):
        raise ValueError(f"params must hold at least one tensor; got {len(params)} item(s)")
    lr = check_scalar(lr, "lr", low=0, low_inclusive=False)
    weight_decay = check_scalar(weight_decay, "weight_decay", low=0)
    momentum = check_scalar(momentum, "momentum", low=0, high=1, high_inclusive=False)
    lbfgs_history = check_scalar(lbfgs_history, "lbfgs_history", integer=True, low=1)
    lbfgs_max_iter = check_scalar(lbfgs_max_iter, "lbfgs_max_iter", integer=True, low=1)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.LBFGS(params, lr=lr, history_size=lbfgs_history, max_iter=lbfgs_max_iter,
                             line_search_fn="strong_wolfe")


def _check_loop_inputs(model, data, batch_size: int) -> int:
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    if not isinstance(data, DeviceDataset):
        raise ValueError(f"data must be a DeviceDataset; got {type(data).__name__}")
    return check_scalar(batch_size, "batch_size", integer=True, low=1)


def train_epoch(model, optimizer, data: DeviceDataset, *, batch_size: int, generator=None,
                augment: bool = True, amp: bool = False, lbfgs_weight_decay: float = 0.0,
                drop_last: bool = False):
    """One pass over ``data`` in random order; returns ``(loss_sum, correct, count)``.

    ``loss_sum`` (summed cross-entropy) and ``correct`` are 0-d tensors on the device: nothing is
    synchronized with the host inside the epoch; ``count`` is the number of samples trained on (all of them,
    or without the short last batch when ``drop_last``, which keeps every batch the same shape for
    ``torch.compile``). ``amp`` enables bf16 autocast (CUDA). For :class:`torch.optim.LBFGS` the closure adds
    ``lbfgs_weight_decay / 2 · ‖θ‖²`` to the loss; the batch-norm running statistics that its line-search
    evaluations change are put back after the step (a copy of the buffers, so that a compiled model sees the
    same module attributes at every call and is never recompiled), and one extra forward pass of the
    uncompiled module sets them to the batch's statistics at the accepted iterate. (The paper's code lets
    every evaluation, trial points included, update them; with the few large L-BFGS steps of a short run
    the eval-mode network then disagrees with the trained one.)

    Parameters
    ----------
    model : torch.nn.Module
        The network, possibly wrapped by ``torch.compile``.
    optimizer : torch.optim.Optimizer
    data : DeviceDataset
    batch_size : int
        ``>= 1``.
    generator : torch.Generator or None
        On ``data.device``: the order and the augmentation.
    augment, amp, drop_last : bool
    lbfgs_weight_decay : float
        ``>= 0``.

    Returns
    -------
    (Tensor, Tensor, int)
    """
    batch_size = _check_loop_inputs(model, data, batch_size)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(f"optimizer must be a torch.optim.Optimizer; got {type(optimizer).__name__}")
    amp = _check_bool(amp, "amp")
    lbfgs_weight_decay = check_scalar(lbfgs_weight_decay, "lbfgs_weight_decay", low=0)
    if drop_last and len(data) < batch_size:
        raise ValueError(f"drop_last with batch_size={batch_size} would leave out all {len(data)} samples")
    model.train()
    base = _base(model)
    dev = data.device
    loss_sum = torch.zeros((), device=dev)
    correct = torch.zeros((), device=dev, dtype=torch.long)
    lbfgs = isinstance(optimizer, torch.optim.LBFGS)
    params = [p for group in optimizer.param_groups for p in group["params"]]
    norms = [m for m in base.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
             and m.track_running_stats]
    for x, y in data.batches(batch_size, shuffle=True, augment=augment, generator=generator, drop_last=drop_last):
        if lbfgs:
            seen = {}

            def closure(x=x, y=y, seen=seen):
                optimizer.zero_grad(set_to_none=True)
                with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=amp):
                    logits = model(x)
                loss = F.cross_entropy(logits.float(), y)
                total = loss + 0.5 * lbfgs_weight_decay * sum(p.pow(2).sum() for p in params)
                total.backward()
                if not seen:
                    seen["loss"], seen["logits"] = loss.detach(), logits.detach()
                return total

            with torch.no_grad():
                buffers = [(m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone())
                           for m in norms]
            optimizer.step(closure)
            with torch.no_grad():
                for m, (mean, var, tracked) in zip(norms, buffers, strict=True):
                    m.running_mean.copy_(mean)
                    m.running_var.copy_(var)
                    m.num_batches_tracked.copy_(tracked)
            loss, logits = seen["loss"], seen["logits"]
            with torch.no_grad(), _batchnorm_momentum(norms, 1.0), \
                    torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=amp):
                base(x)  # running statistics := this batch's statistics at the accepted iterate
        else:
            with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=amp):
                logits = model(x)
            loss = F.cross_entropy(logits.float(), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss = loss.detach()
        loss_sum += loss * y.shape[0]
        correct += (logits.argmax(dim=1) == y).sum()
    count = len(data) - len(data) % batch_size if drop_last else len(data)
    return loss_sum, correct, count


class _batchnorm_momentum:
    """Within the block, the given batch-norm layers use ``momentum`` for their running statistics (1: replace
    them by the current batch's statistics). Used on the uncompiled module only: a compiled one would be
    recompiled for the changed attribute."""

    def __init__(self, norms, momentum: float):
        self.norms = list(norms)
        self.momentum = momentum

    def __enter__(self):
        self.saved = [m.momentum for m in self.norms]
        for m in self.norms:
            m.momentum = self.momentum

    def __exit__(self, *exc):
        for m, momentum in zip(self.norms, self.saved, strict=True):
            m.momentum = momentum


def _check_network(model) -> CifarResNet:
    base = _base(model)
    if not isinstance(base, CifarResNet):
        raise ValueError(f"model must be a CifarResNet (landscape_lib.nets.build_model), possibly compiled; "
                         f"got {type(base).__name__}")
    return base


def _forward_eval(base: CifarResNet, x: torch.Tensor, amp: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Features and logits in eval mode, the forward in the training precision, returned in float32."""
    with torch.autocast(device_type=x.device.type, dtype=torch.bfloat16, enabled=amp):
        h, z = base.features_and_logits(x)
    return h.float(), z.float()


@torch.no_grad()
def extract_features(model, data: DeviceDataset, *, batch_size: int = 512, amp: bool = False):
    """Features ``h`` (classifier input), logits and labels of ``data`` in eval mode, float32, in order.

    Parameters
    ----------
    model : CifarResNet
        Possibly compiled (the uncompiled module is used).
    data : DeviceDataset
    batch_size : int
        ``>= 1``.
    amp : bool
        Forward under bf16 autocast (CUDA), as in training.

    Returns
    -------
    features : Tensor of shape (N, d)
    logits : Tensor of shape (N, K)
    labels : Tensor of shape (N,)
    """
    batch_size = _check_loop_inputs(model, data, batch_size)
    base = _check_network(model)
    amp = _check_bool(amp, "amp")
    model.eval()
    feats, logits, labels = [], [], []
    for x, y in data.batches(batch_size):
        h, z = _forward_eval(base, x, amp)
        feats.append(h)
        logits.append(z)
        labels.append(y)
    return torch.cat(feats), torch.cat(logits), torch.cat(labels)


@torch.no_grad()
def evaluate(model, train_data: DeviceDataset, test_data: DeviceDataset | None = None, *,
             batch_size: int = 512, collapse_metrics: bool = True, amp: bool = False) -> dict:
    """Train/test loss and accuracy and the NC metrics of ``model`` (eval mode, no augmentation).

    The forward runs in the training precision (``amp``: bf16 autocast, as :func:`train_epoch`); features
    and logits are taken in float32. The NC metrics use the streaming statistics of
    :mod:`landscape_lib.class_stats`: one pass over the training set updates
    :class:`~landscape_lib.class_stats.StreamingClassStatistics` in float64 on the device (its checks
    deferred to the end, so the loop never waits for the host); NC4 (prediction ≠ nearest class mean) is
    counted on the device from the same features once the class means are known
    (:func:`landscape_lib.collapse.nearest_mean_disagreements`), and
    :func:`landscape_lib.collapse.metrics_from_statistics` computes the metrics from the statistics (a
    ``(K, d)`` and a ``(d, d)`` matrix copied to the host once). Classifier ``W``, ``b`` are the model's last
    layer.

    Parameters
    ----------
    model : CifarResNet
        Possibly compiled (the uncompiled module is used).
    train_data : DeviceDataset
    test_data : DeviceDataset or None
    batch_size : int
        ``>= 1``.
    collapse_metrics, amp : bool

    Returns
    -------
    dict
        ``train_loss``, ``train_acc`` (and ``test_loss``, ``test_acc``; and the NC columns ``NC_KEYS``).
    """
    from . import class_stats, collapse

    batch_size = _check_loop_inputs(model, train_data, batch_size)
    if test_data is not None and not isinstance(test_data, DeviceDataset):
        raise ValueError(f"test_data must be a DeviceDataset or None; got {type(test_data).__name__}")
    base = _check_network(model)
    collapse_metrics, amp = _check_bool(collapse_metrics, "collapse_metrics"), _check_bool(amp, "amp")
    model.eval()
    stats = (class_stats.StreamingClassStatistics(base.num_classes, base.feature_dim, defer_checks=True)
             if collapse_metrics else None)
    features, logits = [], []

    def loss_and_correct(data, keep: bool):
        loss_sum = torch.zeros((), dtype=torch.float64, device=data.device)
        correct = torch.zeros((), dtype=torch.long, device=data.device)
        for x, y in data.batches(batch_size):
            h, z = _forward_eval(base, x, amp)
            loss_sum += F.cross_entropy(z, y, reduction="sum").double()
            correct += (z.argmax(dim=1) == y).sum()
            if keep:
                stats.update(h, y)
                features.append(h)
                logits.append(z)
        return loss_sum, correct.double()

    sums = list(loss_and_correct(train_data, stats is not None))
    if test_data is not None:
        sums += [v.to(train_data.device) for v in loss_and_correct(test_data, False)]
    values = torch.stack(sums).tolist()                      # the one synchronisation for the four numbers
    n = len(train_data)
    row = {"train_loss": values[0] / n, "train_acc": values[1] / n}
    if test_data is not None:
        row.update({"test_loss": values[2] / len(test_data), "test_acc": values[3] / len(test_data)})
    if stats is not None:
        result = stats.result()
        disagree = collapse.nearest_mean_disagreements(torch.cat(features), torch.cat(logits), result.class_means)
        w = base.fc.weight.detach().double().cpu().numpy()
        row.update(collapse.metrics_from_statistics(result, w, disagree / n).as_dict())
    return row


def _base(model):
    """The uncompiled module (``torch.compile`` wraps it in ``_orig_mod``)."""
    return getattr(model, "_orig_mod", model)


def _check_choice(value, choices, what: str) -> str:
    key = value.lower() if isinstance(value, str) else None
    if key not in choices:
        raise ValueError(f"unknown {what} {value!r}; expected one of {list(choices)}")
    return key


# ----------------------------------------------------------------------------------------------------------
# Files: atomic writes, the history, checkpoints
# ----------------------------------------------------------------------------------------------------------

def _temporary_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, flushed to disk, then renamed.

    A crash or a kill leaves either the old file or the new one, never a part of one; the temporary files of
    a killed write are removed by the next :func:`train` into the folder. The file gets the normal
    permissions (``0666`` less the umask), not ``mkstemp``'s ``0600``.
    """
    tmp = _temporary_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_directory(path.parent)


def _fsync_directory(folder: Path) -> None:
    """Make the rename durable: fsync the folder (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _json_value(value):
    """JSON has no NaN or infinity: they are written as ``null`` (the in-memory history keeps them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_history(history: list, output_dir) -> None:
    """Write ``history.json`` and ``history.csv`` (one row per epoch) atomically into ``output_dir``.

    Non-finite numbers (a NaN loss, a metric that is ``nan`` at the zero solution) are written as ``null`` in
    the JSON file, which is then standard JSON, and as empty cells in the CSV file, like ``None``.

    Parameters
    ----------
    history : list of dict
        Rows with the keys ``HISTORY_KEYS`` (missing keys are empty).
    output_dir : str or os.PathLike
        An existing folder.
    """
    if not isinstance(history, list) or not all(isinstance(row, Mapping) for row in history):
        raise ValueError(f"history must be a list of dicts (one per epoch); got {type(history).__name__}")
    out = Path(_check_path("output_dir")(output_dir))
    rows = [{k: _json_value(v) for k, v in row.items()} for row in history]
    _atomic_write(out / "history.json", json.dumps(rows, indent=1, allow_nan=False).encode())
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(HISTORY_KEYS), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in HISTORY_KEYS})
    _atomic_write(out / "history.csv", text.getvalue().encode())


def _checkpoint_bytes(state: dict) -> bytes:
    """The file: a header line with the format and the SHA-256 of the payload, then ``torch.save``'s bytes."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    header = _CHECKPOINT_MAGIC + f"{CHECKPOINT_FORMAT} sha256 {hashlib.sha256(payload).hexdigest()}\n".encode()
    return header + payload


def load_checkpoint(path) -> dict:
    """Read and check a checkpoint written by :func:`train`; every tensor is returned on the CPU.

    The payload is loaded with ``torch.load(weights_only=True, map_location="cpu")``: tensors, numbers,
    strings and containers only, so a crafted file cannot run code; on the CPU, so that random-number states
    saved on a GPU can be restored (``torch.set_rng_state`` takes CPU byte tensors only) and a GPU run can be
    inspected or resumed anywhere. Before that, the SHA-256 in the header is compared with the payload's, so
    a truncated file or a flipped byte is refused, not loaded.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    dict
        Keys ``format``, ``config`` (the resolved :class:`TrainConfig` as a dict), ``epoch``, ``model``,
        ``optimizer``, ``scheduler`` (state dicts), ``rng`` and ``history``.

    Raises
    ------
    CheckpointError
        For any file that cannot be resumed from: it names the file and says why.
    """
    path = Path(_check_path("path")(path))

    def refuse(why: str):
        return CheckpointError(f"cannot use checkpoint {path}: {why}")

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise refuse(f"it cannot be read ({exc.strerror or exc})") from exc
    line_end = raw.find(b"\n", 0, 200)
    header = raw[:line_end].split(b" ") if raw.startswith(_CHECKPOINT_MAGIC) and line_end > 0 else None
    if not raw:
        raise refuse("the file is empty (a write that was interrupted?)")
    if header is None or len(header) != 4 or header[2] != b"sha256":
        kind = ("a plain torch.save file (an older landscape_lib checkpoint, or another program's): it has no "
                "checksum and is not loaded") if raw.startswith(b"PK") else "it is not a landscape_lib checkpoint"
        raise refuse(kind)
    if header[1] != str(CHECKPOINT_FORMAT).encode():
        raise refuse(f"its format is {header[1].decode(errors='replace')!r}, this landscape_lib reads "
                     f"format {CHECKPOINT_FORMAT}")
    payload = raw[line_end + 1:]
    if hashlib.sha256(payload).hexdigest().encode() != header[3]:
        raise refuse("its SHA-256 checksum does not match its contents (the file is truncated or corrupted)")
    try:
        state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except Exception as exc:  # the unpickler raises many types; each means the same: refused
        raise refuse(f"torch.load(weights_only=True) refused it: {_first_reason(exc)}") from exc
    if not isinstance(state, dict):
        raise refuse(f"it holds a {type(state).__name__}, not a dict")
    missing = [key for key in _CHECKPOINT_KEYS if key not in state]
    if missing:
        raise refuse(f"it has no {', '.join(missing)}")
    rng = state["rng"]
    problems = []
    if not isinstance(state["config"], dict):
        problems.append("config is not a dict")
    if not (isinstance(state["epoch"], int) and isinstance(state["history"], list)
            and state["epoch"] >= 1 and len(state["history"]) == state["epoch"]):
        problems.append("epoch and history disagree")
    if not (isinstance(rng, dict) and all(isinstance(rng.get(k), torch.Tensor) for k in ("torch", "generator"))):
        problems.append("rng lacks the random states")
    if problems:
        raise refuse("; ".join(problems))
    return state


def _first_reason(exc: Exception) -> str:
    """One line of torch's long loader message: the unpickler's reason (e.g. the global it refused), without
    torch's boilerplate (which suggests loading with ``weights_only=False``: exactly what must not be done)."""
    boilerplate = ("Weights only load failed", "Please file an issue", "Check the documentation")
    lines = [line.replace("WeightsUnpickler error:", "").strip() for line in str(exc).splitlines()
             if line.strip() and not line.strip().startswith(boilerplate)]
    lines = [line for line in lines if line]
    return f"{type(exc).__name__}: {(lines or ['(no reason given)'])[0][:300]}"


def _to_cpu(obj):
    """A copy of a state (dicts, lists, tensors) with every tensor on the CPU: it outlives further training."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def _rng_states(generator, device) -> dict:
    """The random states, as CPU byte tensors (what torch returns for every device)."""
    states = {"device_type": device.type, "torch": torch.get_rng_state(), "generator": generator.get_state()}
    if device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device)
    return states


def _set_rng_states(states: dict, generator, device) -> None:
    """Restore the random states of :func:`_rng_states`, from CPU byte tensors whatever the device.

    ``torch.set_rng_state`` and ``Generator.set_state`` accept only CPU ``uint8`` tensors, also for a CUDA
    generator: a state loaded onto the GPU makes them raise (the failure of resuming on CUDA with
    ``map_location=device``), so every state goes through the CPU here.
    """
    saved_type = states.get("device_type", device.type)
    if saved_type != device.type:
        raise ValueError(f"the checkpoint's random states are those of a {saved_type} run; resume it on a "
                         f"{saved_type} device (now: {device.type}), or start a new run")

    def cpu_bytes(t):
        return t.detach().to("cpu", torch.uint8)

    torch.set_rng_state(cpu_bytes(states["torch"]))
    generator.set_state(cpu_bytes(states["generator"]))
    if device.type == "cuda" and "cuda" in states:
        torch.cuda.set_rng_state(cpu_bytes(states["cuda"]), device)


# ----------------------------------------------------------------------------------------------------------
# The output folder
# ----------------------------------------------------------------------------------------------------------

def _remove_stale_temporaries(out: Path) -> list:
    """Remove the temporary files that a killed write left behind (``.checkpoint.pt.<hex>.tmp`` and the like)."""
    removed = []
    for name in RUN_FILES:
        for tmp in out.glob(f".{name}.*"):
            if tmp.is_file():
                tmp.unlink()
                removed.append(tmp.name)
    return removed


def _describe_run(out: Path, existing: list) -> str:
    try:
        epochs = len(json.loads((out / "history.json").read_text()))
        return f"{', '.join(existing)}; {epochs} epoch(s) in history.json"
    except (OSError, ValueError, TypeError):
        return ", ".join(existing)


def _prepare_output_dir(out: Path, *, resume: bool, overwrite: bool) -> dict | None:
    """Check ``out`` before any training: a writable folder, no run replaced unless asked; the checkpoint to
    resume from (or None)."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"output_dir {out} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = _temporary_name(out / ".write-test")
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"output_dir {out} is not a writable folder ({exc.strerror or exc})") from exc
    _remove_stale_temporaries(out)
    existing = [name for name in RUN_FILES if (out / name).exists()]
    if resume:
        if (out / CHECKPOINT_NAME).exists():
            return load_checkpoint(out / CHECKPOINT_NAME)
        if existing:
            raise ValueError(f"cannot resume: output_dir {out} holds {', '.join(existing)} but no {CHECKPOINT_NAME}; "
                             "pass overwrite=True (CLI: --overwrite) to start the run again")
        return None
    if existing and not overwrite:
        raise ValueError(f"output_dir {out} already holds a run ({_describe_run(out, existing)}); pass resume=True "
                         "(CLI: --resume) to continue it or overwrite=True (CLI: --overwrite) to replace it")
    for name in existing:
        (out / name).unlink()
    return None


def _comparable(value):
    return tuple(value) if isinstance(value, list) else value


def _check_resumable(config: TrainConfig, state: dict, path: Path) -> None:
    # Fields added after a checkpoint was written take their defaults (those runs were made with them).
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    saved = {**defaults, **state["config"]}
    now = dataclasses.asdict(config)
    diff = {k: (saved.get(k), now.get(k)) for k in sorted(set(saved) | set(now))
            if k not in RESUMABLE_CHANGES and _comparable(saved.get(k)) != _comparable(now.get(k))}
    if diff:
        raise ValueError(f"cannot resume from {path}: its configuration differs (saved, now): {diff}; only "
                         f"{', '.join(RESUMABLE_CHANGES)} may change on resume")
    if config.epochs < state["epoch"]:
        raise ValueError(f"cannot resume from {path}: it is at epoch {state['epoch']}, beyond epochs={config.epochs}")


def _check_data(data):
    if data is None:
        return None
    if (not isinstance(data, (tuple, list)) or len(data) != 2
            or not all(isinstance(d, ImageData) for d in data)):
        raise ValueError("data must be a pair (train, test) of landscape_lib.data.ImageData, or None")
    if data[0].num_classes != data[1].num_classes or data[0].images.shape[1:] != data[1].images.shape[1:]:
        raise ValueError(f"data's training and test set must have the same classes and image shape; got "
                         f"{data[0].num_classes} and {data[1].num_classes} classes, shapes "
                         f"{tuple(data[0].images.shape[1:])} and {tuple(data[1].images.shape[1:])}")
    return tuple(data)


# ----------------------------------------------------------------------------------------------------------
# The run
# ----------------------------------------------------------------------------------------------------------

def train(config: TrainConfig | None = None, *, output_dir=None, resume: bool = False, overwrite: bool = False,
          checkpoint_every: int | None = None, until_epoch: int | None = None, progress: bool = False,
          data: tuple[ImageData, ImageData] | None = None, command=None, **overrides) -> TrainResult:
    """Train a CIFAR ResNet and record NC1–NC4 and accuracies per epoch (chapters 5–7).

    Parameters
    ----------
    config : TrainConfig or None
        The run; keyword ``overrides`` replace its fields (``train(optimizer="adam", epochs=10)``).
    output_dir : str, Path or None
        Where ``history.json``, ``history.csv`` and ``checkpoint.pt`` go (nothing is written if None). It is
        checked before anything is trained: a folder that can be written (made if missing), holding no run
        unless ``resume`` or ``overwrite``. Temporary files of killed writes are removed.
    resume : bool
        Continue from ``output_dir/checkpoint.pt`` if it exists: model, optimizer, schedule, random states
        and history are restored. The configuration must equal the saved one except the fields
        :data:`RESUMABLE_CHANGES` (``epochs`` may grow, to extend a run); ``lr_decay_every=None`` takes the
        saved run's interval, so an extended run keeps its schedule.
    overwrite : bool
        Replace the run in ``output_dir`` (its checkpoint and history are deleted first).
    checkpoint_every : int or None
        Write the checkpoint every this many epochs and at the last one (``0``: only at the last one).
        ``None``: every epoch when ``output_dir`` is given.
    until_epoch : int or None
        Stop after this epoch, ``1 <= until_epoch <= epochs`` (checkpoint written), to split a long run;
        ``resume`` continues it.
    progress : bool
        tqdm progress bar over epochs on stderr (on for the command line, off for notebooks).
    data : (ImageData, ImageData) or None
        Training and test set already loaded (otherwise loaded from the configuration).
    command : sequence of str or None
        The command-line arguments that started the run (the command line passes its own), recorded with the
        resolved configuration in ``output_dir/config.json`` — the format of the stored reference runs
        (:mod:`landscape_lib.stored_runs`), so a run of one's own drops into the chapters' figures.

    Returns
    -------
    TrainResult

    Raises
    ------
    ValueError
        For a bad argument or configuration field, a device that is not here, an ``output_dir`` that cannot
        be used, or a configuration that differs from the checkpoint's (:class:`CheckpointError`, a
        ``ValueError``, for a checkpoint that cannot be used).
    TrainingDiverged
        When the epoch's training loss is not finite or exceeds ``config.max_loss``.
    TrainingInterrupted
        On Ctrl-C (``KeyboardInterrupt``), after the checkpoint of the last finished epoch is written.
    """
    if config is not None and not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig or None; got {type(config).__name__}")
    unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(TrainConfig)})
    if unknown:
        raise ValueError(f"unknown TrainConfig field(s) {unknown}; the fields are "
                         f"{[f.name for f in dataclasses.fields(TrainConfig)]}")
    config = dataclasses.replace(config or TrainConfig(), **overrides)
    resume, overwrite, progress = (_check_bool(v, k) for k, v in
                                   (("resume", resume), ("overwrite", overwrite), ("progress", progress)))
    if resume and overwrite:
        raise ValueError("resume=True and overwrite=True contradict each other: choose one")
    out = None if output_dir is None else Path(_check_path("output_dir")(output_dir))
    if checkpoint_every is None:
        checkpoint_every = 1 if out is not None else 0
    checkpoint_every = check_scalar(checkpoint_every, "checkpoint_every", integer=True, low=0)
    until_epoch = _optional(until_epoch, _count("until_epoch"))
    if out is None and (resume or overwrite or checkpoint_every):
        raise ValueError("resume, overwrite and checkpoint_every need an output_dir")
    data = _check_data(data)
    device = resolve_device(config.device)
    ckpt_path = out / CHECKPOINT_NAME if out is not None else None
    state = _prepare_output_dir(out, resume=resume, overwrite=overwrite) if out is not None else None
    if state is not None and config.lr_decay_every is None and config.lr_milestones is None:
        config = dataclasses.replace(config, lr_decay_every=state["config"].get("lr_decay_every"))
    config = config.resolved()
    if state is not None:
        _check_resumable(config, state, ckpt_path)
    if command is not None and (isinstance(command, (str, bytes)) or not all(isinstance(a, str) for a in command)):
        raise ValueError(f"command must be a sequence of strings (command-line arguments) or None; got {command!r}")
    start = state["epoch"] if state is not None else 0
    if until_epoch is not None and not start < until_epoch <= config.epochs:
        raise ValueError(f"until_epoch must lie in {start + 1}..{config.epochs} (after the "
                         f"{'checkpoint' if start else 'start'}, at most epochs); got {until_epoch}")
    cuda = device.type == "cuda"
    if out is not None:
        record = {"argv": None if command is None else list(command),
                  "train_config": {k: list(v) if isinstance(v, tuple) else v
                                   for k, v in dataclasses.asdict(config).items()}}
        _atomic_write(out / "config.json", (json.dumps(record, indent=1) + "\n").encode())
    if data is None:
        data = load_splits(config.dataset, root=config.data_root, download=config.download,
                           n_train_per_class=config.n_train_per_class, n_test_per_class=config.n_test_per_class,
                           random_labels=config.random_labels, rng=config.seed, resolution=config.resolution)
    elif data[0].images.shape[-1] != config.resolution:
        raise ValueError(f"data holds {data[0].images.shape[-1]}-pixel images but resolution={config.resolution}: "
                         f"pass the resolution the data were loaded at")
    train_set, test_set = data
    drop_last = config.compile  # static shapes: one compiled graph
    if drop_last and len(train_set) < config.batch_size:
        raise ValueError(f"compile drops the short last batch, and the training set ({len(train_set)} images) is "
                         f"smaller than batch_size={config.batch_size}: nothing would be trained")
    channels_last = config.channels_last and cuda
    train_dev = DeviceDataset(train_set, device, channels_last=channels_last)
    test_dev = DeviceDataset(test_set, device, stats_from=train_set, channels_last=channels_last)

    torch.manual_seed(config.seed)
    model = build_model(config.model, train_set.num_classes, width=config.width, feature_dim=config.feature_dim,
                        fixed_classifier=config.fixed_classifier, stem=config.stem).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    if cuda:
        torch.backends.cudnn.benchmark = True
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer(config.optimizer, trainable, lr=config.lr, weight_decay=config.weight_decay,
                               momentum=config.momentum, lbfgs_history=config.lbfgs_history,
                               lbfgs_max_iter=config.lbfgs_max_iter)
    if config.lr_milestones:
        scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(config.lr_milestones),
                                                         gamma=config.lr_decay)
    else:
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=config.lr_decay_every,
                                                    gamma=config.lr_decay)
    generator = torch.Generator(device=device)
    generator.manual_seed(config.seed)
    history: list = []
    if state is not None:
        # Everything was loaded onto the CPU: the random states are restored from CPU tensors, the model's
        # and the optimizer's tensors are copied to the device by load_state_dict.
        try:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(f"cannot use checkpoint {ckpt_path}: its state does not fit this model and "
                                  f"optimizer ({type(exc).__name__}: {exc})") from exc
        _set_rng_states(state["rng"], generator, device)
        history = list(state["history"])
        state = None  # the loaded tensors are no longer needed

    net = torch.compile(model, dynamic=False) if config.compile else model
    use_amp = config.amp and cuda and config.optimizer != "lbfgs"
    lbfgs_wd = config.weight_decay if config.optimizer == "lbfgs" else 0.0
    last = config.epochs if until_epoch is None else until_epoch
    bar = _progress_bar(progress, config.epochs, start)
    saved_epoch = start if start else None     # the epoch of the checkpoint on disk
    pending = None                             # CPU copy of the last finished epoch's state, if not on disk

    def snapshot(epoch):
        return {"format": CHECKPOINT_FORMAT, "config": dataclasses.asdict(config), "epoch": epoch,
                "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "rng": _rng_states(generator, device),
                "history": [dict(row) for row in history]}

    def write_checkpoint(snap):
        nonlocal saved_epoch, pending
        _atomic_write(ckpt_path, _checkpoint_bytes(snap))
        saved_epoch, pending = snap["epoch"], None

    epoch = start
    try:
        for epoch in range(start + 1, last + 1):
            t0 = time.perf_counter()
            lr = optimizer.param_groups[0]["lr"]
            loss_sum, correct, n = train_epoch(net, optimizer, train_dev, batch_size=config.batch_size,
                                               generator=generator, augment=config.augment, amp=use_amp,
                                               lbfgs_weight_decay=lbfgs_wd, drop_last=drop_last)
            loss_total, n_correct = (float(v) for v in torch.stack([loss_sum.float(), correct.float()]).tolist())
            row = dict.fromkeys(HISTORY_KEYS)
            row.update(epoch=epoch, lr=lr, train_loss_running=loss_total / n, train_acc_running=n_correct / n)
            if not math.isfinite(row["train_loss_running"]) or row["train_loss_running"] > config.max_loss:
                history.append(row)
                if out is not None:
                    write_history(history, out)
                    if pending is not None:
                        write_checkpoint(pending)
                loss = row["train_loss_running"]
                why = "not finite" if not math.isfinite(loss) else f"above max_loss={config.max_loss:g}"
                kept = f" The checkpoint of epoch {saved_epoch} is kept." if saved_epoch else ""
                raise TrainingDiverged(
                    f"training stopped at epoch {epoch}: the mean training loss is {loss:.4g} ({why}); "
                    f"{config.optimizer} with lr={lr:g} diverged — lower the learning rate or check the data."
                    + kept, history)
            scheduler.step()
            if epoch % config.metrics_every == 0 or epoch == config.epochs:
                row.update(evaluate(net, train_dev, test_dev, batch_size=config.eval_batch_size, amp=use_amp))
            row["seconds"] = time.perf_counter() - t0
            history.append(row)
            if out is not None:
                write_history(history, out)
                if (checkpoint_every and epoch % checkpoint_every == 0) or epoch == last:
                    write_checkpoint(snapshot(epoch))
                else:
                    pending = _to_cpu(snapshot(epoch))
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{row['train_loss_running']:.3g}", acc=f"{row['train_acc_running']:.3f}",
                                nc1=None if row["nc1"] is None else f"{row['nc1']:.3g}")
    except KeyboardInterrupt as exc:
        if isinstance(exc, TrainingInterrupted):
            raise
        if pending is not None:
            write_checkpoint(pending)
        if saved_epoch is not None:
            where = f"the checkpoint of epoch {saved_epoch} is in {ckpt_path}; continue with resume=True (--resume)"
        elif out is not None:
            where = "no epoch had finished, nothing was saved"
        else:
            where = "nothing was saved (no output_dir)"
        raise TrainingInterrupted(f"interrupted after {len(history)} finished epoch(s): {where}",
                                  history, saved_epoch, ckpt_path if saved_epoch is not None else None) from None
    finally:
        if bar is not None:
            bar.close()
    return TrainResult(history, model, config, device, out, train_set, test_set)


def _progress_bar(enabled: bool, total: int, initial: int):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional
        return None
    return tqdm(total=total, initial=initial, unit="epoch", file=sys.stderr, dynamic_ncols=True)


# ----------------------------------------------------------------------------------------------------------
# The command line
# ----------------------------------------------------------------------------------------------------------

#: Defaults of the command line that differ from :class:`TrainConfig`'s: evaluation costs about one training
#: epoch, so a run from the command line measures every 5 epochs (and at the last); notebooks set their own.
CLI_DEFAULTS = {"metrics_every": 5}

_FIELD_HELP = {
    "dataset": ("data set: " + ", ".join(DATASETS), None),
    "resolution": ("image side in pixels: 32; the digits also 8, 16, 24 (8x8 pixels repeated R/8 times)", None),
    "stem": ("first layer: cifar (3x3, stride 1, no max-pool) or imagenet (7x7 stride 2 + max-pool: the "
             "reference code without --SOTA)", None),
    "data_root": ("folder holding cifar-10-batches-py", "$LANDSCAPE_DATA, else ~/.cache/landscape_lib/data"),
    "download": ("download CIFAR-10 into --data-root when it is missing (needs the internet)", None),
    "n_train_per_class": ("training images per class, a random balanced subset",
                          "all: cifar10 5000, digits 120, synthetic 100"),
    "n_test_per_class": ("test images per class", "all: cifar10 1000, digits 54, synthetic 100"),
    "random_labels": ("train on balanced random labels (chapter 6)", None),
    "model": ("network: " + ", ".join(MODELS), None),
    "width": ("base channel count (64: the standard ResNet)", None),
    "feature_dim": ("feature dimension d at the classifier", "8 x width x block expansion, 512 for resnet18 at 64"),
    "fixed_classifier": ("freeze the last layer at the simplex ETF (chapter 7; needs feature-dim >= classes)", None),
    "optimizer": ("optimizer: " + ", ".join(OPTIMIZERS), None),
    "epochs": ("epochs in all (may grow on --resume)", None),
    "lr": ("learning rate", "the reference's recorded runs (a032ff5): sgd 0.05, adam 1e-4, lbfgs 0.1; "
                            "--random-labels: 0.01 (its README)"),
    "batch_size": ("training batch size", "the reference's recorded runs (a032ff5): sgd 128, adam 128, lbfgs "
                                          "1024 (its newest cmds.sh: adam 64, lbfgs 2048); --random-labels: 64"),
    "weight_decay": ("weight decay", "the reference's: 5e-4 (sgd with --random-labels: 1e-4)"),
    "momentum": ("SGD momentum, in [0, 1)", None),
    "lr_decay": ("factor of the schedule, in (0, 1]; 0.2 is the reference's recorded runs (a032ff5), its newest "
                 "default is 0.1; the reference never decays L-BFGS (use 1 for that)", None),
    "lr_decay_every": ("epochs between learning-rate decays",
                       f"max({MIN_DECAY_INTERVAL}, epochs // 5): the paper's 40 of 200; on --resume the run's"),
    "lr_milestones": ("decay the learning rate (x lr-decay) after these epochs only, e.g. 100 200; replaces "
                      "--lr-decay-every", "none: the step schedule"),
    "lbfgs_history": ("L-BFGS history size", None),
    "lbfgs_max_iter": ("L-BFGS iterations per batch", None),
    "augment": ("random crop (padding 4) and horizontal flip (the reference: only with --SOTA, which also "
                "switches to the 3x3 stem; its recorded runs have none)", None),
    "metrics_every": ("NC metrics and accuracies every this many epochs, and at the last", None),
    "eval_batch_size": ("batch size of the evaluation", None),
    "seed": ("seed of the data subset, the initialization, the order and the augmentation (>= 0)", None),
    "device": ("auto, cpu, cuda, cuda:N or mps (auto: CUDA if available, else MPS, else CPU)", None),
    "amp": ("bf16 autocast on CUDA (not for lbfgs; ignored elsewhere)", None),
    "channels_last": ("channels-last memory format on CUDA (ignored elsewhere)", None),
    "compile": ("torch.compile the model (the short last batch of each epoch is left out: static shapes)", None),
    "max_loss": ("stop when the mean training loss of an epoch exceeds this", None),
}


def _arg_type(annotation: str):
    for name, kind in (("int", int), ("tuple", int), ("float", float)):  # the one tuple field holds epochs
        if name in annotation:
            return kind
    return str


def _on_off(value: bool) -> str:
    return "on" if value else "off"


def build_parser() -> argparse.ArgumentParser:
    """Command-line options: one per :class:`TrainConfig` field plus the options of the run.

    Options that are not given are absent from the parsed namespace (``argparse.SUPPRESS``), so that
    :func:`main` can tell them from defaults: a new run fills them with the defaults the help shows, a
    resumed run with the checkpoint's values.
    """
    parser = argparse.ArgumentParser(
        prog="python -m landscape_lib.train", argument_default=argparse.SUPPRESS,
        description="Train a CIFAR ResNet and record neural-collapse metrics per epoch (Landscapes, ch. 5-7). "
                    "Defaults follow the reference code of Zhu et al. 2021 as docs/recipes.md records it. "
                    "With --resume, options not given keep the checkpoint's values.")
    choices = {"dataset": DATASETS, "model": tuple(MODELS), "optimizer": OPTIMIZERS, "stem": STEMS}
    for f in dataclasses.fields(TrainConfig):
        text, computed = _FIELD_HELP[f.name]
        default = CLI_DEFAULTS.get(f.name, f.default)
        flag = "--" + f.name.replace("_", "-")
        if f.type == "bool":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction,
                                help=f"{text} (default: {_on_off(default)})")
            continue
        shown = computed if default is None else default
        kind = _arg_type(f.type)
        if f.name in choices:
            kind = dataset_key if f.name == "dataset" else str.lower
        parser.add_argument(flag, type=kind, choices=choices.get(f.name),
                            nargs="+" if f.type == "tuple | None" else None,
                            metavar=None if f.name in choices else f.name.upper(), help=f"{text} (default: {shown})")
    parser.add_argument("--output-dir", help="history.json/csv and checkpoint.pt go here (default: runs/latest)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --output-dir")
    parser.add_argument("--overwrite", action="store_true", help="replace the run in --output-dir")
    parser.add_argument("--checkpoint-every", type=int, metavar="N",
                        help="write the checkpoint every N epochs and at the last (0: at the last only; default: 1)")
    parser.add_argument("--until-epoch", type=int, metavar="E", help="stop after epoch E (continue with --resume)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--threads", type=int, metavar="T", help="torch CPU threads (default: torch's)")
    return parser


_RUN_OPTIONS = {"output_dir": "runs/latest", "resume": False, "overwrite": False, "checkpoint_every": 1,
                "until_epoch": None, "no_progress": False, "threads": None}


def main(argv=None) -> int:
    """Entry point of ``python -m landscape_lib.train`` and of the ``landscape-train`` console script.

    Prints one JSON line with the final metrics and returns 0; on bad input, a checkpoint that cannot be
    used or a diverged run, one ``error:`` line on stderr and 2; on Ctrl-C one line saying what was saved,
    and 130.
    """
    args = vars(build_parser().parse_args(argv))
    run = {k: args.pop(k, default) for k, default in _RUN_OPTIONS.items()}
    try:
        if run["threads"] is not None:
            torch.set_num_threads(check_scalar(run["threads"], "threads", integer=True, low=1))
        out = Path(run["output_dir"])
        base = {f.name: CLI_DEFAULTS.get(f.name, f.default) for f in dataclasses.fields(TrainConfig)}
        if run["resume"] and (out / CHECKPOINT_NAME).is_file():
            saved = load_checkpoint(out / CHECKPOINT_NAME)["config"]
            base.update({k: v for k, v in saved.items() if k in base})
        result = train(TrainConfig(**{**base, **args}), output_dir=out, resume=run["resume"],
                       command=list(sys.argv[1:] if argv is None else argv),
                       overwrite=run["overwrite"], checkpoint_every=run["checkpoint_every"],
                       until_epoch=run["until_epoch"], progress=not run["no_progress"])
    except TrainingInterrupted as exc:
        print(f"interrupted: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted before training started: nothing was saved", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, TrainingDiverged) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    final = result.final
    summary = {k: _json_value(final.get(k))
               for k in ("epoch", "train_acc", "test_acc", "nc1", "nc2_classifier", "nc3_ufm", "nc4")}
    print(json.dumps({"device": str(result.device), "output_dir": str(result.output_dir), **summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
