"""Geopolitical event calendars: the CSV format (``schema``) and its loader/validator (``calendar``).

The curated calendars ship in ``data/events/*.csv``; users add their own files
in the same format. ``load_events`` returns the frame triggers consume.
"""

from backtests.events.calendar import append_event, filter_events, load_events, validate_file
from backtests.events.schema import ALL_COLUMNS, CATEGORIES, DIRECTIONS, REQUIRED_COLUMNS

__all__ = [
    "ALL_COLUMNS",
    "CATEGORIES",
    "DIRECTIONS",
    "REQUIRED_COLUMNS",
    "append_event",
    "filter_events",
    "load_events",
    "validate_file",
]
