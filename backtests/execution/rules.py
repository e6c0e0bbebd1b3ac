"""The rules both executors share: costs, when to trade, and how a rebalance is sized.

One definition, used by the backtrader reference and the fast executor alike:

- ``scheduled_days``, ``row_changed`` and ``trades_due`` (``must_trade`` for one
  configuration) decide *whether* to trade at close ``t``:
  the first day; the target row changed (max |dW| > ``TARGET_CHANGE_TOL``); the
  first trading day of a new week/month/quarter (``"daily"``: every day,
  ``"none"``: never scheduled); or drift, max_i |w_i - W_i| > ``drift_threshold``
  with ``w`` the pre-trade weights marked at the close.
- ``size_trades`` (``plan_trades`` for one configuration) decides *how much*: fractional share
  deltas to reach the target weights at the close (equity marked by ``mark_to_market``), sells
  first (at ``p(1-slip)``, commission on the fill notional), then buys (at ``p(1+slip)``,
  commission on the fill notional), all buys trimmed by one factor so their cost fits the
  cash after sells less a safety margin of ``CASH_SAFETY * V``. Dust trades
  (|dq| p < ``DUST * V``) are skipped. Cash never goes negative.
- ``book_sell``, ``book_buy`` and ``average_price`` book a fill as backtrader's broker does
  (the fast executor's cash and holdings are backtrader's bit for bit); ``mark_to_market``
  (``equity_of`` for one configuration) values a portfolio: cash, then each ticker in order.
- ``listed_prices`` applies the late-listing rule: before a ticker's first price
  its placeholder is that first price (back-filled) and its target must be 0.

The kernels are numba ``@njit`` functions so the fast executor calls them inside
its compiled loop and the backtrader strategy calls the very same code. The
decision and the sizing are written for a block of configurations (``N x M``
arrays, configurations in the inner, contiguous dimension, so the fast executor
runs them in SIMD across configurations); ``must_trade`` and ``plan_trades`` are
the same code on a block of one, for the backtrader strategy.

The block kernels visit only the tickers listed in ``rows`` (increasing). A ticker left
out must hold no shares and have target 0 in every column of the block: with positive,
finite prices (as the data layer guarantees) skipping it changes no bit (adding 0.0 to a
sum leaves the sum as it is, it is never out of its drift band, and it is sized to no
trade). The fast executor leaves out, block by block, the tickers nobody holds or targets
(a hedge basket before any hedge); the one-configuration forms visit every ticker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from backtests.conventions import MAX_COST_BPS, SCHEDULES
from backtests.errors import BacktestError, UserInputError
from backtests.jit import njit

if TYPE_CHECKING:  # pandas loads where a function needs it: a sweep worker never does
    import pandas as pd

TARGET_CHANGE_TOL = 1e-12
DUST = 1e-9
CASH_SAFETY = 1e-12


@dataclass(frozen=True)
class CostModel:
    """Trading costs in basis points of the fill notional: commission and slippage."""

    commission_bps: float = 0.0
    slippage_bps: float = 0.0

    def __post_init__(self) -> None:
        for name in ("commission_bps", "slippage_bps"):
            value = getattr(self, name)
            if not 0.0 <= value <= MAX_COST_BPS:
                raise UserInputError(
                    f"costs.{name} = {value!r} is out of range; expected >= 0 and <= {MAX_COST_BPS:g}"
                )

    @property
    def commission(self) -> float:
        """Commission as a fraction of fill notional."""
        return self.commission_bps / 10_000.0

    @property
    def slippage(self) -> float:
        """Slippage as a fraction of the close (buys pay ``p(1+s)``, sells get ``p(1-s)``)."""
        return self.slippage_bps / 10_000.0


@dataclass(frozen=True)
class RebalanceRule:
    """When to trade besides target changes: ``schedule`` and ``drift_threshold`` (0 = off)."""

    schedule: str = "none"
    drift_threshold: float = 0.0

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise UserInputError(
                f"rebalance.schedule = {self.schedule!r} is not allowed; "
                f"expected one of {', '.join(SCHEDULES)}"
            )
        if not 0.0 <= self.drift_threshold <= 1.0:
            raise UserInputError(
                f"rebalance.drift_threshold = {self.drift_threshold!r} is out of range; "
                "expected >= 0 and <= 1"
            )


def scheduled_days(dates: pd.DatetimeIndex | np.ndarray, schedule: str) -> np.ndarray:
    """Boolean mask of days traded by the calendar ``schedule`` (the first day is always True).

    A period starts where the key of a day differs from the previous day's: the Monday-based
    week (an ISO week: Monday to Sunday), the month, or the quarter of the local date.
    ``dates``: a DatetimeIndex (local dates when it has a time zone) or datetime64 values.
    """
    n = len(dates)
    if schedule == "daily":
        return np.ones(n, dtype=bool)
    local = dates.tz_localize(None) if getattr(dates, "tz", None) is not None else dates
    stamps = np.asarray(local, dtype="datetime64[ns]")
    if schedule == "none":
        keys = np.zeros(n, dtype=np.int64)
    elif schedule == "weekly":  # 1970-01-01 was a Thursday: weeks counted from Monday 1969-12-29
        keys = (stamps.astype("datetime64[D]").astype(np.int64) + 3) // 7
    elif schedule == "monthly":
        keys = stamps.astype("datetime64[M]").astype(np.int64)
    elif schedule == "quarterly":
        keys = stamps.astype("datetime64[M]").astype(np.int64) // 3
    else:
        raise UserInputError(
            f"rebalance.schedule = {schedule!r} is not allowed; "
            f"expected one of {', '.join(SCHEDULES)}"
        )
    out = np.ones(n, dtype=bool)
    out[1:] = keys[1:] != keys[:-1]
    return out


def listed_prices(
    closes: np.ndarray,
    targets: np.ndarray | None = None,
    *,
    names: list[str] | None = None,
    dates: pd.DatetimeIndex | None = None,
) -> np.ndarray:
    """Closes with each ticker's pre-listing NaNs back-filled by its first price (placeholder).

    A ticker with no price at all in the range (listed after it ends) gets the
    placeholder 1.0: its target is 0 throughout under the late-listing policy.
    Raises ``BacktestError`` (when ``targets`` is given) if a target weight is
    nonzero before the ticker's first price.
    """
    listed = ~np.isnan(closes)
    if listed.all():  # nothing to fill, nothing to check
        return closes.copy()
    first = listed.argmax(axis=0)
    label = (lambda j: names[j]) if names else (lambda j: f"column {j}")
    if targets is not None:
        bad_t, bad_j = np.nonzero(~listed & (np.abs(targets) > 0.0))
        if bad_t.size:
            t, j = int(bad_t[0]), int(bad_j[0])
            when = np.datetime64(dates[t], "D") if dates is not None else f"row {t}"
            raise BacktestError(
                f"target weight of {label(j)} is {targets[t, j]:g} on {when}, "
                "before its first price; "
                "late-listed tickers must have weight 0 until listed"
            )
    placeholder = np.where(listed.any(axis=0), closes[first, np.arange(closes.shape[1])], 1.0)
    return np.where(listed, closes, placeholder[None, :])


def aligned_targets(targets: pd.DataFrame, closes: pd.DataFrame) -> np.ndarray:
    """``targets`` on the calendar and tickers of ``closes``, checked: no gaps, >= 0, rows <= 1."""
    weights = targets.reindex(index=closes.index, columns=closes.columns).to_numpy(dtype=float)
    problems = (
        (np.isnan(weights), "is missing"),
        (weights < 0.0, "is negative"),
        (
            np.broadcast_to(weights.sum(axis=1, keepdims=True) > 1.0 + 1e-9, weights.shape),
            "row sums above 1",
        ),
    )
    for mask, what in problems:
        if mask.any():
            t, j = np.argwhere(mask)[0]
            raise BacktestError(
                f"target weight of {closes.columns[j]} on {closes.index[t].date()} {what}; "
                "targets must cover every date and ticker, be >= 0 and sum to <= 1"
            )
    return weights


@njit(cache=True)
def row_changed(previous: np.ndarray, current: np.ndarray) -> bool:
    """Did the target row change: max_i |current_i - previous_i| > ``TARGET_CHANGE_TOL``?"""
    for i in range(current.shape[0]):
        if abs(current[i] - previous[i]) > TARGET_CHANGE_TOL:
            return True
    return False


@njit(cache=True)
def trades_due(
    first: bool,
    scheduled: bool,
    changed: np.ndarray,
    q: np.ndarray,
    p: np.ndarray,
    value: np.ndarray,
    target: np.ndarray,
    drift_threshold: float,
    due: np.ndarray,
    rows: np.ndarray,
) -> None:
    """Trade at this close? For a block of ``M`` configurations at once (the one definition).

    ``due[k]`` = first day, scheduled day, ``changed[k]`` (the target row changed), or drift:
    some ticker's pre-trade weight ``q[i, k] p[i] / value[k]`` is more than
    ``drift_threshold`` away from ``target[i, k]`` (written without division). ``q`` and
    ``target`` are ``N x M`` (configurations in the inner, contiguous dimension), ``changed``,
    ``value`` and ``due`` are ``(M,)``; ``rows``: the tickers visited (see the module docstring).
    """
    m = due.shape[0]
    for k in range(m):
        due[k] = first or scheduled or changed[k]
    if drift_threshold > 0.0 and not (first or scheduled):
        for i in rows:
            price = p[i]
            for k in range(m):
                due[k] = due[k] | (
                    abs(q[i, k] * price - target[i, k] * value[k]) > drift_threshold * value[k]
                )


@njit(cache=True)
def must_trade(
    first: bool,
    scheduled: bool,
    changed: bool,
    q: np.ndarray,
    p: np.ndarray,
    value: float,
    target: np.ndarray,
    drift_threshold: float,
) -> bool:
    """``trades_due`` for one configuration (``q``, ``target``: ``(N,)``)."""
    due = np.empty(1, dtype=np.bool_)
    trades_due(
        first,
        scheduled,
        np.array([changed]),
        np.ascontiguousarray(q).reshape((-1, 1)),
        p,
        np.array([value]),
        np.ascontiguousarray(target).reshape((-1, 1)),
        drift_threshold,
        due,
        np.arange(q.shape[0]),
    )
    return due[0]


@njit(cache=True)
def mark_to_market(q: np.ndarray, p: np.ndarray, cash: np.ndarray, value: np.ndarray, rows: np.ndarray) -> None:
    """``value[k] = cash[k] + sum_i q[i, k] p[i]`` for a block (summed in ticker order over ``rows``)."""
    for k in range(q.shape[1]):
        value[k] = cash[k]
    for i in rows:
        price = p[i]
        for k in range(q.shape[1]):
            value[k] += q[i, k] * price


@njit(cache=True)
def equity_of(q: np.ndarray, p: np.ndarray, cash: float) -> float:
    """``mark_to_market`` for one configuration (``q``: ``(N,)``): cash, then each holding in ticker order."""
    value = np.empty(1)
    mark_to_market(np.ascontiguousarray(q).reshape((-1, 1)), p, np.array([cash]), value, np.arange(q.shape[0]))
    return value[0]


# How backtrader 1.9.78.123 books a fill (``BackBroker._execute`` with ``Position.update``,
# stock-like ``CommInfoBase``, leverage and multiplier 1, ``shortcash`` on), written out so
# the fast executor's cash and holdings equal the broker's bit for bit. A sale reduces a long
# position: the cash gets the closed value at the average entry price plus the PnL against it,
# then pays commission; a purchase pays the opened value, then commission. Commission is
# ``|size| x rate x price`` in that order. The average entry price resets to 0 when a position
# closes and is the size-weighted mean of the fills while it grows.
@njit(cache=True)
def book_sell(cash: float, avg: float, size: float, fill: float, commission: float) -> float:
    """Cash after selling ``-size`` shares (``size < 0``) at ``fill`` from a long bought at ``avg``."""
    closed = -size
    return (cash + (closed * avg + closed * (fill - avg))) - abs(size) * commission * fill


@njit(cache=True)
def book_buy(cash: float, size: float, fill: float, commission: float) -> float:
    """Cash after buying ``size > 0`` shares at ``fill``."""
    return (cash - size * fill) - abs(size) * commission * fill


@njit(cache=True)
def average_price(avg: float, held: float, size: float, fill: float, after: float) -> float:
    """Average entry price after buying ``size > 0`` at ``fill`` onto ``held`` shares (``after`` in all)."""
    return fill if held == 0.0 else (avg * held + size * fill) / after


# numpy error model: no zero-divisor branch, so the sizing loops run in SIMD across configurations.
@njit(cache=True, error_model="numpy")
def size_trades(
    q: np.ndarray,
    avg: np.ndarray,
    p: np.ndarray,
    cash: np.ndarray,
    value: np.ndarray,
    target: np.ndarray,
    commission: float,
    slippage: float,
    due: np.ndarray,
    delta: np.ndarray,
    work: np.ndarray,
    rows: np.ndarray,
) -> None:
    """Share changes (< 0 sell, > 0 buy) reaching ``target`` at close ``p``, for a block (the one definition).

    ``q``, ``target`` and ``delta`` are ``N x M``, ``cash``, ``value`` and ``due`` ``(M,)``: column
    ``k`` is one configuration; columns with ``due[k]`` False get 0. ``value`` is the pre-trade
    equity ``V = cash + sum_i q_i p_i`` (``mark_to_market``); ``avg`` (``N x M``) the positions'
    average entry prices (``book_sell`` needs them); ``work`` is ``3 x M`` scratch; ``rows``: the
    tickers visited (see the module docstring; the rows of ``delta`` left out are not written).
    On return ``work[0]`` holds each column's cash after its sells, booked by ``book_sell``.
    Per configuration: ``d_i = W_i V / p_i - q_i`` (all of ``q_i`` when ``W_i = 0``),
    0 when ``|d_i| p_i < DUST * V``. Sells are full-size; buys are scaled by one factor
    ``k <= 1`` so that their cost at ``p(1+slip)`` plus commission fits the cash after sells
    (at ``p(1-slip)``, less commission, exactly as ``book_sell`` books them) minus
    ``CASH_SAFETY * V``; a scaled buy below the dust size is dropped. Prices must be positive
    (a zero price gives inf/NaN, not an exception).
    """
    m = q.shape[1]
    cash_after_sells, buy_cost, scale = work[0], work[1], work[2]
    for k in range(m):
        cash_after_sells[k] = cash[k]
        buy_cost[k] = 0.0
    for i in rows:
        sell_fill, buy_fill = p[i] * (1.0 - slippage), p[i] * (1.0 + slippage)
        # Selects instead of branches (adding 0 leaves a sum as it is), one array written per
        # loop: each loop runs in SIMD across k.
        for k in range(m):
            d = -q[i, k] if target[i, k] == 0.0 else target[i, k] * value[k] / p[i] - q[i, k]
            delta[i, k] = 0.0 if (not due[k]) | (abs(d) * p[i] < DUST * value[k]) else d
        for k in range(m):  # the cash the sells will book, exactly (``book_sell``)
            d = delta[i, k]
            cash_after_sells[k] = (
                book_sell(cash_after_sells[k], avg[i, k], d, sell_fill, commission) if d < 0.0 else cash_after_sells[k]
            )
        for k in range(m):
            d = delta[i, k]
            buy_cost[k] += (d * buy_fill + commission * d * buy_fill) if d > 0.0 else 0.0
    trimmed = False
    for k in range(m):
        budget = cash_after_sells[k] - CASH_SAFETY * value[k]
        trim = buy_cost[k] > 0.0 and buy_cost[k] > budget
        scale[k] = max(budget, 0.0) / buy_cost[k] if trim else -1.0  # >= 0 exactly when trimmed
        trimmed |= trim
    if trimmed:
        for i in rows:
            for k in range(m):
                if scale[k] >= 0.0 and delta[i, k] > 0.0:
                    delta[i, k] *= scale[k]
                    if delta[i, k] * p[i] < DUST * value[k]:
                        delta[i, k] = 0.0


@njit(cache=True)
def plan_trades(
    q: np.ndarray,
    avg: np.ndarray,
    p: np.ndarray,
    cash: float,
    target: np.ndarray,
    commission: float,
    slippage: float,
    delta: np.ndarray,
) -> None:
    """``size_trades`` for one configuration: fill ``delta`` (``(N,)``) from ``q``, ``avg`` and ``target``."""
    block_q = np.ascontiguousarray(q).reshape((-1, 1))
    block_cash, value, every = np.array([cash]), np.empty(1), np.arange(q.shape[0])
    mark_to_market(block_q, p, block_cash, value, every)
    out = np.empty((q.shape[0], 1))
    size_trades(
        block_q,
        np.ascontiguousarray(avg).reshape((-1, 1)),
        p,
        block_cash,
        value,
        np.ascontiguousarray(target).reshape((-1, 1)),
        commission,
        slippage,
        np.ones(1, dtype=np.bool_),
        out,
        np.empty((3, 1)),
        every,
    )
    delta[:] = out[:, 0]
