"""Alignment policy (exchange sessions, carry forward, ragged ends) by hand and as hypothesis invariants."""

from __future__ import annotations

import warnings

import exchange_calendars
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtests.data.align import align_closes, to_price_data
from backtests.data.validate import price_series
from backtests.errors import UserInputError

DAY = pd.Timestamp
with warnings.catch_warnings():  # exchange_calendars trips pandas 3 deprecation warnings
    warnings.simplefilter("ignore", DeprecationWarning)
    XNYS = exchange_calendars.get_calendar("XNYS", start="2019-01-02", end="2025-12-31")


def _series(ticker: str, dates: list[str], values: list[float]) -> pd.Series:
    return price_series(pd.DatetimeIndex(dates), values, ticker)


RAGGED = {
    # A trades Mon-Fri except Wed and ends last, with a row on New Year's Day (not an XNYS
    # session); B starts late and ends first.
    "A": _series(
        "A", ["2024-01-01", "2024-01-02", "2024-01-04", "2024-01-05", "2024-01-08"], [1, 2, 4, 5, 8]
    ),
    "B": _series("B", ["2024-01-03", "2024-01-04", "2024-01-05"], [30, 40, 50]),
}


def test_sessions_ffill_inside_life_nan_before_cut_at_earliest_end_and_holiday_rows_dropped():
    frame, notes = align_closes(RAGGED, None, None)
    expected = pd.DataFrame(
        {"A": [2.0, 2.0, 4.0, 5.0], "B": [np.nan, 30.0, 40.0, 50.0]},
        index=pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"], name="date"),
    )
    pd.testing.assert_frame_equal(frame, expected, check_index_type=False, check_freq=False)
    assert notes == (
        "dropped 1 row(s) dated on days that are not XNYS sessions, so not trading days of the "
        "backtest: A 1 (first 2024-01-01); the next session carries the latest close",
        "prices end on 2024-01-05 because B ends first (other tickers run to 2024-01-08)",
    )


def test_a_hong_kong_row_on_the_fourth_of_july_does_not_make_it_a_us_trading_day():
    """Before: the calendar was the union of the tickers' days, so SPY 'traded' on 4 July 2024."""
    spy = _series("SPY", ["2024-07-02", "2024-07-03", "2024-07-05", "2024-07-08"], [100, 101, 102, 103])
    # Hong Kong trades on 4 July; it is closed on 1 July (HKSAR Establishment Day).
    hk = _series("EWH", ["2024-07-02", "2024-07-03", "2024-07-04", "2024-07-05", "2024-07-08"], [10, 11, 12, 13, 14])
    frame, notes = align_closes({"SPY": spy, "EWH": hk}, None, None)
    assert frame.index.strftime("%m-%d").tolist() == ["07-02", "07-03", "07-05", "07-08"]
    assert pd.Timestamp("2024-07-04") not in frame.index
    assert frame["SPY"].tolist() == [100.0, 101.0, 102.0, 103.0]
    assert frame["EWH"].tolist() == [10.0, 11.0, 13.0, 14.0]
    assert notes == (
        "dropped 1 row(s) dated on days that are not XNYS sessions, so not trading days of the "
        "backtest: EWH 1 (first 2024-07-04); the next session carries the latest close",
    )


def test_another_exchange_calendar_carries_tickers_forward_never_backward():
    """On XHKG, 4 July is a session (SPY carried from 3 July) and 1 July is not (SPY's row dropped)."""
    spy = _series("SPY", ["2024-06-28", "2024-07-01", "2024-07-02", "2024-07-03", "2024-07-05"], [9, 10, 11, 12, 13])
    frame, notes = align_closes({"SPY": spy}, None, None, calendar="XHKG")
    assert frame.index.strftime("%m-%d").tolist() == ["06-28", "07-02", "07-03", "07-04", "07-05"]
    assert frame["SPY"].tolist() == [9.0, 11.0, 12.0, 12.0, 13.0]
    assert notes == (
        "dropped 1 row(s) dated on days that are not XHKG sessions, so not trading days of the "
        "backtest: SPY 1 (first 2024-07-01); the next session carries the latest close",
        "1 XHKG session(s) have no close from any ticker (first 2024-07-04); every price is carried "
        "forward on them: check that the calendar fits the data",
    )


def test_unknown_calendar_is_a_user_error_with_the_nearest_names():
    with pytest.raises(UserInputError) as err:
        align_closes(RAGGED, None, None, calendar="XNSY")
    assert str(err.value).startswith("calendar 'XNSY' is not an exchange calendar (did you mean XNYS")
    frame, _ = align_closes(RAGGED, None, None, calendar="xnys")  # case does not matter
    assert len(frame) == 4


def test_window_start_carries_the_last_price_from_before_the_window():
    frame, notes = align_closes(RAGGED, DAY("2024-01-03"), DAY("2024-01-04"))
    assert frame.index.strftime("%d").tolist() == ["03", "04"]
    assert frame["A"].tolist() == [
        2.0,
        4.0,
    ]  # 01-03 is not an A trading day: A's 01-02 close carries
    assert notes == ()  # the window ends before any ticker does


def test_empty_window_is_a_user_error_showing_the_ranges():
    with pytest.raises(UserInputError) as err:
        align_closes(RAGGED, DAY("2024-02-01"), None)
    assert str(err.value) == (
        "no XNYS session between 2024-02-01 and 2024-01-05 for all tickers "
        "(A 2024-01-01..2024-01-08, B 2024-01-03..2024-01-05); pick dates inside these ranges"
    )


def test_to_price_data_adds_gap_notes_only_inside_the_window():
    series = {
        "A": _series("A", ["2020-01-02", "2020-03-02", "2020-06-01", "2020-06-02"], [1, 2, 3, 4])
    }
    data = to_price_data(series, DAY("2020-06-01"), None, source="cache")
    assert data.closes["A"].tolist() == [3.0, 4.0] and data.source == "cache"
    assert data.notes == ()


def test_price_data_knows_each_tickers_own_first_and_last_date():
    """B ends first, so the frame stops on 01-05, but A's own prices run to 01-08."""
    data = to_price_data(RAGGED, DAY("2024-01-02"), None, source="cache")
    assert data.first_dates().to_dict() == {"A": DAY("2024-01-02"), "B": DAY("2024-01-03")}
    assert data.last_dates().to_dict() == {"A": DAY("2024-01-08"), "B": DAY("2024-01-05")}
    assert data.closes.index[-1] == DAY("2024-01-05")


_DAYS = pd.bdate_range("2020-01-01", periods=25)


@st.composite
def ragged_universe(draw):
    count = draw(st.integers(1, 4))
    universe = {}
    for i in range(count):
        mask = draw(st.lists(st.booleans(), min_size=len(_DAYS), max_size=len(_DAYS)))
        dates = _DAYS[np.array(mask)]
        if len(dates) == 0:
            dates = _DAYS[[draw(st.integers(0, len(_DAYS) - 1))]]
        values = draw(st.lists(st.floats(0.01, 1e6), min_size=len(dates), max_size=len(dates)))
        universe[f"T{i}"] = _series(f"T{i}", list(dates), values)
    return universe


@settings(max_examples=100, deadline=None)
@given(universe=ragged_universe(), start_i=st.integers(0, len(_DAYS) - 1), data=st.data())
def test_rows_are_the_xnys_sessions_with_each_tickers_latest_close(universe, start_i, data):
    """_DAYS holds two days that are not XNYS sessions: 2020-01-01 and 2020-01-20 (MLK day).
    Expected sessions come straight from exchange_calendars (a second implementation)."""
    earliest_last = min(s.index[-1] for s in universe.values())
    earliest_first = min(s.index[0] for s in universe.values())
    start = _DAYS[start_i]
    end = data.draw(st.sampled_from([None, *_DAYS[start_i:]]))
    stop = earliest_last if end is None else min(end, earliest_last)
    begin = max(start, earliest_first)
    expected_days = XNYS.sessions_in_range(begin, stop) if begin <= stop else pd.DatetimeIndex([])
    try:
        frame, notes = align_closes(universe, start, end)
    except UserInputError:
        assert len(expected_days) == 0
        return
    assert frame.index.equals(pd.DatetimeIndex(expected_days, name="date"))
    assert frame.index.max() <= earliest_last
    off = {
        t: s.index[(s.index >= begin) & (s.index <= stop) & ~s.index.isin(expected_days)]
        for t, s in universe.items()
    }
    assert any(n.startswith("dropped ") for n in notes) == any(len(v) for v in off.values())
    for ticker, series in universe.items():
        life = frame.loc[frame.index >= series.index[0], ticker]
        assert not life.isna().any()
        assert frame.loc[frame.index < series.index[0], ticker].isna().all()
        # Every value shown is the ticker's last close on or before that day (never a later one).
        expected = series.reindex(series.index.union(frame.index)).ffill().reindex(life.index)
        assert np.array_equal(life.to_numpy(), expected.to_numpy())
