"""``load_prices`` source selection and ``fetch_into_cache`` range planning (fake Yahoo, no network)."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from backtests.data.cache import PriceCache
from backtests.data.loader import fetch_into_cache, load_prices
from backtests.data.validate import price_series
from backtests.data.yahoo import FetchResult, YahooUnavailableError
from backtests.errors import DataUnavailableError, UserInputError

DAYS = pd.bdate_range("2024-01-01", "2024-03-29")
TODAY = pd.Timestamp("2024-03-29")


class FakeYahoo:
    """Serves ``true`` closes cut to the requested span; records each request."""

    def __init__(self, true: dict[str, pd.Series] | None = None, offline: bool = False) -> None:
        self.true = true or {}
        self.offline = offline
        self.calls: list[tuple[tuple[str, ...], pd.Timestamp | None, pd.Timestamp | None]] = []

    def fetch(self, tickers, start, end) -> FetchResult:
        self.calls.append((tuple(tickers), start, end))
        if self.offline:
            raise YahooUnavailableError(
                "cannot reach Yahoo Finance (DNSError); check the network connection"
            )
        closes = {t: self.true[t].loc[start:end] for t in tickers if t in self.true}
        closes = {t: s for t, s in closes.items() if not s.empty}
        return FetchResult(closes=closes, failed={t: "no data" for t in tickers if t not in closes})


def _line(ticker: str, slope: float = 1.0) -> pd.Series:
    return price_series(DAYS, [100.0 + slope * i for i in range(len(DAYS))], ticker)


def _snapshot(folder) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_prices_dir_reads_csv_directly(tmp_path):
    (tmp_path / "SPY.csv").write_text("Date,Close\n2024-01-02,1\n2024-01-03,2\n")
    data = load_prices(["spy"], "2024-01-03", None, prices_dir=tmp_path, source="cache")
    assert data.source == f"csv:{tmp_path}" and data.closes["SPY"].tolist() == [2.0]


def test_cache_source_reports_missing_tickers(tmp_path):
    with pytest.raises(
        DataUnavailableError, match=r"not in the cache .*: SPY; run `backtest data import PATH`"
    ):
        load_prices(["SPY"], source="cache", data_dir=tmp_path)


def test_auto_uses_a_complete_cache_without_asking_yahoo(tmp_path):
    PriceCache(tmp_path).store("SPY", _line("SPY"), source="csv:x")
    yahoo = FakeYahoo(offline=True)
    data = load_prices(["SPY"], "2024-02-01", "2024-02-29", data_dir=tmp_path, yahoo=yahoo)
    assert data.source == "cache" and not data.synthetic and yahoo.calls == []
    assert data.closes.index[0] == pd.Timestamp("2024-02-01") and data.closes.index[
        -1
    ] == pd.Timestamp("2024-02-29")


def test_auto_falls_back_to_announced_demo_data_when_yahoo_is_unreachable(tmp_path):
    PriceCache(tmp_path).store("SPY", _line("SPY"), source="csv:x")
    before = _snapshot(tmp_path)
    data = load_prices(
        ["SPY", "TLT"], "2024-01-02", "2024-03-29", data_dir=tmp_path, yahoo=FakeYahoo(offline=True)
    )
    assert data.synthetic and data.source == "demo" and list(data.closes.columns) == ["SPY", "TLT"]
    assert data.notes[0] == (
        "USING SYNTHETIC DEMO DATA, NOT REAL PRICES: the cache lacks TLT and Yahoo failed: "
        "cannot reach Yahoo Finance (DNSError). Results are illustrative only; "
        "for real data run `backtest data import PATH` or `backtest data fetch TLT` when online"
    )
    assert _snapshot(tmp_path) == before


def test_auto_offline_with_a_ticker_the_demo_lacks_names_the_real_problem(tmp_path):
    with pytest.raises(DataUnavailableError) as err:
        load_prices(["SPY", "FOO"], "2024-01-02", "2024-03-29", data_dir=tmp_path, yahoo=FakeYahoo(offline=True))
    assert str(err.value) == (
        "FOO not in the cache and Yahoo Finance failed (cannot reach Yahoo Finance (DNSError)); import prices "
        "with `backtest data import PATH`, use --prices DIR, or fetch when online"
    )


def test_yahoo_source_does_not_hide_an_outage_behind_demo_data(tmp_path):
    with pytest.raises(YahooUnavailableError):
        load_prices(["SPY"], source="yahoo", data_dir=tmp_path, yahoo=FakeYahoo(offline=True))


def test_auto_with_an_unknown_ticker_is_an_error_not_demo_data(tmp_path):
    yahoo = FakeYahoo({"SPY": _line("SPY")})
    with pytest.raises(
        UserInputError, match=r"^Yahoo Finance has no prices for ZZZQ \(ZZZQ: no data\)"
    ):
        load_prices(["SPY", "ZZZQ"], "2024-01-02", "2024-03-01", data_dir=tmp_path, yahoo=yahoo)
    assert PriceCache(tmp_path).tickers() == []  # nothing written when one ticker fails


def test_fetch_asks_only_for_missing_ranges_with_one_day_overlap(tmp_path):
    cache = PriceCache(tmp_path)
    yahoo = FakeYahoo({"SPY": _line("SPY"), "TLT": _line("TLT", 0.5)})
    jan, feb = pd.Timestamp("2024-01-31"), pd.Timestamp("2024-02-29")
    status = fetch_into_cache(
        cache, yahoo, ["SPY", "TLT"], pd.Timestamp("2024-01-10"), jan, today=TODAY
    )
    assert yahoo.calls == [(("SPY", "TLT"), pd.Timestamp("2024-01-10"), jan)]
    assert status == {"SPY": "16 rows (new)", "TLT": "16 rows (new)"}
    yahoo.calls.clear()
    assert fetch_into_cache(
        cache, yahoo, ["SPY"], pd.Timestamp("2024-01-10"), jan, today=TODAY
    ) == {"SPY": "up to date"}
    assert yahoo.calls == []
    status = fetch_into_cache(cache, yahoo, ["SPY"], pd.Timestamp("2024-01-03"), feb, today=TODAY)
    assert yahoo.calls == [(("SPY",), pd.Timestamp("2024-01-03"), feb)]
    pd.testing.assert_series_equal(cache.read("SPY"), _line("SPY").loc["2024-01-03":feb])
    yahoo.calls.clear()
    fetch_into_cache(cache, yahoo, ["SPY"], pd.Timestamp("2024-01-03"), None, today=TODAY)
    assert yahoo.calls == [(("SPY",), feb, TODAY)]  # from the last cached day, to today


def test_fetch_refetches_everything_when_yahoo_re_adjusted_history(tmp_path):
    cache = PriceCache(tmp_path)
    jan = pd.Timestamp("2024-01-31")
    fetch_into_cache(
        cache,
        FakeYahoo({"SPY": _line("SPY")}),
        ["SPY"],
        pd.Timestamp("2024-01-02"),
        jan,
        today=TODAY,
    )
    adjusted = _line("SPY") * 0.98  # a dividend re-scaled every past close
    yahoo = FakeYahoo({"SPY": adjusted})
    status = fetch_into_cache(cache, yahoo, ["SPY"], pd.Timestamp("2024-01-02"), TODAY, today=TODAY)
    assert [c[1:] for c in yahoo.calls] == [(jan, TODAY), (pd.Timestamp("2024-01-02"), TODAY)]
    assert status["SPY"].startswith("re-fetched whole history")
    pd.testing.assert_series_equal(cache.read("SPY"), adjusted.loc["2024-01-02":])


def test_fetch_with_yahoo_down_leaves_the_cache_untouched(tmp_path):
    cache = PriceCache(tmp_path)
    cache.store("SPY", _line("SPY").loc[:"2024-01-31"], source="csv:x")
    before = _snapshot(tmp_path)
    with pytest.raises(YahooUnavailableError):
        fetch_into_cache(cache, FakeYahoo(offline=True), ["SPY", "TLT"], None, None, today=TODAY)
    assert _snapshot(tmp_path) == before


def test_bad_arguments_are_user_errors(tmp_path):
    with pytest.raises(UserInputError, match="--start: '2024-13-01' is not a date"):
        load_prices(["SPY"], "2024-13-01", data_dir=tmp_path)
    with pytest.raises(
        UserInputError, match="source 'web' is unknown; use one of auto, cache, yahoo, demo"
    ):
        load_prices(["SPY"], source="web", data_dir=tmp_path)
