"""Event study numbers against returns compounded by hand on an 8-day calendar."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backtests.reports.event_study import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    DEFAULT_WINDOWS,
    MIN_BOOTSTRAP_N,
    bootstrap_interval,
    event_windows,
    fired_events,
    summarize,
    window_label,
)

CAL = pd.bdate_range("2024-01-01", periods=8, name="date")  # Mon 1 .. Wed 10 Jan
STRAT = pd.Series([0, 0.01, 0.02, -0.01, 0.03, 0, 0.01, -0.02], index=CAL)
BENCH = pd.Series([0, 0.02, -0.01, 0.01, 0, 0.01, -0.01, 0.01], index=CAL)
BASE = pd.Series([0, 0.01, 0.01, -0.01, 0.02, 0, 0.02, -0.02], index=CAL)
EVENTS = pd.DataFrame(
    {
        # Saturday 6 Jan -> anchor Monday 8 Jan (position 5); Tuesday 2 Jan -> itself (position 1)
        "date": pd.to_datetime(["2024-01-06", "2024-01-02", "2024-02-01"]),
        "title": ["Tariffs raised", "Sanctions widened", "After the data"],
        "category": ["tariff", "sanctions", "tariff"],
        "direction": ["escalation", "escalation", "escalation"],
    }
)
WINDOWS = ((-2, 0), (0, 2), (0, 5))


def _row(table: pd.DataFrame, title: str, window: str) -> pd.Series:
    match = table[(table["title"] == title) & (table["window"] == window)]
    assert len(match) == 1
    return match.iloc[0]


def test_window_labels():
    assert [window_label(w) for w in DEFAULT_WINDOWS] == ["-5→0", "0→+5", "0→+20", "0→+60"]


def test_per_event_windows_match_hand_compounding():
    table = event_windows(STRAT, BASE, BENCH, EVENTS, WINDOWS)
    assert set(table["title"]) == {
        "Tariffs raised",
        "Sanctions widened",
    }  # event after the data dropped
    sat = _row(table, "Tariffs raised", "-2→0")
    assert sat["anchor"] == pd.Timestamp("2024-01-08")
    # days 4 and 5 (Fri 5, Mon 8): strategy 1.03 * 1.00 - 1, base 1.02 * 1.00, benchmark 1.00 * 1.01
    assert sat["strategy"] == pytest.approx(0.03)
    assert sat["base"] == pytest.approx(0.02)
    assert sat["benchmark"] == pytest.approx(0.01)
    assert sat["excess_base"] == pytest.approx(1.03 / 1.02 - 1)  # relative wealth, not 0.01
    assert sat["excess_benchmark"] == pytest.approx(1.03 / 1.01 - 1)
    assert (sat["hit_base"], sat["hit_benchmark"]) == (1.0, 1.0)
    after = _row(table, "Tariffs raised", "0→+2")
    assert after["strategy"] == pytest.approx(1.01 * 0.98 - 1)  # -0.0102
    assert after["base"] == pytest.approx(1.02 * 0.98 - 1)  # -0.0004
    assert after["benchmark"] == pytest.approx(0.99 * 1.01 - 1)  # -0.0001
    assert (after["hit_base"], after["hit_benchmark"]) == (0.0, 0.0)
    assert math.isnan(_row(table, "Tariffs raised", "0→+5")["strategy"])  # runs past the last day
    early = _row(table, "Sanctions widened", "-2→0")
    assert math.isnan(early["strategy"]) and math.isnan(early["hit_base"])  # before the first day
    tue = _row(table, "Sanctions widened", "0→+2")
    assert tue["anchor"] == pd.Timestamp("2024-01-02")
    assert tue["strategy"] == pytest.approx(1.02 * 0.99 - 1)  # 0.0098
    assert tue["base"] == pytest.approx(1.01 * 0.99 - 1)  # -0.0001


def test_equal_paths_are_no_hit():
    table = event_windows(STRAT, STRAT, STRAT, EVENTS, WINDOWS)
    inside = table.dropna(subset=["strategy"])
    assert (inside["hit_base"] == 0.0).all() and (inside["excess_base"].abs() < 1e-15).all()


def test_summary_averages_skip_nan_windows():
    summary = summarize(event_windows(STRAT, BASE, BENCH, EVENTS, WINDOWS))
    overall = summary[summary["category"] == "all"].set_index("window")
    assert list(overall.index) == ["-2→0", "0→+2", "0→+5"]
    # 0→+5: only the Tuesday event fits inside the data (days 2..6)
    assert overall.loc["0→+5", "n"] == 1
    assert overall.loc["0→+5", "strategy"] == pytest.approx(1.02 * 0.99 * 1.03 * 1.00 * 1.01 - 1)
    assert overall.loc["0→+5", "benchmark"] == pytest.approx(0.99 * 1.01 * 1.00 * 1.01 * 0.99 - 1)
    assert overall.loc["0→+2", "n"] == 2
    assert overall.loc["0→+2", "strategy"] == pytest.approx((-0.0102 + 0.0098) / 2)
    assert overall.loc["0→+2", "base"] == pytest.approx((-0.0004 - 0.0001) / 2)
    assert overall.loc["0→+2", "benchmark"] == pytest.approx(-0.0001)
    # excess vs base: the mean of the per-event relative returns
    mean_excess = ((0.9898 / 0.9996 - 1) + (1.0098 / 0.9999 - 1)) / 2
    assert overall.loc["0→+2", "excess_base"] == pytest.approx(mean_excess)
    assert overall.loc["0→+2", "hit_rate_base"] == pytest.approx(0.5)
    assert overall.loc["0→+2", "hit_rate_benchmark"] == pytest.approx(0.5)
    assert math.isnan(overall.loc["0→+2", "excess_low_base"])  # N = 2 < MIN_BOOTSTRAP_N
    assert overall.loc["-2→0", "n"] == 1
    assert overall.loc["-2→0", "excess_benchmark"] == pytest.approx(1.03 / 1.01 - 1)
    tariff = summary[(summary["category"] == "tariff") & (summary["window"] == "0→+2")].iloc[0]
    assert (tariff["direction"], tariff["n"], tariff["hit_rate_base"]) == ("escalation", 1, 0.0)
    assert summary["category"].iloc[-1] == "all"


def test_bootstrap_interval_follows_the_documented_procedure():
    values = np.array([0.01, -0.02, 0.03, 0.0, 0.015, -0.005, 0.02])
    # second implementation: resample indices one row at a time from the same seeded stream
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    picks = rng.integers(0, len(values), size=(BOOTSTRAP_RESAMPLES, len(values)))
    means = sorted(float(np.mean([values[j] for j in row])) for row in picks)
    assert bootstrap_interval(values) == pytest.approx(
        (float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975)))
    )
    assert bootstrap_interval(values) == bootstrap_interval(values.copy())  # same bytes again
    assert all(math.isnan(x) for x in bootstrap_interval(values[: MIN_BOOTSTRAP_N - 1]))


@given(st.lists(st.floats(-0.5, 0.5), min_size=MIN_BOOTSTRAP_N, max_size=40))
def test_bootstrap_interval_lies_within_the_sample(sample):
    low, high = bootstrap_interval(np.array(sample))
    assert min(sample) - 1e-12 <= low <= high <= max(sample) + 1e-12
    if max(sample) == min(sample):
        assert low == pytest.approx(sample[0]) and high == pytest.approx(sample[0])


def test_fired_events_splits_joined_fields_and_finds_direction():
    firings = pd.DataFrame(
        {
            "event_dates": ["2024-01-02 | 2024-01-06", "2024-01-06", ""],
            "event_titles": ["Sanctions widened; more | Tariffs raised", "Tariffs raised", ""],
            "event_categories": ["sanctions | tariff", "tariff", ""],
        }
    )
    events = EVENTS.assign(
        direction=["de-escalation", "escalation", "escalation"],
        title=["Tariffs raised", "Sanctions widened; more", "After the data"],
    )
    out = fired_events(firings, events)
    assert list(out["title"]) == [
        "Sanctions widened; more",
        "Tariffs raised",
    ]  # ";" is no separator
    assert list(out["direction"]) == ["escalation", "de-escalation"]
    assert list(out["category"]) == ["sanctions", "tariff"]
