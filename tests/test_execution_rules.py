"""Shared execution rules: validation, schedules, the trade decision, sizing, late listing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtests.errors import BacktestError, UserInputError
from backtests.execution.rules import (
    CASH_SAFETY,
    CostModel,
    RebalanceRule,
    book_sell,
    listed_prices,
    mark_to_market,
    must_trade,
    plan_trades,
    row_changed,
    scheduled_days,
    size_trades,
    trades_due,
)


def test_cost_model_fractions_and_validation() -> None:
    costs = CostModel(commission_bps=10, slippage_bps=2.5)
    assert costs.commission == pytest.approx(0.001)
    assert costs.slippage == pytest.approx(0.00025)
    with pytest.raises(UserInputError, match="commission_bps"):
        CostModel(commission_bps=-1)


def test_rebalance_rule_validation() -> None:
    with pytest.raises(UserInputError, match="schedule.*one of none, daily"):
        RebalanceRule(schedule="hourly")
    with pytest.raises(UserInputError, match="drift_threshold"):
        RebalanceRule(drift_threshold=1.5)


def test_scheduled_days_first_trading_day_of_each_period() -> None:
    dates = pd.DatetimeIndex(
        [
            "2024-03-27",
            "2024-03-28",
            "2024-04-01",
            "2024-04-02",
            "2024-04-08",
            "2024-06-28",
            "2024-07-01",
        ]
    )
    assert scheduled_days(dates, "weekly").tolist() == [True, False, True, False, True, True, True]
    assert scheduled_days(dates, "monthly").tolist() == [
        True,
        False,
        True,
        False,
        False,
        True,
        True,
    ]
    assert scheduled_days(dates, "quarterly").tolist() == [
        True,
        False,
        True,
        False,
        False,
        False,
        True,
    ]
    assert scheduled_days(dates, "daily").all()
    assert scheduled_days(dates, "none").tolist() == [True] + [False] * 6


def test_weekly_schedule_across_new_year_uses_iso_weeks() -> None:
    dates = pd.DatetimeIndex(
        ["2020-12-31", "2021-01-04", "2021-01-05"]
    )  # Thu; Mon of a new ISO week
    assert scheduled_days(dates, "weekly").tolist() == [True, True, False]


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(min_value=pd.Timestamp("1950-01-01"), max_value=pd.Timestamp("2090-01-01")),
    gaps=st.lists(st.integers(0, 40), min_size=0, max_size=40),
    tz=st.sampled_from([None, "Asia/Tokyo", "America/New_York"]),
)
def test_schedules_match_the_calendar_fields(start, gaps: list[int], tz: str | None) -> None:
    """A period starts where pandas' ISO (year, week), (year, month), (year, quarter) of the
    local date differ from the previous day's (a second method: the calendar fields)."""
    dates = pd.DatetimeIndex(pd.Timestamp(start) + pd.to_timedelta(np.cumsum([0, *gaps]), unit="D"))
    if tz is not None:
        dates = dates.tz_localize(tz, nonexistent="shift_forward", ambiguous=True)
    iso = dates.isocalendar()
    fields = {
        "weekly": (iso["year"].to_numpy(), iso["week"].to_numpy()),
        "monthly": (dates.year.to_numpy(), dates.month.to_numpy()),
        "quarterly": (dates.year.to_numpy(), dates.quarter.to_numpy()),
    }
    for schedule, (major, minor) in fields.items():
        new = np.ones(len(dates), dtype=bool)
        new[1:] = (major[1:] != major[:-1]) | (minor[1:] != minor[:-1])
        assert scheduled_days(dates, schedule).tolist() == new.tolist(), schedule


def test_must_trade_reasons() -> None:
    q, p, target = np.array([1.0, 0.0]), np.array([50.0, 10.0]), np.array([0.5, 0.5])
    value = 100.0  # pre-trade weights 0.5 / 0.0 (cash 50)
    assert must_trade(True, False, False, q, p, value, target, 0.0)
    assert must_trade(False, True, False, q, p, value, target, 0.0)
    assert must_trade(False, False, True, q, p, value, target, 0.0)
    assert not must_trade(False, False, False, q, p, value, target, 0.0)
    assert must_trade(False, False, False, q, p, value, target, 0.49)
    assert not must_trade(False, False, False, q, p, value, target, 0.5)


def test_row_changed_tolerance() -> None:
    row = np.array([0.5, 0.5])
    assert not row_changed(row, row + 1e-13)
    assert row_changed(row, row + np.array([1e-11, -1e-11]))


def test_plan_trades_sells_then_trims_buys_to_cash() -> None:
    q, p = np.array([10.0, 0.0]), np.array([100.0, 50.0])  # all in A, no cash
    delta = np.empty(2)
    plan_trades(q, p, p, 0.0, np.array([0.0, 1.0]), 0.001, 0.002, delta)  # bought at today's prices
    proceeds = 10 * 100 * 0.998 * (1 - 0.001)
    assert delta[0] == -10.0
    # buy sized to the proceeds less the safety margin, at 50 * 1.002 plus commission
    expected = (proceeds - CASH_SAFETY * 1000.0) / (50 * 1.002 * 1.001)
    assert delta[1] == pytest.approx(expected, rel=1e-12)


def test_plan_trades_fractional_and_dust() -> None:
    delta = np.empty(2)
    plan_trades(
        np.zeros(2), np.zeros(2), np.array([333.33, 10.0]), 1000.0, np.array([0.5, 0.0]), 0.0, 0.0, delta
    )
    assert delta[0] == pytest.approx(500.0 / 333.33)
    plan_trades(
        np.array([1.0, 0.0]),
        np.array([100.0, 0.0]),
        np.array([100.0, 10.0]),
        0.0,
        np.array([1.0 - 1e-12, 1e-12]),
        0.0,
        0.0,
        delta,
    )
    assert delta.tolist() == [0.0, 0.0]  # both moves are below 1e-9 of the value


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0, 100), min_size=3, max_size=3),
    st.floats(0, 5000),
    st.lists(st.floats(0, 1), min_size=3, max_size=3),
    st.floats(0, 0.01),
    st.floats(0, 0.01),
)
def test_plan_trades_never_overspends(
    q: list[float], cash: float, raw: list[float], comm: float, slip: float
) -> None:
    q_arr, p = np.array(q), np.array([20.0, 35.5, 101.0])
    target = np.array(raw) / max(sum(raw), 1.0)
    delta = np.empty(3)
    plan_trades(q_arr, p * 1.3, p, cash, target, comm, slip, delta)  # bought 30% higher
    assert np.all(q_arr + delta >= 0.0)
    sells = np.clip(-delta, 0, None) * p * (1 - slip) * (1 - comm)
    buys = np.clip(delta, 0, None) * p * (1 + slip) * (1 + comm)
    assert cash + sells.sum() - buys.sum() >= 0.0


def test_listed_prices_placeholder_and_errors() -> None:
    closes = np.array([[1.0, np.nan], [2.0, np.nan], [3.0, 7.0]])
    assert listed_prices(closes).tolist() == [[1.0, 7.0], [2.0, 7.0], [3.0, 7.0]]
    dates = pd.date_range("2024-01-01", periods=3)
    with pytest.raises(
        BacktestError, match="target weight of B is 0.5 on 2024-01-02, before its first price"
    ):
        listed_prices(
            closes, np.array([[1, 0], [0.5, 0.5], [0.5, 0.5]]), names=["A", "B"], dates=dates
        )
    # A ticker listed only after the range gets the placeholder 1.0 (its target must stay 0).
    assert listed_prices(
        np.array([[1.0, np.nan], [2.0, np.nan]]), np.array([[1.0, 0.0], [1.0, 0.0]])
    ).tolist() == [
        [1.0, 1.0],
        [2.0, 1.0],
    ]
    with pytest.raises(
        BacktestError, match="target weight of B is 0.1 on 2024-01-01, before its first price"
    ):
        listed_prices(
            np.array([[1.0, np.nan]]), np.array([[0.9, 0.1]]), names=["A", "B"], dates=dates
        )


def _plain_plan(q, p, cash, target, comm, slip):
    """The sizing rule in plain Python, one configuration (README "Execution model")."""
    value = cash + sum(qi * pi for qi, pi in zip(q, p))
    delta = []
    for qi, pi, wi in zip(q, p, target):
        d = -qi if wi == 0.0 else wi * value / pi - qi
        delta.append(0.0 if abs(d) * pi < 1e-9 * value else d)
    after_sells = cash + sum(-d * pi * (1 - slip) * (1 - comm) for d, pi in zip(delta, p) if d < 0)
    buys = sum(d * pi * (1 + slip) * (1 + comm) for d, pi in zip(delta, p) if d > 0)
    budget = after_sells - CASH_SAFETY * value
    if buys > 0 and buys > budget:
        k = max(budget, 0.0) / buys
        delta = [d * k if d > 0 else d for d in delta]
        delta = [0.0 if 0 < d and d * pi < 1e-9 * value else d for d, pi in zip(delta, p)]
    return delta


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 10**6), m=st.integers(1, 9), drift=st.sampled_from([0.0, 0.02, 0.2]))
def test_block_rules_equal_the_plain_rules_per_column(seed: int, m: int, drift: float) -> None:
    """``trades_due`` and ``size_trades`` on N x M blocks: column k is configuration k on its own."""
    rng = np.random.default_rng(seed)
    n = 4
    p = rng.uniform(5, 200, n)
    q = rng.uniform(0, 50, (n, m)) * (rng.random((n, m)) > 0.2)
    cash = rng.uniform(0, 3000, m)
    target = rng.random((n, m)) * (rng.random((n, m)) > 0.3)
    target /= np.maximum(target.sum(axis=0), 1e-9) / rng.choice([1.0, 0.9], m)
    value = cash + p @ q
    changed = rng.random(m) > 0.8
    due = np.empty(m, dtype=bool)
    trades_due(False, False, changed, q, p, value, target, drift, due, np.arange(n))
    for k in range(m):
        drifted = (
            drift > 0 and np.abs(q[:, k] * p - target[:, k] * value[k]).max() > drift * value[k]
        )
        assert due[k] == (changed[k] or drifted)
        assert (
            must_trade(False, False, bool(changed[k]), q[:, k], p, value[k], target[:, k], drift)
            == due[k]
        )
    picked = rng.random(m) > 0.4
    delta = np.full((n, m), np.nan)
    avg = p[:, None] * rng.uniform(0.5, 2.0, (n, m))  # the entry prices: sells book through them
    size_trades(q, avg, p, cash, value, target, 0.001, 0.002, picked, delta, np.empty((3, m)), np.arange(n))
    for k in range(m):
        expected = (
            _plain_plan(q[:, k], p, cash[k], target[:, k], 0.001, 0.002) if picked[k] else [0.0] * n
        )
        np.testing.assert_allclose(delta[:, k], expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    m=st.integers(1, 9),
    drift=st.sampled_from([0.0, 0.02, 0.2]),
    unused=st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_block_rules_skip_tickers_nobody_holds_or_targets_to_the_bit(
    seed: int, m: int, drift: float, unused: list[bool]
) -> None:
    """Leaving out of ``rows`` the tickers no column holds or targets changes no bit of
    ``mark_to_market``, ``trades_due`` or ``size_trades`` (what the fast executor relies on)."""
    rng = np.random.default_rng(seed)
    n = 6
    p = rng.uniform(5, 200, n)
    q = rng.uniform(0, 50, (n, m)) * (rng.random((n, m)) > 0.2)
    target = rng.random((n, m)) * (rng.random((n, m)) > 0.3)
    q[unused], target[unused] = 0.0, 0.0
    target /= np.maximum(target.sum(axis=0), 1e-9) / rng.choice([1.0, 0.9], m)
    cash = rng.uniform(0, 3000, m)
    avg = p[:, None] * rng.uniform(0.5, 2.0, (n, m))
    changed, picked = rng.random(m) > 0.8, rng.random(m) > 0.4
    outcomes = []
    for rows in (np.arange(n), np.flatnonzero(~np.array(unused))):
        value, due, delta, work = np.empty(m), np.empty(m, dtype=bool), np.zeros((n, m)), np.empty((3, m))
        mark_to_market(q, p, cash, value, rows)
        trades_due(False, False, changed, q, p, value, target, drift, due, rows)
        size_trades(q, avg, p, cash, value, target, 0.001, 0.002, picked, delta, work, rows)
        outcomes.append((value, due, delta, work[0].copy()))
    (value, due, delta, after_sells), (value_skip, due_skip, delta_skip, after_sells_skip) = outcomes
    assert value.tobytes() == value_skip.tobytes()
    assert due.tobytes() == due_skip.tobytes()
    assert delta.tobytes() == delta_skip.tobytes()
    assert after_sells.tobytes() == after_sells_skip.tobytes()
    assert not delta[unused].any()
    for k in range(m):  # work[0]: the cash after the sells, booked one by one in ticker order
        booked = cash[k]
        for i in range(n):
            if delta[i, k] < 0.0:
                booked = book_sell(booked, avg[i, k], delta[i, k], p[i] * (1.0 - 0.002), 0.001)
        assert after_sells[k] == booked
