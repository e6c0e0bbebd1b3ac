"""``backtest data fetch/import/list/clear`` through click's runner (fake yfinance, no network)."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import subprocess

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
    everything = _run("data", "clear", "--all", "--data-dir", str(cache))
    assert everything.stderr == f"removed 1 ticker(s) from {cache / 'prices'}: TLT\n"
    assert list((cache / "prices").iterdir()) == []


def test_clear_without_tickers_off_a_terminal_needs_all_or_yes(prices, tmp_path):
    """Before: `data clear` with no ticker deleted the whole cache without asking."""
    cache = tmp_path / "cache"
    _run("data", "import", str(prices), "--data-dir", str(cache))
    before = _tree_hash(cache)
    refused = _run("data", "clear", "--data-dir", str(cache))  # CliRunner's stdin is not a terminal
    assert refused.exit_code == 2
    assert refused.stderr == (
        "Error: `backtest data clear` without tickers deletes the whole price cache; "
        "add --all (or --yes) to confirm, or name the tickers to delete\n"
    )
    assert _tree_hash(cache) == before
    both = _run("data", "clear", "SPY", "--all", "--data-dir", str(cache))
    assert both.exit_code == 2 and both.stderr == "Error: give tickers or --all, not both\n"
    assert _tree_hash(cache) == before
    confirmed = _run("data", "clear", "--yes", "--data-dir", str(cache))
    assert confirmed.exit_code == 0 and confirmed.stderr.startswith("removed 2 ticker(s)")


def _clear_on_a_terminal(cache, answer: str) -> tuple[int, str]:
    """Run `backtest data clear` in a real pseudo-terminal, answer the prompt, return (exit code, output)."""
    import pty
    import select
    import sys

    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", "from backtests.cli import main; main()", "data", "clear", "--data-dir", str(cache)],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        close_fds=True,
    )
    os.close(terminal)
    output = b""
    while b"[y/N]" not in output:
        assert select.select([controller], [], [], 120)[0], f"no prompt; got {output!r}"
        output += os.read(controller, 1024)
    os.write(controller, answer.encode() + b"\n")
    code = process.wait(timeout=120)
    try:
        while chunk := os.read(controller, 1024):
            output += chunk
    except OSError:  # the terminal closes when the process ends
        pass
    os.close(controller)
    return code, output.decode().replace("\r\n", "\n")


def test_clear_without_tickers_on_a_terminal_asks_first(prices, tmp_path):
    cache = tmp_path / "cache"
    _run("data", "import", str(prices), "--data-dir", str(cache))
    before = _tree_hash(cache)
    code, output = _clear_on_a_terminal(cache, "n")
    assert f"Delete all 2 cached ticker(s) in {cache / 'prices'}? [y/N]" in output
    assert code == 1 and _tree_hash(cache) == before
    code, output = _clear_on_a_terminal(cache, "y")
    assert code == 0 and f"removed 2 ticker(s) from {cache / 'prices'}: SPY, TLT" in output
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


@pytest.mark.parametrize("command", ["fetch", "import", "list", "clear", "repair"])
def test_every_command_help_has_an_example(command):
    result = _run("data", command, "--help")
    assert result.exit_code == 0 and "Example:\n      backtest data " + command in result.output


def test_garbage_manifest_is_rebuilt_from_the_footers_by_repair_and_by_itself(prices, tmp_path):
    """Before: a garbage manifest.json made every command fail until `data clear` of everything."""
    cache = tmp_path / "cache"
    _run("data", "import", str(prices), "--data-dir", str(cache))
    manifest = cache / "prices" / "manifest.json"
    good = json.loads(manifest.read_text())["tickers"]
    manifest.write_text("\x00garbage{")
    repaired = _run("data", "repair", "--data-dir", str(cache))
    assert repaired.exit_code == 0, repaired.output
    assert repaired.stderr == f"cache manifest {manifest} rebuilt from the footers of 2 Parquet file(s)\n"
    rebuilt = json.loads(manifest.read_text())["tickers"]
    # Everything but the write time comes back (the rebuild takes the file's modification time).
    assert {t: {k: v for k, v in e.items() if k != "updated"} for t, e in rebuilt.items()} == {
        t: {k: v for k, v in e.items() if k != "updated"} for t, e in good.items()
    }
    manifest.write_text('{"version": 1, "tickers": {"SPY": "not an entry"}}')
    listed = _run("data", "list", "--json", "--data-dir", str(cache))
    assert listed.exit_code == 0
    assert listed.stderr == (
        f"cache manifest {manifest} was unreadable (TypeError); rebuilt from the footers of 2 Parquet file(s)\n"
    )
    assert [(r["ticker"], r["source"]) for r in json.loads(listed.stdout)] == [
        ("SPY", f"csv:{(prices / 'SPY.csv').resolve()}"),
        ("TLT", f"csv:{(prices / 'TLT.csv').resolve()}"),
    ]
    assert set(json.loads(manifest.read_text())["tickers"]) == {"SPY", "TLT"}  # saved, not only shown


def test_repair_lists_corrupt_files_and_leaves_them_out(prices, tmp_path):
    cache = tmp_path / "cache"
    _run("data", "import", str(prices), "--data-dir", str(cache))
    spy = cache / "prices" / "SPY.parquet"
    spy.write_bytes(spy.read_bytes()[:50])
    result = _run("data", "repair", "--data-dir", str(cache))
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    manifest = cache / "prices" / "manifest.json"
    assert lines[0] == f"cache manifest {manifest} rebuilt from the footers of 1 Parquet file(s)"
    assert lines[1].startswith(f"left out: cache file {spy} is corrupt (")
    assert lines[1].endswith("run `backtest data clear SPY` then re-import or re-fetch SPY")
    assert list(json.loads((cache / "prices" / "manifest.json").read_text())["tickers"]) == ["TLT"]


@pytest.mark.parametrize(
    ("close", "message"),
    [
        ("inf", "SPY close is inf on 2024-01-03; prices must be finite numbers, fix the value or delete that row"),
        ("-inf", "SPY close is -inf on 2024-01-03; prices must be positive, fix the value or delete that row"),
        (
            "1e308",
            "SPY close is 1e+308 on 2024-01-03; prices must lie between 1e-09 and 1e+12, "
            "fix the value or delete that row",
        ),
        (
            "1e-300",
            "SPY close is 1e-300 on 2024-01-03; prices must lie between 1e-09 and 1e+12, "
            "fix the value or delete that row",
        ),
    ],
)
def test_import_rejects_infinite_and_absurd_closes_naming_ticker_and_date(tmp_path, close, message):
    """Before: inf, 1e308 and 1e-300 closes were imported (and runs went on with them)."""
    path = tmp_path / "SPY.csv"
    path.write_text(f"Date,Close\n2024-01-02,10\n2024-01-03,{close}\n2024-01-04,12\n")
    result = _run("data", "import", str(path), "--data-dir", str(tmp_path / "cache"))
    assert result.exit_code == 2
    assert result.stderr == f"Error: {path}: {message}\n"
    assert not (tmp_path / "cache").exists()


def test_import_flags_absurd_daily_moves_unless_allowed(tmp_path):
    path = tmp_path / "SPY.csv"
    path.write_text("Date,Close\n2024-01-02,10\n2024-01-03,10.5\n2024-01-04,120\n")  # x11.4 in one day
    cache = tmp_path / "cache"
    result = _run("data", "import", str(path), "--data-dir", str(cache))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {path}: SPY close goes from 10.5 on 2024-01-03 to 120 on 2024-01-04 (x11.4 in one step); "
        "fix the price (an unadjusted split?) or pass --allow-extreme-moves if the move is real\n"
    )
    assert not cache.exists()
    allowed = _run("data", "import", str(path), "--allow-extreme-moves", "--data-dir", str(cache))
    assert allowed.exit_code == 0 and allowed.stderr.startswith("SPY: 3 rows imported")


def _unwritable_cases(tmp_path):
    """A data dir under a file (a file in the way) and a read-only one (immutable for root)."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    read_only = tmp_path / "ro"
    read_only.mkdir()
    return {
        "file in the way": (blocker / "cache", blocker / "cache" / "prices"),
        "read-only": (read_only, read_only / "prices"),
    }


@contextlib.contextmanager
def _read_only(folder):
    """Make ``folder`` unwritable even for root (chattr +i), or by mode bits for other users."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(folder)], check=True)
    else:
        folder.chmod(0o555)
    try:
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        else:
            folder.chmod(0o755)


@pytest.mark.parametrize("case", ["file in the way", "read-only"])
def test_unwritable_data_dir_fails_in_one_line_before_any_import_or_download(prices, tmp_path, monkeypatch, case):
    data_dir, prices_dir = _unwritable_cases(tmp_path)[case]
    (prices / "GLD.csv").write_text("Date,Close\n2024-01-02,oops\n")  # would fail if it were read first
    calls = fake.install(monkeypatch, {"SPY": ["ok"]})
    reason = "a file is in the way" if case == "file in the way" else "Operation not permitted"
    if case == "read-only" and os.geteuid() != 0:
        reason = "Permission denied"
    expected = (
        f"Error: cannot write to the data folder {prices_dir} ({reason}); fix it or choose another "
        "folder with --data-dir or BACKTEST_DATA_DIR\n"
    )
    with _read_only(data_dir) if case == "read-only" else contextlib.nullcontext():
        imported = _run("data", "import", str(prices), "--data-dir", str(data_dir))
        fetched = _run("data", "fetch", "SPY", "--data-dir", str(data_dir))
    assert (imported.exit_code, imported.stderr) == (1, expected)
    assert (fetched.exit_code, fetched.stderr) == (1, expected)
    assert calls == []  # no download was attempted
