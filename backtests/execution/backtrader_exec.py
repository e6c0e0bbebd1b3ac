"""Reference executor: the execution model run through backtrader's broker.

How the model maps onto backtrader 1.9.78.123 (each point is tested):

- **One calendar.** Every ticker gets an ``ArrayFeed`` with open = high = low = close =
  adjusted close
  on the same dates (the first feed is backtrader's master clock). Before its listing a
  ticker's placeholder price is its first price and its target must be 0 (``listed_prices``).
  One extra bar (the day after the last date, prices unchanged) is appended so orders
  issued at the last close still execute; it is not part of the result. The feeds are
  preloaded in bulk (``ArrayFeed.preload``: the same lines as bar by bar).
- **Fills at the decision close.** ``set_coc(True)``: a market order issued in ``next()``
  at bar ``t`` is matched by the broker at ``t+1`` at ``order.created.pclose`` (the close
  of ``t``) and stamped with ``t``'s date (``BackBroker._try_exec_market``).
- **Slippage.** coc fills do pass through ``_slip_up``/``_slip_down`` (when ``slip_open``);
  ``slip_out=True`` keeps ``p(1+s)``/``p(1-s)`` even outside the next bar's high/low.
- **Commission.** ``COMM_PERC``, ``percabs``, stock-like: commission = rate x |size| x fill price.
  ``getsize`` is overridden to be fractional; orders are sized by ``rules.plan_trades``.
- **Sell first, trim buys.** Sells are submitted before buys; the broker processes its
  pending queue in submission order, so sale proceeds fund the buys. Buys are trimmed so
  their cost fits the cash. ``checksubmit`` is off: the cash check happens once, at the fill.
- **Rejections.** ``Margin``/``Rejected``/``Canceled`` statuses are counted in
  ``notify_order``; any of them raises ``RejectedOrdersError``.
- **State.** The post-trade holdings and cash of day ``t`` are read from the broker at the
  next bar, before any new order.
"""

from __future__ import annotations

import backtrader as bt
import numpy as np
import pandas as pd

from backtests.errors import RejectedOrdersError
from backtests.execution.result import TRADE_COLUMNS, ExecutionResult, build_result
from backtests.execution.rules import (
    CostModel,
    RebalanceRule,
    aligned_targets,
    equity_of,
    listed_prices,
    must_trade,
    plan_trades,
    row_changed,
    scheduled_days,
)

_FAILED = (bt.Order.Margin, bt.Order.Rejected, bt.Order.Canceled)


class FractionalPercCommission(bt.CommInfoBase):
    """Stock-like percentage commission on the fill notional, with fractional sizing."""

    params = (("commtype", bt.CommInfoBase.COMM_PERC), ("percabs", True), ("stocklike", True))

    def getsize(self, price: float, cash: float) -> float:
        """Fractional shares ``cash`` buys at ``price`` (backtrader's default truncates)."""
        return self.p.leverage * (cash / price)


class _Plan:
    """Inputs the strategy reads each bar, and the state it records."""

    def __init__(
        self,
        targets: np.ndarray,
        scheduled: np.ndarray,
        costs: CostModel,
        rebalance: RebalanceRule,
    ) -> None:
        n_days, n = targets.shape
        self.targets = targets
        self.scheduled = scheduled
        self.changed = np.array(
            [t > 0 and row_changed(targets[t - 1], targets[t]) for t in range(n_days)]
        )
        self.costs = costs
        self.drift = rebalance.drift_threshold
        self.holdings = np.zeros((n_days, n))
        self.cash = np.zeros(n_days)
        self.fills: list[tuple] = []
        self.failures: list[tuple[pd.Timestamp, str, str]] = []


class _TargetStrategy(bt.Strategy):
    """Trades each close to the target weights per the shared rules."""

    params = (("plan", None),)

    def notify_order(self, order: bt.Order) -> None:
        """Record fills and count refused orders."""
        plan: _Plan = self.p.plan
        if order.status == bt.Order.Completed:
            ex = order.executed
            day = pd.Timestamp(bt.num2date(ex.dt)).normalize()
            # the fill itself: ``ex.price`` is re-derived as (0 x 0 + size x price) / size
            (fill,) = ex.exbits
            plan.fills.append(
                (day, order.data._name, fill.size, fill.price, abs(fill.size) * fill.price, fill.comm)
            )
        elif order.status in _FAILED:
            day = pd.Timestamp(bt.num2date(order.created.dt)).normalize()
            plan.failures.append((day, order.data._name, order.getstatusname()))

    def next(self) -> None:
        """Record yesterday's post-trade state, then trade today's close if the rules say so."""
        plan: _Plan = self.p.plan
        t = len(self) - 1
        q = np.array([self.getposition(d).size for d in self.datas], dtype=float)
        cash = self.broker.getcash()
        if t > 0:
            plan.holdings[t - 1], plan.cash[t - 1] = q, cash
        if t == len(plan.targets):
            return
        p = np.array([d.close[0] for d in self.datas])
        target = plan.targets[t]
        value = equity_of(q, p, cash)
        if not must_trade(
            t == 0, plan.scheduled[t], plan.changed[t], q, p, value, target, plan.drift
        ):
            return
        delta = np.empty(len(q))
        avg = np.array([self.getposition(d).price for d in self.datas], dtype=float)
        plan_trades(q, avg, p, cash, target, plan.costs.commission, plan.costs.slippage, delta)
        for i in np.flatnonzero(delta < 0):
            self.sell(data=self.datas[i], size=float(-delta[i]))
        for i in np.flatnonzero(delta > 0):
            self.buy(data=self.datas[i], size=float(delta[i]))


class ArrayFeed(bt.feed.DataBase):
    """A daily feed from precomputed arrays: open = high = low = close = the adjusted close.

    ``dates`` are backtrader date numbers (``bt.date2num``) shared by every feed, so all
    feeds run on one calendar; ``prices`` are floats. (``PandasData`` does the same with an
    ``.iloc`` per line per bar, which is half of a run's time.)
    """

    params = (("dates", ()), ("prices", ()))

    def start(self) -> None:
        """Rewind to the first bar."""
        super().start()
        self._bar = -1

    def preload(self) -> None:
        """Every bar at once: the lines as backtrader's bar-by-bar ``preload`` (``_load`` in a
        loop) leaves them, without its Python work per bar and line (a fifth of a run's time).
        Only for this feed as ``run_backtrader`` makes it: no date bounds, filters or time zone."""
        n = len(self.p.prices)
        columns = {"datetime": self.p.dates, "volume": [0.0] * n, "openinterest": [0.0] * n}
        for alias in self.getlinealiases():
            getattr(self.lines, alias).array.extend(columns.get(alias, self.p.prices))
        self._bar = n  # every bar is loaded: ``_load`` has no more
        self._last()
        self.home()  # the logical index back before the first bar, as after any preload

    # backtrader's own pair loops over the line aliases with getattr/setattr on every bar of every
    # feed; on this feed open = high = low = close and volume = open interest = 0.
    def _tick_nullify(self) -> None:
        """The bar's tick prices unknown (as ``AbstractDataBase._tick_nullify`` leaves them)."""
        self.tick_close = self.tick_low = self.tick_high = self.tick_open = self.tick_last = None
        self.tick_volume = self.tick_openinterest = None

    def _tick_fill(self, force: bool = False) -> None:
        """The bar is the tick (as ``AbstractDataBase._tick_fill`` fills them from the lines)."""
        if force or self.tick_close is None:
            price = self.lines.close[0]
            self.tick_close = self.tick_low = self.tick_high = self.tick_open = self.tick_last = price
            self.tick_volume = self.tick_openinterest = 0.0

    def _load(self) -> bool:
        self._bar += 1
        if self._bar >= len(self.p.prices):
            return False
        price = self.p.prices[self._bar]
        lines = self.lines
        lines.datetime[0] = self.p.dates[self._bar]
        lines.open[0] = lines.high[0] = lines.low[0] = lines.close[0] = price
        lines.volume[0] = lines.openinterest[0] = 0.0
        return True


def run_backtrader(
    closes: pd.DataFrame,
    targets: pd.DataFrame,
    costs: CostModel,
    rebalance: RebalanceRule,
    cash: float,
) -> ExecutionResult:
    """Execute ``targets`` (date x ticker weights, traded at each close) with backtrader.

    Raises ``RejectedOrdersError`` if backtrader refused any order.
    """
    tickers = list(closes.columns)
    dates = pd.DatetimeIndex(closes.index, name="date")
    weights = aligned_targets(targets, closes)
    prices = listed_prices(closes.to_numpy(dtype=float), weights, names=tickers, dates=dates)
    plan = _Plan(weights, scheduled_days(dates, rebalance.schedule), costs, rebalance)
    clock = dates.append(pd.DatetimeIndex([dates[-1] + pd.Timedelta(days=1)]))
    cerebro = bt.Cerebro(stdstats=False)
    stamps = [bt.date2num(day.to_pydatetime()) for day in clock]
    for j, ticker in enumerate(tickers):
        cerebro.adddata(
            ArrayFeed(dates=stamps, prices=np.append(prices[:, j], prices[-1, j]).tolist()),
            name=ticker,
        )
    broker = cerebro.broker
    broker.set_cash(float(cash))
    broker.set_coc(True)
    broker.set_checksubmit(False)
    broker.set_slippage_perc(
        costs.slippage, slip_open=True, slip_limit=True, slip_match=True, slip_out=True
    )
    broker.addcommissioninfo(FractionalPercCommission(commission=costs.commission))
    cerebro.addstrategy(_TargetStrategy, plan=plan)
    cerebro.run(runonce=False, preload=True)
    if plan.failures:
        day, ticker, status = plan.failures[0]
        raise RejectedOrdersError(
            f"backtrader rejected {len(plan.failures)} orders "
            f"(first: {ticker} on {day.date()}, status {status}); "
            "the orders cost more than the cash — report this, sizing should prevent it"
        )
    trades = pd.DataFrame(plan.fills, columns=list(TRADE_COLUMNS))
    return build_result(
        dates,
        tickers,
        prices,
        plan.holdings,
        plan.cash,
        float(cash),
        trades,
        rejected_orders=len(plan.failures),
    )
