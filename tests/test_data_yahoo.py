"""The yfinance adapter against yfinance's real ``download`` fed by a fake ``Ticker`` (no network)."""

from __future__ import annotations

import pandas as pd
import pytest
import requests
import yfinance
from fixtures.yahoo import fake_yfinance as fake

from backtests.data.yahoo import YahooSource, YahooUnavailableError, closes_from_frame
from backtests.errors import UserInputError

DAY = pd.Timestamp
# yfinance 1.7 itself trips pandas 3 deprecations when called directly (the adapter silences them).
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")


def _source(sleeps: list[float] | None = None, download=None) -> YahooSource:
    sink = sleeps if sleeps is not None else []
    return YahooSource(download, sleep=sink.append, threads=False)


def test_multi_ticker_frame_gives_each_ticker_its_own_closes(monkeypatch):
    fake.install(monkeypatch, {"SPY": ["ok"], "TLT": ["ok"]})
    result = _source().fetch(["SPY", "tlt"], DAY("2024-01-02"), DAY("2024-01-08"))
    assert result.failed == {}
    assert result.closes["SPY"].tolist() == [467.00, 463.50, 461.25, 462.00, 468.25]
    # TLT has no 2024-01-04 row; the NaN yfinance puts there is not a price.
    assert list(result.closes["TLT"].index.strftime("%m-%d")) == [
        "01-02",
        "01-03",
        "01-05",
        "01-08",
    ]
    assert result.closes["TLT"].index.tz is None and result.closes["TLT"].index.name == "date"


def test_end_is_inclusive_and_start_defaults_to_full_history(monkeypatch):
    calls = fake.install(monkeypatch, {"SPY": ["ok"]})
    result = _source().fetch(["SPY"], None, DAY("2024-01-05"))
    assert calls == [("SPY", "1970-01-02", "2024-01-06")]
    assert result.closes["SPY"].index[-1] == DAY("2024-01-05")


def test_single_ticker_multiindex_and_flat_frames(monkeypatch):
    fake.install(monkeypatch, {"SPY": ["ok"]})
    frame = yfinance.download(
        ["SPY"], start="2024-01-02", end="2024-01-04", progress=False, threads=False
    )
    assert isinstance(frame.columns, pd.MultiIndex) and frame.columns.names == ["Price", "Ticker"]
    assert closes_from_frame(frame, ["SPY"])["SPY"].tolist() == [467.00, 463.50]
    flat = frame.droplevel("Ticker", axis=1)
    assert closes_from_frame(flat, ["SPY"])["SPY"].tolist() == [467.00, 463.50]


def test_unknown_ticker_is_reported_as_failed_not_retried(monkeypatch):
    calls = fake.install(monkeypatch, {"SPY": ["ok"], "ZZZQ": ["unknown"]})
    sleeps: list[float] = []
    result = _source(sleeps).fetch(["SPY", "ZZZQ"], DAY("2024-01-02"), DAY("2024-01-08"))
    assert set(result.closes) == {"SPY"}
    assert result.failed == {"ZZZQ": "possibly delisted; no timezone found"}
    assert sleeps == [] and len(calls) == 2


def test_load_names_tickers_yahoo_has_no_prices_for(monkeypatch):
    fake.install(monkeypatch, {"SPY": ["ok"], "ZZZQ": ["unknown"]})
    with pytest.raises(UserInputError) as err:
        _source().load(["SPY", "ZZZQ"], DAY("2024-01-02"), DAY("2024-01-08"))
    assert str(err.value) == (
        "Yahoo Finance has no prices for ZZZQ (ZZZQ: possibly delisted; no timezone found); "
        "check the symbols on finance.yahoo.com"
    )


def test_rate_limit_recorded_by_yfinance_is_retried_with_backoff(monkeypatch):
    calls = fake.install(
        monkeypatch, {"SPY": ["ok"], "TLT": [fake.rate_limit(), fake.rate_limit(), "ok"]}
    )
    sleeps: list[float] = []
    result = _source(sleeps).fetch(["SPY", "TLT"], DAY("2024-01-02"), DAY("2024-01-08"))
    assert sleeps == [2.0, 4.0]
    assert [c[0] for c in calls].count("SPY") == 1  # only the limited ticker is asked again
    assert result.closes["TLT"].tolist() == [96.50, 97.00, 95.25, 95.75] and result.failed == {}


def test_rate_limit_exception_from_download_then_success():
    outcomes = [yfinance.exceptions.YFRateLimitError()]
    frame = pd.DataFrame(
        {("Close", "SPY"): [10.0, 11.0]},
        index=pd.DatetimeIndex(["2024-01-02", "2024-01-03"], name="Date"),
    )
    frame.columns.names = ["Price", "Ticker"]

    def download(tickers, **kwargs):
        if outcomes:
            raise outcomes.pop()
        return frame

    sleeps: list[float] = []
    result = _source(sleeps, download).fetch(["SPY"], DAY("2024-01-02"), DAY("2024-01-03"))
    assert sleeps == [2.0] and result.closes["SPY"].tolist() == [10.0, 11.0]


def test_rate_limit_that_outlasts_the_retries_is_a_one_line_error(monkeypatch):
    fake.install(monkeypatch, {"SPY": [fake.rate_limit()]})
    sleeps: list[float] = []
    with pytest.raises(YahooUnavailableError) as err:
        _source(sleeps).fetch(["SPY"], DAY("2024-01-02"), DAY("2024-01-08"))
    assert sleeps == [2.0, 4.0, 8.0, 16.0]
    assert str(err.value) == (
        "Yahoo Finance is rate-limiting downloads (still limited after 5 tries for SPY); "
        "wait a few minutes and run the command again"
    )


def test_network_down_as_yfinance_records_it(monkeypatch):
    fake.install(monkeypatch, {"SPY": [fake.dns_error()], "TLT": [fake.dns_error()]})
    with pytest.raises(YahooUnavailableError) as err:
        _source().fetch(["SPY", "TLT"], DAY("2024-01-02"), DAY("2024-01-08"))
    assert str(err.value) == (
        "cannot reach Yahoo Finance (DNSError('Could not resolve host: query2.finance.yahoo.com.')); "
        "check the network connection, or import prices from CSV with `backtest data import PATH`"
    )


def test_network_down_hidden_behind_no_timezone_found(monkeypatch):
    # yfinance 1.7 swallows a network error in its timezone lookup: the summary line only says
    # "possibly delisted; no timezone found" and the cause is in an earlier log line.
    fake.install(monkeypatch, {"SPY": ["offline_tz"]})
    with pytest.raises(
        YahooUnavailableError, match=r"^cannot reach Yahoo Finance \(Could not resolve host"
    ):
        _source().fetch(["SPY"], DAY("2024-01-02"), DAY("2024-01-08"))


def test_network_error_raised_by_download():
    def download(tickers, **kwargs):
        raise requests.exceptions.ConnectionError(
            "Max retries exceeded with url: /v8/finance/chart/SPY"
        )

    with pytest.raises(YahooUnavailableError) as err:
        _source(download=download).fetch(["SPY"], DAY("2024-01-02"), DAY("2024-01-08"))
    assert str(err.value).startswith(
        "cannot reach Yahoo Finance (ConnectionError: Max retries exceeded with url: /v8/finance/chart/SPY)"
    )


def test_yfinance_log_stays_off_the_console(monkeypatch, capsys):
    fake.install(monkeypatch, {"ZZZQ": ["unknown"]})
    _source().fetch(["ZZZQ"], DAY("2024-01-02"), DAY("2024-01-08"))
    captured = capsys.readouterr()
    assert "Failed download" not in captured.err + captured.out
