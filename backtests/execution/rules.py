"""The rules both executors share: costs, when to trade, and how a rebalance is sized.

One definition, used by the backtrader reference and the fast executor alike:

- ``scheduled_days``, ``row_changed`` and ``must_trade`` decide *whether* to trade at close ``t``:
  the first day; the target row changed (max |dW| > ``TARGET_CHANGE_TOL``); the
  first trading day of a new week/month/quarter (``"daily"``: every day,
  ``"none"``: never scheduled); or drift, max_i |w_i - W_i| > ``drift_threshold``
  with ``w`` the pre-trade weights marked at the close.
- ``plan_trades`` decides *how much*: fractional share deltas to reach the target
  weights at the close, sells first (at ``p(1-slip)``, commission on the fill
  notional), then buys (at ``p(1+slip)``, commission on the fill notional), all
  buys trimmed by one factor so their cost fits the cash after sells less a
  safety margin of ``CASH_SAFETY * V``. Dust trades (|dq| p < ``DUST * V``) are
  skipped. Cash never goes negative.
- ``listed_prices`` applies the late-listing rule: before a ticker's first price
  its placeholder is that first price (back-filled) and its target must be 0.

The kernels are numba ``@njit`` functions so the fast executor calls them inside
its compiled loop and the backtrader strategy calls the very same code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd

from backtests.errors import BacktestError, UserInputError

SCHEDULES = ("none", "daily", "weekly", "monthly", "quarterly")
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
            if not 0.0 <= value < 10_000.0:
                raise UserInputError(
                    f"costs.{name} = {value!r} is out of range; expected >= 0 and < 10000"
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


def scheduled_days(dates: pd.DatetimeIndex, schedule: str) -> np.ndarray:
    """Boolean mask of days traded by the calendar ``schedule`` (the first day is always True)."""
    n = len(dates)
    if schedule == "daily":
        return np.ones(n, dtype=bool)
    if schedule == "none":
        keys = np.zeros(n, dtype=np.int64)
    elif schedule == "weekly":
        iso = dates.isocalendar()
        keys = iso["year"].to_numpy(np.int64) * 100 + iso["week"].to_numpy(np.int64)
    elif schedule == "monthly":
        keys = dates.year.to_numpy(np.int64) * 100 + dates.month.to_numpy(np.int64)
    elif schedule == "quarterly":
        keys = dates.year.to_numpy(np.int64) * 10 + dates.quarter.to_numpy(np.int64)
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
    first = listed.argmax(axis=0)
    label = (lambda j: names[j]) if names else (lambda j: f"column {j}")
    if targets is not None:
        bad_t, bad_j = np.nonzero(~listed & (np.abs(targets) > 0.0))
        if bad_t.size:
            t, j = int(bad_t[0]), int(bad_j[0])
            when = dates[t].date() if dates is not None else f"row {t}"
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


@numba.njit(cache=True)
def row_changed(previous: np.ndarray, current: np.ndarray) -> bool:
    """Did the target row change: max_i |current_i - previous_i| > ``TARGET_CHANGE_TOL``?"""
    for i in range(current.shape[0]):
        if abs(current[i] - previous[i]) > TARGET_CHANGE_TOL:
            return True
    return False


@numba.njit(cache=True)
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
    """Trade at this close? First day, scheduled day, target changed, or drift above the threshold.

    Drift compares pre-trade weights ``q_i p_i / value`` with ``target`` (written without division).
    """
    if first or scheduled or changed:
        return True
    if drift_threshold > 0.0:
        for i in range(q.shape[0]):
            if abs(q[i] * p[i] - target[i] * value) > drift_threshold * value:
                return True
    return False


@numba.njit(cache=True)
def plan_trades(
    q: np.ndarray,
    p: np.ndarray,
    cash: float,
    target: np.ndarray,
    commission: float,
    slippage: float,
    delta: np.ndarray,
) -> None:
    """Fill ``delta`` with the share changes (< 0 sell, > 0 buy) reaching ``target`` at close ``p``.

    Sells are full-size; buys are scaled by one factor ``k <= 1`` so that their cost at
    ``p(1+slip)`` plus commission fits the cash after sells minus ``CASH_SAFETY * V``.
    """
    n = q.shape[0]
    value = cash
    for i in range(n):
        value += q[i] * p[i]
    dust = DUST * value
    cash_after_sells = cash
    buy_cost = 0.0
    for i in range(n):
        d = target[i] * value / p[i] - q[i]
        if target[i] == 0.0:
            d = -q[i]
        if abs(d) * p[i] < dust:
            d = 0.0
        delta[i] = d
        if d < 0.0:
            fill = p[i] * (1.0 - slippage)
            cash_after_sells += -d * fill - commission * (-d * fill)
        elif d > 0.0:
            fill = p[i] * (1.0 + slippage)
            buy_cost += d * fill + commission * d * fill
    budget = cash_after_sells - CASH_SAFETY * value
    if buy_cost > 0.0 and buy_cost > budget:
        k = max(budget, 0.0) / buy_cost
        for i in range(n):
            if delta[i] > 0.0:
                delta[i] *= k
                if delta[i] * p[i] < dust:
                    delta[i] = 0.0
