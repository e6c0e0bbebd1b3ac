"""The events file format: its columns, allowed values, and the check of one field's text.

Each ``parse_*`` function turns the raw text of one CSV cell into its typed
value or raises ``ValueError`` whose message says what is wrong and how to fix
it (the caller adds the file, line and column). ``check_public_day`` is the one
check that spans two columns: ``date`` must be the US-Eastern day of ``public_at``.

The optional ``chain``, ``stage`` and ``public_at`` columns describe one action's
steps (threat or leak -> announcement -> signing -> effective date): ``chain`` links
them, ``stage`` says which step a row is (empty = ``announced``), ``public_at`` is
the time the news first became public, with its UTC offset. Files without these
columns stay valid.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlparse

import pandas as pd

from backtests.dates import FIRST_DAY, LAST_DAY

REQUIRED_COLUMNS: tuple[str, ...] = ("date", "title", "category", "direction", "severity")
OPTIONAL_COLUMNS: tuple[str, ...] = ("countries", "assets", "source", "notes", "chain", "stage", "public_at")
ALL_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# Columns of the DataFrame returned by the loader: the file's columns plus where each row came from.
FRAME_COLUMNS: tuple[str, ...] = ALL_COLUMNS + ("origin",)

CATEGORIES: tuple[str, ...] = ("tariff", "export_control", "sanctions", "trade_talks", "military", "policy")
DIRECTIONS: tuple[str, ...] = ("escalation", "de-escalation")
STAGES: tuple[str, ...] = ("announced", "official", "effective")
DEFAULT_STAGE = "announced"
#: The time zone of the US market: ``date`` is a calendar day there, closes are at 16:00 there.
MARKET_TZ = "America/New_York"
SEVERITY_MIN = 1
SEVERITY_MAX = 5
LIST_SEPARATOR = ";"

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INTEGER = re.compile(r"[+-]?\d+")
_CHAIN = re.compile(r"[\w.:/-]+")
# A date, a time to the minute at least, and an offset (Z or +HH:MM / -HH:MM).
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})")
_PUBLIC_AT_EXAMPLE = "e.g. 2019-05-05T14:08-04:00"


def parse_event_date(text: str) -> pd.Timestamp:
    """``YYYY-MM-DD`` -> midnight Timestamp."""
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        day = pd.Timestamp(dt.date.fromisoformat(text))
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date; use YYYY-MM-DD, e.g. 2019-05-10") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{text!r} is out of range; use a date from {FIRST_DAY:%Y-%m-%d} to {LAST_DAY:%Y-%m-%d}")
    return day


def parse_category(text: str) -> str:
    """One of ``CATEGORIES`` (exact spelling)."""
    if text not in CATEGORIES:
        raise ValueError(f"unknown category {text!r}; use one of {', '.join(CATEGORIES)}")
    return text


def parse_direction(text: str) -> str:
    """One of ``DIRECTIONS`` (exact spelling)."""
    if text not in DIRECTIONS:
        raise ValueError(f"unknown direction {text!r}; use one of {', '.join(DIRECTIONS)}")
    return text


def parse_severity(text: str) -> int:
    """An integer from ``SEVERITY_MIN`` to ``SEVERITY_MAX``."""
    allowed = f"use an integer from {SEVERITY_MIN} to {SEVERITY_MAX}"
    if not _INTEGER.fullmatch(text):
        raise ValueError(f"severity {text!r} is not an integer; {allowed}")
    value = int(text)
    if not SEVERITY_MIN <= value <= SEVERITY_MAX:
        raise ValueError(f"severity {value} is out of range; {allowed}")
    return value


def parse_list(text: str) -> tuple[str, ...]:
    """``US;CN`` -> ``("US", "CN")``: stripped, empty items dropped, order kept."""
    return tuple(item.strip() for item in text.split(LIST_SEPARATOR) if item.strip())


def parse_countries(text: str) -> tuple[str, ...]:
    """Country codes, upper-cased so that ``us`` and ``US`` are the same country."""
    return tuple(code.upper() for code in parse_list(text))


def parse_source(text: str) -> str:
    """Empty, or an ``http(s)://host/...`` URL."""
    if text:
        url = urlparse(text)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ValueError(f"source {text!r} is not a web address; use a URL starting with https:// or http://")
    return text


def parse_text(text: str) -> str:
    """Free text, kept as written (already stripped by the reader)."""
    return text


def parse_title(text: str) -> str:
    """A title on one line; ``|`` is reserved (it separates the events listed behind a trigger firing)."""
    if "|" in text:
        raise ValueError("title contains '|', which is reserved as a list separator; use '/' or ','")
    if "\n" in text or "\r" in text:
        raise ValueError("title contains a line break; write the title on one line")
    return text


def parse_chain(text: str) -> str:
    """Empty, or an id without spaces (letters, digits, ``- _ . : /``), e.g. ``us-cn-301-list3-2018``."""
    if text and not _CHAIN.fullmatch(text):
        raise ValueError(
            f"chain {text!r} is not an id; use letters, digits and - _ . : / only, e.g. us-cn-301-list3-2018"
        )
    return text


def parse_stage(text: str) -> str:
    """One of ``STAGES``; empty means ``announced``."""
    if not text:
        return DEFAULT_STAGE
    if text not in STAGES:
        raise ValueError(f"unknown stage {text!r}; use one of {', '.join(STAGES)} (empty = {DEFAULT_STAGE})")
    return text


def parse_public_at(text: str) -> pd.Timestamp | None:
    """Empty (None), or an ISO 8601 time with its UTC offset -> a UTC Timestamp."""
    if not text:
        return None
    if not _ISO_TIME.fullmatch(text):
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?", text):
            raise ValueError(
                f"public_at {text!r} has no UTC offset; add it, {_PUBLIC_AT_EXAMPLE} (New York summer time)"
            )
        raise ValueError(f"public_at {text!r} is not an ISO 8601 time with offset; use {_PUBLIC_AT_EXAMPLE}")
    try:
        value = pd.Timestamp(dt.datetime.fromisoformat(text)).tz_convert("UTC")
    except ValueError:
        raise ValueError(f"public_at {text!r} is not a valid time; use {_PUBLIC_AT_EXAMPLE}") from None
    if not FIRST_DAY <= value.tz_localize(None) <= LAST_DAY:
        raise ValueError(
            f"public_at {text!r} is out of range; use a time from {FIRST_DAY:%Y-%m-%d} to {LAST_DAY:%Y-%m-%d}"
        )
    return value


def market_day(public_at: pd.Timestamp) -> pd.Timestamp:
    """The US-Eastern (``MARKET_TZ``) calendar day of a time, as a midnight tz-naive Timestamp."""
    return public_at.tz_convert(MARKET_TZ).tz_localize(None).normalize()


def format_public_at(public_at: pd.Timestamp) -> str:
    """A time as ISO 8601 in New York time with its offset, to the minute when seconds are 0."""
    local = public_at.tz_convert(MARKET_TZ).to_pydatetime()
    return local.isoformat(timespec="minutes" if local.second == 0 and local.microsecond == 0 else "seconds")


def check_public_day(date: pd.Timestamp, public_at: pd.Timestamp | None) -> None:
    """Raise ValueError when ``date`` is not the US-Eastern day of ``public_at`` (no-op without it)."""
    if public_at is None:
        return
    day = market_day(public_at)
    if day != date:
        raise ValueError(
            f"date {date:%Y-%m-%d} is not the US-Eastern day of public_at {format_public_at(public_at)}; "
            f"use {day:%Y-%m-%d} (or correct public_at)"
        )


PARSERS = {
    "date": parse_event_date,
    "title": parse_title,
    "category": parse_category,
    "direction": parse_direction,
    "severity": parse_severity,
    "countries": parse_countries,
    "assets": parse_list,
    "source": parse_source,
    "notes": parse_text,
    "chain": parse_chain,
    "stage": parse_stage,
    "public_at": parse_public_at,
}
