"""``load_prices`` source selection and ``fetch_into_cache`` range planning (fake Yahoo, no network)."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from backtests.data.cache import PriceCache
from backtests.data.loader import fetch_into_cache, load_prices
from backtests.data.validate import price_series
from backtests.data.yahoo import FetchResult, YahooUnavailableError
from backtests.errors import BacktestError, DataUnavailableError, UserInputError

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


@pytest.mark.shared
def test_real_prices_load_on_the_nyse_calendar_without_flags(shared_data):
    """All 43 reference ETFs: real single-day moves above 25% (MP, KWEB, SLV) are not "extreme",
    no row falls on a day that is not an XNYS session, and every session has closes."""
    folder = shared_data / "prices"
    tickers = sorted(p.stem for p in folder.glob("*.csv"))
    data = load_prices(tickers, prices_dir=folder)
    assert list(data.closes.columns) == tickers and len(tickers) == 43
    assert not [n for n in data.notes if "session" in n]
    moves = data.closes.pct_change(fill_method=None).abs().max()
    assert (moves[["MP", "KWEB", "SLV"]] > 0.25).all()
    first = data.first_dates()
    assert first["SPY"] == pd.Timestamp("1993-01-29") and first["MP"] == pd.Timestamp("2020-06-22")
    assert data.last_dates().max() >= data.closes.index[-1]


def test_extreme_moves_are_errors_on_load_unless_allowed(tmp_path):
    (tmp_path / "SPY.csv").write_text("Date,Close\n2024-01-02,100\n2024-01-03,1e308\n2024-01-04,100\n")
    (tmp_path / "TLT.csv").write_text("Date,Close\n2024-01-02,100\n2024-01-03,5\n2024-01-04,100\n")
    with pytest.raises(UserInputError) as err:
        load_prices(["TLT"], prices_dir=tmp_path)
    assert str(err.value) == (
        f"{tmp_path / 'TLT.csv'}: TLT close goes from 100 on 2024-01-02 to 5 on 2024-01-03 (x0.05 in one step); "
        "fix the price (an unadjusted split?) or pass --allow-extreme-moves if the move is real"
    )
    assert load_prices(["TLT"], prices_dir=tmp_path, allow_extreme_moves=True).closes["TLT"].tolist() == [
        100.0,
        5.0,
        100.0,
    ]
    with pytest.raises(UserInputError, match=r"SPY close is 1e\+308 on 2024-01-03; prices must lie between"):
        load_prices(["SPY"], prices_dir=tmp_path, allow_extreme_moves=True)


def test_extreme_moves_in_the_cache_are_caught_on_load(tmp_path):
    jump = price_series(DAYS[1:4], [10.0, 10.0, 200.0], "SPY")
    PriceCache(tmp_path).store("SPY", jump, source="csv:x")  # the cache stores what it is given
    with pytest.raises(UserInputError, match=r"^SPY close goes from 10 on 2024-01-03 to 200 on 2024-01-04"):
        load_prices(["SPY"], source="cache", data_dir=tmp_path)
    data = load_prices(["SPY"], source="cache", data_dir=tmp_path, allow_extreme_moves=True)
    assert data.closes["SPY"].tolist() == [10.0, 10.0, 200.0]


def test_lowercase_tickers_find_the_cache_entries(tmp_path):
    """Before: cache.read("spy") reported the file as corrupt (the checksum covers the ticker)."""
    cache = PriceCache(tmp_path)
    cache.store("SPY", _line("SPY"), source="csv:x")
    pd.testing.assert_series_equal(cache.read("spy"), _line("SPY"))
    assert cache.entry("spy").ticker == "SPY" and cache.entry("spy").source == "csv:x"
    data = load_prices(["spy", "Spy"], "2024-02-01", "2024-02-02", source="cache", data_dir=tmp_path)
    assert list(data.closes.columns) == ["SPY"]
    demo = load_prices(["spy"], "2024-02-01", "2024-02-02", source="demo")
    assert list(demo.closes.columns) == ["SPY"]


def test_calendar_keyword_selects_the_exchange(tmp_path):
    PriceCache(tmp_path).store("SPY", _line("SPY"), source="csv:x")
    us = load_prices(["SPY"], "2024-02-15", "2024-02-21", source="cache", data_dir=tmp_path)
    assert us.closes.index.strftime("%m-%d").tolist() == ["02-15", "02-16", "02-20", "02-21"]
    assert us.notes == (
        "dropped 1 row(s) dated on days that are not XNYS sessions, so not trading days of the backtest: "
        "SPY 1 (first 2024-02-19); the next session carries the latest close",
    )
    london = load_prices(["SPY"], "2024-02-15", "2024-02-21", source="cache", data_dir=tmp_path, calendar="XLON")
    assert london.closes.index.strftime("%m-%d").tolist() == ["02-15", "02-16", "02-19", "02-20", "02-21"]
    with pytest.raises(UserInputError, match=r"^calendar 'NYES' is not an exchange calendar \(did you mean XNYS, NYSE"):
        load_prices(["SPY"], source="cache", data_dir=tmp_path, calendar="NYES")


def test_fetching_into_an_unwritable_cache_fails_before_downloading(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    yahoo = FakeYahoo({"SPY": _line("SPY")})
    for source in ("yahoo", "auto"):
        with pytest.raises(BacktestError) as err:
            load_prices(["SPY"], source=source, data_dir=blocker / "cache", yahoo=yahoo)
        assert str(err.value) == (
            f"cannot write to the data folder {blocker / 'cache' / 'prices'} (a file is in the way); "
            "fix it or choose another folder with --data-dir or BACKTEST_DATA_DIR"
        )
    assert yahoo.calls == []


def test_a_garbage_manifest_is_rebuilt_while_fetching_and_noted(tmp_path):
    cache = PriceCache(tmp_path)
    cache.store("SPY", _line("SPY").loc[:"2024-01-31"], source="csv:x")
    cache.manifest_path.write_text("garbage")
    yahoo = FakeYahoo({"SPY": _line("SPY"), "TLT": _line("TLT")})
    data = load_prices(["SPY", "TLT"], "2024-01-02", "2024-02-29", data_dir=tmp_path, yahoo=yahoo)
    assert data.source == "yahoo"
    assert data.notes[0] == (
        f"cache manifest {cache.manifest_path} was unreadable (JSONDecodeError); "
        "rebuilt from the footers of 1 Parquet file(s)"
    )
    assert PriceCache(tmp_path).entry("SPY").source == "yahoo"


def test_fingerprint_is_sha256_of_dated_closes_at_ten_significant_digits():
    """Built by hand: one ``YYYY-MM-DD,close`` line per priced day (10 significant digits), joined by
    newlines; days before the listing (NaN) are not part of it."""
    import hashlib

    from backtests.data.frames import PriceData

    days = pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-04"], name="date")
    closes = pd.DataFrame({"A": [100.0, 101.5, 1 / 3], "B": [float("nan"), 2.0, 123456789.0123]}, index=days)
    digests = PriceData(closes, "test").fingerprints()
    a = "2024-01-02,100\n2024-01-03,101.5\n2024-01-04,0.3333333333"
    b = "2024-01-03,2\n2024-01-04,123456789"
    assert digests == {"A": hashlib.sha256(a.encode()).hexdigest(), "B": hashlib.sha256(b.encode()).hexdigest()}
