"""Exchange trading calendars: which names exist, and the sessions of one between two dates.

The backtest trades on the sessions of one exchange (spec key ``calendar``,
default ``XNYS``, the New York Stock Exchange). Sessions come from the
``exchange_calendars`` package, which computes them from its own holiday rules:
nothing is downloaded. A calendar is built over 1970-2039 (or wider by whole
decades when asked), clipped to the years the package covers for it (``bounds``).

Importing the package and building a calendar take about a second, so what is
read from it (the names, each calendar's bounds, its sessions over a span) is
remembered as small JSON files under the default data directory
(``$BACKTEST_DATA_DIR``, else ``~/.cache/geohedge``; a command's ``--data-dir`` does
not move it: the memo depends only on the installed package, not on any data),
``calendars/exchange_calendars-<version>/``: one file per question (the calendar
name percent-encoded, so ``24/7`` stays one file), written atomically, keyed by the
installed version (an upgrade computes afresh). A missing, unreadable, corrupt or
wrongly shaped file is computed again; a data directory that cannot be written only
costs the second.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import urllib.parse
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from backtests.atomic import atomic_write_text
from backtests.errors import UserInputError
from backtests.params import suggest
from backtests.paths import data_dir

DEFAULT_CALENDAR = "XNYS"
_EXAMPLES = "XNYS (New York), XLON (London), XHKG (Hong Kong), XTKS (Tokyo)"
# One build covers these years (about as fast as a shorter one); wider requests widen it by decades.
_USUAL_YEARS = (1970, 2039)


def _remembered(file: str, compute: Callable[[], Any], valid: Callable[[Any], bool]) -> Any:
    """``compute()`` (JSON-able), read back from the data directory's memo when it is there and
    ``valid`` (else computed and written again)."""
    try:
        folder = data_dir() / "calendars" / f"exchange_calendars-{importlib.metadata.version('exchange_calendars')}"
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a dependency of the project
        return compute()
    path = folder / urllib.parse.quote(file, safe="")
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
        if valid(value):
            return value
    except (OSError, ValueError):
        pass
    value = compute()
    try:
        atomic_write_text(path, json.dumps(value, separators=(",", ":")))
    except OSError:
        pass  # read-only or full data directory: the memo is only a shortcut
    return value


@functools.cache
def calendar_names() -> tuple[str, ...]:
    """Every calendar name ``exchange_calendars`` knows (aliases such as ``NYSE`` included), sorted."""

    def compute() -> list[str]:
        import exchange_calendars  # a second with its imports: only when nothing is remembered

        return sorted(exchange_calendars.get_calendar_names(include_aliases=True))

    return tuple(_remembered("names.json", compute, _strings))


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


@functools.cache
def bounds(name: str) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The first and last day ``exchange_calendars`` has rules for (None: no limit)."""
    name = check_calendar(name)

    def compute() -> list[str | None]:
        cls = _factory(name)
        return [None if day is None else f"{pd.Timestamp(day):%Y-%m-%d}" for day in (cls.bound_min(), cls.bound_max())]

    low, high = _remembered(
        f"{name}.bounds.json", compute, lambda v: isinstance(v, list) and len(v) == 2 and _strings([d for d in v if d])
    )
    return tuple(None if day is None else pd.Timestamp(day) for day in (low, high))


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
    days = _session_days(check_calendar(name), first_year, last_year)
    return days[(days >= first) & (days <= last)]


def _factory(name: str):
    """The calendar's class (its bounds are class methods: no calendar is built to read them)."""
    import exchange_calendars
    from exchange_calendars.calendar_utils import _default_calendar_factories

    return _default_calendar_factories[exchange_calendars.resolve_alias(name)]


@functools.lru_cache(maxsize=16)
def _session_days(name: str, first_year: int, last_year: int) -> pd.DatetimeIndex:
    """The sessions over ``first_year`` to ``last_year``, clipped to the bounds (remembered as
    days since 1970-01-01), as ``sessions`` returns them."""

    def compute() -> list[int]:
        import exchange_calendars

        low, high = bounds(name)
        start = pd.Timestamp(f"{first_year}-01-01")
        end = pd.Timestamp(f"{last_year}-12-31")
        start = start if low is None else max(start, low)
        end = end if high is None else min(end, high)
        with warnings.catch_warnings():
            # exchange_calendars 4.x trips pandas 3 deprecation warnings: noise for our users.
            warnings.simplefilter("ignore", DeprecationWarning)
            days = exchange_calendars.get_calendar(name, start=start, end=end).sessions
        return days.as_unit("ns").asi8.view("datetime64[ns]").astype("datetime64[D]").astype(np.int64).tolist()

    days = _remembered(
        f"{name}-{first_year}-{last_year}.sessions.json",
        compute,
        lambda v: isinstance(v, list) and all(isinstance(d, int) for d in v),
    )
    return pd.DatetimeIndex(np.asarray(days, dtype="datetime64[D]").astype("datetime64[ns]"), name="date")


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
