"""The GPR loader (all layouts), its one-line errors, the cache and the fetch with fake openers."""

from __future__ import annotations

import csv
import io
import json
import math
import urllib.error
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtests.data import gpr
from backtests.data.gpr import cached_gpr, fetch_gpr, import_gpr, load_gpr, load_gpr_monthly
from backtests.errors import BacktestError, DataUnavailableError, UserInputError

FIXTURES = Path(__file__).parent / "fixtures" / "gpr"
EXPECTED_DAILY = pd.DataFrame(
    {
        "gpr": [101.25, 98.0, 150.5, 88.75],
        "gpr_acts": [80.5, 75.125, 90.25, 60.0],
        "gpr_threats": [120.75, 130.5, 210.0, 99.5],
    },
    index=pd.DatetimeIndex(["2019-05-08", "2019-05-09", "2019-05-10", "2019-05-11"], name="date").as_unit("ns"),
)
EXPECTED_MONTHLY = pd.DataFrame(
    {"gpr": [102.5, 117.0], "gpr_acts": [89.75, 96.5], "gpr_threats": [107.25, 126.5]},
    index=pd.DatetimeIndex(["1985-01-01", "1985-02-01"], name="date").as_unit("ns"),
)


def test_shared_daily_file_loads_with_its_span_and_exact_values(shared_data: Path) -> None:
    path = shared_data / "gpr" / "gpr_daily.csv"
    frame = load_gpr(path)
    assert list(frame.columns) == ["gpr", "gpr_acts", "gpr_threats"]
    assert (frame.index[0], frame.index[-1]) == (pd.Timestamp("1985-01-01"), pd.Timestamp("2026-03-16"))
    assert frame.index.is_unique and frame.index.is_monotonic_increasing and frame.index.name == "date"
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(frame) == len(rows)
    for row in (rows[0], rows[1234], rows[9999], rows[-1]):
        got = frame.loc[pd.Timestamp(row["date"])]
        assert (got["gpr"], got["gpr_acts"], got["gpr_threats"]) == (
            float(row["gpr_index"]),
            float(row["gpr_acts"]),
            float(row["gpr_threats"]),
        )


def test_shared_monthly_file_skips_unpublished_months(shared_data: Path) -> None:
    path = shared_data / "gpr" / "gpr_monthly.csv"
    frame = load_gpr_monthly(path)
    with open(path, newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["gpr_monthly"]]
    assert len(frame) == len(rows) and not frame.isna().any().any()
    assert (frame.index.day == 1).all()
    last = rows[-1]
    assert frame.iloc[-1].tolist() == [
        float(last["gpr_monthly"]),
        float(last["gpr_acts_monthly"]),
        float(last["gpr_threats_monthly"]),
    ]


def test_csv_form_fixtures_normalise_to_the_hand_written_frames() -> None:
    pd.testing.assert_frame_equal(load_gpr(FIXTURES / "gpr_daily.csv"), EXPECTED_DAILY)
    pd.testing.assert_frame_equal(load_gpr_monthly(FIXTURES / "gpr_monthly.csv"), EXPECTED_MONTHLY)


def test_authors_layouts_give_the_same_frame_as_the_csv_form() -> None:
    pd.testing.assert_frame_equal(load_gpr(FIXTURES / "data_gpr_daily_recent.csv"), EXPECTED_DAILY)
    pd.testing.assert_frame_equal(load_gpr_monthly(FIXTURES / "data_gpr_export.csv"), EXPECTED_MONTHLY)


def test_authors_daily_without_day_column_reads_the_date_column(tmp_path: Path) -> None:
    frame = pd.read_csv(FIXTURES / "data_gpr_daily_recent.csv").drop(columns=["DAY"])
    path = tmp_path / "no_day.csv"
    frame.to_csv(path, index=False)
    pd.testing.assert_frame_equal(load_gpr(path), EXPECTED_DAILY)


def test_xlsx_spreadsheet_loads_like_the_csv_export(tmp_path: Path) -> None:
    pytest.importorskip("openpyxl")
    path = tmp_path / "data_gpr_daily_recent.xlsx"
    pd.read_csv(FIXTURES / "data_gpr_daily_recent.csv").to_excel(path, index=False)
    pd.testing.assert_frame_equal(load_gpr(path), EXPECTED_DAILY)


@pytest.mark.parametrize(("magic", "package"), [(b"\xd0\xcf\x11\xe0", "xlrd"), (b"PK\x03\x04", "openpyxl")])
def test_spreadsheet_without_its_engine_says_how_to_proceed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, magic: bytes, package: str
) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # as if it were not installed
    path = tmp_path / "gpr.xls"
    path.write_bytes(magic + b"\x00" * 64)
    with pytest.raises(BacktestError) as info:
        load_gpr(path)
    assert str(info.value) == (
        f"{path}: reading this spreadsheet needs the {package} package; "
        f"run `pip install {package}` or save the sheet as CSV and import that"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "date,gpr_index,gpr_acts,gpr_threats\n2019-05-08,1,2,3\n2019-13-45,1,2,3\n",
            "3:date: '2019-13-45' is not a date; use YYYY-MM-DD or YYYYMMDD",
        ),
        (
            "date,gpr_index,gpr_acts,gpr_threats\n2019-05-08,1,2,3\n2019-05-09,1,2,3\n2019-05-10,1,abc,3\n",
            "4:gpr_acts: 'abc' is not a number; fix the cell or leave it empty",
        ),
        (
            "DAY,GPRD,GPRD_ACT,GPRD_THREAT\n20190508,1,2,3\n20190508,1,2,3\n",
            "3:DAY: 2019-05-08 appears again (first on line 2); keep one",
        ),
        (
            "month,GPR,GPRT,GPRA\n1985-01-15,1,2,3\n",
            "2:month: 1985-01-15 is not the first day of a month; date monthly rows YYYY-MM-01",
        ),
        (
            "day,value\n2019-05-08,1\n",
            "1: no GPR columns found; expected a daily file with DAY,GPRD,GPRD_ACT,GPRD_THREAT (or date,gpr_index,"
            "gpr_acts,gpr_threats) or a monthly file with month,GPR,GPRA,GPRT (or month,gpr_monthly,gpr_acts_monthly,"
            "gpr_threats_monthly)",
        ),
    ],
)
def test_malformed_files_fail_in_one_line_naming_file_line_column(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(UserInputError) as info:
        gpr.read_gpr(path)
    assert str(info.value) == f"{path}:{message}"


def test_wrong_kind_is_refused_with_the_right_loader_named() -> None:
    path = FIXTURES / "gpr_monthly.csv"
    with pytest.raises(UserInputError) as info:
        load_gpr(path)
    assert str(info.value) == f"{path}: this is the monthly GPR index, not the daily one; read it with load_gpr_monthly"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.dates(min_value=pd.Timestamp("1985-01-01").date(), max_value=pd.Timestamp("2030-01-01").date()),
            st.floats(0, 1e4, allow_nan=False),
            st.floats(0, 1e4, allow_nan=False),
            st.floats(0, 1e4, allow_nan=False),
        ),
        min_size=1,
        max_size=10,
        unique_by=lambda row: row[0],
    )
)
def test_any_daily_csv_in_either_layout_normalises_identically(tmp_path: Path, rows: list[tuple]) -> None:
    csv_form = io.StringIO()
    authors = io.StringIO()
    csv_form.write("date,gpr_index,gpr_acts,gpr_threats\n")
    authors.write("DAY,GPRD_THREAT,GPRD,event,GPRD_ACT\n")
    for day, value, acts, threats in rows:
        csv_form.write(f"{day.isoformat()},{value!r},{acts!r},{threats!r}\n")
        authors.write(f'{day:%Y%m%d},{threats!r},{value!r},"a, b",{acts!r}\n')
    (tmp_path / "a.csv").write_text(csv_form.getvalue())
    (tmp_path / "b.csv").write_text(authors.getvalue())
    first, second = load_gpr(tmp_path / "a.csv"), load_gpr(tmp_path / "b.csv")
    pd.testing.assert_frame_equal(first, second)
    assert first.index.is_monotonic_increasing
    by_day = {pd.Timestamp(day): (v, a, t) for day, v, a, t in rows}
    assert all(tuple(first.loc[day]) == values for day, values in by_day.items())


# --- cache -----------------------------------------------------------------------------------


def test_import_then_cached_gpr_round_trips_and_reimport_changes_nothing(tmp_path: Path) -> None:
    assert cached_gpr(tmp_path) is None
    result = import_gpr(FIXTURES / "data_gpr_daily_recent.csv", tmp_path)
    assert (result.kind, result.rows, result.changed) == ("daily", 4, True)
    pd.testing.assert_frame_equal(cached_gpr(tmp_path), EXPECTED_DAILY)
    manifest = json.loads((tmp_path / "gpr" / "manifest.json").read_text())
    assert manifest["daily"]["first"] == "2019-05-08" and manifest["daily"]["last"] == "2019-05-11"
    assert manifest["daily"]["source"].startswith(f"file:{(FIXTURES / 'data_gpr_daily_recent.csv').resolve()} sha256:")
    files = sorted((tmp_path / "gpr").iterdir())
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    again = import_gpr(FIXTURES / "data_gpr_daily_recent.csv", tmp_path)
    assert not again.changed
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted((tmp_path / "gpr").iterdir())} == before


def test_monthly_import_sits_beside_daily(tmp_path: Path) -> None:
    import_gpr(FIXTURES / "gpr_daily.csv", tmp_path)
    import_gpr(FIXTURES / "data_gpr_export.csv", tmp_path)
    pd.testing.assert_frame_equal(cached_gpr(tmp_path, kind="monthly"), EXPECTED_MONTHLY)
    pd.testing.assert_frame_equal(cached_gpr(tmp_path), EXPECTED_DAILY)
    assert set(json.loads((tmp_path / "gpr" / "manifest.json").read_text())) == {"daily", "monthly"}


def test_cached_gpr_uses_the_data_dir_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKTEST_DATA_DIR", str(tmp_path))
    import_gpr(FIXTURES / "gpr_daily.csv")
    assert (tmp_path / "gpr" / "gpr_daily.parquet").is_file()
    pd.testing.assert_frame_equal(cached_gpr(), EXPECTED_DAILY)


def test_damaged_cache_is_reported(tmp_path: Path) -> None:
    (tmp_path / "gpr").mkdir()
    (tmp_path / "gpr" / "gpr_daily.parquet").write_bytes(b"not parquet")
    with pytest.raises(
        DataUnavailableError,
        match=r"the cached GPR index is unreadable .*; re-import it with "
        r"`backtest data import-gpr FILE`$",
    ):
        cached_gpr(tmp_path)


# --- fetch -----------------------------------------------------------------------------------


class _Response(io.BytesIO):
    """What urlopen returns: a readable context manager."""


def test_fetch_offline_fails_in_one_line_and_leaves_the_cache(tmp_path: Path) -> None:
    import_gpr(FIXTURES / "gpr_daily.csv", tmp_path)
    before = (tmp_path / "gpr" / "gpr_daily.parquet").read_bytes()
    calls = []

    def offline(url: str, timeout: float) -> _Response:
        calls.append((url, timeout))
        raise urllib.error.URLError("Name or service not known")

    with pytest.raises(DataUnavailableError) as info:
        fetch_gpr(tmp_path, opener=offline, timeout=5)
    assert str(info.value) == (
        "cannot download the GPR index from https://www.matteoiacoviello.com/gpr_files/data_gpr_daily_recent.xls "
        "(Name or service not known); download it in a browser and run `backtest data import-gpr FILE`"
    )
    assert calls == [(gpr.GPR_DAILY_URL, 5)]
    assert (tmp_path / "gpr" / "gpr_daily.parquet").read_bytes() == before


def test_fetch_stores_a_file_in_the_authors_format(tmp_path: Path) -> None:
    payload = (FIXTURES / "data_gpr_daily_recent.csv").read_bytes()
    result = fetch_gpr(tmp_path, opener=lambda url, timeout: _Response(payload))
    assert result.changed and result.kind == "daily"
    pd.testing.assert_frame_equal(cached_gpr(tmp_path), EXPECTED_DAILY)
    assert json.loads((tmp_path / "gpr" / "manifest.json").read_text())["daily"]["source"] == gpr.GPR_DAILY_URL


def test_fetch_of_an_unusable_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataUnavailableError) as info:
        fetch_gpr(tmp_path, opener=lambda url, timeout: _Response(b"<html>moved</html>\n"))
    assert str(info.value).startswith(
        "the downloaded GPR file is not usable: data_gpr_daily_recent.xls:1: no GPR columns found"
    )
    assert cached_gpr(tmp_path) is None


def test_nan_cells_inside_a_row_are_kept_as_nan(tmp_path: Path) -> None:
    path = tmp_path / "partial.csv"
    path.write_text("date,gpr_index,gpr_acts,gpr_threats\n2019-05-08,1.5,,3\n")
    row = load_gpr(path).iloc[0]
    assert row["gpr"] == 1.5 and math.isnan(row["gpr_acts"]) and row["gpr_threats"] == 3.0
