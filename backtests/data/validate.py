"""Checks on price series as they enter the system: ticker names, NaNs, signs, dates, gaps.

Every adapter (CSV, cache, Yahoo) turns its input into one ``Series`` per ticker
with :func:`price_series`, then calls :func:`validate_closes`. Problems a user
must fix raise ``UserInputError`` naming the file (when known), ticker and date;
suspicious gaps only produce notes, since some are real (the Sept 2001 closure).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from backtests.errors import UserInputError

GAP_DAYS = 10
_DAY_NS = 86_400 * 10**9
_TICKER_RE = re.compile(r"^[A-Z0-9^][A-Z0-9.=^-]{0,19}$")


def clean_tickers(tickers: Iterable[str]) -> tuple[str, ...]:
    """Upper-case, strip and de-duplicate tickers (order kept); reject empty or malformed names."""
    out: list[str] = []
    for raw in tickers:
        ticker = str(raw).strip().upper()
        if not _TICKER_RE.match(ticker):
            raise UserInputError(
                f"{raw!r} is not a ticker symbol; use letters, digits and . - ^ = only, e.g. SPY or BRK-B"
            )
        if ticker not in out:
            out.append(ticker)
    if not out:
        raise UserInputError("no tickers given; name at least one, e.g. SPY")
    return tuple(out)


def price_series(dates: Iterable, closes: Iterable, ticker: str) -> pd.Series:
    """The canonical per-ticker shape: float64 closes on a tz-naive midnight ``date`` index (file order kept)."""
    index = pd.DatetimeIndex(dates)
    if index.tz is not None:
        index = index.tz_localize(None)
    stamps = index.as_unit("ns").asi8
    stamps = stamps - stamps % _DAY_NS  # midnight; much faster than DatetimeIndex.normalize()
    index = pd.DatetimeIndex(stamps.view("datetime64[ns]"), name="date")
    return pd.Series(np.asarray(closes, dtype="float64"), index=index, name=ticker)


def validate_closes(
    series_by_ticker: Mapping[str, pd.Series], *, origins: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """Raise ``UserInputError`` on empty series, NaN or non-positive closes, duplicate or unsorted dates.

    ``origins`` maps a ticker to the file it came from, named in messages.
    Returns notes for gaps longer than ``GAP_DAYS`` calendar days.
    """
    notes: list[str] = []
    for ticker, series in series_by_ticker.items():
        where = f"{origins[ticker]}: " if origins and ticker in origins else ""
        _check_series(ticker, series, where)
        notes.extend(_gap_notes(ticker, series.index, where))
    return tuple(notes)


def _check_series(ticker: str, series: pd.Series, where: str) -> None:
    if series.empty:
        raise UserInputError(f"{where}{ticker} has no prices; add rows or drop the ticker")
    values = series.to_numpy(dtype="float64")
    index = series.index
    nan = np.flatnonzero(np.isnan(values))
    if nan.size:
        raise UserInputError(
            f"{where}{ticker} has no close (NaN) on {index[nan[0]]:%Y-%m-%d}; fill in the price or delete that row"
        )
    bad = np.flatnonzero(values <= 0)
    if bad.size:
        raise UserInputError(
            f"{where}{ticker} close is {values[bad[0]]:g} on {index[bad[0]]:%Y-%m-%d}; "
            "prices must be positive, fix the value or delete that row"
        )
    steps = np.diff(index.asi8)
    dup = np.flatnonzero(steps == 0)
    if dup.size:
        raise UserInputError(
            f"{where}{ticker} has two rows dated {index[dup[0]]:%Y-%m-%d}; keep only one"
        )
    back = np.flatnonzero(steps < 0)
    if back.size:
        i = back[0]
        raise UserInputError(
            f"{where}{ticker} dates are out of order: {index[i + 1]:%Y-%m-%d} comes after "
            f"{index[i]:%Y-%m-%d}; sort the rows by date"
        )


def _gap_notes(ticker: str, index: pd.DatetimeIndex, where: str) -> list[str]:
    gaps = np.diff(index.as_unit("s").asi8) // 86_400
    return [
        f"{where}{ticker} has a {gaps[i]}-day gap from {index[i]:%Y-%m-%d} to {index[i + 1]:%Y-%m-%d} "
        "(prices carried forward); check the source if this is not a market closure"
        for i in np.flatnonzero(gaps > GAP_DAYS)
    ]
