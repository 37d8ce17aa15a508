"""The static fallbacks' quantization (scripts/figures.py ``_compact``) keeps a figure's named colours."""

from __future__ import annotations

import sys
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image

from landscape_lib.critical import CriticalType
from landscape_lib.viz.style import CRITICAL_COLORS

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import figures  # noqa: E402


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])


def _screenshot() -> tuple[bytes, dict]:
    """A smooth yellow-green surface (thousands of colours) with a few small markers on it, as in chapter 1."""
    h, w = 200, 300
    t = np.linspace(0, 1, w)[None, :, None]
    s = np.linspace(0, 1, h)[:, None, None]
    image = (np.array([60, 120, 40]) * (1 - t) + np.array([230, 220, 60]) * t + 20 * s).clip(0, 255)
    image = image.astype(np.uint8)
    marks = {}
    for k, kind in enumerate((CriticalType.STRICT_SADDLE, CriticalType.MAXIMIZER, CriticalType.MINIMIZER)):
        y, x = 40 + 50 * k, 150
        image[y:y + 4, x:x + 4] = _rgb(CRITICAL_COLORS[kind])
        marks[kind] = (y + 1, x + 1)
    out = BytesIO()
    Image.fromarray(image).save(out, format="PNG")
    return out.getvalue(), marks


def test_small_markers_keep_their_colours():
    png, marks = _screenshot()
    compact = Image.open(BytesIO(figures._compact(png)))
    assert compact.mode == "P", "the fallback is a palette PNG (small)"
    drawn = np.asarray(compact.convert("RGB")).astype(int)
    for kind, (y, x) in marks.items():
        error = np.abs(drawn[y, x] - _rgb(CRITICAL_COLORS[kind])).max()
        # measured: 0-3 levels by octree; median cut merged the saddle and maximizer into the surface
        assert error <= 4, f"{kind.name} drawn as {drawn[y, x]}, not {CRITICAL_COLORS[kind]}"


def test_compact_is_deterministic():
    png, _ = _screenshot()
    assert figures._compact(png) == figures._compact(png)


def test_the_check_catches_median_cut():
    """The test above fails for the quantizer it replaced (so it checks something)."""
    png, marks = _screenshot()
    image = Image.open(BytesIO(png)).convert("RGB").quantize(
        colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    drawn = np.asarray(image.convert("RGB")).astype(int)
    errors = [np.abs(drawn[y, x] - _rgb(CRITICAL_COLORS[k])).max() for k, (y, x) in marks.items()]
    assert max(errors) > 12
