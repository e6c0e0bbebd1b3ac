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
    assert rows[0]["sharpe"] == 0.81 and rows[0]["path"] == str(runs[0])


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
    assert result.stdout.splitlines()[0].split()[:3] == ["run", "cagr", "volatility"]
    assert f"{HOSTILE_STRATEGY} @ {runs[0].name}" in result.stdout  # terminal: plain text
    page = out.read_text()
    assert 'id="compare-equity"' in page and 'id="compare-drawdown"' in page
    assert (
        json.loads(
            _invoke("compare", runs[0].name, runs[1].name, "--out", str(out), "--json").stdout
        )[1]["run"]
        == f"plain-tilt @ {runs[1].name}"
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
