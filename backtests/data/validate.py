"""Checks on price series as they enter the system: ticker names, NaNs, signs, ranges, dates, gaps, moves.

Every adapter (CSV, cache, Yahoo) turns its input into one ``Series`` per ticker
with :func:`price_series`, then calls :func:`validate_closes`. Problems a user
must fix raise ``UserInputError`` naming the file (when known), ticker and date;
suspicious gaps only produce notes, since some are real (the Sept 2001 closure).
:func:`check_moves` flags absurd one-day moves (above ``MAX_DAILY_MOVE`` times
or below its inverse); it is a separate check because a user may override it
(``--allow-extreme-moves``, ``allow_extreme_moves=True``) when a move is real.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from backtests.errors import UserInputError

GAP_DAYS = 10
# Closes outside this range are no asset's price (and near 1e308 arithmetic overflows).
MIN_PRICE = 1e-9
MAX_PRICE = 1e12
# A close more than 10 times (or less than a tenth of) the previous one is flagged.
MAX_DAILY_MOVE = 10.0
ALLOW_MOVES_FLAG = "--allow-extreme-moves"
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
    """Raise ``UserInputError`` on empty series, NaN, non-positive, infinite or out-of-range closes
    (``MIN_PRICE`` to ``MAX_PRICE``), duplicate or unsorted dates.

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
    rules = (
        (values <= 0, "prices must be positive"),
        (np.isinf(values), "prices must be finite numbers"),
        ((values < MIN_PRICE) | (values > MAX_PRICE), f"prices must lie between {MIN_PRICE:g} and {MAX_PRICE:g}"),
    )
    for broken, rule in rules:
        bad = np.flatnonzero(broken)
        if bad.size:
            raise UserInputError(
                f"{where}{ticker} close is {values[bad[0]]:g} on {index[bad[0]]:%Y-%m-%d}; "
                f"{rule}, fix the value or delete that row"
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


def check_moves(
    series_by_ticker: Mapping[str, pd.Series], *, origins: Mapping[str, str] | None = None
) -> None:
    """Raise ``UserInputError`` at the first close above ``MAX_DAILY_MOVE`` times, or below its
    inverse, the ticker's previous close (validated series: positive, finite, sorted)."""
    for ticker, series in series_by_ticker.items():
        values = series.to_numpy(dtype="float64")
        ratio = values[1:] / values[:-1]
        bad = np.flatnonzero((ratio > MAX_DAILY_MOVE) | (ratio < 1.0 / MAX_DAILY_MOVE))
        if bad.size:
            i = bad[0]
            where = f"{origins[ticker]}: " if origins and ticker in origins else ""
            raise UserInputError(
                f"{where}{ticker} close goes from {values[i]:g} on {series.index[i]:%Y-%m-%d} to "
                f"{values[i + 1]:g} on {series.index[i + 1]:%Y-%m-%d} (x{ratio[i]:.3g} in one step); "
                f"fix the price (an unadjusted split?) or pass {ALLOW_MOVES_FLAG} if the move is real"
            )


def _gap_notes(ticker: str, index: pd.DatetimeIndex, where: str) -> list[str]:
    gaps = np.diff(index.as_unit("s").asi8) // 86_400
    return [
        f"{where}{ticker} has a {gaps[i]}-day gap from {index[i]:%Y-%m-%d} to {index[i + 1]:%Y-%m-%d} "
        "(prices carried forward); check the source if this is not a market closure"
        for i in np.flatnonzero(gaps > GAP_DAYS)
    ]
