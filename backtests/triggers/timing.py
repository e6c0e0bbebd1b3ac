"""Putting dated information on the trading calendar, and the lag from raw to effective signals.

This docstring is the contract (README "No look-ahead", docs/architecture.md,
"Timing: no look-ahead"). Trades happen only at closes: the close of trading
day ``t`` is 16:00 America/New_York on ``t``.

Index and market information (a GPR observation, a close) dated ``d``:

- is known at the end of ``d`` and is **stamped** on the first trading day
  ``>= d`` (a Saturday observation is stamped on Monday);
- a trigger's **raw** value at trading day ``t`` uses only information stamped
  on or before ``t``;
- the **effective** value is the raw value shifted by ``lag`` trading days
  (``S[t] = raw[t - lag]``), filled with 0 / False on the first ``lag`` days.

Events (``event_positions``) have their own rule, because some carry the time
they became public (``public_at``) and some only their US-Eastern date ``D``.
Each event's **first tradable close** ``T`` is:

- with ``public_at``: the first close that is at least ``READING_TIME`` (30
  minutes) after ``public_at``: news at 15:00 ET on a trading day trades at
  that day's close, news at 15:31 or 16:05 ET at the next trading day's close,
  news on a Saturday at Monday's close;
- without it: the first close **after** the end of ``D`` (the news may have
  come after ``D``'s close, but it was public by the end of ``D``): the next
  trading day after ``D``. For a trading day ``D`` that is ``n + 1``, where
  the **stamp day** ``n`` is the first trading day ``>= D``; for a weekend or
  holiday ``D`` it is ``n`` itself (a Saturday post trades at Monday's close).

The event's **effective** day (when the signal turns on; the hedge is traded at
its close) is ``T + lag - 1``: ``lag`` (default 1) counts trading days after
the news day's close, and ``lag = 1`` is the first close at which the news is
certainly tradable. So with the default, a date-only event dated on a trading
day ``D`` is effective at ``D + 1``, one dated on a weekend on the next
trading day, and a timed event at ``T``. ``lag = k > 1`` waits ``k - 1`` more
trading days in every case. ``lag = 0`` means "the close of the news day": for
a date-only event that is ``n`` (look-ahead when the news came after that
close; it must be set explicitly; for a weekend ``D`` it equals ``lag = 1``),
and for a timed event it is ``T`` again, because no close before ``T`` could
have traded on the news.

Two caveats: the calendar has no half-days, so an early close (13:00) is
treated as 16:00; and a firing's ``raw_date`` for events is the stamp day ``n``
of its earliest event, its ``date`` the effective day. Firings (and events)
whose effective day falls after the calendar are dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from backtests.events.schema import MARKET_TZ
from backtests.params import ParamSpec
from backtests.triggers.context import EVENT_FIELDS, TriggerOutput, firings_frame


def lag_param(default: int = 1) -> ParamSpec:
    """The ``lag`` parameter every trigger has."""
    return ParamSpec(
        "int",
        default,
        help="trading days from raw to effective signal (0 = act at the close of the news day)",
        min=0,
    )


def hold_param(help_text: str) -> ParamSpec:
    """The ``hold_days`` parameter (default 1)."""
    return ParamSpec("int", 1, help=help_text, min=1)


def stamp_positions(dates: pd.Series | pd.DatetimeIndex, calendar: pd.DatetimeIndex) -> np.ndarray:
    """Position in ``calendar`` of the first trading day ``>= d`` (``len(calendar)`` if none)."""
    stamped = pd.DatetimeIndex(pd.to_datetime(dates)).normalize()
    return np.asarray(calendar.searchsorted(stamped, side="left"), dtype=np.int64)


#: Time the market is given to read a timed event before a close may trade on it.
READING_TIME = pd.Timedelta(minutes=30)
#: The US close, in ``MARKET_TZ``.
CLOSE_TIME = dt.time(16, 0)


def first_tradable_positions(
    dates: pd.Series, public_at: pd.Series, calendar: pd.DatetimeIndex
) -> np.ndarray:
    """Position in ``calendar`` of each event's first tradable close ``T`` (``len(calendar)`` if none).

    ``public_at``: tz-aware times or NaT (then the date-only rule: the first trading day after ``D``).
    """
    day = pd.DatetimeIndex(pd.to_datetime(dates)).normalize()
    stamped = np.asarray(calendar.searchsorted(day, side="right"), dtype=np.int64)
    public_at = pd.Series(pd.to_datetime(public_at, utc=True), index=None).reset_index(drop=True)
    timed = public_at.notna().to_numpy()
    if not timed.any():
        return stamped
    ready = (public_at[timed] + READING_TIME).dt.tz_convert(MARKET_TZ).dt.tz_localize(None)
    day = ready.dt.normalize()
    after_close = (ready - day) > pd.Timedelta(hours=CLOSE_TIME.hour, minutes=CLOSE_TIME.minute)
    day = day + pd.to_timedelta(after_close.astype(int), unit="D")
    out = stamped.copy()
    out[timed] = stamp_positions(pd.DatetimeIndex(day), calendar)
    return out


def event_positions(
    dates: pd.Series, public_at: pd.Series, calendar: pd.DatetimeIndex, lag: int
) -> np.ndarray:
    """Effective position of each event: ``T + lag - 1``, never before the news day's close ``n``.

    For timed events ``lag = 0`` gives ``T``. May be ``>= len(calendar)`` (after the
    calendar's end). See the module docstring.
    """
    first = first_tradable_positions(dates, public_at, calendar)
    timed = pd.Series(public_at).notna().to_numpy()
    news_day = stamp_positions(dates, calendar)
    return np.where(timed, first + max(lag - 1, 0), np.maximum(news_day, first + lag - 1))


def held(on: np.ndarray, hold_days: int) -> np.ndarray:
    """True at ``t`` when ``on`` was true on any of the last ``hold_days`` bars (``t`` included)."""
    counts = np.cumsum(np.asarray(on, dtype=np.int64))
    # counts[t] - counts[t - hold_days]: the number of true bars in the window ending at t.
    padded = np.concatenate([np.zeros(hold_days, dtype=np.int64), counts])
    return (counts - padded[: len(counts)]) > 0


def turn_on_positions(on: np.ndarray) -> np.ndarray:
    """Positions where ``on`` becomes true (the first bar counts when it is true)."""
    on = np.asarray(on, dtype=bool)
    previous = np.concatenate([[False], on[:-1]])
    return np.flatnonzero(on & ~previous)


@dataclass(frozen=True)
class RawFiring:
    """A firing at raw position ``pos``: its reason and the ``event_*`` fields of its events.

    ``raw_pos``: the day reported as ``raw_date`` when it is not ``pos`` (event
    triggers place firings at their effective day and report the stamp day).
    """

    pos: int
    reason: str
    event_fields: Mapping[str, str] = field(default_factory=lambda: dict.fromkeys(EVENT_FIELDS, ""))
    raw_pos: int | None = None


def lagged_output(
    name: str,
    calendar: pd.DatetimeIndex,
    raw_signal: np.ndarray,
    raw_release: np.ndarray,
    firings: list[RawFiring],
    lag: int,
) -> TriggerOutput:
    """Shift raw arrays by ``lag`` bars onto ``calendar`` and date the firings accordingly."""
    signal = pd.Series(np.asarray(raw_signal, dtype=float), index=calendar, name=name)
    release = pd.Series(np.asarray(raw_release, dtype=bool), index=calendar, name=name)
    rows = [
        {
            "date": calendar[f.pos + lag],
            "trigger": name,
            "raw_date": calendar[f.pos if f.raw_pos is None else f.raw_pos],
            "reason": f.reason,
            **f.event_fields,
        }
        for f in firings
        if f.pos + lag < len(calendar)
    ]
    return TriggerOutput(
        name=name,
        signal=signal.shift(lag, fill_value=0.0).rename_axis("date"),
        release=release.shift(lag, fill_value=False).astype(bool).rename_axis("date"),
        firings=firings_frame(rows),
    )


def condition_output(
    name: str,
    calendar: pd.DatetimeIndex,
    on: np.ndarray,
    lag: int,
    reason: Callable[[int], str],
) -> TriggerOutput:
    """A 0/1 trigger from a raw boolean condition: one firing per turn-on, no release."""
    on = np.asarray(on, dtype=bool)
    firings = [RawFiring(int(pos), reason(int(pos))) for pos in turn_on_positions(on)]
    return lagged_output(
        name, calendar, on.astype(float), np.zeros(len(on), dtype=bool), firings, lag
    )
