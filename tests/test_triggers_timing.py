"""The no-look-ahead oracle: stamping on the trading calendar and the lag from raw to effective."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from backtests.triggers import evaluate
from backtests.triggers.timing import held, stamp_positions, turn_on_positions
from test_triggers_support import context, event, weekdays

CAL = weekdays("2024-01-01", 15)  # Mon 2024-01-01 .. Fri 2024-01-19
CRASH = pd.Timestamp("2024-01-10")  # a Wednesday


def _crash_context():
    closes = pd.DataFrame({"SPY": np.where(CAL < CRASH, 100.0, 80.0)}, index=CAL)
    return context(CAL, events=[event("2024-01-10", title="Export controls")], closes=closes)


def test_event_on_crash_day_is_effective_the_next_trading_day():
    out = evaluate({"e": {"type": "event"}}, _crash_context())["e"]
    assert out.signal[CRASH] == 0.0
    assert out.signal[pd.Timestamp("2024-01-11")] == 1.0
    assert out.signal.sum() == 1.0
    row = out.firings.iloc[0]
    assert (row["date"], row["raw_date"]) == (pd.Timestamp("2024-01-11"), CRASH)


def test_raw_signal_before_the_event_is_zero_and_lag_zero_is_same_day():
    out = evaluate({"e": {"type": "event", "lag": 0}}, _crash_context())["e"]
    assert out.signal[pd.Timestamp("2024-01-09")] == 0.0
    assert out.signal[CRASH] == 1.0


def test_drawdown_on_crash_day_is_effective_the_next_trading_day():
    out = evaluate({"d": {"type": "drawdown", "threshold": 0.1}}, _crash_context())["d"]
    assert out.signal[CRASH] == 0.0
    assert out.signal[pd.Timestamp("2024-01-11")] == 1.0


def test_saturday_event_is_stamped_on_monday():
    ctx = context(CAL, events=[event("2024-01-13")])
    signal = evaluate({"e": {"type": "event", "lag": 0}}, ctx)["e"].signal
    assert signal[signal > 0].index.tolist() == [pd.Timestamp("2024-01-15")]


def test_lag_three_shifts_by_three_trading_days_across_a_weekend():
    ctx = context(CAL, events=[event("2024-01-11")])  # Thursday
    signal = evaluate({"e": {"type": "event", "lag": 3}}, ctx)["e"].signal
    assert signal[signal > 0].index.tolist() == [pd.Timestamp("2024-01-16")]  # Fri, Mon, Tue


def test_stamp_positions_past_the_end_point_beyond_the_calendar():
    dates = pd.to_datetime(["2023-12-31", "2024-01-01", "2024-01-06", "2024-01-20"])
    assert stamp_positions(dates, CAL).tolist() == [0, 0, 5, 15]


def test_held_and_turn_on_positions():
    on = np.array([0, 1, 0, 0, 0, 1, 1, 0], dtype=bool)
    assert held(on, 3).astype(int).tolist() == [0, 1, 1, 1, 0, 1, 1, 1]
    assert held(on, 1).tolist() == on.tolist()
    assert turn_on_positions(np.array([1, 1, 0, 1], dtype=bool)).tolist() == [0, 3]


@given(st.lists(st.booleans(), max_size=40), st.integers(1, 6))
def test_held_matches_a_direct_window_scan(on, hold_days):
    expected = [any(on[max(0, t - hold_days + 1) : t + 1]) for t in range(len(on))]
    assert held(np.array(on, dtype=bool), hold_days).tolist() == expected
