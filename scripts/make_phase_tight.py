"""Regenerate the stored tight-frame phase transition of chapter 2 (book/data/phase/).

    .venv/bin/python scripts/make_phase_tight.py [--seed 0] [--m-max 128] [--out book/data/phase]

The page's phase transition (section 5) runs live on random unit-column frames; the theorem it discusses
assumes low-coherence unit-norm tight frames, which take too long to generate on the page. This script runs
the same measurement on those frames: the page's (n, m) grid (n <= m <= 1.5 n^2 on a grid of ratio sqrt 2),
cut at ``--m-max`` because generating a frame dominates and grows fast with m, the same frames and starts
per cell, the same solver and stopping rule (``recovery.recovery_grid`` defaults) and the same criterion
(max_i |<a_i, q>| >= threshold, rates at each of ``--thresholds``). Each cell (n, m) draws everything from
``numpy.random.default_rng([seed, n, m])`` (the convention of ``make_census.py``), passed to
``recovery.recovery_grid([n], [m], make_frame=tight_frame(..., low_coherence=True), rng=...)``. Writes
``phase_tight.npz`` (the correlation at every limit and at every random point, per cell) and
``phase_tight.json`` (the command, seed, commit, library_modified, the time of each cell, and per cell the
rate and the chance rate per threshold and the converged fraction). Runs under the pinned numerical
environment; about 6 minutes on 2 cores with the defaults (353 s measured, on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

N_VALUES = (16, 24, 32, 48, 64)
THRESHOLDS = (0.8, 0.9, 0.95)


def m_grid(n_values, m_factor: float):
    """The page's m grid: powers of sqrt 2 from 4 to m_factor * max(n)^2, at least min(n)."""
    import numpy as np

    grid = np.unique(np.round(2 ** np.arange(2, np.log2(m_factor * max(n_values) ** 2) + 0.01, 0.5)).astype(int))
    return [int(m) for m in grid if m >= min(n_values)]


def tight_frame_maker(n, m, rng):
    from landscape_lib import generators

    return generators.tight_frame(n, m, low_coherence=True, rng=rng)


def run_cell(n: int, m: int, *, seed: int, frames: int, starts: int, threshold: float, m_factor: float):
    """One cell of the stored grid, exactly as the script computes it (the unit test calls this)."""
    import numpy as np

    from landscape_lib import recovery

    return recovery.recovery_grid([n], [m], threshold=threshold, frames=frames, starts=starts,
                                  max_m_factor=m_factor, make_frame=tight_frame_maker,
                                  rng=np.random.default_rng([seed, n, m]))


def main(argv=None) -> int:
    import numerics_env
    import provenance

    numerics_env.ensure()
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n", type=int, nargs="+", default=list(N_VALUES))
    parser.add_argument("--m-factor", type=float, default=1.5, help="largest m as a multiple of n^2 (the page's)")
    parser.add_argument("--m-max", type=int, default=128, help="largest m measured (frame generation cost)")
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--starts", type=int, default=24)
    parser.add_argument("--threshold", type=float, default=0.9, help="the page's recovery_threshold")
    parser.add_argument("--thresholds", type=float, nargs="+", default=list(THRESHOLDS))
    parser.add_argument("--out", type=Path, default=ROOT / "book" / "data" / "phase")
    args = parser.parse_args(argv)
    commit, dirty = provenance.library_commit()
    ms = [m for m in m_grid(args.n, args.m_factor) if m <= args.m_max]
    arrays, cells = {}, []
    t_all = time.perf_counter()
    for n in args.n:
        for m in ms:
            if not n <= m <= args.m_factor * n * n:
                continue
            t0 = time.perf_counter()
            g = run_cell(n, m, seed=args.seed, frames=args.frames, starts=args.starts, threshold=args.threshold,
                         m_factor=args.m_factor)
            seconds = time.perf_counter() - t0
            key = f"n{n}_m{m}"
            corr, base = g.correlations[(n, m)], g.baseline[(n, m)]
            arrays[f"{key}/correlations"] = corr
            arrays[f"{key}/baseline"] = base
            cells.append({"n": n, "m": m, "kappa": m / n, "key": key, "seconds": round(seconds, 1),
                          "converged": float(g.converged[0, 0]),
                          "rate": {f"{t:g}": float(np.mean(corr >= t)) for t in args.thresholds},
                          "chance": {f"{t:g}": float(np.mean(base >= t)) for t in args.thresholds}})
            print(f"n = {n:3d}, m = {m:4d}: {seconds:6.1f} s, rate at {args.threshold:g}: "
                  f"{np.mean(corr >= args.threshold):.2f}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out / "phase_tight.npz", **arrays)
    meta = {"command": "python scripts/make_phase_tight.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "seed": args.seed, "commit": commit, "library_modified": dirty, "frames": args.frames,
            "starts": args.starts, "threshold": args.threshold, "thresholds": list(args.thresholds),
            "m_factor": args.m_factor, "m_max": args.m_max, "n_values": list(args.n), "m_values": ms,
            "frame": "generators.tight_frame(n, m, low_coherence=True, rng=default_rng([seed, n, m]))",
            "solver": "recovery.recovery_grid defaults (power iteration, tol 1e-6, max_iter 1000)",
            "total_seconds": round(time.perf_counter() - t_all, 1), "cells": cells}
    (args.out / "phase_tight.json").write_text(json.dumps(meta, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
