"""Guard for running nbval by hand: the committed outputs hold only under the pinned numerical
environment (scripts/numerics_env.py), which must be set before numpy, scipy or torch load, so a
conftest cannot set it; it can only refuse to compare without it."""

import os


def pytest_configure(config):
    if getattr(config.option, "nbval", False) and os.environ.get("LANDSCAPES_NUMERICS") != "pinned":
        import pytest

        raise pytest.UsageError(
            "nbval compares the chapters' committed outputs, which hold under the pinned numerical "
            "environment only; run `python scripts/numerics_env.py -- pytest --nbval ...` (or `make test`). "
            f"LANDSCAPES_NUMERICS is {os.environ.get('LANDSCAPES_NUMERICS', 'unset')!r}."
        )
