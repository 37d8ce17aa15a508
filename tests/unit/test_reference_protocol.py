"""The options of the stored reference runs (issue: chapters 5-7 into the terminal phase): the digits at a
lower resolution, the reference code's ImageNet stem, the milestone schedule, and the stored-run format."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from test_train import _one_thread  # noqa: E402, F401  (_one_thread: autouse fixture)

from landscape_lib import data, stored_runs  # noqa: E402
from landscape_lib.nets import build_model, count_parameters  # noqa: E402
from landscape_lib.train import TrainConfig, load_checkpoint, main, train  # noqa: E402


@pytest.mark.parametrize("resolution", data.DIGITS_RESOLUTIONS)
def test_digits_resolution_repeats_the_8x8_pixels(resolution):
    small = data.load_dataset("digits", n_per_class=3, rng=0, resolution=8)
    other = data.load_dataset("digits", n_per_class=3, rng=0, resolution=resolution)
    assert other.images.shape == (30, 3, resolution, resolution)
    f = resolution // 8
    assert torch.equal(other.images[:, :, ::f, ::f], small.images)
    assert torch.equal(other.labels, small.labels)


@pytest.mark.parametrize("name,resolution", [("digits", 12), ("digits", 64), ("cifar10", 8), ("synthetic", 16),
                                             ("digits", 8.0), ("digits", True)])
def test_resolution_is_checked_per_data_set(name, resolution):
    with pytest.raises(ValueError, match="resolution must be one of"):
        data.load_dataset(name, resolution=resolution)
    with pytest.raises(ValueError, match="resolution must be one of"):
        TrainConfig(dataset=name, resolution=resolution)


def test_imagenet_stem_is_7x7_stride_2_with_max_pool():
    net = build_model("resnet18", 10, width=8, stem="imagenet")
    assert net.conv1.kernel_size == (7, 7) and net.conv1.stride == (2, 2)
    assert isinstance(net.maxpool, torch.nn.MaxPool2d)
    cifar = build_model("resnet18", 10, width=8)
    # the 7x7 stem has 49/9 times the first layer's weights; the rest is the same network
    assert count_parameters(net) - count_parameters(cifar) == 3 * 8 * (49 - 9)
    x = torch.zeros(2, 3, 32, 32)
    stem = net.maxpool(net.relu(net.bn1(net.conv1(x))))
    assert stem.shape == (2, 8, 8, 8)  # 32 -> 16 (conv) -> 8 (pool)
    assert net(x).shape == (2, 10)
    with pytest.raises(ValueError, match="stem must be one of"):
        build_model("resnet18", 10, stem="resnet")


def test_milestones_decay_only_after_the_listed_epochs():
    result = train(dataset="digits", resolution=8, width=2, n_train_per_class=3, n_test_per_class=2, batch_size=16,
                   epochs=5, lr=0.1, lr_milestones=(2, 4), lr_decay=0.5, device="cpu", augment=False,
                   metrics_every=5)
    assert [row["lr"] for row in result.history] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    assert result.config.lr_decay_every is None and result.config.lr_milestones == (2, 4)


@pytest.mark.parametrize("bad", [(), (3, 2), (0, 5), "100 200", (1.5,)])
def test_bad_milestones_are_named(bad):
    with pytest.raises(ValueError, match="lr_milestones"):
        TrainConfig(lr_milestones=bad)


def test_milestones_and_step_interval_are_exclusive():
    with pytest.raises(ValueError, match="not both"):
        TrainConfig(lr_milestones=(10,), lr_decay_every=5)


def test_command_line_accepts_the_new_options_and_resumes(tmp_path, capsys):
    args = ["--dataset", "digits", "--resolution", "8", "--stem", "imagenet", "--width", "2",
            "--n-train-per-class", "3", "--n-test-per-class", "2", "--epochs", "3", "--lr-milestones", "2",
            "--no-augment", "--device", "cpu", "--threads", "1", "--no-progress", "--output-dir", str(tmp_path)]
    assert main(args + ["--until-epoch", "2"]) == 0
    assert main(args + ["--resume"]) == 0
    config = load_checkpoint(tmp_path / "checkpoint.pt")["config"]
    assert (config["resolution"], config["stem"], tuple(config["lr_milestones"])) == (8, "imagenet", (2,))
    history = json.loads((tmp_path / "history.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2, 3]
    capsys.readouterr()


def test_data_of_another_resolution_is_refused():
    train_set, test_set = data.load_splits("digits", n_train_per_class=2, n_test_per_class=2, rng=0)
    with pytest.raises(ValueError, match="resolution"):
        train(data=(train_set, test_set), resolution=8, width=2, epochs=1, device="cpu")


# -- the stored-run format -------------------------------------------------------------------------------------

def _write_run(folder, history, **config):
    folder.mkdir(parents=True)
    cfg = {"argv": ["--seed", "0"], "train_config": {"seed": 0, "epochs": 10, "optimizer": "sgd", **config},
           "segments": [{"commit": "abc", "first_epoch": 1, "last_epoch": 10, "torch": "2", "python": "3",
                         "cpu": "x", "threads": 1}]}
    (folder / "config.json").write_text(json.dumps(cfg))
    (folder / "history.json").write_text(json.dumps(history))


def test_stored_run_round_trip_and_bands(tmp_path):
    rows = [{"epoch": 5, "nc1": 0.5, "train_acc": 0.9}, {"epoch": 10, "nc1": 0.1, "train_acc": 1.0}]
    _write_run(tmp_path / "fam" / "sgd-seed0", rows)
    _write_run(tmp_path / "fam" / "sgd-seed1", [{**r, "nc1": r["nc1"] * 2} for r in rows], seed=1)
    family = stored_runs.load_family(tmp_path / "fam")
    assert list(family) == ["sgd-seed0", "sgd-seed1"] and family["sgd-seed0"].complete
    groups = stored_runs.seed_groups(family, lambda run: run.config["optimizer"])
    epochs, values = stored_runs.seed_band(groups["sgd"], "nc1")
    np.testing.assert_array_equal(epochs, [5, 10])
    np.testing.assert_allclose(values, [[0.5, 0.1], [1.0, 0.2]])
    np.testing.assert_allclose(stored_runs.final_values(groups["sgd"], "nc1"), [0.1, 0.2])


def test_runs_grouped_together_must_differ_only_in_the_seed(tmp_path):
    rows = [{"epoch": 10, "nc1": 0.1}]
    _write_run(tmp_path / "fam" / "a", rows)
    _write_run(tmp_path / "fam" / "b", rows, seed=1, lr=0.5)
    with pytest.raises(ValueError, match="differ in more than the seed"):
        stored_runs.seed_groups(stored_runs.load_family(tmp_path / "fam"), lambda run: "all")


@pytest.mark.parametrize("damage,match", [
    ({"config.json": "{not json"}, "not readable JSON"),
    ({"config.json": json.dumps({"argv": []})}, "keys"),
    ({"history.json": json.dumps([{"epoch": 2}, {"epoch": 1}])}, "integer 'epoch' after 2"),
    ({"history.json": json.dumps([{"epoch": 1, "nc1": "0.1"}])}, "number or null"),
    ({"history.json": json.dumps([{"epoch": 11, "nc1": 0.1}])}, "past epochs"),
    ({"history.json": json.dumps([{"epoch": 1, "nc1": None}])}, "no row with metrics"),
    ({"history.json": None}, "history.json is missing"),
])
def test_damaged_stored_runs_are_named(tmp_path, damage, match):
    _write_run(tmp_path / "run", [{"epoch": 5, "nc1": 0.2}])
    for name, text in damage.items():
        if text is None:
            (tmp_path / "run" / name).unlink()
        else:
            (tmp_path / "run" / name).write_text(text)
    with pytest.raises(ValueError, match=match) as info:
        stored_runs.load_run(tmp_path / "run")
    assert str(tmp_path / "run") in str(info.value)


def test_compact_history_keeps_metric_rows_rounded():
    history = [{"epoch": 1, "nc1": None, "lr": 0.05, "seconds": 1.0},
               {"epoch": 2, "nc1": 0.123456789, "lr": 0.05, "train_loss": float("nan"), "seconds": 1.0}]
    assert stored_runs.compact_history(history) == [{"epoch": 2, "nc1": 0.123457, "lr": 0.05, "train_loss": None}]
    with pytest.raises(ValueError, match="no stored runs"):
        stored_runs.load_family("/nonexistent/family")


def test_band_figures_and_table_build_without_torch(tmp_path):
    """The chapters draw stored runs where torch is not installed: torch imports are made to fail (the
    band figures over the epochs and over the widths, and the table)."""
    import subprocess
    import sys

    rows = [{"epoch": 5, "nc1": 0.5, "nc2_classifier": 0.4, "nc2_means": 0.5, "nc3_ufm": 0.6, "nc4": 0.1,
             "train_acc": 0.9, "test_acc": 0.8}, {"epoch": 10, "nc1": 0.1, "nc2_classifier": 0.2, "nc2_means": 0.3,
                                                  "nc3_ufm": 0.3, "nc4": 0.0, "train_acc": 1.0, "test_acc": 0.9}]
    for seed in (0, 1):
        _write_run(tmp_path / "fam" / f"sgd-seed{seed}", rows, seed=seed)
        for width in (2, 4):  # chapter 6's family: widths, seeds
            _write_run(tmp_path / "widths" / f"width{width}-seed{seed}", rows, seed=seed, width=width)
    script = f"""
import sys
sys.modules["torch"] = None  # any import of torch raises ImportError
from landscape_lib import stored_runs
from landscape_lib.viz import training as vt
groups = stored_runs.seed_groups(stored_runs.load_family({str(tmp_path / 'fam')!r}), lambda r: r.config["optimizer"])
fig = vt.seed_band_figure(groups)
by_width = stored_runs.seed_groups(stored_runs.load_family({str(tmp_path / 'widths')!r}),
                                   lambda r: r.config["width"])
sweep = vt.width_band_figure(by_width)
print(len(fig.data), len(sweep.data), "torch" in sys.modules and sys.modules["torch"] is not None)
print(vt.seed_summary_table(groups))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    # 6 panels x (band + median line) in each figure; torch never imported
    assert out.splitlines()[0] == "12 12 False"
    # both seeds end at NC1 0.1: the table's median and range say so
    assert any(line.startswith("sgd (2)") and "0.1 [0.1, 0.1]" in line for line in out.splitlines())


def test_band_figure_draws_median_and_min_max():
    from landscape_lib.viz import training as vt

    runs = [[{"epoch": 5, "nc1": v}] for v in (0.1, 0.2, 0.4)]
    fig = vt.seed_band_figure({"sgd": runs}, ["nc1"])
    band, median = fig.data
    assert median.y == (0.2,) and sorted(band.y) == [0.1, 0.4]
    assert "0.2 [0.1, 0.4]" in vt.seed_summary_table({"sgd": runs}, ["nc1"])
    with pytest.raises(ValueError, match="non-empty list of histories"):
        vt.seed_band_figure({"sgd": []})


def test_a_command_line_run_of_ones_own_loads_like_a_stored_run(tmp_path, capsys):
    out = tmp_path / "cifar-like" / "sgd-seed0"
    args = ["--dataset", "digits", "--resolution", "8", "--width", "2", "--n-train-per-class", "3",
            "--n-test-per-class", "2", "--epochs", "4", "--metrics-every", "2", "--device", "cpu", "--threads", "1",
            "--no-progress", "--output-dir", str(out)]
    assert main(args) == 0
    capsys.readouterr()
    run = stored_runs.load_family(tmp_path / "cifar-like")["sgd-seed0"]
    assert run.argv == tuple(args) and run.segments == () and run.complete
    assert [row["epoch"] for row in run.history] == [2, 4]
    assert run.config["resolution"] == 8 and run.config["lr_decay_every"] == 10


def test_stored_history_by_column_reads_like_rows(tmp_path):
    rows = [{"epoch": 5, "nc1": 0.5}, {"epoch": 10, "nc1": None}, {"epoch": 15, "nc1": 0.1}]
    columns = stored_runs.history_columns(rows)
    assert columns == {"epoch": [5, 10, 15], "nc1": [0.5, None, 0.1]}
    _write_run(tmp_path / "run", columns, epochs=15)
    assert stored_runs.load_run(tmp_path / "run").history == (rows[0], rows[2])
    (tmp_path / "run" / "history.json").write_text(json.dumps({"epoch": [5, 10], "nc1": [0.5]}))
    with pytest.raises(ValueError, match="lists of one length"):
        stored_runs.load_run(tmp_path / "run")
