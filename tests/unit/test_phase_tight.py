"""The stored tight-frame phase transition of chapter 2 (book/data/phase/, scripts/make_phase_tight.py),
recomputed in part: the first stored cells, each from its own seed, give the stored outcomes."""

import json
from pathlib import Path

import numpy as np
import pytest

from landscape_lib import generators, recovery

DATA = Path(__file__).resolve().parents[2] / "book" / "data" / "phase"


def _tight(n, m, rng):
    return generators.tight_frame(n, m, low_coherence=True, rng=rng)


@pytest.mark.skipif(not (DATA / "phase_tight.npz").exists(), reason="stored tight-frame phase transition not generated")
@pytest.mark.parametrize("index", [0, 1])
def test_stored_phase_tight_cell_recomputes(index):
    """Cell ``index`` of book/data/phase (the first is m = n, an orthonormal basis; the second the first
    overcomplete one): the whole cell, every frame and start, recomputed from default_rng([seed, n, m])."""
    meta = json.loads((DATA / "phase_tight.json").read_text())
    cell = meta["cells"][index]
    n, m, key = cell["n"], cell["m"], cell["key"]
    data = np.load(DATA / "phase_tight.npz")
    g = recovery.recovery_grid([n], [m], threshold=meta["threshold"], frames=meta["frames"], starts=meta["starts"],
                               max_m_factor=meta["m_factor"], make_frame=_tight,
                               rng=np.random.default_rng([meta["seed"], n, m]))
    corr, base = g.correlations[(n, m)], g.baseline[(n, m)]
    assert corr.shape == (meta["frames"] * meta["starts"],)
    np.testing.assert_allclose(corr, data[f"{key}/correlations"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(base, data[f"{key}/baseline"], rtol=0, atol=1e-12)
    assert float(g.converged[0, 0]) == cell["converged"]
    for t in meta["thresholds"]:
        assert float(np.mean(corr >= t)) == cell["rate"][f"{t:g}"]
        assert float(np.mean(base >= t)) == cell["chance"][f"{t:g}"]


def test_stored_phase_tight_metadata():
    if not (DATA / "phase_tight.json").exists():
        pytest.skip("stored tight-frame phase transition not generated")
    meta = json.loads((DATA / "phase_tight.json").read_text())
    assert meta["command"].startswith("python scripts/make_phase_tight.py")
    assert len(meta["commit"]) == 40 and isinstance(meta["library_modified"], bool)
    keys = set(np.load(DATA / "phase_tight.npz").files)
    for cell in meta["cells"]:
        assert cell["n"] <= cell["m"] <= meta["m_factor"] * cell["n"] ** 2 and cell["m"] <= meta["m_max"]
        assert {f"{cell['key']}/correlations", f"{cell['key']}/baseline"} <= keys
        assert set(cell["rate"]) == set(cell["chance"]) == {f"{t:g}" for t in meta["thresholds"]}
