#!/usr/bin/env bash
# Device check of the training path of chapters 5-7, prepared for a machine with one CUDA GPU:
#
#   1. a smoke run of the command line on synthetic CIFAR-shaped tensors (no download): bf16 autocast,
#      channels-last, --compile, two epochs split by a checkpoint and a --resume in a second process, NC
#      metrics at both epochs; then L-BFGS compiled for two epochs (the batch-norm buffers it restores must
#      not recompile the model). Every recompilation torch.compile logs is counted: there must be none
#      (static shapes: the short last batch of an epoch is left out);
#   2. the throughput benchmark against the reference loop (fp32, DataLoader, .item() per batch), with the
#      evaluation timed apart, eager and compiled.
#
# Writes JSON under $OUT (env.json, smoke_*.json, bench*.json and summary.json, plus the logs) and exits 1
# when a functional check fails; the speed targets (>= 3x the reference, >= 25,000 training images/s for
# ResNet18 in bf16 on an H200) are reported in summary.json, not enforced. Sized to finish well under 8
# minutes on one H200 (each step also has a time limit). Run from the repository root:
#
#     OUT=/tmp/gpu_check bash benchmarks/gpu_check.sh
#
# Every size comes from the environment, with these defaults; tests/unit/test_gpu_check.py runs the script
# on the CPU with tiny sizes and COMPILE=0:
#     DEVICE=cuda COMPILE=1 WIDTH=64 BATCH=128 SMOKE_PER_CLASS=500 LBFGS_PER_CLASS=200 LBFGS_BATCH=256
#     BENCH_IMAGES=25000 BENCH_EPOCHS=2 WORKERS=8 STEP_TIMEOUT=240 PYTHON=(.venv/bin/python if present, else python3)
set -euo pipefail

OUT="${OUT:?set OUT to the folder for the results}"
DEVICE="${DEVICE:-cuda}"
COMPILE="${COMPILE:-1}"
WIDTH="${WIDTH:-64}"
BATCH="${BATCH:-128}"
SMOKE_PER_CLASS="${SMOKE_PER_CLASS:-500}"        # 5,000 images: 5000 mod 128 = 8, a short last batch
LBFGS_PER_CLASS="${LBFGS_PER_CLASS:-200}"        # 2,000 images: 2000 mod 256 = 208
LBFGS_BATCH="${LBFGS_BATCH:-256}"
BENCH_IMAGES="${BENCH_IMAGES:-25000}"
BENCH_EPOCHS="${BENCH_EPOCHS:-2}"
WORKERS="${WORKERS:-8}"
STEP_TIMEOUT="${STEP_TIMEOUT:-240}"
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"    # the working tree's landscape_lib, installed or not
export TORCH_LOGS="recompiles"                         # torch.compile logs every recompilation to stderr
mkdir -p "$OUT"
compile_flag=()
if [[ "$COMPILE" == 1 ]]; then compile_flag=(--compile); fi
status=0

step() {  # step NAME COMMAND...: stdout to $OUT/NAME.out, stderr to $OUT/NAME.log, time-limited
    local name="$1"
    shift
    local start=$SECONDS
    if timeout "$STEP_TIMEOUT" "$@" >"$OUT/$name.out" 2>"$OUT/$name.log"; then
        echo "$name: ok ($((SECONDS - start)) s)"
    else
        echo "$name: FAILED with status $? ($((SECONDS - start)) s); see $OUT/$name.log"
        tail -n 5 "$OUT/$name.log" || true
        status=1
    fi
}

step env "$PYTHON" -c '
import json, sys, torch
cuda = torch.cuda.is_available()
print(json.dumps({"python": sys.version.split()[0], "torch": torch.__version__, "cuda": torch.version.cuda,
                  "cuda_available": cuda, "device_name": torch.cuda.get_device_name(0) if cuda else None}))'

common=(-m landscape_lib.train --dataset synthetic --n-test-per-class 20 --width "$WIDTH" --device "$DEVICE"
        --metrics-every 1 --no-progress --threads 4)
step smoke_sgd_part1 "$PYTHON" "${common[@]}" "${compile_flag[@]}" --n-train-per-class "$SMOKE_PER_CLASS" \
    --batch-size "$BATCH" --epochs 2 --until-epoch 1 --output-dir "$OUT/run_sgd"
step smoke_sgd_resumed "$PYTHON" "${common[@]}" --output-dir "$OUT/run_sgd" --resume
step smoke_lbfgs "$PYTHON" "${common[@]}" "${compile_flag[@]}" --optimizer lbfgs --lbfgs-max-iter 5 \
    --n-train-per-class "$LBFGS_PER_CLASS" --batch-size "$LBFGS_BATCH" --epochs 2 --output-dir "$OUT/run_lbfgs"

bench=(benchmarks/bench_training.py --device "$DEVICE" --width "$WIDTH" --batch-size "$BATCH"
       --n-images "$BENCH_IMAGES" --epochs "$BENCH_EPOCHS" --workers "$WORKERS")
step bench "$PYTHON" "${bench[@]}" --json "$OUT/bench.json"
if [[ "$COMPILE" == 1 ]]; then
    step bench_compiled "$PYTHON" "${bench[@]}" --compile --skip-reference --json "$OUT/bench_compiled.json"
fi

# The summary: every functional check, and the speed numbers next to their targets.
DEVICE="$DEVICE" COMPILE="$COMPILE" OUT="$OUT" STATUS="$status" "$PYTHON" - <<'PY' || status=1
import json, os
from pathlib import Path

out, device, compiled = Path(os.environ["OUT"]), os.environ["DEVICE"], os.environ["COMPILE"] == "1"


def read_json(name):
    try:
        text = (out / name).read_text().strip()
        return json.loads(text.splitlines()[-1] if name.endswith(".out") else text)
    except (OSError, ValueError, IndexError):
        return None


checks = {"every step exited with status 0": os.environ["STATUS"] == "0"}
part1, resumed, lbfgs = (read_json(f"{n}.out") for n in ("smoke_sgd_part1", "smoke_sgd_resumed", "smoke_lbfgs"))
history = read_json("run_sgd/history.json") or []
checks["smoke: epoch 1, then epoch 2 after --resume"] = bool(part1 and resumed and part1["epoch"] == 1
                                                             and resumed["epoch"] == 2)
checks[f"smoke: ran on {device}"] = bool(resumed and resumed["device"].startswith(device)
                                         and lbfgs and lbfgs["device"].startswith(device))
checks["smoke: checkpoint written"] = (out / "run_sgd" / "checkpoint.pt").is_file()
checks["smoke: 2 history rows with finite losses and NC metrics"] = (
    len(history) == 2 and all(r["train_loss_running"] is not None and r["nc1"] is not None for r in history))
checks["lbfgs: 2 epochs with a finite loss"] = bool(lbfgs and lbfgs["epoch"] == 2 and lbfgs["train_acc"] is not None)
recompiles = {n: (out / f"{n}.log").read_text(errors="replace").count("Recompiling function")
              for n in ("smoke_sgd_part1", "smoke_sgd_resumed", "smoke_lbfgs", "bench_compiled")
              if (out / f"{n}.log").exists()}
if compiled:
    checks["compile: no recompilation (static shapes, no guard failure)"] = sum(recompiles.values()) == 0
bench, bench_c = read_json("bench.json"), read_json("bench_compiled.json")
checks["bench: training and evaluation timed apart"] = bool(
    bench and bench["train_images_per_s"] > 0 and bench["eval_seconds"] > 0 and bench.get("ratio"))
speed = {}
if bench:
    speed = {"train_images_per_s": bench["train_images_per_s"], "eval_seconds": bench["eval_seconds"],
             "reference_images_per_s": bench.get("reference_images_per_s"), "ratio": bench.get("ratio"),
             "compiled_train_images_per_s": bench_c and bench_c["train_images_per_s"],
             "compiled_eval_seconds": bench_c and bench_c["eval_seconds"]}
    best = max(v for v in (bench["train_images_per_s"], bench_c and bench_c["train_images_per_s"]) if v)
    speed["target >= 3x reference"] = bool(bench.get("ratio") and best / bench["reference_images_per_s"] >= 3)
    speed["target >= 25000 images/s"] = best >= 25000
summary = {"ok": all(checks.values()), "checks": checks, "recompiles": recompiles, "speed": speed,
           "env": read_json("env.out")}
(out / "summary.json").write_text(json.dumps(summary, indent=1, default=lambda v: None))
print(json.dumps(summary, indent=1, default=lambda v: None))
raise SystemExit(0 if summary["ok"] else 1)
PY
exit $status
