"""Market triggers against drawdowns, volatilities and moving averages computed by hand."""

from __future__ import annotations

import math
import statistics

import pandas as pd
import pytest

from backtests.errors import UserInputError
from backtests.triggers import evaluate
from test_triggers_support import context, weekdays


def run(closes: list[float], **table):
    calendar = weekdays("2024-01-01", len(closes))
    ctx = context(calendar, closes=pd.DataFrame({"SPY": closes}, index=calendar))
    return evaluate({"m": {"lag": 0, **table}}, ctx)["m"]


def test_drawdown_against_a_three_day_high():
    # highs 100, 110, 110, 110, 98, 120 -> drawdowns 0, 0, 10.9%, 20%, 3.1%, 0
    out = run([100, 110, 98, 88, 95, 120], type="drawdown", threshold=0.1, window_days=3)
    assert out.signal.tolist() == [0, 0, 1, 1, 0, 0]
    assert out.firings["reason"].tolist() == ["SPY 10.9% below its 3-day high (threshold 10.0%)"]


def test_drawdown_hold_and_default_lag():
    out = run(
        [100, 110, 98, 88, 95, 120, 120],
        type="drawdown",
        threshold=0.1,
        window_days=3,
        hold_days=2,
        lag=1,
    )
    assert out.signal.tolist() == [0, 0, 0, 1, 1, 1, 0]


def test_volatility_level_from_two_day_windows():
    returns = [0.01, -0.01, 0.02, 0.0]
    closes = [100.0]
    for r in returns:
        closes.append(closes[-1] * (1 + r))
    # std of two returns a, b (ddof 1) is |a - b| / sqrt(2): annualised 0.2245, 0.3367, 0.2245.
    vols = [abs(a - b) / math.sqrt(2) * math.sqrt(252) for a, b in zip(returns, returns[1:])]
    assert vols == pytest.approx([0.2245, 0.3367, 0.2245], abs=1e-4)
    out = run(closes, type="volatility", window_days=2, threshold=0.25)
    assert out.signal.tolist() == [0, 0, 0, 1, 0]
    assert out.firings["reason"].tolist() == [f"SPY 2-day annualised vol {vols[1]:.2f} > 0.25"]


def test_volatility_ratio_of_short_to_long_window():
    returns = [0.01, -0.01, 0.03, -0.03, 0.0]
    closes = [100.0]
    for r in returns:
        closes.append(closes[-1] * (1 + r))
    ratio_last = statistics.stdev(returns[-2:]) / statistics.stdev(returns[-4:])
    ratio_before = statistics.stdev(returns[2:4]) / statistics.stdev(returns[:4])
    assert ratio_before > 1.2 > ratio_last
    out = run(
        closes, type="volatility", measure="ratio", window_days=2, long_window_days=4, threshold=1.2
    )
    assert out.signal.tolist() == [0, 0, 0, 0, 1, 0]


def test_ma_cross_below_and_above():
    closes = [1, 2, 3, 4, 3, 2, 1]
    # fast(2): -, 1.5, 2.5, 3.5, 3.5, 2.5, 1.5; slow(3): -, -, 2, 3, 3.33, 3, 2
    below = run(closes, type="ma_cross", fast_days=2, slow_days=3)
    above = run(closes, type="ma_cross", fast_days=2, slow_days=3, signal_when="above")
    assert below.signal.tolist() == [0, 0, 0, 0, 0, 1, 1]
    assert above.signal.tolist() == [0, 0, 1, 1, 1, 0, 0]
    assert below.firings["reason"].tolist() == ["SPY 2-day MA 2.50 below 3-day MA 3.00"]


def test_before_listing_the_market_triggers_are_off():
    out = run([float("nan"), float("nan"), 100, 80], type="drawdown", threshold=0.1)
    assert out.signal.tolist() == [0, 0, 0, 1]


def test_unknown_ticker_is_a_user_error():
    with pytest.raises(UserInputError) as err:
        run([100, 101], type="drawdown", ticker="XYZ")
    assert str(err.value) == (
        "triggers.m.ticker = 'XYZ' is not in the price data; "
        "add it to the strategy's tickers or pick another"
    )
