"""``backtest report list|open|compare|index`` over two finished runs (no tearsheets: fast)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers_runresult import HOSTILE_STRATEGY, write_demo_runs

from backtests.cli import cli
from backtests.paths import reports_dir


@pytest.fixture
def runs() -> list[Path]:
    return write_demo_runs(reports_dir(), tearsheet=False, periods=120)


def _invoke(*args: str):
    return CliRunner().invoke(cli, ["report", *args])


def test_list_json_is_only_a_json_array(runs: list[Path]):
    result = _invoke("list", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == [runs[0].name, runs[1].name]
    assert rows[0]["strategy"] == HOSTILE_STRATEGY
    assert rows[0]["period"] == "2018-01-02..2018-06-18"
    assert rows[0]["source"] == "demo (synthetic)"
    written = json.loads((runs[0] / "metrics.json").read_text())
    assert rows[0]["sharpe"] == written["strategy"]["sharpe"] and rows[0]["path"] == str(runs[0])
    assert rows[0]["benchmark"] == "SPY"
    assert rows[0]["excess_cagr"] == written["hedge"]["excess_cagr"]
    assert rows[0]["time_hedged"] == written["hedge"]["time_hedged"]


def test_list_table(runs: list[Path]):
    result = _invoke("list")
    assert result.stdout.splitlines()[0].split() == [
        "id",
        "strategy",
        "period",
        "source",
        "sharpe",
        "cagr",
        "max_drawdown",
        "path",
    ]
    assert runs[1].name in result.stdout


def test_list_empty_root_says_so_on_stderr():
    result = _invoke("list")
    assert (result.exit_code, result.stdout) == (0, "")
    assert (
        result.stderr
        == f"No finished runs under {reports_dir()}; run `backtest run STRATEGY` first.\n"
    )


def test_open_prints_path_without_a_display(runs: list[Path], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    result = _invoke("open", "latest")
    assert result.exit_code == 0
    assert result.stdout == f"{runs[1] / 'events.html'}\n"  # no tearsheet in these runs
    assert _invoke("open", str(runs[0])).stdout == f"{runs[0] / 'events.html'}\n"


def test_compare_writes_page_and_prints_metrics(runs: list[Path], tmp_path: Path):
    out = tmp_path / "cmp.html"
    result = _invoke("compare", runs[0].name, "latest", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split()[:4] == ["run", "series", "cagr", "volatility"]
    assert f"{HOSTILE_STRATEGY} @ {runs[0].name}" in result.stdout  # terminal: plain text
    page = out.read_text()
    assert 'id="compare-equity"' in page and 'id="compare-drawdown"' in page
    rows = json.loads(
        _invoke("compare", runs[0].name, runs[1].name, "--out", str(out), "--json").stdout
    )
    # per run: strategy, its base, its benchmark (the two demo runs' SPY series differ)
    assert [(r["run"], r["series"]) for r in rows] == [
        (f"{HOSTILE_STRATEGY} @ {runs[0].name}", "strategy"),
        (f"{HOSTILE_STRATEGY} @ {runs[0].name}", "unhedged"),
        (f"{HOSTILE_STRATEGY} @ {runs[0].name}", "SPY (benchmark)"),
        (f"plain-tilt @ {runs[1].name}", "strategy"),
        (f"plain-tilt @ {runs[1].name}", "unhedged"),
        (f"plain-tilt @ {runs[1].name}", "SPY (benchmark)"),
    ]
    written = json.loads((runs[1] / "metrics.json").read_text())
    assert rows[4]["cagr"] == written["base"]["cagr"]
    assert rows[5]["sharpe"] == written["benchmark"]["sharpe"]
    assert rows[3]["excess_cagr"] == written["hedge"]["excess_cagr"]


def test_compare_by_default_writes_under_the_root_and_the_index_lists_it(runs: list[Path]):
    result = _invoke("compare", f"plain-tilt/{runs[1].name}", runs[0].name)
    assert result.exit_code == 0, result.output
    pages = list((reports_dir() / "compare").glob("*.html"))
    assert len(pages) == 1 and f"Wrote {pages[0]}" in result.stderr
    again = _invoke("compare", f"plain-tilt/{runs[1].name}", runs[0].name)
    assert list((reports_dir() / "compare").glob("*.html")) == pages  # same runs, same page
    assert again.exit_code == 0
    index = (reports_dir() / "index.html").read_text()
    assert f'href="compare/{pages[0].name}"' in index
    assert f"plain-tilt/{runs[1].name}, hostile-i-hedge/{runs[0].name}" in index
    page = pages[0].read_text()
    for run in runs:  # links to each run's page, relative to the page
        assert f'href="../{run.parent.name}/{run.name}/events.html"' in page


def test_compare_out_that_cannot_be_written_is_one_line_exit_1(runs: list[Path], tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = _invoke("compare", runs[0].name, runs[1].name, "--out", str(blocker / "cmp.html"))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: --out {blocker / 'cmp.html'} cannot be written: {blocker} is a file, "
        "not a folder; choose another path\n"
    )


def test_compare_unknown_run_is_one_line_exit_2(runs: list[Path]):
    result = _invoke("compare", runs[0].name, "nope")
    assert result.exit_code == 2
    assert (
        result.stderr == f"Error: unknown run 'nope' under {reports_dir()}; "
        "see `backtest report list` for run ids\n"
    )


def test_compare_needs_two_different_runs(runs: list[Path]):
    result = _invoke("compare", "latest", runs[1].name)
    assert result.exit_code == 2
    assert (
        result.stderr
        == "Error: compare needs at least two different runs; see `backtest report list`\n"
    )


def test_every_report_command_help_has_an_example():
    for name in ("list", "open", "compare", "index"):
        assert "Example:" in _invoke(name, "--help").stdout


def test_incomplete_runs_are_counted_by_list_and_named_by_open(runs: list[Path]):
    broken = runs[0].parent / "20251128T080000Z-0000aa"
    broken.mkdir()
    (broken / "manifest.json").write_text("{}")
    listed = _invoke("list", "--json")
    assert [r["id"] for r in json.loads(listed.stdout)] == [runs[0].name, runs[1].name]
    assert listed.stderr == (
        f"1 incomplete folder not listed (no valid manifest.json): {broken}\n"
    )
    for ref in (broken.name, str(broken)):
        opened = _invoke("open", ref)
        assert (opened.exit_code, opened.stdout) == (1, "")
        assert opened.stderr == f"Error: run folder {broken} is incomplete (no valid manifest.json)\n"


def test_index_command_with_a_reports_root_that_is_a_file(monkeypatch, tmp_path: Path):
    blocker = tmp_path / "reports"
    blocker.write_text("not a folder")
    monkeypatch.setenv("BACKTEST_REPORTS_DIR", str(blocker))
    result = _invoke("index")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: reports folder {blocker}: it is a file, not a folder; choose another folder\n"
    )
