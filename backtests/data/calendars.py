"""Exchange trading calendars: which names exist, and the sessions of one between two dates.

The backtest trades on the sessions of one exchange (spec key ``calendar``,
default ``XNYS``, the New York Stock Exchange). Sessions come from the
``exchange_calendars`` package, which computes them from its own holiday rules:
nothing is downloaded. A calendar is built once per process (1970-2039, or
wider by whole decades when asked), clipped to the years the package covers
for it (``bounds``).
"""

from __future__ import annotations

import functools
import warnings

import pandas as pd

from backtests.errors import UserInputError
from backtests.params import suggest

DEFAULT_CALENDAR = "XNYS"
_EXAMPLES = "XNYS (New York), XLON (London), XHKG (Hong Kong), XTKS (Tokyo)"
# One build covers these years (about as fast as a shorter one); wider requests widen it by decades.
_USUAL_YEARS = (1970, 2039)


@functools.cache
def calendar_names() -> tuple[str, ...]:
    """Every calendar name ``exchange_calendars`` knows (aliases such as ``NYSE`` included), sorted."""
    import exchange_calendars  # a third of a second: only when a calendar is really needed

    return tuple(sorted(exchange_calendars.get_calendar_names(include_aliases=True)))


def check_calendar(name: str, *, what: str = "calendar") -> str:
    """The canonical spelling of calendar ``name`` (case-insensitive); ``UserInputError`` with the nearest names."""
    names = calendar_names()
    if name in names:
        return name
    by_upper = {known.upper(): known for known in names}
    if str(name).strip().upper() in by_upper:
        return by_upper[str(name).strip().upper()]
    raise UserInputError(
        f"{what} {name!r} is not an exchange calendar{suggest(str(name).upper(), names)}; "
        f"use an exchange_calendars name such as {_EXAMPLES}"
    )


def bounds(name: str) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The first and last day ``exchange_calendars`` has rules for (None: no limit)."""
    cls = _factory(check_calendar(name))
    return cls.bound_min(), cls.bound_max()


def sessions(name: str, first: pd.Timestamp, last: pd.Timestamp) -> pd.DatetimeIndex:
    """The sessions of calendar ``name`` from ``first`` to ``last`` inclusive (within ``bounds``).

    A tz-naive ``DatetimeIndex`` at midnight, named ``date``; empty when ``last < first``.
    """
    low, high = bounds(name)
    first = first if low is None else max(first, low)
    last = last if high is None else min(last, high)
    if last < first:
        return pd.DatetimeIndex([], dtype="datetime64[ns]", name="date")
    first_year = min(_USUAL_YEARS[0], first.year // 10 * 10)
    last_year = max(_USUAL_YEARS[1], last.year // 10 * 10 + 9)
    calendar = _calendar(check_calendar(name), first_year, last_year)
    days = calendar.sessions
    days = days[(days >= first) & (days <= last)]
    return pd.DatetimeIndex(days.as_unit("ns").asi8.view("datetime64[ns]"), name="date")


def _factory(name: str):
    """The calendar's class (its bounds are class methods: no calendar is built to read them)."""
    import exchange_calendars
    from exchange_calendars.calendar_utils import _default_calendar_factories

    return _default_calendar_factories[exchange_calendars.resolve_alias(name)]


@functools.lru_cache(maxsize=16)
def _calendar(name: str, first_year: int, last_year: int):
    """The calendar over ``first_year`` to ``last_year``, clipped to its bounds (cached: one build per span)."""
    import exchange_calendars

    low, high = bounds(name)
    start = pd.Timestamp(f"{first_year}-01-01")
    end = pd.Timestamp(f"{last_year}-12-31")
    start = start if low is None else max(start, low)
    end = end if high is None else min(end, high)
    with warnings.catch_warnings():
        # exchange_calendars 4.x trips pandas 3 deprecation warnings: noise for our users.
        warnings.simplefilter("ignore", DeprecationWarning)
        return exchange_calendars.get_calendar(name, start=start, end=end)
