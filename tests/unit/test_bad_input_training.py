"""Bad input at the public boundary of train.py, data.py, nets.py and viz/training.py: each class of bad input
(NaN and infinity, wrong types and shapes, empty, non-positive sizes, labels out of range) on each public
function is a ValueError that names the argument, never a traceback from deep inside, a silent run or a
wrong result. Also the bad command lines of the issue, each with one ``error:`` line and status 2."""

import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from landscape_lib import data, nets  # noqa: E402
from landscape_lib import train as T  # noqa: E402
from landscape_lib.train import TrainConfig  # noqa: E402

NAN, INF = float("nan"), float("inf")


@pytest.fixture(scope="module")
def digits():
    return data.load_splits("digits", n_train_per_class=3, n_test_per_class=2, rng=0)


@pytest.fixture(scope="module")
def tiny(digits):
    model = nets.build_model("resnet18", 10, width=2)
    return model, data.DeviceDataset(digits[0]), T.make_optimizer("sgd", model.parameters(), lr=0.1,
                                                                  weight_decay=0.0)


# ------------------------------------------------------------------------------------------------------
# TrainConfig: every field
# ------------------------------------------------------------------------------------------------------

BAD_FIELDS = [
    ("dataset", "imagenet", "unknown data set 'imagenet'"), ("dataset", 3, "unknown data set 3"),
    ("data_root", 5, "data_root must be a path"),
    ("resolution", 12, "resolution must be one of"), ("resolution", None, "resolution must be one of"),
    ("stem", "vgg", "stem must be one of|unknown stem"), ("lr_milestones", (5, 5), "strictly increasing"),
    ("lr_milestones", 100, "lr_milestones must be a non-empty sequence"),
    ("download", "yes", "download must be True or False"), ("download", 1, "download must be True or False"),
    ("n_train_per_class", 0, "n_train_per_class must be >= 1"),
    ("n_test_per_class", -2, "n_test_per_class must be >= 1"), ("n_test_per_class", 2.5, "n_test_per_class"),
    ("random_labels", None, "random_labels must be True or False"),
    ("model", "vgg", "unknown model 'vgg'"), ("model", None, "unknown model None"),
    ("width", 0, "width must be >= 1"), ("width", True, "width must be a finite integer"),
    ("width", NAN, "width must be a finite integer"),
    ("feature_dim", 0, "feature_dim must be >= 1"), ("fixed_classifier", "no", "fixed_classifier"),
    ("optimizer", "rmsprop", "unknown optimizer 'rmsprop'.*'sgd', 'adam', 'lbfgs'"),
    ("epochs", 0, "epochs must be >= 1"), ("epochs", 2.0, "epochs must be a finite integer"),
    ("lr", NAN, "lr must be a finite number; got nan"), ("lr", INF, "lr must be a finite number"),
    ("lr", 0.0, "lr must be > 0"), ("lr", -0.1, "lr must be > 0"), ("lr", "0.1", "lr must be a finite number"),
    ("batch_size", -8, "batch_size must be >= 1; got -8"), ("batch_size", 0, "batch_size must be >= 1; got 0"),
    ("weight_decay", -1e-4, "weight_decay must be >= 0"), ("weight_decay", NAN, "weight_decay"),
    ("momentum", 1.0, "momentum must be >= 0 and < 1"), ("momentum", -0.1, "momentum"),
    ("lr_decay", -1.0, r"lr_decay must lie in|lr_decay must be > 0"), ("lr_decay", 0.0, "lr_decay"),
    ("lr_decay", 1.5, "lr_decay"), ("lr_decay", INF, "lr_decay"),
    ("lr_decay_every", 0, "lr_decay_every must be >= 1"), ("lbfgs_history", 0, "lbfgs_history"),
    ("lbfgs_max_iter", np.float64(3), "lbfgs_max_iter must be a finite integer"),
    ("augment", 0, "augment must be True or False"), ("metrics_every", "5", "metrics_every"),
    ("metrics_every", 0, "metrics_every must be >= 1"), ("eval_batch_size", -1, "eval_batch_size"),
    ("seed", -1, "seed must be >= 0"), ("seed", 1.5, "seed"),
    ("device", "gpu", "device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'; got 'gpu'"),
    ("device", "meta", "device must be"), ("device", None, "device must be"),
    ("amp", "on", "amp must be True or False"), ("channels_last", None, "channels_last"),
    ("compile", 1, "compile must be True or False"),
    ("max_loss", NAN, "max_loss must be a finite number; got nan"), ("max_loss", 0, "max_loss must be > 0"),
    ("max_loss", INF, "max_loss must be a finite number"),
]


@pytest.mark.parametrize(("name", "value", "match"), BAD_FIELDS, ids=[f"{n}={v!r}" for n, v, _ in BAD_FIELDS])
def test_every_config_field_is_checked_when_the_config_is_made(name, value, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**{name: value})
    with pytest.raises(ValueError, match=match):               # and through train's overrides, before any work
        T.train(**{name: value})


def test_every_field_has_a_bad_value_above():
    assert {f.name for f in dataclasses.fields(TrainConfig)} == {name for name, _, _ in BAD_FIELDS}


def test_good_values_are_normalized():
    config = TrainConfig(dataset="CIFAR-10", model="ResNet50", optimizer="Adam", width=np.int32(8),
                         lr=np.float32(0.5), seed=np.uint8(3), device="CUDA:1", data_root=Path("x"),
                         download=np.bool_(True))
    assert (config.dataset, config.model, config.optimizer, config.device, config.data_root) == (
        "cifar10", "resnet50", "adam", "cuda:1", "x")
    assert type(config.width) is int and type(config.lr) is float and type(config.seed) is int
    assert config.download is True


def test_the_default_decay_interval_never_decays_a_short_run_every_epoch():
    assert [T.default_lr_decay_every(e) for e in (1, 6, 49, 50, 200, 400)] == [10, 10, 10, 10, 40, 80]
    assert TrainConfig(epochs=6).resolved().lr_decay_every == 10          # no decay in a 6-epoch run
    assert TrainConfig(epochs=6, lr_decay_every=2).resolved().lr_decay_every == 2
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        T.default_lr_decay_every(0)


# ------------------------------------------------------------------------------------------------------
# train's own arguments
# ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(until_epoch=0), "until_epoch must be >= 1; got 0"),
    (dict(until_epoch=5, epochs=3), r"until_epoch must lie in 1\.\.3"),
    (dict(checkpoint_every=-1, output_dir="x"), "checkpoint_every must be >= 0"),
    (dict(checkpoint_every=2), "need an output_dir"), (dict(resume=True), "need an output_dir"),
    (dict(resume="yes", output_dir="x"), "resume must be True or False"),
    (dict(overwrite=1, output_dir="x"), "overwrite must be True or False"),
    (dict(progress=None), "progress must be True or False"),
    (dict(output_dir=3), "output_dir must be a path"),
    (dict(data=[1, 2]), r"data must be a pair \(train, test\)"),
    (dict(learning_rate=0.1), r"unknown TrainConfig field\(s\) \['learning_rate'\]"),
    (dict(config={"lr": 0.1}), "config must be a TrainConfig"),
    (dict(device="cuda"), "CUDA is not available here"),
])
def test_train_arguments_are_checked_before_any_work(kwargs, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(T, "load_splits", lambda *a, **k: pytest.fail("checked too late: data was loaded"))
    config = kwargs.pop("config", TrainConfig(epochs=3))
    with pytest.raises(ValueError, match=match):
        T.train(config, **kwargs)


def test_data_with_mismatched_splits_is_refused(digits):
    other = data.ImageData(digits[1].images, digits[1].labels % 5, 5, "x", tuple("abcde"))
    with pytest.raises(ValueError, match="same classes"):
        T.train(TrainConfig(epochs=1, device="cpu"), data=(digits[0], other))


def test_result_without_epochs_has_no_final_row():
    result = T.TrainResult([], None, TrainConfig(), torch.device("cpu"))
    with pytest.raises(ValueError, match="no epochs"):
        _ = result.final


# ------------------------------------------------------------------------------------------------------
# the other public functions of train.py
# ------------------------------------------------------------------------------------------------------

def test_resolve_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert T.resolve_device("cpu") == torch.device("cpu") and T.resolve_device("AUTO").type in ("cpu", "mps")
    for bad, match in [("cuda", "CUDA is not available here"), ("cuda:0", "CUDA is not available"),
                       ("tpu", "device must be"), (0, "device must be"), ("cpu:0", "device must be")]:
        with pytest.raises(ValueError, match=match):
            T.resolve_device(bad)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ValueError, match=r"1 CUDA device\(s\): cuda:0\.\.cuda:0"):
        T.resolve_device("cuda:3")


def test_paper_defaults_and_make_optimizer(tiny):
    model = tiny[0]
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        T.paper_defaults("rmsprop")
    with pytest.raises(ValueError, match="random_labels must be True or False"):
        T.paper_defaults("sgd", random_labels="yes")
    params = list(model.parameters())
    for kwargs, match in [(dict(lr=NAN), "lr must be a finite number"), (dict(lr=-1.0), "lr must be > 0"),
                          (dict(weight_decay=-1.0), "weight_decay must be >= 0"),
                          (dict(momentum=1.0), "momentum"), (dict(lbfgs_history=0), "lbfgs_history"),
                          (dict(lbfgs_max_iter=True), "lbfgs_max_iter")]:
        with pytest.raises(ValueError, match=match):
            T.make_optimizer("sgd", params, **{"lr": 0.1, "weight_decay": 0.0, **kwargs})
    with pytest.raises(ValueError, match="params must hold at least one tensor"):
        T.make_optimizer("adam", [], lr=0.1, weight_decay=0.0)


def test_loop_functions(tiny, digits):
    model, ds, opt = tiny
    cases = [
        (lambda: T.train_epoch(model, opt, ds, batch_size=0), "batch_size must be >= 1"),
        (lambda: T.train_epoch(model, opt, ds, batch_size=-8), "batch_size must be >= 1; got -8"),
        (lambda: T.train_epoch(model, opt, digits[0], batch_size=4), "data must be a DeviceDataset"),
        (lambda: T.train_epoch("model", opt, ds, batch_size=4), "model must be a torch.nn.Module"),
        (lambda: T.train_epoch(model, "sgd", ds, batch_size=4), "optimizer must be a torch.optim.Optimizer"),
        (lambda: T.train_epoch(model, opt, ds, batch_size=4, amp="no"), "amp must be True or False"),
        (lambda: T.train_epoch(model, opt, ds, batch_size=4, lbfgs_weight_decay=NAN), "lbfgs_weight_decay"),
        (lambda: T.train_epoch(model, opt, ds, batch_size=64, drop_last=True), "would leave out all 30"),
        (lambda: T.train_epoch(model, opt, ds, batch_size=4, generator=0), "generator must be a torch"),
        (lambda: T.evaluate(model, ds, batch_size=0), "batch_size must be >= 1"),
        (lambda: T.evaluate(torch.nn.Linear(2, 2), ds), "model must be a CifarResNet"),
        (lambda: T.evaluate(model, ds, digits[1]), "test_data must be a DeviceDataset or None"),
        (lambda: T.evaluate(model, ds, collapse_metrics=1), "collapse_metrics must be True or False"),
        (lambda: T.extract_features(model, ds, batch_size=2.5), "batch_size must be a finite integer"),
        (lambda: T.extract_features(model, ds, amp=None), "amp must be True or False"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()


def test_write_history_and_load_checkpoint(tmp_path):
    with pytest.raises(ValueError, match="history must be a list of dicts"):
        T.write_history({"epoch": 1}, tmp_path)
    with pytest.raises(ValueError, match="history must be a list of dicts"):
        T.write_history([1, 2], tmp_path)
    with pytest.raises(ValueError, match="output_dir must be a path"):
        T.write_history([], None)
    with pytest.raises(ValueError, match="path must be a path"):
        T.load_checkpoint(None)
    with pytest.raises(T.CheckpointError, match="cannot be read"):
        T.load_checkpoint(tmp_path / "missing.pt")


# ------------------------------------------------------------------------------------------------------
# the command line: the bad inputs
# ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("argv", "match"), [
    (["--batch-size", "-8"], "batch_size must be >= 1; got -8"),
    (["--batch-size", "0"], "batch_size must be >= 1; got 0"),
    (["--lr-decay-every", "0"], "lr_decay_every must be >= 1; got 0"),
    (["--until-epoch", "0"], "until_epoch must be >= 1; got 0"),
    (["--lr-decay", "-1.0"], "lr_decay"),
    (["--max-loss", "nan"], "max_loss must be a finite number; got nan"),
    (["--device", "cuda"], "CUDA is not available here"),
    (["--lr", "nan"], "lr must be a finite number; got nan"),
    (["--threads", "0"], "threads must be >= 1"),
    (["--checkpoint-every", "-1"], "checkpoint_every must be >= 0"),
    (["--width", "0"], "width must be >= 1"),
])
def test_bad_command_lines_print_one_error_line(argv, match, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(T, "load_splits", lambda *a, **k: pytest.fail("checked too late: data was loaded"))
    threads = torch.get_num_threads()
    try:
        code = T.main(argv + ["--output-dir", str(tmp_path / "run"), "--no-progress", "--epochs", "3"])
    finally:
        torch.set_num_threads(threads)
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert re.search(match, err), err
    assert not (tmp_path / "run" / "history.json").exists()


def test_help_lists_the_choices_and_the_true_defaults():
    text = T.build_parser().format_help()
    flat = " ".join(text.split())
    for choices in ("{digits,cifar10,synthetic}", "{resnet18,resnet34,resnet50}", "{sgd,adam,lbfgs}"):
        assert choices in flat
    assert "paper value" not in flat
    for f in dataclasses.fields(TrainConfig):
        default = T.CLI_DEFAULTS.get(f.name, f.default)
        if isinstance(default, bool):
            shown = "on" if default else "off"
        elif default is None:
            continue
        else:
            shown = str(default)
        assert f"(default: {shown})" in flat, f.name
    assert "(default: the reference's recorded runs (a032ff5): sgd 0.05, adam 1e-4, lbfgs 0.1;" in flat
    assert T.paper_defaults("adam") == {"lr": 1e-4, "batch_size": 128, "weight_decay": 5e-4}  # what the help says
    assert "(default: max(10, epochs // 5)" in flat and "(default: 5)" in flat       # metrics every 5 here


# ------------------------------------------------------------------------------------------------------
# data.py
# ------------------------------------------------------------------------------------------------------

def test_labels_functions():
    labels = np.repeat(np.arange(3), 4)
    cases = [
        (lambda: data.balanced_subset(labels.reshape(3, 4), 1), "1-D array of class indices; got shape"),
        (lambda: data.balanced_subset(labels[:0], 1), "non-empty"),
        (lambda: data.balanced_subset(labels.astype(float), 1), "integer dtype"),
        (lambda: data.balanced_subset(labels - 1, 1), "class indices >= 0; got -1"),
        (lambda: data.balanced_subset(labels, 1, num_classes=2), r"labels must lie in 0\.\.1"),
        (lambda: data.balanced_subset(labels, -1), "n_per_class must be >= 1"),
        (lambda: data.balanced_subset(labels, 1, rng="x"), "rng must be"),
        (lambda: data.random_labels(labels.reshape(3, 4)), "1-D array"),
        (lambda: data.random_labels(["a", "b"]), "integer dtype"),
        (lambda: data.synthetic_images(5, -3), "num_classes must be >= 2; got -3"),
        (lambda: data.synthetic_images(5, 10), "n must be >= 10; got 5"),
        (lambda: data.synthetic_images(0), "n must be >= 10"),
        (lambda: data.synthetic_images(NAN), "n must be a finite integer"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()
    assert data.balanced_subset(labels, 2, num_classes=3, rng=0).shape == (6,)
    images, classes = data.synthetic_images(np.int64(7), np.int32(3), rng=0)
    assert images.shape == (7, 3, 32, 32) and classes.min() >= 0 and classes.max() == 2


def test_load_functions(tmp_path):
    cases = [
        (lambda: data.load_dataset("mnist"), "unknown data set 'mnist'"),
        (lambda: data.load_dataset(None), "unknown data set None"),
        (lambda: data.load_dataset("digits", n_per_class=0), "n_per_class must be >= 1"),
        (lambda: data.load_dataset("digits", n_per_class=500), "too large"),
        (lambda: data.load_dataset("digits", train="yes"), "train must be True or False"),
        (lambda: data.load_dataset("digits", download=1), "download must be True or False"),
        (lambda: data.load_dataset("digits", random_labels=None), "random_labels must be True or False"),
        (lambda: data.load_dataset("cifar10", root=3), "root must be a path"),
        (lambda: data.load_splits("digits", n_test_per_class=-1), "n_per_class must be >= 1"),
        (lambda: data.write_fake_cifar10(None), "root must be a path"),
        (lambda: data.write_fake_cifar10(tmp_path, n_per_class=NAN), "n_per_class"),
        (lambda: data.dataset_key(["digits"]), "unknown data set"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()


def test_image_data_is_checked(digits):
    images, labels = digits[0].images, digits[0].labels
    classes = tuple(map(str, range(10)))
    cases = [
        (dict(images=images.float()), "images must be a uint8 tensor"),
        (dict(images=images[0]), "images must be a uint8 tensor of shape"),
        (dict(images=images[:0], labels=labels[:0]), "images must not be empty"),
        (dict(images=images.numpy()), "images must be a uint8 tensor"),
        (dict(labels=labels[:-1]), "labels must be an int64 tensor of shape"),
        (dict(labels=labels.int()), "labels must be an int64 tensor"),
        (dict(labels=labels + 10), r"labels must lie in 0\.\.9"),
        (dict(labels=labels - 1), r"labels must lie in 0\.\.9"),
        (dict(num_classes=1, classes=("a",)), "num_classes must be >= 2"),
        (dict(classes=("a", "b")), "classes must be a tuple of 10 class names"),
        (dict(name=None), "name must be a string"),
    ]
    for change, match in cases:
        kwargs = dict(images=images, labels=labels, num_classes=10, name="x", classes=classes, **{})
        kwargs.update(change)
        with pytest.raises(ValueError, match=match):
            data.ImageData(**kwargs)


def test_augmentation_and_device_dataset(digits):
    images = digits[0].images
    ds = data.DeviceDataset(digits[0])
    cases = [
        (lambda: data.augment_batch(images[0]), r"images must be a tensor of shape \(B, C, H, W\)"),
        (lambda: data.augment_batch(images, padding=-1), "padding must be >= 0"),
        (lambda: data.augment_batch(images, generator=np.random.default_rng(0)), "generator must be a torch"),
        (lambda: data.DeviceDataset(images), "data must be an ImageData"),
        (lambda: data.DeviceDataset(digits[0], "gpu0"), "device must name a torch device"),
        (lambda: data.DeviceDataset(digits[0], stats_from=images), "stats_from must be None or an ImageData"),
        (lambda: data.DeviceDataset(digits[0], channels_last="yes"), "channels_last must be True or False"),
        (lambda: ds.batch(torch.tensor([0.5])), "index must be a 1-D integer tensor"),
        (lambda: ds.batch([0, 1]), "index must be a 1-D integer tensor"),
        (lambda: list(ds.batches(0)), "batch_size must be >= 1"),
        (lambda: list(ds.batches(-8)), "batch_size must be >= 1; got -8"),
        (lambda: list(ds.batches(4, shuffle="no")), "shuffle must be True or False"),
        (lambda: list(ds.batches(4, drop_last=None)), "drop_last must be True or False"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()


# ------------------------------------------------------------------------------------------------------
# nets.py
# ------------------------------------------------------------------------------------------------------

def test_nets_functions():
    from torchvision.models.resnet import BasicBlock

    model = nets.build_model("resnet18", 10, width=2)
    cases = [
        (lambda: nets.build_model(None), "unknown model None"),
        (lambda: nets.build_model("resnet18", 10, width=-4), "width must be >= 1"),
        (lambda: nets.build_model("resnet18", NAN), "num_classes must be a finite integer"),
        (lambda: nets.build_model("resnet18", 10, width=2, fixed_classifier="yes"), "fixed_classifier"),
        (lambda: nets.build_model("resnet18", 10, width=2, feature_dim=-1), "feature_dim must be >= 1"),
        (lambda: nets.CifarResNet(torch.nn.Linear, (2, 2, 2, 2)), "block must be torchvision's"),
        (lambda: nets.CifarResNet(BasicBlock, (2, 2, 2)), "layers must be a sequence of 4"),
        (lambda: nets.CifarResNet(BasicBlock, (2, 0, 2, 2)), r"layers\[1\] must be >= 1"),
        (lambda: nets.count_parameters([1, 2]), "model must be a torch.nn.Module"),
        (lambda: nets.count_parameters(model, trainable_only="yes"), "trainable_only"),
        (lambda: nets.classifier_parameter_share(model, torch.nn.Linear(2, 2)), "submodule of model"),
        (lambda: nets.classifier_parameter_share(model, None), "classifier must be a torch.nn.Module"),
        (lambda: nets.classifier_parameter_share(torch.nn.ReLU(), torch.nn.ReLU()), "submodule|no parameters"),
        (lambda: nets.parameter_savings(-3), "num_classes_cifar must be >= 2; got -3"),
        (lambda: nets.etf_classifier_weight(10, 0), "feature_dim must be >= 1"),
        (lambda: nets.etf_classifier_weight(10, 5), "feature_dim >= num_classes"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()
    relu = torch.nn.ReLU()
    with pytest.raises(ValueError, match="no parameters"):
        nets.classifier_parameter_share(relu, relu)


# ------------------------------------------------------------------------------------------------------
# viz/training.py
# ------------------------------------------------------------------------------------------------------

def test_training_figures_and_table():
    pytest.importorskip("plotly")
    from landscape_lib.viz import training as vt

    history = [{"epoch": 1, "nc1": 0.5, "train_acc": 0.5}, {"epoch": 2, "nc1": NAN, "train_acc": 1.0}]
    epochs, values = vt.metric_series(history, "nc1")                   # NaN is a value (undefined metric)
    assert epochs == [1, 2] and values[0] == 0.5 and math.isnan(values[1])
    cases = [
        (lambda: vt.metric_series({"epoch": 1}, "nc1"), "history must be a sequence of dicts"),
        (lambda: vt.metric_series([{"nc1": 0.5}], "nc1"), "every row of history must have an 'epoch'"),
        (lambda: vt.metric_series(history, 3), "key must be a string"),
        (lambda: vt.training_curves_figure({}), "at least one run"),
        (lambda: vt.training_curves_figure({"a": history}, []), "metrics must be a non-empty sequence"),
        (lambda: vt.training_curves_figure({"a": history}, "nc1"), "metrics must be a non-empty sequence"),
        (lambda: vt.training_curves_figure({"a": history}, cols=0), "cols must be >= 1"),
        (lambda: vt.training_curves_figure({"a": history}, height=-5), "height must be >= 1"),
        (lambda: vt.training_curves_figure([history]), "histories must be a mapping"),
        (lambda: vt.width_sweep_figure({0: history}), "widths must be integers >= 1"),
        (lambda: vt.width_sweep_figure({"wide": history}), "widths must be integers >= 1"),
        (lambda: vt.width_sweep_figure({}), "at least one run"),
        (lambda: vt.final_metrics_table({}), "at least one run"),
        (lambda: vt.final_metrics_table({"a": history}, digits=-1), "digits must be >= 0"),
        (lambda: vt.final_metrics_table({"a": history}, digits=math.pi), "digits must be a finite integer"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()
