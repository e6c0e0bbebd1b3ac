"""The events file format: its columns, allowed values, and the check of one field's text.

Each ``parse_*`` function turns the raw text of one CSV cell into its typed
value or raises ``ValueError`` whose message says what is wrong and how to fix
it (the caller adds the file, line and column).
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlparse

import pandas as pd

REQUIRED_COLUMNS: tuple[str, ...] = ("date", "title", "category", "direction", "severity")
OPTIONAL_COLUMNS: tuple[str, ...] = ("countries", "assets", "source", "notes")
ALL_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# Columns of the DataFrame returned by the loader: the file's columns plus where each row came from.
FRAME_COLUMNS: tuple[str, ...] = ALL_COLUMNS + ("origin",)

CATEGORIES: tuple[str, ...] = ("tariff", "export_control", "sanctions", "trade_talks", "military", "policy")
DIRECTIONS: tuple[str, ...] = ("escalation", "de-escalation")
SEVERITY_MIN = 1
SEVERITY_MAX = 5
LIST_SEPARATOR = ";"

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INTEGER = re.compile(r"[+-]?\d+")


def parse_event_date(text: str) -> pd.Timestamp:
    """``YYYY-MM-DD`` -> midnight Timestamp."""
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return pd.Timestamp(dt.date.fromisoformat(text))
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date; use YYYY-MM-DD, e.g. 2019-05-10") from None


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
    """A title; ``|`` is reserved (it separates the events listed behind a trigger firing)."""
    if "|" in text:
        raise ValueError("title contains '|', which is reserved as a list separator; use '/' or ','")
    return text


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
}
