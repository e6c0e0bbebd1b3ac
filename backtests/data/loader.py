"""The one entry point for prices (``load_prices``) and the Yahoo -> cache update (``fetch_into_cache``).

Sources: ``prices_dir`` (CSV files read directly), ``cache``, ``yahoo`` (fetch
missing ranges into the cache, then read it), ``demo`` (synthetic market) and
``auto``: the cache when it holds every ticker, else Yahoo, else -- only when
Yahoo is unreachable -- the demo market, announced loudly in ``PriceData.notes``.
Whatever the source, prices come out on the sessions of one exchange calendar
(``calendar``, policy in ``align``), and absurd one-day moves are errors unless
``allow_extreme_moves``. Tickers are case-insensitive (``spy`` is ``SPY``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from backtests import paths
from backtests.data.cache import PriceCache
from backtests.data.calendars import DEFAULT_CALENDAR, check_calendar
from backtests.data.csvfile import CsvSource
from backtests.data.frames import PriceData
from backtests.data.storage import require_writable
from backtests.data.validate import clean_tickers
from backtests.data.yahoo import (
    EARLIEST_START,
    FetchResult,
    YahooSource,
    YahooUnavailableError,
    raise_failed,
)
from backtests.dates import check_range, parse_date
from backtests.errors import DataUnavailableError, UserInputError

SOURCES = ("auto", "cache", "yahoo", "demo")
# Relative tolerance when checking that re-fetched overlap days match the cache.
_OVERLAP_RTOL = 1e-6


def load_prices(
    tickers: Sequence[str],
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    *,
    source: str = "auto",
    prices_dir: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    events: pd.DataFrame | None = None,
    yahoo: YahooSource | None = None,
    calendar: str = DEFAULT_CALENDAR,
    allow_extreme_moves: bool = False,
) -> PriceData:
    """Adjusted daily closes for ``tickers`` over ``[start, end]`` (inclusive) as ``PriceData``.

    Rows are the sessions of exchange calendar ``calendar`` (an ``exchange_calendars``
    name). ``allow_extreme_moves`` accepts one-day moves beyond 10x (or below 0.1x).
    ``events`` shapes the demo market's shocks; ``yahoo`` replaces the Yahoo adapter (tests).
    Fetching into a cache that cannot be written fails before any download.
    """
    wanted = clean_tickers(tickers)
    start_ts, end_ts = parse_date(start, what="--start"), parse_date(end, what="--end")
    check_range(start_ts, end_ts)
    calendar = check_calendar(calendar)
    if source not in SOURCES:
        raise UserInputError(f"source {source!r} is unknown; use one of {', '.join(SOURCES)}")
    options = {"calendar": calendar, "allow_extreme_moves": allow_extreme_moves}
    if prices_dir is not None:
        return CsvSource(prices_dir).load(wanted, start_ts, end_ts, **options)
    if source == "demo":
        return _demo(wanted, start_ts, end_ts, events, calendar)
    cache = PriceCache(paths.data_dir(data_dir))
    if source == "cache" or (source == "auto" and all(cache.path(t).exists() for t in wanted)):
        return cache.load(wanted, start_ts, end_ts, **options)
    require_writable(cache.dir)
    try:
        fetch_into_cache(cache, yahoo or YahooSource(), wanted, start_ts, end_ts)
    except YahooUnavailableError as exc:
        if source == "yahoo":
            raise
        missing = [t for t in wanted if not cache.path(t).exists()]
        cause = str(exc).split(";")[0]  # the what, without the how-to-fix (the note has its own)
        _require_demo_tickers(missing, cause)
        return _announced_demo(
            wanted, start_ts, end_ts, events, calendar, reason=cause, missing=missing
        )
    return dataclasses.replace(cache.load(wanted, start_ts, end_ts, **options), source="yahoo")


def fetch_into_cache(
    cache: PriceCache,
    yahoo: YahooSource,
    tickers: Sequence[str],
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    *,
    today: pd.Timestamp | None = None,
) -> dict[str, str]:
    """Fetch from Yahoo only what the cache lacks (before its first / after its last date) and store it.

    Requests overlap the cached range by a day: if Yahoo's adjusted close there
    differs (a dividend re-scaled history), the whole range is re-fetched.
    Nothing is written unless every ticker succeeded. Returns ticker -> status text.
    """
    today = today if today is not None else pd.Timestamp.today().normalize()
    stop = min(end, today) if end is not None else today
    plans = {t: _request_span(cache, t, start, stop) for t in clean_tickers(tickers)}
    fetched = _fetch_grouped(yahoo, {t: span for t, span in plans.items() if span is not None})
    unknown = {t: why for t, why in fetched.failed.items() if cache.entry(t) is None}
    raise_failed(unknown)
    merged: dict[str, pd.Series] = {}
    status: dict[str, str] = {}
    stale: list[str] = []
    for ticker, span in plans.items():
        new = fetched.closes.get(ticker)
        if span is None or new is None:
            status[ticker] = "up to date"
            continue
        old = cache.read(ticker) if cache.entry(ticker) else None
        if old is not None and not _overlap_agrees(old, new):
            stale.append(ticker)
            continue
        merged[ticker] = new if old is None else new.combine_first(old)
    if stale:
        full = _fetch_grouped(yahoo, {t: (_covered_start(cache, t, start), stop) for t in stale})
        raise_failed(full.failed)
        merged.update(full.closes)
    for ticker, series in merged.items():
        old = cache.entry(ticker)
        asked = f"{start if start is not None else EARLIEST_START:%Y-%m-%d}"
        covered = min(asked, old.covered_from) if old else asked
        before = old.rows if old else 0
        result = cache.store(ticker, series, source="yahoo", covered_from=covered)
        status[ticker] = _status_text(result, ticker in stale, len(series) - before)
    return status


def _request_span(
    cache: PriceCache, ticker: str, start: pd.Timestamp | None, stop: pd.Timestamp
) -> tuple[pd.Timestamp | None, pd.Timestamp] | None:
    """The date span to ask Yahoo for, overlapping the cached range by one day; None if nothing is missing."""
    entry = cache.entry(ticker)
    if entry is None:
        return (start, stop)
    first, last = pd.Timestamp(entry.first), pd.Timestamp(entry.last)
    need_before = start is not None and start < pd.Timestamp(entry.covered_from)
    need_after = stop > last
    if not (need_before or need_after):
        return None
    return (start if need_before else last, stop if need_after else first)


def _covered_start(
    cache: PriceCache, ticker: str, start: pd.Timestamp | None
) -> pd.Timestamp | None:
    """Where a full re-fetch starts: the earliest of ``start`` and what the cache already covered."""
    entry = cache.entry(ticker)
    if start is None or entry is None:
        return start
    return min(start, pd.Timestamp(entry.covered_from))


def _fetch_grouped(yahoo: YahooSource, spans: dict[str, tuple]) -> FetchResult:
    """One batched download per distinct span; results merged."""
    closes: dict[str, pd.Series] = {}
    failed: dict[str, str] = {}
    for span in sorted(set(spans.values()), key=str):
        result = yahoo.fetch([t for t, s in spans.items() if s == span], *span)
        closes.update(result.closes)
        failed.update(result.failed)
    return FetchResult(closes=closes, failed=failed)


def _overlap_agrees(old: pd.Series, new: pd.Series) -> bool:
    common = old.index.intersection(new.index)
    return np.allclose(old[common].to_numpy(), new[common].to_numpy(), rtol=_OVERLAP_RTOL, atol=0.0)


def _status_text(result: str, refetched: bool, added: int) -> str:
    if result == "unchanged":
        return "up to date"
    if refetched:
        return f"re-fetched whole history (Yahoo re-adjusted past prices), {added:+d} rows"
    return f"{added} rows added" if result == "updated" else f"{added} rows (new)"


def _demo(
    tickers: Sequence[str],
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    events: pd.DataFrame | None,
    calendar: str,
) -> PriceData:
    # Imported only when demo data is wanted: it needs scipy and its calibration tables.
    from backtests.data.demo import demo_prices

    return demo_prices(list(tickers), start, end, events=events, calendar=calendar)


def _require_demo_tickers(missing: Sequence[str], cause: str) -> None:
    """Falling back to the demo market only makes sense for tickers it has: name the real problem."""
    from backtests.data.demo import demo_tickers

    unknown = [t for t in missing if t not in demo_tickers()]
    if unknown:
        raise DataUnavailableError(
            f"{', '.join(unknown)} not in the cache and Yahoo Finance failed ({cause}); import prices with "
            f"`backtest data import PATH`, use --prices DIR, or fetch when online"
        )


def _announced_demo(
    tickers: Sequence[str],
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    events: pd.DataFrame | None,
    calendar: str,
    *,
    reason: str,
    missing: Sequence[str],
) -> PriceData:
    demo = _demo(tickers, start, end, events, calendar)
    warning = (
        "USING SYNTHETIC DEMO DATA, NOT REAL PRICES: the cache lacks "
        f"{', '.join(missing)} and Yahoo failed: {reason}. "
        "Results are illustrative only; for real data run `backtest data import PATH` or "
        f"`backtest data fetch {' '.join(missing)}` when online"
    )
    return dataclasses.replace(demo, notes=(warning, *demo.notes))
