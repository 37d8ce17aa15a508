"""landscape_lib: the companion library of the *Landscapes* book.

Submodules are imported lazily (``landscape_lib.sphere`` etc.), so ``import landscape_lib`` is fast and
works without the optional dependencies (plotly for :mod:`landscape_lib.viz`, torch for
:mod:`landscape_lib.nets`, :mod:`landscape_lib.data`, :mod:`landscape_lib.train`).
"""

from importlib import import_module

__version__ = "0.1.0"

_SUBMODULES = {
    "sphere", "objectives", "generators", "critical", "sphere_critical", "solvers", "toy2d", "euclidean",
    "dictionary", "collapse", "etf", "class_stats", "ufm", "losses", "ufm_critical", "ufm_sphere", "nets", "data",
    "train", "viz", "testing", "recovery", "msp", "explore", "ufm_imbalanced", "census",
}


def __getattr__(name):
    if name in _SUBMODULES:
        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBMODULES))
