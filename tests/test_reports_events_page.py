"""The events page and the tearsheet say what they compare against, and agree with the metrics."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from helpers_runresult import DRIVER, make_result

from backtests.reports import write_run
from backtests.reports.markup import Column, table
from backtests.reports.pages import events_page, firing_counts
from backtests.reports.tearsheet import write_tearsheet


@pytest.fixture(scope="module")
def result():
    return make_result(periods=500)


@pytest.fixture(scope="module")
def html(result) -> str:
    return events_page(result, index_href="../index.html", tearsheet=False)


def test_page_shows_base_shading_and_episodes(result, html: str):
    n = len(result.episodes)
    assert n == 2  # two escalations inside 500 days (make_result's default events)
    assert 'id="hedge-chart"' in html and ">unhedged</text>" in html  # the base in the legend
    assert html.count('class="episode-span"') == n
    assert all(f'<tr id="episode-{i}">' in html for i in range(n))
    assert 'id="hedge-comparison"' in html and 'id="hedge-figures"' in html
    first = result.episodes.iloc[0]
    assert f"{first['start']:%Y-%m-%d}" in html and "step-out finished" in html


def test_firing_count_is_the_driving_triggers_as_in_metrics(result, html: str):
    driving = int((result.firings["trigger"] == DRIVER).sum())
    assert driving == 2 and len(result.firings) == 3
    assert f"{driving} firings of the driving trigger {DRIVER}" in firing_counts(result)
    assert "3 firings of all 2 triggers" in html


def test_tilt_pages_name_the_base_untilted(result):
    tilt = dataclasses.replace(result, base_label="untilted")
    html = events_page(tilt, index_href="../index.html", tearsheet=False)
    text = re.sub(r"<[^>]+>", " ", html)
    assert "untilted" in text and "unhedged" not in text
    assert not re.search(r"\bbase\b", text.replace("database", ""))  # never "base" as a name


def test_hit_rates_are_coloured_against_half():
    rows = [{"hit": 0.5}, {"hit": 0.6}, {"hit": 0.4}]
    cells = re.findall(
        r'<td class="([^"]*)"', table(rows, [Column("hit", "Hit", numeric=True, pivot=0.5)])
    )
    assert cells == ["num", "num pos", "num neg"]
    counts = re.findall(
        r'<td class="([^"]*)"', table(rows, [Column("hit", "N", numeric=True, pivot=None)])
    )
    assert counts == ["num", "num", "num"]


def test_episodes_csv_compounds_from_returns_csv(result, tmp_path: Path):
    write_run(result, tmp_path / "run", tearsheet=False, command_line=[])
    returns = pd.read_csv(tmp_path / "run" / "returns.csv", parse_dates=["date"], index_col="date")
    episodes = pd.read_csv(tmp_path / "run" / "episodes.csv", parse_dates=["start", "end"])
    assert len(episodes) == len(result.episodes) == 2
    for _, ep in episodes.iterrows():
        rows = returns.loc[ep["start"] : ep["end"]]
        assert len(rows) == ep["trading_days"]
        for column in ("strategy", "benchmark"):
            assert abs(np.prod(1 + rows[column]) - 1 - ep[f"{column}_return"]) < 1e-9


def _cumulative(text: str) -> list[str]:
    row = re.search(r"<tr><td>Cumulative Return</td>(.*?)</tr>", text, re.DOTALL)
    assert row, "no Cumulative Return row in the tearsheet"
    return re.findall(r"<td>([^<]*)</td>", row.group(1))


def test_tearsheet_against_the_base_counts_every_day(result, tmp_path: Path):
    path = write_tearsheet(result, tmp_path / "tearsheet.html", benchmark="base")
    text = path.read_text(encoding="utf-8")
    assert "Compared with the unhedged portfolio" in text
    assert "<title>test-hedge vs unhedged, " in text
    strategy_total = np.prod(1 + result.returns.to_numpy()) - 1  # every day, the first included
    base_total = np.prod(1 + result.base_returns.to_numpy()) - 1
    shown = [float(v.rstrip("%")) / 100 for v in _cumulative(text)]
    assert shown == pytest.approx([base_total, strategy_total], abs=0.00006)  # 2 decimals in %


def test_tearsheet_against_another_ticker(result, tmp_path: Path):
    other = pd.Series(0.001, index=result.returns.index, name="TLT")
    text = write_tearsheet(result, tmp_path / "t.html", benchmark=other).read_text(encoding="utf-8")
    assert "Compared with TLT" in text and "<title>test-hedge vs TLT, " in text
    assert float(_cumulative(text)[0].rstrip("%")) / 100 == pytest.approx(1.001**500 - 1, abs=6e-5)


LEAK_PROBE = """
import tempfile
from pathlib import Path
import matplotlib as mpl
from helpers_runresult import make_result
from backtests.reports.tearsheet import write_tearsheet
before = {k: str(v) for k, v in mpl.rcParams.items()}
with tempfile.TemporaryDirectory() as folder:
    write_tearsheet(make_result(periods=60), Path(folder) / "t.html")
print(sorted(k for k, v in mpl.rcParams.items() if str(v) != before[k]))
"""


def test_first_tearsheet_leaves_the_process_style_alone():
    """In a fresh process (quantstats not imported yet): its seaborn theme must not leak."""
    run = subprocess.run(
        [sys.executable, "-c", LEAK_PROBE],
        cwd=Path(__file__).parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.strip().splitlines()[-1] == "[]"


def test_charts_ignore_a_foreign_global_style(result):
    def render() -> str:
        return events_page(result, index_href="i.html", tearsheet=False)

    plain = render()
    with mpl.rc_context({"font.size": 30, "xtick.labelsize": 25, "axes.linewidth": 3}):
        assert render() == plain
