"""Putting dated information on the trading calendar, and the lag from raw to effective signals.

The rule (docs/architecture.md, "Timing: no look-ahead"):

- Information dated ``d`` (an event, a GPR observation, a close) is known at the
  end of ``d`` and is **stamped** on the first trading day ``>= d``; a Saturday
  event is stamped on Monday.
- A trigger's **raw** value at trading day ``t`` uses only information stamped
  on or before ``t``.
- The **effective** value is the raw value shifted by ``lag`` trading days
  (``S[t] = raw[t - lag]``), filled with 0 / False on the first ``lag`` days.
  ``lag`` defaults to 1: an event dated ``D`` (a trading day) switches the
  signal on at ``D + 1``; ``lag = 0`` means "trade at the close of the news day".
- A firing's ``raw_date`` is the day it fired raw, its ``date`` the effective
  day; firings whose effective day falls after the calendar are dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

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
    """A firing at raw position ``pos``: its reason and the ``event_*`` fields of its events."""

    pos: int
    reason: str
    event_fields: Mapping[str, str] = field(default_factory=lambda: dict.fromkeys(EVENT_FIELDS, ""))


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
            "raw_date": calendar[f.pos],
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
