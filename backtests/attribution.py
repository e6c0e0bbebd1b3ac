"""Hedge attribution: what the hedge itself did, and what it cost (pure: no I/O, no backtrader).

A hedge is judged against its counterfactual, the **base** (``RunResult.base_*``):
the same spec with the response switched off, on the same data, calendar,
rebalancing rule and costs. Every figure here compares the strategy with it.

Conventions (the README's "Hedge attribution" says the same):

- **Excess.** Day ``t``'s excess is the change of the relative wealth
  ``x_t = (1 + r_t) / (1 + b_t) - 1`` (``r``: strategy, ``b``: base daily
  returns). Over any set of days ``D`` it compounds: ``prod_D (1 + x_t) - 1``.
  Over all days that is ``relative_return = (1 + R) / (1 + B) - 1`` (``R``,
  ``B``: total returns); the days split into inside and outside episodes, so
  ``(1 + return_in_episodes) * (1 + return_outside_episodes) = 1 + relative_return``
  exactly (up to float rounding). ``excess_total_return`` is the plain
  difference ``R - B``.
- **Exposure and timing.** ``exposure_t = hedge_fraction * hedge_level_t`` is
  traded at the close of ``t`` and earns the return of ``t + 1``.
- **Episode.** A run of days with ``exposure > 0``, from its start day ``s``
  (the first such day: its close trades into the hedge) to its end day ``e``
  (the first day back at 0: its close trades out). The rows of ``returns.csv``
  that belong to it are ``s..e`` inclusive, i.e. from the close before ``s`` to
  the close of ``e``: day ``s`` carries the entry trades' costs, days
  ``s+1..e`` are earned on hedged holdings, day ``e`` also carries the exit
  trades' costs. So a day belongs to an episode when it is **hedged or
  exiting** (``exposure_t > 0`` or ``exposure_{t-1} > 0``). An episode still
  on at the last day ends there (``end_reason = "still open"``). Episodes never
  overlap: the next one starts the day after an end day at the earliest.
- **End reason.** From the hedge level path, the release flags and the spec's
  ``response.on_deescalation``: let ``d`` be the first day of the final fall
  to 0 (the level falls every day from ``d`` through ``e``). A release on ``d``
  with ``on_deescalation = "exit"`` -> ``de-escalation release``; else the hold
  expired on ``d``: ``hold expired`` when the level fell to 0 that same day
  (``d = e``), ``step-out finished`` when it stepped down over several days.
- **Start trigger.** Among the driving trigger (``response.trigger``; ``""``:
  every trigger whose signal is on at ``s``), the latest firing dated on or
  before ``s`` (usually on ``s``). Several triggers firing that day are joined.
  Event, GPR and market triggers alike; ``start_events`` lists the events
  behind it (``YYYY-MM-DD title``, joined by ``" | "``), empty for the others.
- **Costs.** A fill's cost is its commission plus its slippage,
  ``|size| * |price - close|``. Fills carry the slipped price ``p`` only; with
  ``s = costs.slippage_bps / 10000`` the close is ``p / (1 + s)`` for a buy and
  ``p / (1 - s)`` for a sell, so slippage = ``value * s / (1 + s)`` (buy) or
  ``value * s / (1 - s)`` (sell). The hedge's costs are the strategy's minus
  the base's; ``cost_drag`` = that total / mean strategy equity / years
  (years = trading days / 252, as turnover).
"""

from __future__ import annotations

import tomllib
from typing import Any

import numpy as np
import pandas as pd

from backtests.conventions import TRADING_DAYS_PER_YEAR
from backtests.metrics import summary_metrics
from backtests.results import RunResult
from backtests.strategy.schema import SECTIONS
from backtests.triggers.context import EVENT_SEPARATOR, split_events

EPISODE_COLUMNS: tuple[str, ...] = (
    "start",
    "end",
    "trading_days",
    "start_trigger",
    "start_reason",
    "start_events",
    "end_reason",
    "strategy_return",
    "base_return",
    "benchmark_return",
    "excess",
    "strategy_max_drawdown",
    "base_max_drawdown",
    "costs",
)
END_REASONS: tuple[str, ...] = (
    "hold expired",
    "de-escalation release",
    "step-out finished",
    "still open",
)
PERIODS = TRADING_DAYS_PER_YEAR


def response_setting(result: RunResult, key: str) -> Any:
    """``response.<key>`` of the run's resolved spec (the schema default when absent)."""
    response = tomllib.loads(result.spec_toml).get("response", {})
    return response.get(key, SECTIONS["response"][key].default)


def _slippage_rate(result: RunResult) -> float:
    costs = tomllib.loads(result.spec_toml).get("costs", {})
    return float(costs.get("slippage_bps", 0.0)) / 10_000.0


def trade_costs(trades: pd.DataFrame, slippage: float) -> pd.Series:
    """Commission plus slippage of each fill (currency), see the module docstring."""
    if trades.empty:
        return pd.Series(dtype=float)
    size = trades["size"].to_numpy(dtype=float)
    value = trades["value"].to_numpy(dtype=float)
    rate = np.where(size >= 0, slippage / (1.0 + slippage), slippage / (1.0 - slippage))
    return pd.Series(trades["commission"].to_numpy(dtype=float) + value * rate, index=trades.index)


def daily_costs(trades: pd.DataFrame, slippage: float, calendar: pd.DatetimeIndex) -> pd.Series:
    """Trading costs summed per day on ``calendar`` (0 on days without fills)."""
    costs = trade_costs(trades, slippage)
    if costs.empty:
        return pd.Series(0.0, index=calendar)
    by_day = costs.groupby(pd.to_datetime(trades["date"]).to_numpy()).sum()
    return by_day.reindex(calendar, fill_value=0.0)


def episode_bounds(exposure: pd.Series) -> list[tuple[int, int, bool]]:
    """``(s, e, open)`` positions of each episode: ``s..e`` are its return rows (see above)."""
    on = exposure.to_numpy(dtype=float) > 0.0
    n = len(on)
    edges = np.diff(np.concatenate(([0], on.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(int(s), min(int(z), n - 1), int(z) >= n) for s, z in zip(starts, stops, strict=True)]


def in_episode(exposure: pd.Series) -> np.ndarray:
    """Boolean per day: hedged or exiting (``exposure_t > 0`` or ``exposure_{t-1} > 0``)."""
    mask = np.zeros(len(exposure), dtype=bool)
    for s, e, _ in episode_bounds(exposure):
        mask[s : e + 1] = True
    return mask


def relative_excess(strategy: np.ndarray, base: np.ndarray) -> float:
    """Compounded excess of the strategy over the base: ``prod(1+r) / prod(1+b) - 1``."""
    return float(np.prod(1.0 + strategy) / np.prod(1.0 + base) - 1.0)


def _end_reason(
    level: np.ndarray, release: np.ndarray, s: int, e: int, still_open: bool, exits: bool
) -> str:
    """Why the episode ``s..e`` ended (the rule in the module docstring)."""
    if still_open:
        return "still open"
    d = e  # first day of the final fall: walk back while the day before also fell
    while d - 1 > s and level[d - 1] < level[d - 2]:
        d -= 1
    if exits and release[d]:
        return "de-escalation release"
    return "hold expired" if d == e else "step-out finished"


def _start_firing(result: RunResult, firings: list[dict[str, Any]], day: pd.Timestamp) -> dict[str, str]:
    """``start_trigger``, ``start_reason``, ``start_events`` of an episode starting on ``day``
    (``firings``: the rows of ``result.firings``)."""
    driver = str(response_setting(result, "trigger"))
    if driver:
        names = {driver}
    elif day in result.signals.index:
        on = result.signals.loc[day]
        names = {str(name) for name in on.index[on.to_numpy(dtype=float) > 0]}
    else:
        names = set()
    past = [f for f in firings if f["trigger"] in names and f["date"] <= day]
    if not past:
        return {"start_trigger": "", "start_reason": "", "start_events": ""}
    latest_day = max(f["date"] for f in past)
    latest = [f for f in past if f["date"] == latest_day]
    events = [
        f"{d} {t}"
        for f in latest
        for d, t in zip(split_events(f["event_dates"]), split_events(f["event_titles"]), strict=False)
    ]
    return {
        "start_trigger": ", ".join(str(f["trigger"]) for f in latest),
        "start_reason": "; ".join(
            f"{f['trigger']}: {f['reason']}" if len(latest) > 1 else str(f["reason"]) for f in latest
        ),
        "start_events": EVENT_SEPARATOR.join(events),
    }


def _max_drawdown(returns: np.ndarray, index: pd.DatetimeIndex) -> float:
    return summary_metrics(pd.Series(returns, index=index))["max_drawdown"]


def _require(result: RunResult) -> tuple[pd.Series, pd.Series, pd.Series]:
    missing = [
        name
        for name in ("base_returns", "base_trades", "exposure")
        if getattr(result, name) is None
    ]
    if missing:
        raise ValueError(
            f"hedge attribution needs the counterfactual: {', '.join(missing)} not set"
        )
    calendar = result.returns.index
    base = result.base_returns.reindex(calendar)
    exposure = result.exposure.reindex(calendar, fill_value=0.0).fillna(0.0)
    level = result.hedge_level.reindex(calendar, fill_value=0.0).fillna(0.0)
    return base, exposure, level


def episodes_frame(result: RunResult) -> pd.DataFrame:
    """One row per hedge episode, columns ``EPISODE_COLUMNS`` (see the module docstring)."""
    base, exposure, level = _require(result)
    calendar = pd.DatetimeIndex(result.returns.index)
    strategy = result.returns.to_numpy(dtype=float)
    base_r = base.to_numpy(dtype=float)
    bench = result.benchmark_returns.reindex(calendar).fillna(0.0).to_numpy(dtype=float)
    release = (
        np.zeros(len(calendar), dtype=bool)
        if result.release is None
        else result.release.reindex(calendar, fill_value=False).to_numpy(dtype=bool)
    )
    exits = response_setting(result, "on_deescalation") == "exit"
    slip = _slippage_rate(result)
    hedge_costs = (
        daily_costs(result.trades, slip, calendar) - daily_costs(result.base_trades, slip, calendar)
    ).to_numpy()
    path = level.to_numpy(dtype=float)
    firings = result.firings.assign(date=pd.to_datetime(result.firings["date"])).to_dict("records")
    rows = []
    for s, e, still_open in episode_bounds(exposure):
        window = slice(s, e + 1)
        days = calendar[window]
        rows.append(
            {
                "start": calendar[s],
                "end": calendar[e],
                "trading_days": e - s + 1,
                **_start_firing(result, firings, calendar[s]),
                "end_reason": _end_reason(path, release, s, e, still_open, exits),
                "strategy_return": float(np.prod(1.0 + strategy[window]) - 1.0),
                "base_return": float(np.prod(1.0 + base_r[window]) - 1.0),
                "benchmark_return": float(np.prod(1.0 + bench[window]) - 1.0),
                "excess": relative_excess(strategy[window], base_r[window]),
                "strategy_max_drawdown": _max_drawdown(strategy[window], days),
                "base_max_drawdown": _max_drawdown(base_r[window], days),
                "costs": float(hedge_costs[window].sum()),
            }
        )
    frame = pd.DataFrame(rows, columns=list(EPISODE_COLUMNS))
    return frame.astype({"trading_days": "int64"}) if rows else frame


def hedge_metrics(result: RunResult, episodes: pd.DataFrame) -> dict[str, Any]:
    """The strategy against its base: deltas of the summary metrics, in/out episodes, costs."""
    base, exposure, _ = _require(result)
    calendar = pd.DatetimeIndex(result.returns.index)
    strategy_m = summary_metrics(result.returns)
    base_m = summary_metrics(base)
    r, b = result.returns.to_numpy(dtype=float), base.to_numpy(dtype=float)
    inside = in_episode(exposure)
    slip = _slippage_rate(result)
    extra_costs = float(
        trade_costs(result.trades, slip).sum() - trade_costs(result.base_trades, slip).sum()
    )
    years = len(calendar) / PERIODS
    excess = episodes["excess"].to_numpy(dtype=float)
    return {
        "excess_total_return": strategy_m["total_return"] - base_m["total_return"],
        "excess_cagr": strategy_m["cagr"] - base_m["cagr"],
        "delta_volatility": strategy_m["volatility"] - base_m["volatility"],
        "delta_sharpe": strategy_m["sharpe"] - base_m["sharpe"],
        "delta_max_drawdown": strategy_m["max_drawdown"] - base_m["max_drawdown"],
        "relative_return": relative_excess(r, b),
        "return_in_episodes": relative_excess(r[inside], b[inside]),
        "return_outside_episodes": relative_excess(r[~inside], b[~inside]),
        "hedge_costs": extra_costs,
        "cost_drag": extra_costs / float(result.equity.mean()) / years,
        "time_hedged": float((exposure.to_numpy(dtype=float) > 0).mean()),
        "days_in_episodes": int(inside.sum()),
        "episodes": len(episodes),
        "best_episode_excess": float(excess.max()) if len(excess) else float("nan"),
        "worst_episode_excess": float(excess.min()) if len(excess) else float("nan"),
    }


def attribute(result: RunResult) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``(episodes, hedge_metrics)`` of a run whose counterfactual fields are filled."""
    episodes = episodes_frame(result)
    return episodes, hedge_metrics(result, episodes)
