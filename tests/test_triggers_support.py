"""Builders shared by the trigger tests (no tests here): event frames and market contexts."""

from __future__ import annotations

import pandas as pd

from backtests.events.calendar import events_frame
from backtests.triggers import MarketContext


def event(
    date: str,
    *,
    title: str = "Tariffs raised",
    category: str = "tariff",
    direction: str = "escalation",
    severity: int = 3,
    countries: tuple[str, ...] = ("US", "CN"),
    source: str = "",
) -> dict:
    """One event row with sensible defaults."""
    return {
        "date": pd.Timestamp(date),
        "title": title,
        "category": category,
        "direction": direction,
        "severity": severity,
        "countries": countries,
        "assets": (),
        "source": source,
        "notes": "",
        "origin": "test.csv:1",
    }


def context(
    calendar: pd.DatetimeIndex,
    *,
    events: list[dict] = (),
    closes: pd.DataFrame | None = None,
    gpr: pd.DataFrame | None = None,
) -> MarketContext:
    """A MarketContext on ``calendar`` (flat SPY at 100 unless ``closes`` is given)."""
    if closes is None:
        closes = pd.DataFrame({"SPY": 100.0}, index=calendar)
    return MarketContext(
        calendar=calendar, closes=closes, events=events_frame(list(events)), gpr=gpr
    )


def weekdays(start: str, periods: int) -> pd.DatetimeIndex:
    """``periods`` Monday-to-Friday dates from ``start``, index named ``date``."""
    return pd.bdate_range(start, periods=periods, name="date")
