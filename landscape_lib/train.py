"""Training loop of the deep neural-collapse chapters (5–7), with NC metrics per epoch and a command line.

:func:`train` trains a CIFAR ResNet (:mod:`landscape_lib.nets`) on a data set of :mod:`landscape_lib.data`
with SGD, Adam or L-BFGS and the schedules of the paper's public code (Zhu et al. 2021; chapter 5 lists them),
and every ``metrics_every`` epochs measures, on the training set in eval mode without augmentation:

* NC1–NC4 and the equinorm/equiangularity measures of :mod:`landscape_lib.collapse`, from the streaming
  statistics of :mod:`landscape_lib.class_stats` (float64 accumulation, features in float32 outside autocast);
* train and test accuracy and loss.

Each epoch appends one row to the history, written as ``history.json`` and ``history.csv`` in
``output_dir``; checkpoints are written atomically every ``checkpoint_every`` epochs and
``resume=True`` continues from the last one with the history and every random state intact, so a
resumed CPU run reproduces an uninterrupted one. A non-finite or exploding loss stops the run with
:class:`TrainingDiverged`. On CUDA the loop uses bf16 autocast and channels-last, keeps the data on the
device (batched augmentation) and never synchronizes with the host inside an epoch.

Command line (progress bar on)::

    python -m landscape_lib.train --dataset cifar10 --download --optimizer sgd --epochs 200 \\
        --device auto --output-dir runs/sgd
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ._validation import check_scalar
from .data import DATASETS, DeviceDataset, ImageData, load_splits
from .nets import MODELS, build_model

__all__ = ["TrainConfig", "TrainResult", "TrainingDiverged", "OPTIMIZERS", "paper_defaults", "train",
           "train_epoch", "evaluate", "extract_features", "make_optimizer", "resolve_device", "write_history", "main"]

#: The optimizers :func:`train` accepts (``optimizer=``).
OPTIMIZERS = ("sgd", "adam", "lbfgs")
#: Columns of every history row that come from :class:`landscape_lib.collapse.CollapseMetrics`.
NC_KEYS = ("nc1", "nc2_classifier", "nc2_means", "nc3_ufm", "nc3_papyan", "nc4", "equinorm_classifier",
           "equinorm_means", "equiangularity_classifier", "equiangularity_means", "maximal_angle_classifier",
           "maximal_angle_means")
HISTORY_KEYS = ("epoch", "lr", "train_loss_running", "train_acc_running", "train_loss", "train_acc",
                "test_loss", "test_acc") + NC_KEYS + ("seconds",)


def paper_defaults(optimizer: str, *, random_labels: bool = False) -> dict:
    """Learning rate, batch size and weight decay of the paper's code (chapter 5 lists them).

    SGD: lr 0.05, momentum 0.9, weight decay 5e-4, batch 128; Adam: lr 1e-4, batch 128; L-BFGS: lr 0.1,
    history 10, strong Wolfe line search, batch 1024, weight decay added to the loss. Random labels
    (chapter 6): SGD lr 0.01, batch 64, weight decay 1e-4. Adam and L-BFGS use weight decay 5e-4 here
    (the value of the SGD runs).
    """
    name = _check_choice(optimizer, OPTIMIZERS, "optimizer")
    if random_labels and name == "sgd":
        return {"lr": 0.01, "batch_size": 64, "weight_decay": 1e-4}
    return {"sgd": {"lr": 0.05, "batch_size": 128, "weight_decay": 5e-4},
            "adam": {"lr": 1e-4, "batch_size": 128, "weight_decay": 5e-4},
            "lbfgs": {"lr": 0.1, "batch_size": 1024, "weight_decay": 5e-4}}[name]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (saved in checkpoints; ``resume`` requires equality).

    ``None`` for ``lr``, ``batch_size``, ``weight_decay`` means the paper's value for the optimizer
    (:func:`paper_defaults`); ``lr_decay_every=None`` means ``max(1, epochs // 5)`` — the paper's
    "× 0.2 every 40 epochs" for its 200 epochs, scaled to shorter runs. The step schedule is used by
    all three optimizers. The defaults are the paper's CIFAR-10 setting except ``dataset``
    (``"digits"``, the offline default); the book profile narrows ``width`` and shortens ``epochs``.
    """

    dataset: str = "digits"
    data_root: str | None = None
    download: bool = False
    n_train_per_class: int | None = None
    n_test_per_class: int | None = None
    random_labels: bool = False
    model: str = "resnet18"
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

    def resolved(self) -> TrainConfig:
        """A copy with the ``None`` defaults filled in and the names checked (clear errors)."""
        _check_choice(self.dataset.lower().replace("-", ""), DATASETS, "data set")
        _check_choice(self.model, tuple(MODELS), "model")
        opt = _check_choice(self.optimizer, OPTIMIZERS, "optimizer")
        # Counts as Python ints (numpy integers accepted), so that the resolved configuration compares and
        # serializes like one written by hand.
        counts = {name: check_scalar(getattr(self, name), name, integer=True, low=1)
                  for name in ("epochs", "width", "metrics_every", "eval_batch_size", "lbfgs_history",
                               "lbfgs_max_iter")}
        defaults = dict(paper_defaults(opt, random_labels=self.random_labels),
                        lr_decay_every=max(1, counts["epochs"] // 5))
        for name in ("batch_size", "lr_decay_every"):
            value = getattr(self, name)
            counts[name] = defaults[name] if value is None else check_scalar(value, name, integer=True, low=1)
        return dataclasses.replace(
            self, optimizer=opt, model=self.model.lower(), dataset=self.dataset.lower().replace("-", ""),
            lr=defaults["lr"] if self.lr is None else float(self.lr),
            weight_decay=defaults["weight_decay"] if self.weight_decay is None else float(self.weight_decay),
            **counts,
        )


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
        rows = [r for r in self.history if r.get("nc1") is not None or r.get("train_acc") is not None]
        return rows[-1] if rows else self.history[-1]


class TrainingDiverged(RuntimeError):
    """Raised when the training loss becomes non-finite or exceeds ``max_loss``; ``.history`` is attached."""

    def __init__(self, message: str, history: list):
        super().__init__(message)
        self.history = history


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"`` → CUDA if available, else Apple MPS, else CPU; anything else is passed to torch."""
    if str(device) == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    return torch.device(device)


def make_optimizer(name: str, params, *, lr: float, weight_decay: float, momentum: float = 0.9,
                   lbfgs_history: int = 10, lbfgs_max_iter: int = 20) -> torch.optim.Optimizer:
    """SGD (momentum, weight decay), Adam (L2 weight decay) or L-BFGS (strong Wolfe line search, up to
    ``lbfgs_max_iter`` iterations per batch — torch's default 20, as in the paper's code; the weight decay
    is added to the loss by :func:`train_epoch`, not here)."""
    name = _check_choice(name, OPTIMIZERS, "optimizer")
    params = list(params)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.LBFGS(params, lr=lr, history_size=lbfgs_history, max_iter=lbfgs_max_iter,
                             line_search_fn="strong_wolfe")


def train_epoch(model, optimizer, data: DeviceDataset, *, batch_size: int, generator=None,
                augment: bool = True, amp: bool = False, lbfgs_weight_decay: float = 0.0):
    """One pass over ``data`` in random order; returns ``(loss_sum, correct, count)``.

    ``loss_sum`` (summed cross-entropy) and ``correct`` are 0-d tensors on the device: nothing is
    synchronized with the host inside the epoch. ``amp`` enables bf16 autocast (CUDA). For
    :class:`torch.optim.LBFGS` the closure adds ``lbfgs_weight_decay / 2 · ‖θ‖²`` to the loss; its
    line-search evaluations leave the batch-norm running statistics alone, and after each step one extra
    forward pass sets them to the batch's statistics at the accepted iterate. (The paper's code lets every
    evaluation, trial points included, update them; with the few large L-BFGS steps of a short run the
    eval-mode network then disagrees with the trained one.)
    """
    model.train()
    dev = data.device
    loss_sum = torch.zeros((), device=dev)
    correct = torch.zeros((), device=dev, dtype=torch.long)
    lbfgs = isinstance(optimizer, torch.optim.LBFGS)
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for x, y in data.batches(batch_size, shuffle=True, augment=augment, generator=generator):
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

            with _batchnorm_momentum(model, 0.0):
                optimizer.step(closure)
            loss, logits = seen["loss"], seen["logits"]
            with torch.no_grad(), _batchnorm_momentum(model, 1.0), \
                    torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=amp):
                model(x)  # running statistics := this batch's statistics at the accepted iterate
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
    return loss_sum, correct, len(data)


class _batchnorm_momentum:
    """Within the block, every batch-norm layer uses ``momentum`` for its running statistics (0: leave them
    alone, 1: replace them by the current batch's statistics)."""

    def __init__(self, model, momentum: float):
        self.norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
        self.momentum = momentum

    def __enter__(self):
        self.saved = [m.momentum for m in self.norms]
        for m in self.norms:
            m.momentum = self.momentum

    def __exit__(self, *exc):
        for m, momentum in zip(self.norms, self.saved, strict=True):
            m.momentum = momentum


@torch.no_grad()
def extract_features(model, data: DeviceDataset, *, batch_size: int = 512):
    """Features ``h`` (classifier input), logits and labels of ``data`` in eval mode, float32, in order.

    Returns
    -------
    features : Tensor of shape (N, d)
    logits : Tensor of shape (N, K)
    labels : Tensor of shape (N,)
    """
    model.eval()
    feats, logits, labels = [], [], []
    with torch.autocast(device_type=data.device.type, enabled=False):
        for x, y in data.batches(batch_size):
            h, z = _base(model).features_and_logits(x.float())
            feats.append(h.float())
            logits.append(z.float())
            labels.append(y)
    return torch.cat(feats), torch.cat(logits), torch.cat(labels)


@torch.no_grad()
def evaluate(model, train_data: DeviceDataset, test_data: DeviceDataset | None = None, *,
             batch_size: int = 512, collapse_metrics: bool = True) -> dict:
    """Train/test loss and accuracy and the NC metrics of ``model`` (eval mode, no augmentation).

    The NC metrics use the streaming statistics of :mod:`landscape_lib.class_stats`: one pass over the
    training set updates :class:`~landscape_lib.class_stats.StreamingClassStatistics` (float64) with the
    float32 features; NC4 (prediction ≠ nearest class mean) is counted from the same features once the
    class means are known, and :func:`landscape_lib.collapse.metrics_from_statistics` computes the metrics.
    Classifier ``W``, ``b`` are the model's last layer.
    """
    from . import class_stats, collapse

    model.eval()
    base = _base(model)
    k = base.num_classes
    stats = class_stats.StreamingClassStatistics(k, base.feature_dim) if collapse_metrics else None
    cached = []
    loss_sum = torch.zeros((), dtype=torch.float64, device=train_data.device)
    correct = torch.zeros((), dtype=torch.long, device=train_data.device)
    with torch.autocast(device_type=train_data.device.type, enabled=False):
        for x, y in train_data.batches(batch_size):
            h, z = base.features_and_logits(x.float())
            loss_sum += F.cross_entropy(z, y, reduction="sum").double()
            correct += (z.argmax(dim=1) == y).sum()
            if stats is not None:
                stats.update(h, y)
                cached.append((h, z))
    n = len(train_data)
    row = {"train_loss": float(loss_sum) / n, "train_acc": float(correct) / n}
    if stats is not None:
        result = stats.result()
        disagree = sum(int(collapse.nearest_mean_disagreements(h, z, result.class_means)) for h, z in cached)
        w = base.fc.weight.detach().double().cpu().numpy()
        metrics = collapse.metrics_from_statistics(result, w, disagree / n)
        row.update(metrics.as_dict())
    if test_data is not None:
        tl = torch.zeros((), dtype=torch.float64, device=test_data.device)
        tc = torch.zeros((), dtype=torch.long, device=test_data.device)
        with torch.autocast(device_type=test_data.device.type, enabled=False):
            for x, y in test_data.batches(batch_size):
                z = base(x.float())
                tl += F.cross_entropy(z, y, reduction="sum").double()
                tc += (z.argmax(dim=1) == y).sum()
        row.update({"test_loss": float(tl) / len(test_data), "test_acc": float(tc) / len(test_data)})
    return row


def _base(model):
    """The uncompiled module (``torch.compile`` wraps it in ``_orig_mod``)."""
    return getattr(model, "_orig_mod", model)


def _check_choice(value, choices, what: str) -> str:
    key = str(value).lower()
    if key not in choices:
        raise ValueError(f"unknown {what} {value!r}; expected one of {list(choices)}")
    return key


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same folder and rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_history(history: list, output_dir) -> None:
    """Write ``history.json`` and ``history.csv`` (one row per epoch) atomically into ``output_dir``."""
    out = Path(output_dir)

    def write_json(tmp):
        with open(tmp, "w") as f:
            json.dump(history, f, indent=1)

    def write_csv(tmp):
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(HISTORY_KEYS), extrasaction="ignore")
            writer.writeheader()
            for row in history:
                writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in HISTORY_KEYS})

    _atomic_write(out / "history.json", write_json)
    _atomic_write(out / "history.csv", write_csv)


def _rng_states(generator, device) -> dict:
    states = {"torch": torch.get_rng_state(), "generator": generator.get_state()}
    if device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device)
    return states


def _set_rng_states(states: dict, generator, device) -> None:
    torch.set_rng_state(states["torch"])
    generator.set_state(states["generator"])
    if device.type == "cuda" and "cuda" in states:
        torch.cuda.set_rng_state(states["cuda"], device)


def train(config: TrainConfig | None = None, *, output_dir=None, resume: bool = False,
          checkpoint_every: int = 0, until_epoch: int | None = None, progress: bool = False,
          data: tuple[ImageData, ImageData] | None = None, **overrides) -> TrainResult:
    """Train a CIFAR ResNet and record NC1–NC4 and accuracies per epoch (chapters 5–7).

    Parameters
    ----------
    config : TrainConfig or None
        The run; keyword ``overrides`` replace its fields (``train(optimizer="adam", epochs=10)``).
    output_dir : str, Path or None
        Where ``history.json``, ``history.csv`` and ``checkpoint.pt`` go (nothing is written if None).
    resume : bool
        Continue from ``output_dir/checkpoint.pt`` if it exists (same configuration required): model,
        optimizer, schedule, random states and history are restored.
    checkpoint_every : int
        Write the checkpoint atomically every this many epochs (0: only at ``until_epoch`` / the end
        when ``output_dir`` is given).
    until_epoch : int or None
        Stop after this epoch (checkpoint written), to split a long run; ``resume`` continues it.
    progress : bool
        tqdm progress bar over epochs on stderr (on for the command line, off for notebooks).
    data : (ImageData, ImageData) or None
        Training and test set already loaded (otherwise loaded from the configuration).

    Returns
    -------
    TrainResult

    Raises
    ------
    TrainingDiverged
        When the epoch's training loss is not finite or exceeds ``config.max_loss``.
    """
    config = dataclasses.replace(config or TrainConfig(), **overrides).resolved()
    device = resolve_device(config.device)
    cuda = device.type == "cuda"
    out = Path(output_dir) if output_dir is not None else None
    ckpt_path = out / "checkpoint.pt" if out is not None else None
    if (resume or checkpoint_every) and out is None:
        raise ValueError("resume and checkpoint_every need an output_dir")

    if data is None:
        data = load_splits(config.dataset, root=config.data_root, download=config.download,
                           n_train_per_class=config.n_train_per_class, n_test_per_class=config.n_test_per_class,
                           random_labels=config.random_labels, rng=config.seed)
    train_set, test_set = data
    channels_last = config.channels_last and cuda
    train_dev = DeviceDataset(train_set, device, channels_last=channels_last)
    test_dev = DeviceDataset(test_set, device, stats_from=train_set, channels_last=channels_last)

    torch.manual_seed(config.seed)
    model = build_model(config.model, train_set.num_classes, width=config.width, feature_dim=config.feature_dim,
                        fixed_classifier=config.fixed_classifier).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    if cuda:
        torch.backends.cudnn.benchmark = True
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer(config.optimizer, trainable, lr=config.lr, weight_decay=config.weight_decay,
                               momentum=config.momentum, lbfgs_history=config.lbfgs_history,
                               lbfgs_max_iter=config.lbfgs_max_iter)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=config.lr_decay_every, gamma=config.lr_decay)
    generator = torch.Generator(device=device)
    generator.manual_seed(config.seed)
    history: list = []
    start = 0
    if resume and ckpt_path.exists():
        state = torch.load(ckpt_path, map_location=device, weights_only=False)
        saved = state["config"]
        if saved != dataclasses.asdict(config):
            diff = {k: (saved.get(k), v) for k, v in dataclasses.asdict(config).items() if saved.get(k) != v}
            raise ValueError(f"cannot resume from {ckpt_path}: its configuration differs (saved, now): {diff}")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        _set_rng_states(state["rng"], generator, device)
        history, start = state["history"], state["epoch"]

    net = torch.compile(model) if config.compile else model
    use_amp = config.amp and cuda and config.optimizer != "lbfgs"
    lbfgs_wd = config.weight_decay if config.optimizer == "lbfgs" else 0.0
    last = config.epochs if until_epoch is None else min(config.epochs, until_epoch)
    bar = _progress_bar(progress, config.epochs, start)

    def save_checkpoint(epoch):
        state = {"config": dataclasses.asdict(config), "epoch": epoch, "model": model.state_dict(),
                 "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                 "rng": _rng_states(generator, device), "history": history}
        _atomic_write(ckpt_path, lambda tmp: torch.save(state, tmp))

    try:
        for epoch in range(start + 1, last + 1):
            t0 = time.perf_counter()
            lr = optimizer.param_groups[0]["lr"]
            loss_sum, correct, n = train_epoch(net, optimizer, train_dev, batch_size=config.batch_size,
                                               generator=generator, augment=config.augment, amp=use_amp,
                                               lbfgs_weight_decay=lbfgs_wd)
            loss_total, n_correct = (float(v) for v in torch.stack([loss_sum.float(), correct.float()]).tolist())
            row = dict.fromkeys(HISTORY_KEYS)
            row.update(epoch=epoch, lr=lr, train_loss_running=loss_total / n, train_acc_running=n_correct / n)
            if not math.isfinite(row["train_loss_running"]) or row["train_loss_running"] > config.max_loss:
                history.append(row)
                if out is not None:
                    write_history(history, out)
                loss = row["train_loss_running"]
                why = "not finite" if not math.isfinite(loss) else f"above max_loss={config.max_loss:g}"
                raise TrainingDiverged(
                    f"training stopped at epoch {epoch}: the mean training loss is {loss:.4g} ({why}); "
                    f"{config.optimizer} with lr={lr:g} diverged — lower the learning rate or check the data.",
                    history)
            scheduler.step()
            if epoch % config.metrics_every == 0 or epoch == config.epochs:
                row.update(evaluate(net, train_dev, test_dev, batch_size=config.eval_batch_size))
            row["seconds"] = time.perf_counter() - t0
            history.append(row)
            if out is not None:
                write_history(history, out)
                if (checkpoint_every and epoch % checkpoint_every == 0) or epoch == last:
                    save_checkpoint(epoch)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{row['train_loss_running']:.3g}", acc=f"{row['train_acc_running']:.3f}",
                                nc1=None if row["nc1"] is None else f"{row['nc1']:.3g}")
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


def _arg_type(annotation: str):
    for name, kind in (("int", int), ("float", float)):
        if name in annotation:
            return kind
    return str


def build_parser() -> argparse.ArgumentParser:
    """Command-line options: one per :class:`TrainConfig` field plus output/resume/progress options."""
    parser = argparse.ArgumentParser(
        prog="python -m landscape_lib.train",
        description="Train a CIFAR ResNet and record neural-collapse metrics per epoch (Landscapes, ch. 5-7).")
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.type == "bool":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default)
        else:
            parser.add_argument(flag, type=_arg_type(f.type), default=f.default,
                                help=f"default: {f.default if f.default is not None else 'paper value'}")
    parser.add_argument("--output-dir", default="runs/latest", help="history.json/csv and checkpoint.pt go here")
    parser.add_argument("--resume", action="store_true", help="continue from output-dir/checkpoint.pt")
    parser.add_argument("--checkpoint-every", type=int, default=10)
    parser.add_argument("--until-epoch", type=int, default=None, help="stop after this epoch (resume later)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    return parser


def main(argv=None) -> int:
    """Entry point of ``python -m landscape_lib.train`` and of the ``landscape-train`` console script."""
    args = vars(build_parser().parse_args(argv))
    extra = {k: args.pop(k) for k in ("output_dir", "resume", "checkpoint_every", "until_epoch", "no_progress",
                                       "threads")}
    if extra["threads"]:
        torch.set_num_threads(extra["threads"])
    try:
        result = train(TrainConfig(**args), output_dir=extra["output_dir"], resume=extra["resume"],
                       checkpoint_every=extra["checkpoint_every"], until_epoch=extra["until_epoch"],
                       progress=not extra["no_progress"])
    except (ValueError, FileNotFoundError, TrainingDiverged) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    final = result.final
    summary = {k: final.get(k) for k in ("epoch", "train_acc", "test_acc", "nc1", "nc2_classifier", "nc3_ufm", "nc4")}
    print(json.dumps({"device": str(result.device), "output_dir": str(result.output_dir), **summary},
                     default=lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else v))
    return 0


if __name__ == "__main__":
    sys.exit(main())
