"""What every trigger reads (``MarketContext``) and returns (``TriggerOutput``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

FIRING_COLUMNS: tuple[str, ...] = (
    "date",
    "trigger",
    "raw_date",
    "reason",
    "event_dates",
    "event_titles",
    "event_categories",
    "event_sources",
)
# firings column -> events column it joins with ";".
EVENT_FIELDS: Mapping[str, str] = {
    "event_dates": "date",
    "event_titles": "title",
    "event_categories": "category",
    "event_sources": "source",
}


@dataclass(frozen=True)
class MarketContext:
    """The data triggers may look at.

    ``calendar``: the backtest's trading days. ``closes``: ``date x ticker``
    adjusted closes on that calendar. ``events``: the event frame of
    ``backtests.events.calendar.load_events``. ``gpr``: columns ``gpr``,
    ``gpr_acts``, ``gpr_threats`` on a calendar-day index, or ``None``.
    """

    calendar: pd.DatetimeIndex
    closes: pd.DataFrame
    events: pd.DataFrame
    gpr: pd.DataFrame | None = None


@dataclass(frozen=True)
class TriggerOutput:
    """One trigger's effective (already lagged) output on ``ctx.calendar``.

    ``signal``: float in [0, 1]; ``release``: bool, a de-escalation the response
    layer may use to end a hedge early; ``firings``: one row per firing with
    ``FIRING_COLUMNS``.
    """

    name: str
    signal: pd.Series
    release: pd.Series
    firings: pd.DataFrame


#: Joins the events behind a firing in its ``event_*`` fields. Titles may contain ``;``
#: (the curated calendar does), so the separator is one the events schema forbids in titles.
EVENT_SEPARATOR = " | "


def split_events(value: object) -> list[str]:
    """The items of one ``event_*`` firing field (empty list for an empty field)."""
    return [] if value is None or pd.isna(value) or value == "" else str(value).split(EVENT_SEPARATOR)


def join_events(events: pd.DataFrame | None) -> dict[str, str]:
    """The ``event_*`` firing fields for ``events``: each column joined by ``EVENT_SEPARATOR``."""
    if events is None or events.empty:
        return {field: "" for field in EVENT_FIELDS}
    out = {}
    for field, column in EVENT_FIELDS.items():
        values = events[column] if column in events.columns else pd.Series([""] * len(events))
        if column == "date":
            out[field] = EVENT_SEPARATOR.join(f"{pd.Timestamp(v):%Y-%m-%d}" for v in values)
        else:
            out[field] = EVENT_SEPARATOR.join("" if pd.isna(v) else str(v) for v in values)
    return out


def firings_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A firings frame with exactly ``FIRING_COLUMNS`` (dates ``datetime64[ns]``), maybe empty."""
    rows = list(rows)
    columns: dict[str, Any] = {}
    for column in FIRING_COLUMNS:
        values = [row[column] for row in rows]
        if column in ("date", "raw_date"):
            columns[column] = pd.DatetimeIndex(values, dtype="datetime64[ns]")
        else:
            columns[column] = pd.Series(values, dtype="str")
    return pd.DataFrame(columns)
