"""Parsing of user-given dates into tz-naive, normalised pandas Timestamps."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from backtests.errors import UserInputError

#: The days a nanosecond pandas timestamp can hold (every date index here is one): 1677-09-22 to 2262-04-11.
FIRST_DAY, LAST_DAY = pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D")


def parse_date(value: str | dt.date | pd.Timestamp | None, *, what: str = "date") -> pd.Timestamp | None:
    """Parse ``YYYY-MM-DD`` (or a date object) into a midnight Timestamp; ``None`` passes through.

    Raises UserInputError naming ``what`` (e.g. ``--start``) for anything else.
    """
    if value is None or value == "":
        return None
    if isinstance(value, (dt.date, pd.Timestamp)):
        stamp = pd.Timestamp(value).tz_localize(None).normalize()
    else:
        try:
            stamp = pd.Timestamp(dt.date.fromisoformat(str(value).strip()))
        except ValueError:
            raise UserInputError(f"{what}: {value!r} is not a date; use YYYY-MM-DD, e.g. 2019-05-10") from None
    if not FIRST_DAY <= stamp <= LAST_DAY:
        raise UserInputError(
            f"{what}: {value!r} is out of range; use a date from {FIRST_DAY:%Y-%m-%d} to {LAST_DAY:%Y-%m-%d}"
        )
    return stamp


def check_range(start: pd.Timestamp | None, end: pd.Timestamp | None) -> None:
    """Raise UserInputError when ``start`` is not before ``end``."""
    if start is not None and end is not None and start >= end:
        raise UserInputError(
            f"--start {start.date()} is not before --end {end.date()}; give a start earlier than the end"
        )
