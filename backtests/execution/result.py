"""``ExecutionResult``: what an executor hands back for one configuration, and its one builder.

Both executors produce the same raw path (post-trade holdings and cash per day, the
fills) and call ``build_result`` so returns, weights and turnover are derived once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from backtests.conventions import TRADING_DAYS_PER_YEAR

if TYPE_CHECKING:  # pandas loads where a function needs it: a sweep worker never does
    import pandas as pd

TRADE_COLUMNS = ("date", "ticker", "size", "price", "value", "commission")


@dataclass(frozen=True)
class ExecutionResult:
    """One executed path on the run calendar.

    - ``equity``: close-of-day portfolio value after trading.
    - ``returns``: ``E_t / E_{t-1} - 1``; the first day is ``E_0 / cash - 1`` (its trading costs).
    - ``weights``: actual post-trade weights ``q_i p_i / E`` (cash is the remainder).
    - ``trades``: one row per fill: ``size`` signed (+ buy, - sell), ``price`` the fill price,
      ``value`` = |size| x price (traded notional), ``commission``.
    - ``rejected_orders``: orders the engine refused (always 0 on success; see RejectedOrdersError).
    - ``turnover``: annualised, sum of traded notional / mean equity / (days / 252).
    """

    equity: pd.Series
    returns: pd.Series
    weights: pd.DataFrame
    trades: pd.DataFrame
    rejected_orders: int
    turnover: float


def annual_turnover(
    traded_notional: np.ndarray | float,
    mean_equity: np.ndarray | float,
    days: int,
    periods: int = TRADING_DAYS_PER_YEAR,
) -> np.ndarray | float:
    """Sum of traded notional / mean equity / years, with years = ``days / periods``."""
    return traded_notional / mean_equity / (days / periods)


def build_result(
    dates: pd.DatetimeIndex,
    tickers: list[str],
    prices: np.ndarray,
    holdings: np.ndarray,
    cash_path: np.ndarray,
    cash: float,
    trades: pd.DataFrame,
    rejected_orders: int = 0,
) -> ExecutionResult:
    """Assemble an ``ExecutionResult`` from post-trade ``holdings`` (T x N) and ``cash_path`` (T).

    ``prices`` are the (placeholder-filled) closes the holdings are marked at, ``cash`` the
    starting cash; equity is ``cash_t + sum_i q_i p_i`` summed in ticker order, as the fast kernel
    marks it (so a run's returns equal a sweep's bit for bit).
    """
    import pandas as pd

    index = pd.DatetimeIndex(dates, name="date")
    positions = holdings * prices
    equity_values = np.array(cash_path, dtype=float)  # as ``rules.mark_to_market``: cash, then each ticker
    for column in positions.T:
        equity_values += column
    equity = pd.Series(equity_values, index=index, name="equity")
    previous = np.concatenate(([cash], equity_values[:-1]))
    returns = pd.Series(equity_values / previous - 1.0, index=index, name="returns")
    weights = pd.DataFrame(positions / equity_values[:, None], index=index, columns=list(tickers))
    trades = trades.astype({column: float for column in TRADE_COLUMNS[2:]}).reset_index(drop=True)
    # typed even when there are no trades, in the calendar's unit whatever the executor's stamps
    trades["date"] = pd.DatetimeIndex(pd.to_datetime(trades["date"])).as_unit(index.unit)
    turnover = float(annual_turnover(trades["value"].sum(), equity_values.mean(), len(index)))
    return ExecutionResult(equity, returns, weights, trades, rejected_orders, turnover)
