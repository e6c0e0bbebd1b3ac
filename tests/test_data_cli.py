"""``backtest data fetch/import/list/clear`` through click's runner (fake yfinance, no network)."""

from __future__ import annotations

import csv
import hashlib
import json

import pytest
from click.testing import CliRunner
from fixtures.yahoo import fake_yfinance as fake

from backtests.cli import cli


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


def _tree_hash(folder) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def prices(tmp_path):
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "SPY.csv").write_text("Date,Close\n2024-01-02,10\n2024-01-03,11\n2024-01-04,12\n")
    (folder / "TLT.csv").write_text("Date,Close\n2024-01-03,90\n2024-01-04,91\n")
    return folder


def test_import_shared_prices_then_list_json_matches_each_csv(shared_data, tmp_path):
    cache = tmp_path / "cache"
    result = _run("data", "import", str(shared_data / "prices"), "--data-dir", str(cache))
    assert result.exit_code == 0, result.output
    listed = _run("data", "list", "--json", "--data-dir", str(cache))
    assert listed.exit_code == 0
    rows = json.loads(listed.stdout)
    expected = {}
    for path in sorted((shared_data / "prices").glob("*.csv")):
        with open(path, newline="") as handle:
            lines = list(csv.reader(handle))
        expected[path.stem] = (lines[1][0], lines[-1][0], len(lines) - 1)
    assert len(expected) == 43
    assert {r["ticker"]: (r["first"], r["last"], r["rows"]) for r in rows} == expected
    assert all(
        r["source"] == f"csv:{(shared_data / 'prices' / (r['ticker'] + '.csv')).resolve()}"
        for r in rows
    )


def test_import_twice_changes_nothing_and_says_so(prices, tmp_path):
    cache = tmp_path / "cache"
    first = _run("data", "import", str(prices), "--data-dir", str(cache))
    assert first.exit_code == 0
    assert first.stderr.splitlines()[:2] == ["SPY: 3 rows imported", "TLT: 2 rows imported"]
    before = _tree_hash(cache)
    again = _run("data", "import", str(prices / "SPY.csv"), str(prices), "--data-dir", str(cache))
    assert again.exit_code == 0
    assert again.stderr.splitlines()[:2] == ["SPY: 3 rows unchanged", "TLT: 2 rows unchanged"]
    assert _tree_hash(cache) == before


def test_import_of_a_bad_file_fails_before_writing_anything(prices, tmp_path):
    (prices / "GLD.csv").write_text("Date,Close\n2024-01-02,oops\n")
    result = _run("data", "import", str(prices), "--data-dir", str(tmp_path / "cache"))
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"Error: {prices / 'GLD.csv'}:2: column 2 (Close) is 'oops', not a number; fix that cell\n"
    )
    assert not (tmp_path / "cache").exists()


def test_list_table_and_empty_cache(prices, tmp_path):
    cache = tmp_path / "cache"
    empty = _run("data", "list", "--json", "--data-dir", str(cache))
    assert empty.exit_code == 0 and json.loads(empty.stdout) == []
    _run("data", "import", str(prices), "--data-dir", str(cache))
    table = _run("data", "list", "--data-dir", str(cache))
    assert table.stdout.splitlines() == [
        "ticker  first       last        rows  source",
        f"SPY     2024-01-02  2024-01-04  3     csv:{(prices / 'SPY.csv').resolve()}",
        f"TLT     2024-01-03  2024-01-04  2     csv:{(prices / 'TLT.csv').resolve()}",
    ]


def test_clear_some_then_all(prices, tmp_path):
    cache = tmp_path / "cache"
    _run("data", "import", str(prices), "--data-dir", str(cache))
    one = _run("data", "clear", "spy", "--data-dir", str(cache))
    assert (
        one.exit_code == 0 and one.stderr == f"removed 1 ticker(s) from {cache / 'prices'}: SPY\n"
    )
    unknown = _run("data", "clear", "GLD", "--data-dir", str(cache))
    assert unknown.exit_code == 2
    assert unknown.stderr == (
        f"Error: not in the cache {cache / 'prices'}: GLD; see `backtest data list` for what is cached\n"
    )
    everything = _run("data", "clear", "--data-dir", str(cache))
    assert everything.stderr == f"removed 1 ticker(s) from {cache / 'prices'}: TLT\n"
    assert list((cache / "prices").iterdir()) == []


def test_fetch_without_network_fails_in_one_line_and_leaves_cache_as_it_was(
    prices, tmp_path, monkeypatch
):
    cache = tmp_path / "cache"
    _run("data", "import", str(prices), "--data-dir", str(cache))
    before = _tree_hash(cache)
    fake.install(monkeypatch, {"ZZZQ": [fake.dns_error()]})
    result = _run("data", "fetch", "ZZZQ", "--data-dir", str(cache))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "Error: cannot reach Yahoo Finance (DNSError('Could not resolve host: query2.finance.yahoo.com.')); "
        "check the network connection, or import prices from CSV with `backtest data import PATH`\n"
    )
    assert _tree_hash(cache) == before


def test_fetch_stores_new_tickers_and_reports_per_ticker(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    fake.install(monkeypatch, {"SPY": ["ok"], "TLT": ["ok"]})
    result = _run(
        "data",
        "fetch",
        "SPY",
        "TLT",
        "--start",
        "2024-01-03",
        "--end",
        "2024-01-05",
        "--data-dir",
        str(cache),
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[:2] == ["SPY: 3 rows (new)", "TLT: 2 rows (new)"]
    rows = json.loads(_run("data", "list", "--json", "--data-dir", str(cache)).stdout)
    assert [(r["ticker"], r["first"], r["last"], r["source"]) for r in rows] == [
        ("SPY", "2024-01-03", "2024-01-05", "yahoo"),
        ("TLT", "2024-01-03", "2024-01-05", "yahoo"),
    ]


def test_fetch_rejects_a_bad_date_with_exit_2(tmp_path):
    result = _run("data", "fetch", "SPY", "--start", "2024/01/01", "--data-dir", str(tmp_path))
    assert result.exit_code == 2
    assert (
        result.stderr
        == "Error: --start: '2024/01/01' is not a date; use YYYY-MM-DD, e.g. 2019-05-10\n"
    )


@pytest.mark.parametrize("command", ["fetch", "import", "list", "clear"])
def test_every_command_help_has_an_example(command):
    result = _run("data", command, "--help")
    assert result.exit_code == 0 and "Example:\n      backtest data " + command in result.output
