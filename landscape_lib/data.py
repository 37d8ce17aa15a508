"""Image data for the deep neural-collapse chapters (5–7): CIFAR-10 and the offline default.

* ``"cifar10"`` — CIFAR-10 (Krizhevsky 2009) read by torchvision's :class:`~torchvision.datasets.CIFAR10`
  from ``root/cifar-10-batches-py`` (downloaded there when ``download=True`` and the internet is
  reachable). A missing copy is a :class:`FileNotFoundError` naming the path tried and the offline
  alternative.
* ``"digits"`` — the scikit-learn handwritten digits (8×8, 10 classes), which ship inside scikit-learn:
  no network is needed. They are brought to CIFAR's shape (3×32×32, uint8) by nearest-neighbour
  upsampling and channel replication, and follow the same code path as CIFAR-10. This is the book
  profile's data set. ``resolution`` 8, 16 or 24 upsamples less (8: the digits as they are, 16× cheaper
  to train than 32×32; the stored reference runs use it).
* ``"synthetic"`` — random CIFAR-shaped tensors with balanced labels, for throughput measurements.

Every loader returns :class:`ImageData` (uint8 images of shape ``(N, 3, R, R)`` on the CPU, ``R = 32``
unless ``resolution`` says otherwise, int64
labels), balanced by construction: ``n_per_class`` samples per class (:func:`balanced_subset`),
optionally with balanced random labels (:func:`random_labels`, chapter 6). :class:`DeviceDataset` puts
the images on the training device once and does the augmentation of the paper's code (random crop
32 with padding 4, horizontal flip; padding ``R / 8`` at other resolutions) batched on that device.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ._validation import as_rng, check_scalar

__all__ = ["DATASETS", "DIGITS_RESOLUTIONS", "check_resolution", "ImageData", "DeviceDataset", "load_dataset",
           "load_splits", "dataset_key", "balanced_subset", "random_labels", "augment_batch", "write_fake_cifar10",
           "default_data_root", "synthetic_images"]

#: Names accepted by :func:`load_dataset`.
DATASETS = ("digits", "cifar10", "synthetic")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_CIFAR_FOLDER = "cifar-10-batches-py"
_CIFAR_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch", "batches.meta")
#: Image sides :func:`load_dataset` can make from the 8×8 digits (nearest-neighbour factors 1–4).
DIGITS_RESOLUTIONS = (8, 16, 24, 32)
#: Digits per class kept for training (the rest, at least 54 per class, is the test pool).
_DIGITS_TRAIN_POOL = 120
_DIGITS_SPLIT_SEED = 2021


@dataclass(frozen=True)
class ImageData:
    """A labelled image set on the CPU.

    Attributes
    ----------
    images : Tensor of shape (N, 3, H, W), uint8
        ``H = W = 32`` for CIFAR-10; the digits' side is the ``resolution`` they were loaded at.
    labels : Tensor of shape (N,), int64 in ``[0, num_classes)``
    num_classes : int
    name : str
        Data set name and split, e.g. ``"digits/train"``.
    classes : tuple of str
    """

    images: torch.Tensor
    labels: torch.Tensor
    num_classes: int
    name: str
    classes: tuple

    def __post_init__(self):
        images, labels = self.images, self.labels
        if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError(f"images must be a uint8 tensor of shape (N, C, H, W); got "
                             f"{_describe(images)}")
        if images.shape[0] == 0 or 0 in images.shape[1:]:
            raise ValueError(f"images must not be empty; got shape {tuple(images.shape)}")
        if not isinstance(labels, torch.Tensor) or labels.dtype != torch.int64 or labels.shape != images.shape[:1]:
            raise ValueError(f"labels must be an int64 tensor of shape ({images.shape[0]},), one per image; got "
                             f"{_describe(labels)}")
        num_classes = check_scalar(self.num_classes, "num_classes", integer=True, low=2)
        _check_label_range(labels.numpy() if labels.device.type == "cpu" else labels.cpu().numpy(), num_classes)
        if not isinstance(self.name, str):
            raise ValueError(f"name must be a string; got {type(self.name).__name__}")
        classes = tuple(self.classes) if isinstance(self.classes, (tuple, list)) else None
        if classes is None or len(classes) != num_classes:
            raise ValueError(f"classes must be a tuple of {num_classes} class names (num_classes); got "
                             f"{self.classes!r}")
        object.__setattr__(self, "num_classes", num_classes)
        object.__setattr__(self, "classes", classes)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def class_counts(self) -> np.ndarray:
        """Samples per class, shape ``(num_classes,)``."""
        return np.bincount(self.labels.numpy(), minlength=self.num_classes)


def default_data_root() -> Path:
    """``$LANDSCAPE_DATA`` if set, else ``~/.cache/landscape_lib/data``."""
    return Path(os.environ.get("LANDSCAPE_DATA", Path.home() / ".cache" / "landscape_lib" / "data")).expanduser()


def _describe(x) -> str:
    """What came, for error messages: type, and dtype and shape where it has them."""
    shape = getattr(x, "shape", None)
    dtype = getattr(x, "dtype", None)
    return type(x).__name__ + (f" of dtype {dtype} and shape {tuple(shape)}" if shape is not None else "")


def _check_bool(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r} of type {type(value).__name__}")
    return bool(value)


def _as_class_labels(labels, name: str = "labels") -> np.ndarray:
    """Labels as a non-empty 1-D integer array of class indices (>= 0), never modified."""
    y = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of class indices; got shape {y.shape}")
    if y.dtype.kind not in "iu":
        raise ValueError(f"{name} must have an integer dtype (class indices); got dtype {y.dtype}")
    if y.min() < 0:
        raise ValueError(f"{name} must be class indices >= 0; got {int(y.min())}")
    return y


def _check_label_range(labels: np.ndarray, num_classes: int, name: str = "labels") -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{name} must lie in 0..{num_classes - 1} (num_classes={num_classes}); got values in "
                         f"{int(labels.min())}..{int(labels.max())}")


def balanced_subset(labels, n_per_class: int, *, num_classes: int | None = None, rng=None) -> np.ndarray:
    """Indices of a random subset with exactly ``n_per_class`` samples of every class, sorted.

    Parameters
    ----------
    labels : array-like of shape (N,), int
        Class indices in ``0..num_classes-1``.
    n_per_class : int
    num_classes : int or None
        Defaults to ``max(labels) + 1``.
    rng : None, int or Generator

    Returns
    -------
    ndarray of shape (num_classes * n_per_class,), int64

    Raises
    ------
    ValueError
        For labels that are not a non-empty 1-D integer array within ``0..num_classes-1``, counts that are
        not positive integers, or a class with fewer than ``n_per_class`` samples.
    """
    labels = _as_class_labels(labels)
    if num_classes is None:
        num_classes = int(labels.max()) + 1
    else:
        num_classes = check_scalar(num_classes, "num_classes", integer=True, low=1)
        _check_label_range(labels, num_classes)
    n_per_class = check_scalar(n_per_class, "n_per_class", integer=True, low=1)
    gen = as_rng(rng)
    chosen = []
    for k in range(num_classes):
        idx = np.flatnonzero(labels == k)
        if idx.size < n_per_class:
            raise ValueError(f"class {k} has only {idx.size} samples; n_per_class={n_per_class} is too large")
        chosen.append(gen.choice(idx, size=n_per_class, replace=False))
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def random_labels(labels, *, rng=None) -> np.ndarray:
    """Balanced random labels (chapter 6): a seeded random permutation of ``labels``.

    Every class keeps its count, so balanced labels stay balanced, but a label no longer says anything
    about its image.

    Parameters
    ----------
    labels : array-like of shape (N,), int
    rng : None, int or Generator

    Returns
    -------
    ndarray of shape (N,), int64
    """
    return _permute(_as_class_labels(labels).astype(np.int64), as_rng(rng))


def _permute(labels: np.ndarray, gen: np.random.Generator) -> np.ndarray:
    return gen.permutation(labels)


def synthetic_images(n: int, num_classes: int = 10, *, rng=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Random uint8 images of shape ``(n, 3, 32, 32)`` with balanced labels (throughput benchmarks).

    Parameters
    ----------
    n : int
        Number of images, at least ``num_classes``.
    num_classes : int
        At least 2. Label ``i`` is ``i mod num_classes``: the counts differ by at most one.
    rng : None, int or Generator

    Returns
    -------
    images : Tensor of shape (n, 3, 32, 32), uint8
    labels : Tensor of shape (n,), int64 in ``0..num_classes-1``
    """
    num_classes = check_scalar(num_classes, "num_classes", integer=True, low=2)
    n = check_scalar(n, "n", integer=True, low=num_classes)
    gen = as_rng(rng)
    images = torch.from_numpy(gen.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8))
    labels = torch.from_numpy(np.arange(n, dtype=np.int64) % num_classes)
    return images, labels


def _digits_arrays(train: bool, resolution: int = 32) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images  # (1797, 8, 8), values 0..16
    labels = digits.target.astype(np.int64)
    split = np.random.default_rng(_DIGITS_SPLIT_SEED)
    keep = []
    for k in range(10):
        idx = split.permutation(np.flatnonzero(labels == k))
        keep.append(idx[:_DIGITS_TRAIN_POOL] if train else idx[_DIGITS_TRAIN_POOL:])
    keep = np.sort(np.concatenate(keep))
    scaled = np.rint(images[keep] * (255.0 / 16.0)).astype(np.uint8)
    factor = resolution // 8
    big = scaled.repeat(factor, axis=1).repeat(factor, axis=2)  # nearest-neighbour 8×8 → R×R
    shape = (len(keep), 3, resolution, resolution)
    return np.ascontiguousarray(np.broadcast_to(big[:, None], shape)), labels[keep]


class _LocalCIFAR10:
    """torchvision's CIFAR10 reading a directory by its layout: files present, md5 not required.

    torchvision checks the md5 of every batch file; a CIFAR-10-format directory written by the tests
    (:func:`write_fake_cifar10`) has the official layout and pickle format but other checksums. The
    checksum of a download is still verified by torchvision when it downloads.
    """

    @staticmethod
    def make():
        from torchvision.datasets import CIFAR10

        class LocalCIFAR10(CIFAR10):
            def _check_integrity(self) -> bool:
                folder = Path(self.root) / self.base_folder
                return all((folder / name).is_file() for name in _CIFAR_FILES)

            def _load_meta(self) -> None:
                with open(Path(self.root) / self.base_folder / self.meta["filename"], "rb") as f:
                    self.classes = pickle.load(f, encoding="latin1")[self.meta["key"]]
                self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

        return LocalCIFAR10


def _cifar_missing(root: Path, why: str) -> FileNotFoundError:
    return FileNotFoundError(
        f"CIFAR-10 not found: tried {root / _CIFAR_FOLDER} (expected {', '.join(_CIFAR_FILES)}); {why}. "
        "Give `root` (CLI: --data-root) a directory that holds cifar-10-batches-py, pass download=True "
        "(CLI: --download) where the internet is reachable, or use the offline data set "
        "dataset='digits' (CLI: --dataset digits), the scikit-learn digits that ship with scikit-learn."
    )


def _download_cifar10(root: Path) -> None:
    """Download into a temporary folder and move the result in place: nothing is left half-written."""
    cls = _LocalCIFAR10.make()
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".cifar10-download-", dir=root))
    try:
        cls(str(tmp), train=True, download=True)
        target = root / _CIFAR_FOLDER
        if not target.exists():
            os.replace(tmp / _CIFAR_FOLDER, target)
    except Exception as exc:  # network errors come in many types (URLError, OSError, RuntimeError)
        raise _cifar_missing(root, f"the download failed ({type(exc).__name__}: {exc})") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _cifar_arrays(root: Path, train: bool, download: bool) -> tuple[np.ndarray, np.ndarray]:
    folder = root / _CIFAR_FOLDER
    missing = [name for name in _CIFAR_FILES if not (folder / name).is_file()]
    if missing and download:
        _download_cifar10(root)
    elif missing:
        raise _cifar_missing(root, f"missing {', '.join(missing)} and download=False")
    ds = _LocalCIFAR10.make()(str(root), train=train, download=False)
    images = np.ascontiguousarray(ds.data.transpose(0, 3, 1, 2))  # NHWC → NCHW, uint8
    return images, np.asarray(ds.targets, dtype=np.int64)


def load_dataset(name: str = "digits", *, train: bool = True, root=None, download: bool = False,
                 n_per_class: int | None = None, random_labels: bool = False, rng=None,
                 resolution: int = 32) -> ImageData:
    """Load one split of a data set as balanced uint8 images of shape ``(N, 3, R, R)``.

    Parameters
    ----------
    name : {"digits", "cifar10", "synthetic"}
        ``"digits"`` is the offline default (the book profile of chapters 5–7).
    train : bool
        Training split (True) or test split.
    root : str, Path or None
        Directory holding ``cifar-10-batches-py`` (CIFAR-10 only); default :func:`default_data_root`.
    download : bool
        Download CIFAR-10 into ``root`` when it is not there (needs the internet).
    n_per_class : int or None
        Keep a random balanced subset with this many samples per class (:func:`balanced_subset`);
        ``None`` keeps the largest balanced subset (all of CIFAR-10: 5000 / 1000 per class; digits: 120
        train / 54 test per class; synthetic: 100 per class).
    random_labels : bool
        Replace the labels by a seeded random permutation of them (:func:`random_labels`).
    rng : None, int or Generator
        Seed of the subset and of the random labels.
    resolution : int
        Image side ``R``: 32 (CIFAR-10's, the only one for ``"cifar10"`` and ``"synthetic"``); the digits
        also 8, 16 or 24 (:data:`DIGITS_RESOLUTIONS`), their 8×8 pixels repeated ``R / 8`` times.

    Returns
    -------
    ImageData
    """
    key = dataset_key(name)
    resolution = check_resolution(key, resolution)
    train, download, random_labels = (_check_bool(v, k) for k, v in
                                      (("train", train), ("download", download), ("random_labels", random_labels)))
    if n_per_class is not None:
        n_per_class = check_scalar(n_per_class, "n_per_class", integer=True, low=1)
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise ValueError(f"root must be a path (str or os.PathLike) or None; got {type(root).__name__}")
    gen = as_rng(rng)
    split = "train" if train else "test"
    if key == "digits":
        images, labels = _digits_arrays(train, resolution)
        classes = tuple(str(k) for k in range(10))
    elif key == "cifar10":
        root = Path(root).expanduser() if root is not None else default_data_root()
        images, labels = _cifar_arrays(root, train, download)
        classes = CIFAR10_CLASSES
    else:
        n = 10 * (n_per_class or 100)
        imgs, labs = synthetic_images(n, 10, rng=gen)
        images, labels, classes = imgs.numpy(), labs.numpy(), tuple(str(k) for k in range(10))
    num_classes = len(classes)
    if n_per_class is None:
        n_per_class = int(np.bincount(labels, minlength=num_classes).min())
    index = balanced_subset(labels, n_per_class, num_classes=num_classes, rng=gen)
    images, labels = images[index], labels[index]
    if random_labels:
        labels = _permute(labels, gen)
    return ImageData(torch.from_numpy(np.ascontiguousarray(images)), torch.from_numpy(labels),
                     num_classes, f"{key}/{split}", classes)


def check_resolution(dataset: str, resolution) -> int:
    """The image side ``resolution`` checked for ``dataset`` (a canonical name, :func:`dataset_key`)."""
    allowed = DIGITS_RESOLUTIONS if dataset == "digits" else (32,)
    if isinstance(resolution, (bool, np.bool_)) or not isinstance(resolution, (int, np.integer)) \
            or int(resolution) not in allowed:
        raise ValueError(f"resolution must be one of {list(allowed)} for {dataset!r} (the image side in "
                         f"pixels); got {resolution!r}")
    return int(resolution)


def dataset_key(name) -> str:
    """The canonical name of a data set (``"CIFAR-10"`` → ``"cifar10"``), or ``ValueError`` listing the names."""
    key = name.lower().replace("-", "") if isinstance(name, str) else None
    if key not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; expected one of {list(DATASETS)}")
    return key


def load_splits(name: str = "digits", *, root=None, download: bool = False, n_train_per_class=None,
                n_test_per_class=None, random_labels: bool = False, rng=None,
                resolution: int = 32) -> tuple[ImageData, ImageData]:
    """Training and test split (random labels, if asked, only on the training split).

    Parameters are those of :func:`load_dataset`; ``n_train_per_class`` and ``n_test_per_class`` are its
    ``n_per_class`` for each split. Both splits draw from one generator made from ``rng``.

    Returns
    -------
    (ImageData, ImageData)
        Training and test split.
    """
    gen = as_rng(rng)
    train = load_dataset(name, train=True, root=root, download=download, n_per_class=n_train_per_class,
                         random_labels=random_labels, rng=gen, resolution=resolution)
    test = load_dataset(name, train=False, root=root, download=download, n_per_class=n_test_per_class, rng=gen,
                        resolution=resolution)
    return train, test


def augment_batch(images: torch.Tensor, *, generator: torch.Generator | None = None,
                  padding: int = 4) -> torch.Tensor:
    """Random crop with zero padding and random horizontal flip, batched on the images' device.

    The same augmentation as torchvision's ``RandomCrop(32, padding=4)`` followed by
    ``RandomHorizontalFlip()`` applied image by image (the paper's code), done for the whole batch
    with one gather.

    Parameters
    ----------
    images : Tensor of shape (B, C, H, W), any dtype
    generator : torch.Generator or None
        On the images' device.

    padding : int
        Zero padding on each side, ``>= 0``.

    Returns
    -------
    Tensor of shape (B, C, H, W), same dtype and device.
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError(f"images must be a tensor of shape (B, C, H, W); got {_describe(images)}")
    padding = check_scalar(padding, "padding", integer=True, low=0)
    _check_generator(generator, images.device)
    b, c, h, w = images.shape
    dev = images.device
    padded = F.pad(images, (padding, padding, padding, padding))
    oy = torch.randint(0, 2 * padding + 1, (b, 1), generator=generator, device=dev)
    ox = torch.randint(0, 2 * padding + 1, (b, 1), generator=generator, device=dev)
    flip = torch.rand(b, 1, generator=generator, device=dev) < 0.5
    rows = oy + torch.arange(h, device=dev)
    cols_fwd = torch.arange(w, device=dev)
    cols = ox + torch.where(flip, cols_fwd.flip(0), cols_fwd)
    batch_idx = torch.arange(b, device=dev)[:, None, None, None]
    chan_idx = torch.arange(c, device=dev)[None, :, None, None]
    return padded[batch_idx, chan_idx, rows[:, None, :, None], cols[:, None, None, :]]


def _check_generator(generator, device: torch.device) -> None:
    if generator is None:
        return
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator or None; got {type(generator).__name__}")
    if generator.device.type != device.type:
        raise ValueError(f"generator must live on the data's device type {device.type!r}; got one on "
                         f"{generator.device.type!r}")


class DeviceDataset:
    """An :class:`ImageData` living on the training device, normalized and augmented there in batches.

    The uint8 images are copied to ``device`` once; each batch is gathered, augmented
    (:func:`augment_batch`), converted to float32 and normalized by the per-channel mean and standard
    deviation of ``stats_from`` (default: this set) — no per-sample Python work, no host transfer.

    Parameters
    ----------
    data : ImageData
    device : str or torch.device
    stats_from : ImageData or None
        Set whose per-channel mean/std normalize the images (pass the training set for the test set).
    channels_last : bool
        Return batches in ``torch.channels_last`` memory format (faster convolutions on CUDA).
    """

    def __init__(self, data: ImageData, device="cpu", *, stats_from: ImageData | None = None,
                 channels_last: bool = False):
        if not isinstance(data, ImageData):
            raise ValueError(f"data must be an ImageData; got {type(data).__name__}")
        if stats_from is not None and (not isinstance(stats_from, ImageData)
                                       or stats_from.images.shape[1] != data.images.shape[1]):
            raise ValueError(f"stats_from must be None or an ImageData with {data.images.shape[1]} channels like "
                             f"data; got {_describe(getattr(stats_from, 'images', stats_from))}")
        channels_last = _check_bool(channels_last, "channels_last")
        try:
            self.device = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(f"device must name a torch device ('cpu', 'cuda', 'cuda:0', 'mps'); "
                             f"got {device!r}") from exc
        self.images = data.images.to(self.device)
        self.labels = data.labels.to(self.device)
        self.num_classes = data.num_classes
        self.name = data.name
        ref = (stats_from or data).images.double()
        self.mean = (ref.mean(dim=(0, 2, 3)) / 255.0).float().view(1, -1, 1, 1).to(self.device)
        self.std = (ref.std(dim=(0, 2, 3)) / 255.0).clamp_min(1e-3).float().view(1, -1, 1, 1).to(self.device)
        self.channels_last = channels_last

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def batch(self, index: torch.Tensor, *, augment: bool = False,
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Images ``(B, 3, H, W)`` float32 normalized (augmented if asked) and labels ``(B,)``.

        Augmentation pads by ``max(1, W // 8)`` (4 at CIFAR's 32 pixels, the paper's).

        ``index`` is a 1-D integer tensor of positions on the data's device (not range-checked here: that
        would wait for the device at every batch; torch raises on an index out of range).
        """
        if not isinstance(index, torch.Tensor) or index.ndim != 1 or index.is_floating_point():
            raise ValueError(f"index must be a 1-D integer tensor of positions; got {_describe(index)}")
        x = self.images[index]
        if augment:
            x = augment_batch(x, generator=generator, padding=max(1, x.shape[-1] // 8))
        x = (x.float() / 255.0 - self.mean) / self.std
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, self.labels[index]

    def batches(self, batch_size: int, *, shuffle: bool = False, augment: bool = False,
                generator: torch.Generator | None = None, drop_last: bool = False):
        """Iterate over ``(images, labels)`` batches covering the set once.

        The last batch is short when ``batch_size`` does not divide the set, unless ``drop_last``: then it is
        left out, so that every batch has the same shape (what ``torch.compile`` needs to compile once; with
        ``shuffle`` a different remainder is left out each time).
        """
        batch_size = check_scalar(batch_size, "batch_size", integer=True, low=1)
        shuffle, augment, drop_last = (_check_bool(v, k) for k, v in
                                       (("shuffle", shuffle), ("augment", augment), ("drop_last", drop_last)))
        _check_generator(generator, self.device)
        n = len(self)
        order = (torch.randperm(n, generator=generator, device=self.device) if shuffle
                 else torch.arange(n, device=self.device))
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            yield self.batch(order[start:start + batch_size], augment=augment, generator=generator)


def write_fake_cifar10(root, n_per_class: int = 10, rng=None, *, n_test_per_class: int | None = None) -> Path:
    """Write a small CIFAR-10-format directory: ``root/cifar-10-batches-py`` in the official layout.

    The five ``data_batch_*`` files, ``test_batch`` and ``batches.meta`` are pickled dictionaries as in
    the official archive (``data``: uint8 array of shape ``(n, 3072)``, ``labels``: list of int), so
    torchvision's reader loads them. Each class gets its own mean colour plus noise, so a network can
    learn the classes. Used by the tests and by the smoke run of chapters 5–7.

    Parameters
    ----------
    root : str or Path
    n_per_class : int
        Training images per class (spread over the five batches).
    rng : None, int or Generator
    n_test_per_class : int or None
        Test images per class (default ``n_per_class``).

    Returns
    -------
    Path of the ``cifar-10-batches-py`` folder.
    """
    n_per_class = check_scalar(n_per_class, "n_per_class", integer=True, low=1)
    if n_test_per_class is not None:
        n_test_per_class = check_scalar(n_test_per_class, "n_test_per_class", integer=True, low=1)
    if not isinstance(root, (str, os.PathLike)):
        raise ValueError(f"root must be a path (str or os.PathLike); got {type(root).__name__}")
    gen = as_rng(rng)
    folder = Path(root) / _CIFAR_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    colours = gen.integers(30, 226, size=(10, 3))

    def make(n_each: int):
        labels = np.repeat(np.arange(10), n_each)
        gen.shuffle(labels)
        noise = gen.normal(0.0, 25.0, size=(labels.size, 3, 32, 32))
        pixels = np.clip(colours[labels][:, :, None, None] + noise, 0, 255).astype(np.uint8)
        return pixels.reshape(labels.size, 3072), labels

    def dump(name: str, data: np.ndarray, labels: np.ndarray, batch_label: str) -> None:
        entry = {"batch_label": batch_label, "labels": [int(v) for v in labels], "data": data,
                 "filenames": [f"fake_{batch_label}_{i}.png" for i in range(len(labels))]}
        with open(folder / name, "wb") as f:
            pickle.dump(entry, f)

    data, labels = make(n_per_class)
    for i, part in enumerate(np.array_split(np.arange(labels.size), 5), start=1):
        dump(f"data_batch_{i}", data[part], labels[part], f"training batch {i} of 5")
    data, labels = make(n_test_per_class if n_test_per_class is not None else n_per_class)
    dump("test_batch", data, labels, "testing batch 1 of 1")
    meta = {"label_names": list(CIFAR10_CLASSES), "num_cases_per_batch": int(np.ceil(10 * n_per_class / 5)),
            "num_vis": 3072}
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump(meta, f)
    return folder
