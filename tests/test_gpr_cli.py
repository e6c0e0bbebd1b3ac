"""``backtest data import-gpr`` and ``backtest data fetch-gpr``: messages, exit codes, cache effects."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from backtests.cli import cli
from backtests.data.gpr import cached_gpr, load_gpr

FIXTURES = Path(__file__).parent / "fixtures" / "gpr"
AUTHORS_DAILY = str(FIXTURES / "data_gpr_daily_recent.csv")


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["data", *args])


def test_import_reports_then_reimport_is_a_no_op(tmp_path: Path) -> None:
    target = tmp_path / "gpr" / "gpr_daily.parquet"
    first = run("import-gpr", AUTHORS_DAILY, "--data-dir", str(tmp_path))
    assert first.exit_code == 0, first.output
    assert first.stderr == f"Cached the daily GPR index (4 rows, 2019-05-08 to 2019-05-11) in {target}\n"
    assert first.stdout == ""
    pd.testing.assert_frame_equal(cached_gpr(tmp_path), load_gpr(FIXTURES / "gpr_daily.csv"))
    second = run("import-gpr", AUTHORS_DAILY, "--data-dir", str(tmp_path))
    assert second.exit_code == 0
    assert (
        second.stderr == f"The daily GPR index in {target} is already up to date (4 rows, 2019-05-08 to 2019-05-11)\n"
    )


def test_import_shared_daily_file(shared_data: Path, tmp_path: Path) -> None:
    result = run("import-gpr", str(shared_data / "gpr" / "gpr_daily.csv"), "--data-dir", str(tmp_path))
    assert result.exit_code == 0
    assert "(15050 rows, 1985-01-01 to 2026-03-16)" in result.stderr
    cached = cached_gpr(tmp_path)
    assert (cached.index[0], cached.index[-1]) == (pd.Timestamp("1985-01-01"), pd.Timestamp("2026-03-16"))


def test_import_bad_file_exits_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("DAY,GPRD,GPRD_ACT,GPRD_THREAT\n2019050,1,2,3\n")
    result = run("import-gpr", str(path), "--data-dir", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr == f"Error: {path}:2:DAY: '2019050' is not a date; use YYYY-MM-DD or YYYYMMDD\n"
    assert cached_gpr(tmp_path) is None


def test_import_missing_file_exits_2(tmp_path: Path) -> None:
    result = run("import-gpr", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert result.stderr == f"Error: {tmp_path / 'nope.csv'}: no such file; check the path\n"


def test_fetch_offline_fails_in_one_line_exit_1_cache_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(url: str, timeout: float) -> None:
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    run("import-gpr", AUTHORS_DAILY, "--data-dir", str(tmp_path))
    before = sorted((p.name, p.read_bytes()) for p in (tmp_path / "gpr").iterdir())
    result = run("fetch-gpr", "--data-dir", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: cannot download the GPR index from "
        "https://www.matteoiacoviello.com/gpr_files/data_gpr_daily_recent.xls "
        "([Errno -3] Temporary failure in name resolution); "
        "download it in a browser and run `backtest data import-gpr FILE`"
    )
    assert sorted((p.name, p.read_bytes()) for p in (tmp_path / "gpr").iterdir()) == before


@pytest.mark.parametrize("command", ["import-gpr", "fetch-gpr"])
def test_help_has_an_example_block(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Example:\n" in result.stdout


def test_a_negative_value_is_rejected_naming_file_date_and_column(tmp_path: Path) -> None:
    """Before: a negative GPR value was imported silently."""
    path = tmp_path / "gpr_daily.csv"
    path.write_text(
        "date,gpr_index,gpr_acts,gpr_threats\n2019-05-08,101.25,80.5,120.75\n2019-05-09,98,-3.5,130.5\n"
    )
    result = run("import-gpr", str(path), "--data-dir", str(tmp_path / "cache"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {path}:3:gpr_acts: -3.5 on 2019-05-09 is negative; "
        "the GPR index is never below 0, fix the cell or leave it empty\n"
    )
    assert not (tmp_path / "cache").exists()


def test_unwritable_data_dir_fails_in_one_line_before_reading_or_downloading(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    opened: list[str] = []
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, **kwargs: opened.append(url))
    expected = (
        f"Error: cannot write to the data folder {blocker / 'cache' / 'gpr'} (a file is in the way); fix it or choose "
        "another folder with --data-dir or BACKTEST_DATA_DIR\n"
    )
    imported = run("import-gpr", str(tmp_path / "missing.csv"), "--data-dir", str(blocker / "cache"))
    fetched = run("fetch-gpr", "--data-dir", str(blocker / "cache"))
    assert (imported.exit_code, imported.stderr) == (1, expected)
    assert (fetched.exit_code, fetched.stderr, fetched.stdout) == (1, expected, "")
    assert opened == []
