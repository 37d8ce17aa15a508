"""The width-band figure of chapter 6 (viz/training.py: ``width_band_figure``) and the tick labels of the
training figures' logarithmic axes (``style.log_ticks``).

The figure is checked against the stored runs it draws in the book, with the expected values computed
from their ``history.json`` files directly (json and numpy, not through ``stored_runs``), so that a wrong
median, a band from the wrong rows or widths in the wrong order fails.
"""

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("plotly")

from landscape_lib import stored_runs  # noqa: E402
from landscape_lib.viz import style  # noqa: E402
from landscape_lib.viz import training as vt  # noqa: E402

FAMILY = Path(__file__).resolve().parents[2] / "book" / "data" / "runs" / "ch6-random-labels"
PANELS = ("train_acc", "nc1", "nc2_classifier", "nc2_means", "nc3_ufm", "nc4")


def _last_rows_by_width() -> dict:
    """``{width: [last row of history.json of each seed]}`` read from the files alone."""
    rows: dict = {}
    for run in sorted(FAMILY.iterdir()):
        width = json.loads((run / "config.json").read_text())["train_config"]["width"]
        columns = json.loads((run / "history.json").read_text())
        rows.setdefault(width, []).append({k: v[-1] for k, v in columns.items()})
    return rows


@pytest.fixture(scope="module")
def chapter_figure():
    """The chapter's call: stored runs grouped by width, the six panels it shows."""
    runs = stored_runs.load_family(FAMILY)
    by_width = stored_runs.seed_groups(runs, lambda r: r.config["width"])
    return vt.width_band_figure({w: by_width[w] for w in sorted(by_width)}, PANELS)


@pytest.mark.skipif(not FAMILY.is_dir(), reason="no stored runs of chapter 6")
def test_traces_are_median_min_max_of_the_stored_last_rows(chapter_figure):
    last = _last_rows_by_width()
    widths = sorted(last)
    assert widths == [2, 4, 8, 16] and all(len(last[w]) == 3 for w in widths)
    assert len(chapter_figure.data) == 2 * len(PANELS)       # per panel: the band, then the median line
    for j, key in enumerate(PANELS):
        band, median = chapter_figure.data[2 * j], chapter_figure.data[2 * j + 1]
        values = [np.array([row[key] for row in last[w]], dtype=float) for w in widths]
        expected = {name: np.array([f(v) for v in values]) for name, f in
                    (("mid", np.median), ("low", np.min), ("high", np.max))}
        if key in vt.LOG_METRICS:  # a zero is a gap on a log axis
            expected = {name: np.where(v > 0, v, np.nan) for name, v in expected.items()}

        def same(trace_y, want, key=key):
            got = np.array([np.nan if y is None else y for y in trace_y], dtype=float)
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=0, equal_nan=True, err_msg=key)

        assert list(median.x) == widths and list(band.x) == widths + widths[::-1]
        same(median.y, expected["mid"])
        same(band.y, np.concatenate([expected["high"], expected["low"][::-1]]))
        if key not in ("train_acc", "nc4"):  # the seeds spread: min, median and max are three numbers
            assert np.ptp(values[-1]) > 0
        # each panel's axes: log widths with a tick at each; log y exactly for the decaying NC metrics
        axis = chapter_figure.get_subplot(j // 3 + 1, j % 3 + 1)
        assert axis.xaxis.type == "log" and list(axis.xaxis.tickvals) == widths
        assert axis.yaxis.type == ("log" if key in vt.LOG_METRICS else "linear")


def test_one_seed_per_width_draws_only_the_line_and_a_flat_accuracy_stays_near_one():
    histories = {w: [[{"epoch": 10, "nc1": 1.0 / w, "train_acc": 1.0, "nc4": 0.0}]] for w in (2, 4, 8)}
    fig = vt.width_band_figure(histories, ("nc1", "train_acc", "nc4"))
    assert len(fig.data) == 3 and all(trace.mode == "lines+markers" for trace in fig.data)
    assert list(fig.data[0].y) == [0.5, 0.25, 0.125]
    # plotly would stretch a flat panel to [0, 2] (an accuracy of 2) and [-1, 1]
    assert tuple(fig.layout.yaxis2.range) == (0.95, 1.02) and tuple(fig.layout.yaxis3.range) == (-0.02, 0.05)


def test_width_band_rejects_what_it_cannot_draw():
    run = [{"epoch": 10, "nc1": 0.5}]
    with pytest.raises(ValueError, match="widths must be integers >= 1"):
        vt.width_band_figure({"wide": [run]})
    with pytest.raises(ValueError, match="widths must be integers >= 1"):
        vt.width_band_figure({0: [run]})
    with pytest.raises(ValueError, match="non-empty list of histories"):
        vt.width_band_figure({4: []})
    with pytest.raises(ValueError, match="end at different epochs"):
        vt.width_band_figure({4: [run, [{"epoch": 5, "nc1": 0.4}]]})


@pytest.mark.parametrize("values,ticks", [
    ([0.3, 200.0], [1.0, 10.0, 100.0]),                       # three decades: powers of ten only
    ([0.13, 0.51], [0.2, 0.3, 0.5]),                          # under a decade: 1-2-3-5, not a lone 0.2
    ([0.28, 4.1], [0.5, 1.0, 2.0]),                           # 1-2-5 across one power of ten
    ([0.11, 99.0], [1.0, 10.0]),                              # 1-2-5 over two decades would be 8 labels
    ([1e-9, 1.0], [1e-9, 1e-7, 1e-5, 1e-3, 1e-1]),            # ten decades: every second one
    ([0.21, 0.23], [0.21, 0.23]),                             # too narrow for any sequence: the ends
    ([None, 0.0, float("nan"), 0.3, 3.0], [0.5, 1.0, 2.0]),  # gaps and zeros are not drawn
])
def test_log_ticks_are_few_and_within_the_values(values, ticks):
    out = style.log_ticks(values)
    np.testing.assert_allclose(out["tickvals"], ticks, rtol=1e-9)
    assert out["tickmode"] == "array" and len(out["ticktext"]) == len(ticks)


def test_log_tick_labels():
    assert [style.tick_label(v) for v in (1.0, 10.0, 100.0, 1e-3, 0.2, 30.0, 2e-6)] == [
        "1", "10", "10<sup>2</sup>", "10<sup>−3</sup>", "0.2", "30", "2·10<sup>−6</sup>"]
    assert style.log_ticks([0.0, None]) == {}


def test_every_log_panel_of_the_training_figures_is_labelled_by_the_helper():
    """No log axis is left to plotly's labels (its small 2 and 5 in every decade crowd the panels)."""
    rows = [{"epoch": e, "nc1": 50.0 / e ** 2, "nc3_ufm": 0.6 - e / 100, "train_acc": e / 10, "nc4": 0.0}
            for e in (1, 2, 5, 10)]
    seeds = [rows, [{**r, "nc1": r["nc1"] * 2, "nc3_ufm": r["nc3_ufm"] / 2} for r in rows]]
    figures = [vt.training_curves_figure({"a": rows}, ("nc1", "nc3_ufm", "train_acc")),
               vt.seed_band_figure({"a": seeds}, ("nc1", "nc3_ufm", "train_acc")),
               vt.width_sweep_figure({2: rows, 4: seeds[1]}, ("nc1", "nc3_ufm", "train_acc")),
               vt.width_band_figure({2: seeds, 4: seeds}, ("nc1", "nc3_ufm", "train_acc"))]
    for fig in figures:
        log_axes = [fig.layout[name] for name in fig.layout if name.startswith("yaxis")
                    and fig.layout[name].type == "log"]
        assert len(log_axes) == 2
        for axis in log_axes:
            assert axis.tickmode == "array" and len(axis.tickvals) >= 2


def test_log_tick_labels_of_one_sequence_share_one_format():
    # A 1-2-5 sequence writes its powers of ten as decimals too (not 0.05, 10^-1, 0.2).
    assert style.log_ticks([0.012, 0.7])["ticktext"] == ["0.02", "0.05", "0.1", "0.2", "0.5"]
    assert style.log_ticks([5, 600])["ticktext"] == ["5", "10", "20", "50", "100", "200", "500"]
    # Powers of ten alone keep the 10^k form.
    assert style.log_ticks([1e-8, 1])["ticktext"][0] == "10<sup>−8</sup>"
