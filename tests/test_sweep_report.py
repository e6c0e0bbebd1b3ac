"""Sweep outputs: reference rows, ranking, summary, heatmap page and the sweep folder (no simulation)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers_sweep import make_outcome

from backtests.errors import UserInputError
from backtests.reports.catalog import DSR_READING, PBO_READING
from backtests.sweeps.report import (
    _surface,
    heatmap_figure,
    ranked,
    summary,
    write_outputs,
)

FILES = {"sweep.csv", "summary.json", "heatmap.svg", "heatmap.html"}
SVG = "{http://www.w3.org/2000/svg}"


def test_ranked_skips_references_puts_the_winner_first_and_ties_keep_grid_order():
    outcome = make_outcome()
    order = list(ranked(outcome, 10).index)
    # is_sharpe by grid index: 1.1, 1.3, 1.2, 1.6, 0.4, 1.2000000000000002 (see helpers_sweep)
    assert order == [3, 1, 2, 5, 0, 4]  # 2 and 5 tie to 12 digits: grid order, not float noise
    assert list(ranked(outcome, 2).index) == [3, 1]


@pytest.mark.parametrize(
    "values, order",
    [
        ([1.0, 0.9999999999999999], [0, 1]),  # equal to 12 digits across a power of ten: grid order
        ([0.9999999999999999, 1.0], [0, 1]),
        ([0.1, 0.09999999999999999], [0, 1]),
        ([-0.09999999999999999, -0.1], [0, 1]),
        ([0.30000000000000004, 0.3], [0, 1]),
        ([999999999999.4, 999999999999.6], [1, 0]),  # 999999999999 < 1000000000000: not tied
        ([0.5, 0.500000000001], [1, 0]),  # differ in the 12th digit
        ([0.0, -0.0, 1e-300], [2, 0, 1]),
        ([2.0, float("nan"), 1.0], [0, 2, 1]),  # NaN last
    ],
)
def test_ranking_ties_values_equal_to_12_significant_digits(values, order):
    from backtests.sweeps.runner import ranking

    assert ranking(np.array(values)).tolist() == order


def test_summary_counts_trials_without_references_and_reports_them():
    result = summary(make_outcome(), "s", "demo")
    assert result["n_trials"] == 6
    assert result["winner"]["index"] == 3
    assert result["winner"]["params"] == {"response.hedge_fraction": 0.5, "response.hold_days": 20}
    assert set(result["references"]) == {"spec", "base"}
    assert result["references"]["base"]["params"]["response.hedge_fraction"] == 0.0
    assert result["references"]["spec"]["metrics"]["is_sharpe"] == 1.3  # 1 + 0.25 * 1.2
    assert result["period"] == {
        "start": "2018-01-01",
        "end": "2018-10-05",
        "train_until": "2018-07-27",  # the 150th business day of 2018
        "test_from": "2018-07-30",
    }


def _texts(svg: str) -> list[str]:
    return [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]


def test_heatmap_figure_has_a_title_and_one_panel_per_period():
    texts = _texts(heatmap_figure(make_outcome(), "hedge <b>", "demo").svg)
    assert texts[0] == "hedge <b>: sharpe by configuration (demo)"
    assert [t for t in texts if "sample (" in t] == [
        "In sample (2018-01-01..2018-07-27)",
        "Out of sample (2018-07-30..2018-10-05)",
    ]
    alone = _texts(heatmap_figure(make_outcome(train_until=False), "s", "demo").svg)
    assert [t for t in alone if "sample (" in t] == ["In sample (2018-01-01..2018-10-05)"]


def test_heatmap_marks_the_winner_and_the_spec_on_their_cells():
    """Surface columns (hedge_fraction) 0.25, 0.5, 1.0; rows (hold_days) 5 at the bottom, 20 on top:
    the winner (0.5, 20) is column 1 of 3 in the top row, the spec (0.25, 20) column 0 in the top row."""
    root = ET.fromstring(heatmap_figure(make_outcome(), "s", "demo").svg)
    panel = root.find(f"{SVG}g")  # the in-sample panel
    (box,) = [r for r in panel.iter(f"{SVG}rect") if r.get("stroke") == "#333" and r.get("fill") == "none"]
    left, top, width, height = (float(box.get(k)) for k in ("x", "y", "width", "height"))
    for name, column in (("winner", 1), ("spec", 0)):
        frame = panel.find(f".//{SVG}rect[@id='is-{name}-cell']")
        x, y, w, h = (float(frame.get(k)) for k in ("x", "y", "width", "height"))
        assert x + w / 2 == pytest.approx(left + (column + 0.5) * width / 3, abs=0.02)
        assert y + h / 2 == pytest.approx(top + height / 4, abs=0.02)
    # six cells, six printed values (under the labelling threshold); is_sharpe of (0.5, 20) is 1.6
    values = [t for t in panel.iter(f"{SVG}text") if t.get("fill") in ("#ffffff", "#000000")]
    assert sorted(t.text for t in values) == ["0.40", "1.10", "1.20", "1.20", "1.30", "1.60"]


def test_surface_is_the_mean_over_other_keys_skipping_nan():
    """Checked against pandas' pivot_table (a second method) on a grid with a third key."""
    outcome = make_outcome()
    grid = outcome.table[outcome.table["reference"] == ""]
    other = grid.assign(**{"x.extra": 2, "is_sharpe": grid["is_sharpe"] + 1.0})
    other.loc[other.index[0], "is_sharpe"] = float("nan")  # (0.25, 5) keeps only its first value
    outcome.table = pd.concat([grid.assign(**{"x.extra": 1}), other], ignore_index=True)
    outcome.keys = [*outcome.keys, "x.extra"]
    expected = outcome.table.pivot_table(
        index="response.hold_days", columns="response.hedge_fraction", values="is_sharpe", aggfunc="mean"
    )
    surface = _surface(outcome, "is_sharpe")
    assert list(surface.index) == ["5", "20"] and list(surface.columns) == ["0.25", "0.5", "1"]
    assert surface.to_numpy() == pytest.approx(expected.to_numpy(), abs=1e-12)
    assert surface.loc["5", "0.25"] == pytest.approx(1.1)  # the NaN is skipped, not averaged in


def test_importing_the_sweep_report_does_not_import_matplotlib():
    code = "import sys, backtests.sweeps.report; print('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_write_outputs_page_shows_both_periods_marks_and_readings(tmp_path: Path):
    paths = write_outputs(make_outcome(), tmp_path / "sw", "hedge <b>", "demo")
    assert {p.name for p in paths.values()} == FILES
    assert {p.name for p in (tmp_path / "sw").iterdir()} == FILES
    assert [p.name for p in tmp_path.iterdir()] == ["sw"]  # no staging folder left
    page = (tmp_path / "sw" / "heatmap.html").read_text()
    assert 'class="gh-nav"' in page and 'href="sweep.csv"' in page
    assert "hedge &lt;b&gt;" in page and "hedge <b>" not in page
    assert page.count("<svg") == 2  # in sample and out of sample, side by side
    standalone = ET.fromstring((tmp_path / "sw" / "heatmap.svg").read_text(encoding="utf-8"))
    ids = {e.get("id") for e in standalone.iter() if e.get("id")}
    assert {"is-winner-cell", "oos-winner-cell", "is-spec-cell", "oos-spec-cell"} <= ids
    for period in ("is", "oos"):
        assert f'id="{period}-winner-cell"' in page and f'id="{period}-spec-cell"' in page
    assert DSR_READING.replace("'", "&#x27;").replace(">", "&gt;") in page
    assert PBO_READING in page
    assert re.search(r"0\.970</td><td[^>]*>strong<", page)
    assert re.search(r"0\.620</td><td[^>]*>likely luck<", page)
    assert "reference: spec default" in page and "reference: base (hedge off)" in page
    table = pd.read_csv(tmp_path / "sw" / "sweep.csv", keep_default_na=False)
    assert list(table["reference"]) == ["", "", "", "", "", "", "spec", "base"]


def test_spec_off_the_grid_is_said_not_drawn(tmp_path: Path):
    write_outputs(make_outcome(spec=(0.3, 20)), tmp_path / "sw", "s", "demo")
    page = (tmp_path / "sw" / "heatmap.html").read_text()
    assert "spec-cell" not in page and "is-winner-cell" in page
    assert "The spec&#x27;s default (response.hedge_fraction = 0.3, response.hold_days = 20)" in page


def test_without_a_split_there_is_one_panel_and_a_hint(tmp_path: Path):
    write_outputs(make_outcome(train_until=False), tmp_path / "sw", "s", "demo")
    page = (tmp_path / "sw" / "heatmap.html").read_text()
    assert page.count("<svg") == 1 and "add --train-until DATE" in page


def test_one_swept_key_draws_a_line_per_period(tmp_path: Path):
    outcome = make_outcome()
    outcome.keys = outcome.keys[:1]
    outcome.table = outcome.table.drop(columns=["response.hold_days"])
    write_outputs(outcome, tmp_path / "sw", "s", "demo")
    page = (tmp_path / "sw" / "heatmap.html").read_text()
    assert page.count("<svg") == 2 and 'id="is-winner-cell"' in page
    root = ET.fromstring((tmp_path / "sw" / "heatmap.svg").read_text(encoding="utf-8"))
    assert root.find(f".//{SVG}polygon[@id='is-winner-cell']") is not None  # the star
    assert root.find(f".//{SVG}circle[@id='oos-spec-cell']") is not None  # the circle


def test_outputs_are_byte_identical_for_identical_inputs(tmp_path: Path):
    write_outputs(make_outcome(), tmp_path / "a", "s", "demo")
    write_outputs(make_outcome(), tmp_path / "b", "s", "demo")
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_a_sweep_folder_of_ours_is_replaced_whole_a_foreign_one_is_refused(tmp_path: Path):
    ours = tmp_path / "ours"
    write_outputs(make_outcome(), ours, "s", "demo")
    (ours / "winner").mkdir()
    (ours / "winner" / "tearsheet.html").write_text("old winner")
    write_outputs(make_outcome(train_until=False), ours, "s", "demo")
    assert {p.name for p in ours.iterdir()} == FILES  # the old winner/ went with the old sweep
    assert json.loads((ours / "summary.json").read_text())["period"].get("train_until") is None

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "sweep.csv").write_text("my own numbers\n")
    with pytest.raises(UserInputError, match=r"--force"):
        write_outputs(make_outcome(), mine, "s", "demo")
    assert (mine / "sweep.csv").read_text() == "my own numbers\n"
    write_outputs(make_outcome(), mine, "s", "demo", force=True)
    assert {p.name for p in mine.iterdir()} == FILES


def test_sweep_csv_is_what_pandas_writes(monkeypatch):
    """The chunked column-by-column writer against pandas' own ``to_csv`` (an independent implementation):
    floats at 10 significant digits, NaN empty, infinities, lists with commas quoted, booleans, text."""
    import io

    from backtests.sweeps import report

    n = 40
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "response.hedge_fraction": np.round(rng.random(n), 3),
            "response.hold_days": np.arange(n),
            "response.on_deescalation": ["exit", "hold"] * (n // 2),
            "triggers.t.categories": [["tariff", "a, b"], ['say "hi"']] * (n // 2),
            "reference": [""] * (n - 2) + ["spec", "base"],
            "is_sharpe": rng.normal(size=n) / 3.0,
            "oos_cagr": np.where(np.arange(n) % 7 == 0, np.nan, rng.normal(size=n) * 1e-7),
            "flag": [True, False] * (n // 2),
            "tail": [np.inf, -np.inf] * (n // 2),
        }
    )
    monkeypatch.setattr(report, "CSV_ROWS", 7)  # several row chunks, the last one short
    out = io.StringIO()
    report.write_csv(frame, out)
    assert out.getvalue() == frame.to_csv(index=False, float_format="%.10g", lineterminator="\n")
