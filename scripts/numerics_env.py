"""The one pinned numerical environment of every execution and test of the chapters.

Floating-point results depend on which numerical kernels run, and the libraries choose their kernels from
the CPU when they load: OpenBLAS (numpy's and scipy's BLAS) picks a core type, torch's ATen a vector
capability, oneDNN (torch's convolutions) an instruction set, MKL (torch's matrix products on x86) a code
path that differs between Intel and AMD, and numpy its own SIMD loops for ``exp``, ``log`` and powers. Two
machines with different CPUs therefore print different last digits, and a long training run amplifies
them. The chapters' committed outputs are the regression reference, so every process that executes or
tests a chapter runs under the environment below, set here before any of those libraries loads (they read
it once, at load time; setting it in a notebook cell or a conftest would do nothing).

Modes (``LANDSCAPES_NUMERICS`` in the environment of the process):

``pinned``
    The reference: x86-64 AVX2+FMA kernels everywhere and fixed thread counts. Chosen when the CPU
    supports them (every x86-64 CPU since 2013-2015; AVX-512 machines are pinned down to AVX2). The
    committed outputs were produced in this mode, and nbval compares them exactly.
``alternative``
    Another kernel choice the same CPU supports (AVX-512 kernels where the CPU has them, otherwise
    AVX/SSE ones): the portability check (``scripts/portability.py``) executes every chapter in it and
    reports each printed number that changes.
``tolerance``
    For a CPU that cannot run the pinned kernels (ARM, very old x86-64): only the thread counts are set;
    no kernel is forced (forcing one the CPU lacks is not checked by OpenBLAS or ATen and would crash),
    and the chapters are compared with the portability check's stated tolerances instead of exactly.

Use::

    python scripts/numerics_env.py                 # print the mode and the variables for this machine
    python scripts/numerics_env.py -- CMD ARGS...  # run CMD under the pinned environment
    LANDSCAPES_NUMERICS=alternative python scripts/numerics_env.py -- CMD ARGS...
    LANDSCAPES_NUMERICS=alternative LANDSCAPES_ALTERNATIVE=avx ...   # the AVX kernels even on AVX-512

Scripts call :func:`ensure` first thing; it re-executes the script under the environment when the
current one differs, so no library can have loaded with other settings.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

MODE_VARIABLE = "LANDSCAPES_NUMERICS"
ALTERNATIVE_VARIABLE = "LANDSCAPES_ALTERNATIVE"
MODES = ("pinned", "alternative", "tolerance")

# Thread counts are part of the numerics (how a reduction is split changes its rounding). Two is the
# reference machine's core count; chapters 5-7 additionally fix torch at one thread in the page.
THREADS = {"OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}

# numpy's runtime-dispatched SIMD targets above AVX2. numpy 2.4 groups them as X86_V4 (AVX-512 of
# Skylake-X) plus AVX512_ICL and AVX512_SPR; older numpy names the AVX512_* targets alone. Names a
# version does not dispatch are ignored, so both spellings are listed; the test suite checks that the
# installed numpy reports X86_V4 off under the pinned environment.
NUMPY_AVX512 = "X86_V4 AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL AVX512_SPR AVX512_KNL AVX512_KNM"
NUMPY_AVX2 = "X86_V3 AVX2 FMA3 " + NUMPY_AVX512

PINNED = {
    "OPENBLAS_CORETYPE": "Haswell",  # numpy's and scipy's OpenBLAS: AVX2+FMA kernels
    "MKL_CBWR": "AVX2",  # torch's MKL: the AVX2 code path, the same on Intel and AMD
    "ATEN_CPU_CAPABILITY": "avx2",  # torch's vectorized CPU kernels
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # torch's convolutions
    "NPY_DISABLE_CPU_FEATURES": NUMPY_AVX512,  # numpy's own SIMD loops stop at AVX2
    **THREADS,
}
# The CPU flags (as /proc/cpuinfo spells them) the pinned kernels need.
PINNED_NEEDS = ("avx", "avx2", "fma", "f16c")

ALTERNATIVE_AVX512 = {
    "OPENBLAS_CORETYPE": "SkylakeX",
    "MKL_CBWR": "AVX512",
    "ATEN_CPU_CAPABILITY": "avx512",
    "ONEDNN_MAX_CPU_ISA": "AVX512_CORE",
    "NPY_DISABLE_CPU_FEATURES": "",
    **THREADS,
}
ALTERNATIVE_NEEDS_AVX512 = ("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl")
ALTERNATIVE_AVX = {
    "OPENBLAS_CORETYPE": "Sandybridge",
    "MKL_CBWR": "AVX",
    "ATEN_CPU_CAPABILITY": "default",
    "ONEDNN_MAX_CPU_ISA": "AVX",
    "NPY_DISABLE_CPU_FEATURES": NUMPY_AVX2,
    **THREADS,
}

# Every variable any mode sets; tolerance mode removes them (the libraries then choose by themselves).
ALL_VARIABLES = sorted({*PINNED, *ALTERNATIVE_AVX512, *ALTERNATIVE_AVX})


def cpu_flags() -> set[str] | None:
    """The CPU's feature flags on Linux x86-64 (``/proc/cpuinfo``), or None where they cannot be read."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return None


def choose_mode(requested: str | None = None, flags: set[str] | None = ...) -> tuple[str, str]:
    """The mode to run in and why: ``requested`` (or ``$LANDSCAPES_NUMERICS``) when the CPU allows it."""
    if flags is ...:
        flags = cpu_flags()
    requested = requested or os.environ.get(MODE_VARIABLE) or "pinned"
    if requested not in MODES:
        raise SystemExit(f"{MODE_VARIABLE} must be one of {', '.join(MODES)}; got {requested!r}")
    if requested == "tolerance":
        return "tolerance", "asked for"
    if flags is None:
        return "tolerance", (f"this is not Linux on x86-64 ({platform.system()} {platform.machine()}): the "
                             "pinned x86-64 kernels cannot run here")
    missing = [f for f in PINNED_NEEDS if f not in flags]
    if missing:
        return "tolerance", f"this CPU lacks {', '.join(missing)}, which the pinned kernels need"
    return requested, "the CPU supports it"


def environment(mode: str, flags: set[str] | None = ...) -> dict[str, str | None]:
    """The variables of ``mode``: a value to set, or None to remove."""
    if flags is ...:
        flags = cpu_flags()
    if mode == "pinned":
        chosen = PINNED
    elif mode == "alternative":
        has_avx512 = flags is not None and all(f in flags for f in ALTERNATIVE_NEEDS_AVX512)
        # LANDSCAPES_ALTERNATIVE=avx picks the older kernels on an AVX-512 machine too (to see what an
        # AVX2-only machine's portability check sees).
        chosen = ALTERNATIVE_AVX512 if has_avx512 and os.environ.get(ALTERNATIVE_VARIABLE) != "avx" else ALTERNATIVE_AVX
    else:
        chosen = THREADS  # safe on any CPU
    values: dict[str, str | None] = {name: chosen.get(name) for name in ALL_VARIABLES}
    # An empty value means "unset" (numpy rejects an empty feature list on some versions).
    values = {name: (value or None) for name, value in values.items()}
    values[MODE_VARIABLE] = mode
    return values


def apply(env: dict[str, str], mode: str | None = None) -> tuple[dict[str, str], str, str]:
    """``env`` with the numerical environment of ``mode`` applied; also the mode and why it was chosen."""
    mode, why = choose_mode(mode or env.get(MODE_VARIABLE))
    out = dict(env)
    for name, value in environment(mode).items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out, mode, why


def describe(env: dict[str, str] | None = None) -> str:
    """One line for build logs: the mode and every variable as the process sees it."""
    env = os.environ if env is None else env
    mode = env.get(MODE_VARIABLE, "unset")
    shown = " ".join(f"{name}={env.get(name, '(unset)')}" for name in ALL_VARIABLES)
    return f"numerical environment: {mode} ({platform.machine()}): {shown}"


def ensure(mode: str | None = None) -> str:
    """Re-execute the running script under the numerical environment unless it already runs under it.

    Call it before importing numpy, scipy or torch. Returns the mode. Prints :func:`describe` once.
    """
    target, mode, why = apply(dict(os.environ), mode)
    if any(os.environ.get(k) != target.get(k) for k in {*ALL_VARIABLES, MODE_VARIABLE}):
        sys.stdout.flush()
        os.execve(sys.executable, [sys.executable, *sys.argv], target)
    if not os.environ.get("_LANDSCAPES_NUMERICS_SHOWN"):
        os.environ["_LANDSCAPES_NUMERICS_SHOWN"] = "1"
        print(describe() + ("" if mode != "tolerance" else f"\n  tolerance mode: {why}"), flush=True)
    return mode


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    target, mode, why = apply(dict(os.environ))
    print(describe(target) + f"\n  mode {mode}: {why}", file=sys.stderr if argv else sys.stdout, flush=True)
    if not argv:
        return 0
    os.execvpe(argv[0], argv, target)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
