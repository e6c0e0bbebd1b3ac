"""The backtrader reference executor: fills at the decision close, slippage, commission,
fractional shares, sells before buys, the cash trim and rejection detection, late listing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtests.errors import BacktestError, RejectedOrdersError
from backtests.execution.backtrader_exec import FractionalPercCommission, run_backtrader
from backtests.execution.rules import CostModel, RebalanceRule

DAILY = RebalanceRule("daily", 0.0)
NEVER = RebalanceRule("none", 0.0)


def frame(rows: dict[str, list[float]]) -> pd.DataFrame:
    """A date x ticker frame on consecutive business days from 2024-01-01."""
    length = len(next(iter(rows.values())))
    return pd.DataFrame(
        rows, index=pd.bdate_range("2024-01-01", periods=length, name="date"), dtype=float
    )


def test_fill_at_order_bar_close_with_slippage_and_commission() -> None:
    closes = frame(
        {"A": [100, 120, 90, 95]}
    )  # the next bar's high/low never bracket the slipped price
    targets = frame({"A": [1.0, 1.0, 0.0, 0.0]})
    result = run_backtrader(
        closes, targets, CostModel(commission_bps=10, slippage_bps=50), NEVER, 1000.0
    )
    buy, sell = result.trades.iloc[0], result.trades.iloc[1]
    assert buy["date"] == closes.index[0] and buy["price"] == pytest.approx(100 * 1.005, rel=1e-12)
    assert sell["date"] == closes.index[2] and sell["price"] == pytest.approx(90 * 0.995, rel=1e-12)
    assert sell["size"] == pytest.approx(-buy["size"], rel=1e-12)
    assert buy["commission"] == pytest.approx(0.001 * buy["size"] * 100.5, rel=1e-12)
    cash_left = 1000 - buy["size"] * 100.5 * 1.001  # ~0: the buy was trimmed to the cash
    assert 0 <= cash_left < 1e-6
    assert result.equity.iloc[0] == pytest.approx(buy["size"] * 100 + cash_left, rel=1e-12)
    assert result.returns.iloc[0] == pytest.approx(result.equity.iloc[0] / 1000 - 1, rel=1e-12)
    assert len(result.trades) == 2 and result.rejected_orders == 0


def test_fractional_shares() -> None:
    closes = frame({"A": [333.33, 333.33]})
    result = run_backtrader(closes, frame({"A": [0.5, 0.5]}), CostModel(), NEVER, 1000.0)
    assert result.trades["size"].iloc[0] == pytest.approx(
        500 / 333.33, rel=1e-9
    )  # 1.50002..., not 1
    assert result.weights["A"].iloc[0] == pytest.approx(0.5, rel=1e-9)
    assert FractionalPercCommission().getsize(333.33, 500.0) == pytest.approx(1.50002, rel=1e-5)


def test_sells_execute_before_buys_and_fund_them() -> None:
    closes = frame({"A": [10, 10, 11], "B": [20, 20, 19]})
    targets = frame({"A": [0.0, 1.0, 1.0], "B": [1.0, 0.0, 0.0]})  # fully invested switch B -> A
    result = run_backtrader(
        closes, targets, CostModel(commission_bps=5, slippage_bps=5), NEVER, 1000.0
    )
    day1 = result.trades[result.trades["date"] == closes.index[1]]  # fills in execution order
    assert day1["ticker"].tolist() == ["B", "A"] and day1["size"].iloc[0] < 0 < day1["size"].iloc[1]
    assert result.weights.loc[closes.index[1], "A"] > 0.998 and result.rejected_orders == 0


def test_no_rejections_with_full_investment_and_commission() -> None:
    rng = np.random.default_rng(3)
    closes = frame({t: list(100 * np.cumprod(1 + rng.normal(0, 0.02, 40))) for t in "ABC"})
    raw = rng.random((40, 3))
    targets = pd.DataFrame(
        raw / raw.sum(axis=1, keepdims=True), index=closes.index, columns=closes.columns
    )
    result = run_backtrader(
        closes, targets, CostModel(commission_bps=25, slippage_bps=10), DAILY, 10_000.0
    )
    assert result.rejected_orders == 0 and len(result.trades) >= 3 * 39


def test_without_the_trim_backtrader_rejects_and_we_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    from backtests.execution import backtrader_exec

    def untrimmed(q, avg, p, cash, target, commission, slippage, delta):  # naive sizing: no cash trim
        delta[:] = target * (cash + float(q @ p)) / p - q

    monkeypatch.setattr(backtrader_exec, "plan_trades", untrimmed)
    closes = frame({"A": [100, 101], "B": [50, 49]})
    targets = frame({"A": [0.5, 0.5], "B": [0.5, 0.5]})
    with pytest.raises(
        RejectedOrdersError,
        match=r"backtrader rejected 1 orders \(first: B on 2024-01-01, status Margin\)",
    ):
        run_backtrader(closes, targets, CostModel(commission_bps=10), NEVER, 1000.0)


def test_orders_on_the_last_day_execute() -> None:
    closes = frame({"A": [10, 11, 12]})
    result = run_backtrader(closes, frame({"A": [1.0, 1.0, 0.0]}), CostModel(), NEVER, 100.0)
    assert result.trades["date"].tolist() == [closes.index[0], closes.index[2]]
    assert result.weights["A"].iloc[-1] == 0.0 and result.equity.iloc[-1] == pytest.approx(
        120.0, rel=1e-9
    )


def test_late_listed_ticker_is_not_traded_before_listing() -> None:
    closes = frame({"A": [10, 11, 12, 12], "B": [np.nan, np.nan, 5, 6]})
    targets = frame({"A": [1, 1, 0.5, 0.5], "B": [0, 0, 0.5, 0.5]})
    result = run_backtrader(closes, targets, CostModel(), NEVER, 100.0)
    b_trades = result.trades[result.trades["ticker"] == "B"]
    assert b_trades["date"].min() == closes.index[2] and b_trades["price"].iloc[0] == 5.0
    with pytest.raises(BacktestError, match="target weight of B is 0.5 on 2024-01-02"):
        run_backtrader(
            closes,
            frame({"A": [1, 0.5, 0.5, 0.5], "B": [0, 0.5, 0.5, 0.5]}),
            CostModel(),
            NEVER,
            100.0,
        )


def test_turnover_definition() -> None:
    closes = frame({"A": [10.0] * 252, "B": [10.0] * 252})
    targets = frame({"A": [1.0] * 126 + [0.0] * 126, "B": [0.0] * 126 + [1.0] * 126})
    result = run_backtrader(closes, targets, CostModel(), NEVER, 100.0)
    # buy 100, then sell 100 and buy 100 over one year of flat prices: 300 / 100 / 1 year
    assert result.turnover == pytest.approx(3.0, rel=1e-9)


def _lines_after(preload, dates: list[float], prices: list[float]) -> dict[str, tuple]:
    """Every line of an ``ArrayFeed`` after ``preload`` and ``home``, with its indices."""
    import backtrader as bt

    from backtests.execution.backtrader_exec import ArrayFeed

    feed = ArrayFeed(dates=dates, prices=prices)
    bt.Cerebro().adddata(feed)  # its environment: time zone, date bounds
    feed._start()
    preload(feed)
    lines = {
        alias: (list(getattr(feed.lines, alias).array), getattr(feed.lines, alias).idx, len(getattr(feed.lines, alias)))
        for alias in feed.getlinealiases()
    }
    lines["more bars"] = (feed.load(), feed.buflen())
    return lines


def test_the_bulk_preload_leaves_the_feed_as_backtraders_bar_by_bar_preload() -> None:
    import backtrader as bt

    from backtests.execution.backtrader_exec import ArrayFeed

    dates = [bt.date2num(day.to_pydatetime()) for day in pd.bdate_range("2024-01-01", periods=7)]
    prices = [100.0, 101.5, 99.25, 99.25, 1e-9, 250.0, 3.0]
    bulk = _lines_after(ArrayFeed.preload, dates, prices)
    assert bulk == _lines_after(bt.feed.DataBase.preload, dates, prices)  # via ``_load``, one bar at a time
    assert bulk["close"] == (prices, -1, 0) and bulk["volume"][0] == [0.0] * 7
    assert bulk["more bars"][0] is False  # nothing more to load once preloaded


def _ticks_per_bar(feed_class, dates: list[float], prices: list[float]) -> list[dict]:
    """The ``tick_*`` attributes after each bar's nullify, fill and forced refill, bar by bar."""
    import backtrader as bt

    feed = feed_class(dates=dates, prices=prices)
    bt.Cerebro().adddata(feed)
    feed._start()
    feed.preload()
    names = [f"tick_{alias}" for alias in feed.getlinealiases() if alias != "datetime"] + ["tick_last"]
    seen = []
    for _ in prices:
        feed.advance(ticks=False)
        feed._tick_nullify()
        seen.append({name: getattr(feed, name, "unset") for name in names})
        feed._tick_fill()
        seen.append({name: getattr(feed, name) for name in names})
        feed.tick_close = -1.0  # filled already: only a forced fill rewrites
        feed._tick_fill()
        seen.append({name: getattr(feed, name) for name in names})
        feed._tick_fill(force=True)
        seen.append({name: getattr(feed, name) for name in names})
    return seen


def test_the_feeds_ticks_are_backtraders_own() -> None:
    import backtrader as bt

    from backtests.execution.backtrader_exec import ArrayFeed

    class BacktradersTicks(ArrayFeed):
        _tick_nullify = bt.feed.AbstractDataBase._tick_nullify
        _tick_fill = bt.feed.AbstractDataBase._tick_fill

    dates = [bt.date2num(day.to_pydatetime()) for day in pd.bdate_range("2024-01-01", periods=4)]
    prices = [100.0, 101.5, 1e-9, 250.0]
    ours = _ticks_per_bar(ArrayFeed, dates, prices)
    assert ours == _ticks_per_bar(BacktradersTicks, dates, prices)
    assert ours[1]["tick_open"] == 100.0 and ours[1]["tick_volume"] == 0.0 and ours[0]["tick_close"] is None
