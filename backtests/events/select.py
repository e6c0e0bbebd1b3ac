"""Selecting events (pure): the filters shared by event triggers and ``backtest events list``.

No file access here: triggers import this module, never the file layer in
``backtests.events.calendar``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import pandas as pd

from backtests.dates import parse_date
from backtests.errors import UserInputError
from backtests.events.schema import CATEGORIES, DIRECTIONS, STAGES


def _check_allowed(values: Iterable[str], allowed: Sequence[str], what: str) -> list[str]:
    values = list(values)
    for value in values:
        if value not in allowed:
            raise UserInputError(f"unknown {what} {value!r}; use one of {', '.join(allowed)}")
    return values


def filter_events(
    events: pd.DataFrame,
    *,
    categories: Iterable[str] | None = None,
    directions: Iterable[str] | None = None,
    min_severity: int | None = None,
    countries: Iterable[str] | None = None,
    keywords: Iterable[str] | None = None,
    stages: Iterable[str] | None = None,
    since: str | dt.date | pd.Timestamp | None = None,
    until: str | dt.date | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """The events matching every given filter (None or empty: no filter), index reset.

    ``countries`` keeps events naming any of them (case-insensitive); ``keywords``
    keeps events whose title contains any of them (case-insensitive); ``stages``
    keeps events at any of those stages; ``since`` and ``until`` are inclusive.
    """
    mask = pd.Series(True, index=events.index)
    if categories:
        mask &= events["category"].isin(_check_allowed(categories, CATEGORIES, "category"))
    if directions:
        mask &= events["direction"].isin(_check_allowed(directions, DIRECTIONS, "direction"))
    if min_severity is not None:
        mask &= events["severity"] >= min_severity
    if countries:
        wanted = {c.strip().upper() for c in countries}
        mask &= events["countries"].map(lambda named: not wanted.isdisjoint(named)).astype(bool)
    if keywords:
        words = [k.casefold() for k in keywords]
        mask &= events["title"].map(lambda title: any(w in title.casefold() for w in words)).astype(bool)
    if stages:
        mask &= events["stage"].isin(_check_allowed(stages, STAGES, "stage"))
    start, end = parse_date(since, what="since"), parse_date(until, what="until")
    if start is not None:
        mask &= events["date"] >= start
    if end is not None:
        mask &= events["date"] <= end
    return events.loc[mask].reset_index(drop=True)
