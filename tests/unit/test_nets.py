"""CIFAR ResNets (chapters 5–7): exact parameter counts, d = K, the frozen simplex-ETF classifier."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from landscape_lib.nets import (  # noqa: E402
    build_model,
    classifier_parameter_share,
    count_parameters,
    etf_classifier_weight,
)


@pytest.mark.parametrize(("name", "feature_dim", "expected"), [
    ("resnet18", None, 11_173_962),
    ("resnet18", 10, 8_859_862),
    ("resnet50", None, 23_520_842),
    ("resnet50", 10, 22_473_430),
])
def test_parameter_counts_cifar10(name, feature_dim, expected):
    assert count_parameters(build_model(name, 10, feature_dim=feature_dim)) == expected


def test_parameter_savings_of_d_equal_k():
    full = count_parameters(build_model("resnet18", 10))
    narrow = count_parameters(build_model("resnet18", 10, feature_dim=10))
    assert round(100 * (full - narrow) / full, 2) == 20.71


def test_width_scales_channels_and_the_stem_is_cifar():
    model = build_model("resnet18", 10, width=8)
    assert model.conv1.kernel_size == (3, 3) and model.conv1.stride == (1, 1)
    assert isinstance(model.maxpool, torch.nn.Identity)
    assert model.layer1[0].conv1.out_channels == 8 and model.layer4[-1].conv2.out_channels == 64
    assert model.feature_dim == 64
    h, z = model.features_and_logits(torch.randn(3, 3, 32, 32))
    assert h.shape == (3, 64) and z.shape == (3, 10)


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_feature_dim_k_outputs_k_channels(name):
    model = build_model(name, 7, width=4, feature_dim=7)
    h, z = model.features_and_logits(torch.randn(2, 3, 32, 32))
    assert h.shape == (2, 7) and z.shape == (2, 7)
    assert torch.allclose(model(torch.zeros(2, 3, 32, 32)), model.fc(model.features(torch.zeros(2, 3, 32, 32))))


@pytest.mark.parametrize("k", [2, 3, 10])
def test_etf_weight_is_a_simplex_etf(k):
    w = etf_classifier_weight(k, k + 2).double().numpy()
    gram = w @ w.T
    expected = (k / (k - 1)) * (np.eye(k) - 1.0 / k)
    np.testing.assert_allclose(gram, expected, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(w, axis=1), 1.0, atol=1e-6)
    assert np.all(w[:, k:] == 0)


@pytest.mark.parametrize("k,d", [(2, 2), (3, 7), (10, 10), (10, 512)])
def test_etf_weight_is_the_deterministic_simplex_etf(k, d):
    from landscape_lib.etf import simplex_etf

    w = etf_classifier_weight(np.int64(k), np.int32(d))
    assert w.dtype == torch.float32 and w.shape == (k, d)
    assert torch.equal(w, torch.from_numpy(simplex_etf(k, d)).float())
    # the same float32 numbers as the formula of chapter 7 evaluated in torch
    formula = torch.zeros(k, d, dtype=torch.float64)
    formula[:, :k] = (k / (k - 1)) ** 0.5 * (torch.eye(k, dtype=torch.float64) - 1.0 / k)
    assert torch.equal(w, formula.float())


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_fixed_classifier_is_frozen(name):
    model = build_model(name, 10, width=4, feature_dim=10, fixed_classifier=True)
    assert not model.fc.weight.requires_grad and not model.fc.bias.requires_grad
    assert torch.equal(model.fc.weight, etf_classifier_weight(10, 10))
    assert count_parameters(model) - count_parameters(model, trainable_only=True) == 110


def test_classifier_share():
    model = build_model("resnet18", 10)
    n_cls, n_all, share = classifier_parameter_share(model, model.fc)
    assert (n_cls, n_all) == (5130, 11_173_962) and share == pytest.approx(5130 / 11_173_962)


def test_clear_errors():
    with pytest.raises(ValueError, match="unknown model 'vgg11'"):
        build_model("vgg11")
    with pytest.raises(ValueError, match="feature_dim >= num_classes"):
        build_model("resnet18", 10, width=4, feature_dim=5, fixed_classifier=True)
    with pytest.raises(ValueError, match="width"):
        build_model("resnet18", 10, width=0)
    for kwargs, match in [(dict(width=True), "width must be a finite integer"), (dict(width=2.0), "width"),
                          (dict(num_classes=1), "num_classes must be >= 2"), (dict(feature_dim=0), "feature_dim"),
                          (dict(in_channels=np.float32(3)), "in_channels")]:
        with pytest.raises(ValueError, match=match):
            build_model("resnet18", **{"num_classes": 10, "width": 4, **kwargs})
    with pytest.raises(ValueError, match="num_classes must be >= 2"):
        etf_classifier_weight(1, 3)


def test_numpy_integers_are_accepted():
    model = build_model("resnet18", np.int64(10), width=np.int32(4), feature_dim=np.int64(10),
                        fixed_classifier=True, in_channels=np.uint8(3))
    assert count_parameters(model) == count_parameters(build_model("resnet18", 10, width=4, feature_dim=10,
                                                                   fixed_classifier=True))
    assert type(model.num_classes) is int and type(model.feature_dim) is int and type(model.width) is int


def test_parameter_savings_counted_with_torchvision():
    from landscape_lib.nets import parameter_savings

    rows = {r["name"]: r for r in parameter_savings()}
    expected = {"ImageNet ResNet50 classifier": (2_049_000, 25_557_032),
                "ImageNet DenseNet169 classifier": (1_665_000, 14_149_480),
                "ImageNet ShuffleNet V2 x1.0 classifier": (1_025_000, 2_278_604),
                "CIFAR-10 ResNet18, d = K": (2_314_100, 11_173_962),
                "CIFAR-10 ResNet50, d = K": (1_047_412, 23_520_842)}
    assert {name: (r["saved"], r["total"]) for name, r in rows.items()} == expected
    assert round(rows["ImageNet ShuffleNet V2 x1.0 classifier"]["percent"], 1) == 45.0   # the talk says 53
    assert rows["CIFAR-10 ResNet50, d = K"]["talk_percent"] == 4.5
