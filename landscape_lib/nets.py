"""CIFAR-style ResNets built on torchvision's ResNet, for the deep neural-collapse chapters (5–7).

The CIFAR variant of a ResNet (He et al. 2016) replaces the ImageNet stem (7×7 convolution with
stride 2 followed by a max-pool) by a single 3×3 convolution with stride 1 and no max-pool, so a
32×32 image keeps its resolution in the first stage. Three options matter for neural collapse
(Zhu et al. 2021; the book's Formulas appendix, ``book/formulas.md``):

* ``width`` — the base channel count (64 is the standard ResNet; chapter 6 sweeps it);
* ``feature_dim`` — the dimension ``d`` of the features at the classifier input; ``feature_dim = K``
  makes the last residual block output ``K`` channels (its last convolution and its shortcut
  projection map to ``K`` channels), which is what the talk's "d = K" parameter savings count;
* ``fixed_classifier`` — the last layer is the simplex ETF
  :math:`W = \\sqrt{K/(K-1)}\\,(I_K - \\tfrac1K 1 1^\\top)` placed in the first ``K`` feature coordinates,
  with zero bias, and frozen (``requires_grad = False``): it is never trained (chapter 7).

``stem`` chooses the first layer: ``"cifar"`` (the default, above) or ``"imagenet"``, torchvision's 7×7
convolution with stride 2 and a 3×3 max-pool with stride 2. The reference code of Zhu et al. builds the
latter unless its ``--SOTA`` flag is given, so its optimizer-comparison runs use it on 32×32 CIFAR-10
images (its random-label network has the 3×3 stem; ``docs/recipes.md`` cites the lines).

Every model returns logits from ``forward`` and exposes :meth:`CifarResNet.features` (the penultimate
features ``h``, shape ``(batch, d)``) and :meth:`CifarResNet.features_and_logits`, which the training
loop uses to compute the collapse metrics. torch is imported only here, in ``data.py`` and ``train.py``.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet, conv1x1, conv3x3

from ._validation import check_scalar
from .etf import simplex_etf

__all__ = ["CifarResNet", "MODELS", "build_model", "count_parameters", "etf_classifier_weight",
           "classifier_parameter_share", "parameter_savings", "TALK_SAVINGS", "STEMS"]

#: Model names accepted by :func:`build_model`: block type and blocks per stage.
MODELS = {
    "resnet18": (BasicBlock, (2, 2, 2, 2)),
    "resnet34": (BasicBlock, (3, 4, 6, 3)),
    "resnet50": (Bottleneck, (3, 4, 6, 3)),
}
#: First layers :func:`build_model` accepts (``stem=``).
STEMS = ("cifar", "imagenet")


def etf_classifier_weight(num_classes: int, feature_dim: int) -> torch.Tensor:
    """The fixed simplex-ETF classifier of chapter 7, shape ``(num_classes, feature_dim)``.

    .. math::
        W = \\sqrt{\\tfrac{K}{K-1}}\\,\\Big(I_K - \\tfrac1K \\mathbf 1 \\mathbf 1^\\top\\Big)
        \\quad\\text{in the first } K \\text{ columns, zeros elsewhere,}

    so every row has unit norm and distinct rows have inner product :math:`-1/(K-1)`: the deterministic
    :func:`landscape_lib.etf.simplex_etf`, rounded to float32 for the layer.

    Parameters
    ----------
    num_classes : int
        ``K >= 2``.
    feature_dim : int
        ``d >= K`` (the ETF needs ``K`` coordinates; ``d = K`` is the talk's choice).

    Returns
    -------
    Tensor of shape (num_classes, feature_dim), float32.
    """
    num_classes = check_scalar(num_classes, "num_classes", integer=True, low=2)
    feature_dim = check_scalar(feature_dim, "feature_dim", integer=True, low=1)
    if feature_dim < num_classes:
        raise ValueError(f"a fixed simplex-ETF classifier needs feature_dim >= num_classes; "
                         f"got feature_dim={feature_dim}, num_classes={num_classes}")
    return torch.from_numpy(simplex_etf(num_classes, feature_dim)).float()


class CifarResNet(ResNet):
    """A torchvision :class:`~torchvision.models.ResNet` with the CIFAR stem and neural-collapse options.

    Parameters
    ----------
    block : BasicBlock or Bottleneck
        torchvision's residual block.
    layers : sequence of 4 int
        Blocks per stage (``(2, 2, 2, 2)`` for ResNet18, ``(3, 4, 6, 3)`` for ResNet50).
    num_classes : int
        ``K``.
    width : int
        Base channel count; the stages have ``width, 2 width, 4 width, 8 width`` planes (times the
        block expansion, 4 for Bottleneck). 64 is the standard ResNet.
    feature_dim : int or None
        Output channels of the last block (the feature dimension ``d``). ``None`` keeps the standard
        ``8 · width · expansion``.
    fixed_classifier : bool
        Use the frozen simplex ETF (:func:`etf_classifier_weight`) with zero bias as the last layer.
    in_channels : int
        Input channels (3 for CIFAR-10 and for the book's digits, which are brought to 3 channels).
    stem : {"cifar", "imagenet"}
        ``"cifar"``: one 3×3 convolution, stride 1, no max-pool. ``"imagenet"``: a 7×7 convolution with
        stride 2 (padding 3) and a 3×3 max-pool with stride 2 (padding 1), which shrink the image 4× per side
        before the first stage.
    """

    def __init__(self, block, layers, num_classes: int = 10, *, width: int = 64,
                 feature_dim: int | None = None, fixed_classifier: bool = False, in_channels: int = 3,
                 stem: str = "cifar"):
        # torchvision's ResNet.__init__ hard-codes 64 base channels and the ImageNet stem; build the same
        # attributes here and reuse its _make_layer, blocks and initialization.
        nn.Module.__init__(self)
        if block not in (BasicBlock, Bottleneck):
            raise ValueError(f"block must be torchvision's BasicBlock or Bottleneck; got {block!r}")
        if not isinstance(layers, (tuple, list)) or len(layers) != 4:
            raise ValueError(f"layers must be a sequence of 4 block counts, one per stage; got {layers!r}")
        layers = [check_scalar(n, f"layers[{i}]", integer=True, low=1) for i, n in enumerate(layers)]
        if not isinstance(fixed_classifier, bool):
            raise ValueError(f"fixed_classifier must be True or False; got {fixed_classifier!r}")
        num_classes = check_scalar(num_classes, "num_classes", integer=True, low=2)
        width = check_scalar(width, "width", integer=True, low=1)
        in_channels = check_scalar(in_channels, "in_channels", integer=True, low=1)
        stem = stem.lower() if isinstance(stem, str) else stem
        if stem not in STEMS:
            raise ValueError(f"stem must be one of {list(STEMS)}; got {stem!r}")
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = width
        self.dilation = 1
        self.groups = 1
        self.base_width = 64  # Bottleneck inner width = planes · base_width / 64 = planes
        if stem == "cifar":
            self.conv1 = conv3x3(in_channels, width)
            self.maxpool = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(in_channels, width, kernel_size=7, stride=2, padding=3, bias=False)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.stem = stem
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, 2 * width, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 4 * width, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 8 * width, layers[3], stride=2)
        standard_dim = 8 * width * block.expansion
        if feature_dim is None:
            feature_dim = standard_dim
        feature_dim = check_scalar(feature_dim, "feature_dim", integer=True, low=1)
        if feature_dim != standard_dim:
            _narrow_last_block(self.layer4[-1], feature_dim)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(feature_dim, num_classes)
        self.num_classes = num_classes
        self.feature_dim = feature_dim
        self.width = width
        self.fixed_classifier = bool(fixed_classifier)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if self.fixed_classifier:
            with torch.no_grad():
                self.fc.weight.copy_(etf_classifier_weight(num_classes, feature_dim))
                self.fc.bias.zero_()
            self.fc.weight.requires_grad_(False)
            self.fc.bias.requires_grad_(False)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features ``h`` (the classifier's input), shape ``(batch, feature_dim)``."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(h, W h + b)``: features of shape ``(batch, d)`` and logits of shape ``(batch, K)``."""
        h = self.features(x)
        return h, self.fc(h)

    def _forward_impl(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))


def _narrow_last_block(block: nn.Module, out_channels: int) -> None:
    """Make a residual block output ``out_channels``: its last conv/BN and its shortcut map there."""
    if isinstance(block, Bottleneck):
        inner = block.conv3.in_channels
        block.conv3 = conv1x1(inner, out_channels)
        block.bn3 = nn.BatchNorm2d(out_channels)
        in_channels = block.conv1.in_channels
    else:
        inner = block.conv2.in_channels
        block.conv2 = conv3x3(inner, out_channels)
        block.bn2 = nn.BatchNorm2d(out_channels)
        in_channels = block.conv1.in_channels
    stride = block.stride
    block.downsample = nn.Sequential(conv1x1(in_channels, out_channels, stride), nn.BatchNorm2d(out_channels))


def build_model(name: str = "resnet18", num_classes: int = 10, *, width: int = 64,
                feature_dim: int | None = None, fixed_classifier: bool = False,
                in_channels: int = 3, stem: str = "cifar") -> CifarResNet:
    """Build a CIFAR ResNet by name (chapters 5–7).

    Parameters
    ----------
    name : {"resnet18", "resnet34", "resnet50"}
    num_classes : int
        ``K``.
    width : int
        Base channel count (64 = standard). The book profile uses 8–16 so a CPU can train it.
    feature_dim : int or None
        ``d``; ``num_classes`` gives the talk's "d = K" network.
    fixed_classifier : bool
        Frozen simplex-ETF last layer with zero bias.
    in_channels : int
        Input channels.
    stem : {"cifar", "imagenet"}
        The first layer (:class:`CifarResNet`); ``"imagenet"`` is the reference code's default.

    Returns
    -------
    CifarResNet

    Examples
    --------
    >>> count_parameters(build_model("resnet18", 10))
    11173962
    """
    key = name.lower() if isinstance(name, str) else None
    if key not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {sorted(MODELS)}")
    block, layers = MODELS[key]
    return CifarResNet(block, layers, num_classes, width=width, feature_dim=feature_dim,
                       fixed_classifier=fixed_classifier, in_channels=in_channels, stem=stem)


def _check_module(module, name: str) -> nn.Module:
    if not isinstance(module, nn.Module):
        raise ValueError(f"{name} must be a torch.nn.Module; got {type(module).__name__}")
    return module


def count_parameters(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of parameters of ``model`` (all of them, or only those with ``requires_grad``).

    Parameters
    ----------
    model : torch.nn.Module
    trainable_only : bool

    Returns
    -------
    int
    """
    _check_module(model, "model")
    if not isinstance(trainable_only, bool):
        raise ValueError(f"trainable_only must be True or False; got {trainable_only!r}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def classifier_parameter_share(model: nn.Module, classifier: nn.Module) -> tuple[int, int, float]:
    """``(classifier parameters, all parameters, share)`` — what fixing the classifier saves (chapter 7).

    Parameters
    ----------
    model : torch.nn.Module
        A network with at least one parameter.
    classifier : torch.nn.Module
        A submodule of ``model`` (its last layer).

    Returns
    -------
    (int, int, float)
    """
    _check_module(model, "model")
    _check_module(classifier, "classifier")
    if not any(m is classifier for m in model.modules()):
        raise ValueError("classifier must be a submodule of model (e.g. model.fc)")
    n_cls = count_parameters(classifier)
    n_all = count_parameters(model)
    if n_all == 0:
        raise ValueError("model has no parameters")
    return n_cls, n_all, n_cls / n_all


#: The talk's quoted savings in percent (Qu 2021, after Zhu et al. 2021), keyed like :func:`parameter_savings`.
TALK_SAVINGS = {"ImageNet ResNet50 classifier": 8.0, "ImageNet DenseNet169 classifier": 12.0,
                "ImageNet ShuffleNet V2 x1.0 classifier": 53.0, "CIFAR-10 ResNet18, d = K": 21.0,
                "CIFAR-10 ResNet50, d = K": 4.5}


def parameter_savings(num_classes_cifar: int = 10) -> list[dict]:
    """Parameters saved by a fixed classifier and by ``d = K``, counted on torchvision's models (chapter 7).

    * ImageNet (``K = 1000``): the share of the last linear layer in all parameters of torchvision's
      ResNet50, DenseNet169 and ShuffleNet V2 x1.0 (``weights=None``: nothing is downloaded) — what a
      fixed classifier does not train.
    * CIFAR-10: the parameters removed from the CIFAR ResNet18/ResNet50 when the last block outputs
      ``d = K`` channels (:func:`build_model` with ``feature_dim = K``), as a share of the standard model.

    Parameters
    ----------
    num_classes_cifar : int
        ``K`` of the CIFAR models (at least 2; the ``d = K`` rows need it).

    Returns
    -------
    list of dict
        Keys ``name``, ``saved`` (parameters), ``total`` (parameters of the reference model), ``percent``
        and ``talk_percent`` (the talk's figure, :data:`TALK_SAVINGS`).
    """
    from torchvision import models

    num_classes_cifar = check_scalar(num_classes_cifar, "num_classes_cifar", integer=True, low=2)
    rows = []
    imagenet = [("ResNet50", models.resnet50, "fc"), ("DenseNet169", models.densenet169, "classifier"),
                ("ShuffleNet V2 x1.0", models.shufflenet_v2_x1_0, "fc")]
    for label, factory, head in imagenet:
        model = factory(weights=None)
        saved, total, _ = classifier_parameter_share(model, getattr(model, head))
        rows.append({"name": f"ImageNet {label} classifier", "saved": saved, "total": total})
    for name, label in (("resnet18", "ResNet18"), ("resnet50", "ResNet50")):
        total = count_parameters(build_model(name, num_classes_cifar))
        narrow = count_parameters(build_model(name, num_classes_cifar, feature_dim=num_classes_cifar))
        rows.append({"name": f"CIFAR-10 {label}, d = K", "saved": total - narrow, "total": total})
    for row in rows:
        row["percent"] = 100.0 * row["saved"] / row["total"]
        row["talk_percent"] = TALK_SAVINGS[row["name"]]
    return rows
