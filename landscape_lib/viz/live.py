"""Kept for the chapters that import ``live_figure`` from here; it lives in :mod:`landscape_lib.explore`."""

from ..explore import live_figure  # noqa: F401
