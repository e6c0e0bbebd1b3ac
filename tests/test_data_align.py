"""Alignment policy on ragged synthetic data, by hand and as hypothesis invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtests.data.align import align_closes, to_price_data
from backtests.data.validate import price_series
from backtests.errors import UserInputError

DAY = pd.Timestamp


def _series(ticker: str, dates: list[str], values: list[float]) -> pd.Series:
    return price_series(pd.DatetimeIndex(dates), values, ticker)


RAGGED = {
    # A trades Mon-Fri except Wed and ends last; B starts late and ends first.
    "A": _series(
        "A", ["2024-01-01", "2024-01-02", "2024-01-04", "2024-01-05", "2024-01-08"], [1, 2, 4, 5, 8]
    ),
    "B": _series("B", ["2024-01-03", "2024-01-04", "2024-01-05"], [30, 40, 50]),
}


def test_union_calendar_ffill_inside_life_nan_before_and_cut_at_earliest_end():
    frame, notes = align_closes(RAGGED, None, None)
    expected = pd.DataFrame(
        {"A": [1.0, 2.0, 2.0, 4.0, 5.0], "B": [np.nan, np.nan, 30.0, 40.0, 50.0]},
        index=pd.DatetimeIndex(
            ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"], name="date"
        ),
    )
    pd.testing.assert_frame_equal(frame, expected, check_index_type=False, check_freq=False)
    assert notes == (
        "prices end on 2024-01-05 because B ends first (other tickers run to 2024-01-08)",
    )


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
        "no trading days between 2024-02-01 and 2024-01-05 for all tickers "
        "(A 2024-01-01..2024-01-08, B 2024-01-03..2024-01-05); pick dates inside these ranges"
    )


def test_to_price_data_adds_gap_notes_only_inside_the_window():
    series = {
        "A": _series("A", ["2020-01-01", "2020-03-01", "2021-01-01", "2021-01-02"], [1, 2, 3, 4])
    }
    data = to_price_data(series, DAY("2020-06-01"), None, source="cache")
    assert data.closes["A"].tolist() == [3.0, 4.0] and data.source == "cache"
    assert data.notes == ()


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
def test_no_nan_after_first_date_and_no_date_after_earliest_last(universe, start_i, data):
    earliest_last = min(s.index[-1] for s in universe.values())
    start = _DAYS[start_i]
    end = data.draw(st.sampled_from([None, *_DAYS[start_i:]]))
    try:
        frame, _ = align_closes(universe, start, end)
    except UserInputError:
        stop = earliest_last if end is None else min(end, earliest_last)
        union = pd.DatetimeIndex(sorted(set().union(*(s.index for s in universe.values()))))
        assert not ((union >= start) & (union <= stop)).any()
        return
    assert frame.index.max() <= earliest_last
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    for ticker, series in universe.items():
        life = frame.loc[frame.index >= series.index[0], ticker]
        assert not life.isna().any()
        assert frame.loc[frame.index < series.index[0], ticker].isna().all()
        # Every value shown is the ticker's last close on or before that day.
        expected = series.reindex(series.index.union(frame.index)).ffill().reindex(life.index)
        assert np.array_equal(life.to_numpy(), expected.to_numpy())
