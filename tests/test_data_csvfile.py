"""CSV price files: both layouts, ticker from the file name, errors naming file, line and column."""

from __future__ import annotations

import pandas as pd
import pytest

from backtests.data.csvfile import CsvSource, read_price_csv
from backtests.errors import UserInputError


def _write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_date_close_layout(tmp_path):
    path = _write(tmp_path / "spy.csv", "Date,Close\n2024-01-02,10.5\n2024-01-03,11\n")
    series = read_price_csv(path)
    assert series.name == "SPY"
    assert series.to_dict() == {pd.Timestamp("2024-01-02"): 10.5, pd.Timestamp("2024-01-03"): 11.0}


def test_yahoo_export_uses_adj_close(tmp_path):
    path = _write(
        tmp_path / "TLT.csv",
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2024-01-02,1,1,1,99.0,95.5,100\n"
        "2024-01-03,1,1,1,98.0,94.25,100\n",
    )
    assert read_price_csv(path).tolist() == [95.5, 94.25]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "Date,Close\n2024-01-02,1\n2024-13-01,2\n",
            "{p}:3: column 1 (Date) is '2024-13-01', not a date (YYYY-MM-DD); fix that cell",
        ),
        (
            "Date,Close\n2024-01-02,1\n2024-01-03,abc\n",
            "{p}:3: column 2 (Close) is 'abc', not a number; fix that cell",
        ),
        (
            "Day,Price\n2024-01-02,1\n",
            "{p}:1: header 'Day,Price' lacks Date and Close; "
            "expected Date,Close or Yahoo's Date,Open,High,Low,Close,Adj Close,Volume",
        ),
        (
            "Date,Close\n2024-01-02,1\n2024-01-03,null\n",
            "{p}: SPY has no close (NaN) on 2024-01-03; fill in the price or delete that row",
        ),
        (
            "Date,Close\n2024-01-02,-1\n",
            "{p}: SPY close is -1 on 2024-01-02; prices must be positive, fix the value or delete that row",
        ),
    ],
)
def test_bad_files_name_file_line_and_column(tmp_path, body, message):
    path = _write(tmp_path / "SPY.csv", body)
    with pytest.raises(UserInputError) as err:
        read_price_csv(path)
    assert str(err.value) == message.format(p=path)


def test_folder_source_lists_tickers_and_reports_unknown_ones(tmp_path):
    _write(tmp_path / "SPY.csv", "Date,Close\n2024-01-02,1\n2024-01-03,2\n")
    _write(tmp_path / "gld.CSV", "Date,Close\n2024-01-02,5\n2024-01-03,6\n")
    _write(tmp_path / "notes.txt", "not prices")
    source = CsvSource(tmp_path)
    assert list(source.files()) == ["GLD", "SPY"]
    data = source.load(["spy", "GLD"], None, None)
    assert list(data.closes.columns) == ["SPY", "GLD"] and data.source == f"csv:{tmp_path}"
    with pytest.raises(UserInputError) as err:
        source.load(["SPY", "ZZZQ", "QQQ"], None, None)
    assert str(err.value) == (
        f"no CSV for ZZZQ, QQQ in {tmp_path} (found: GLD, SPY); add ZZZQ.csv or choose among the tickers found"
    )


def test_two_files_for_one_ticker_is_an_error(tmp_path):
    _write(tmp_path / "SPY.csv", "Date,Close\n2024-01-02,1\n")
    _write(tmp_path / "spy.csv", "Date,Close\n2024-01-02,1\n")
    if len(list(tmp_path.iterdir())) < 2:
        pytest.skip("case-insensitive file system")
    with pytest.raises(UserInputError, match="both hold SPY; keep only one"):
        CsvSource(tmp_path).files()


def test_shared_prices_read_like_the_csv_module(shared_data):
    import csv

    path = shared_data / "prices" / "MP.csv"
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    series = read_price_csv(path)
    assert len(series) == len(rows)
    assert series.iloc[-1] == float(rows[-1][1]) and f"{series.index[0]:%Y-%m-%d}" == rows[0][0]
