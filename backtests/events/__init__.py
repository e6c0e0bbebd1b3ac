"""Geopolitical event calendars: the CSV format (``schema``), pure selection (``select``)
and the file layer that reads, validates and appends files (``calendar``).

The curated calendars ship in ``data/events/*.csv``; users add their own files
in the same format. ``calendar.load_events`` returns the frame triggers consume.
This package's ``__init__`` imports nothing, so the pure core (triggers) can use
``schema`` and ``select`` without loading the file layer.
"""
