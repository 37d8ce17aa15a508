"""Input checks shared by the public functions: clear errors that say what was expected and what came."""

from __future__ import annotations

import numbers

import numpy as np


def as_float_array(x, name: str, *, min_ndim: int = 0, ndim: int | None = None,
                   last_dim: int | None = None, allow_empty: bool = False) -> np.ndarray:
    """Return ``x`` as a finite float64 array, or raise ``ValueError`` naming ``name``.

    Never modifies the caller's data (a copy is made only when the dtype changes).
    """
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a real numeric array; got {type(x).__name__}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s); got shape {arr.shape}")
    if arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s); got shape {arr.shape}")
    if last_dim is not None and (arr.ndim == 0 or arr.shape[-1] != last_dim):
        raise ValueError(f"{name} must have last dimension {last_dim}; got shape {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it contains NaN or inf")
    return arr


def check_unit_norm(x: np.ndarray, name: str, *, atol: float = 1e-8) -> None:
    """Raise ``ValueError`` unless every vector along the last axis of ``x`` has unit Euclidean norm."""
    norms = np.linalg.norm(x, axis=-1)
    worst = float(np.max(np.abs(norms - 1.0))) if norms.size else 0.0
    if worst > atol:
        raise ValueError(
            f"{name} must lie on the unit sphere (norm 1 along the last axis, tolerance {atol:g}); "
            f"the largest deviation is {worst:.3g}"
        )


def check_scalar(value, name: str, *, integer: bool = False, low: float | None = None,
                 high: float | None = None, low_inclusive: bool = True, high_inclusive: bool = True):
    """Return ``value`` (a Python ``int`` or ``float``) if it is a finite number within the bounds, else raise.

    The one checker of scalar arguments: ``integer=True`` accepts Python and numpy integers (never
    ``bool``), otherwise any real number (numpy scalars included). ``low``/``high`` bound it, inclusive by
    default. Raises ``ValueError`` (the library's one error for bad input) for a value of the wrong kind,
    a non-finite one or one out of range; the message names the argument, says what was expected and
    shows what came.
    """
    kind = "integer" if integer else "number"
    ok_type = isinstance(value, numbers.Integral) if integer else isinstance(value, numbers.Real)
    if isinstance(value, (bool, np.bool_)) or not ok_type:
        raise ValueError(f"{name} must be a finite {kind}; got {value!r} of type {type(value).__name__}")
    value = int(value) if integer else float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite {kind}; got {value!r}")
    below = low is not None and (value < low if low_inclusive else value <= low)
    above = high is not None and (value > high if high_inclusive else value >= high)
    if (below or above) and low is not None and high is not None and not (low_inclusive or high_inclusive):
        raise ValueError(f"{name} must lie in the open interval ({low}, {high}); got {value!r}")
    if below or above:
        parts = []
        if low is not None:
            parts.append(f"{'>=' if low_inclusive else '>'} {low}")
        if high is not None:
            parts.append(f"{'<=' if high_inclusive else '<'} {high}")
        raise ValueError(f"{name} must be {' and '.join(parts)}; got {value!r}")
    return value


def check_positive(value, name: str, *, integer: bool = False, allow_zero: bool = False):
    """:func:`check_scalar` with the bound ``> 0`` (``>= 0`` with ``allow_zero``)."""
    return check_scalar(value, name, integer=integer, low=0, low_inclusive=allow_zero)


def check_open_interval(value, name: str, low: float, high: float) -> float:
    """:func:`check_scalar` with the bounds ``low < value < high``."""
    return check_scalar(value, name, low=low, high=high, low_inclusive=False, high_inclusive=False)


def as_rng(rng) -> np.random.Generator:
    """Normalize ``rng`` (None, int seed or ``Generator``) with :func:`numpy.random.default_rng`."""
    if rng is not None and not isinstance(rng, (numbers.Integral, np.random.Generator, np.random.SeedSequence)):
        raise ValueError(f"rng must be None, an int seed or a numpy Generator; got {type(rng).__name__}")
    return np.random.default_rng(rng)
