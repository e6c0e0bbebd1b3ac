"""Sweep outputs: reference rows, ranking, summary, heatmap page and the sweep folder (no simulation)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from helpers_sweep import make_outcome

from backtests.errors import UserInputError
from backtests.reports.catalog import DSR_READING, PBO_READING
from backtests.sweeps.report import heatmap_figure, ranked, summary, write_outputs

FILES = {"sweep.csv", "summary.json", "heatmap.png", "heatmap.html"}


def test_ranked_skips_references_puts_the_winner_first_and_ties_keep_grid_order():
    outcome = make_outcome()
    order = list(ranked(outcome, 10).index)
    # is_sharpe by grid index: 1.1, 1.3, 1.2, 1.6, 0.4, 1.2000000000000002 (see helpers_sweep)
    assert order == [3, 1, 2, 5, 0, 4]  # 2 and 5 tie to 12 digits: grid order, not float noise
    assert list(ranked(outcome, 2).index) == [3, 1]


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


def test_heatmap_figure_has_one_panel_per_period():
    titles = [ax.get_title(loc="left") for ax in heatmap_figure(make_outcome()).axes]
    assert titles[:1] + [t for t in titles if t.startswith("Out")] == [
        "In sample (2018-01-01..2018-07-27)",
        "Out of sample (2018-07-30..2018-10-05)",
    ]
    alone = [ax.get_title(loc="left") for ax in heatmap_figure(make_outcome(train_until=False)).axes]
    assert [t for t in alone if t] == ["In sample (2018-01-01..2018-10-05)"]


def test_write_outputs_page_shows_both_periods_marks_and_readings(tmp_path: Path):
    paths = write_outputs(make_outcome(), tmp_path / "sw", "hedge <b>", "demo")
    assert {p.name for p in paths.values()} == FILES
    assert {p.name for p in (tmp_path / "sw").iterdir()} == FILES
    assert [p.name for p in tmp_path.iterdir()] == ["sw"]  # no staging folder left
    page = (tmp_path / "sw" / "heatmap.html").read_text()
    assert 'class="gh-nav"' in page and 'href="sweep.csv"' in page
    assert "hedge &lt;b&gt;" in page and "hedge <b>" not in page
    assert page.count("<svg") == 2  # in sample and out of sample, side by side
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
