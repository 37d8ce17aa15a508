"""Neural-collapse metrics at CIFAR-10 scale: landscape_lib.collapse against a per-sample-loop reference.

N = 50,000 features of dimension d = 512, K = 10 balanced classes (float64 on the host). Three timings:

* ``landscape_lib``: :func:`landscape_lib.collapse.collapse_metrics` (NC1-NC4, equinorm, equiangularity);
* the reference, written the way the public neural-collapse code computes the same quantities: a Python
  loop over samples that adds each feature into its class mean, a second loop that adds the outer product
  ``(h - mu_y)(h - mu_y)^T`` into Sigma_W, ``scipy.sparse.linalg.svds`` on Sigma_B for its rank-(K-1)
  pseudo-inverse, ``trace(Sigma_W @ inv(Sigma_B))``, and a per-sample loop over the distances to the class
  means for NC4;
* one plain pass over the features, in two forms: ``features.sum(axis=0)`` (reading every entry once,
  the least any metric must do) and ``features @ W.T`` (the logits, which NC4 needs and every evaluation
  loop computes anyway).

The three are timed interleaved (one call of each per round, the best round of each kept), so that a busy
machine slows them alike. Printed: the speed-up over the reference (target: at least 50x), the ratio to one
``features @ W.T`` (target: at most 1.3x), the ratio to ``features.sum(axis=0)`` for information, and the
largest relative difference between the two implementations' metrics (target: about 1e-12 or less).

Why about one ``features @ W.T`` and not one ``features.sum(axis=0)``: the metrics see the features only
through their projections on the span of the centred class means and the rows of ``W``, ``2K - 1``
directions (NC4 needs the logits and the distances to the means, NC1 the ``K - 1`` directions of the means),
and the means must be known before the features can be projected on them. So the features are read twice:
once for the class means (additions only, as fast as ``sum``), once for the one product ``Q^T H^T`` with
``2K - 1`` rows, from which the logits, the distances and NC1's projections all follow.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_collapse_metrics.py`` (``--reference-samples M``
times the reference loop on the first M samples only and scales it to N, which is exact for a loop whose
cost is linear in N; the default runs it on all N).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.sparse.linalg import svds

from landscape_lib.collapse import collapse_metrics


def make_data(N: int, d: int, K: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(np.arange(K), N // K))
    means = 3.0 * rng.standard_normal((K, d))
    features = means[labels] + rng.standard_normal((N, d)) + 10.0
    W = means + 0.5 * rng.standard_normal((K, d))
    b = 0.1 * rng.standard_normal(K)
    return features, labels, W, b


def reference_metrics(features, labels, W, b, K):
    """Per-sample loops in the style of the papers' code (class statistics accumulated one sample at a time)."""
    N, d = features.shape
    mean = [np.zeros(d) for _ in range(K)]
    count = [0] * K
    for i in range(N):                                   # pass 1: class means
        y = labels[i]
        mean[y] += features[i]
        count[y] += 1
    mean = np.array([mean[k] / count[k] for k in range(K)])
    mu_g = features.sum(axis=0) / N
    Sw = np.zeros((d, d))
    for i in range(N):                                   # pass 2: within-class covariance
        z = features[i] - mean[labels[i]]
        Sw += np.outer(z, z)
    Sw /= N
    M_ = (mean - mu_g).T                                 # (d, K)
    Sb = M_ @ M_.T / K
    eigvec, eigval, _ = svds(Sb, k=K - 1)
    inv_Sb = eigvec @ np.diag(eigval ** (-1)) @ eigvec.T
    nc1 = np.trace(Sw @ inv_Sb) / K
    etf = (np.eye(K) - np.ones((K, K)) / K) / np.sqrt(K - 1)
    WWT = W @ W.T
    nc2_w = np.linalg.norm(WWT / np.linalg.norm(WWT) - etf)
    MMT = M_.T @ M_
    nc2_h = np.linalg.norm(MMT / np.linalg.norm(MMT) - etf)
    WH = W @ M_
    nc3 = np.linalg.norm(WH / np.linalg.norm(WH) - etf)
    nc3_p = np.linalg.norm(W.T / np.linalg.norm(W) - M_ / np.linalg.norm(M_)) ** 2
    mismatch = 0
    for i in range(N):                                   # NC4: nearest class mean, one sample at a time
        h = features[i]
        net = np.argmax(W @ h + b)
        ncc = np.argmin(np.linalg.norm(h - mean, axis=1))
        mismatch += int(net != ncc)
    return dict(nc1=nc1, nc2_classifier=nc2_w, nc2_means=nc2_h, nc3_ufm=nc3, nc3_papyan=nc3_p,
                nc4=mismatch / N)


def best_of(fn, repeats: int) -> float:
    return best_of_interleaved({"fn": fn}, repeats)["fn"]


def best_of_interleaved(fns: dict, repeats: int) -> dict:
    """The best time of each function, calling them in turn ``repeats`` times (load affects them alike)."""
    best = dict.fromkeys(fns, np.inf)
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--N", type=int, default=50_000)
    parser.add_argument("--d", type=int, default=512)
    parser.add_argument("--K", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--reference-samples", type=int, default=None,
                        help="time the reference loop on this many samples and scale to N")
    args = parser.parse_args(argv)
    features, labels, W, b = make_data(args.N, args.d, args.K)

    ours = collapse_metrics(features, labels, W, b, args.K)
    times = best_of_interleaved({"ours": lambda: collapse_metrics(features, labels, W, b, args.K),
                                 "sum": lambda: features.sum(axis=0), "logits": lambda: features @ W.T},
                                args.repeats)
    t_ours, t_pass, t_logits = times["ours"], times["sum"], times["logits"]

    m = args.reference_samples or args.N
    t0 = time.perf_counter()
    ref = reference_metrics(features[:m], labels[:m], W, b, args.K)
    t_ref = (time.perf_counter() - t0) * args.N / m
    if m == args.N:
        worst = max(abs(getattr(ours, k) - v) / max(abs(v), 1e-300) for k, v in ref.items())
        agree = f"largest relative difference of the metrics: {worst:.1e}"
    else:
        agree = f"(reference timed on {m} samples and scaled to N; metrics not compared)"

    print(f"N={args.N}, d={args.d}, K={args.K}, float64, OMP_NUM_THREADS as set in the environment")
    print(f"landscape_lib.collapse_metrics : {t_ours * 1e3:9.1f} ms (best of {args.repeats})")
    print(f"per-sample-loop reference      : {t_ref * 1e3:9.1f} ms")
    print(f"plain pass: features.sum(0)    : {t_pass * 1e3:9.1f} ms (best of {args.repeats})")
    print(f"plain pass: features @ W.T     : {t_logits * 1e3:9.1f} ms (best of {args.repeats})")
    print(f"speed-up over the reference    : {t_ref / t_ours:9.1f}x   (target >= 50x)")
    print(f"ratio to features @ W.T        : {t_ours / t_logits:9.2f}x   (target <= 1.3x)")
    print(f"ratio to features.sum(0)       : {t_ours / t_pass:9.2f}x   (two reads and a product: see above)")
    print(agree)


if __name__ == "__main__":
    main()
