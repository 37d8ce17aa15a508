"""Thread limits shared by the numpy hot loops (solvers of chapter 2, data objective of chapter 3)."""

import contextlib


def one_blas_thread():
    """Context manager: BLAS limited to one thread (threadpoolctl, when installed).

    The products are small, ``(N, n) @ (n, m)`` once per iteration: threads only add synchronization, and
    on a busy machine OpenBLAS's spinning threads made a solver call about 100× slower (measured: 94 s
    against 0.9 s for 24 starts at n = 64, m = 2048 on 2 loaded cores)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it BLAS keeps its own setting
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
