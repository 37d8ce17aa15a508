"""Cost of one batched power iteration on dictionary-learning data (chapter 3).

One iteration of the power iteration on the normalized data for ``s`` starts at once needs two matrix
products, ``Z = Q Ỹ`` of shape (s, n) @ (n, p) and ``Z^{∘3} Ỹᵀ`` of shape (s, p) @ (p, n): one pass over
the data for all starts. This script times, on the same problem,

1. the two products alone (the floor),
2. one iteration of ``landscape_lib.solvers.power_iteration`` on all starts at once (target: within 2x
   of the floor), run with the smallest positive ``tol`` so that no start stops early,
3. the same iteration made start by start in a Python loop (what a per-start implementation pays),

and prints the ratios. Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_dictionary.py [--n 32] [--m 64] [--p 20000]
        [--starts 64] [--iters 20] [--repeat 5]

Machines here are shared and noisy: the best of ``--repeat`` runs is reported; nothing is asserted.
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np

from landscape_lib import dictionary, generators, objectives, solvers, sphere
from landscape_lib._threads import one_blas_thread


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--m", type=int, default=64)
    ap.add_argument("--p", type=int, default=20_000)
    ap.add_argument("--theta", type=float, default=0.1)
    ap.add_argument("--starts", type=int, default=64)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--loop-starts", type=int, default=8, help="starts timed in the per-start loop")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)

    rng = np.random.default_rng(0)
    A = generators.tight_frame(args.n, args.m, rng=rng)
    Y, _ = dictionary.sample_data(A, args.p, args.theta, rng=rng)
    objective = objectives.DataObjective(Y, args.theta)
    Yt = objective.matrix  # the normalized nonzero samples the solver multiplies by
    Q = sphere.random_points(args.n, (args.starts,), rng=rng)
    k = args.iters

    Z3 = (Q @ Yt) ** 3

    def products():
        # Exactly the two products of one iteration, nothing else (the floor), with one BLAS thread like
        # the solver's loop, so that the ratio compares like with like whatever OMP_NUM_THREADS says.
        with one_blas_thread():
            for _ in range(k):
                Q @ Yt
                Z3 @ Yt.T

    def batched():
        # the smallest positive tol: no start ever converges, so every iteration runs on all starts.
        solvers.power_iteration(objective, Q, tol=np.finfo(float).tiny, max_iter=k)

    def loop():
        for j in range(args.loop_starts):
            solvers.power_iteration(objective, Q[j], tol=np.finfo(float).tiny, max_iter=k)

    t_prod = min(timeit.repeat(products, number=1, repeat=args.repeat)) / (k * args.starts)
    t_batch = min(timeit.repeat(batched, number=1, repeat=args.repeat)) / (k * args.starts)
    t_loop = min(timeit.repeat(loop, number=1, repeat=max(1, args.repeat // 2))) / (k * args.loop_starts)

    print(f"data: n={args.n}, m={args.m} (kappa={args.m / args.n:g}), p={Yt.shape[1]}, theta={args.theta}; "
          f"{args.starts} starts, {k} iterations, best of {args.repeat}")
    print(f"two matrix products only            : {1e6 * t_prod:9.1f} us per start per iteration")
    print(f"batched power_iteration (all starts): {1e6 * t_batch:9.1f} us per start per iteration")
    print(f"loop over starts                    : {1e6 * t_loop:9.1f} us per start per iteration")
    print(f"ratio batched / products : {t_batch / t_prod:6.2f}   (target <= 2)")
    print(f"ratio loop / batched     : {t_loop / t_batch:6.2f}   (speed-up from batching the starts)")


if __name__ == "__main__":
    main()
