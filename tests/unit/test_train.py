"""Training loop of chapters 5–7: one epoch on each data path, resume, divergence stop, frozen classifier,
metrics logged equal to chapter 4's functions, the command line, clear errors. Tiny networks only."""

import dataclasses
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from landscape_lib import collapse, data  # noqa: E402
from landscape_lib.data import DeviceDataset  # noqa: E402
from landscape_lib.train import (  # noqa: E402
    NC_KEYS,
    TrainConfig,
    TrainingDiverged,
    extract_features,
    main,
    train,
)

TINY = TrainConfig(dataset="digits", width=4, n_train_per_class=5, n_test_per_class=3, batch_size=16,
                   epochs=2, device="cpu", eval_batch_size=64)


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _comparable(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def test_cifar10_format_directory_trains_one_epoch(tmp_path):
    data.write_fake_cifar10(tmp_path / "data", n_per_class=4, rng=0, n_test_per_class=2)
    result = train(TINY, dataset="cifar10", data_root=str(tmp_path / "data"), epochs=1, n_train_per_class=None,
                   n_test_per_class=None,
                   output_dir=tmp_path / "run")
    assert result.train_data.name == "cifar10/train" and len(result.train_data) == 40
    (row,) = result.history
    assert row["epoch"] == 1 and np.isfinite(row["train_loss_running"]) and 0 <= row["test_acc"] <= 1
    assert all(np.isfinite(row[k]) for k in ("nc1", "nc2_classifier", "nc3_ufm"))
    saved = json.loads((tmp_path / "run" / "history.json").read_text())
    assert saved[0]["epoch"] == 1
    header = (tmp_path / "run" / "history.csv").read_text().splitlines()[0].split(",")
    assert "nc1" in header and "test_acc" in header


def test_digits_path_records_every_metric_every_k_epochs():
    result = train(TINY, epochs=3, metrics_every=2)
    assert [r["epoch"] for r in result.history] == [1, 2, 3]
    assert result.history[0]["nc1"] is None          # no metrics at epoch 1 (every 2, and at the end)
    for row in result.history[1:]:
        assert all(row[k] is not None for k in NC_KEYS + ("train_acc", "test_acc", "train_loss", "test_loss"))
    assert result.config.lr == 0.05 and result.config.weight_decay == 5e-4  # the paper's SGD values


def test_resume_equals_uninterrupted(tmp_path):
    config = TrainConfig(**{**TINY.__dict__, "epochs": 3, "lr_decay_every": 1})
    full = train(config, output_dir=tmp_path / "full")
    part = train(config, output_dir=tmp_path / "split", until_epoch=1)
    assert len(part.history) == 1
    resumed = train(config, output_dir=tmp_path / "split", resume=True)
    assert _comparable(resumed.history) == _comparable(full.history)
    assert [r["lr"] for r in resumed.history] == pytest.approx([0.05, 0.01, 0.002])
    for a, b in zip(full.model.state_dict().values(), resumed.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="configuration differs"):
        train(config, output_dir=tmp_path / "split", resume=True, lr=0.1)


def test_checkpoints_every_n_epochs_are_atomic(tmp_path):
    train(TINY, epochs=2, output_dir=tmp_path, checkpoint_every=1)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["checkpoint.pt", "config.json", "history.csv", "history.json"]   # no temporary files left


def test_divergence_stops_with_a_clear_message(tmp_path):
    with pytest.raises(TrainingDiverged, match="epoch 1.*lower the learning rate") as info:
        train(TINY, lr=1e12, output_dir=tmp_path)
    assert len(info.value.history) == 1
    assert not (tmp_path / "checkpoint.pt").exists()
    assert json.loads((tmp_path / "history.json").read_text())[0]["epoch"] == 1


def test_fixed_classifier_does_not_change():
    result = train(TINY, feature_dim=10, fixed_classifier=True, optimizer="sgd", epochs=2)
    etf = torch.from_numpy(np.sqrt(10 / 9) * (np.eye(10) - 0.1)).float()
    assert torch.equal(result.model.fc.weight, etf)
    assert torch.equal(result.model.fc.bias, torch.zeros(10))
    assert result.final["nc2_classifier"] < 1e-6       # the classifier is an exact simplex ETF
    untouched = train(TINY, epochs=2)
    assert not torch.equal(untouched.model.fc.weight, result.model.fc.weight)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "lbfgs"])
def test_logged_metrics_equal_collapse_functions_on_extracted_features(optimizer):
    result = train(TINY, optimizer=optimizer, epochs=1, lbfgs_max_iter=2)
    ds = DeviceDataset(result.train_data)
    features, logits, labels = extract_features(result.model, ds)
    fc = result.model.fc
    expected = collapse.collapse_metrics(features.double().numpy(), labels.numpy(), fc.weight.detach().double(),
                                         fc.bias.detach().double(), 10).as_dict()
    row = result.final
    for key in NC_KEYS:
        assert row[key] == pytest.approx(expected[key], rel=1e-6, abs=1e-9), key
    acc = float((logits.argmax(1) == labels).double().mean())
    assert row["train_acc"] == pytest.approx(acc)


def test_clear_errors_for_unknown_names():
    with pytest.raises(ValueError, match="unknown data set 'imagenet'"):
        train(TINY, dataset="imagenet")
    with pytest.raises(ValueError, match="unknown model 'vgg'"):
        train(TINY, model="vgg")
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'.*'sgd', 'adam', 'lbfgs'"):
        train(TINY, optimizer="rmsprop")


def test_counts_accept_numpy_integers_and_reject_the_rest():
    plain = TINY.resolved()
    numpy_ints = TrainConfig(dataset="digits", width=np.int32(4), n_train_per_class=5, n_test_per_class=3,
                             batch_size=np.int64(16), epochs=np.int64(2), device="cpu",
                             eval_batch_size=np.uint16(64), lr_decay_every=None).resolved()
    assert numpy_ints == plain
    assert all(type(getattr(numpy_ints, name)) is int for name in ("width", "batch_size", "epochs", "lr_decay_every"))
    for name, bad in [("epochs", 0), ("epochs", True), ("width", 2.5), ("batch_size", 0), ("lr_decay_every", 0),
                      ("metrics_every", "5"), ("lbfgs_max_iter", np.float64(3))]:
        with pytest.raises(ValueError, match=name):
            dataclasses.replace(TINY, **{name: bad}).resolved()


def test_command_line(tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["--dataset", "digits", "--width", "4", "--n-train-per-class", "3", "--n-test-per-class", "2",
                 "--epochs", "1", "--batch-size", "10", "--device", "cpu", "--output-dir", str(out),
                 "--no-progress"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["epoch"] == 1 and summary["device"] == "cpu"
    assert (out / "checkpoint.pt").exists()
    with pytest.raises(SystemExit) as info:                     # argparse lists the choices
        main(["--optimizer", "rmsprop", "--output-dir", str(out), "--no-progress"])
    assert info.value.code == 2 and "invalid choice: 'rmsprop' (choose from 'sgd', 'adam', 'lbfgs')" in \
        capsys.readouterr().err


def test_figures_and_table_from_a_history():
    pytest.importorskip("plotly")
    from landscape_lib.viz import training as vt

    history = [{"epoch": 1, "nc1": None, "train_acc": 0.5, "nc4": 0.2},
               {"epoch": 2, "nc1": 0.5, "train_acc": 0.75, "nc4": 0.0},
               {"epoch": 3, "nc1": 0.0, "train_acc": 1.0, "nc4": 0.0}]
    assert vt.metric_series(history, "nc1") == ([2, 3], [0.5, 0.0])
    fig = vt.training_curves_figure({"a": history, "b": history}, ("nc1", "train_acc", "nc4"))
    assert len(fig.data) == 6
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "linear"
    assert list(fig.data[0].y) == [0.5, None]          # an exact zero is a gap on the log axis
    table = vt.final_metrics_table({"a": history}, ("train_acc", "nc1", "nc4"))
    assert table.splitlines()[1].split() == ["a", "1.00", "0", "0"]
    sweep = vt.width_sweep_figure({4: history, 8: history}, ("nc1", "train_acc"))
    assert list(sweep.data[1].x) == [4, 8] and list(sweep.data[1].y) == [1.0, 1.0]
    with pytest.raises(ValueError, match="at least one run"):
        vt.training_curves_figure({})
