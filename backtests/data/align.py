"""Alignment of per-ticker series onto one backtest calendar, and assembly into ``PriceData``.

Policy (docs/architecture.md): the calendar is the union of the tickers'
trading days, cut to ``[start, end]`` and to the earliest last date among the
tickers (with a note naming the ticker that ends first). Inside a ticker's life
a missing day is forward-filled; before its first date it stays NaN.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from backtests.data.frames import PriceData
from backtests.data.validate import validate_closes
from backtests.errors import UserInputError


def align_closes(
    series_by_ticker: Mapping[str, pd.Series], start: pd.Timestamp | None, end: pd.Timestamp | None
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Put sorted, validated series on one calendar; return the ``date x ticker`` frame and notes.

    Raises ``UserInputError`` when no trading day is left in the window.
    """
    if not series_by_ticker:
        raise UserInputError("no tickers given; name at least one, e.g. SPY")
    lasts = {ticker: series.index[-1] for ticker, series in series_by_ticker.items()}
    first_end = min(lasts, key=lambda t: (lasts[t], t))
    stop = lasts[first_end] if end is None else min(end, lasts[first_end])
    stamps = {t: s.index.as_unit("ns").asi8 for t, s in series_by_ticker.items()}
    days = np.unique(np.concatenate(list(stamps.values())))
    days = days[(days <= stop.value) & (days >= (start.value if start is not None else days[0]))]
    if days.size == 0:
        raise UserInputError(_empty_window_message(series_by_ticker, start, stop))
    # As-of lookup: each day takes the ticker's last close on or before it (forward fill inside
    # its life, NaN before its first date; after its last date cannot occur, days end at ``stop``).
    columns = {}
    for ticker, series in series_by_ticker.items():
        pos = np.searchsorted(stamps[ticker], days, side="right") - 1
        values = series.to_numpy(dtype="float64")
        columns[ticker] = np.where(pos >= 0, values[np.maximum(pos, 0)], np.nan)
    frame = pd.DataFrame(columns, index=pd.DatetimeIndex(days.view("datetime64[ns]"), name="date"))
    notes = []
    if end is None or lasts[first_end] < end:
        latest = max(lasts.values())
        if lasts[first_end] < latest:
            notes.append(
                f"prices end on {lasts[first_end]:%Y-%m-%d} because {first_end} ends first "
                f"(other tickers run to {latest:%Y-%m-%d})"
            )
    return frame, tuple(notes)


def to_price_data(
    series_by_ticker: Mapping[str, pd.Series],
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    *,
    source: str,
    notes: tuple[str, ...] = (),
) -> PriceData:
    """Validate the window, align it and wrap it as ``PriceData`` with gap and alignment notes."""
    window = {ticker: _window(series, start, end) for ticker, series in series_by_ticker.items()}
    gap_notes = validate_closes({t: s for t, s in window.items() if not s.empty})
    closes, align_notes = align_closes(series_by_ticker, start, end)
    return PriceData(closes=closes, source=source, notes=notes + gap_notes + align_notes)


def _window(series: pd.Series, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.Series:
    lo = 0 if start is None else series.index.searchsorted(start, side="left")
    hi = len(series) if end is None else series.index.searchsorted(end, side="right")
    return series.iloc[lo:hi]


def _empty_window_message(
    series_by_ticker: Mapping[str, pd.Series], start: pd.Timestamp | None, stop: pd.Timestamp
) -> str:
    spans = ", ".join(
        f"{t} {s.index[0]:%Y-%m-%d}..{s.index[-1]:%Y-%m-%d}" for t, s in series_by_ticker.items()
    )
    begin = f"{start:%Y-%m-%d}" if start is not None else "the first date"
    return (
        f"no trading days between {begin} and {stop:%Y-%m-%d} for all tickers ({spans}); "
        "pick dates inside these ranges"
    )
