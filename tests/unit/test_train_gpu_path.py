"""The GPU path of the training loop, checked on the CPU: torch.compile never recompiles (static shapes, no
batch-norm attribute switch), evaluation in the training precision with a constant number of host
synchronisations, NC4 on the device, and the device check script with tiny sizes."""

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from test_train import TINY, _one_thread  # noqa: E402, F401  (_one_thread: autouse fixture)

from landscape_lib import class_stats, collapse, data, nets  # noqa: E402
from landscape_lib import train as T  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def eager_compile(monkeypatch):
    """torch.compile with dynamo's tracing and guards but no code generation (no C++ compiler needed), and
    every recompilation an error."""
    import torch._dynamo

    torch._dynamo.reset()
    monkeypatch.setattr(torch, "compile", functools.partial(torch.compile, backend="eager"))
    with torch._dynamo.config.patch(error_on_recompile=True):
        yield
    torch._dynamo.reset()


def test_the_guards_do_fire_for_a_short_batch_and_a_momentum_switch(eager_compile):
    # What the training loop avoids really recompiles: the check below is not vacuous.
    model = nets.build_model("resnet18", 10, width=4).train()
    compiled = torch.compile(model, dynamic=False)
    x = torch.randn(16, 3, 32, 32)
    compiled(x)
    with pytest.raises(torch._dynamo.exc.RecompileError, match="size mismatch"):
        compiled(x[:2])
    torch._dynamo.reset()
    compiled = torch.compile(model, dynamic=False)
    compiled(x)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with pytest.raises(torch._dynamo.exc.RecompileError), T._batchnorm_momentum(norms, 0.0):
        compiled(x)


@pytest.mark.parametrize("optimizer", ["sgd", "lbfgs"])
def test_compiled_training_never_recompiles(eager_compile, optimizer):
    # 50 images, batch 16: without dropping the short last batch (2 images) the model would recompile.
    result = T.train(TINY, compile=True, optimizer=optimizer, lbfgs_max_iter=3)
    assert [r["epoch"] for r in result.history] == [1, 2]
    assert all(np.isfinite(r["train_loss_running"]) for r in result.history)


def test_compile_drops_the_short_last_batch_only_when_compiling():
    ds = data.DeviceDataset(data.load_dataset("digits", n_per_class=5, rng=0))
    sizes = [len(y) for _, y in ds.batches(16, shuffle=True, generator=torch.Generator().manual_seed(0),
                                           drop_last=True)]
    assert sizes == [16, 16, 16]
    assert [len(y) for _, y in ds.batches(16)] == [16, 16, 16, 2]
    model = nets.build_model("resnet18", 10, width=4)
    opt = T.make_optimizer("sgd", model.parameters(), lr=0.05, weight_decay=5e-4)
    assert T.train_epoch(model, opt, ds, batch_size=16, drop_last=True)[2] == 48
    assert T.train_epoch(model, opt, ds, batch_size=16)[2] == 50
    with pytest.raises(ValueError, match="smaller than batch_size=64"):
        T.train(TINY, compile=True, batch_size=64)


def test_lbfgs_sets_the_batchnorm_statistics_to_the_batch_at_the_accepted_iterate():
    # The line search's evaluations change the buffers; they are put back (a copy, no attribute switch on the
    # compiled module), then one forward of the uncompiled module sets them to the batch's statistics.
    torch.manual_seed(0)
    model = nets.build_model("resnet18", 10, width=4)
    ds = data.DeviceDataset(data.load_dataset("digits", n_per_class=2, rng=0))
    opt = T.make_optimizer("lbfgs", model.parameters(), lr=0.1, weight_decay=0.0, lbfgs_max_iter=3)
    T.train_epoch(model, opt, ds, batch_size=20, generator=torch.Generator().manual_seed(0), augment=False)
    with torch.no_grad():
        h = model.conv1(ds.batch(torch.arange(20))[0])
    assert torch.allclose(model.bn1.running_mean, h.mean(dim=(0, 2, 3)), atol=1e-5)
    assert torch.allclose(model.bn1.running_var, h.var(dim=(0, 2, 3)), rtol=1e-4)
    assert int(model.bn1.num_batches_tracked) == 1                 # the evaluations of the line search undone
    assert all(m.momentum == 0.1 for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_evaluation_in_the_training_precision():
    result = T.train(TINY, epochs=1)
    ds = data.DeviceDataset(result.train_data)
    fp32 = T.evaluate(result.model, ds)
    bf16 = T.evaluate(result.model, ds, amp=True)               # CPU autocast in bfloat16
    assert bf16["train_acc"] == pytest.approx(fp32["train_acc"], abs=0.1)
    assert bf16["nc1"] == pytest.approx(fp32["nc1"], rel=0.1)
    h, z, _ = T.extract_features(result.model, ds, amp=True)
    assert h.dtype == torch.float32 and z.dtype == torch.float32


class _SyncCounter:
    """Counts the calls that copy a tensor's value to the host (each one a synchronisation on a GPU)."""

    NAMES = ("item", "tolist", "cpu", "numpy", "__float__", "__int__", "__bool__", "__index__")

    def __init__(self, monkeypatch):
        self.count = 0
        for name in self.NAMES:
            real = getattr(torch.Tensor, name)
            monkeypatch.setattr(torch.Tensor, name, self._counting(real))

    def _counting(self, real):
        @functools.wraps(real)
        def wrapper(*args, **kwargs):
            self.count += 1
            return real(*args, **kwargs)
        return wrapper


def test_evaluation_synchronizes_a_fixed_number_of_times_whatever_the_batches(monkeypatch):
    result = T.train(TINY, epochs=1)
    ds = data.DeviceDataset(result.train_data)
    test = data.DeviceDataset(result.test_data, stats_from=result.train_data)
    rows, counts = [], []
    for batch_size in (64, 8, 4):                              # 1, 7 and 13 batches
        with monkeypatch.context() as m:
            counter = _SyncCounter(m)
            rows.append(T.evaluate(result.model, ds, test, batch_size=batch_size))
            counts.append(counter.count)
    assert counts[0] == counts[1] == counts[2], counts
    for key in T.NC_KEYS + ("train_acc", "test_acc"):
        assert rows[1][key] == pytest.approx(rows[0][key], rel=1e-9, abs=1e-12), key


def test_deferred_checks_of_the_accumulator_raise_at_the_result():
    acc = class_stats.StreamingClassStatistics(3, 2, defer_checks=True)
    acc.update(torch.zeros((2, 2)), torch.tensor([0, 5]))         # no error, no host synchronisation
    acc.update(torch.tensor([[float("nan"), 0.0]]), torch.tensor([1]))
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.2; 1 of the labels fed"):
        acc.result()
    acc = class_stats.StreamingClassStatistics(3, 2, defer_checks=True)
    acc.update(torch.tensor([[float("inf"), 0.0], [1.0, 1.0], [2.0, 0.0]]), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="1 NaN or inf"):
        acc.result()
    rng = np.random.default_rng(0)
    h, y = torch.from_numpy(rng.standard_normal((30, 4))), torch.from_numpy(np.repeat(np.arange(3), 10))
    eager, deferred = class_stats.StreamingClassStatistics(3, 4), class_stats.StreamingClassStatistics(
        3, 4, defer_checks=True)
    for idx in np.array_split(rng.permutation(30), 4):
        eager.update(h[idx], y[idx])
        deferred.update(h[idx], y[idx])
    a, b = eager.result(), deferred.result()
    assert all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("counts", "class_means", "within_cov"))
    with pytest.raises(ValueError, match="defer_checks"):
        class_stats.StreamingClassStatistics(3, 4, defer_checks="yes")


def test_nc4_of_tensors_is_counted_on_their_device_equal_to_numpy():
    rng = np.random.default_rng(1)
    K, d = 4, 6
    h = rng.standard_normal((80, d)) + 2 * rng.standard_normal((K, d))[np.repeat(np.arange(K), 20)]
    z = h @ rng.standard_normal((K, d)).T
    means = np.stack([h[i * 20:(i + 1) * 20].mean(0) for i in range(K)])
    expected = collapse.nearest_mean_disagreements(h, z, means)
    assert 0 < expected < 80
    got = collapse.nearest_mean_disagreements(torch.from_numpy(h).float(), torch.from_numpy(z).float(), means)
    assert got == collapse.nearest_mean_disagreements(h.astype(np.float32), z.astype(np.float32), means)
    with pytest.raises(ValueError, match="finite"):
        collapse.nearest_mean_disagreements(torch.full((2, d), float("nan")), torch.zeros(2, K), means)
    with pytest.raises(ValueError, match=r"logits must have shape \(B, K\) = \(2, 4\)"):
        collapse.nearest_mean_disagreements(torch.zeros(2, d), torch.zeros(2, K + 1), means)


# ------------------------------------------------------------------------------------------------------
# the prepared device check, run here on the CPU with tiny sizes
# ------------------------------------------------------------------------------------------------------

def test_bench_training_times_training_and_evaluation_apart(tmp_path, capsys):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench_training
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    report = bench_training.main(["--width", "4", "--n-images", "40", "--batch-size", "8", "--json",
                                  str(tmp_path / "b.json"), "--threads", "1"])
    printed = capsys.readouterr().out
    assert "training" in printed and "evaluation" in printed and "reference" in printed
    saved = json.loads((tmp_path / "b.json").read_text())
    assert saved == pytest.approx(report) or saved.keys() == report.keys()
    assert saved["train_images_per_s"] > 0 and saved["eval_seconds"] > 0 and saved["ratio"] > 0


def test_gpu_check_script_runs_on_the_cpu_with_tiny_sizes(tmp_path):
    env = dict(os.environ, OUT=str(tmp_path), DEVICE="cpu", COMPILE="0", WIDTH="4", BATCH="8", SMOKE_PER_CLASS="3",
               LBFGS_PER_CLASS="3", LBFGS_BATCH="16", BENCH_IMAGES="40", BENCH_EPOCHS="1", WORKERS="0",
               PYTHON=sys.executable, STEP_TIMEOUT="300")
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["ok"] and all(summary["checks"].values()) and len(summary["checks"]) == 7
    assert summary["recompiles"] == {"smoke_sgd_part1": 0, "smoke_sgd_resumed": 0, "smoke_lbfgs": 0}
    history = json.loads((tmp_path / "run_sgd" / "history.json").read_text())
    assert [r["epoch"] for r in history] == [1, 2]


def test_gpu_check_script_fails_when_a_step_fails(tmp_path):
    env = dict(os.environ, OUT=str(tmp_path), PYTHON="false", COMPILE="0")     # every step fails at once
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout.count("FAILED") == 5, done.stdout
