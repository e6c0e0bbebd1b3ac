"""Hedge attribution against hand-compounded numbers and its invariants on random paths."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from helpers_runresult import make_result
from hypothesis import given
from hypothesis import strategies as st

from backtests.attribution import EPISODE_COLUMNS, attribute, in_episode

TRADE_COLUMNS = ["date", "ticker", "size", "price", "value", "commission"]
NO_TRADES = pd.DataFrame(columns=TRADE_COLUMNS)
TEMPLATE = make_result(periods=8)  # fields attribution does not read stay as they are
NO_FIRINGS = TEMPLATE.firings.iloc[0:0]


def _spec(*, trigger: str = "news", exit_mode: str = "exit", slippage_bps: float = 0.0) -> str:
    return (
        'name = "t"\n[response]\n'
        f'trigger = "{trigger}"\non_deescalation = "{exit_mode}"\n'
        f"[costs]\ncommission_bps = 0.0\nslippage_bps = {slippage_bps}\n"
    )


def _result(
    strategy,
    base,
    level,
    *,
    fraction: float = 0.5,
    bench=None,
    release=None,
    trades=NO_TRADES,
    base_trades=NO_TRADES,
    spec: str | None = None,
    firings: pd.DataFrame | None = None,
    signals: pd.DataFrame | None = None,
):
    n = len(strategy)
    cal = pd.bdate_range("2024-01-01", periods=n, name="date")
    level = pd.Series(level, index=cal, dtype=float)
    return dataclasses.replace(
        TEMPLATE,
        returns=pd.Series(strategy, index=cal, dtype=float),
        base_returns=pd.Series(base, index=cal, dtype=float),
        benchmark_returns=pd.Series(np.zeros(n) if bench is None else bench, index=cal),
        equity=pd.Series(100_000.0, index=cal),
        hedge_level=level,
        exposure=fraction * level,
        release=pd.Series(np.zeros(n, bool) if release is None else release, index=cal),
        trades=trades,
        base_trades=base_trades,
        spec_toml=spec or _spec(),
        firings=NO_FIRINGS if firings is None else firings,
        signals=pd.DataFrame(index=cal) if signals is None else signals.set_axis(cal),
    )


# Day:        0     1     2      3     4     5     6     7
STRAT = [0.00, 0.01, 0.02, -0.01, 0.03, 0.00, 0.01, -0.02]
BASE = [0.00, 0.02, -0.01, 0.01, 0.03, 0.01, -0.01, 0.01]
LEVEL = [0.0, 1.0, 1.0, 0.0, 0.0, 0.5, 1.0, 1.0]  # episode rows 1..3, then 5..7 (still open)


def test_episodes_and_metrics_match_hand_compounding():
    episodes, hedge = attribute(_result(STRAT, BASE, LEVEL, bench=BASE))
    assert list(episodes.columns) == list(EPISODE_COLUMNS)
    first, second = episodes.iloc[0], episodes.iloc[1]
    assert (first["start"], first["end"]) == (
        pd.Timestamp("2024-01-02"),
        pd.Timestamp("2024-01-04"),
    )
    assert first["trading_days"] == 3 and second["trading_days"] == 3
    assert first["strategy_return"] == pytest.approx(1.01 * 1.02 * 0.99 - 1)  # 0.019898
    assert first["base_return"] == pytest.approx(1.02 * 0.99 * 1.01 - 1)  # 0.019898 too
    assert first["excess"] == pytest.approx(0.0, abs=1e-15)
    assert first["end_reason"] == "hold expired"  # 1 -> 0 in one day, no release
    assert second["end_reason"] == "still open"
    assert second["end"] == pd.Timestamp("2024-01-10")
    assert second["strategy_return"] == pytest.approx(1.00 * 1.01 * 0.98 - 1)  # -0.0102
    assert second["base_return"] == pytest.approx(1.01 * 0.99 * 1.01 - 1)  # 0.009899
    assert second["excess"] == pytest.approx(0.9898 / 1.009899 - 1)
    assert second["benchmark_return"] == pytest.approx(second["base_return"])
    # strategy path inside episode 2: 1.0, 1.01, 0.9898 -> drawdown 0.9898 / 1.01 - 1
    assert second["strategy_max_drawdown"] == pytest.approx(0.9898 / 1.01 - 1)
    assert second["base_max_drawdown"] == pytest.approx(0.99 - 1)
    total_s = 1.01 * 1.02 * 0.99 * 1.03 * 1.00 * 1.01 * 0.98
    total_b = 1.02 * 0.99 * 1.01 * 1.03 * 1.01 * 0.99 * 1.01
    assert hedge["excess_total_return"] == pytest.approx(total_s - total_b)
    assert hedge["relative_return"] == pytest.approx(total_s / total_b - 1)
    # outside: day 0 (0 vs 0) and day 4 (0.03 vs 0.03): no excess
    assert hedge["return_outside_episodes"] == pytest.approx(0.0, abs=1e-15)
    assert hedge["return_in_episodes"] == pytest.approx(total_s / total_b - 1)
    assert hedge["time_hedged"] == pytest.approx(5 / 8)  # exposure > 0 on days 1, 2, 5, 6, 7
    assert hedge["episodes"] == 2 and hedge["days_in_episodes"] == 6
    assert hedge["best_episode_excess"] == pytest.approx(0.0, abs=1e-15)
    assert hedge["worst_episode_excess"] == pytest.approx(0.9898 / 1.009899 - 1)


def test_no_exposure_means_no_episodes():
    episodes, hedge = attribute(_result(STRAT, BASE, LEVEL, fraction=0.0))
    assert episodes.empty and list(episodes.columns) == list(EPISODE_COLUMNS)
    assert hedge["time_hedged"] == 0.0 and hedge["episodes"] == 0
    assert hedge["return_in_episodes"] == 0.0
    assert hedge["return_outside_episodes"] == pytest.approx(hedge["relative_return"])
    assert math.isnan(hedge["best_episode_excess"])


@pytest.mark.parametrize(
    ("level", "release_day", "exit_mode", "reason"),
    [
        ([0, 1, 1, 1, 0.5, 0, 0, 0], None, "exit", "step-out finished"),  # fell over days 4..5
        ([0, 1, 1, 1, 0, 0, 0, 0], None, "exit", "hold expired"),
        ([0, 1, 1, 0.5, 0, 0, 0, 0], 3, "exit", "de-escalation release"),  # release on day 3
        ([0, 1, 1, 0.5, 0, 0, 0, 0], 3, "hold", "step-out finished"),  # release ignored
        (
            [0, 0.5, 1, 0.5, 0, 0, 0, 0],
            4,
            "exit",
            "step-out finished",
        ),  # release after the fall began
    ],
)
def test_end_reason(level, release_day, exit_mode, reason):
    release = np.zeros(8, bool)
    if release_day is not None:
        release[release_day] = True
    result = _result(STRAT, BASE, level, release=release, spec=_spec(exit_mode=exit_mode))
    episodes, _ = attribute(result)
    assert list(episodes["end_reason"]) == [reason]


def _firing(day: pd.Timestamp, trigger: str, reason: str, dates: str = "", titles: str = ""):
    return {
        "date": day,
        "trigger": trigger,
        "raw_date": day,
        "reason": reason,
        "event_dates": dates,
        "event_titles": titles,
        "event_categories": "tariff" if dates else "",
        "event_sources": "",
    }


def test_start_trigger_is_the_latest_firing_of_the_driving_trigger():
    cal = pd.bdate_range("2024-01-01", periods=8, name="date")
    firings = pd.DataFrame(
        [
            _firing(cal[0], "news", "2 events", "2023-12-29 | 2023-12-30", "A | B"),
            _firing(cal[1], "gpr", "GPR 7-day mean in its top decile"),
            _firing(cal[5], "other", "not the driver"),
        ]
    )
    level = [0, 1, 0, 0, 0, 1, 1, 0]
    episodes, _ = attribute(_result(STRAT, BASE, level, firings=firings))
    first, second = episodes.iloc[0], episodes.iloc[1]
    assert (first["start_trigger"], first["start_reason"]) == ("news", "2 events")
    assert first["start_events"] == "2023-12-29 A | 2023-12-30 B"
    assert second["start_trigger"] == "news"  # held since day 0; "other" is not the driver
    # response.trigger = "": the triggers on at the start day count, a GPR firing too
    signals = pd.DataFrame({"news": [1.0, 0, 0, 0, 0, 0, 0, 0], "gpr": [0, 1.0, 1, 0, 0, 0, 0, 0]})
    any_driver = _result(
        STRAT, BASE, level, firings=firings, signals=signals, spec=_spec(trigger="")
    )
    first = attribute(any_driver)[0].iloc[0]
    assert (first["start_trigger"], first["start_events"]) == ("gpr", "")
    assert first["start_reason"] == "GPR 7-day mean in its top decile"


def test_costs_include_slippage_recovered_from_the_fill_price():
    cal = pd.bdate_range("2024-01-01", periods=8, name="date")
    slip = 0.0002  # 2 bps: a buy fills at close * 1.0002, a sell at close * 0.9998
    trades = pd.DataFrame(
        [
            [cal[1], "GLD", 100.0, 50 * (1 + slip), 100 * 50 * (1 + slip), 2.5],
            [cal[3], "GLD", -100.0, 52 * (1 - slip), 100 * 52 * (1 - slip), 2.6],
            [cal[6], "GLD", 10.0, 40 * (1 + slip), 10 * 40 * (1 + slip), 0.2],
        ],
        columns=TRADE_COLUMNS,
    )
    base_trades = pd.DataFrame(
        [[cal[2], "SPY", 1.0, 400 * (1 + slip), 400 * (1 + slip), 0.2]], columns=TRADE_COLUMNS
    )
    result = _result(
        STRAT, BASE, LEVEL, trades=trades, base_trades=base_trades, spec=_spec(slippage_bps=2.0)
    )
    episodes, hedge = attribute(result)
    # slippage = |size| * |fill - close|: 100 * 50 * slip, 100 * 52 * slip, 10 * 40 * slip
    first = 2.5 + 100 * 50 * slip + 2.6 + 100 * 52 * slip - (0.2 + 400 * slip)
    assert episodes["costs"].iloc[0] == pytest.approx(first, rel=1e-12)
    assert episodes["costs"].iloc[1] == pytest.approx(0.2 + 10 * 40 * slip, rel=1e-12)
    total = first + 0.2 + 10 * 40 * slip
    assert hedge["hedge_costs"] == pytest.approx(total, rel=1e-12)
    assert hedge["cost_drag"] == pytest.approx(total / 100_000 / (8 / 252), rel=1e-12)


returns = st.floats(min_value=-0.2, max_value=0.2, allow_nan=False)
levels = st.sampled_from([0.0, 0.0, 0.25, 1.0])


@given(st.lists(st.tuples(returns, returns, returns, levels), min_size=2, max_size=60))
def test_episodes_compound_from_rows_and_split_the_excess(rows):
    strategy, base, bench, level = (list(c) for c in zip(*rows, strict=True))
    result = _result(strategy, base, level, bench=bench)
    episodes, hedge = attribute(result)
    s = result.returns
    b = result.base_returns
    exposure = np.asarray(level) > 0
    for _, ep in episodes.iterrows():  # second method: label-sliced rows, pandas product
        rows_s = s.loc[ep["start"] : ep["end"]]
        assert len(rows_s) == ep["trading_days"]
        assert abs((1 + rows_s).prod() - 1 - ep["strategy_return"]) < 1e-9
        rows_b = b.loc[ep["start"] : ep["end"]]
        assert abs((1 + rows_b).prod() - 1 - ep["base_return"]) < 1e-9
        assert abs((1 + ep["strategy_return"]) / (1 + ep["base_return"]) - 1 - ep["excess"]) < 1e-9
    # a day is in an episode exactly when it is hedged or exiting
    previous = np.concatenate(([False], exposure[:-1]))
    assert (in_episode(result.exposure) == (exposure | previous)).all()
    inside, outside = hedge["return_in_episodes"], hedge["return_outside_episodes"]
    assert abs((1 + inside) * (1 + outside) - (1 + hedge["relative_return"])) < 1e-9
    assert abs(np.prod(1 + episodes["excess"].to_numpy()) - (1 + inside)) < 1e-9
    assert hedge["time_hedged"] == pytest.approx(exposure.mean())
    assert hedge["days_in_episodes"] == int(episodes["trading_days"].sum())
