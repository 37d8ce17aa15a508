"""Training throughput: the library's loop against a plain reference loop, side by side (chapters 5–7).

* **this loop** — :func:`landscape_lib.train.train_epoch` on a :class:`landscape_lib.data.DeviceDataset`:
  uint8 images resident on the device, random crop + flip batched there, bf16 autocast and channels-last
  on CUDA, no host synchronization inside the epoch.
* **reference** — what the paper's code does: a ``DataLoader`` over a dataset that turns each image into
  a PIL image and applies torchvision's ``RandomCrop(32, padding=4)``, ``RandomHorizontalFlip``,
  ``ToTensor`` and ``Normalize`` on the CPU in float32, batches copied to the device, float32 training,
  ``loss.item()`` and the accuracy read back every batch.

Both train the same model (same architecture and initialization) on the same synthetic CIFAR-shaped
uint8 tensors (no download) and print training images per second and the ratio. Apart from training, the
evaluation that :func:`landscape_lib.train.train` runs every ``metrics_every`` epochs
(:func:`landscape_lib.train.evaluate`: loss, accuracy and NC1-NC4 on the training set, forward in the
training precision) is timed on its own, in seconds and images per second, so the two costs are never
mixed. ``--json PATH`` writes every number. Defaults are sized for a CPU; on a GPU, for example::

    python benchmarks/bench_training.py --device cuda --width 64 --n-images 25000 --epochs 2 --workers 8

(The issue's GPU targets: at least 3x the reference loop and 25,000 images/s for ResNet18 in bf16 on an
H200.) ``benchmarks/gpu_check.sh`` runs it on a GPU with a smoke run of the training command line.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms

from landscape_lib.data import DeviceDataset, ImageData, synthetic_images
from landscape_lib.nets import build_model
from landscape_lib.train import evaluate, make_optimizer, resolve_device, train_epoch


class _ReferenceDataset(torch.utils.data.Dataset):
    """Per-sample PIL transforms in float32, as torchvision's CIFAR10 with the paper's transforms."""

    def __init__(self, images_hwc: np.ndarray, labels: np.ndarray, mean, std):
        self.images, self.labels = images_hwc, labels
        self.transform = transforms.Compose([
            transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(), transforms.ToTensor(),
            transforms.Normalize(mean, std)])

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.images[i])), int(self.labels[i])


def reference_epoch(model, optimizer, loader, device) -> float:
    """One epoch of the paper-style loop; returns the mean loss (read back batch by batch)."""
    model.train()
    total, correct, seen = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * y.shape[0]
        correct += logits.argmax(1).eq(y).sum().item()
        seen += y.shape[0]
    return total / seen


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--n-images", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=1, help="timed epochs (after one warm-up epoch)")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader workers of the reference loop")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model of this loop")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--eval-batch-size", type=int, default=512, help="batch size of the timed evaluation")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    cuda = device.type == "cuda"
    images, labels = synthetic_images(args.n_images, rng=0)
    data = ImageData(images, labels, 10, "synthetic/train", tuple(map(str, range(10))))

    def fresh_model():
        torch.manual_seed(0)
        return build_model(args.model, 10, width=args.width).to(device)

    # This loop.
    ds = DeviceDataset(data, device, channels_last=cuda)
    model = fresh_model()
    if cuda:
        model = model.to(memory_format=torch.channels_last)
        torch.backends.cudnn.benchmark = True
    net = torch.compile(model, dynamic=False) if args.compile else model
    opt = make_optimizer("sgd", model.parameters(), lr=0.05, weight_decay=5e-4)
    gen = torch.Generator(device=device)
    gen.manual_seed(0)

    def ours():
        loss, correct, n = train_epoch(net, opt, ds, batch_size=args.batch_size, generator=gen, augment=True, amp=cuda,
                                       drop_last=args.compile)   # static shapes when compiled
        return float(loss) / n   # one host synchronization per epoch

    def timed(run_epoch):
        run_epoch()                     # warm-up (cuDNN autotuning, compilation, worker start)
        _sync(device)
        start = time.perf_counter()
        for _ in range(args.epochs):
            run_epoch()
        _sync(device)
        return args.epochs * args.n_images / (time.perf_counter() - start)

    ours_ips = timed(ours)
    # The evaluation, timed apart: a first call warms up (cuDNN autotuning of the eval batch shapes).
    evaluate(net, ds, batch_size=args.eval_batch_size, amp=cuda)
    _sync(device)
    start = time.perf_counter()
    row = evaluate(net, ds, batch_size=args.eval_batch_size, amp=cuda)
    _sync(device)
    eval_s = time.perf_counter() - start
    report = {"device": str(device), "device_name": torch.cuda.get_device_name(device) if cuda else "CPU",
              "threads": torch.get_num_threads(), "torch": torch.__version__, "model": args.model,
              "width": args.width, "batch_size": args.batch_size, "n_images": args.n_images,
              "epochs_timed": args.epochs, "compile": args.compile, "bf16": cuda, "channels_last": cuda,
              "train_images_per_s": ours_ips, "eval_seconds": eval_s, "eval_images_per_s": args.n_images / eval_s,
              "eval_batch_size": args.eval_batch_size,
              "eval_nc1": row["nc1"] if row["nc1"] == row["nc1"] else None}   # JSON has no NaN
    print(f"device {device} ({report['device_name']}, {report['threads']} threads), {args.model} width {args.width}, "
          f"batch {args.batch_size}, {args.n_images} synthetic images, torch {torch.__version__}")
    print(f"this loop, training (device-resident data, batched augmentation{', bf16, channels-last' if cuda else ''}"
          f"{', compiled' if args.compile else ''}): {ours_ips:10.1f} images/s")
    print(f"this loop, evaluation (loss, accuracy, NC1-NC4 on the {args.n_images} images): {eval_s:8.3f} s "
          f"({report['eval_images_per_s']:.1f} images/s)")
    if not args.skip_reference:
        report.update(_reference(args, images, labels, fresh_model, timed, device, cuda))
        report["ratio"] = ours_ips / report["reference_images_per_s"]
        print(f"reference (DataLoader, CPU transforms, float32, .item() per batch):  "
              f"{report['reference_images_per_s']:10.1f} images/s")
        print(f"ratio this loop / reference: {report['ratio']:.2f}x")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))
    return report


def _reference(args, images, labels, fresh_model, timed, device, cuda) -> dict:
    """Images per second of the paper-style loop."""
    ref_model = fresh_model()
    ref_opt = make_optimizer("sgd", ref_model.parameters(), lr=0.05, weight_decay=5e-4)
    mean = tuple((images.double().mean(dim=(0, 2, 3)) / 255).tolist())
    std = tuple((images.double().std(dim=(0, 2, 3)) / 255).tolist())
    ref_ds = _ReferenceDataset(images.permute(0, 2, 3, 1).numpy(), labels.numpy(), mean, std)
    loader = torch.utils.data.DataLoader(ref_ds, batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
                                         pin_memory=cuda, persistent_workers=args.workers > 0)
    ref_ips = timed(lambda: reference_epoch(ref_model, ref_opt, loader, device))
    return {"reference_images_per_s": ref_ips, "workers": args.workers}


if __name__ == "__main__":
    main()
