"""Exchange calendars: sessions computed offline, names checked with suggestions, the spec key."""

from __future__ import annotations

import re
import socket

import pandas as pd
import pytest

from backtests.data import calendars
from backtests.data.align import align_closes
from backtests.data.frames import PriceData
from backtests.data.validate import price_series
from backtests.errors import UserInputError
from backtests.strategy import load_spec

DAY = pd.Timestamp


def test_sessions_are_computed_without_any_network(monkeypatch):
    """exchange_calendars must not download anything: every socket is refused while building."""

    def refused(*args, **kwargs):
        raise AssertionError("a calendar tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refused)
    monkeypatch.setattr(socket, "create_connection", refused)
    _forget_in_process()
    us = calendars.sessions("XNYS", DAY("2024-07-01"), DAY("2024-07-08"))
    hk = calendars.sessions("XHKG", DAY("2024-07-01"), DAY("2024-07-08"))
    # By hand: NYSE closed on Independence Day (Thu 4 July); Hong Kong on 1 July (HKSAR day).
    assert us.strftime("%m-%d").tolist() == ["07-01", "07-02", "07-03", "07-05", "07-08"]
    assert hk.strftime("%m-%d").tolist() == ["07-02", "07-03", "07-04", "07-05", "07-08"]
    assert us.name == "date" and us.dtype == "datetime64[ns]" and us.tz is None


def _forget_in_process() -> None:
    for memo in (calendars.calendar_names, calendars.bounds, calendars._session_days):
        memo.cache_clear()


def test_what_is_read_from_exchange_calendars_is_remembered_in_the_data_dir(monkeypatch, tmp_path):
    """The second process (in-process caches cleared) reads names, bounds and sessions from the memo
    files and never calls exchange_calendars; a corrupt memo file is computed again."""
    import importlib.metadata
    import sys

    monkeypatch.setenv("BACKTEST_DATA_DIR", str(tmp_path))
    _forget_in_process()
    first = calendars.sessions("XNYS", DAY("2024-07-01"), DAY("2024-07-08"))
    folder = tmp_path / "calendars" / f"exchange_calendars-{importlib.metadata.version('exchange_calendars')}"
    assert sorted(p.name for p in folder.iterdir()) == [
        "XNYS-1970-2039.sessions.json",
        "XNYS.bounds.json",
        "names.json",
    ]
    _forget_in_process()
    monkeypatch.setitem(sys.modules, "exchange_calendars", None)  # any import of it now fails
    again = calendars.sessions("XNYS", DAY("2024-07-01"), DAY("2024-07-08"))
    assert again.equals(first) and again.strftime("%m-%d").tolist() == ["07-01", "07-02", "07-03", "07-05", "07-08"]
    assert calendars.check_calendar("nyse") == "NYSE"
    monkeypatch.delitem(sys.modules, "exchange_calendars")
    (folder / "XNYS-1970-2039.sessions.json").write_text("[1, 2,", encoding="utf-8")
    _forget_in_process()
    assert calendars.sessions("XNYS", DAY("2024-07-01"), DAY("2024-07-08")).equals(first)


def test_a_memo_of_the_wrong_shape_is_computed_again_and_a_slash_in_a_name_stays_one_file(monkeypatch, tmp_path):
    import importlib.metadata

    monkeypatch.setenv("BACKTEST_DATA_DIR", str(tmp_path))
    _forget_in_process()
    first = calendars.sessions("24/7", DAY("2024-07-01"), DAY("2024-07-03"))
    assert first.strftime("%m-%d").tolist() == ["07-01", "07-02", "07-03"]  # by hand: every day
    folder = tmp_path / "calendars" / f"exchange_calendars-{importlib.metadata.version('exchange_calendars')}"
    assert all(p.is_file() for p in folder.iterdir())  # no "24/" subfolder
    assert "24%2F7.bounds.json" in {p.name for p in folder.iterdir()}
    (folder / "24%2F7.bounds.json").write_text("{}", encoding="utf-8")  # valid JSON, wrong shape
    _forget_in_process()
    assert calendars.sessions("24/7", DAY("2024-07-01"), DAY("2024-07-03")).equals(first)
    assert (folder / "24%2F7.bounds.json").read_text(encoding="utf-8").startswith("[")  # written again


def test_a_data_dir_that_cannot_be_written_only_costs_time(monkeypatch, tmp_path):
    """The memo is a shortcut: with the data dir blocked by a file, sessions are still computed."""
    blocked = tmp_path / "file"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("BACKTEST_DATA_DIR", str(blocked))
    _forget_in_process()
    days = calendars.sessions("XHKG", DAY("2024-07-01"), DAY("2024-07-08"))
    assert days.strftime("%m-%d").tolist() == ["07-02", "07-03", "07-04", "07-05", "07-08"]


def test_long_histories_are_covered_for_the_real_data():
    """SPY's real history starts 1993-01-29: the calendar reaches that far (by hand: 29 Jan 1993
    was a Friday, the next session Monday 1 Feb)."""
    days = calendars.sessions("XNYS", DAY("1993-01-29"), DAY("1993-02-01"))
    assert days.strftime("%Y-%m-%d").tolist() == ["1993-01-29", "1993-02-01"]
    closure = calendars.sessions("XNYS", DAY("2001-09-10"), DAY("2001-09-17"))
    assert closure.strftime("%m-%d").tolist() == ["09-10", "09-17"]  # closed 11-14 September 2001


def test_calendar_names_are_case_insensitive_and_typos_get_the_nearest_names():
    assert calendars.check_calendar("xhkg") == "XHKG" and calendars.check_calendar("NYSE") == "NYSE"
    with pytest.raises(UserInputError) as err:
        calendars.check_calendar("XHGK")
    assert re.match(r"calendar 'XHGK' is not an exchange calendar \(did you mean [^)]*\bXHKG\b", str(err.value))
    assert "\n" not in str(err.value)


def test_a_window_beyond_the_calendars_rules_is_noted():
    """exchange_calendars records Shanghai holidays only from 1990-12-03."""
    series = price_series(pd.bdate_range("1990-11-26", "1990-12-07"), [1.0] * 10, "A")
    frame, notes = align_closes({"A": series}, None, None, calendar="XSHG")
    assert frame.index[0] == DAY("1990-12-03")
    assert "the XSHG calendar has no sessions before 1990-12-03; prices there are not used" in notes


def test_the_strategy_key_calendar_defaults_to_xnys_and_is_checked():
    assert load_spec("tariff-shock-hedge").data["calendar"] == "XNYS"
    assert load_spec("tariff-shock-hedge", overrides=["calendar=xlon"]).data["calendar"] == "XLON"
    with pytest.raises(UserInputError, match=r"calendar 'XNSY' is not an exchange calendar \(did you mean XNYS"):
        load_spec("tariff-shock-hedge", overrides=["calendar=XNSY"])


def test_price_data_without_spans_reads_first_and_last_dates_off_the_closes():
    closes = pd.DataFrame(
        {"A": [1.0, 2.0, 3.0], "B": [float("nan"), 5.0, 6.0]},
        index=pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-04"], name="date"),
    )
    data = PriceData(closes=closes, source="test")
    assert data.first_dates().to_dict() == {"A": DAY("2024-01-02"), "B": DAY("2024-01-03")}
    assert data.last_dates().to_dict() == {"A": DAY("2024-01-04"), "B": DAY("2024-01-04")}
