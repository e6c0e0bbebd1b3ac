"""Alignment of per-ticker series onto one exchange's sessions, and assembly into ``PriceData``.

Policy (docs/architecture.md, README "Alignment"): the backtest trades on the
sessions of one exchange calendar (``calendar``, default ``XNYS``), from the
first date any ticker has (or ``start``) to the earliest last date among the
tickers (or ``end``), with a note naming the ticker that ends first. Each
session takes every ticker's latest close on or before it: a ticker that did
not trade that day (another exchange's holiday) is carried forward, never
back-filled; before its first date it stays NaN. Rows dated on days that are
not sessions of the calendar are not trading days of the backtest: a note
names the tickers and counts those rows. Sessions on which no ticker has a
close of its own are noted too (a calendar that does not fit the data).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from backtests.data import calendars
from backtests.data.calendars import DEFAULT_CALENDAR
from backtests.data.frames import PriceData
from backtests.data.validate import check_moves, validate_closes
from backtests.errors import UserInputError


def align_closes(
    series_by_ticker: Mapping[str, pd.Series],
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    *,
    calendar: str = DEFAULT_CALENDAR,
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Put sorted, validated series on the sessions of ``calendar``; return the ``date x ticker`` frame and notes.

    Raises ``UserInputError`` for an unknown calendar or when no session is left in the window.
    """
    if not series_by_ticker:
        raise UserInputError("no tickers given; name at least one, e.g. SPY")
    calendar = calendars.check_calendar(calendar)
    lasts = {ticker: series.index[-1] for ticker, series in series_by_ticker.items()}
    first_end = min(lasts, key=lambda t: (lasts[t], t))
    stop = lasts[first_end] if end is None else min(end, lasts[first_end])
    earliest = min(series.index[0] for series in series_by_ticker.values())
    begin = earliest if start is None else max(start, earliest)
    notes = list(_bounds_notes(calendar, begin, stop))
    days = calendars.sessions(calendar, begin, stop)
    if days.size == 0:
        raise UserInputError(_empty_window_message(series_by_ticker, start, stop, calendar))
    stamps = {t: s.index.as_unit("ns").asi8 for t, s in series_by_ticker.items()}
    session_ns = days.asi8
    # As-of lookup: each session takes the ticker's last close on or before it (forward fill inside
    # its life, NaN before its first date; after its last date cannot occur, sessions end at ``stop``).
    columns = {}
    own = np.zeros(len(days), dtype=bool)  # sessions on which some ticker has a close of its own
    for ticker, series in series_by_ticker.items():
        pos = np.searchsorted(stamps[ticker], session_ns, side="right") - 1
        values = series.to_numpy(dtype="float64")
        columns[ticker] = np.where(pos >= 0, values[np.maximum(pos, 0)], np.nan)
        own |= (pos >= 0) & (stamps[ticker][np.maximum(pos, 0)] == session_ns)
    frame = pd.DataFrame(columns, index=days)
    notes.extend(_off_session_notes(stamps, session_ns, begin, stop, calendar))
    if not own.all():
        notes.append(
            f"{int((~own).sum())} {calendar} session(s) have no close from any ticker (first "
            f"{days[np.flatnonzero(~own)[0]]:%Y-%m-%d}); every price is carried forward on them: "
            "check that the calendar fits the data"
        )
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
    calendar: str = DEFAULT_CALENDAR,
    allow_extreme_moves: bool = False,
    origins: Mapping[str, str] | None = None,
) -> PriceData:
    """Validate the window, align it and wrap it as ``PriceData`` with gap and alignment notes.

    Unless ``allow_extreme_moves``, a one-day move beyond ``validate.MAX_DAILY_MOVE`` in the
    window is an error. ``origins`` (ticker -> file) is named in messages.
    """
    window = {ticker: _window(series, start, end) for ticker, series in series_by_ticker.items()}
    present = {t: s for t, s in window.items() if not s.empty}
    gap_notes = validate_closes(present, origins=origins)
    if not allow_extreme_moves:
        check_moves(present, origins=origins)
    closes, align_notes = align_closes(series_by_ticker, start, end, calendar=calendar)
    spans = tuple(
        (t, s.index[0], s.index[-1]) if not s.empty else (t, pd.NaT, pd.NaT) for t, s in window.items()
    )
    return PriceData(
        closes=closes, source=source, notes=notes + gap_notes + align_notes, spans=spans
    )


def _off_session_notes(
    stamps: Mapping[str, np.ndarray],
    session_ns: np.ndarray,
    begin: pd.Timestamp,
    stop: pd.Timestamp,
    calendar: str,
) -> list[str]:
    """One note counting, per ticker, the rows from ``begin`` to ``stop`` dated on days that are not sessions."""
    inside = {t: s[(s >= begin.value) & (s <= stop.value)] for t, s in stamps.items()}
    off = {t: s[~_contains(session_ns, s)] for t, s in inside.items()}
    off = {t: s for t, s in off.items() if s.size}
    if not off:
        return []
    total = sum(s.size for s in off.values())
    parts = ", ".join(
        f"{t} {s.size} (first {pd.Timestamp(s[0]):%Y-%m-%d})" for t, s in sorted(off.items())
    )
    return [
        f"dropped {total} row(s) dated on days that are not {calendar} sessions, so not trading days "
        f"of the backtest: {parts}; the next session carries the latest close"
    ]


def _contains(sorted_values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Whether each of ``wanted`` is in the sorted, non-empty ``sorted_values`` (a binary search)."""
    pos = np.minimum(np.searchsorted(sorted_values, wanted), len(sorted_values) - 1)
    return sorted_values[pos] == wanted


def _bounds_notes(calendar: str, begin: pd.Timestamp, stop: pd.Timestamp) -> list[str]:
    """A note when the window reaches outside the years the calendar has rules for."""
    low, high = calendars.bounds(calendar)
    outside = []
    if low is not None and begin < low:
        outside.append(f"before {low:%Y-%m-%d}")
    if high is not None and stop > high:
        outside.append(f"after {high:%Y-%m-%d}")
    if not outside:
        return []
    return [
        f"the {calendar} calendar has no sessions {' or '.join(outside)}; prices there are not used"
    ]


def _window(series: pd.Series, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.Series:
    lo = 0 if start is None else series.index.searchsorted(start, side="left")
    hi = len(series) if end is None else series.index.searchsorted(end, side="right")
    return series.iloc[lo:hi]


def _empty_window_message(
    series_by_ticker: Mapping[str, pd.Series],
    start: pd.Timestamp | None,
    stop: pd.Timestamp,
    calendar: str,
) -> str:
    spans = ", ".join(
        f"{t} {s.index[0]:%Y-%m-%d}..{s.index[-1]:%Y-%m-%d}" for t, s in series_by_ticker.items()
    )
    begin = f"{start:%Y-%m-%d}" if start is not None else "the first date"
    return (
        f"no {calendar} session between {begin} and {stop:%Y-%m-%d} for all tickers ({spans}); "
        "pick dates inside these ranges"
    )
