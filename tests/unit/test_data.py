"""Data of chapters 5–7: CIFAR-10 on disk through torchvision, the offline digits, labels, augmentation."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from landscape_lib import data  # noqa: E402


@pytest.fixture(scope="module")
def cifar_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar")
    data.write_fake_cifar10(root, n_per_class=6, rng=0, n_test_per_class=3)
    return root


def test_fake_cifar10_has_the_official_layout(cifar_root):
    folder = cifar_root / "cifar-10-batches-py"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["batches.meta", "data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                     "data_batch_5", "test_batch"]


def test_cifar10_loads_through_torchvision(cifar_root):
    train = data.load_dataset("cifar10", root=cifar_root)
    test = data.load_dataset("cifar10", root=cifar_root, train=False)
    assert train.images.shape == (60, 3, 32, 32) and train.images.dtype == torch.uint8
    assert test.images.shape == (30, 3, 32, 32)
    assert train.classes[0] == "airplane" and train.num_classes == 10
    np.testing.assert_array_equal(train.class_counts(), 6)
    # The pixels of the pickled batches (CHW), up to the balanced reordering.
    import pickle

    with open(cifar_root / "cifar-10-batches-py" / "data_batch_1", "rb") as f:
        first = pickle.load(f, encoding="latin1")
    first_images = first["data"].reshape(-1, 3, 32, 32)
    stored = {bytes(img.numpy().tobytes()) for img in train.images}
    assert all(img.tobytes() in stored for img in first_images)


def test_missing_cifar10_names_the_path_and_the_alternative(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        data.load_dataset("cifar10", root=tmp_path / "nowhere")
    message = str(info.value)
    assert str(tmp_path / "nowhere" / "cifar-10-batches-py") in message and "digits" in message


def test_fake_cifar10_counts_are_checked(tmp_path):
    for kwargs in (dict(n_per_class=0), dict(n_per_class=2, n_test_per_class=1.5)):
        with pytest.raises(ValueError, match="per_class"):
            data.write_fake_cifar10(tmp_path, **kwargs)
    assert not (tmp_path / "cifar-10-batches-py").exists()            # checked before anything is written


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown data set 'mnist'.*digits"):
        data.load_dataset("mnist")


def test_digits_are_balanced_cifar_shaped_and_disjoint():
    train, test = data.load_splits("digits", n_train_per_class=20, n_test_per_class=10, rng=1)
    assert train.images.shape == (200, 3, 32, 32) and train.images.dtype == torch.uint8
    np.testing.assert_array_equal(train.class_counts(), 20)
    np.testing.assert_array_equal(test.class_counts(), 10)
    assert torch.equal(train.images[:, 0], train.images[:, 2])  # grey: channels replicated
    assert int(train.images.max()) == 255
    train_set = {img.numpy().tobytes() for img in data.load_dataset("digits").images}
    overlap = sum(img.numpy().tobytes() in train_set for img in data.load_dataset("digits", train=False).images)
    assert overlap <= 2  # the digits contain a few exact duplicate images, never the same sample twice
    full_train = data.load_dataset("digits")
    assert len(full_train) == 1200 and len(data.load_dataset("digits", train=False)) == 540


def test_subsets_and_random_labels_are_seeded_and_balanced():
    a = data.load_dataset("digits", n_per_class=15, random_labels=True, rng=3)
    b = data.load_dataset("digits", n_per_class=15, random_labels=True, rng=3)
    c = data.load_dataset("digits", n_per_class=15, random_labels=False, rng=3)
    assert torch.equal(a.labels, b.labels) and torch.equal(a.images, b.images)
    np.testing.assert_array_equal(a.class_counts(), 15)
    assert torch.equal(a.images, c.images) and not torch.equal(a.labels, c.labels)
    labels = np.repeat(np.arange(4), 5)
    for seed in range(5):
        shuffled = data.random_labels(labels, rng=seed)
        np.testing.assert_array_equal(np.bincount(shuffled), 5)
    idx = data.balanced_subset(labels, 2, rng=0)
    np.testing.assert_array_equal(np.bincount(labels[idx]), 2)
    with pytest.raises(ValueError, match="too large"):
        data.balanced_subset(labels, 6)
    np.testing.assert_array_equal(data.balanced_subset(labels, np.int64(2), num_classes=np.int32(4), rng=0), idx)
    for bad in (0, True, 2.0, np.float64(2)):
        with pytest.raises(ValueError, match="n_per_class"):
            data.balanced_subset(labels, bad)
    with pytest.raises(ValueError, match="num_classes"):
        data.balanced_subset(labels, 2, num_classes=0)
    images, classes = data.synthetic_images(np.int64(6), np.int32(3), rng=0)
    assert images.shape == (6, 3, 32, 32) and classes.tolist() == [0, 1, 2, 0, 1, 2]
    with pytest.raises(ValueError, match="num_classes"):
        data.synthetic_images(6, 0)


def test_augmentation_is_a_shifted_flipped_crop():
    g = torch.Generator().manual_seed(0)
    images = torch.arange(1, 2 * 3 * 32 * 32 + 1, dtype=torch.float64).reshape(2, 3, 32, 32)
    for _ in range(20):
        out = data.augment_batch(images, generator=g)
        padded = torch.nn.functional.pad(images, (4, 4, 4, 4))
        for i in range(2):
            found = False
            for flip in (False, True):
                src = padded[i].flip(-1) if flip else padded[i]
                for dy in range(9):
                    for dx in range(9):
                        window = src[:, dy:dy + 32, dx:dx + 32]
                        found = found or torch.equal(out[i], window)
            assert found


def test_device_dataset_normalizes_with_training_statistics():
    train, test = data.load_splits("digits", n_train_per_class=10, n_test_per_class=5, rng=0)
    ds = data.DeviceDataset(train)
    x, y = ds.batch(torch.arange(len(ds)))
    assert x.dtype == torch.float32 and x.shape == (100, 3, 32, 32)
    assert abs(float(x.mean())) < 1e-4 and abs(float(x.std()) - 1) < 1e-2
    ts = data.DeviceDataset(test, stats_from=train)
    assert torch.equal(ts.mean, ds.mean)
    batches = list(ds.batches(30, shuffle=True, generator=torch.Generator().manual_seed(0)))
    assert [len(b[1]) for b in batches] == [30, 30, 30, 10]
    assert sorted(torch.cat([b[1] for b in batches]).tolist()) == sorted(train.labels.tolist())
