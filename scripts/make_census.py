"""Regenerate the stored census of critical points of chapter 2 (book/data/census/).

    .venv/bin/python scripts/make_census.py [--seed 0] [--out book/data/census]

For every dimension n and overcompleteness kappa of the grid: one low-coherence unit-norm tight frame
(``generators.tight_frame(n, m, low_coherence=True, rng=default_rng([seed, n, m]))``, m = round(kappa n)),
cached in the output; then ``census.run_census`` from the census starts (``census.census_starts`` with
``seed``): the m columns, and ``--starts`` random points, pairs and triples. Writes ``census.npz`` (the frames
and every start's outcome) and ``census.json`` (the command, seed, commit, the time of each cell and the
per-family counts). Runs under the pinned numerical environment; about 10 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

N_VALUES = (24, 32, 48)
KAPPAS = (1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
FIELDS = ("certified", "grad_norms", "values", "fourth_moment", "correlation", "lambda_min", "lambda_max",
          "n_negative", "distinct")


def main(argv=None) -> int:
    import numerics_env
    import provenance

    numerics_env.ensure()
    import numpy as np

    from landscape_lib import census, generators

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--starts", type=int, default=200, help="random points, pairs and triples each")
    parser.add_argument("--n", type=int, nargs="+", default=list(N_VALUES))
    parser.add_argument("--kappa", type=float, nargs="+", default=list(KAPPAS))
    parser.add_argument("--out", type=Path, default=ROOT / "book" / "data" / "census")
    args = parser.parse_args(argv)
    commit, dirty = provenance.library_commit()
    arrays, cells = {}, []
    for n in args.n:
        for kappa in args.kappa:
            m = int(round(kappa * n))
            t0 = time.perf_counter()
            A = generators.tight_frame(n, m, low_coherence=True, rng=np.random.default_rng([args.seed, n, m]))
            t1 = time.perf_counter()
            starts = census.census_starts(A, n_random=args.starts, n_pairs=args.starts, n_triples=args.starts,
                                          seed=args.seed)
            c = census.run_census(A, starts)
            t2 = time.perf_counter()
            key = f"n{n}_m{m}"
            arrays[f"{key}/A"] = A
            arrays[f"{key}/family"] = np.array([census.FAMILIES.index(f) for f in c.family], dtype=np.int8)
            for field in FIELDS:
                arrays[f"{key}/{field}"] = getattr(c, field)
            cells.append({"n": n, "m": m, "kappa": kappa, "key": key, "coherence": generators.coherence(A),
                          "welch": generators.welch_bound(n, m), "frame_seconds": round(t1 - t0, 1),
                          "census_seconds": round(t2 - t1, 1),
                          "certified": {f: int(np.sum(c.certified & (c.family == f))) for f in census.FAMILIES},
                          "starts": {f: int(np.sum(c.family == f)) for f in census.FAMILIES}})
            print(f"n = {n:3d}, m = {m:4d}: frame {t1 - t0:5.1f} s, census {t2 - t1:5.1f} s", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out / "census.npz", **arrays)
    meta = {"command": "python scripts/make_census.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "seed": args.seed, "starts": args.starts, "commit": commit, "library_modified": dirty,
            "families": list(census.FAMILIES), "tol": 1e-8, "eig_tol": 1e-6, "cells": cells}
    (args.out / "census.json").write_text(json.dumps(meta, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
