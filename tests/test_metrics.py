"""Metrics: a hand-computed example, quantstats 0.0.86 as the second method, and invariants."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import quantstats as qs
from hypothesis import given, settings
from hypothesis import strategies as st

from backtests.metrics import METRIC_KEYS, summary_metrics, summary_metrics_matrix


def test_hand_computed_example() -> None:
    returns = pd.Series(
        [0.10, -0.20, 0.05], index=pd.to_datetime(["2020-01-01", "2020-07-01", "2021-01-01"])
    )
    m = summary_metrics(returns, periods=4)
    assert list(m) == list(METRIC_KEYS)
    assert m["total_return"] == pytest.approx(1.1 * 0.8 * 1.05 - 1)  # -0.076
    assert m["cagr"] == pytest.approx(0.924 ** (365.25 / 366) - 1)  # 2020 is a leap year: 366 days
    mean, std = (
        -0.05 / 3,
        math.sqrt(((0.10 + 0.05 / 3) ** 2 + (-0.20 + 0.05 / 3) ** 2 + (0.05 + 0.05 / 3) ** 2) / 2),
    )
    assert m["volatility"] == pytest.approx(std * 2)
    assert m["sharpe"] == pytest.approx(mean / std * 2)
    assert m["sortino"] == pytest.approx(mean / math.sqrt(0.04 / 3) * 2)
    assert m["max_drawdown"] == pytest.approx(0.88 / 1.1 - 1)  # peak 1.10, trough 0.88
    assert m["calmar"] == pytest.approx(m["cagr"] / 0.2)
    assert (m["best_day"], m["worst_day"]) == (0.10, -0.20)


def test_first_day_loss_counts_in_drawdown() -> None:
    returns = pd.Series([-0.1, 0.05], index=pd.bdate_range("2024-01-01", periods=2))
    assert summary_metrics(returns)["max_drawdown"] == pytest.approx(-0.1)


def test_zero_denominators_are_nan() -> None:
    m = summary_metrics(
        pd.Series([0.01, 0.01, 0.01], index=pd.bdate_range("2024-01-01", periods=3))
    )
    assert math.isnan(m["sharpe"]) and math.isnan(m["sortino"]) and math.isnan(m["calmar"])
    assert m["max_drawdown"] == 0.0


@pytest.fixture(scope="module")
def noisy_returns() -> pd.Series:
    rng = np.random.default_rng(42)
    return pd.Series(
        rng.normal(0.0004, 0.012, 1500), index=pd.bdate_range("2018-01-01", periods=1500)
    )


def test_agrees_with_quantstats(noisy_returns: pd.Series) -> None:
    m = summary_metrics(noisy_returns)
    assert m["sharpe"] == pytest.approx(qs.stats.sharpe(noisy_returns), rel=1e-10)
    assert m["sortino"] == pytest.approx(qs.stats.sortino(noisy_returns), rel=1e-10)
    assert m["volatility"] == pytest.approx(qs.stats.volatility(noisy_returns), rel=1e-10)
    assert m["max_drawdown"] == pytest.approx(qs.stats.max_drawdown(noisy_returns), rel=1e-10)
    assert m["total_return"] == pytest.approx(qs.stats.comp(noisy_returns), rel=1e-10)
    assert (m["best_day"], m["worst_day"]) == (
        qs.stats.best(noisy_returns),
        qs.stats.worst(noisy_returns),
    )


def test_cagr_uses_calendar_years_where_quantstats_uses_trading_periods(
    noisy_returns: pd.Series,
) -> None:
    m = summary_metrics(noisy_returns)
    years = (noisy_returns.index[-1] - noisy_returns.index[0]).days / 365.25
    assert m["cagr"] == pytest.approx((1 + m["total_return"]) ** (1 / years) - 1, rel=1e-12)
    # quantstats counts len / 252 years; with the matrix default (T / periods) the two agree
    matrix = summary_metrics_matrix(noisy_returns.to_numpy()[None, :])
    assert matrix["cagr"][0] == pytest.approx(qs.stats.cagr(noisy_returns), rel=1e-10)


def test_matrix_rows_equal_series_version(noisy_returns: pd.Series) -> None:
    rows = np.vstack(
        [noisy_returns.to_numpy(), noisy_returns.to_numpy()[::-1], noisy_returns.to_numpy() * 2]
    )
    years = (noisy_returns.index[-1] - noisy_returns.index[0]).days / 365.25
    matrix = summary_metrics_matrix(rows, years=years)
    for c, row in enumerate(rows):
        single = summary_metrics(pd.Series(row, index=noisy_returns.index))
        for key in METRIC_KEYS:
            assert matrix[key][c] == pytest.approx(single[key], rel=1e-12), key


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-0.5, 0.5), min_size=2, max_size=60))
def test_invariants(values: list[float]) -> None:
    r = np.array(values)
    m = summary_metrics_matrix(r[None, :])
    assert -1.0 < m["max_drawdown"][0] <= 0.0
    assert m["worst_day"][0] <= m["best_day"][0]
    growth = np.cumprod(1 + r)
    assert m["total_return"][0] == pytest.approx(growth[-1] - 1, rel=1e-9, abs=1e-12)
    assert m["max_drawdown"][0] <= min(growth[-1] / max(growth.max(), 1.0) - 1, 0.0) + 1e-12
    if np.std(r) > 0:
        assert np.sign(m["sharpe"][0]) == np.sign(np.mean(r)) or abs(np.mean(r)) < 1e-15
